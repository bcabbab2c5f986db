import { groupSettings } from '../lib/config';
export type { StartEvent } from './input';
import {
  batchSize,
  checkWhole,
  DrainTimeoutError,
  InvalidInputError,
  LeaseHeldError,
  LeaseLostError,
  pickBatch,
  planGiveBack,
  planSurge,
  RefreshStuckError,
  ReplacementTimeoutError,
  ReplenishRunningError,
  SurgeBlockedError,
  SurgeTimeoutError,
  type BatchMember,
  type AsgState,
  type RefreshJournal,
  type ResumeAt,
  resumeAt,
} from './core';
import { groupOf, parseStart, selectorOf, type StartEvent } from './input';
import { acquireGroupLease } from './aws/lease';
import { drainNode, executionName, uncordonAll } from './drain';
import { terminateUnlessLeaving } from './terminate';
import type { Deps } from './runtime';
import { lookAtGroup, type GroupView } from './snapshot';

/**
 * The refresh workflow's steps. Each takes the execution's state and returns it with `did` (what
 * the step did, for the console's execution history) and `events` (an estimate of history events
 * used, so the workflow continues in a fresh execution well before Step Functions' 25,000 limit).
 * Every step is idempotent: what it changes is journaled in the lease first, and it reads the
 * world afresh, so a retried or resumed step does no harm.
 */
export interface RefreshState {
  readonly group: string;
  readonly dryRun: boolean;
  readonly execution: string;
  readonly stateMachine: string;
  readonly startedAt: number;
  readonly events: number;
  /** Continue in a new execution once `events` passes this (ASL compares the two). */
  readonly historyBudget: number;
  /** Set on a continued execution: the execution that handed over. */
  readonly continuedFrom?: string;
  /** Set by the lease step: where the workflow goes on (a stopped refresh taken over resumes in its phase). */
  readonly resume?: ResumeAt;
  /** Set when this refresh took over a stopped one. */
  readonly resumedFrom?: string;
  readonly did?: Record<string, unknown>;
  /** Set by a Catch: the error that sent the workflow down the cleanup path. */
  readonly failure?: { readonly Error: string; readonly Cause: string };
  /** Set by a Catch when giving the surplus back failed. */
  readonly giveBackFailure?: { readonly Error: string; readonly Cause: string };
}

/** What outlives executions in the lease item: the home layout when surplus had to be kept. */
export interface GroupMemory {
  readonly home?: RefreshJournal['original'];
}

/** History events a step's loop adds per pass (Lambda task 5, Wait 2, Choice 2). */
const COST = { task: 5, waitLoop: 9, choice: 2 } as const;

/** Checks the start input before anything is read or changed, and says what is allowed. */
export async function validate(event: StartEvent, deps: Deps): Promise<RefreshState> {
  const { group: g, dryRun, extra } = parseStart(event.input, deps, ['continuation']);
  let continuedFrom: string | undefined;
  let startedAt = Date.parse(event.startTime);
  if (extra.continuation !== undefined) {
    const c = extra.continuation as { from?: unknown; startedAt?: unknown };
    if (typeof c !== 'object' || c === null || typeof c.from !== 'string' || typeof c.startedAt !== 'number') {
      throw new InvalidInputError('"continuation" is set by node-manager itself when a refresh continues in a new execution; do not pass it');
    }
    continuedFrom = c.from;
    startedAt = c.startedAt;
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
    ...(continuedFrom ? { continuedFrom } : {}),
    did: { group: g.name, role: g.role, desiredReady: g.desiredReady, surplus: settings.surplus, batchSize: batchSize(settings), startedAt: new Date(startedAt).toISOString(), ...(continuedFrom ? { continuedFrom } : {}) },
  };
}

async function look(deps: Deps, state: RefreshState): Promise<GroupView> {
  return lookAtGroup(deps, state.group);
}

/** Our lease: the journal, and the group's memory; fails with LeaseLost when another execution holds it now. */
async function leaseOf(deps: Deps, state: RefreshState): Promise<{ journal: RefreshJournal; memory: GroupMemory }> {
  const rec = await deps.lease.get(state.group);
  if (rec?.holder !== state.execution) throw new LeaseLostError(`this execution no longer holds the lease of group ${state.group} (holder: ${rec?.holder ?? 'none'})`);
  return { journal: rec.journal as RefreshJournal, memory: (rec.memory as GroupMemory | undefined) ?? {} };
}

