import { memoryOf, mustHold } from '../lease';
import { GIVE_BACK_BLOCKED_SECONDS, GIVE_BACK_RETRY_SECONDS } from '../core';
import { groupSettings } from '../config';
import { drainOnce, executionName, uncordonAll } from '../drain';
import { groupOf } from '../input';
import { terminateUnlessLeaving } from '../terminate';
import type { Deps } from '../runtime';
import { ReplenishJournal, ReplenishState } from './state';

/**
 * Drains the member being given back; once empty, terminates it with decrement. Gives up
 * (uncordoned) past the drain timeout, or sooner when budgets have refused every pod left for
 * {@link GIVE_BACK_BLOCKED_SECONDS}; either way that ASG's give-back rests for
 * {@link GIVE_BACK_RETRY_SECONDS}, so the lease is not held pass after pass for nothing.
 */
export async function giveBack(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const rec = await deps.lease.get(state.group);
  const { journal } = mustHold<ReplenishJournal>(rec, state.group, state.execution);
  const target = journal.giveBack;
  if (!target) return { ...state, draining: false, did: { draining: false } };
  const kube = await deps.kube();
  // The first pass cordons (with our mark); later ones only evict: a refusing budget costs no node patches.
  const policy = groupSettings(groupOf(deps, state.group)).drain;
  const pass = await drainOnce(kube, target.node, {
    ...(journal.marked ? {} : { cordonBy: executionName(state.execution) }),
    by: executionName(state.execution),
    voluntary: policy,
    now: deps.now,
    measures: deps.metrics,
  });
  if (pass.held.length) {
    // A pod holds the member: another is given back in its place (this one is left for a while).
    const why = pass.held.flatMap((h) => h.pods).join('; ');
    if (journal.marked) await uncordonAll(kube, [target.node], [executionName(state.execution)]);
    const memory = memoryOf(rec);
    const until = deps.now() + GIVE_BACK_RETRY_SECONDS * 1000;
    await deps.lease.writeMemory(state.group, state.execution, {
      ...memory,
      podHeld: { ...(memory.podHeld ?? {}), [target.instanceId]: { until, why } },
    });
    await deps.lease.writeJournal(
      state.group,
      state.execution,
      { execution: state.execution, cordoned: [] },
      deps.now(),
    );
    return {
      ...state,
      draining: false,
      did: {
        draining: false,
        heldBy: `${target.node} (${target.instanceId}): ${why}`,
        note: 'another member goes next',
      },
    };
  }
  if (!journal.marked && pass.gone.length === 0)
    await deps.lease.writeJournal(state.group, state.execution, { ...journal, marked: true }, deps.now());
  const left = pass.remaining;
  const refused = pass.refused;
  const now = deps.now();
  if (left.length === 0) {
    await terminateUnlessLeaving(
      deps.autoscaling,
      await deps.autoscaling.describeGroups({ names: [target.asg] }),
      [target.instanceId],
      true,
    );
    await deps.lease.writeJournal(state.group, state.execution, { execution: state.execution, cordoned: [] }, now);
    return {
      ...state,
      draining: false,
      did: {
        draining: false,
        gaveBack: `${target.node} (${target.instanceId}) terminated with decrement in ${target.asg}`,
        ...(pass.lost.length ? { podsLost: pass.lost } : {}),
      },
    };
  }
  const blocked = pass.evicted.length === 0 && refused.length > 0;
  const blockedSince = blocked ? (journal.blockedSince ?? now) : undefined;
  const blockedFor = blockedSince === undefined ? 0 : (now - blockedSince) / 1000;
  const timedOut = journal.deadline !== undefined && now > journal.deadline;
  if (timedOut || blockedFor >= GIVE_BACK_BLOCKED_SECONDS) {
    const why = timedOut
      ? `could not be drained within the drain timeout (pods left: ` +
        `${left.join(', ')}${refused.length ? `; refused: ${refused.join(' | ')}` : ''})`
      : `had every pod left refused by its budget for ${Math.round(blockedFor)}s (pods left: ${left.join(', ')}; ` +
        `refused: ${refused.join(' | ')})`;
    await uncordonAll(kube, [target.node]);
    const until = now + GIVE_BACK_RETRY_SECONDS * 1000;
    const memory = memoryOf(rec);
    await deps.lease.writeMemory(state.group, state.execution, {
      ...memory,
      giveBackHeld: { ...(memory.giveBackHeld ?? {}), [target.asg]: { until, why: `${target.node} ${why}` } },
    });
    await deps.lease.writeJournal(state.group, state.execution, { execution: state.execution, cordoned: [] }, now);
    return {
      ...state,
      draining: false,
      did: {
        draining: false,
        gaveUp: `${target.node} ${why}; uncordoned; ${target.asg} gives back again after ${new Date(until).toISOString()}`,
      },
    };
  }
  if (blockedSince !== journal.blockedSince)
    await deps.lease.writeJournal(state.group, state.execution, { ...journal, marked: true, blockedSince }, now);
  return {
    ...state,
    draining: true,
    did: {
      draining: true,
      node: target.node,
      evicted: pass.evicted,
      podsLeft: left,
      ...(refused.length ? { refused } : {}),
    },
  };
}
