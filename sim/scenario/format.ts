import { z } from 'zod';
import { NodeManagerError, parseQuantity } from '../../lambdas/core';
import { describeIssues, groupFields } from '../../lib/config/schema';
import { duration, Fault } from './fault-format';

/**
 * The scenario format: what a scenario file may say (zod, with the errors a user reads), and its
 * JSON Schema for editors. Running one is scenario.ts.
 */

/** `{"cpu": "500m", "memory": "1Gi"}`: Kubernetes quantities, checked as the API server would. */
const quantity = z.string().superRefine((v, ctx) => {
  try {
    parseQuantity(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});
const quantities = z
  .object({ cpu: quantity.optional(), memory: quantity.optional(), pods: quantity.optional() })
  .strict()
  .transform((q) => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as Record<string, string>);

const zoneName = z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, 'an availability zone such as ap-northeast-1a');
const isoTime = z
  .string()
  .refine((t) => Number.isFinite(Date.parse(t)), 'an ISO 8601 time such as "2026-11-07T00:00:00Z"');

/** An ASG as `node-manager snapshot` read it: its sizes and its very members. */
const SnapshotAsg = z
  .object({
    name: z.string().min(1),
    zones: z.array(zoneName).min(1),
    desired: z.number().int().min(0),
    min: z.number().int().min(0),
    max: z.number().int().min(0),
    instanceTypes: z.array(z.string()).min(1).optional(),
    members: z.array(
      z
        .object({
          instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/, 'an instance id such as i-0123456789abcdef0'),
          zone: zoneName,
          instanceType: z.string().min(1),
          launchedAt: isoTime,
          privateIp: z.ipv4().optional(),
        })
        .strict(),
    ),
  })
  .strict()
  .superRefine((a, ctx) => {
    a.members.forEach((m, i) => {
      if (!a.zones.includes(m.zone))
        ctx.addIssue({
          code: 'custom',
          path: ['members', i, 'zone'],
          message: `not one of the ASG's zones ${a.zones.join(', ')}`,
        });
    });
    if (a.min > a.desired || a.desired > a.max)
      ctx.addIssue({
        code: 'custom',
        path: ['desired'],
        message: `min ${a.min} <= desired ${a.desired} <= max ${a.max} is needed`,
      });
  });