async function journalOf(deps: Deps, state: RefreshState): Promise<RefreshJournal> {
  return (await leaseOf(deps, state)).journal;
}

async function saveJournal(deps: Deps, state: RefreshState, journal: RefreshJournal): Promise<void> {
  await deps.lease.writeJournal(state.group, state.execution, journal, deps.now());
}

function next(state: RefreshState, cost: number, did: Record<string, unknown>): RefreshState {
  return { ...state, events: state.events + cost, did };
}

/** Dry run: what a refresh would do now, in order, changing nothing. */
export async function plan(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const { settings, snapshot, c, now } = await look(deps, state);
  const surge = planSurge(snapshot.asgs, c, settings, now);
  const old = c.members.filter((m) => m.node && m.node.createdAt < state.startedAt && m.state !== 'leaving');
  const size = batchSize(settings);
  const batches: string[][] = [];
  for (let i = 0; i < old.length; i += size) batches.push(old.slice(i, i + size).map((m) => `${m.node!.name} (${m.instanceId}, ${m.zone}, ${Math.round((m.nodeAgeSeconds ?? 0) / 86400)}d old)`));
  const skipped = pickBatch(snapshot.asgs, c, settings, { startedAt: state.startedAt, terminated: [] }, now).skipped;
  return next(state, COST.task, {
    dryRun: true,
    ready: c.counts.ready,
    desiredReady: settings.desiredReady,
    surge: surge.changes.map((ch) => ({ asg: ch.asg, desired: `${ch.fromDesired} -> ${ch.toDesired}`, ...(ch.raiseMaxTo ? { maxSize: ch.raiseMaxTo } : {}) })),
    ...(surge.blocked ? { surgeBlocked: surge.blockedReason } : {}),
    replaceInOrder: batches,
    ...(skipped.length ? { cannotReplaceNow: skipped } : {}),
  });
}

function freshJournal(state: RefreshState): RefreshJournal {
  return { execution: state.execution, startedAt: state.startedAt, original: {}, surged: false, cordoned: [], terminated: [], batch: [], phase: 'surge', replaced: 0 };
}

/**
 * Takes the lease. A replenish holding it makes the step fail with ReplenishRunning (ASL waits and
 * retries); another refresh makes it fail fast with LeaseHeld. A journal left by a stopped refresh
 * is taken over: its start time, home layout and surplus are kept, and the workflow goes on in the
 * phase it stopped in (`resume`). One handed over by our own previous execution is adopted. A
 * retried step (the lease is ours already) says again what the first attempt did.
 */
