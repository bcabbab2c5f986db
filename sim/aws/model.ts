import type { Ec2State, Role } from '../../lambdas/core';

/** The simulated region's records: ASGs, instances, Spot requests, activities, lifecycle hooks, and its timing. */

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
  /** The version of its ASG's launch template it was launched from. */
  readonly launchTemplateVersion?: number;
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

export const DETACH_SECONDS = 10;
/** How long an instance shows `EnteringStandby` (or `Pending` leaving standby without a launch hook). */
export const STANDBY_SECONDS = 10;
/** EC2 keeps terminated instances visible for about an hour. */
export const TERMINATED_VISIBLE_MS = 60 * 60 * 1000;

/** A Spot request's status changes (what DescribeSpotInstanceRequests then shows). */
/**
 * What EC2 does to an instance on its own or at someone's request, apart from Auto Scaling: a
 * Spot reclaim, a stop (and start), a rebalance recommendation. The group's reaction (a health
 * check, a Capacity Rebalancing launch) is the region's.
 */

export function setSpotStatus(
  request: SimSpotRequest,
  state: SimSpotRequest['state'],
  code: string,
  message: string,
  now: number,
): void {
  request.state = state;
  request.code = code;
  request.message = message;
  request.updatedAt = now;
}

/** A deployed stack as DescribeStacks shows it: what the operator's tools read its resources from. */
export interface SimStack {
  readonly stackName: string;
  readonly stackId: string;
  readonly description: string;
  readonly createdAt: number;
  readonly outputs: ReadonlyArray<{ readonly key: string; readonly value: string; readonly description?: string }>;
}

/** An instance as a snapshot read it, created as is (its id, zone, type, launch time and address). */
export interface PresetMember {
  readonly instanceId: string;
  readonly zone: string;
  readonly instanceType: string;
  readonly launchTime: number;
  readonly privateIp?: string;
}

/** Lifecycle states of members on their way out of their group (not counted toward its capacity). */
export const LEAVING = new Set([
  'Terminating',
  'Terminating:Wait',
  'Terminating:Proceed',
  'Terminated',
  'Detaching',
  'Detached',
  'Standby',
  'EnteringStandby',
]);
