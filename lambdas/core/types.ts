/**
 * The vocabulary of DESIGN.md as plain data. Times are epoch milliseconds so that a snapshot
 * survives JSON (Step Functions state, the lease journal) without revival.
 */
import type { Resources } from './resources';

export type Role = 'control-plane' | 'worker';

/** What the operator configured for one node group. */
export interface GroupSettings {
  readonly name: string;
  readonly role: Role;
  /** Ready nodes the group must have. */
  readonly desiredReady: number;
  /** Extra nodes added before a refresh starts replacing; 0 replaces in place. */
  readonly surplus: number;
  readonly drainTimeoutSeconds: number;
  readonly joinTimeoutSeconds: number;
  /** Quiet time after a change to one ASG (the original's asgModifyCoolTimeSeconds). */
  readonly cooldownSeconds: number;
  /** What a voluntary drain does with bare pods, emptyDir pods, and a drain past its timeout. */
  readonly drain: DrainPolicy;
  /** Seconds the pods evicted from a batch may stay Pending before the next batch waits on them by name. */
  readonly settleSeconds: number;
  /** Seconds a node may be NotReady, its instance running, before replenish repairs it. */
  readonly notReadyTimeoutSeconds: number;
  /** The most NotReady nodes repair acts on; more is a storm that repair leaves to a person. */
  readonly repairMaxUnhealthy: number;
}

/**
 * A group's drain policy. `barePods`: pods without a controller (never recreated) hold their node
 * (`skip-node`, as kubectl drain refuses them without --force) or are evicted and named lost.
 * `emptyDir`: pods with emptyDir data are evicted and named (`evict`) or hold their node.
 * `onTimeout`: a drain past its timeout fails the refresh, is skipped (uncordoned, named), or forced
 * (what is left is deleted, each pod named), or quarantined: the instance goes to Standby (its ASG
 * launches a replacement), the node stays cordoned while its pods finish, and replenish reaps it once
 * it is empty or `quarantineSeconds` have passed.
 */
export interface DrainPolicy {
  readonly barePods: 'skip-node' | 'evict';
  readonly emptyDir: 'evict' | 'skip-node';
  readonly onTimeout: 'fail' | 'skip' | 'force' | 'quarantine';
  /** Absent in settings an earlier release passed: {@link DEFAULT_QUARANTINE_SECONDS}. */
  readonly quarantineSeconds?: number;
}

/** How long a quarantined node's pods may take to finish before it is reaped anyway: 6 hours. */
export const DEFAULT_QUARANTINE_SECONDS = 21_600;

export const DEFAULT_DRAIN_POLICY: DrainPolicy = {
  barePods: 'skip-node',
  emptyDir: 'evict',
  onTimeout: 'fail',
  quarantineSeconds: DEFAULT_QUARANTINE_SECONDS,
};

/** Lifecycle states as Auto Scaling reports them (`Pending`, `InService`, `Terminating`, ...). */
export type AsgLifecycleState = string;

export interface AsgInstance {
  readonly instanceId: string;
  readonly zone: string;
  readonly lifecycleState: AsgLifecycleState;
  readonly healthStatus: string;
  readonly instanceType?: string;
  readonly protectedFromScaleIn?: boolean;
  /** The launch template it was launched from (a resolved version number). */
  readonly launchTemplate?: LaunchTemplateRef;
}

/** A launch template by id and version ("3", or "$Latest" / "$Default" as a group may name it). */
export interface LaunchTemplateRef {
  readonly id: string;
  readonly version: string;
}

export type ActivityStatus =
  | 'PendingSpotBidPlacement'
  | 'WaitingForSpotInstanceRequestId'
  | 'WaitingForSpotInstanceId'
  | 'WaitingForInstanceId'
  | 'PreInService'
  | 'InProgress'
  | 'WaitingForELBConnectionDraining'
  | 'MidLifecycleAction'
  | 'WaitingForInstanceWarmup'
  | 'Successful'
  | 'Failed'
  | 'Cancelled'
  | 'WaitingForConnectionDraining';

export interface ScalingActivity {
  readonly activityId: string;
  readonly statusCode: ActivityStatus;
  readonly description: string;
  readonly statusMessage?: string;
  readonly startTime: number;
  readonly endTime?: number;
}

export interface AsgState {
  readonly name: string;
  readonly zones: readonly string[];
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly instances: readonly AsgInstance[];
  /**
   * The launch template new instances get (the group's own, or its mixed instances policy's), with
   * `$Latest` / `$Default` resolved to a number when the look resolved them.
   */
  readonly launchTemplate?: LaunchTemplateRef & { readonly resolvedVersion?: string };
  /** Recent scaling activities, any order. */
  readonly activities: readonly ScalingActivity[];
  readonly tags: Readonly<Record<string, string>>;
  /** Capacity Rebalancing: the ASG replaces an instance at elevated risk itself. */
  readonly capacityRebalance?: boolean;
}

export type Ec2State = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

export interface InstanceState {
  readonly instanceId: string;
  readonly zone: string;
  readonly instanceType: string;
  readonly lifecycle: 'spot' | 'on-demand';
  readonly launchTime: number;
  readonly state: Ec2State;
  readonly privateDnsName?: string;
  /** The Spot request that launched it, for a Spot instance. */
  readonly spotRequestId?: string;
  /** The instance's tags (an ASG's propagate; `aws:autoscaling:groupName` names it). */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface NodeState {
  readonly name: string;
  readonly providerID?: string;
  readonly ready: boolean;
  /** When the Ready condition last changed (its lastTransitionTime), when the API server says. */
  readonly readySince?: number;
  readonly unschedulable: boolean;
  readonly createdAt: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Cordoned by node-manager (our annotation), as opposed to by a person or another tool. */
  readonly cordonedByUs: boolean;
  /** The execution whose cordon mark the node carries (our annotation), if any. */
  readonly cordonedBy?: string;
  /** Its taints, node-manager's own and the unschedulable one left out. */
  readonly taints?: readonly NodeTaint[];
  /** status.allocatable (CPU in millicores, memory in bytes), when the API server reports it. */
  readonly allocatable?: Resources;
  /** An interruption drain's mark: what announced it (the taint's value) and when the node was marked. */
  readonly interruption?: { readonly kind: string; readonly at: number; readonly group: string };
}

export interface NodeTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
}

/** Everything the planners need, read once per step. */
export interface Snapshot {
  readonly group: string;
  readonly takenAt: number;
  readonly asgs: readonly AsgState[];
  /** EC2's view of the ASGs' instances; an instance may be missing (eventual consistency). */
  readonly instances: readonly InstanceState[];
  /** The cluster's nodes (all of them: the join decides which belong to the group). */
  readonly nodes: readonly NodeState[];
}

export type MemberState = 'ready' | 'notReady' | 'notJoined' | 'leaving';

export interface Member {
  readonly instanceId: string;
  readonly asg: string;
  readonly zone: string;
  readonly instanceType?: string;
  readonly lifecycle?: 'spot' | 'on-demand';
  readonly launchTime?: number;
  readonly asgLifecycleState: AsgLifecycleState;
  readonly ec2State?: Ec2State;
  readonly node?: NodeState;
  readonly state: MemberState;
  /** Seconds since launch (0 when EC2 has not reported the instance yet). */
  readonly ageSeconds: number;
  /** Seconds since the node registered, when it has. */
  readonly nodeAgeSeconds?: number;
}