export async function acquire(state: RefreshState, deps: Deps): Promise<RefreshState> {
  if (state.continuedFrom) {
    // Our own previous execution handed over: take its lease (it may not have finished yet) and adopt its journal.
    const before = await deps.lease.acquire(state.group, state.execution, 'refresh', deps.now(), state.continuedFrom);
    const journal = before?.journal as RefreshJournal | undefined;
    if (!journal) throw new LeaseLostError(`execution ${state.continuedFrom} handed over no journal for group ${state.group}`);
    if (journal.execution !== state.execution) await saveJournal(deps, state, { ...journal, execution: state.execution });
    return { ...next(state, COST.task, { lease: `taken over from ${state.continuedFrom}`, keepsStart: new Date(journal.startedAt).toISOString(), replacedSoFar: journal.replaced }), startedAt: journal.startedAt, resume: 'surge' };
  }
  let got;
  try {
    got = await acquireGroupLease(deps.lease, deps.sfn, state.group, state.execution, 'refresh', deps.now());
  } catch (e) {
    if (e instanceof LeaseHeldError && e.holderKind === 'replenish') {
      throw new ReplenishRunningError(`replenish ${e.holder} holds group ${state.group}; waiting for it to finish`, { cause: e });
    }
    throw e;
  }
  if (got.recoveredFrom) {
    const dead = got.recoveredKind === 'refresh' ? (got.recoveredJournal as RefreshJournal | undefined) : undefined;
    if (!dead) {
      await saveJournal(deps, state, freshJournal(state));
      return { ...next(state, COST.task, { lease: `taken over from stopped ${got.recoveredKind ?? ''} execution ${got.recoveredFrom}` }), resume: 'surge' };
    }
    // Go on with the stopped refresh: its start (nodes it replaced stay replaced), its home layout
    // and its surplus. A batch it was draining is uncordoned and picked again; one it had drained
    // and begun terminating is terminated.
    const at = resumeAt(dead.phase);
    const keepCordoned = at === 'terminate' ? dead.batch.map((b) => b.node) : [];
    const uncordoned = await uncordonAll(await deps.kube(), dead.cordoned.filter((n) => !keepCordoned.includes(n)));
    const settings = groupSettings(groupOf(deps, state.group));
    const journal: RefreshJournal = {
      ...dead,
      execution: state.execution,
      cordoned: keepCordoned,
      batch: at === 'terminate' ? dead.batch : [],
      phase: at === 'surge' ? 'surge' : dead.phase,
      deadline: deps.now() + (at === 'giveBack' ? settings.drainTimeoutSeconds : settings.joinTimeoutSeconds) * 1000,
      resumedFrom: { execution: got.recoveredFrom, phase: dead.phase },
      // A refresh stopped in its failure path had not refreshed: finish its give-back, then refresh.
      ...(at === 'giveBack' && dead.failure ? { refreshAfterGiveBack: true, failure: undefined } : {}),
    };
    await saveJournal(deps, state, journal);
    return resumed(state, journal, { lease: `taken over from stopped execution ${got.recoveredFrom}`, uncordoned });
  }
  const own = got.recoveredJournal as RefreshJournal | undefined;
  if (own) {
    // Re-entrant: a retried step keeps the journal it already wrote, and says what it was.
    if (own.resumedFrom) return resumed(state, own, { lease: `already ours (retried); taken over from stopped execution ${own.resumedFrom.execution}` });
    return { ...next(state, COST.task, { lease: 'already ours (retried)' }), resume: resumeAt(own.phase) };
  }
  await saveJournal(deps, state, freshJournal(state));
  return { ...next(state, COST.task, { lease: 'taken' }), resume: 'surge' };
}

/** The state of a refresh that goes on from a stopped one: its start, and where it resumes, said plainly. */
function resumed(state: RefreshState, journal: RefreshJournal, did: Record<string, unknown>): RefreshState {
  const at = resumeAt(journal.resumedFrom?.phase ?? journal.phase);
  return {
    ...next(state, COST.task, {
      ...did,
      resumed: {
        from: journal.resumedFrom?.execution,
        startedAt: new Date(journal.startedAt).toISOString(),
        stoppedIn: journal.resumedFrom?.phase,
        goesOnWith:
          at === 'giveBack'
            ? journal.refreshAfterGiveBack
              ? 'giving back the surplus of a refresh that had failed, then refreshing anew from its start'
              : 'giving the surplus back'
            : at === 'terminate'
              ? 'terminating the batch it had drained'
              : 'the surge (only what is missing), then the oldest nodes left',
        replacedSoFar: journal.replaced,
        surplusInPlace: journal.surged,
      },
    }),
    startedAt: journal.startedAt,
    resume: at,
    resumedFrom: journal.resumedFrom?.execution,
  };
}

/**
 * What can be put back without draining: uncordon our nodes that still run, and MaxSize where
 * desired already fits under it. Desired is never lowered here: the ASG would choose which
 * instance to terminate (the oldest, usually) and its pods would go without eviction. Surplus left
 * in place is reported; the next refresh or replenish gives it back.
 */
