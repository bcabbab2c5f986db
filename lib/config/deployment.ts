import cron from 'cron-validate';
import { z } from 'zod';
import {
  checkGroup,
  ClusterAccessSchema,
  describeIssues,
  groupFields,
  ianaTimeZone,
  InvalidConfigError,
  name,
  parseConfig,
  uniqueGroupNames,
  type Config,
} from './schema';

/**
 * The file an operator edits (see examples/config), checked at synth the way AWS will check it at
 * deploy: the handlers' configuration plus what only the deployment needs (account, schedules,
 * placement, alarms). Errors name the group by its name and say what is allowed.
 */

/** The regions node-manager can deploy to (every region with EventBridge Scheduler, Step Functions and EKS). */
export const AWS_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'cn-north-1',
  'cn-northwest-1',
] as const;

/**
 * EventBridge Scheduler's cron: six fields (minutes hours day-of-month month day-of-week year), ranges,
 * steps, lists, names, `L`, `W` and `#`, and `?` in exactly one of the two day fields.
 */
const cronExpression = z.string().superRefine((expr, ctx) => {
  if (/^\s*cron\s*\(/.test(expr)) {
    ctx.addIssue({
      code: 'custom',
      message: `write the six fields alone, without "cron( )": "${expr.replace(/^\s*cron\s*\(\s*|\s*\)\s*$/g, '')}"`,
    });
    return;
  }
  const r = cron(expr.trim(), { preset: 'aws-cloud-watch' });
  if (!r.isValid()) {
    const why = [
      ...new Set(
        r
          .getError()
          .map((e) =>
            e
              .replace(/ \(Input cron: .*\)$/, '')
              .replace(/when mustHaveBlankDayField option is enabled/, 'in one expression: put "?" in one of them'),
          ),
      ),
    ];
    ctx.addIssue({
      code: 'custom',
      message:
        `${why.join('; ')}; an EventBridge Scheduler cron has six fields (minutes hours day-of-month month ` +
        `day-of-week year), such as "0 3 ? * SUN *"`,
    });
    return;
  }
  // A refresh takes tens of minutes to hours: a start more often than hourly finds the last one running.
  const minutes = expr.trim().split(/\s+/)[0];
  if (!/^\d{1,2}$/.test(minutes))
    ctx.addIssue({
      code: 'custom',
      message:
        `a refresh may be scheduled at most hourly: the minutes field must be one minute such as "0" ` +
        `(got "${minutes}"), as in "0 3 ? * SUN *"`,
    });
});

export const DeploymentGroupSchema = z
  .object({
    ...groupFields,
    /** When the weekly (or other) refresh runs; none means refresh only by hand. */
    refreshSchedule: z.object({ cron: cronExpression, timeZone: ianaTimeZone }).strict().optional(),
    /** Seconds between scheduled replenish passes; 0 turns the schedule off. */
    replenishEverySeconds: z
      .number()
      .int()
      .refine(
        (n) => n === 0 || (n >= 60 && n <= 86_400 && n % 60 === 0),
        '0 (off), or whole minutes from 60 to 86400 seconds (EventBridge Scheduler rates are in minutes)',
      )
      .default(300),
  })
  .strict()
  .superRefine(checkGroup)
  .superRefine((g, ctx) => {
    // Replenish reaps quarantined nodes: without its schedule nothing would (a group named by tags has no other start).
    if (g.drain.onTimeout === 'quarantine' && g.replenishEverySeconds === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['drain', 'onTimeout'],
        message:
          '"quarantine" needs replenish to reap the quarantined nodes: set replenishEverySeconds above 0, ' +
          'or choose "fail", "skip" or "force"',
      });
  });

export type DeploymentGroup = z.infer<typeof DeploymentGroupSchema>;

/** An ASG belongs to one group: two groups refreshing or replenishing one ASG would undo each other. */
function oneGroupPerAsg(
  c: { groups: ReadonlyArray<{ name: string; asgNames?: readonly string[] }> },
  ctx: z.RefinementCtx,
): void {
  const owner = new Map<string, string>();
  c.groups.forEach((g, i) =>
    (g.asgNames ?? []).forEach((asg, j) => {
      const other = owner.get(asg);
      if (other !== undefined && other !== g.name)
        ctx.addIssue({
          code: 'custom',
          path: ['groups', i, 'asgNames', j],
          message: `ASG ${asg} is already in group ${other}; an ASG belongs to one group`,
        });
      owner.set(asg, g.name);
    }),
  );
}

/** The tag that fences every mutation must say "this cluster": the kops or EKS cluster tag, or a key naming the cluster. */
function clusterTag(
  c: { cluster: { name: string; resourceTag?: { key: string; value: string } } },
  ctx: z.RefinementCtx,
): void {
  const t = c.cluster.resourceTag;
  if (!t) return;
  const path = ['cluster', 'resourceTag'];
  if (/^aws:/i.test(t.key))
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'key'],
      message: '"aws:" tags are AWS\'s own and cannot identify a cluster',
    });
  else if (t.key === 'KubernetesCluster' ? t.value !== c.cluster.name : !t.key.includes(c.cluster.name)) {
    ctx.addIssue({
      code: 'custom',
      path,
      message:
        `must identify cluster ${c.cluster.name}: {"key": "KubernetesCluster", "value": ` +
        `"${c.cluster.name}"} (kops), {"key": "kubernetes.io/cluster/${c.cluster.name}", "value": "owned"} (EKS), ` +
        `or another key that names the cluster`,
    });
  }
  if (!t.value) ctx.addIssue({ code: 'custom', path: [...path, 'value'], message: 'must not be empty' });
}

