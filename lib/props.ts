import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { z } from 'zod';
import { ClusterAccessSchema, describeIssues, InvalidConfigError } from './config/schema';
import { DeploymentGroupSchema, type DeploymentGroup } from './config/deployment';
import type { ClusterAccess } from '../lambdas/config';
import { DEFAULT_DRAIN_POLICY, type DrainPolicy } from '../lambdas/core';

export type { ClusterAccess } from '../lambdas/config';

export interface NodeGroupProps {
  /** The group's name, as executions name it in `{"group": ...}`. */
  readonly name: string;
  /** `worker`, or `control-plane` (refreshed in place, never substituted across AZs). */
  readonly role: 'worker' | 'control-plane';
  /** The group's ASGs by name (kops: one per AZ). Exactly one of `asgNames` and `asgTags`. */
  readonly asgNames?: readonly string[];
  /** Or the tags its ASGs carry (every one must match). Auto Scaling events then cannot start replenish: only its schedule does. */
  readonly asgTags?: Readonly<Record<string, string>>;
  /** Ready nodes the group must have. */
  readonly desiredReady: number;
  /**
   * Extra nodes added before a refresh replaces old ones (and the batch size): a count, or a
   * percentage of `desiredReady` such as `"10%"` (rounded up, at least one node).
   * @default 1 for workers, 0 for control-plane groups
   */
  readonly surplus?: number | string;
  /**
   * How long a drain may take before the refresh gives up safely (at most one hour).
   * @default Duration.minutes(10)
   */
  readonly drainTimeout?: Duration;
  /**
   * How long a new instance may take to become a Ready node (at most one hour).
   * @default Duration.minutes(15)
   */
  readonly joinTimeout?: Duration;
  /**
   * Quiet time after replenish changes an ASG.
   * @default Duration.minutes(5)
   */
  readonly cooldown?: Duration;
  /**
   * When the refresh runs: an EventBridge Scheduler cron expression (six fields) in an IANA time zone.
   * @default no scheduled refresh (start one with `aws stepfunctions start-execution`)
   */
  readonly refreshSchedule?: { readonly cron: string; readonly timeZone: string };
  /**
   * How often replenish runs from its schedule; `Duration.seconds(0)` turns the schedule off.
   * @default Duration.minutes(5)
   */
  readonly replenishInterval?: Duration;
  /**
   * A termination lifecycle hook (`node-manager-drain`) on each of the group's ASGs (needs
   * `asgNames`): every termination, whoever asks for it, waits in Terminating:Wait while the
   * interruption drain empties the node, kept alive with up to `maxHeartbeats` heartbeats.
   * @default no hook (Spot warnings, rebalance recommendations and unannounced stops are still drained)
   */
  readonly terminateHook?: {
    /** @default Duration.minutes(5) */
    readonly heartbeatTimeout?: Duration;
    /** @default 5 */
    readonly maxHeartbeats?: number;
  };
  /**
   * A launch lifecycle hook (`node-manager-launch`) on each of the group's ASGs (needs
   * `asgNames`): a new instance goes InService only once its node is Ready, and is abandoned
   * (the ASG launches another) when it is not Ready within `joinTimeout`.
   * @default false
   */
  readonly launchHook?: boolean;
  /**
   * What a voluntary drain (refresh, give-back, repair) does with pods that would not come back,
   * and with a drain past its timeout (see the README, "Drain policy").
   * @default { barePods: 'skip-node', emptyDir: 'evict', onTimeout: 'fail', quarantineSeconds: 21600 }
   */
  readonly drain?: Partial<DrainPolicy>;
  /**
   * How long the pods evicted from a batch may stay Pending before the next batch waits on them by name.
   * @default Duration.seconds(60)
   */
  readonly settleTime?: Duration;
  /**
   * How long a node may be NotReady, its instance running, before replenish repairs it (at least 2 minutes).
   * @default Duration.minutes(15)
   */
  readonly notReadyTimeout?: Duration;
  /**
   * The most NotReady nodes repair acts on, a count or a percentage of `desiredReady`; more is a
   * storm (a zone, a bad image) that repair names and leaves to a person.
   * @default '20%'
   */
  readonly repairMaxUnhealthy?: number | string;
  /**
   * CloudWatch alarm names (this account and region): while any is in ALARM, the group's voluntary
   * disruption pauses by itself (the circuit breaker), as Instance Refresh's alarm specification does.
   * @default no alarms
   */
  readonly alarms?: readonly string[];
  /**
   * What a refresh replaces by default: 'all' (every member older than its start) or 'outdated'
   * (launched from another launch template or version than its ASG's, or older than maxNodeAgeDays).
   * @default 'all'
   */
  readonly replace?: 'all' | 'outdated';
  /**
   * Members older than this many days count as outdated.
   * @default no age limit
   */
  readonly maxNodeAgeDays?: number;
  /**
   * After these shares of a refresh's old nodes are replaced, it waits bakeSeconds with the circuit breaker watching.
   * @default no checkpoints
   */
  readonly checkpoints?: { readonly percentages: readonly number[]; readonly bakeSeconds: number };
  /**
   * When a refresh may drain: it starts a batch only inside one of these windows (local days, "HH:MM",
   * a duration from "30m" to "24h", an IANA time zone); at a close the surplus goes back and the
   * refresh goes on in the next window.
   * @default no windows (any time)
   */
  readonly maintenanceWindows?: ReadonlyArray<{
    readonly days: ReadonlyArray<'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat'>;
    readonly start: string;
    readonly duration: string;
    readonly timeZone: string;
  }>;
}