async function restore(deps: Deps, group: string, journal: RefreshJournal): Promise<Record<string, unknown>> {
  const kube = await deps.kube();
  const uncordoned = await uncordonAll(kube, journal.cordoned);
  const g = groupOf(deps, group);
  const asgs = await deps.autoscaling.describeGroups(selectorOf(g));
  const maxRestored: string[] = [];
  const surplusLeft: string[] = [];
  for (const a of asgs) {
    const home = journal.original[a.name];
    if (!home) continue;
    if (a.desired > home.desired) surplusLeft.push(`${a.name}: desired ${a.desired} (home ${home.desired})`);
    if (a.max !== home.max && a.desired <= home.max) {
      await deps.autoscaling.updateSize(a.name, { max: home.max });
      maxRestored.push(`${a.name}: max ${a.max} -> ${home.max}`);
    }
  }
  return { uncordoned, maxRestored, ...(surplusLeft.length ? { surplusLeftInPlace: surplusLeft } : {}) };
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
    if (p.blocked > 0) throw new SurgeBlockedError(`cannot add ${settings.surplus} surplus node(s) to group ${state.group}: ${p.blockedReason}`);
    // Surplus an earlier refresh had to keep is not home: its home layout is remembered in the lease.
    const home = lease.memory.home ?? {};
    const original = Object.fromEntries(snapshot.asgs.map((a) => [a.name, home[a.name] ?? { desired: a.desired, max: a.max }]));
    const surgeTargets = Object.fromEntries(p.changes.map((ch) => [ch.asg, { desired: ch.toDesired, ...(ch.raiseMaxTo !== undefined ? { max: ch.raiseMaxTo } : {}) }]));
    journal = { ...journal, original, surged: true, surgeTargets, phase: 'surge', deadline: now + settings.joinTimeoutSeconds * 1000 };
    await saveJournal(deps, state, journal);
    planned = p.changes.map((ch) => ({ asg: ch.asg, desired: `${ch.fromDesired} -> ${ch.toDesired}`, ...(ch.raiseMaxTo ? { maxSize: `${snapshot.asgs.find((a) => a.name === ch.asg)!.max} -> ${ch.raiseMaxTo}` } : {}) }));
  }
  // Apply what is not applied yet: a retried step (throttled, crashed) finishes the job, never doubles it.
  const targets = journal.surgeTargets ?? {};
  current ??= await deps.autoscaling.describeGroups(selectorOf(groupOf(deps, state.group)));
  for (const [asg, t] of Object.entries(targets)) {
    const a = current.find((x) => x.name === asg);
    if (!a || a.desired >= t.desired) continue;
    if (t.max !== undefined && a.max < t.max) await deps.autoscaling.updateSize(asg, { max: t.max, desired: t.desired });
    else await deps.autoscaling.setDesiredCapacity(asg, t.desired);
    applied.push(asg);
  }
  const added = Object.entries(targets).reduce((n, [asg, t]) => n + t.desired - (journal.original[asg]?.desired ?? t.desired), 0);
  const from = state.resumedFrom ?? journal.resumedFrom?.execution;
  const again = `surplus journaled earlier${from ? ` (resuming ${executionName(from)}, start ${new Date(journal.startedAt).toISOString()})` : ''}; applied now: ${applied.join(', ') || 'nothing, it is in place'}`;
  return next(state, COST.task, { added, ...(planned.length ? { changes: planned } : { resumed: again }) });
}

/** Whether the group is whole (Ready count, and for the control plane every ASG back); fails past the deadline. */
export async function checkReady(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const journal = await journalOf(deps, state);
  const { settings, snapshot, c, now } = await look(deps, state);
  const r = checkWhole(snapshot.asgs, c, settings, journal.surged);
  if (!r.whole && journal.deadline !== undefined && now > journal.deadline) {
    const waiting = r.waitingFor.map((w) => `${w.instanceId} in ${w.asg} (${w.state}, ${w.ageSeconds}s old)`).join(', ') || 'no instance launched';
    const msg = `group ${state.group} has ${r.ready} Ready node(s), needs ${r.want}, after ${settings.joinTimeoutSeconds}s; waiting for: ${waiting}`;
    throw journal.phase === 'surge' ? new SurgeTimeoutError(msg) : new ReplacementTimeoutError(msg);
  }
  return next(state, COST.waitLoop, { whole: r.whole, ready: r.ready, want: r.want, ...(r.waitingFor.length ? { waitingFor: r.waitingFor } : {}) });
}

