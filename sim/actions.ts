import { markSpotInterrupted, rebalanceRecommendation as recommend, stopInstance } from './aws/ec2-actions';
import type { Simulator } from './simulator';

/**
 * What happens to a node group from outside node-manager, as a scenario's faults make it happen:
 * Spot reclaims, stops, rebalance recommendations, a kubelet that fails, another cluster's notice.
 * Each acts on the simulator's world and returns the instances it chose.
 */

/**
 * EC2 reclaims `count` running Spot instances of the group in the zone: the interruption warning
 * now, the termination two minutes later; their ASGs then replace them like any lost instance.
 */
export function spotInterruption(sim: Simulator, group: string, zone: string, count: number): string[] {
  const victims = sim
    .asgsOf(group)
    .flatMap((a) => a.instanceIds.map((id) => sim.region.instances.get(id)!))
    .filter((i) => i.zone === zone && i.lifecycle === 'spot' && i.state === 'running' && i.asgLifecycle === 'InService')
    .slice(0, count);
  for (const inst of victims) {
    markSpotInterrupted(sim.region, inst);
    sim.bus.emit({
      at: sim.now(),
      source: 'aws.ec2',
      detailType: 'EC2 Spot Instance Interruption Warning',
      detail: { 'instance-id': inst.id, 'instance-action': 'terminate' },
    });
    sim.clock.after(120, `${inst.id} reclaimed`, () => {
      inst.interrupted = true;
      sim.region.terminateFromEc2(
        inst,
        'an instance was taken out of service in response to an EC2 instance status check failure (Spot interruption).',
      );
    });
  }
  return victims.map((v) => v.id);
}

/**
 * Someone stops `count` running on-demand instances of the group in the zone (StopInstances; a
 * Spot instance of a one-time request cannot be stopped), and starts them again after
 * `startAfterSeconds` if given. Returns the instances stopped.
 */
export function stopInstances(
  sim: Simulator,
  group: string,
  zone: string,
  count: number,
  startAfterSeconds?: number,
): string[] {
  const victims = sim
    .asgsOf(group)
    .flatMap((a) => a.instanceIds.map((id) => sim.region.instances.get(id)!))
    .filter(
      (i) => i.zone === zone && i.lifecycle === 'on-demand' && i.state === 'running' && i.asgLifecycle === 'InService',
    )
    .slice(0, count);
  for (const inst of victims) stopInstance(sim.region, inst, startAfterSeconds);
  return victims.map((v) => v.id);
}

/**
 * The kubelet of `count` running nodes of the group (in the zone, if given) stops while the
 * instance keeps running; back after `forSeconds`, if given. Returns the instances.
 */
export function nodeNotReady(
  sim: Simulator,
  group: string,
  zone: string | undefined,
  count: number,
  forSeconds?: number,
): string[] {
  const victims = sim
    .asgsOf(group)
    .flatMap((a) => a.instanceIds.map((id) => sim.region.instances.get(id)!))
    .filter(
      (i) =>
        (!zone || i.zone === zone) &&
        i.state === 'running' &&
        i.asgLifecycle === 'InService' &&
        !!sim.cluster.nodeOf(i.id)?.ready,
    )
    .slice(0, count);
  for (const inst of victims) sim.cluster.kubeletFails(inst, forSeconds);
  return victims.map((v) => v.id);
}

/** EC2 warns of elevated interruption risk for `count` running Spot instances of the group in the zone. */
export function rebalanceRecommendation(sim: Simulator, group: string, zone: string, count: number): string[] {
  const victims = sim
    .asgsOf(group)
    .flatMap((a) => a.instanceIds.map((id) => sim.region.instances.get(id)!))
    .filter(
      (i) =>
        i.zone === zone &&
        i.lifecycle === 'spot' &&
        i.state === 'running' &&
        i.asgLifecycle === 'InService' &&
        !i.rebalanceReplacedBy,
    )
    .slice(0, count);
  for (const inst of victims) recommend(sim.region, inst);
  return victims.map((v) => v.id);
}

/** A Spot instance of no managed group (a bastion, another cluster's node) is reclaimed. */
export function foreignInterruption(sim: Simulator): string {
  const id = `i-0${sim.rng.hex(16)}`;
  sim.bus.emit({
    at: sim.now(),
    source: 'aws.ec2',
    detailType: 'EC2 Spot Instance Interruption Warning',
    detail: { 'instance-id': id, 'instance-action': 'terminate' },
  });
  return id;
}
