import { randomBytes } from 'node:crypto';
import { groupSettings } from '../config';
export type { StartEvent } from '../input';
export type { RefreshState } from './state';
import {
  batchSize,
  DrainTimeoutError,
  drainPollSeconds,
  drainWaitSeconds,
  InvalidInputError,
  pickBatch,
  planGiveBack,
  planSurge,
  ResourceNotFoundError,
  readyWaitSeconds,
  SurgeBlockedError,
  type BatchMember,
  type AsgState,
  type RefreshJournal,
} from '../core';
import { groupOf, parseStart, selectorOf, STARTED_BY, type StartEvent } from '../input';
import { executionName, uncordonAll } from '../drain';
import { drainBatch, type BatchDrain } from '../drain-batch';
import { INLINE_BUDGET_SECONDS, INLINE_WAIT_SECONDS } from './replace-oldest';
import { terminateUnlessLeaving } from '../terminate';
import type { Deps } from '../runtime';
import { COST, freshJournal, leaseOf, look, next, saveJournal, type RefreshState } from './state';
import { acquire, forceRestore } from './take-lease';
import { advance } from './replace-oldest';

/**
 * The refresh workflow's steps (the lease and recovery steps are in refresh-recovery.ts, the
 * state they share in refresh-state.ts).
 */

/** Checks the start input before anything is read or changed, and says what is allowed. */
export async function validate(event: StartEvent, deps: Deps): Promise<RefreshState> {
  const { group: g, dryRun, extra } = parseStart(event.input, deps, ['continuation']);
  let continuation: RefreshState['continuation'];
  let startedAt = Date.parse(event.startTime);
  if (extra.continuation !== undefined) {
    continuation = checkContinuation(
      extra.continuation,
      (event.input as Record<string, unknown>)[STARTED_BY],
      event.stateMachineArn,
      Date.parse(event.startTime),
    );
    startedAt = continuation.startedAt;
  }
  const settings = groupSettings(g);
  return {
    group: g.name,
    dryRun,
    execution: event.executionArn,
    stateMachine: event.stateMachineArn,
    startedAt,
    events: 3 + COST.task,
    historyBudget: deps.config.historyEventBudget,
    executionStartedAt: Date.parse(event.startTime),
    ...(continuation ? { continuedFrom: continuation.from, continuation } : {}),
    did: {
      group: g.name,
      role: g.role,
      desiredReady: g.desiredReady,
      surplus: settings.surplus,
      batchSize: batchSize(settings),
      startedAt: new Date(startedAt).toISOString(),
      ...(continuation ? { continuedFrom: continuation.from } : {}),
    },
  };
}

const NOT_YOURS =
  '"continuation" is set by node-manager itself when a refresh continues in a new execution; do not pass it';

/**
 * A continuation is accepted only as node-manager's own refresh passes it: from an execution of
 * this same state machine, which started this one (Step Functions says so in
 * AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID), with a start time a refresh can have, and the
 * hand-over token that execution put in the lease (checked when the lease is taken). Anything else
 * ends the execution with InvalidInput before anything is read or changed.
 */
