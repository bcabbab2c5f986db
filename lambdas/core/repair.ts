import type { Classification } from './classify';
import type { GroupMemory } from './memory';
import type { GroupSettings, Member } from './types';

/** What a replenish pass does about nodes NotReady while their instance runs. */
export interface RepairPlan {
  /** The member to repair now: drained as far as it can be, terminated without decrement (its ASG replaces it). */
  readonly repair?: {
    readonly instanceId: string;
    readonly node: string;
    readonly asg: string;
    readonly notReadyFor: number;
  };
  /** Too many are NotReady: a storm (a zone, a bad image), not a node; named and left to a person. */
  readonly held?: { readonly nodes: readonly string[]; readonly reason: string };
  /** NotReady past the timeout, their instance running: give-back does not wait on these (repair owns them). */
  readonly owned: readonly string[];
}

/** Seconds a node has been NotReady (since its last Ready transition, or its registration). */
function notReadySeconds(m: Member, now: number): number {
  const since = m.node?.readySince ?? m.node?.createdAt ?? now;
  return Math.max(0, (now - since) / 1000);
}

/**
 * NotReady repair: a node NotReady longer than `notReadyTimeoutSeconds` while its instance runs
 * (InService, EC2 running) is repaired, one at a time per group (none while a replacement is still
 * launching, nor within the cool-down of the last repair), the longest NotReady first; a node a
 * pod holds (`avoid`) waits. While more than `repairMaxUnhealthy` members are NotReady, nothing is
 * repaired: the pass names them and ends.
 */
export function planRepair(
  c: Classification,
  settings: GroupSettings,
  memory: GroupMemory,
  now: number,
  avoid: ReadonlySet<string> = new Set(),
): RepairPlan {
  const sick = c.members
    .filter(
      (m) =>
        m.state === 'notReady' &&
        m.ec2State === 'running' &&
        m.asgLifecycleState === 'InService' &&
        notReadySeconds(m, now) > settings.notReadyTimeoutSeconds,
    )
    .sort((a, b) => notReadySeconds(b, now) - notReadySeconds(a, now));
  const owned = sick.map((m) => m.instanceId);
  if (sick.length === 0) return { owned };
  const notReady = c.members.filter((m) => m.state === 'notReady').length;
  if (notReady > settings.repairMaxUnhealthy)
    return {
      owned,
      held: {
        nodes: sick.map((m) => m.node!.name),
        reason:
          `${notReady} node(s) NotReady, more than repairMaxUnhealthy (${settings.repairMaxUnhealthy}): ` +
          'a zone or an image, not a node, is sick; left to a person',
      },
    };
  const launching = c.counts.notJoined > 0;
  const last = memory.lastRepairAt ?? Number.NEGATIVE_INFINITY;
  if (launching || now - last < settings.cooldownSeconds * 1000) return { owned };
  const next = sick.find((m) => !avoid.has(m.instanceId));
  if (!next) return { owned };
  return {
    owned,
    repair: {
      instanceId: next.instanceId,
      node: next.node!.name,
      asg: next.asg,
      notReadyFor: Math.round(notReadySeconds(next, now)),
    },
  };
}
