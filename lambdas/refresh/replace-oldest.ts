import { groupSettings } from '../config';
import {
  advanceStart,
  closeBatch,
  countDecrements,
  watchOld,
  watchReady,
  watchRefusals,
  planAdvance,
  DrainTimeoutError,
  drainPollSeconds,
  drainWaitSeconds,
  learnDrain,
  readyWaitSeconds,
  type BatchMember,
  type Learned,
  type Pause,
  type RefreshJournal,
} from '../core';
import { groupOf, selectorOf } from '../input';
import { drain, executionName, type DrainResult } from '../drain';
import { terminateUnlessLeaving } from '../terminate';
import type { Deps } from '../runtime';
import { healthGate, passedGate } from './gate';
import { noteDrainPass, onDrainTimeout } from './pass-over';
import { bake, notePause } from './pause';
import { addSurplus } from './add-surplus';
import { describeClosed, windowOf, windowWaitSeconds } from './window';
import { COST, HAND_OVER_AFTER_MS, leaseOf, look, next, saveJournal, type RefreshState } from './state';
import type { AsgState } from '../core';

/**
 * The refresh's batch loop, one step: "Replace oldest nodes" does whatever the journal's phase
 * calls for next and says how long to wait before it is worth looking again (learned waits, see
 * core/learn.ts). Per batch that is two passes: one that finds the replacements Ready, picks the
 * next batch and evicts its pods; one that finds the pods gone and terminates the batch. A pass
 * that comes too early waits briefly and looks again.
 */

/** How long the workflow waits before the next pass (`$.waitSeconds`, the Wait state's SecondsPath). */
function waitThen(state: RefreshState, seconds: number, did: Record<string, unknown>, now: number): RefreshState {
  const due = state.executionStartedAt !== undefined && now - state.executionStartedAt > HAND_OVER_AFTER_MS;
  return {
    ...next(state, COST.waitLoop, { next: 'wait', waitSeconds: seconds, ...did }),
    waitSeconds: seconds,
    ...(due ? { handOverDue: true } : {}),
  };
}

function giveBackNext(state: RefreshState, did: Record<string, unknown>): RefreshState {
  return { ...next(state, COST.waitLoop, { next: 'giveBack', ...did }), waitSeconds: 0 };
}

export async function replaceOldest(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const { journal, pause } = await leaseOf(deps, state);
  // What the last evicting pass carried counts only while its batch is draining.
  if (journal.phase !== 'drain' && (state.evictedAt !== undefined || state.budgetSeconds !== undefined))
    state = { ...state, evictedAt: undefined, budgetSeconds: undefined };
  // Not surged: the refresh began (or went on after a window closed) outside its windows.
  if (!journal.surged) {
    const w = windowOf(deps, state, deps.now());
    if (w && !w.open)
      return waitThen(state, windowWaitSeconds(w, deps.now()), { window: describeClosed(w) }, deps.now());
    const surged = await addSurplus(state, deps);
    return waitThen(surged, surged.waitSeconds ?? 0, surged.did ?? {}, deps.now());
  }
  const start = advanceStart(journal).kind;
  if (start === 'giveBack') return giveBackNext(state, { note: 'every old node is replaced' });
  if (start === 'terminate') return terminateBatch(state, deps, journal, undefined);
  if (start === 'drainAgain') return drainLater(state, deps, journal);
  return lookThenAct(state, deps, journal, pause);
}