const GroupSpec = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and "-"'),
    role: z.enum(['worker', 'control-plane']),
    zones: z.array(zoneName).min(1),
    /** Each ASG's starting (home) desired capacity (one ASG per zone). Required unless `asgs` is given. */
    perZone: z.number().int().min(0).optional(),
    /** The ASGs and their members as a snapshot read them (`node-manager snapshot`), instead of `perZone`. */
    asgs: z.array(SnapshotAsg).min(1).optional(),
    /** The group's lease memory at the start (its learned waits), as a snapshot read it. */
    memory: z
      .object({
        learned: z
          .object({
            readySeconds: z.array(z.number().min(0)).optional(),
            drainSeconds: z.number().min(0).optional(),
            budgetSeconds: z.number().min(0).optional(),
            drainStreak: z.number().int().min(0).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    /** Each ASG's MaxSize. @default perZone (as kops sets it) */
    maxPerZone: z.number().int().min(0).optional(),
    /** Each ASG's MinSize. @default perZone (as kops sets it) */
    minPerZone: z.number().int().min(0).optional(),
    desiredReady: z.number().int().min(0),
    /** A count, or a percentage of desiredReady ("10%"), as the deployment configuration takes it. */
    surplus: z
      .union([z.number().int().min(0), z.string().regex(/^(100|[1-9]?\d)%$/, 'a percentage such as "10%"')])
      .default(0),
    instanceAgeDays: z.number().min(0).default(10),
    instanceTypes: z.array(z.string()).min(1).default(['m5.large']),
    /** What each node reports allocatable. @default {"cpu": "1930m", "memory": "7106Mi", "pods": "110"} (an m5.large) */
    allocatable: quantities.optional(),
    lifecycle: z.enum(['spot', 'on-demand']).default('spot'),
    drainTimeoutSeconds: z.number().int().min(30).default(600),
    joinTimeoutSeconds: z.number().int().min(60).default(900),
    cooldownSeconds: z.number().int().min(0).default(300),
    /** The deployment file's drain policy and repair settings, with its defaults. */
    drain: groupFields.drain,
    settleSeconds: groupFields.settleSeconds,
    notReadyTimeoutSeconds: groupFields.notReadyTimeoutSeconds,
    repairMaxUnhealthy: groupFields.repairMaxUnhealthy,
    alarms: groupFields.alarms,
    maintenanceWindows: groupFields.maintenanceWindows,
    replace: groupFields.replace,
    maxNodeAgeDays: groupFields.maxNodeAgeDays,
    checkpoints: groupFields.checkpoints,
    /** A termination lifecycle hook on each ASG, as the stack creates it (node-manager-drain). */
    terminateHook: z
      .object({
        heartbeatTimeoutSeconds: z.number().int().min(30).max(7200).default(300),
        maxHeartbeats: z.number().int().min(0).max(99).default(5),
        defaultResult: z.enum(['CONTINUE', 'ABANDON']).default('CONTINUE'),
      })
      .strict()
      .optional(),
    /** A launch lifecycle hook on each ASG (node-manager-launch): new instances wait in Pending:Wait until their node is Ready. */
    launchHook: z.boolean().default(false),
    /** ASG Capacity Rebalancing: a rebalance recommendation makes the ASG launch a replacement, then terminate the old instance. */
    capacityRebalance: z.boolean().default(false),
  })
  .strict();

/** A PodDisruptionBudget's number: a count, or a percentage such as "25%". */
const intOrPercent = z.union([z.number().int().min(0), z.string().regex(/^\d{1,3}%$/, 'a percentage such as "25%"')]);

const Workload = z
  .object({
    name: z.string().min(1),
    namespace: z.string().default('default'),
    group: z.string(),
    replicas: z.number().int().min(0),
    /**
     * ReplicaSet (recreated when evicted), Job (likewise, its pods never restart in place), or bare pods with no
     * controller (never recreated).
     */
    kind: z.enum(['ReplicaSet', 'Job', 'Pod']).default('ReplicaSet'),
    pdb: z
      .object({ maxUnavailable: intOrPercent.optional(), minAvailable: intOrPercent.optional() })
      .strict()
      .refine(
        (p) => (p.maxUnavailable === undefined) !== (p.minAvailable === undefined),
        'exactly one of maxUnavailable and minAvailable',
      )
      .optional(),
    /** The pods keep data in an emptyDir volume (lost with the pod). */
    emptyDir: z.boolean().default(false),
    /** Seconds each pod takes to stop once evicted. @default timing.podStopSeconds */
    terminationGracePeriodSeconds: z.number().int().min(0).max(86_400).optional(),
    /** Annotations on each pod, such as `{"node-manager.io/do-not-disrupt": "true"}` or `"karpenter.sh/do-not-disrupt": "30m"`. */
    annotations: z.record(z.string().min(1), z.string()).optional(),
    /** Each pod's resource requests (`{"cpu": "500m", "memory": "1Gi"}`): scheduled only where they fit, else Pending. */
    requests: quantities.optional(),
  })
  .strict();

const workflow = z.enum(['refresh', 'replenish']);
const Run = z.union([
  z.object({ at: duration.default(0), workflow, input: z.unknown() }).strict(),
  z.object({ every: duration, at: duration.default(0), workflow, input: z.unknown() }).strict(),
  /** An EventBridge rule: Auto Scaling launch failures and terminations of the group's ASGs start the workflow. */
  z.object({ on: z.literal('autoscaling'), workflow, input: z.object({ group: z.string() }).passthrough() }).strict(),
  /**
   * The interruption rules: every Spot interruption warning, rebalance recommendation and
   * stopping / shutting-down state change in the region, and termination lifecycle actions of the
   * groups' ASGs, each start the workflow with the event. EventBridge delivers at least once and
   * in no set order: `duplicates` is the chance an event arrives twice, `maxDelaySeconds` how late one may
   * be (at random), `delaySeconds` how late every one is.
   */
  z
    .object({
      on: z.literal('interruption'),
      workflow: z.literal('interruption'),
      duplicates: z.number().min(0).max(1).default(0),
      maxDelaySeconds: z.number().min(0).max(600).default(0),
      /** Every delivery comes this much later than the event (on top of the random delay). */
      delaySeconds: z.number().min(0).max(600).default(0),
    })
    .strict(),
]);

export const ScenarioSchema = z
  .object({
    /** For editors: "./scenario.schema.json". */
    $schema: z.string().optional(),
    name: z.string().min(1),
    description: z.string().optional(),
    region: z.string().default('ap-northeast-1'),
    seed: z.number().int().default(1),
    /** When the scenario starts (ISO 8601, the report's startedAt): what maintenance windows are judged by. */
    start: isoTime.default('2026-11-01T00:00:00Z'),
    cluster: z.object({ name: z.string().min(1), kind: z.enum(['kops', 'eks']) }).strict(),
    timing: z
      .object({
        bootSeconds: z.number().min(0).default(90),
        joinSeconds: z.number().min(0).default(60),
        shutdownSeconds: z.number().min(0).default(30),
        /** How soon an ASG's health check replaces a member that is not running (stopped). */
        healthCheckSeconds: z.number().min(1).default(120),
        podStartSeconds: z.number().min(0).default(5),
        podStopSeconds: z.number().min(0).default(5),
        launchRetrySeconds: z.number().min(1).default(60),
      })
      .strict()
      .default({
        bootSeconds: 90,
        joinSeconds: 60,
        shutdownSeconds: 30,
        healthCheckSeconds: 120,
        podStartSeconds: 5,
        podStopSeconds: 5,
        launchRetrySeconds: 60,
      }),
    groups: z.array(GroupSpec).min(1),
    workloads: z.array(Workload).default([]),
    faults: z.array(Fault).default([]),
    runs: z.array(Run).min(1),
    until: duration,
  })
  .strict()
  .superRefine((s, ctx) => {
    const groups = new Set(s.groups.map((g) => g.name));
    s.workloads.forEach((w, i) => {
      if (!groups.has(w.group))
        ctx.addIssue({
          code: 'custom',
          path: ['workloads', i, 'group'],
          message: `unknown group ${w.group}; groups: ${[...groups].join(', ')}`,
        });
    });
    const drained = s.runs.some((r) => 'on' in r && r.on === 'interruption');
    s.groups.forEach((g, i) => {
      if ((g.perZone === undefined) === (g.asgs === undefined))
        ctx.addIssue({ code: 'custom', path: ['groups', i, 'perZone'], message: 'exactly one of perZone and asgs' });
      if (g.launchHook && !drained)
        ctx.addIssue({
          code: 'custom',
          path: ['groups', i, 'launchHook'],
          message:
            'a launch hook without the interruption drain holds every launch for its heartbeat timeout: add { ' +
            '"on": "interruption", "workflow": "interruption" } to runs, as the stack routes them',
        });
      if (g.terminateHook && !drained)
        ctx.addIssue({
          code: 'custom',
          path: ['groups', i, 'terminateHook'],
          message:
            'a termination hook without the interruption drain holds every termination for its heartbeat timeout: ' +
            'add { "on": "interruption", "workflow": "interruption" } to runs, as the stack routes them',
        });
    });
    s.faults.forEach((f, i) => {
      if ((f.kind === 'pdbBlock' || f.kind === 'rollout') && !s.workloads.some((w) => w.name === f.workload))
        ctx.addIssue({ code: 'custom', path: ['faults', i, 'workload'], message: `unknown workload ${f.workload}` });
      if (
        (f.kind === 'neverJoin' ||
          f.kind === 'spotInterruption' ||
          f.kind === 'rebalanceRecommendation' ||
          f.kind === 'scaleAsg' ||
          f.kind === 'pause' ||
          f.kind === 'newLaunchTemplateVersion' ||
          f.kind === 'resume' ||
          f.kind === 'instanceStop') &&
        !groups.has(f.group)
      )
        ctx.addIssue({ code: 'custom', path: ['faults', i, 'group'], message: `unknown group ${f.group}` });
      if (f.kind === 'startExecution' && f.target && !groups.has(f.target.group))
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'target', 'group'],
          message: `unknown group ${f.target.group}`,
        });
      if (f.kind === 'instanceStop' && s.groups.find((g) => g.name === f.group)?.lifecycle === 'spot')
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'group'],
          message:
            `group ${f.group} runs Spot instances, which EC2 cannot stop (a one-time Spot request): give ` +
            `it "lifecycle": "on-demand"`,
        });
    });
  });

export type Scenario = z.infer<typeof ScenarioSchema>;

/** A scenario file that does not validate: the message names each field and what is allowed. */
export class InvalidScenarioError extends NodeManagerError {
  readonly name = 'InvalidScenario';
}

export function parseScenario(raw: unknown): Scenario {
  const r = ScenarioSchema.safeParse(raw);
  if (!r.success) throw new InvalidScenarioError(`invalid scenario: ${describeIssues(r.error)}`);
  return r.data;
}

/** The scenario format as JSON Schema (what a scenario file may say, before defaults apply). */
export function scenarioJsonSchema(): unknown {
  return {
    $id: 'https://github.com/node-manager/node-manager/examples/scenarios/scenario.schema.json',
    title: 'node-manager simulator scenario',
    ...(z.toJSONSchema(ScenarioSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
  };
}
