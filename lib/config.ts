import { z } from 'zod';
import type { GroupSettings } from '../lambdas/core';

/**
 * The deployment configuration: one cluster and its node groups. Shared by the CDK app (which
 * validates it at synth) and the handlers (which receive it as deployed), so both read one shape.
 */

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" or "-", starting with a letter or digit, at most 63 characters');

const groupFields = {
  name,
  role: z.enum(['control-plane', 'worker']),
  /** The group's ASGs by name (kops: one per AZ). */
  asgNames: z.array(z.string().min(1)).min(1).optional(),
  /** Or by tags: every tag must match. */
  asgTags: z.record(z.string().min(1), z.string()).optional(),
  desiredReady: z.number().int().min(0),
  surplus: z.number().int().min(0).max(100).default(1),
  drainTimeoutSeconds: z.number().int().min(30).max(3600).default(600),
  joinTimeoutSeconds: z.number().int().min(60).max(3600).default(900),
  cooldownSeconds: z.number().int().min(0).max(86_400).default(300),
};

function checkGroup(g: { asgNames?: unknown; asgTags?: unknown; role: string; surplus: number }, ctx: z.RefinementCtx): void {
  if (!g.asgNames === !g.asgTags) ctx.addIssue({ code: 'custom', path: ['asgNames'], message: 'set exactly one of asgNames or asgTags' });
  if (g.role === 'control-plane' && g.surplus !== 0) {
    ctx.addIssue({ code: 'custom', path: ['surplus'], message: 'control-plane groups refresh in place: surplus must be 0 (their etcd volumes are zonal)' });
  }
}

export const GroupConfigSchema = z.object(groupFields).strict().superRefine(checkGroup);

function uniqueGroupNames(c: { groups: ReadonlyArray<{ name: string }> }, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  c.groups.forEach((g, i) => {
    if (seen.has(g.name)) ctx.addIssue({ code: 'custom', path: ['groups', i, 'name'], message: `group name ${g.name} is used twice` });
    seen.add(g.name);
  });
}

export const ClusterAccessSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('eks'), clusterName: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('kubeconfig'), secretId: z.string().min(1) }).strict(),
]);

export const ConfigSchema = z
  .object({
    cluster: z.object({ name, region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as ap-northeast-1'), access: ClusterAccessSchema }).strict(),
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

export type GroupConfig = z.infer<typeof GroupConfigSchema>;

/** EventBridge Scheduler cron: six fields (minutes hours day-of-month month day-of-week year). */
const cron = z
  .string()
  .regex(/^\S+ \S+ \S+ \S+ \S+ \S+$/, 'an EventBridge cron expression with six fields, such as "0 3 ? * SUN *" (minutes hours day-of-month month day-of-week year)');
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as "Asia/Tokyo" or "UTC"');

export const DeploymentGroupSchema = z
  .object({
    ...groupFields,
    /** When the weekly (or other) refresh runs; none means refresh only by hand. */
    refreshSchedule: z.object({ cron, timeZone }).strict().optional(),
    /** Seconds between scheduled replenish passes; 0 turns the schedule off. */
    replenishEverySeconds: z.number().int().refine((n) => n === 0 || (n >= 60 && n <= 86_400), '0 (off) or 60 to 86400').default(300),
  })
  .strict()
  .superRefine(checkGroup);

export type DeploymentGroup = z.infer<typeof DeploymentGroupSchema>;

/**
 * The file an operator edits (see examples/config): the handlers' configuration plus what only
 * the deployment needs (account, schedules, placement, alarms). Validated by `cdk synth`.
 */
export const DeploymentConfigSchema = z
  .object({
    account: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id'),
    cluster: z
      .object({
        name,
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as ap-northeast-1'),
        access: ClusterAccessSchema,
        /** The tag every ASG and instance of this cluster carries; IAM allows mutations only on resources with it. */
        resourceTag: z.object({ key: z.string().min(1), value: z.string() }).strict().optional(),
      })
      .strict(),
    groups: z.array(DeploymentGroupSchema).min(1),
    /** Place the functions in a VPC (for a private API endpoint). */
    vpc: z
      .object({ vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'a VPC id such as vpc-0123456789abcdef0'), availabilityZones: z.array(z.string()).min(1), subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'subnet ids such as subnet-0123456789abcdef0')).min(1), securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, 'security group ids such as sg-0123456789abcdef0')).min(1) })
      .strict()
      .optional(),
    /** An SNS topic that hears about failed, timed-out and aborted executions. */
    alarmTopicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, 'an SNS topic ARN').optional(),
    historyEventBudget: z.number().int().min(500).max(20_000).default(20_000),
  })
  .strict()
  .superRefine(uniqueGroupNames);

export type DeploymentConfig = z.infer<typeof DeploymentConfigSchema>;

export function parseDeploymentConfig(raw: unknown, source = 'configuration'): DeploymentConfig {
  const r = DeploymentConfigSchema.safeParse(raw);
  if (!r.success) throw new InvalidConfigError(`invalid node-manager ${source}: ${describeIssues(r.error)}`);
  return r.data;
}

/** What the handlers receive: the deployment configuration without its deploy-only fields. */
export function handlerConfig(d: DeploymentConfig, leaseTable: string): Config {
  return parseConfig({
    cluster: { name: d.cluster.name, region: d.cluster.region, access: d.cluster.access },
    leaseTable,
    historyEventBudget: d.historyEventBudget,
    groups: d.groups.map(({ refreshSchedule: _r, replenishEverySeconds: _e, ...g }) => g),
  });
}
export type Config = z.infer<typeof ConfigSchema>;

/** Thrown when a configuration does not validate; the message names each field and what is allowed. */
export class InvalidConfigError extends Error {
  readonly name = 'InvalidConfig';
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

export function parseConfig(raw: unknown): Config {
  const r = ConfigSchema.safeParse(raw);
  if (!r.success) throw new InvalidConfigError(`invalid node-manager configuration: ${describeIssues(r.error)}`);
  return r.data;
}

export function groupSettings(g: GroupConfig): GroupSettings {
  return {
    name: g.name,
    role: g.role,
    desiredReady: g.desiredReady,
    surplus: g.surplus,
    drainTimeoutSeconds: g.drainTimeoutSeconds,
    joinTimeoutSeconds: g.joinTimeoutSeconds,
    cooldownSeconds: g.cooldownSeconds,
  };
}