/** Looks at the group and performs what core/advance.ts decides: wait, go on to the give-back, fail, or pick and evict. */
async function lookThenAct(
  state: RefreshState,
  deps: Deps,
  journal: RefreshJournal,
  pause: Pause | undefined,
): Promise<RefreshState> {
  const { settings, snapshot, c, now } = await look(deps, state);
  state = { ...state, watch: watchReady(state.watch, c.counts.ready, settings.desiredReady, now) };
  // A step that stopped between journaling a termination and AWS's answer: terminate what still runs.
  const again = (journal.terminating ?? []).filter((b) =>
    snapshot.asgs.some((a) =>
      a.instances.some((i) => i.instanceId === b.instanceId && i.lifecycleState === 'InService'),
    ),
  );
  if (again.length)
    await terminateUnlessLeaving(
      deps.autoscaling,
      snapshot.asgs,
      again.map((b) => b.instanceId),
      false,
      new Set(again.filter((b) => b.quarantine).map((b) => b.instanceId)),
    );
  let cmd = planAdvance(journal, { snapshot, c }, settings, now);
  // An operator's pause: no new batch and no give-back while it holds (the step in hand is done),
  // and no deadline runs out meanwhile (a replacement Spot took during the pause is waited for after).
  const paused = await notePause(
    deps,
    state,
    journal,
    pause,
    cmd.kind === 'pick' || cmd.kind === 'giveBack' || cmd.kind === 'fail',
    now,
  );
  if (paused.wait) return waitThen(state, paused.wait.seconds, paused.wait.did, deps.now());
  if (paused.closed) cmd = planAdvance((journal = paused.journal), { snapshot, c }, settings, now);
  if (cmd.kind === 'fail') throw cmd.error;
  // A checkpoint: the share replaced so far bakes before the next batch (a breaker's alarm pauses it above).
  if (cmd.kind === 'pick') {
    state = { ...state, watch: watchOld(state.watch, journal.replaced + (cmd.did.oldRemaining as number)) };
    const baked = await bake(deps, state, journal, cmd.did.oldRemaining as number, now);
    if (baked) return waitThen(state, baked.seconds, baked.did, deps.now());
  }
  // A maintenance window closed: no new batch; the surplus goes back, and the refresh goes on in the next.
  const w = cmd.kind === 'pick' ? windowOf(deps, state, now) : undefined;
  if (w && !w.open) {
    await saveJournal(deps, state, { ...journal, refreshAfterGiveBack: true, windowClosedAt: now });
    return giveBackNext(state, { window: `${describeClosed(w)}; giving the surplus back until then` });
  }
  if (cmd.kind !== 'pick') {
    if (cmd.journal) await saveJournal(deps, state, cmd.journal);
    if (cmd.kind === 'giveBack') return giveBackNext(batchDone(deps, state, journal, now), cmd.did);
    return waitThen(state, cmd.seconds, cmd.did, deps.now());
  }
  // The health gate: the last batch's pods run again, and this one's fit on the nodes that stay.
  const gate = await healthGate(deps, journal, cmd.batch, c, settings, now);
  if (gate.kind === 'fail') throw gate.error;
  if (gate.kind === 'wait') {
    if (gate.journal) await saveJournal(deps, state, gate.journal);
    return waitThen(state, gate.seconds, { nextBatch: cmd.did.batch, ...gate.did }, deps.now());
  }
  // Evict the picked batch's pods (cordoning first); terminate it at once if it drained within the step.
  const picking = passedGate(cmd.journal, gate.settleOwners);
  const learned = picking.learned;
  await saveJournal(deps, state, picking);
  state = batchDone(deps, state, journal, now);
  const pass = await drainPass(deps, state, picking.batch, learned, true);
  state = { ...state, watch: watchRefusals(state.watch, pass.refusals, pass.refused) };
  const noted = await noteDrainPass(deps, state, picking, pass, false);
  const picked = noted.journal;
  const left = {
    ...(noted.passedOver.length ? { passedOver: noted.passedOver } : {}),
    ...(pass.lost.length ? { podsLost: pass.lost } : {}),
  };
  // Every node of the batch is held: the next pass picks again, without them.
  if (picked.batch.length === 0) return waitThen(state, 1, { ...cmd.did, ...left }, deps.now());
  const did = {
    ...cmd.did,
    ...left,
    evicted: pass.evicted.length,
    ...(pass.waitedSeconds ? { waitedInStep: `${pass.waitedSeconds}s` } : {}),
  };
  const afterPass = learnPass(learned, pass);
  // The look is at most a minute old (the pass's waits): an instance that began leaving since is
  // refused by Auto Scaling, read again and counted as leaving (terminate.ts), as it would be a
  // second after the read.
  if (noted.drained)
    return terminateBatch(
      { ...state, evictedAt: undefined },
      deps,
      { ...picked, learned: afterPass },
      snapshot.asgs,
      did,
    );
  return waitThen(
    {
      ...state,
      evictedAt: pass.lastEvictionAt ?? now,
      ...(pass.refusalSeconds !== undefined ? { budgetSeconds: pass.refusalSeconds } : {}),
    },
    drainWaitSeconds(learned, pass.graceSeconds),
    { ...did, podsLeft: pass.remaining.length, ...(pass.refused.length ? { refused: pass.refused } : {}) },
    deps.now(),
  );
}

/**
 * A batch is done (the next is picked, or the surplus goes back): its seconds below desiredReady
 * are published, one value per batch (0 when the surplus covered it).
 */
function batchDone(deps: Deps, state: RefreshState, journal: RefreshJournal, now: number): RefreshState {
  const closed = closeBatch(state.watch, journal.replaced, now);
  if (closed.seconds !== undefined) deps.metrics.add('SecondsBelowDesired', closed.seconds);
  return { ...state, watch: closed.watch };
}

