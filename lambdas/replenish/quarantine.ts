import { groupSettings } from '../config';
import { planQuarantine, type GroupMemory } from '../core';
import { drainOnce, executionName, uncordonAll } from '../drain';
import { groupOf } from '../input';
import type { Deps } from '../runtime';
import { terminateUnlessLeaving } from '../terminate';
import type { ReplenishState } from './state';

export interface QuarantinePass {
  /** The memory as this pass left it (written). */
  readonly memory: GroupMemory;
  /** What the pass did or waits for, one line a node; absent when nothing is quarantined. */
  readonly did?: readonly string[];
  /** Pods still running on a node reaped at its deadline: they end with it (named as it is terminated). */
  readonly podsLost?: readonly string[];
  /** A reap is moving an instance out of Standby or terminating it: the ASGs' sizes are the reap's until it is done. */
  readonly busy: boolean;
}

/**
 * Tends the nodes a refresh quarantined (core/quarantine.ts decides): at each pass, one eviction
 * round on each node still in Standby (a budget that refused may allow it now) and a look at what
 * is left; once empty, or past its deadline, ExitStandby (MaxSize raised first when needed), and at
 * a later pass, once InService, TerminateInstanceInAutoScalingGroup with decrement and MaxSize put
 * back. The memory is written before every call, so a pass cut short is finished by the next one.
 */
export async function tendQuarantine(deps: Deps, state: ReplenishState, memory: GroupMemory): Promise<QuarantinePass> {
  const entries = memory.quarantined ?? {};
  const ids = Object.keys(entries);
  if (ids.length === 0) return { memory, busy: false };
  const names = [...new Set(ids.map((id) => entries[id].asg))];
  const asgs = await deps.autoscaling.describeGroups({ names });
  // The pods left on each node in Standby, after one more eviction round.
  const left = new Map<string, string[]>();
  const policy = groupSettings(groupOf(deps, state.group)).drain;
  for (const id of ids) {
    const e = entries[id];
    const inStandby = asgs.some((a) => a.instances.some((i) => i.instanceId === id && i.lifecycleState === 'Standby'));
    if (e.phase !== 'standby' || !inStandby) continue;
    const pass = await drainOnce(await deps.kube(), e.node, {
      voluntary: policy,
      by: executionName(state.execution),
      now: deps.now,
      measures: deps.metrics,
    });
    left.set(id, pass.gone.length ? [] : [...pass.remaining]);
  }
  const plan = planQuarantine(entries, asgs, (id) => left.get(id), deps.now());
  const after: GroupMemory = { ...memory, quarantined: plan.entries };
  if (JSON.stringify(after.quarantined) !== JSON.stringify(entries))
    await deps.lease.writeMemory(state.group, state.execution, after);
  const did: string[] = [];
  const podsLost: string[] = [];
  let done = { ...plan.entries };
  for (const step of plan.steps) {
    const e = entries[step.instanceId];
    const asg = asgs.find((a) => a.name === e.asg);
    if (step.kind === 'exit') {
      if (step.raiseMaxTo !== undefined) await deps.autoscaling.updateSize(e.asg, { max: step.raiseMaxTo });
      await deps.autoscaling.exitStandby(e.asg, [step.instanceId]);
    } else if (step.kind === 'terminate') {
      await terminateUnlessLeaving(deps.autoscaling, asgs, [step.instanceId], true);
      // The pods its deadline found on it end with it now: named once, as its entry goes.
      podsLost.push(
        ...(plan.entries[step.instanceId]?.podsLeft ?? []).map((p) => `${p}: ended with its quarantined node`),
      );
      const maxFrom = plan.entries[step.instanceId]?.maxFrom;
      // MaxSize back as it was, unless desired (someone else's raise) needs it.
      if (maxFrom !== undefined && asg)
        await deps.autoscaling.updateSize(e.asg, { max: Math.max(maxFrom, asg.desired - 1) });
      const { [step.instanceId]: _gone, ...rest } = done;
      done = rest;
    } else if (step.kind === 'forget' && step.uncordon) {
      await uncordonAll(deps.kube, [step.uncordon]);
    }
    did.push(step.why);
  }
  const final: GroupMemory = { ...memory, quarantined: done };
  if (JSON.stringify(done) !== JSON.stringify(plan.entries))
    await deps.lease.writeMemory(state.group, state.execution, final);
  const busy = Object.values(done).some((e) => e.phase !== 'standby');
  return { memory: final, did, ...(podsLost.length ? { podsLost } : {}), busy };
}
