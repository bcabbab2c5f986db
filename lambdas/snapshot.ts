import { groupSettings, type GroupConfig } from './config';
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
 * Reads everything the planners need, once: the group's ASGs with their recent activities, the
 * cluster's nodes, and EC2's view of the instances the two do not already settle. A member in
 * service with a Ready node nobody of ours cordoned takes its order from its node and its state
 * from its ASG, so a look costs one DescribeInstances for the few launches in flight (none for an
 * idle group), not one per 200 members. The number of calls grows with ASGs and pages, never with
 * nodes one by one.
 */
export async function readSnapshot(
  ports: SnapshotPorts,
  group: string,
  selector: AsgSelector,
  now: number,
  /** Resolve `$Latest` / `$Default` template versions (one DescribeLaunchTemplates a template): what "outdated" needs. */
  resolveTemplates = false,
): Promise<Snapshot> {
  const [read, nodes] = await Promise.all([ports.autoscaling.readGroups(selector), ports.kube.listNodes()]);
  let asgs = read;
  const named = asgs.filter((a) => a.launchTemplate?.version.startsWith('$'));
  if (resolveTemplates && named.length) {
    const versions = await ports.ec2.describeLaunchTemplates(named.map((a) => a.launchTemplate!.id));
    asgs = asgs.map((a) => {
      const t = a.launchTemplate;
      const v = t ? versions.get(t.id) : undefined;
      if (!t || !v || !t.version.startsWith('$')) return a;
      return { ...a, launchTemplate: { ...t, resolvedVersion: t.version === '$Latest' ? v.latest : v.default } };
    });
  }
  const settled = new Set<string>();
  for (const n of nodes) {
    const ref = parseProviderId(n.providerID);
    if (ref && n.ready && !n.cordonedByUs) settled.add(ref.instanceId);
  }
  const ids = asgs.flatMap((a) =>
    a.instances
      .filter((i) => !(settled.has(i.instanceId) && i.lifecycleState === 'InService'))
      .map((i) => i.instanceId),
  );
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

export async function lookAtGroup(deps: Deps, group: string, resolveTemplates = false): Promise<GroupView> {
  const g = groupOf(deps, group);
  const now = deps.now();
  const snapshot = await readSnapshot(
    { autoscaling: deps.autoscaling, ec2: deps.ec2, kube: await deps.kube() },
    g.name,
    selectorOf(g),
    now,
    resolveTemplates,
  );
  return { g, settings: groupSettings(g), snapshot, c: classify(snapshot, now), now };
}
