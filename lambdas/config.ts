import { NodeManagerError, type DrainPolicy, type GroupSettings, type Role, type Weekday } from './core';

/**
 * The handlers' configuration: one cluster and its node groups, as deployed. The types live here,
 * with the functions that read them; lib/config/ validates them with zod when the stack is
 * synthesized (defaults applied), so the functions, which get the validated configuration
 * inlined, do not carry zod (a fifth of a bundle) to validate it again.
 */

/** How the functions reach the cluster's API server. */
export type ClusterAccess =
  /** EKS: endpoint and CA from DescribeCluster, a bearer token from the functions' IAM role. */
  | { readonly kind: 'eks'; readonly clusterName: string }
  /** kops (or any cluster): a kubeconfig held in Secrets Manager (a token or client certificate; no exec plugins). */
  | { readonly kind: 'kubeconfig'; readonly secretId: string };

export interface GroupConfig {
  readonly name: string;
  readonly role: Role;
  /** The group's ASGs by name (kops: one per AZ). */
  readonly asgNames?: string[];
  /** Or by tags: every tag must match. */
  readonly asgTags?: Record<string, string>;
  readonly desiredReady: number;
  /** Extra nodes a refresh adds first, and its batch size: a count, or a percentage of desiredReady ("10%"). */
  readonly surplus: number | string;
  readonly drainTimeoutSeconds: number;
  readonly joinTimeoutSeconds: number;
  readonly cooldownSeconds: number;
  /** A termination lifecycle hook on the group's ASGs (the stack creates it). */
  readonly terminateHook?: { readonly heartbeatTimeoutSeconds: number; readonly maxHeartbeats: number };
  /** A launch lifecycle hook on the group's ASGs (the stack creates it). */
  readonly launchHook: boolean;
  /** What a voluntary drain does with bare pods, emptyDir pods, and a drain past its timeout. */
  readonly drain: DrainPolicy;
  readonly settleSeconds: number;
  readonly notReadyTimeoutSeconds: number;
  /** A count, or a percentage of desiredReady ("20%"). */
  readonly repairMaxUnhealthy: number | string;
  /** CloudWatch alarm names: while any is in ALARM, voluntary disruption of the group pauses (the circuit breaker). */
  readonly alarms?: string[];
  /** What a refresh replaces by default: every member older than its start, or only outdated ones. */
  readonly replace?: 'all' | 'outdated';
  /** Members older than this count as outdated (and a refresh with `replace: outdated` replaces them). */
  readonly maxNodeAgeDays?: number;
  /** After these shares of a refresh, wait `bakeSeconds` with the circuit breaker watching. */
  readonly checkpoints?: { percentages: number[]; bakeSeconds: number };
  /** When a refresh may drain batches (core/windows.ts); absent: any time. */
  readonly maintenanceWindows?: Array<{ days: Weekday[]; start: string; duration: string; timeZone: string }>;
}

export interface Config {
  readonly cluster: { readonly name: string; readonly region: string; readonly access: ClusterAccess };
  /** The DynamoDB table holding each group's lease. */
  readonly leaseTable: string;
  readonly groups: GroupConfig[];
  /** Estimated history events after which a refresh continues in a new execution. */
  readonly historyEventBudget: number;
  /** The topic the summaries go to (the alarm topic, from the environment); absent: no summaries. */
  readonly summaryTopic?: string;
}

/** Thrown when a configuration does not validate; the message names each field and what is allowed. */
export class InvalidConfigError extends NodeManagerError {
  readonly name = 'InvalidConfig';
}

/** The surplus in nodes: a count as given, a percentage of desiredReady rounded up (at least one node unless 0%). */
export function surplusCount(g: { readonly surplus: number | string; readonly desiredReady: number }): number {
  if (typeof g.surplus === 'number') return g.surplus;
  const pct = Number(g.surplus.slice(0, -1));
  return pct === 0 ? 0 : Math.max(1, Math.ceil((g.desiredReady * pct) / 100));
}

