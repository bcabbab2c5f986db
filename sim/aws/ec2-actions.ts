import type { Region } from './region';
import { setSpotStatus, TERMINATED_VISIBLE_MS, type SimInstance } from './model';

/**
 * EC2 takes a Spot instance back: its request's status says so at once (for an instance that
 * terminates on interruption, `instance-terminated-no-capacity` while it runs its last two
 * minutes, as the EC2 user guide describes), and EC2 terminates it two minutes later.
 */
export function markSpotInterrupted(region: Region, inst: SimInstance): void {
  const request = inst.spotRequestId ? region.spotRequests.get(inst.spotRequestId) : undefined;
  if (request)
    setSpotStatus(
      request,
      'closed',
      'instance-terminated-no-capacity',
      'Spot Instance terminated due to no available capacity.',
      region.clock.now(),
    );
}

/**
 * Someone stops a running instance (StopInstances): EC2 shows it stopping, then stopped; its
 * kubelet stops. An InService member of an ASG is found unhealthy by the group's health check
 * (any state but running is, in the Auto Scaling user guide) `healthCheckSeconds` later and
 * replaced, unless it runs again by then. `startAfterSeconds`: it is started again then.
 */
export function stopInstance(region: Region, inst: SimInstance, startAfterSeconds?: number): void {
  if (inst.state !== 'running') return;
  inst.state = 'stopping';
  region.emit('aws.ec2', 'EC2 Instance State-change Notification', { 'instance-id': inst.id, state: 'stopping' });
  region.hooks.stopping(inst);
  region.clock.after(10, `${inst.id} stopped`, () => {
    if (inst.state !== 'stopping') return;
    inst.state = 'stopped';
    region.emit('aws.ec2', 'EC2 Instance State-change Notification', { 'instance-id': inst.id, state: 'stopped' });
  });
  region.clock.after(region.timing.healthCheckSeconds, `${inst.id} health check`, () => {
    const asg = inst.asg ? region.asgs.get(inst.asg) : undefined;
    if (
      !asg ||
      inst.asgLifecycle !== 'InService' ||
      inst.state === 'running' ||
      inst.state === 'shutting-down' ||
      inst.state === 'terminated'
    )
      return;
    inst.unhealthy = true;
    region.terminate(
      inst,
      'an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.',
    );
    region.reconcile(asg);
  });
  if (startAfterSeconds !== undefined) {
    region.clock.after(startAfterSeconds, `${inst.id} started`, () => {
      if (inst.state !== 'stopped' && inst.state !== 'stopping') return;
      inst.state = 'pending';
      region.emit('aws.ec2', 'EC2 Instance State-change Notification', { 'instance-id': inst.id, state: 'pending' });
      region.clock.after(15, `${inst.id} running`, () => {
        if (inst.state !== 'pending') return;
        inst.state = 'running';
        region.emit('aws.ec2', 'EC2 Instance State-change Notification', { 'instance-id': inst.id, state: 'running' });
        region.hooks.started(inst);
      });
    });
  }
}

/**
 * EC2 sees elevated risk for a Spot instance. With Capacity Rebalancing on, its ASG launches a
 * replacement first (the instance stops counting toward desired) and terminates the old one,
 * through its hooks, once the new one is InService; without a launch it keeps the old one.
 */
export function rebalanceRecommendation(region: Region, inst: SimInstance): void {
  region.emit('aws.ec2', 'EC2 Instance Rebalance Recommendation', { 'instance-id': inst.id });
  const asg = inst.asg ? region.asgs.get(inst.asg) : undefined;
  if (!asg?.capacityRebalance || inst.asgLifecycle !== 'InService' || inst.rebalanceReplacedBy) return;
  inst.rebalanceReplacedBy = 'launching';
  const before = new Set(asg.instanceIds);
  if (!region.launchOne(asg)) {
    inst.rebalanceReplacedBy = undefined;
    return;
  }
  inst.rebalanceReplacedBy = asg.instanceIds.find((id) => !before.has(id));
}

/** Forgets instances terminated more than an hour ago, as EC2's describe calls do. */
export function visibleInstances(region: Region): SimInstance[] {
  const now = region.clock.now();
  // Forgotten for good: a long run's describe calls must not grow with every instance it ever had.
  for (const [id, i] of region.instances)
    if (i.terminatedAt !== undefined && now - i.terminatedAt >= TERMINATED_VISIBLE_MS) region.instances.delete(id);
  return [...region.instances.values()];
}