/** Waits a drain sleeps inside one invocation: each at most this long, and this much in all (the function's timeout is 5 minutes). */
export const INLINE_WAIT_SECONDS = 15;
export const INLINE_BUDGET_SECONDS = 60;

/**
 * One drain pass over the batch, with short waits inside the invocation (see drain.ts): no
 * look at the group, only the batch's pods. The first pass cordons (with our mark).
 */
function drainPass(
  deps: Deps,
  state: RefreshState,
  batch: readonly BatchMember[],
  learned: Learned | undefined,
  first: boolean,
): Promise<DrainResult> {
  return deps.kube().then((kube) =>
    drain(
      kube,
      batch.map((b) => b.node),
      {
        ...(first ? { cordonBy: executionName(state.execution) } : {}),
        by: executionName(state.execution),
        voluntary: groupSettings(groupOf(deps, state.group)).drain,
        expectSeconds: drainWaitSeconds(learned, Number.POSITIVE_INFINITY),
        ...(learned?.budgetSeconds !== undefined ? { refusalSeconds: learned.budgetSeconds } : {}),
        maxWaitSeconds: INLINE_WAIT_SECONDS,
        budgetSeconds: INLINE_BUDGET_SECONDS,
        sleep: deps.sleep,
        now: deps.now,
        measures: deps.metrics,
      },
    ),
  );
}

/** What a drain pass measured: how long pods took to stop, and a refusing budget to free. */
function learnPass(l: Learned | undefined, pass: DrainResult): Learned | undefined {
  const out = pass.stopped ? learnDrain(l, pass.stopped.afterSeconds, pass.stopped.firstLook) : l;
  return pass.refusalSeconds !== undefined ? { ...out, budgetSeconds: pass.refusalSeconds } : out;
}

/** The batch's pods are leaving: look again; once gone, terminate; past the drain timeout, fail naming the pods and budgets. */
async function drainLater(state: RefreshState, deps: Deps, journal: RefreshJournal): Promise<RefreshState> {
  // The last pass that evicted something, as this execution carries it (not journaled: it only steers the wait).
  const since = state.evictedAt ?? journal.since ?? deps.now();
  const firstLook = (deps.now() - since) / 1000 <= drainWaitSeconds(journal.learned, Number.POSITIVE_INFINITY) + 1;
  const pass = await drainPass(
    deps,
    state,
    journal.batch,
    { ...journal.learned, ...(state.budgetSeconds !== undefined ? { budgetSeconds: state.budgetSeconds } : {}) },
    false,
  );
  state = { ...state, watch: watchRefusals(state.watch, pass.refusals, pass.refused) };
  const noted = await noteDrainPass(deps, state, journal, pass, true);
  journal = noted.journal;
  const now = deps.now();
  if (journal.batch.length === 0)
    return waitThen({ ...state, evictedAt: undefined }, 1, { passedOver: noted.passedOver }, deps.now());
  if (noted.drained) {
    // Pods evicted by an earlier pass were gone at this look: the learned wait was right if this is the first look after it.
    const carried = {
      ...journal.learned,
      ...(state.budgetSeconds !== undefined ? { budgetSeconds: state.budgetSeconds } : {}),
    };
    const learned = pass.stopped
      ? learnPass(carried, pass)
      : learnPass(learnDrain(carried, (now - since) / 1000, firstLook), pass);
    return terminateBatch({ ...state, evictedAt: undefined }, deps, { ...journal, learned }, undefined, {
      drainedAfter: `${Math.round((now - since) / 1000)}s`,
    });
  }
  if (journal.deadline !== undefined && now > journal.deadline) {
    const settings = groupSettings(groupOf(deps, state.group));
    const outcome = await onDrainTimeout(deps, state, journal, pass, settings.drain, settings.drainTimeoutSeconds);
    if (outcome.kind === 'goOn') {
      // Skipped nodes are gone from the batch: the rest is drained (or nothing is left to drain).
      if (outcome.journal.batch.length === 0)
        return waitThen({ ...state, evictedAt: undefined }, 1, outcome.did, deps.now());
      if (!outcome.journal.forced)
        return terminateBatch({ ...state, evictedAt: undefined }, deps, outcome.journal, undefined, outcome.did);
      return waitThen(state, drainWaitSeconds(journal.learned, pass.graceSeconds), outcome.did, deps.now());
    }
    throw new DrainTimeoutError(
      `could not drain ${journal.batch.map((b) => b.node).join(', ')} within ${settings.drainTimeoutSeconds}s: ` +
        `pods left ${pass.remaining.join(', ')}${pass.refused.length ? `; refused: ${pass.refused.join(' | ')}` : ''}`,
    );
  }
  // A budget that refused frees once the evicted pods' replacements run: about as long as pods take to leave.
  const wait =
    pass.evicted.length || pass.refused.length
      ? drainWaitSeconds(journal.learned, pass.graceSeconds)
      : drainPollSeconds(journal.learned);
  // A pass that evicted more (a budget let another pod go) starts the wait again from its last eviction.
  return waitThen(
    {
      ...state,
      ...(pass.lastEvictionAt !== undefined ? { evictedAt: pass.lastEvictionAt } : {}),
      ...(pass.refusalSeconds !== undefined ? { budgetSeconds: pass.refusalSeconds } : {}),
    },
    wait,
    {
      nodes: journal.batch.map((b) => b.node),
      evicted: pass.evicted,
      podsLeft: pass.remaining,
      ...(pass.refused.length ? { refused: pass.refused } : {}),
    },
    deps.now(),
  );
}

