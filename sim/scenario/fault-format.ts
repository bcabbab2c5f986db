import { z } from 'zod';

/** The scenario format's faults (format.ts holds the rest): what a scenario may do to the world, and when. */

/** `<n>s|m|h|d` → seconds. */
export const duration = z
  .string()
  .regex(/^\d+(\.\d+)?[smhd]$/, 'a duration such as "90s", "30m", "6h" or "1d"')
  .transform((s) => Number(s.slice(0, -1)) * { s: 1, m: 60, h: 3600, d: 86400 }[s.slice(-1) as 's' | 'm' | 'h' | 'd']);

const at = { at: duration.default(0) };
export const Fault = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('zoneOutage'), ...at, zone: z.string(), for: duration.optional() }).strict(),
  z
    .object({
      kind: z.literal('instanceTypeOutage'),
      ...at,
      instanceType: z.string(),
      zone: z.string().optional(),
      for: duration.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('neverJoin'),
      ...at,
      group: z.string(),
      zone: z.string().optional(),
      count: z.number().int().min(1),
    })
    .strict(),
  z
    .object({
      kind: z.literal('throttle'),
      ...at,
      operation: z.string(),
      rate: z.number().gt(0).max(1).optional(),
      times: z.number().int().min(1).optional(),
      for: duration.optional(),
    })
    .strict(),
  z.object({ kind: z.literal('callFailure'), ...at, operation: z.string(), times: z.number().int().min(1) }).strict(),
  z
    .object({ kind: z.literal('stepCrash'), ...at, state: z.string(), times: z.number().int().min(1).default(1) })
    .strict(),
  z.object({ kind: z.literal('pdbBlock'), ...at, workload: z.string(), for: duration }).strict(),
  /** An operator pauses the group (as the CLI does, through the same code), until resumed or for `for`. */
  z
    .object({
      kind: z.literal('pause'),
      ...at,
      group: z.string(),
      reason: z.string().default('paused'),
      for: duration.optional(),
    })
    .strict(),
  z.object({ kind: z.literal('resume'), ...at, group: z.string() }).strict(),
  /** The group's launch templates get a new version (`$Latest`): running members keep theirs, and are outdated. */
  z.object({ kind: z.literal('newLaunchTemplateVersion'), ...at, group: z.string() }).strict(),
  /** A CloudWatch alarm goes to ALARM (its state change delivered as the stack's rule does), back to OK after `for`. */
  z.object({ kind: z.literal('alarm'), ...at, name: z.string().min(1), for: duration.optional() }).strict(),
  /** The workload rolls out: its pods are replaced and spread over every schedulable node, new ones included. */
  z.object({ kind: z.literal('rollout'), ...at, workload: z.string() }).strict(),
  z
    .object({ kind: z.literal('stopExecution'), ...at, workflow: z.enum(['refresh', 'replenish', 'interruption']) })
    .strict(),
  /**
   * EC2 reclaims `count` Spot instances of the group in the zone (the warning, then the reclaim two
   * minutes later); `every`: again and again, for `for` (else until the scenario ends).
   */
  z
    .object({
      kind: z.literal('spotInterruption'),
      ...at,
      group: z.string(),
      zone: z.string(),
      count: z.number().int().min(1).default(1),
      every: duration.optional(),
      for: duration.optional(),
    })
    .strict(),
  /**
   * Someone stops `count` running on-demand instances of the group in the zone (StopInstances), and
   * starts them again after `for` if given. An ASG's health check replaces a member still stopped
   * `timing.healthCheckSeconds` after the stop.
   */
  z
    .object({
      kind: z.literal('instanceStop'),
      ...at,
      group: z.string(),
      zone: z.string(),
      count: z.number().int().min(1).default(1),
      for: duration.optional(),
    })
    .strict(),
  /** The kubelet of `count` running nodes of the group stops (NotReady, the instance still running); back after `for`. */
  z
    .object({
      kind: z.literal('nodeNotReady'),
      ...at,
      group: z.string(),
      zone: z.string().optional(),
      count: z.number().int().min(1).default(1),
      for: duration.optional(),
    })
    .strict(),
  /**
   * Someone allowed `states:StartExecution` starts a workflow with a crafted input, through the
   * Step Functions API as any caller would. In `input`, anywhere in a string: `$INSTANCE` and `$ASG`
   * become the instance id and ASG of the target group's first InService member (in `zone`, when
   * given); `$TIME` the fault's time (ISO 8601), `$TIME-110s` / `$TIME+1h` shifted by a duration.
   */
  z
    .object({
      kind: z.literal('startExecution'),
      ...at,
      workflow: z.enum(['refresh', 'replenish', 'interruption']),
      target: z.object({ group: z.string(), zone: z.string().optional() }).strict().optional(),
      name: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,80}$/, 'letters, digits, "-" and "_", at most 80')
        .optional(),
      input: z.unknown(),
    })
    .strict(),
  /** EC2 recommends rebalancing `count` Spot instances of the group in the zone (elevated interruption risk). */
  z
    .object({
      kind: z.literal('rebalanceRecommendation'),
      ...at,
      group: z.string(),
      zone: z.string(),
      count: z.number().int().min(1).default(1),
    })
    .strict(),
  /** A Spot instance of no managed group (a bastion, another cluster) gets its interruption warning. */
  z.object({ kind: z.literal('foreignInterruption'), ...at }).strict(),
  /** Someone (an operator, another tool) sets an ASG's desired capacity, raising MaxSize if needed. */
  z
    .object({
      kind: z.literal('scaleAsg'),
      ...at,
      group: z.string(),
      zone: z.string(),
      desired: z.number().int().min(0),
    })
    .strict(),
]);