/** What the core's decisions read of a group's configuration. */
export function groupSettings(g: GroupConfig): GroupSettings {
  return {
    name: g.name,
    role: g.role,
    desiredReady: g.desiredReady,
    surplus: surplusCount(g),
    drainTimeoutSeconds: g.drainTimeoutSeconds,
    joinTimeoutSeconds: g.joinTimeoutSeconds,
    cooldownSeconds: g.cooldownSeconds,
    drain: g.drain,
    settleSeconds: g.settleSeconds,
    notReadyTimeoutSeconds: g.notReadyTimeoutSeconds,
    repairMaxUnhealthy: countOf(g.repairMaxUnhealthy, g.desiredReady),
  };
}

/** A count as given, or a percentage of `of` rounded down (at least one unless 0%). */
export function countOf(v: number | string, of: number): number {
  if (typeof v === 'number') return v;
  const pct = Number(v.slice(0, -1));
  return pct === 0 ? 0 : Math.max(1, Math.floor((of * pct) / 100));
}

/**
 * The configuration as the stack inlines it: validated when the stack was synthesized (the zod
 * schema of lib/config.ts, defaults applied), so the function does not carry zod to validate it
 * again; this shape check only catches a bundle built some other way, naming what is missing.
 */
export function bundledConfig(raw: unknown): Config {
  const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof Config, unknown>>;
  const cluster = (c.cluster ?? {}) as Record<string, unknown>;
  const missing = [
    ...(typeof cluster.name === 'string' && typeof cluster.region === 'string' && typeof cluster.access === 'object'
      ? []
      : ['cluster (name, region, access)']),
    ...(typeof c.leaseTable === 'string' ? [] : ['leaseTable']),
    ...(typeof c.historyEventBudget === 'number' ? [] : ['historyEventBudget']),
    ...(Array.isArray(c.groups) && c.groups.length > 0 ? [] : ['groups']),
    ...(Array.isArray(c.groups) ? c.groups : []).flatMap((g: Record<string, unknown>, i) =>
      ['name', 'role', 'desiredReady', 'surplus', 'drainTimeoutSeconds', 'joinTimeoutSeconds', 'cooldownSeconds']
        .filter((k) => g[k] === undefined)
        .map((k) => `groups.${i}.${k}`),
    ),
  ];
  if (missing.length)
    throw new InvalidConfigError(
      `the inlined configuration is not one the stack wrote (synthesize with the CDK app): missing ${missing.join(', ')}`,
    );
  return raw as Config;
}

/**
 * The configuration inlined into the bundle at deploy time (esbuild `define` of
 * `process.env.NODE_MANAGER_CONFIG`), so its size is not bound by Lambda's 4 KB environment limit;
 * the lease table's name, known only once deployed, comes from the environment.
 */
export function inlinedConfig(): Config {
  const inline = process.env.NODE_MANAGER_CONFIG;
  if (!inline)
    throw new InvalidConfigError(
      'no configuration: NODE_MANAGER_CONFIG is inlined into the bundle when the stack is synthesized',
    );
  const raw = JSON.parse(inline) as Record<string, unknown>;
  const table = process.env.NODE_MANAGER_LEASE_TABLE;
  const topic = process.env.NODE_MANAGER_SUMMARY_TOPIC;
  return bundledConfig({ ...raw, ...(table ? { leaseTable: table } : {}), ...(topic ? { summaryTopic: topic } : {}) });
}

/** What the operator's tools need of a group (the stack's `Groups` output, JSON): how to find it, and when it may act. */
export type OperatorGroup = Pick<
  GroupConfig,
  'name' | 'role' | 'asgNames' | 'asgTags' | 'desiredReady' | 'surplus' | 'maintenanceWindows'
>;

export function operatorGroups(groups: readonly OperatorGroup[]): OperatorGroup[] {
  return groups.map((g) => ({
    name: g.name,
    role: g.role,
    ...(g.asgNames ? { asgNames: g.asgNames } : {}),
    ...(g.asgTags ? { asgTags: g.asgTags } : {}),
    desiredReady: g.desiredReady,
    surplus: g.surplus,
    ...(g.maintenanceWindows?.length ? { maintenanceWindows: g.maintenanceWindows } : {}),
  }));
}
