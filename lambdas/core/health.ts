import { isLeavingAsgState } from './classify';
import type { AsgState, ScalingActivity } from './types';

export interface AsgHealth {
  readonly asg: string;
  readonly desired: number;
  /** Instances that count toward desired (not terminating, detaching or in standby). */
  readonly active: number;
  /** The newest failed scaling activity within the window, if any. */
  readonly lastFailure?: { readonly at: number; readonly message: string };
  readonly lastSuccessAt?: number;
  /** Desired equals active and no launch failed within the window since the last success. */
  readonly launchingNormally: boolean;
  /** Why the ASG is not launching normally, for humans. */
  readonly reason?: string;
}

function activityTime(a: ScalingActivity): number {
  return a.endTime ?? a.startTime;
}

/**
 * Health of one ASG as replenish and refresh need it: an ASG that is short of its desired
 * capacity, or whose recent launch failed and has not succeeded since, is not trusted with more.
 */
export function asgHealth(asg: AsgState, now: number, failureWindowSeconds: number): AsgHealth {
  const active = asg.instances.filter((i) => !isLeavingAsgState(i.lifecycleState)).length;
  const since = now - failureWindowSeconds * 1000;
  let lastFailure: AsgHealth['lastFailure'];
  let lastSuccessAt: number | undefined;
  for (const a of asg.activities) {
    const t = activityTime(a);
    if (a.statusCode === 'Failed' && t >= since && (!lastFailure || t > lastFailure.at)) {
      lastFailure = { at: t, message: a.statusMessage ?? a.description };
    } else if (a.statusCode === 'Successful' && (lastSuccessAt === undefined || t > lastSuccessAt)) {
      lastSuccessAt = t;
    }
  }
  const failing = lastFailure !== undefined && (lastSuccessAt === undefined || lastSuccessAt < lastFailure.at);
  const short = asg.desired !== active;
  const reason = failing
    ? `launch failed at ${new Date(lastFailure!.at).toISOString()}: ${lastFailure!.message}`
    : short
      ? `desired ${asg.desired} but ${active} active instances`
      : undefined;
  return {
    asg: asg.name,
    desired: asg.desired,
    active,
    lastFailure,
    lastSuccessAt,
    launchingNormally: !failing && !short,
    reason,
  };
}

/**
 * Back-off after consecutive launch failures of one ASG: 5 min, doubling, at most 30 min.
 * Zero failures means no back-off.
 */
export function launchBackoffSeconds(consecutiveFailures: number): number {
  if (consecutiveFailures <= 0) return 0;
  return Math.min(300 * 2 ** (consecutiveFailures - 1), 1800);
}
