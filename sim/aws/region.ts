import type { Random, VirtualClock } from '../clock';
import { Lifecycle } from './lifecycle';
import { InstanceFactory } from './instances';
import { LaunchTemplates } from './templates';
import { recordActivity } from './activities';
import {
  setSpotStatus,
  type AsgSpec,
  type CapacityCheck,
  LEAVING,
  type PresetMember,
  type InstanceHooks,
  type SimActivity,
  type SimAsg,
  type SimInstance,
  type SimLifecycleAction,
  type SimSpotRequest,
  type SimTiming,
} from './model';

/**
 * EC2 instances and Auto Scaling groups with the semantics node-manager relies on: an ASG
 * converges its instances to desired capacity, launches take time and can fail for want of
 * capacity (and are retried), terminations take time, and every change is a scaling activity.
 */
export class Region {
  readonly instances = new Map<string, SimInstance>();
  readonly asgs = new Map<string, SimAsg>();
  readonly spotRequests = new Map<string, SimSpotRequest>();
  /** Lifecycle hooks, detaching and standby (lifecycle.ts). */
  readonly lifecycle = new Lifecycle(this);
  readonly templates = new LaunchTemplates();
  /** Makes the instances launches need (instances.ts). */
  private readonly factory: InstanceFactory;

  constructor(
    readonly name: string,
    readonly clock: VirtualClock,
    readonly rng: Random,
    readonly timing: SimTiming,
    readonly hooks: InstanceHooks,
    private readonly capacity: CapacityCheck,
    /** Emits EventBridge events: Auto Scaling's (`EC2 Instance Launch Unsuccessful`, lifecycle actions) and EC2's state changes. */
    readonly emit: (
      source: 'aws.autoscaling' | 'aws.ec2',
      detailType: string,
      detail: Record<string, string>,
    ) => void = () => undefined,
  ) {
    this.factory = new InstanceFactory(this);
  }

  /** The next `count` instances launched (in the group and zone, when given) never join the cluster. */
  armNeverJoin(count: number, nodeGroup?: string, zone?: string): void {
    this.factory.armNeverJoin(count, nodeGroup, zone);
  }

  createAsg(
    spec: AsgSpec,
    options: { launchedAt?: number; ageSpreadMs?: number; members?: readonly PresetMember[] } = {},
  ): SimAsg {
    const asg: SimAsg = {
      name: spec.name,
      zones: [...spec.zones],
      desired: spec.desired,
      min: spec.min,
      max: spec.max,
      instanceTypes: [...spec.instanceTypes],
      lifecycle: spec.lifecycle,
      role: spec.role,
      nodeGroup: spec.nodeGroup,
      tags: { ...(spec.tags ?? {}) },
      createdTime: options.launchedAt ?? this.clock.now(),
      instanceIds: [],
      activities: [],
      retryPending: false,
      hooks: [],
      capacityRebalance: false,
    };
    this.asgs.set(asg.name, asg);
    if (options.members) {
      // The members a snapshot read: these ids, zones, types, launch times and addresses, InService.
      for (const m of options.members) {
        const inst = this.factory.create(asg, m.zone, m.instanceType, m.launchTime, m);
        inst.state = 'running';
        inst.asgLifecycle = 'InService';
        this.hooks.booted(inst, true);
      }
    } else if (options.launchedAt !== undefined) {
      // Pre-existing capacity: instances that booted long ago, already InService.
      for (let i = 0; i < asg.desired; i += 1) {
        const zone = asg.zones[i % asg.zones.length];
        const inst = this.factory.create(
          asg,
          zone,
          asg.instanceTypes[0],
          options.launchedAt + i * (options.ageSpreadMs ?? 60_000),
        );
        inst.state = 'running';
        inst.asgLifecycle = 'InService';
        this.hooks.booted(inst, true);
      }
    } else {
      this.reconcile(asg);
    }
    return asg;
  }

  activeInstances(asg: SimAsg): SimInstance[] {
    return asg.instanceIds
      .map((id) => this.instances.get(id)!)
      .filter((i) => !LEAVING.has(i.asgLifecycle ?? '') && !i.rebalanceReplacedBy);
  }

  inService(asg: SimAsg, inst: SimInstance, act: SimActivity): void {
    act.StatusCode = 'Successful';
    act.EndTime = this.clock.now();
    act.Progress = 100;
    inst.asgLifecycle = 'InService';
    // Capacity Rebalancing: the instance this one replaces goes now.
    for (const old of this.activeOrReplaced(asg)) {
      if (old.rebalanceReplacedBy === inst.id)
        this.terminate(
          old,
          `an instance was taken out of service in response to an EC2 instance rebalance recommendation.`,
        );
    }
  }

