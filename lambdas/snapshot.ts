import type { Snapshot } from './core';
import type { AsgSelector, AutoScalingPort } from './aws/autoscaling';
import type { Ec2Port } from './aws/ec2';
import type { KubePort } from './kube/port';

export interface SnapshotPorts {
  readonly autoscaling: AutoScalingPort;
  readonly ec2: Ec2Port;
  readonly kube: KubePort;
}

/**
 * Reads everything the planners need, once: the group's ASGs with their recent activities, EC2's
 * view of their instances, and the cluster's nodes. The number of calls grows with ASGs and
 * pages, never with nodes one by one.
 */
export async function readSnapshot(ports: SnapshotPorts, group: string, selector: AsgSelector, now: number): Promise<Snapshot> {
  const [asgs, nodes] = await Promise.all([ports.autoscaling.readGroups(selector), ports.kube.listNodes()]);
  const instances = await ports.ec2.describeInstances(asgs.flatMap((a) => a.instances.map((i) => i.instanceId)));
  return { group, takenAt: now, asgs, instances, nodes };
}