/**
 * Terminates the drained batch in its ASGs: without decrement (the ASGs launch the replacements),
 * or, for the last batch the surplus stands in for, with decrement (each ASG lands on its home
 * desired). Journaled first: these are never picked as old nodes again, whatever happens next.
 */
async function terminateBatch(
  state: RefreshState,
  deps: Deps,
  journal: RefreshJournal,
  asgs: readonly AsgState[] | undefined,
  did: Record<string, unknown> = {},
): Promise<RefreshState> {
  const settings = groupSettings(groupOf(deps, state.group));
  const batch = journal.batch;
  const now = deps.now();
  const replaced = journal.replaced + batch.length;
  deps.metrics.add('NodesReplaced', batch.length);
  if (journal.since !== undefined && journal.phase === 'drain')
    deps.metrics.add('DrainSeconds', Math.round((now - journal.since) / 1000));
  // The surplus stands in for the last batch: nothing is waited for after it, so it is done here.
  if (journal.final) state = batchDone(deps, state, { ...journal, replaced }, now);
  const after: RefreshJournal = {
    ...journal,
    terminated: [
      ...journal.terminated,
      ...batch.map((b) => b.instanceId).filter((id) => !journal.terminated.includes(id)),
    ],
    terminating: batch,
    batch: [],
    final: false,
    forced: false,
    replaced,
    since: now,
    ...(journal.final
      ? { phase: 'giveBack', deadline: now + settings.drainTimeoutSeconds * 1000 }
      : { phase: 'replace', deadline: now + settings.joinTimeoutSeconds * 1000 }),
  };
  await saveJournal(deps, state, after);
  const current = asgs ?? (await deps.autoscaling.describeGroups(selectorOf(groupOf(deps, state.group))));
  const outcomes = await terminateUnlessLeaving(
    deps.autoscaling,
    current,
    batch.map((b) => b.instanceId),
    !!journal.final,
    new Set(batch.filter((b) => b.quarantine).map((b) => b.instanceId)),
  );
  const kube = await deps.kube();
  for (const [i, b] of batch.entries())
    if (outcomes[i].outcome === 'terminated' && b.node)
      await kube.recordEvent(
        {
          node: b.node,
          reason: 'Terminated',
          note:
            `instance ${b.instanceId} terminated by ${executionName(state.execution)}` +
            (journal.final ? ' with decrement: the surplus stands in for it' : ': its ASG launches the replacement'),
          action: 'Refresh',
          by: executionName(state.execution),
        },
        deps.now(),
      );
  // The last batch went with decrement: what the refresh itself took off desired (its give-back counts on it).
  if (journal.final)
    await saveJournal(deps, state, { ...after, decremented: countDecrements(after.decremented, batch, outcomes) });
  const done = batch.map(
    (b, i) =>
      `${b.instanceId} (${b.node}, ${b.asg})` +
      (outcomes[i].outcome === 'terminated'
        ? ''
        : outcomes[i].outcome === 'standby'
          ? ': in Standby (quarantined)'
          : `: ${outcomes[i].outcome === 'gone' ? 'already gone' : 'already leaving'}`),
  );
  const report = {
    ...did,
    terminated: done,
    ...(journal.final ? { withDecrement: true } : {}),
    replacedSoFar: replaced,
  };
  state = { ...state, evictedAt: undefined, budgetSeconds: undefined };
  if (journal.final) return giveBackNext(state, report);
  return waitThen(state, readyWaitSeconds(after.learned, now, now), report, deps.now());
}