/** Picks the next batch of the oldest Ready nodes created before the start, or says the refresh is done. */
export async function pick(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const journal = await journalOf(deps, state);
  if (journal.phase === 'drain' && journal.batch.length) {
    return next(state, COST.task + COST.choice, { done: false, waiting: false, batch: journal.batch.map((b) => b.node), note: 'batch already picked' });
  }
  const { settings, snapshot, c, now } = await look(deps, state);
  const p = pickBatch(snapshot.asgs, c, settings, journal, now);
  if (p.batch.length === 0 && p.oldRemaining === 0) {
    await saveJournal(deps, state, { ...journal, phase: 'giveBack', batch: [], deadline: now + settings.drainTimeoutSeconds * 1000 });
    return next(state, COST.task + COST.choice, { done: true, waiting: false, replaced: journal.replaced });
  }
  if (p.batch.length === 0) {
    // Old nodes remain but none can go now (their ASG cannot launch, or they are not Ready): wait, within the join timeout.
    const deadline = journal.phase === 'replace' || journal.phase === 'surge' ? now + settings.joinTimeoutSeconds * 1000 : (journal.deadline ?? now);
    if (journal.phase === 'drain' && now > deadline) {
      throw new RefreshStuckError(`${p.oldRemaining} old node(s) of group ${state.group} cannot be replaced: ${p.skipped.map((s) => `${s.instanceId} (${s.asg}: ${s.reason})`).join('; ') || 'none is Ready'}`);
    }
    await saveJournal(deps, state, { ...journal, phase: 'drain', batch: [], deadline });
    return next(state, COST.waitLoop, { done: false, waiting: true, oldRemaining: p.oldRemaining, skipped: p.skipped });
  }
  await saveJournal(deps, state, { ...journal, phase: 'drain', batch: p.batch, deadline: now + settings.drainTimeoutSeconds * 1000 });
  return next(state, COST.task + COST.choice, { done: false, waiting: false, batch: p.batch.map((b) => `${b.node} (${b.instanceId}, ${b.zone})`), oldRemaining: p.oldRemaining, ...(p.skipped.length ? { skipped: p.skipped } : {}) });
}

interface DrainResult {
  readonly drained: boolean;
  readonly evicted: string[];
  readonly remaining: string[];
  readonly blockedBy: string[];
}

/** Journals the cordons first (cleanup must know them), then drains each node one pass. */
async function drainNodes(deps: Deps, state: RefreshState, journal: RefreshJournal, members: readonly BatchMember[]): Promise<{ result: DrainResult; journal: RefreshJournal }> {
  const kube = await deps.kube();
  const toCordon = members.map((m) => m.node).filter((n) => n && !journal.cordoned.includes(n));
  let j = journal;
  if (toCordon.length) {
    j = { ...journal, cordoned: [...journal.cordoned, ...toCordon] };
    await saveJournal(deps, state, j);
  }
  const evicted: string[] = [];
  const remaining: string[] = [];
  const blockedBy = new Set<string>();
  for (const m of members) {
    if (!m.node) continue;
    const pass = await drainNode(kube, m.node, executionName(state.execution));
    evicted.push(...pass.evicted);
    remaining.push(...pass.remaining);
    pass.refused.forEach((r) => blockedBy.add(r));
  }
  return { result: { drained: remaining.length === 0, evicted, remaining, blockedBy: [...blockedBy] }, journal: j };
}

/** Drains the batch; fails with DrainTimeout (naming the pods and budgets) past the drain timeout. */
export async function drain(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const journal = await journalOf(deps, state);
  const { result } = await drainNodes(deps, state, journal, journal.batch);
  const now = deps.now();
  if (!result.drained && journal.deadline !== undefined && now > journal.deadline) {
    const settings = groupSettings(groupOf(deps, state.group));
    throw new DrainTimeoutError(
      `could not drain ${journal.batch.map((b) => b.node).join(', ')} within ${settings.drainTimeoutSeconds}s: pods left ${result.remaining.join(', ')}${result.blockedBy.length ? `; refused: ${result.blockedBy.join(' | ')}` : ''}`,
    );
  }
  return next(state, COST.waitLoop, { drained: result.drained, nodes: journal.batch.map((b) => b.node), evicted: result.evicted, ...(result.drained ? {} : { podsLeft: result.remaining }), ...(result.blockedBy.length ? { refused: result.blockedBy } : {}) });
}

