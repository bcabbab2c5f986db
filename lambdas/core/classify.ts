import { parseProviderId } from './providerId';
import type { AsgLifecycleState, Ec2State, Member, MemberState, NodeState, Snapshot } from './types';

/** ASG lifecycle states in which the instance no longer counts toward the group. */
const LEAVING_ASG_STATES: ReadonlySet<AsgLifecycleState> = new Set([
  'Terminating',
  'Terminating:Wait',
  'Terminating:Proceed',
  'Terminated',
  'Detaching',
  'Detached',
  'EnteringStandby',
  'Standby',
]);

const LEAVING_EC2_STATES: ReadonlySet<Ec2State> = new Set(['shutting-down', 'terminated', 'stopping', 'stopped']);

export function isLeavingAsgState(state: AsgLifecycleState): boolean {
  return LEAVING_ASG_STATES.has(state);
}

export interface Classification {
  /** One entry per ASG instance, oldest first (see {@link compareMembers}). */
  readonly members: readonly Member[];
  /** Nodes whose providerID names an instance of none of the group's ASGs. */
  readonly unmatchedNodes: readonly NodeState[];
  readonly counts: Readonly<Record<MemberState, number>>;
}

function stateOf(
  asgState: AsgLifecycleState,
  ec2State: Ec2State | undefined,
  node: NodeState | undefined,
): MemberState {
  if (isLeavingAsgState(asgState)) return 'leaving';
  if (ec2State !== undefined && LEAVING_EC2_STATES.has(ec2State)) return 'leaving';
  if (!node) return 'notJoined';
  if (node.cordonedByUs) return 'leaving';
  return node.ready ? 'ready' : 'notReady';
}

/**
 * Oldest first: by node creation, then launch time, then instance id so that the order is total
 * and two runs over the same snapshot pick the same nodes. Members without a node sort after
 * members with one, since a refresh only ever replaces joined nodes.
 */
export function compareMembers(a: Member, b: Member): number {
  const an = a.node?.createdAt ?? Number.POSITIVE_INFINITY;
  const bn = b.node?.createdAt ?? Number.POSITIVE_INFINITY;
  if (an !== bn) return an < bn ? -1 : 1;
  const al = a.launchTime ?? Number.POSITIVE_INFINITY;
  const bl = b.launchTime ?? Number.POSITIVE_INFINITY;
  if (al !== bl) return al < bl ? -1 : 1;
  return a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0;
}

/** Joins ASG instances, EC2 instances and nodes (by `spec.providerID`) and classifies each member. */
export function classify(snapshot: Snapshot, now: number): Classification {
  const ec2 = new Map(snapshot.instances.map((i) => [i.instanceId, i]));
  const nodeByInstance = new Map<string, NodeState>();
  for (const node of snapshot.nodes) {
    const ref = parseProviderId(node.providerID);
    if (ref) nodeByInstance.set(ref.instanceId, node);
  }

  const members: Member[] = [];
  const claimed = new Set<string>();
  for (const asg of snapshot.asgs) {
    for (const inst of asg.instances) {
      // An instance moving between groups can be listed twice for a moment; count it once.
      if (claimed.has(inst.instanceId)) continue;
      claimed.add(inst.instanceId);
      const info = ec2.get(inst.instanceId);
      const node = nodeByInstance.get(inst.instanceId);
      members.push({
        instanceId: inst.instanceId,
        asg: asg.name,
        zone: inst.zone,
        instanceType: info?.instanceType ?? inst.instanceType,
        lifecycle: info?.lifecycle,
        launchTime: info?.launchTime,
        asgLifecycleState: inst.lifecycleState,
        ec2State: info?.state,
        node,
        state: stateOf(inst.lifecycleState, info?.state, node),
        ageSeconds: info ? Math.max(0, Math.floor((now - info.launchTime) / 1000)) : 0,
        nodeAgeSeconds: node ? Math.max(0, Math.floor((now - node.createdAt) / 1000)) : undefined,
      });
    }
  }
  members.sort(compareMembers);

  const unmatchedNodes = snapshot.nodes.filter((n) => {
    const ref = parseProviderId(n.providerID);
    return !ref || !claimed.has(ref.instanceId);
  });
  const counts: Record<MemberState, number> = { ready: 0, notReady: 0, notJoined: 0, leaving: 0 };
  for (const m of members) counts[m.state] += 1;
  return { members, unmatchedNodes, counts };
}