  private activeOrReplaced(asg: SimAsg): SimInstance[] {
    return asg.instanceIds.map((id) => this.instances.get(id)!).filter((i) => !!i.rebalanceReplacedBy);
  }

  activity(
    asg: SimAsg,
    description: string,
    cause: string,
    status: SimActivity['StatusCode'],
    statusMessage?: string,
  ): SimActivity {
    return recordActivity(asg, this.rng, this.clock.now(), { description, cause, status, statusMessage });
  }

  /** Converges the group to its desired capacity, as the Auto Scaling service does continuously. */
  reconcile(asg: SimAsg): void {
    if (!this.asgs.has(asg.name)) return;
    let active = this.activeInstances(asg);
    while (active.length > asg.desired) {
      const victim = this.pickScaleInVictim(active);
      this.terminate(
        victim,
        `a user request update of AutoScalingGroup constraints to min: ${asg.min}, max: ${asg.max}, desired: ` +
          `${asg.desired} changing the desired capacity from ${active.length} to ${asg.desired}`,
      );
      active = this.activeInstances(asg);
    }
    const missing = asg.desired - active.length;
    for (let i = 0; i < missing; i += 1) {
      if (!this.launchOne(asg)) {
        this.scheduleRetry(asg);
        break;
      }
    }
  }

  /** Default termination policy, simplified: the AZ with the most instances, then the oldest instance. */
  private pickScaleInVictim(active: SimInstance[]): SimInstance {
    const perZone = new Map<string, number>();
    for (const i of active) perZone.set(i.zone, (perZone.get(i.zone) ?? 0) + 1);
    const busiest = Math.max(...perZone.values());
    return active
      .filter((i) => perZone.get(i.zone) === busiest)
      .sort((a, b) => a.launchTime - b.launchTime || (a.id < b.id ? -1 : 1))[0];
  }

  launchOne(asg: SimAsg): boolean {
    const active = this.activeInstances(asg);
    // Balance across the group's AZs: the one with the fewest active instances that has capacity.
    const zones = [...asg.zones].sort(
      (a, b) =>
        active.filter((i) => i.zone === a).length - active.filter((i) => i.zone === b).length || (a < b ? -1 : 1),
    );
    let lastReason = '';
    for (const zone of zones) {
      for (const type of asg.instanceTypes) {
        const reason = this.capacity(zone, type, asg.lifecycle);
        if (reason) {
          lastReason = reason;
          continue;
        }
        const inst = this.factory.create(asg, zone, type, this.clock.now());
        const act = this.activity(
          asg,
          `Launching a new EC2 instance: ${inst.id}`,
          `an instance was started in response to a difference between desired and actual capacity, increasing ` +
            `the capacity from ${active.length} to ${active.length + 1}.`,
          'InProgress',
        );
        // A launch hook holds the instance in Pending:Wait from its launch (it boots, and its kubelet
        // joins, meanwhile); CONTINUE lets it go InService once booted (Pending:Proceed until then).
        const hook = asg.hooks.find((h) => h.transition === 'autoscaling:EC2_INSTANCE_LAUNCHING');
        if (hook) {
          this.lifecycle.hold(asg, inst, hook, act, () => {
            if (inst.booted) this.inService(asg, inst, act);
            else inst.asgLifecycle = 'Pending:Proceed';
          });
        }
        this.clock.after(Math.min(15, this.timing.bootSeconds), `${inst.id} running`, () => {
          if (inst.state === 'pending') inst.state = 'running';
        });
        this.clock.after(this.timing.bootSeconds, `${inst.id} InService`, () => {
          if (inst.state !== 'running' || !inst.asgLifecycle?.startsWith('Pending')) return;
          inst.booted = true;
          this.hooks.booted(inst, false);
          if (inst.asgLifecycle === 'Pending' || inst.asgLifecycle === 'Pending:Proceed')
            this.inService(asg, inst, act);
        });
        return true;
      }
    }
    const failed = this.activity(
      asg,
      `Launching a new EC2 instance.  Status Reason: ${lastReason}`,
      'an instance was started in response to a difference between desired and actual capacity.',
      'Failed',
      lastReason,
    );
    this.emit('aws.autoscaling', 'EC2 Instance Launch Unsuccessful', {
      AutoScalingGroupName: asg.name,
      ActivityId: failed.ActivityId,
      StatusCode: 'Failed',
      StatusMessage: lastReason,
    });
    return false;
  }