function checkContinuation(
  raw: unknown,
  startedBy: unknown,
  stateMachineArn: string,
  now: number,
): NonNullable<RefreshState['continuation']> {
  const c = (typeof raw === 'object' && raw !== null ? raw : {}) as {
    from?: unknown;
    startedAt?: unknown;
    token?: unknown;
  };
  const ours = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`;
  if (
    typeof c.from !== 'string' ||
    !c.from.startsWith(ours) ||
    c.from.length > ours.length + 80 ||
    startedBy !== c.from
  )
    throw new InvalidInputError(NOT_YOURS);
  if (typeof c.token !== 'string' || !/^[0-9a-f]{32}$/.test(c.token)) throw new InvalidInputError(NOT_YOURS);
  // A refresh's start is in the past, and not older than any refresh can run (365 days of continuations).
  if (
    typeof c.startedAt !== 'number' ||
    !Number.isSafeInteger(c.startedAt) ||
    c.startedAt > now ||
    c.startedAt < now - 365 * 86_400_000
  )
    throw new InvalidInputError(NOT_YOURS);
  return { from: c.from, startedAt: c.startedAt, token: c.token };
}

/** Dry run: what a refresh would do now, in order, changing nothing. */
export async function plan(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const { settings, snapshot, c, now } = await look(deps, state);
  const surge = planSurge(snapshot.asgs, c, settings, now);
  const old = c.members.filter((m) => m.node && m.node.createdAt < state.startedAt && m.state !== 'leaving');
  const size = batchSize(settings);
  const batches: string[][] = [];
  for (let i = 0; i < old.length; i += size)
    batches.push(
      old
        .slice(i, i + size)
        .map(
          (m) => `${m.node!.name} (${m.instanceId}, ${m.zone}, ${Math.round((m.nodeAgeSeconds ?? 0) / 86400)}d old)`,
        ),
    );
  const skipped = pickBatch(snapshot.asgs, c, settings, { startedAt: state.startedAt, terminated: [] }, now).skipped;
  return next(state, COST.task, {
    dryRun: true,
    ready: c.counts.ready,
    desiredReady: settings.desiredReady,
    surge: surge.changes.map((ch) => ({
      asg: ch.asg,
      desired: `${ch.fromDesired} -> ${ch.toDesired}`,
      ...(ch.raiseMaxTo ? { maxSize: ch.raiseMaxTo } : {}),
    })),
    ...(surge.blocked ? { surgeBlocked: surge.blockedReason } : {}),
    replaceInOrder: batches,
    ...(skipped.length ? { cannotReplaceNow: skipped } : {}),
  });
}

/** Adds the surplus nodes (journaling every original desired and MaxSize, and the targets, first). */
export async function surge(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const lease = await leaseOf(deps, state);
  let journal = lease.journal;
  const applied: string[] = [];
  let planned: Record<string, unknown>[] = [];
  let current: readonly AsgState[] | undefined;
  if (!journal.surged) {
    const { settings, snapshot, c, now } = await look(deps, state);
    current = snapshot.asgs;
    const p = planSurge(snapshot.asgs, c, settings, now);
    if (p.blocked > 0)
      throw new SurgeBlockedError(
        `cannot add ${settings.surplus} surplus node(s) to group ${state.group}: ${p.blockedReason}`,
      );
    // Surplus an earlier refresh had to keep is not home: its home layout is remembered in the lease.
    const home = lease.memory.home ?? {};
    const original = Object.fromEntries(
      snapshot.asgs.map((a) => [a.name, home[a.name] ?? { desired: a.desired, max: a.max }]),
    );
    const surgeTargets = Object.fromEntries(
      p.changes.map((ch) => [
        ch.asg,
        { desired: ch.toDesired, ...(ch.raiseMaxTo !== undefined ? { max: ch.raiseMaxTo } : {}) },
      ]),
    );
    journal = {
      ...journal,
      original,
      surged: true,
      surgeTargets,
      phase: 'surge',
      since: now,
      learned: journal.learned ?? lease.memory.learned,
      deadline: now + settings.joinTimeoutSeconds * 1000,
    };
    await saveJournal(deps, state, journal);
    planned = p.changes.map((ch) => ({
      asg: ch.asg,
      desired: `${ch.fromDesired} -> ${ch.toDesired}`,
      ...(ch.raiseMaxTo ? { maxSize: `${snapshot.asgs.find((a) => a.name === ch.asg)!.max} -> ${ch.raiseMaxTo}` } : {}),
    }));
  }
  // Apply what is not applied yet: a retried step (throttled, crashed) finishes the job, never doubles it.
  const targets = journal.surgeTargets ?? {};
  current ??= await deps.autoscaling.describeGroups(selectorOf(groupOf(deps, state.group)));
  for (const [asg, t] of Object.entries(targets)) {
    const a = current.find((x) => x.name === asg);
    if (!a || a.desired >= t.desired) continue;
    if (t.max !== undefined && a.max < t.max)
      await deps.autoscaling.updateSize(asg, { max: t.max, desired: t.desired });
    else await deps.autoscaling.setDesiredCapacity(asg, t.desired);
    applied.push(asg);
  }
  const added = Object.entries(targets).reduce(
    (n, [asg, t]) => n + t.desired - (journal.original[asg]?.desired ?? t.desired),
    0,
  );
  const from = state.resumedFrom ?? journal.resumedFrom?.execution;
  const again =
    'surplus journaled earlier' +
    (from ? ` (resuming ${executionName(from)}, start ${new Date(journal.startedAt).toISOString()})` : '') +
    `; applied now: ${applied.join(', ') || 'nothing, it is in place'}`;
  // The first look at the surplus comes when the group's launches have taken to be Ready before.
  const wait =
    journal.phase === 'surge' && added > 0 ? readyWaitSeconds(journal.learned, journal.since, deps.now()) : 0;
  return {
    ...next(state, COST.task, {
      added,
      ...(planned.length ? { changes: planned } : { resumed: again }),
      waitSeconds: wait,
    }),
    waitSeconds: wait,
  };
}

/**
 * One give-back drain pass: cordons (journaled first, so cleanup knows) only what is not cordoned
 * yet, then evicts with the batch loop's short in-step waits. A node is cordoned once, not at every
 * pass: a budget that refuses for minutes costs evictions at a backed-off pace, not node patches.
 */
async function drainGiveBack(
  deps: Deps,
  state: RefreshState,
  journal: RefreshJournal,
  members: readonly BatchMember[],
): Promise<{ pass: BatchDrain; journal: RefreshJournal }> {
  const kube = await deps.kube();
  const toCordon = members.map((m) => m.node).filter((n) => n && !journal.cordoned.includes(n));
  let j = journal;
  if (toCordon.length) {
    j = { ...journal, cordoned: [...journal.cordoned, ...toCordon] };
    await saveJournal(deps, state, j);
    for (const n of toCordon) {
      try {
        await kube.cordon(n, executionName(state.execution));
      } catch (e) {
        if (!(e instanceof ResourceNotFoundError)) throw e;
      }
    }
  }
  const pass = await drainBatch(kube, members.map((m) => m.node).filter(Boolean), {
    expectSeconds: drainWaitSeconds(j.learned, Number.POSITIVE_INFINITY),
    ...(j.learned?.budgetSeconds !== undefined ? { refusalSeconds: j.learned.budgetSeconds } : {}),
    maxWaitSeconds: INLINE_WAIT_SECONDS,
    budgetSeconds: INLINE_BUDGET_SECONDS,
    sleep: deps.sleep,
    now: deps.now,
  });
  return { pass, journal: j };
}

/** The longest a give-back waits between passes while every pod left is refused by its budget. */
export const GIVE_BACK_MAX_BACKOFF_SECONDS = 120;

/**
 * Gives the surplus back: drains, then terminates with decrement, the members that return each ASG
 * to its original desired, and restores MaxSize. Loops (ASL) until done; the drain timeout applies.
 */
export async function giveBack(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const { journal, memory } = await leaseOf(deps, state);
  const { settings, snapshot, c, now } = await look(deps, state);
  let p = planGiveBack(snapshot.asgs, c, journal.original, settings.desiredReady);
  const maxRestored: string[] = [];
  if (p.remove.length === 0 && p.restoreMax.length) {
    // Nothing to drain (the last batch went with decrement): MaxSize back, and the give-back is done in this pass.
    for (const r of p.restoreMax) {
      await deps.autoscaling.updateSize(r.asg, { max: r.max });
      maxRestored.push(`${r.asg}: max ${r.max}`);
    }
    p = { ...p, restoreMax: [], done: true };
  }
  // Surplus kept, or never launched, is not home: remember the home layout so a later refresh or replenish gives it back.
  const notHome = p.kept > 0 || Object.keys(p.neverLaunched).length > 0;
  const unlaunched = Object.entries(p.neverLaunched).map(([asg, n]) => `${asg}: ${n}`);
  const left = {
    ...(p.kept
      ? {
          surplusKept: `${p.kept} surplus node(s) kept: giving them back would leave fewer than ${settings.desiredReady} Ready nodes`,
        }
      : {}),
    ...(unlaunched.length
      ? {
          surplusNeverLaunched:
            `${unlaunched.join(', ')} (their launches fail): left in place, the home layout ` +
            `remembered; replenish gives it back once it launches`,
        }
      : {}),
  };
  if (p.done && journal.refreshAfterGiveBack) {
    // The failed refresh's surplus is back: this one refreshes anew, keeping the start (what was replaced stays replaced).
    await saveJournal(deps, state, {
      ...freshJournal(state),
      startedAt: journal.startedAt,
      terminated: journal.terminated,
      replaced: journal.replaced,
      resumedFrom: journal.resumedFrom,
    });
    if (notHome)
      await deps.lease.writeMemory(state.group, state.execution, {
        ...memory,
        home: { ...(memory.home ?? {}), ...journal.original },
      });
    return next(state, COST.waitLoop, {
      done: true,
      restart: true,
      note:
        `the surplus of ${executionName(journal.resumedFrom?.execution ?? '')} is back; refreshing anew from ` +
        `${new Date(journal.startedAt).toISOString()}`,
    });
  }
  if (p.done) {
    await saveJournal(deps, state, { ...journal, phase: 'done', batch: [] });
    // Kept surplus is not home: remember the home layout so a later refresh or replenish gives it
    // back. What this refresh learned about the group's timing seeds the next one's waits.
    const learnedNew =
      journal.learned !== undefined && JSON.stringify(journal.learned) !== JSON.stringify(memory.learned);
    if (notHome || learnedNew) {
      await deps.lease.writeMemory(state.group, state.execution, {
        ...memory,
        ...(learnedNew ? { learned: journal.learned } : {}),
        ...(notHome ? { home: { ...(memory.home ?? {}), ...journal.original } } : {}),
      });
    }
    return next(state, COST.waitLoop, { done: true, ...(maxRestored.length ? { maxRestored } : {}), ...left });
  }
  const deadline =
    journal.phase === 'giveBack' && journal.deadline !== undefined
      ? journal.deadline
      : now + settings.drainTimeoutSeconds * 1000;
  let j: RefreshJournal = { ...journal, phase: 'giveBack', deadline };
  if (journal.phase !== 'giveBack' || journal.deadline === undefined) await saveJournal(deps, state, j);
  const { pass: result, journal: afterCordon } = await drainGiveBack(deps, state, j, p.remove);
  j = afterCordon;
  const terminated: string[] = [];
  if (result.drained) {
    const outcomes = await terminateUnlessLeaving(
      deps.autoscaling,
      snapshot.asgs,
      p.remove.map((m) => m.instanceId),
      true,
    );
    p.remove.forEach((m, i) =>
      terminated.push(
        `${m.instanceId} (${m.asg})` +
          (outcomes[i].outcome === 'terminated'
            ? ''
            : `: ${outcomes[i].outcome === 'gone' ? 'already gone' : 'already leaving'}`),
      ),
    );
    j = { ...j, cordoned: j.cordoned.filter((n) => !p.remove.some((m) => m.node === n)) };
    await saveJournal(deps, state, j);
  } else if (deps.now() > deadline) {
    throw new DrainTimeoutError(
      `could not drain surplus node(s) ${p.remove.map((m) => m.node).join(', ')} within ` +
        `${settings.drainTimeoutSeconds}s: pods left ` +
        `${result.remaining.join(', ')}${result.refused.length ? `; refused: ${result.refused.join(' | ')}` : ''}`,
    );
  }
  for (const r of p.restoreMax) {
    await deps.autoscaling.updateSize(r.asg, { max: r.max });
    maxRestored.push(`${r.asg}: max ${r.max}`);
  }
  // Terminated: the next pass finds the ASGs home. Evicting: wait as long as the group's pods take to
  // leave. Refused with nothing evicted: back off (the budget frees when its pods run elsewhere,
  // which a poll every few seconds does not hasten), doubling up to two minutes, within the deadline.
  const blocked =
    !result.drained && result.evicted.length === 0 && result.refused.length > 0 ? (state.giveBackBlocked ?? 0) + 1 : 0;
  const untilDeadline = Math.max(1, Math.ceil((deadline - deps.now()) / 1000));
  const wait = result.drained
    ? 1
    : blocked > 0
      ? Math.min(
          untilDeadline,
          GIVE_BACK_MAX_BACKOFF_SECONDS,
          Math.max(drainPollSeconds(j.learned), 5 * 2 ** (blocked - 1)),
        )
      : result.evicted.length
        ? drainWaitSeconds(j.learned, result.graceSeconds)
        : drainPollSeconds(j.learned);
  return {
    ...next(state, COST.waitLoop, {
      done: false,
      draining: p.remove.map((m) => m.node),
      evicted: result.evicted,
      terminatedWithDecrement: terminated,
      maxRestored,
      ...(result.refused.length ? { refused: result.refused } : {}),
      ...(blocked ? { backingOff: `every pod left refused: next look in ${wait}s` } : {}),
    }),
    waitSeconds: wait,
    giveBackBlocked: blocked,
  };
}

/** Failure path, first step: uncordon what we cordoned and did not terminate; the give-back loop follows. */
export async function cleanup(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const rec = await deps.lease.get(state.group);
  if (rec?.holder !== state.execution)
    return next(state, COST.task, { cleanup: 'this execution holds no lease: nothing to clean up' });
  const journal = rec.journal as RefreshJournal;
  const uncordoned = await uncordonAll(deps.kube, journal.cordoned);
  await saveJournal(deps, state, {
    ...journal,
    cordoned: [],
    batch: [],
    phase: 'giveBack',
    deadline: deps.now() + groupSettings(groupOf(deps, state.group)).drainTimeoutSeconds * 1000,
    failure: state.failure?.Error ?? 'unknown',
    refreshAfterGiveBack: false,
  });
  return next(state, COST.task, { uncordoned, failure: state.failure?.Error });
}

/**
 * Before continuing in a new execution: offer the lease to it with a fresh token, which the
 * continuation carries; only the execution that presents it can take the lease over.
 */
export async function handOver(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const token = randomBytes(16).toString('hex');
  await deps.lease.offerHandover(state.group, state.execution, token);
  return {
    ...next(state, COST.task, { handingOver: 'the lease is offered to the next execution' }),
    handoverToken: token,
  };
}

/** Releases the lease (idempotent). */
export async function release(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const rec = await deps.lease.get(state.group);
  const replaced = rec?.holder === state.execution ? (rec.journal as RefreshJournal | undefined)?.replaced : undefined;
  const released = await deps.lease.release(state.group, state.execution);
  return next(state, COST.task, {
    released,
    ...(replaced !== undefined ? { replaced } : {}),
    ...(state.failure ? { failure: state.failure.Error } : {}),
  });
}

export const REFRESH_STEPS = {
  validate,
  plan,
  acquire,
  surge,
  advance,
  giveBack,
  cleanup,
  forceRestore,
  handOver,
  release,
} as const;
export type RefreshStep = keyof typeof REFRESH_STEPS;