/** Terminates the drained batch in its ASGs without decrement: the ASGs launch the replacements. */
export async function terminate(state: RefreshState, deps: Deps): Promise<RefreshState> {
  let journal = await journalOf(deps, state);
  const settings = groupSettings(groupOf(deps, state.group));
  const batch = journal.batch;
  if (batch.length === 0) return next(state, COST.task, { terminated: [], note: 'batch already terminated', replacedSoFar: journal.replaced });
  if (journal.phase !== 'terminating') {
    // Journal first: these are never picked as old nodes again, whatever happens next.
    const ids = batch.map((b) => b.instanceId).filter((id) => !journal.terminated.includes(id));
    journal = { ...journal, terminated: [...journal.terminated, ...ids], phase: 'terminating' };
    await saveJournal(deps, state, journal);
  }
  const asgs = await deps.autoscaling.describeGroups(selectorOf(groupOf(deps, state.group)));
  const outcomes = await terminateUnlessLeaving(deps.autoscaling, asgs, batch.map((b) => b.instanceId), false);
  const done = batch.map((b, i) => `${b.instanceId} (${b.node}, ${b.asg})${outcomes[i].outcome === 'terminated' ? '' : `: ${outcomes[i].outcome === 'gone' ? 'already gone' : 'already leaving'}`}`);
  const replaced = journal.replaced + batch.length;
  await saveJournal(deps, state, {
    ...journal,
    cordoned: journal.cordoned.filter((n) => !batch.some((b) => b.node === n)),
    batch: [],
    phase: 'replace',
    replaced,
    deadline: deps.now() + settings.joinTimeoutSeconds * 1000,
  });
  return next(state, COST.task, { terminated: done, replacedSoFar: replaced });
}

/**
 * Gives the surplus back: drains, then terminates with decrement, the members that return each ASG
 * to its original desired, and restores MaxSize. Loops (ASL) until done; the drain timeout applies.
 */
export async function giveBack(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const { journal, memory } = await leaseOf(deps, state);
  const { settings, snapshot, c, now } = await look(deps, state);
  const p = planGiveBack(snapshot.asgs, c, journal.original, settings.desiredReady);
  if (p.done && journal.refreshAfterGiveBack) {
    // The failed refresh's surplus is back: this one refreshes anew, keeping the start (what was replaced stays replaced).
    await saveJournal(deps, state, { ...freshJournal(state), startedAt: journal.startedAt, terminated: journal.terminated, replaced: journal.replaced, resumedFrom: journal.resumedFrom });
    if (p.kept) await deps.lease.writeMemory(state.group, state.execution, { ...memory, home: { ...(memory.home ?? {}), ...journal.original } });
    return next(state, COST.waitLoop, { done: true, restart: true, note: `the surplus of ${executionName(journal.resumedFrom?.execution ?? '')} is back; refreshing anew from ${new Date(journal.startedAt).toISOString()}` });
  }
  if (p.done) {
    await saveJournal(deps, state, { ...journal, phase: 'done', batch: [] });
    // Kept surplus is not home: remember the home layout so a later refresh or replenish gives it back.
    if (p.kept) await deps.lease.writeMemory(state.group, state.execution, { ...memory, home: { ...(memory.home ?? {}), ...journal.original } });
    return next(state, COST.waitLoop, { done: true, ...(p.kept ? { surplusKept: `${p.kept} surplus node(s) kept: giving them back would leave fewer than ${settings.desiredReady} Ready nodes` } : {}) });
  }
  const deadline = journal.phase === 'giveBack' && journal.deadline !== undefined ? journal.deadline : now + settings.drainTimeoutSeconds * 1000;
  let j: RefreshJournal = { ...journal, phase: 'giveBack', deadline };
  if (journal.phase !== 'giveBack' || journal.deadline === undefined) await saveJournal(deps, state, j);
  const { result, journal: afterCordon } = await drainNodes(deps, state, j, p.remove);
  j = afterCordon;
  const terminated: string[] = [];
  if (result.drained) {
    const outcomes = await terminateUnlessLeaving(deps.autoscaling, snapshot.asgs, p.remove.map((m) => m.instanceId), true);
    p.remove.forEach((m, i) => terminated.push(`${m.instanceId} (${m.asg})${outcomes[i].outcome === 'terminated' ? '' : `: ${outcomes[i].outcome === 'gone' ? 'already gone' : 'already leaving'}`}`));
    j = { ...j, cordoned: j.cordoned.filter((n) => !p.remove.some((m) => m.node === n)) };
    await saveJournal(deps, state, j);
  } else if (now > deadline) {
    throw new DrainTimeoutError(`could not drain surplus node(s) ${p.remove.map((m) => m.node).join(', ')} within ${settings.drainTimeoutSeconds}s: pods left ${result.remaining.join(', ')}${result.blockedBy.length ? `; refused: ${result.blockedBy.join(' | ')}` : ''}`);
  }
  const maxRestored: string[] = [];
  for (const r of p.restoreMax) {
    await deps.autoscaling.updateSize(r.asg, { max: r.max });
    maxRestored.push(`${r.asg}: max ${r.max}`);
  }
  return next(state, COST.waitLoop, { done: false, draining: p.remove.map((m) => m.node), evicted: result.evicted, terminatedWithDecrement: terminated, maxRestored, ...(result.blockedBy.length ? { refused: result.blockedBy } : {}) });
}

