import { AwsValidationError, isLeavingAsgState, ResourceNotFoundError } from './core';
import type { AsgState } from './core';
import type { AutoScalingPort } from './aws/autoscaling';

export interface Termination {
  readonly instanceId: string;
  /** What happened: terminated now (or put in Standby), or already on its way out (or gone) before we asked. */
  readonly outcome: 'terminated' | 'standby' | 'alreadyLeaving' | 'gone';
}

/**
 * Terminates instances through their ASG, skipping those the step's own read of the ASGs shows
 * leaving (Terminating*, Detaching...) or gone: AWS documents no answer to terminating an
 * instance that is already terminating, so node-manager never asks. An instance that began
 * leaving between the read and the call (a Spot reclaim, the ASG itself) is re-read on refusal
 * and counted as leaving rather than failing the step. Standby counts as leaving: an instance a
 * pass already put there is not asked again.
 */
export async function terminateUnlessLeaving(
  autoscaling: AutoScalingPort,
  asgs: readonly AsgState[],
  instanceIds: readonly string[],
  decrementDesired: boolean,
  /** Instances put in Standby instead (onTimeout: quarantine): the same checks, EnterStandby for the call. */
  standBy: ReadonlySet<string> = new Set(),
): Promise<Termination[]> {
  const stateOf = (groups: readonly AsgState[], id: string) =>
    groups.flatMap((a) => a.instances).find((i) => i.instanceId === id)?.lifecycleState;
  const out: Termination[] = [];
  for (const id of instanceIds) {
    const state = stateOf(asgs, id);
    if (state === undefined) {
      out.push({ instanceId: id, outcome: 'gone' });
      continue;
    }
    if (isLeavingAsgState(state)) {
      out.push({ instanceId: id, outcome: 'alreadyLeaving' });
      continue;
    }
    try {
      if (standBy.has(id)) {
        const asg = asgs.find((a) => a.instances.some((i) => i.instanceId === id))!;
        await autoscaling.enterStandby(asg.name, [id], decrementDesired);
        out.push({ instanceId: id, outcome: 'standby' });
        continue;
      }
      await autoscaling.terminateInstance(id, decrementDesired);
      out.push({ instanceId: id, outcome: 'terminated' });
    } catch (e) {
      if (e instanceof ResourceNotFoundError) {
        out.push({ instanceId: id, outcome: 'gone' });
        continue;
      }
      if (!(e instanceof AwsValidationError)) throw e;
      const names = asgs.filter((a) => a.instances.some((i) => i.instanceId === id)).map((a) => a.name);
      const now = stateOf(await autoscaling.describeGroups({ names }), id);
      if (now !== undefined && !isLeavingAsgState(now)) throw e;
      out.push({ instanceId: id, outcome: now === undefined ? 'gone' : 'alreadyLeaving' });
    }
  }
  return out;
}
