import type { Ec2State, Role } from '../../lambdas/core';
import type { Random, VirtualClock } from '../clock';

/** Timings of the simulated region and cluster, in seconds. */
export interface SimTiming {
  /** From launch to InService (and to the node registering). */
  readonly bootSeconds: number;
  /** From the node registering to it turning Ready. */
  readonly joinSeconds: number;
  /** From termination to EC2 `terminated` (and the ASG forgetting the instance). */
  readonly shutdownSeconds: number;
  /** How soon an ASG's health check finds an InService instance that is not running (stopped) and replaces it. */
  readonly healthCheckSeconds: number;
  /** From a pod being scheduled to it being Ready. */
  readonly podStartSeconds: number;
  /** From an eviction to the pod being gone (its termination grace period). */
  readonly podStopSeconds: number;
  /** How soon an ASG tries again after a failed launch. */
  readonly launchRetrySeconds: number;
}

export const DEFAULT_TIMING: SimTiming = {
  bootSeconds: 90,
  joinSeconds: 60,
  shutdownSeconds: 30,
  healthCheckSeconds: 120,
  podStartSeconds: 5,
  podStopSeconds: 5,
  launchRetrySeconds: 60,
};

export interface AsgSpec {
  readonly name: string;
  readonly zones: readonly string[];
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  /** Tried in order on each launch (a mixed-instances policy, simplified). */
  readonly instanceTypes: readonly string[];
  readonly lifecycle: 'spot' | 'on-demand';
  readonly role: Role;
  /** The node group (kops instance group) its nodes belong to. */
  readonly nodeGroup: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface SimInstance {
  readonly id: string;
  asg?: string;
  readonly zone: string;
  readonly instanceType: string;
  readonly lifecycle: 'spot' | 'on-demand';
  readonly launchTime: number;
  state: Ec2State;
  asgLifecycle?: string;
  readonly privateIp: string;
  readonly privateDnsName: string;
  readonly nodeGroup: string;
  readonly role: Role;
  /** Set by a neverJoin fault: the kubelet never registers. */
  readonly neverJoin: boolean;
  /** The kubelet registered (a Node exists or existed). */
  registered: boolean;
  /** Booted (its kubelet has started): a launch that a hook holds goes InService once completed. */
  booted?: boolean;
  terminatedAt?: number;
  /** Set when EC2 reclaimed the instance (a Spot interruption) rather than an API call ending it. */
  interrupted?: boolean;
  /** Set while a termination lifecycle hook holds the instance in `Terminating:Wait`. */
  lifecycleAction?: SimLifecycleAction;
  /** Capacity Rebalancing launched this instance's replacement: it no longer counts toward desired. */
  rebalanceReplacedBy?: string;
  /** Its ASG's health check found it unhealthy (a stopped instance): it is being replaced. */
  unhealthy?: boolean;
  /** The Spot request that launched it (Spot instances). */
  readonly spotRequestId?: string;
  /** Auto Scaling removes `aws:autoscaling:groupName` when the instance leaves its group. */
  readonly tags: Record<string, string>;
}

/** A Spot instance request, as DescribeSpotInstanceRequests shows it. */
export interface SimSpotRequest {
  readonly id: string;
  readonly instanceId?: string;
  readonly zone: string;
  state: 'open' | 'active' | 'closed' | 'cancelled' | 'failed' | 'disabled';
  code: string;
  message: string;
  readonly createdAt: number;
  updatedAt: number;
}

export interface SimActivity {
  readonly ActivityId: string;
  readonly AutoScalingGroupName: string;
  readonly Description: string;
  readonly Cause: string;
  readonly StartTime: number;
  EndTime?: number;
  StatusCode: 'InProgress' | 'MidLifecycleAction' | 'Successful' | 'Failed' | 'Cancelled';
  StatusMessage?: string;
  Progress: number;
}

export interface SimAsg {
  readonly name: string;
  readonly zones: readonly string[];
  desired: number;
  min: number;
  max: number;
  readonly instanceTypes: readonly string[];
  readonly lifecycle: 'spot' | 'on-demand';
  readonly role: Role;
  readonly nodeGroup: string;
  readonly tags: Record<string, string>;
  readonly createdTime: number;
  /** Members in the order they joined the group (terminating ones stay until terminated). */
  instanceIds: string[];
  /** Newest first, as DescribeScalingActivities returns them. */
  activities: SimActivity[];
  retryPending: boolean;
  /** Lifecycle hooks (PutLifecycleHook), by name. */
  hooks: SimHook[];
  /** Capacity Rebalancing: on a rebalance recommendation, launch a replacement first, then terminate the old instance. */
  capacityRebalance: boolean;
}

/** A lifecycle hook as Auto Scaling keeps it. */
export interface SimHook {
  readonly name: string;
  readonly transition: 'autoscaling:EC2_INSTANCE_TERMINATING' | 'autoscaling:EC2_INSTANCE_LAUNCHING';
  /** Seconds the instance waits for CompleteLifecycleAction or a heartbeat (30–7200). */
  readonly heartbeatTimeout: number;
  readonly defaultResult: 'CONTINUE' | 'ABANDON';
}

/** An instance waiting in `Terminating:Wait` for its hook. */
export interface SimLifecycleAction {
  readonly hook: SimHook;
  readonly token: string;
  readonly asg: string;
  readonly startedAt: number;
  /** When the heartbeat timeout ends the wait (each heartbeat moves it). */
  expiresAt: number;
  /** The global timeout: 100 × the heartbeat timeout or 48 hours, whichever is less. */
  readonly globalExpiresAt: number;
  heartbeats: number;
  /** For a launch: what CONTINUE does (the instance goes InService, once it has booted). */
  readonly launched?: () => void;
}

/** What the region tells the cluster about instances. */
export interface InstanceHooks {
  /** The instance booted (InService): its kubelet may register now. */
  booted(inst: SimInstance, preexisting: boolean): void;
  /** The instance started shutting down (or stopping): its kubelet stops. */
  stopping(inst: SimInstance): void;
  /** A stopped instance runs again: its kubelet starts and its node turns Ready again. */
  started(inst: SimInstance): void;
  /** The instance is gone: the cloud controller deletes its Node. */
  terminated(inst: SimInstance): void;
}

/** Why a launch fails now, or undefined when capacity is there. */
export type CapacityCheck = (zone: string, instanceType: string, lifecycle: 'spot' | 'on-demand') => string | undefined;

const LEAVING = new Set([
  'Terminating',
  'Terminating:Wait',
  'Terminating:Proceed',
  'Terminated',
  'Detaching',
  'Detached',
  'Standby',
  'EnteringStandby',
]);
/** Scaling activities a group keeps in its history (AWS keeps six weeks; the planners read the newest few). */
const ACTIVITY_HISTORY = 200;
/** How long an instance shows `Detaching` before it leaves its group. */
export const DETACH_SECONDS = 10;
/** EC2 keeps terminated instances visible for about an hour. */
export const TERMINATED_VISIBLE_MS = 60 * 60 * 1000;

/**
 * EC2 instances and Auto Scaling groups with the semantics node-manager relies on: an ASG
 * converges its instances to desired capacity, launches take time and can fail for want of
 * capacity (and are retried), terminations take time, and every change is a scaling activity.
 */
export class Region {
  readonly instances = new Map<string, SimInstance>();
  readonly asgs = new Map<string, SimAsg>();
  readonly spotRequests = new Map<string, SimSpotRequest>();
  private ipCounter = 10;
  private neverJoin: Array<{ nodeGroup?: string; zone?: string; remaining: number }> = [];

