import { withRefreshSurplus } from '../lease';
import {
  countDecrements,
  giveBackWait,
  homeNow,
  DrainTimeoutError,
  drainWaitSeconds,
  planGiveBack,
  type BatchMember,
  type RefreshJournal,
} from '../core';
import { groupSettings } from '../config';
import { drain, executionName, uncordonAll, type DrainResult } from '../drain';
import { groupOf } from '../input';
import { INLINE_BUDGET_SECONDS, INLINE_WAIT_SECONDS } from './replace-oldest';
import { terminateUnlessLeaving } from '../terminate';
import type { Deps } from '../runtime';
import { COST, freshJournal, leaseOf, look, next, saveJournal, type RefreshState } from './state';

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
): Promise<{ pass: DrainResult; journal: RefreshJournal }> {
  const kube = await deps.kube();
  const toCordon = members.map((m) => m.node).filter((n) => n && !journal.cordoned.includes(n));
  let j = journal;
  if (toCordon.length) {
    j = { ...journal, cordoned: [...journal.cordoned, ...toCordon] };
    await saveJournal(deps, state, j);
  }
  const pass = await drain(kube, members.map((m) => m.node).filter(Boolean), {
    cordonBy: executionName(state.execution),
    cordonOnly: toCordon,
    voluntary: groupSettings(groupOf(deps, state.group)).drain,
    expectSeconds: drainWaitSeconds(j.learned, Number.POSITIVE_INFINITY),
    ...(j.learned?.budgetSeconds !== undefined ? { refusalSeconds: j.learned.budgetSeconds } : {}),
    maxWaitSeconds: INLINE_WAIT_SECONDS,
    budgetSeconds: INLINE_BUDGET_SECONDS,
    sleep: deps.sleep,
    now: deps.now,
    measures: deps.metrics,
  });
  return { pass, journal: j };
}

/**
 * Gives the surplus back: drains, then terminates with decrement, the members that return each ASG
 * to its original desired, and restores MaxSize. Loops (ASL) until done; the drain timeout applies.
 */
export async function giveBack(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const { journal, memory } = await leaseOf(deps, state);
  const { settings, snapshot, c, now } = await look(deps, state);
  // Members a pod holds are not taken: another goes in their place, or the surplus is kept.
  const avoid = new Set([...(journal.giveBackAvoids ?? []), ...(journal.passedOver ?? []).map((n) => n.instance)]);
  // What others changed while the refresh ran stays: only the refresh's own surplus goes back.
  const home = homeNow(journal, snapshot.asgs);
  let p = planGiveBack(snapshot.asgs, c, home.original, settings.desiredReady, avoid);
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
  const notHome = p.kept > 0 || p.heldByPods > 0 || Object.keys(p.neverLaunched).length > 0;
  const othersKept = home.others.map(
    (o) => `${o.asg}: desired set to ${o.to} by someone else while the refresh ran (home ${o.from}): kept as its floor`,
  );
  const unlaunched = Object.entries(p.neverLaunched).map(([asg, n]) => `${asg}: ${n}`);
  const left = {
    ...(othersKept.length ? { othersKept } : {}),
    ...(p.kept
      ? {
          surplusKept: `${p.kept} surplus node(s) kept: giving them back would leave fewer than ${settings.desiredReady} Ready nodes`,
        }
      : {}),
    ...(p.heldByPods
      ? {
          surplusHeld:
            `${p.heldByPods} surplus node(s) kept: a pod holds every member that could go; the home layout ` +
            'remembered, replenish gives it back once it can',
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
      learned: journal.learned,
      // What it left, lost and waited through so far is still named at its end.
      ...(journal.passedOver ? { passedOver: journal.passedOver } : {}),
      ...(journal.podsLost ? { podsLost: journal.podsLost } : {}),
      ...(journal.quarantined ? { quarantined: journal.quarantined } : {}),
      ...(journal.paused ? { paused: journal.paused } : {}),
      ...(journal.othersKept ? { othersKept: journal.othersKept } : {}),
      ...(journal.checkpointsBaked ? { checkpointsBaked: journal.checkpointsBaked } : {}),
    });
    if (notHome) await deps.lease.writeMemory(state.group, state.execution, withRefreshSurplus(memory, journal));
    return next(state, COST.waitLoop, {
      done: true,
      restart: true,
      note:
        journal.windowClosedAt !== undefined
          ? `the surplus is back (its maintenance window closed); ${journal.replaced} replaced so far, the rest ` +
            'in the next window'
          : `the surplus of ${executionName(journal.resumedFrom?.execution ?? '')} is back; refreshing anew from ` +
            `${new Date(journal.startedAt).toISOString()}`,
    });
  }
  if (p.done) {
    await saveJournal(deps, state, {
      ...journal,
      phase: 'done',
      batch: [],
      ...(othersKept.length ? { othersKept } : {}),
    });
    // Kept surplus is not home: remember the home layout so a later refresh or replenish gives it
    // back. What this refresh learned about the group's timing seeds the next one's waits.
    const learnedNew =
      journal.learned !== undefined && JSON.stringify(journal.learned) !== JSON.stringify(memory.learned);
    if (notHome || learnedNew) {
      const kept = notHome ? withRefreshSurplus(memory, journal) : memory;
      await deps.lease.writeMemory(state.group, state.execution, {
        ...kept,
        ...(learnedNew ? { learned: journal.learned } : {}),
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
  const cordonedBefore = new Set(j.cordoned);
  const { pass: result, journal: afterCordon } = await drainGiveBack(deps, state, j, p.remove);
  j = afterCordon;
  if (result.held.length || result.lost.length) {
    const heldNodes = new Set(result.held.map((h) => h.node));
    const heldMembers = p.remove.filter((m) => heldNodes.has(m.node));
    j = {
      ...j,
      cordoned: j.cordoned.filter((n) => !heldNodes.has(n)),
      giveBackAvoids: [...(j.giveBackAvoids ?? []), ...heldMembers.map((m) => m.instanceId)],
      podsLost: [...(j.podsLost ?? []), ...result.lost],
    };
    await saveJournal(deps, state, j);
    await uncordonAll(
      deps.kube,
      heldMembers.map((m) => m.node).filter((n) => cordonedBefore.has(n)),
      [executionName(state.execution)],
    );
    // Another member goes in their place: plan again at once.
    if (heldMembers.length)
      return {
        ...next(state, COST.waitLoop, {
          done: false,
          heldBy: result.held.map((h) => `${h.node}: ${h.pods.join('; ')}`),
          note: 'a pod holds these members: another is given back in their place',
        }),
        waitSeconds: 1,
      };
  }
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
    j = {
      ...j,
      cordoned: j.cordoned.filter((n) => !p.remove.some((m) => m.node === n)),
      decremented: countDecrements(j.decremented, p.remove, outcomes),
    };
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
  const { blocked, wait } = giveBackWait(result, state.giveBackBlocked ?? 0, j.learned, deadline, deps.now());
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