export interface NodeManagerProps {
  /** The cluster's name; it names the resources and, by default, the tag its resources carry. */
  readonly clusterName: string;
  /** How the handlers reach the API server. */
  readonly access: ClusterAccess;
  /**
   * The tag every ASG and instance of this cluster carries: IAM allows Auto Scaling and EC2
   * mutations only on resources with it.
   * @default kubeconfig access (kops): `KubernetesCluster=<clusterName>`; EKS: `kubernetes.io/cluster/<eks cluster>=owned`
   */
  readonly resourceTag?: { readonly key: string; readonly value: string };
  /** The node groups to manage. */
  readonly groups: readonly NodeGroupProps[];
  /**
   * Place the functions in a VPC (for a cluster whose API endpoint is private).
   * @default not in a VPC
   */
  readonly vpcPlacement?: {
    readonly vpc: ec2.IVpc;
    readonly subnets?: ec2.SubnetSelection;
    readonly securityGroups?: ec2.ISecurityGroup[];
  };
  /**
   * Where the alarms are announced (undelivered events, failed and timed-out executions).
   * @default a topic this construct creates (output `AlarmTopicArn`), which synth names
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * An e-mail address subscribed to the topic this construct creates (ignored with `alarmTopic`:
   * subscribe to your own topic yourself). The address confirms the subscription first.
   * @default no subscription: synth says the topic has none
   */
  readonly alarmEmail?: string;
  /**
   * Send a summary to the alarm topic at the end of every refresh (success too), when replenish
   * acts, and when an interruption's node is drained.
   * @default true
   */
  readonly summaries?: boolean;
  /**
   * The alarms on node-manager's metrics (see the README's metrics table); any refused notice alarms too.
   * @default Ready below desired 15 minutes, substitutes held 6 hours, 20 evictions refused in 15 minutes
   */
  readonly metricAlarms?: MetricAlarmSettings;
  /**
   * Estimated history events after which a refresh continues in a fresh execution.
   * @default 20000
   */
  readonly historyEventBudget?: number;
  /**
   * What happens to the lease table (leases, journals, home layouts) when the stack goes.
   * @default RemovalPolicy.RETAIN
   */
  readonly leaseTableRemovalPolicy?: RemovalPolicy;
  /**
   * Drain nodes on Spot interruption warnings, rebalance recommendations, termination lifecycle
   * actions and unannounced stops (the interruption workflow and its EventBridge rules).
   * @default true
   */
  readonly interruptionDrain?: boolean;
  /**
   * How long function and execution logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Resolves props into the validated configuration shape, naming the field when something is wrong. */
function validateGroups(groups: readonly NodeGroupProps[]): DeploymentGroup[] {
  if (groups.length === 0) throw new InvalidConfigError('NodeManager: groups must name at least one node group');
  const seen = new Set<string>();
  return groups.map((g, i) => {
    const raw = {
      name: g.name,
      role: g.role,
      ...(g.asgNames ? { asgNames: [...g.asgNames] } : {}),
      ...(g.asgTags ? { asgTags: { ...g.asgTags } } : {}),
      desiredReady: g.desiredReady,
      surplus: g.surplus ?? (g.role === 'control-plane' ? 0 : 1),
      drainTimeoutSeconds: (g.drainTimeout ?? Duration.minutes(10)).toSeconds(),
      joinTimeoutSeconds: (g.joinTimeout ?? Duration.minutes(15)).toSeconds(),
      cooldownSeconds: (g.cooldown ?? Duration.minutes(5)).toSeconds(),
      ...(g.refreshSchedule ? { refreshSchedule: { ...g.refreshSchedule } } : {}),
      replenishEverySeconds: (g.replenishInterval ?? Duration.minutes(5)).toSeconds(),
      ...(g.terminateHook
        ? {
            terminateHook: {
              heartbeatTimeoutSeconds: (g.terminateHook.heartbeatTimeout ?? Duration.minutes(5)).toSeconds(),
              maxHeartbeats: g.terminateHook.maxHeartbeats ?? 5,
            },
          }
        : {}),
      launchHook: g.launchHook ?? false,
      drain: { ...DEFAULT_DRAIN_POLICY, ...(g.drain ?? {}) },
      settleSeconds: (g.settleTime ?? Duration.seconds(60)).toSeconds(),
      ...(g.alarms ? { alarms: [...g.alarms] } : {}),
      ...(g.replace ? { replace: g.replace } : {}),
      ...(g.maxNodeAgeDays !== undefined ? { maxNodeAgeDays: g.maxNodeAgeDays } : {}),
      ...(g.checkpoints
        ? { checkpoints: { percentages: [...g.checkpoints.percentages], bakeSeconds: g.checkpoints.bakeSeconds } }
        : {}),
      ...(g.maintenanceWindows
        ? { maintenanceWindows: g.maintenanceWindows.map((w) => ({ ...w, days: [...w.days] })) }
        : {}),
      notReadyTimeoutSeconds: (g.notReadyTimeout ?? Duration.minutes(15)).toSeconds(),
      repairMaxUnhealthy: g.repairMaxUnhealthy ?? '20%',
    };
    const r = DeploymentGroupSchema.safeParse(raw);
    if (!r.success)
      throw new InvalidConfigError(`NodeManager: groups[${g.name}] (index ${i}): ${describeIssues(r.error)}`);
    if (seen.has(g.name))
      throw new InvalidConfigError(`NodeManager: groups[${i}].name: group name ${g.name} is used twice`);
    seen.add(g.name);
    return r.data;
  });
}

/** The props checked: a wrong field stops synthesis with a message naming it and what is allowed. */
export function checkProps(props: NodeManagerProps): DeploymentGroup[] {
  const access = ClusterAccessSchema.safeParse(props.access);
  if (!access.success) throw new InvalidConfigError(`NodeManager: access: ${describeIssues(access.error)}`);
  const clusterName = z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/)
    .safeParse(props.clusterName);
  if (!clusterName.success)
    throw new InvalidConfigError(
      `NodeManager: clusterName: letters, digits, ".", "_" or "-", at most 63 characters; got "${props.clusterName}"`,
    );
  return validateGroups(props.groups);
}

/** Thresholds of the alarms on node-manager's metrics. */
export interface MetricAlarmSettings {
  /** Alarm when a group's Ready nodes stay below its desiredReady this long. @default 15 */
  readonly readyBelowDesiredMinutes?: number;
  /** Alarm when substitute capacity stays in place this long (its home zones have not recovered). @default 6 */
  readonly substituteHeldHours?: number;
  /** Alarm when this many evictions are refused within 15 minutes (a budget that never frees). @default 20 */
  readonly evictionsRefused?: number;
}