  constructor(
    readonly name: string,
    private readonly clock: VirtualClock,
    private readonly rng: Random,
    private readonly timing: SimTiming,
    private readonly hooks: InstanceHooks,
    private readonly capacity: CapacityCheck,
    /** Emits EventBridge events: Auto Scaling's (`EC2 Instance Launch Unsuccessful`, lifecycle actions) and EC2's state changes. */
    private readonly emit: (
      source: 'aws.autoscaling' | 'aws.ec2',
      detailType: string,
      detail: Record<string, string>,
    ) => void = () => undefined,
  ) {}

  /** The next `count` instances launched (in the group and zone, when given) never join the cluster. */
  armNeverJoin(count: number, nodeGroup?: string, zone?: string): void {
    this.neverJoin.push({ nodeGroup, zone, remaining: count });
  }

  createAsg(spec: AsgSpec, options: { launchedAt?: number; ageSpreadMs?: number } = {}): SimAsg {
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
    if (options.launchedAt !== undefined) {
      // Pre-existing capacity: instances that booted long ago, already InService.
      for (let i = 0; i < asg.desired; i += 1) {
        const zone = asg.zones[i % asg.zones.length];
        const inst = this.newInstance(
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

  private inService(asg: SimAsg, inst: SimInstance, act: SimActivity): void {
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

  private nextIp(): string {
    const n = this.ipCounter++;
    return `10.0.${Math.floor(n / 250) % 250}.${(n % 250) + 4}`;
  }

  private newInstance(asg: SimAsg, zone: string, instanceType: string, launchTime: number): SimInstance {
    const ip = this.nextIp();
    const rule = this.neverJoin.find(
      (r) => r.remaining > 0 && (!r.nodeGroup || r.nodeGroup === asg.nodeGroup) && (!r.zone || r.zone === zone),
    );
    if (rule) rule.remaining -= 1;
    const id = `i-0${this.rng.hex(16)}`;
    let spotRequestId: string | undefined;
    if (asg.lifecycle === 'spot') {
      spotRequestId = `sir-${this.rng.hex(8)}`;
      this.spotRequests.set(spotRequestId, {
        id: spotRequestId,
        instanceId: id,
        zone,
        state: 'active',
        code: 'fulfilled',
        message: 'Your spot request is fulfilled.',
        createdAt: launchTime,
        updatedAt: launchTime,
      });
    }
    const inst: SimInstance = {
      id,
      asg: asg.name,
      zone,
      instanceType,
      lifecycle: asg.lifecycle,
      launchTime,
      state: 'pending',
      asgLifecycle: 'Pending',
      privateIp: ip,
      privateDnsName: `ip-${ip.replace(/\./g, '-')}.${this.name}.compute.internal`,
      nodeGroup: asg.nodeGroup,
      role: asg.role,
      neverJoin: !!rule,
      registered: false,
      ...(spotRequestId ? { spotRequestId } : {}),
      tags: { ...asg.tags, 'aws:autoscaling:groupName': asg.name },
    };
    this.instances.set(inst.id, inst);
    asg.instanceIds.push(inst.id);
    return inst;
  }

  private activity(
    asg: SimAsg,
    description: string,
    cause: string,
    status: SimActivity['StatusCode'],
    statusMessage?: string,
  ): SimActivity {
    const now = this.clock.now();
    const a: SimActivity = {
      ActivityId: `${this.rng.hex(8)}-${this.rng.hex(4)}-${this.rng.hex(4)}-${this.rng.hex(4)}-${this.rng.hex(12)}`,
      AutoScalingGroupName: asg.name,
      Description: description,
      Cause: `At ${new Date(now).toISOString()} ${cause}`,
      StartTime: now,
      EndTime: status === 'InProgress' ? undefined : now,
      StatusCode: status,
      StatusMessage: statusMessage,
      Progress: status === 'InProgress' ? 30 : 100,
    };
    asg.activities.unshift(a);
    if (asg.activities.length > ACTIVITY_HISTORY) asg.activities.length = ACTIVITY_HISTORY;
    return a;
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

  private launchOne(asg: SimAsg): boolean {
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
        const inst = this.newInstance(asg, zone, type, this.clock.now());
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
          this.waitForHook(asg, inst, hook, act, () => {
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
      this.waitForHook(asg, inst, hook, act);
      return act;
    }
    this.shutDown(inst, asg, act);
    return act;
  }

  /**
   * Holds an instance for a lifecycle hook (Terminating:Wait or Pending:Wait) and emits the
   * lifecycle action event; the default result applies when the heartbeat (or global) timeout passes.
   */
  private waitForHook(asg: SimAsg, inst: SimInstance, hook: SimHook, act: SimActivity, launched?: () => void): void {
    const now = this.clock.now();
    const launching = hook.transition === 'autoscaling:EC2_INSTANCE_LAUNCHING';
    inst.asgLifecycle = launching ? 'Pending:Wait' : 'Terminating:Wait';
    act.StatusCode = 'MidLifecycleAction';
    const action: SimLifecycleAction = {
      hook,
      token: `${this.rng.hex(8)}-${this.rng.hex(4)}-${this.rng.hex(4)}-${this.rng.hex(4)}-${this.rng.hex(12)}`,
      asg: asg.name,
      startedAt: now,
      expiresAt: now + hook.heartbeatTimeout * 1000,
      globalExpiresAt: now + Math.min(100 * hook.heartbeatTimeout, 172_800) * 1000,
      heartbeats: 0,
      ...(launched ? { launched } : {}),
    };
    inst.lifecycleAction = action;
    this.emit(
      'aws.autoscaling',
      launching ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
      {
        Origin: launching ? 'EC2' : 'AutoScalingGroup',
        Destination: launching ? 'AutoScalingGroup' : 'EC2',
        LifecycleActionToken: action.token,
        AutoScalingGroupName: asg.name,
        LifecycleHookName: hook.name,
        EC2InstanceId: inst.id,
        LifecycleTransition: hook.transition,
      },
    );
    // Nobody answered: the default result when the heartbeat timeout (or the global one) passes.
    const check = () => {
      if (inst.lifecycleAction !== action) return;
      const due = Math.min(action.expiresAt, action.globalExpiresAt);
      if (this.clock.now() >= due) this.endLifecycleAction(inst, hook.defaultResult);
      else this.clock.at(due, `${inst.id} lifecycle timeout`, check);
    };
    this.clock.at(action.expiresAt, `${inst.id} lifecycle timeout`, check);
    if (!launching) this.reconcile(asg);
  }

  /**
   * Ends a lifecycle wait (CompleteLifecycleAction or a timeout). A termination goes on either way;
   * a launch goes InService on CONTINUE and is terminated on ABANDON (the ASG then launches again).
   */
  endLifecycleAction(inst: SimInstance, result: 'CONTINUE' | 'ABANDON'): void {
    const action = inst.lifecycleAction;
    if (!action) return;
    inst.lifecycleAction = undefined;
    const asg = this.asgs.get(action.asg);
    if (action.launched) {
      if (result === 'CONTINUE') return action.launched();
      const act = asg?.activities.find(
        (a) => a.Description === `Launching a new EC2 instance: ${inst.id}` && a.EndTime === undefined,
      );
      if (act) {
        act.StatusCode = 'Cancelled';
        act.EndTime = this.clock.now();
        act.StatusMessage =
          `Instance failed to complete user's Lifecycle Action: Lifecycle Action with token ` +
          `${action.token} was abandoned: Lifecycle Action Completed with ABANDON Result`;
      }
      inst.asgLifecycle = 'Terminating';
      this.shutDown(inst, asg, undefined);
      if (asg) this.reconcile(asg);
      return;
    }
    const act = asg?.activities.find(
      (a) => a.Description === `Terminating EC2 instance: ${inst.id}` && a.EndTime === undefined,
    );
    if (act) act.StatusCode = 'InProgress';
    this.shutDown(inst, asg, act);
  }

  /** The termination hook waiting for this instance, if any. */
  lifecycleActionOf(inst: SimInstance): SimLifecycleAction | undefined {
    return inst.lifecycleAction;
  }

  private shutDown(inst: SimInstance, asg: SimAsg | undefined, act: SimActivity | undefined): void {
    if (inst.state === 'shutting-down' || inst.state === 'terminated') return;
    const request = inst.spotRequestId ? this.spotRequests.get(inst.spotRequestId) : undefined;
    if (request && request.state === 'active')
      this.setSpotStatus(
        request,
        'closed',
        'instance-terminated-by-user',
        'Spot Instance terminated due to user-initiated termination.',
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

  setSpotStatus(request: SimSpotRequest, state: SimSpotRequest['state'], code: string, message: string): void {
    request.state = state;
    request.code = code;
    request.message = message;
    request.updatedAt = this.clock.now();
  }

  /**
   * EC2 takes a Spot instance back: its request's status says so at once (for an instance that
   * terminates on interruption, `instance-terminated-no-capacity` while it runs its last two
   * minutes, as the EC2 user guide describes), and EC2 terminates it two minutes later.
   */
  markSpotInterrupted(inst: SimInstance): void {
    const request = inst.spotRequestId ? this.spotRequests.get(inst.spotRequestId) : undefined;
    if (request)
      this.setSpotStatus(
        request,
        'closed',
        'instance-terminated-no-capacity',
        'Spot Instance terminated due to no available capacity.',
      );
  }

  /**
   * Someone stops a running instance (StopInstances): EC2 shows it stopping, then stopped; its
   * kubelet stops. An InService member of an ASG is found unhealthy by the group's health check
   * (any state but running is, in the Auto Scaling user guide) `healthCheckSeconds` later and
   * replaced, unless it runs again by then. `startAfterSeconds`: it is started again then.
   */
  stopInstance(inst: SimInstance, startAfterSeconds?: number): void {
    if (inst.state !== 'running') return;
    inst.state = 'stopping';
    this.emit('aws.ec2', 'EC2 Instance State-change Notification', { 'instance-id': inst.id, state: 'stopping' });
    this.hooks.stopping(inst);
    this.clock.after(10, `${inst.id} stopped`, () => {
      if (inst.state !== 'stopping') return;
      inst.state = 'stopped';
      this.emit('aws.ec2', 'EC2 Instance State-change Notification', { 'instance-id': inst.id, state: 'stopped' });
    });
    this.clock.after(this.timing.healthCheckSeconds, `${inst.id} health check`, () => {
      const asg = inst.asg ? this.asgs.get(inst.asg) : undefined;
      if (
        !asg ||
        inst.asgLifecycle !== 'InService' ||
        inst.state === 'running' ||
        inst.state === 'shutting-down' ||
        inst.state === 'terminated'
      )
        return;
      inst.unhealthy = true;
      this.terminate(
        inst,
        'an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.',
      );
      this.reconcile(asg);
    });
    if (startAfterSeconds !== undefined) {
      this.clock.after(startAfterSeconds, `${inst.id} started`, () => {
        if (inst.state !== 'stopped' && inst.state !== 'stopping') return;
        inst.state = 'pending';
        this.emit('aws.ec2', 'EC2 Instance State-change Notification', { 'instance-id': inst.id, state: 'pending' });
        this.clock.after(15, `${inst.id} running`, () => {
          if (inst.state !== 'pending') return;
          inst.state = 'running';
          this.emit('aws.ec2', 'EC2 Instance State-change Notification', { 'instance-id': inst.id, state: 'running' });
          this.hooks.started(inst);
        });
      });
    }
  }

  /**
   * EC2 sees elevated risk for a Spot instance. With Capacity Rebalancing on, its ASG launches a
   * replacement first (the instance stops counting toward desired) and terminates the old one,
   * through its hooks, once the new one is InService; without a launch it keeps the old one.
   */
  rebalanceRecommendation(inst: SimInstance): void {
    this.emit('aws.ec2', 'EC2 Instance Rebalance Recommendation', { 'instance-id': inst.id });
    const asg = inst.asg ? this.asgs.get(inst.asg) : undefined;
    if (!asg?.capacityRebalance || inst.asgLifecycle !== 'InService' || inst.rebalanceReplacedBy) return;
    inst.rebalanceReplacedBy = 'launching';
    const before = new Set(asg.instanceIds);
    if (!this.launchOne(asg)) {
      inst.rebalanceReplacedBy = undefined;
      return;
    }
    inst.rebalanceReplacedBy = asg.instanceIds.find((id) => !before.has(id));
  }

  /**
   * Detaches an instance: it shows `Detaching` (no longer counted toward desired) with an
   * InProgress activity, and leaves the group `DETACH_SECONDS` later; it keeps running outside any ASG.
   */
  detach(asg: SimAsg, inst: SimInstance, decrement: boolean): SimActivity {
    inst.asgLifecycle = 'Detaching';
    // Auto Scaling removes the tag naming the group from an instance it no longer holds.
    delete inst.tags['aws:autoscaling:groupName'];
    const act = this.activity(
      asg,
      `Detaching EC2 instance: ${inst.id}`,
      'an instance was detached in response to a user request' +
        (decrement
          ? `, shrinking the capacity from ${asg.desired + 1} to ${asg.desired}.`
          : ', keeping the capacity at the desired value.'),
      'InProgress',
    );
    this.clock.after(DETACH_SECONDS, `${inst.id} detached`, () => {
      asg.instanceIds = asg.instanceIds.filter((id) => id !== inst.id);
      inst.asg = undefined;
      inst.asgLifecycle = undefined;
      act.StatusCode = 'Successful';
      act.EndTime = this.clock.now();
      act.Progress = 100;
    });
    return act;
  }

  /** An instance terminated outside its ASG (EC2 TerminateInstances, a Spot interruption): the ASG replaces it. */
  terminateFromEc2(inst: SimInstance, cause: string): void {
    const asg = inst.asg ? this.asgs.get(inst.asg) : undefined;
    this.terminate(inst, cause, true);
    if (asg) this.reconcile(asg);
  }

  /** Forgets instances terminated more than an hour ago, as EC2's describe calls do. */
  visibleInstances(): SimInstance[] {
    const now = this.clock.now();
    // Forgotten for good: a long run's describe calls must not grow with every instance it ever had.
    for (const [id, i] of this.instances)
      if (i.terminatedAt !== undefined && now - i.terminatedAt >= TERMINATED_VISIBLE_MS) this.instances.delete(id);
    return [...this.instances.values()];
  }
}
