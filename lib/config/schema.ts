import { z } from 'zod';
import { InvalidConfigError, surplusCount, type Config, type GroupConfig } from '../../lambdas/config';
import { WEEKDAYS, windowSeconds } from '../../lambdas/core/windows';

export { groupSettings, InvalidConfigError, surplusCount, type Config, type GroupConfig } from '../../lambdas/config';

/**
 * The handlers' configuration: one cluster and its node groups, as deployed. The deployment file
 * an operator edits adds schedules and placement (lib/deployment-config.ts, synth only), so that
 * what validates them never reaches the Lambda bundle.
 */

export const name = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
    'letters, digits, ".", "_" or "-", starting with a letter or digit, at most 63 characters',
  );

/** IANA time zone names only ("Asia/Tokyo", "UTC"): abbreviations such as "JST" are refused, as EventBridge Scheduler refuses them. */
export const ianaTimeZone = z.string().refine((tz) => {
  if (tz === 'UTC' || tz === 'Etc/UTC') return true;
  if (!/^[A-Za-z]+(\/[A-Za-z0-9_+-]+)+$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone name such as "Asia/Tokyo", "Europe/Berlin" or "UTC" (not an abbreviation such as "JST")');

const maintenanceWindow = z
  .object({
    days: z
      .array(z.enum(WEEKDAYS, { error: `a day: one of ${WEEKDAYS.join(', ')}` }))
      .min(1, 'at least one day, such as ["sat", "sun"]'),
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time "HH:MM" (24-hour), such as "02:00"'),
    duration: z.string().refine((d) => {
      const s = windowSeconds(d);
      return s !== undefined && s >= 1800 && s <= 86_400;
    }, 'a duration from 30m to 24h, such as "3h", "90m" or "1h30m"'),
    timeZone: ianaTimeZone,
  })
  .strict();

export const groupFields = {
  name,
  role: z.enum(['control-plane', 'worker']),
  /** The group's ASGs by name (kops: one per AZ). */
  asgNames: z.array(z.string().min(1)).min(1).optional(),
  /** Or by tags: every tag must match. */
  asgTags: z.record(z.string().min(1), z.string()).optional(),
  desiredReady: z
    .number()
    .int()
    .min(0)
    .max(10_000, 'at most 10000 (an Auto Scaling group holds at most 10000 instances)'),
  /**
   * Extra nodes added before a refresh replaces old ones, and the batch size: a count, or a percentage of
   * desiredReady ("10%", at least one node).
   */
  surplus: z
    .union(
      [
        z.number().int().min(0).max(10_000, 'at most 10000'),
        z
          .string()
          .regex(
            /^(100|[1-9]?\d)%$/,
            'a count such as 2, or a percentage of desiredReady from 0% to 100% such as "10%"',
          ),
      ],
      {
        error: 'a count such as 2, or a percentage of desiredReady from 0% to 100% such as "10%"',
      },
    )
    .default(1),
  drainTimeoutSeconds: z.number().int().min(30).max(3600).default(600),
  joinTimeoutSeconds: z.number().int().min(60).max(3600).default(900),
  cooldownSeconds: z.number().int().min(0).max(86_400).default(300),
  /**
   * A termination lifecycle hook on the group's ASGs (the stack creates it): every termination
   * waits in Terminating:Wait until the node is drained. Absent: no hook.
   */
  terminateHook: z
    .object({
      /** Seconds the instance waits without a heartbeat (Auto Scaling allows 30–7200). */
      heartbeatTimeoutSeconds: z.number().int().min(30).max(7200).default(300),
      /** Heartbeats the drain may record to keep waiting, each restarting the timeout. */
      maxHeartbeats: z.number().int().min(0).max(99).default(5),
    })
    .strict()
    .optional(),
  /**
   * A launch lifecycle hook on the group's ASGs (the stack creates it): a new instance goes
   * InService only once its node is Ready, and is abandoned (the ASG launches another) when it is
   * not Ready within joinTimeoutSeconds.
   */
  launchHook: z.boolean().default(false),
  /** What a voluntary drain (refresh, give-back, repair) does with some pods, and past its timeout. */
  drain: z
    .object({
      /** Pods without a controller: hold their node (kubectl drain refuses them without --force), or evict them. */
      barePods: z.enum(['skip-node', 'evict']).default('skip-node'),
      /** Pods with emptyDir data: evict them (the data is lost, and named), or hold their node. */
      emptyDir: z.enum(['evict', 'skip-node']).default('evict'),
      /**
       * A drain past drainTimeoutSeconds: fail the refresh, skip the node, force its pods out, or
       * quarantine it (Standby: its ASG launches a replacement, the pods finish, replenish reaps it).
       */
      onTimeout: z
        .enum(['fail', 'skip', 'force', 'quarantine'], { error: () => 'one of "fail", "skip", "force", "quarantine"' })
        .default('fail'),
      /** Seconds a quarantined node's pods may take to finish before replenish reaps it anyway (and names them); 21600 when absent. */
      quarantineSeconds: z.number().int().min(300).max(604_800).optional(),
    })
    .strict()
    .default({ barePods: 'skip-node', emptyDir: 'evict', onTimeout: 'fail' }),
  /** Seconds the pods evicted from a batch may stay Pending before the next batch waits on them by name. */
  settleSeconds: z.number().int().min(0).max(3600).default(60),
  /** Seconds a node may be NotReady while its instance runs before replenish repairs it. */
  notReadyTimeoutSeconds: z.number().int().min(120).max(86_400).default(900),
  /** The most NotReady nodes repair acts on: a count, or a percentage of desiredReady. More is a storm left to a person. */
  repairMaxUnhealthy: z
    .union([
      z.number().int().min(0).max(10_000),
      z.string().regex(/^(100|[1-9]?\d)%$/, 'a count such as 2, or a percentage of desiredReady such as "20%"'),
    ])
    .default('20%'),
  /**
   * CloudWatch alarm names (this account and region): while any is in ALARM, the group's voluntary
   * disruption pauses by itself, as Instance Refresh's alarm specification does.
   */
  /**
   * When a refresh may drain: a batch starts only inside one of these windows; at the close the
   * batch in hand finishes, the surplus goes back, and the refresh goes on when the next opens.
   */
  maintenanceWindows: z.array(maintenanceWindow).min(1).max(20).optional(),
  /**
   * What a refresh replaces by default: `all` (every member older than its start) or `outdated`
   * (launched from another launch template or version than its ASG's, or older than maxNodeAgeDays).
   */
  replace: z.enum(['all', 'outdated'], { error: 'one of "all", "outdated"' }).optional(),
  /** After these shares of a refresh's old nodes are replaced, it waits bakeSeconds (the circuit breaker watching). */
  checkpoints: z
    .object({
      percentages: z
        .array(z.number().int().min(1).max(99), { error: 'percentages from 1 to 99, such as [10, 50]' })
        .min(1)
        .max(10)
        .refine((p) => p.every((x, i) => i === 0 || x > p[i - 1]), 'in ascending order, each once'),
      bakeSeconds: z.number().int().min(60).max(86_400),
    })
    .strict()
    .optional(),
  /** Members older than this many days count as outdated. */
  maxNodeAgeDays: z.number().int().min(1).max(3650).optional(),
  alarms: z
    .array(z.string().min(1).max(255), { error: 'a list of CloudWatch alarm names such as ["api-5xx"]' })
    .max(10, 'at most 10 alarms per group')
    .optional(),
};

export function checkGroup(
  g: {
    asgNames?: unknown;
    asgTags?: unknown;
    role: string;
    surplus: number | string;
    desiredReady: number;
    terminateHook?: unknown;
    launchHook?: boolean;
  },
  ctx: z.RefinementCtx,
): void {
  if (!g.asgNames === !g.asgTags)
    ctx.addIssue({ code: 'custom', path: ['asgNames'], message: 'set exactly one of asgNames or asgTags' });
  if (g.terminateHook && !g.asgNames)
    ctx.addIssue({
      code: 'custom',
      path: ['terminateHook'],
      message: 'the hook is created on each named ASG: name them with asgNames (not asgTags)',
    });
  if (g.launchHook && !g.asgNames)
    ctx.addIssue({
      code: 'custom',
      path: ['launchHook'],
      message: 'the hook is created on each named ASG: name them with asgNames (not asgTags)',
    });
  if (g.role === 'worker' && surplusCount(g) > g.desiredReady) {
    // The surplus is also the batch: more than the group would replace more nodes at once than it has.
    ctx.addIssue({
      code: 'custom',
      path: ['surplus'],
      message:
        `at most desiredReady (${g.desiredReady}): a surplus of ${surplusCount(g)} is also the batch size, ` +
        'more nodes at once than the group has',
    });
  }
  if (g.role === 'control-plane' && surplusCount(g) !== 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['surplus'],
      message: 'control-plane groups refresh in place: surplus must be 0 (their etcd volumes are zonal)',
    });
  }
}

export const GroupConfigSchema = z.object(groupFields).strict().superRefine(checkGroup);

export function uniqueGroupNames(c: { groups: ReadonlyArray<{ name: string }> }, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  c.groups.forEach((g, i) => {
    if (seen.has(g.name))
      ctx.addIssue({ code: 'custom', path: ['groups', i, 'name'], message: `group name ${g.name} is used twice` });
    seen.add(g.name);
  });
}

const ACCESS_KINDS = '{"kind": "eks", "clusterName": …} or {"kind": "kubeconfig", "secretId": …}';
export const ClusterAccessSchema = z.discriminatedUnion(
  'kind',
  [
    z
      .object({
        kind: z.literal('eks'),
        clusterName: z
          .string({ error: 'required for kind "eks": the EKS cluster\'s name' })
          .min(1, 'required for kind "eks": the EKS cluster\'s name'),
      })
      .strict(),
    z
      .object({
        kind: z.literal('kubeconfig'),
        secretId: z
          .string({
            error: 'required for kind "kubeconfig": the Secrets Manager secret (name or ARN) holding the kubeconfig',
          })
          .min(1, 'required for kind "kubeconfig": the Secrets Manager secret (name or ARN) holding the kubeconfig'),
      })
      .strict(),
  ],
  { error: `one of ${ACCESS_KINDS}` },
);

export const ConfigSchema = z
  .object({
    cluster: z
      .object({
        name,
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as ap-northeast-1'),
        access: ClusterAccessSchema,
      })
      .strict(),
    /** The DynamoDB table holding each group's lease. */
    leaseTable: z.string().min(3),
    groups: z.array(GroupConfigSchema).min(1),
    /**
     * Advanced: estimated history events after which a refresh continues in a new execution
     * (Step Functions stops an execution at 25,000; one batch adds at most ~4,500 with the longest timeouts).
     */
    historyEventBudget: z.number().int().min(500).max(20_000).default(20_000),
  })
  .strict()
  .superRefine(uniqueGroupNames);

/** True when A and B are the same type both ways. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// The schema's output is the functions' own types (lambdas/config.ts), field for field: a field
// added to one and not the other fails to compile here.
export const SCHEMA_MATCHES_TYPES: Same<z.infer<typeof GroupConfigSchema>, GroupConfig> &
  Same<z.infer<typeof ConfigSchema>, Config> = true;

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

export function parseConfig(raw: unknown): Config {
  const r = ConfigSchema.safeParse(raw);
  if (!r.success) throw new InvalidConfigError(`invalid node-manager configuration: ${describeIssues(r.error)}`);
  return r.data;
}