export const DeploymentConfigSchema = z
  .object({
    account: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id'),
    cluster: z
      .object({
        name,
        region: z.enum(AWS_REGIONS, {
          error: () => `an AWS region such as ap-northeast-1 (one of ${AWS_REGIONS.join(', ')})`,
        }),
        access: ClusterAccessSchema,
        /** The tag every ASG and instance of this cluster carries; IAM allows mutations only on resources with it. */
        resourceTag: z
          .object({ key: z.string().min(1).max(128), value: z.string().max(256) })
          .strict()
          .optional(),
      })
      .strict(),
    groups: z.array(DeploymentGroupSchema).min(1),
    /** Place the functions in a VPC (for a private API endpoint). */
    vpc: z
      .object({
        vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'a VPC id such as vpc-0123456789abcdef0'),
        availabilityZones: z.array(z.string()).min(1),
        subnetIds: z
          .array(z.string().regex(/^subnet-[0-9a-f]+$/, 'subnet ids such as subnet-0123456789abcdef0'))
          .min(1),
        securityGroupIds: z
          .array(z.string().regex(/^sg-[0-9a-f]+$/, 'security group ids such as sg-0123456789abcdef0'))
          .min(1),
      })
      .strict()
      .optional(),
    /** An e-mail address subscribed to the alarm topic the stack creates (when no alarmTopicArn is given). */
    alarmEmail: z.email('an e-mail address such as ops@example.com').optional(),
    /** An SNS topic that hears the alarms (undelivered events, failed and timed-out executions). @default one the stack creates */
    alarmTopicArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, 'an SNS topic ARN')
      .optional(),
    historyEventBudget: z.number().int().min(500).max(20_000).default(20_000),
    /** A summary to the alarm topic at each refresh's end, replenish's acts and interruption drains. */
    summaries: z.boolean().default(true),
    /** The alarms on node-manager's metrics. */
    metricAlarms: z
      .object({
        readyBelowDesiredMinutes: z.number().int().min(5).max(1440).default(15),
        substituteHeldHours: z.number().int().min(1).max(24).default(6),
        evictionsRefused: z.number().int().min(1).max(10_000).default(20),
      })
      .strict()
      .default({ readyBelowDesiredMinutes: 15, substituteHeldHours: 6, evictionsRefused: 20 }),
  })
  .strict()
  .superRefine(uniqueGroupNames)
  .superRefine(oneGroupPerAsg)
  .superRefine(clusterTag)
  .superRefine((c, ctx) => {
    if (c.alarmEmail && c.alarmTopicArn)
      ctx.addIssue({
        code: 'custom',
        path: ['alarmEmail'],
        message: 'only with the topic the stack creates: with alarmTopicArn, subscribe to that topic yourself',
      });
  });

export type DeploymentConfig = z.infer<typeof DeploymentConfigSchema>;

/** Issues with groups named by their name: `groups[nodes].refreshSchedule.cron: …`. */
function describeDeploymentIssues(error: z.ZodError, raw: unknown): string {
  const groups = (raw as { groups?: Array<{ name?: unknown }> } | null)?.groups;
  return error.issues
    .map((i) => {
      const path = i.path.map(String);
      if (path[0] === 'groups' && path.length > 1) {
        const n = Array.isArray(groups) ? groups[Number(path[1])]?.name : undefined;
        const label = typeof n === 'string' && n.length <= 64 ? n : path[1];
        return `groups[${label}]${path.length > 2 ? `.${path.slice(2).join('.')}` : ''}: ${i.message}`;
      }
      return `${path.length ? path.join('.') : '(root)'}: ${i.message}`;
    })
    .join('; ');
}

export function parseDeploymentConfig(raw: unknown, source = 'configuration'): DeploymentConfig {
  const r = DeploymentConfigSchema.safeParse(raw);
  if (!r.success)
    throw new InvalidConfigError(`invalid node-manager ${source}: ${describeDeploymentIssues(r.error, raw)}`);
  return r.data;
}

/** What the handlers receive: the deployment configuration without its deploy-only fields. */
export function handlerConfig(d: Omit<DeploymentConfig, 'summaries' | 'metricAlarms'>, leaseTable: string): Config {
  return parseConfig({
    cluster: { name: d.cluster.name, region: d.cluster.region, access: d.cluster.access },
    leaseTable,
    historyEventBudget: d.historyEventBudget,
    groups: d.groups.map(({ refreshSchedule: _r, replenishEverySeconds: _e, ...g }) => g),
  });
}

export { describeIssues, InvalidConfigError };
