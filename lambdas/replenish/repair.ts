import { groupSettings } from '../config';
import { GIVE_BACK_RETRY_SECONDS, type GroupMemory, type RepairPlan } from '../core';
import { drainOnce, executionName } from '../drain';
import { groupOf } from '../input';
import type { Deps } from '../runtime';
import { terminateUnlessLeaving } from '../terminate';
import type { ReplenishState } from './state';

/**
 * Repairs one NotReady node: cordons it (with the draining taint) and evicts what may go, once (a
 * node whose kubelet is gone cannot confirm its pods stopped: they end when the node does), then
 * terminates the instance without decrement so its ASG launches a replacement. The repair is
 * remembered first (one at a time per group, a cool-down apart). A node a pod holds
 * (do-not-disrupt, a pod the policy keeps) waits, named.
 */
export async function repairNode(
  deps: Deps,
  state: ReplenishState,
  repair: NonNullable<RepairPlan['repair']>,
  memory: GroupMemory,
): Promise<Record<string, unknown>> {
  const now = deps.now();
  const kube = await deps.kube();
  // Journaled before the cordon: a cordoned node is no NotReady member any more, so only this
  // record lets the next pass finish a repair whose termination failed.
  const journaled: GroupMemory = {
    ...memory,
    repairing: { instanceId: repair.instanceId, asg: repair.asg, node: repair.node, at: now },
  };
  await deps.lease.writeMemory(state.group, state.execution, journaled);
  const pass = await drainOnce(kube, repair.node, {
    cordonBy: executionName(state.execution),
    voluntary: groupSettings(groupOf(deps, state.group)).drain,
    now: deps.now,
    measures: deps.metrics,
  });
  if (pass.held.length) {
    const why = pass.held.flatMap((h) => h.pods).join('; ');
    await deps.lease.writeMemory(state.group, state.execution, {
      ...memory,
      podHeld: { ...(memory.podHeld ?? {}), [repair.instanceId]: { until: now + GIVE_BACK_RETRY_SECONDS * 1000, why } },
    });
    return { repairWaits: `${repair.node} (${repair.instanceId}) NotReady for ${repair.notReadyFor}s: ${why}` };
  }
  await deps.lease.writeMemory(state.group, state.execution, { ...journaled, lastRepairAt: now });
  const [outcome] = await terminateUnlessLeaving(
    deps.autoscaling,
    await deps.autoscaling.describeGroups({ names: [repair.asg] }),
    [repair.instanceId],
    false,
  );
  await deps.lease.writeMemory(state.group, state.execution, { ...memory, lastRepairAt: now });
  return {
    repaired:
      `${repair.node} (${repair.instanceId}, ${repair.asg}) NotReady for ${repair.notReadyFor}s: ` +
      `${pass.evicted.length} pod(s) evicted, ${outcome.outcome === 'terminated' ? 'terminated' : `already ${outcome.outcome}`}; ` +
      'its ASG replaces it',
    ...(pass.lost.length ? { podsLost: pass.lost } : {}),
  };
}

/**
 * A repair an earlier pass began and did not finish (its termination failed after the cordon):
 * its instance is terminated now, without decrement (its ASG replaces it), unless already leaving
 * or gone, and the record goes.
 */
export async function finishRepair(
  deps: Deps,
  state: ReplenishState,
  memory: GroupMemory,
): Promise<{ readonly memory: GroupMemory; readonly did?: string }> {
  const r = memory.repairing;
  if (!r) return { memory };
  const [outcome] = await terminateUnlessLeaving(
    deps.autoscaling,
    await deps.autoscaling.describeGroups({ names: [r.asg] }),
    [r.instanceId],
    false,
  );
  const { repairing: _done, ...rest } = memory;
  await deps.lease.writeMemory(state.group, state.execution, rest);
  return {
    memory: rest,
    did:
      `${r.node} (${r.instanceId}, ${r.asg}): the repair begun at ${new Date(r.at).toISOString()} is finished, ` +
      (outcome.outcome === 'terminated' ? 'terminated' : `already ${outcome.outcome}`),
  };
}