  private scheduleRetry(asg: SimAsg): void {
    if (asg.retryPending) return;
    asg.retryPending = true;
    this.clock.after(this.timing.launchRetrySeconds, `${asg.name} retry launch`, () => {
      asg.retryPending = false;
      this.reconcile(asg);
    });
  }

  /**
   * Begins terminating an instance: ASG Terminating, EC2 shutting-down, gone `shutdownSeconds`
   * later. A termination hook on its ASG first holds it in `Terminating:Wait` (still running, no
   * longer counted) until CompleteLifecycleAction or the heartbeat timeout; EC2 reclaiming a Spot
   * instance waits for nobody.
   */
  terminate(inst: SimInstance, cause: string, fromEc2 = false): SimActivity | undefined {
    if (inst.asgLifecycle === 'Terminating:Wait') {
      // EC2 (TerminateInstances, a Spot reclaim) does not wait for the hook.
      if (inst.interrupted || fromEc2) {
        inst.lifecycleAction = undefined;
        const asg = inst.asg ? this.asgs.get(inst.asg) : undefined;
        this.shutDown(
          inst,
          asg,
          asg?.activities.find(
            (a) => a.Description === `Terminating EC2 instance: ${inst.id}` && a.EndTime === undefined,
          ),
        );
      }
      return undefined;
    }
    if (inst.state === 'shutting-down' || inst.state === 'terminated') return undefined;
    // A launch still waiting on its hook is over: there is no action left to complete.
    if (inst.asgLifecycle === 'Pending:Wait') inst.lifecycleAction = undefined;
    const asg = inst.asg ? this.asgs.get(inst.asg) : undefined;
    const act = asg ? this.activity(asg, `Terminating EC2 instance: ${inst.id}`, cause, 'InProgress') : undefined;
    const hook = asg?.hooks.find((h) => h.transition === 'autoscaling:EC2_INSTANCE_TERMINATING');
    if (asg && act && hook && !inst.interrupted && !fromEc2) {
      this.lifecycle.hold(asg, inst, hook, act);
      return act;
    }
    this.shutDown(inst, asg, act);
    return act;
  }

  /** The lifecycle action holding this instance, if any. */
  lifecycleActionOf(inst: SimInstance): SimLifecycleAction | undefined {
    return inst.lifecycleAction;
  }

  /** Ends a lifecycle wait (CompleteLifecycleAction or a timeout): see hooks.ts. */
  endLifecycleAction(inst: SimInstance, result: 'CONTINUE' | 'ABANDON'): void {
    this.lifecycle.end(inst, result);
  }

  shutDown(inst: SimInstance, asg: SimAsg | undefined, act: SimActivity | undefined): void {
    if (inst.state === 'shutting-down' || inst.state === 'terminated') return;
    const request = inst.spotRequestId ? this.spotRequests.get(inst.spotRequestId) : undefined;
    if (request && request.state === 'active')
      setSpotStatus(
        request,
        'closed',
        'instance-terminated-by-user',
        'Spot Instance terminated due to user-initiated termination.',
        this.clock.now(),
      );
    if (asg && inst.asg) inst.asgLifecycle = 'Terminating';
    inst.state = 'shutting-down';
    this.emit('aws.ec2', 'EC2 Instance State-change Notification', { 'instance-id': inst.id, state: 'shutting-down' });
    this.hooks.stopping(inst);
    this.clock.after(this.timing.shutdownSeconds, `${inst.id} terminated`, () => {
      inst.state = 'terminated';
      inst.terminatedAt = this.clock.now();
      if (act) {
        act.StatusCode = 'Successful';
        act.EndTime = this.clock.now();
        act.Progress = 100;
      }
      if (asg) {
        asg.instanceIds = asg.instanceIds.filter((id) => id !== inst.id);
        inst.asgLifecycle = 'Terminated';
      }
      this.hooks.terminated(inst);
      if (asg)
        this.emit('aws.autoscaling', 'EC2 Instance Terminate Successful', {
          AutoScalingGroupName: asg.name,
          EC2InstanceId: inst.id,
          StatusCode: 'InProgress',
        });
    });
  }

  /** Detaches an instance (see lifecycle.ts). */
  detach(asg: SimAsg, inst: SimInstance, decrement: boolean): SimActivity {
    return this.lifecycle.detach(asg, inst, decrement);
  }

  /** An instance terminated outside its ASG (EC2 TerminateInstances, a Spot interruption): the ASG replaces it. */
  terminateFromEc2(inst: SimInstance, cause: string): void {
    const asg = inst.asg ? this.asgs.get(inst.asg) : undefined;
    this.terminate(inst, cause, true);
    if (asg) this.reconcile(asg);
  }
}