/** Failure path, first step: uncordon what we cordoned and did not terminate; the give-back loop follows. */
export async function cleanup(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const rec = await deps.lease.get(state.group);
  if (rec?.holder !== state.execution) return next(state, COST.task, { cleanup: 'this execution holds no lease: nothing to clean up' });
  const journal = rec.journal as RefreshJournal;
  const uncordoned = await uncordonAll(await deps.kube(), journal.cordoned);
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
 * Last resort when giving back failed too: restore what can be restored without draining, record
 * the home layout in the lease memory (so the next refresh or replenish gives the surplus left in
 * place back, rather than taking it for home), and release. A retry after this step did its work
 * finds the lease released and says, from the group as it is, what was left in place.
 */
export async function forceRestore(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const rec = await deps.lease.get(state.group);
  const failure = state.failure ?? state.giveBackFailure;
  const withFailure = (s: RefreshState) => ({ ...s, ...(failure ? { failure } : {}) });
  if (rec?.holder !== state.execution) {
    const home = (rec?.memory as GroupMemory | undefined)?.home ?? {};
    const asgs = await deps.autoscaling.describeGroups(selectorOf(groupOf(deps, state.group)));
    const left = asgs.filter((a) => home[a.name] && (a.desired > home[a.name].desired || a.max > home[a.name].max)).map((a) => `${a.name}: desired ${a.desired}, max ${a.max} (home ${home[a.name].desired}/${home[a.name].max})`);
    return withFailure(
      next(state, COST.task, {
        restored: `already done: the lease of group ${state.group} is ${rec?.holder ? `held by ${rec.holder}` : 'released'}`,
        ...(left.length ? { surplusLeftInPlace: left, homeLayout: 'remembered in the lease memory: the next replenish or refresh gives it back' } : {}),
      }),
    );
  }
  const journal = rec.journal as RefreshJournal;
  const restored = await restore(deps, state.group, journal);
  const memory = (rec.memory as GroupMemory | undefined) ?? {};
  if (journal.surged || Object.keys(journal.original).length) {
    await deps.lease.writeMemory(state.group, state.execution, { ...memory, home: { ...(memory.home ?? {}), ...journal.original } });
  }
  await deps.lease.release(state.group, state.execution);
  return withFailure(next(state, COST.task, { restored, ...(restored.surplusLeftInPlace ? { homeLayout: 'remembered in the lease memory: the next replenish or refresh gives it back' } : {}), released: true }));
}

/** Releases the lease (idempotent). */
export async function release(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const rec = await deps.lease.get(state.group);
  const replaced = rec?.holder === state.execution ? (rec.journal as RefreshJournal | undefined)?.replaced : undefined;
  const released = await deps.lease.release(state.group, state.execution);
  return next(state, COST.task, { released, ...(replaced !== undefined ? { replaced } : {}), ...(state.failure ? { failure: state.failure.Error } : {}) });
}

export const REFRESH_STEPS = { validate, plan, acquire, surge, checkReady, pick, drain, terminate, giveBack, cleanup, forceRestore, release } as const;
export type RefreshStep = keyof typeof REFRESH_STEPS;
