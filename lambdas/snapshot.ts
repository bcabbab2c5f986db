import type { GroupConfig } from '../lib/config';
import { groupSettings } from '../lib/settings';
import { classify, parseProviderId, type Classification, type GroupSettings, type Snapshot } from './core';
import { groupOf, selectorOf } from './input';
import type { Deps } from './runtime';
import type { AsgSelector, AutoScalingPort } from './aws/autoscaling';
import type { Ec2Port } from './aws/ec2';
import type { KubePort } from './kube/port';

export interface SnapshotPorts {
  readonly autoscaling: AutoScalingPort;
  readonly ec2: Ec2Port;
  readonly kube: KubePort;
}

/**
 * Which instances EC2 is asked about: `all`, or `unsettled`, only those the ASG and the cluster do
 * not already settle (in service with a Ready node nobody of ours cordoned). A settled member's
 * order comes from its node and its state from its ASG, so a refresh's looks cost one
 * DescribeInstances for the few launches in flight, not one per 200 members of the group.
 */
export type Ec2Scope = 'all' | 'unsettled';

/**
 * Reads everything the planners need, once: the group's ASGs with their recent activities, EC2's
 * view of their instances (within `scope`), and the cluster's nodes. The number of calls grows
 * with ASGs and pages, never with nodes one by one.
 */
export async function readSnapshot(ports: SnapshotPorts, group: string, selector: AsgSelector, now: number, scope: Ec2Scope = 'all'): Promise<Snapshot> {
  const [asgs, nodes] = await Promise.all([ports.autoscaling.readGroups(selector), ports.kube.listNodes()]);
  const settled = new Set<string>();
  if (scope === 'unsettled') {
    for (const n of nodes) {
      const ref = parseProviderId(n.providerID);
      if (ref && n.ready && !n.cordonedByUs) settled.add(ref.instanceId);
    }
  }
  const ids = asgs.flatMap((a) => a.instances.filter((i) => !(settled.has(i.instanceId) && i.lifecycleState === 'InService')).map((i) => i.instanceId));
  const instances = ids.length ? await ports.ec2.describeInstances(ids) : [];
  return { group, takenAt: now, asgs, instances, nodes };
}

/** A group as a step sees it: its configuration, settings, snapshot and classification at `now`. */
export interface GroupView {
  readonly g: GroupConfig;
  readonly settings: GroupSettings;
  readonly snapshot: Snapshot;
  readonly c: Classification;
  readonly now: number;
}

export async function lookAtGroup(deps: Deps, group: string, scope: Ec2Scope = 'all'): Promise<GroupView> {
  const g = groupOf(deps, group);
  const now = deps.now();
  const snapshot = await readSnapshot({ autoscaling: deps.autoscaling, ec2: deps.ec2, kube: await deps.kube() }, g.name, selectorOf(g), now, scope);
  return { g, settings: groupSettings(g), snapshot, c: classify(snapshot, now), now };
}
