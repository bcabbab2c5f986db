import { parseConfig, surplusCount, type Config } from '../../lib/config/schema';
import type { Scenario } from './format';
import { WorkflowRunner, type ExecutionRecord, type Workflow } from '../workflows/runner';
import { SIM_ACCOUNT, Simulator } from '../simulator';
import { CORDONED_BY_ANNOTATION } from '../../lambdas/kube/port';
import {
  LAUNCH_HOOK_NAME,
  launchHookTimeoutSeconds,
  matchesPattern,
  noticeRules,
  TERMINATE_HOOK_NAME,
} from '../../lambdas/core';
import { TTL_ATTRIBUTE } from '../../lambdas/aws/lease-store';
import { itemSize } from '../aws/tables';

export { InvalidScenarioError, parseScenario, scenarioJsonSchema, ScenarioSchema, type Scenario } from './format';

export interface Report {
  readonly scenario: string;
  /** The scenario's start on the virtual clock (ISO 8601); every other time is in seconds from it. */
  readonly startedAt: string;
  readonly executions: Array<{
    workflow: Workflow;
    name: string;
    input: unknown;
    status: string;
    error: string | null;
    cause: string | null;
    startedAt: number;
    stoppedAt: number | null;
    transitions: number;
    historyEvents: number;
    lambdaInvocations: number;
    /** Lambda milliseconds billed to this execution's own invocations (simulated). */
    lambdaBilledMs: number;
    continuedAs: string[];
    /** The execution's output when it succeeded (a refresh's final state: the start it kept, what it replaced). */
    output: unknown;
  }>;
  readonly totals: {
    simulatedSeconds: number;
    lowerBoundSeconds: number;
    transitions: number;
    lambdaInvocations: number;
    lambdaBilledMs: number;
    /**
     * The interruption gate's invocations (a Lambda in front of the workflow: every routed event, foreign ones
     * included) and their billed milliseconds.
     */
    gate: { invocations: number; billedMs: number; dropped: number; duplicates: number; deadLettered: number };
    awsCalls: Record<string, number>;
    kubeCalls: Record<string, number>;
  };
  readonly groups: Array<{
    name: string;
    desiredReady: number;
    minReady: number;
    readyAtEnd: number;
    /** `[seconds, readyCount]` at every change. */
    readyTimeline: Array<[number, number]>;
    /** Changes of desired, min or max, and terminations with decrement, on the group's ASGs. */
    asgModifications: number;
    reaps: Array<{ instanceId: string; asg: string; ageSeconds: number }>;
    asgs: Array<{ name: string; zone: string; desired: number; min: number; max: number; homeDesired: number }>;
    members: Array<{
      instanceId: string;
      asg: string;
      zone: string;
      launchedAt: number;
      node: string | null;
      /** Seconds from the scenario's start (negative: before it). */
      nodeCreatedAt: number | null;
      ready: boolean;
      unschedulable: boolean;
      /** The execution whose cordon mark the node carries, if any. */
      cordonedBy: string | null;
      taints: string[];
    }>;
    /** The most nodes of the group that were cordoned or on their way out at one time. */
    maxLeaving: number;
    /**
     * The group's lease item at the end (holder, journal and memory) as DynamoDB holds it, its size
     * as DynamoDB counts it, and the group's interruption ledger (its entries by instance id, from
     * their own items; entries expired but not yet deleted by DynamoDB included).
     */
    lease: {
      holder: string | null;
      kind: string | null;
      journal: unknown;
      memory: unknown;
      itemBytes: number;
      interruptions: Record<string, unknown>;
    } | null;
  }>;
  /** Instances of the cluster (its tag) running outside every ASG at the end: nobody manages them. */
  readonly outsideAsgs: Array<{
    instanceId: string;
    nodeGroup: string;
    zone: string;
    state: string;
    launchedAt: number;
    node: string | null;
  }>;
  /** Every mutating AWS and Kubernetes call, with time (seconds from the start), execution and step. */
  readonly audit: Array<{
    at: number;
    api: 'aws' | 'kube';
    operation: string;
    target: string;
    group: string | null;
    execution: string | null;
    step: string | null;
    outcome: string;
    change?: string;
  }>;
  readonly pods: {
    evictions: number;
    evictionsRefused: number;
    deletedWithoutEviction: number;
    lostToInterruption: number;
    pending: number;
  };
}

export interface ScenarioRun {
  readonly report: Report;
  readonly runner: WorkflowRunner;
  readonly sim: Simulator;
  readonly start: number;
}

const LEASE_TABLE = 'node-manager-leases';
/** The hooks' names, as the stack creates them. */
export const TERMINATE_HOOK = TERMINATE_HOOK_NAME;
export const LAUNCH_HOOK = LAUNCH_HOOK_NAME;

/** `$INSTANCE`, `$ASG` and `$TIME[±duration]` in every string of a crafted input, replaced. */
function substitute(input: unknown, at: number, target: { instance?: string; asg?: string }): unknown {
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  const text = (v: string) =>
    v
      .replace(/\$TIME(?:([+-])(\d+)([smhd]))?/g, (_m, sign?: string, n?: string, u?: string) =>
        new Date(at + (sign ? (sign === '-' ? -1 : 1) * Number(n) * unit[u!] * 1000 : 0))
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
      )
      .replace(/\$INSTANCE/g, target.instance ?? 'i-0000000000000000')
      .replace(/\$ASG/g, target.asg ?? 'no-asg');
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? text(v)
      : Array.isArray(v)
        ? v.map(walk)
        : typeof v === 'object' && v !== null
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  return walk(input);
}
const KUBECONFIG_SECRET = 'node-manager/kubeconfig';

/** The yardstick: the same refresh with a controller that reacts instantly (boot + join and drain time only). */
function refreshLowerBound(s: Scenario, groupName: string): number {
  const g = s.groups.find((x) => x.name === groupName);
  if (!g) return 0;
  const t = s.timing;
  const old = g.perZone * g.zones.length;
  const surplus = surplusCount(g);
  const size = g.role === 'control-plane' ? 1 : Math.max(1, surplus);
  const batches = Math.ceil(old / size);
  const launch = t.bootSeconds + t.joinSeconds;
  const drain = drainLowerBound(s, groupName, old, size);
  // With surplus, one launch for the surge, a drain per batch, and a launch for every batch but
  // the last: the surplus already stands in for it, so it goes with decrement and nothing is given back.
  if (g.role !== 'control-plane' && surplus > 0) return launch + batches * drain + (batches - 1) * launch;
  return batches * (drain + launch);
}

/**
 * The least a batch's drain can take: its pods stopping, and, where a disruption budget allows
 * only `allowed` pods of a workload down at once, one round per `allowed` of the workload's pods
 * in the batch, each waiting for the previous round's replacements to start (as Kubernetes
 * replaces a terminating pod at once). Pods are taken as spread evenly over the group's nodes.
 */
function drainLowerBound(s: Scenario, groupName: string, nodes: number, size: number): number {
  const resolve = (v: number | string, of: number) =>
    typeof v === 'number' ? v : Math.ceil((Number.parseInt(v, 10) / 100) * of);
  // Nothing to evict (only DaemonSet and mirror pods): no drain time at all.
  let drain = 0;
  for (const w of s.workloads.filter((x) => x.group === groupName && x.replicas > 0)) {
    const stop = w.terminationGracePeriodSeconds ?? s.timing.podStopSeconds;
    drain = Math.max(drain, stop);
    if (!w.pdb) continue;
    const allowed =
      w.pdb.maxUnavailable !== undefined
        ? resolve(w.pdb.maxUnavailable, w.replicas)
        : w.replicas - resolve(w.pdb.minAvailable!, w.replicas);
    if (allowed <= 0) continue;
    const inBatch = Math.ceil((w.replicas / Math.max(1, nodes)) * size);
    drain = Math.max(drain, (Math.ceil(inBatch / allowed) - 1) * s.timing.podStartSeconds + stop);
  }
  return drain;
}

/**
 * Runs a scenario: builds the simulated cluster, arms the faults, starts the runs on virtual time
 * with the real ASL and handlers, and reports what a bill and an operator would see.
 */
export interface ScenarioOptions {
  /** Called once the world is built, before time starts (tests arm extra probes here). */
  readonly onReady?: (sim: Simulator, runner: WorkflowRunner) => void;
  /** Deployment settings beyond what scenarios describe. */
  readonly historyEventBudget?: number;
  /**
   * Serve: run paced at `speed` times real time, and leave the simulator running when the scenario
   * ends (the caller stops it), so that kubectl can watch the cluster as it changes.
   */
  readonly serve?: { readonly speed: number; readonly port?: number; readonly onStart?: (sim: Simulator) => void };
}

export async function runScenario(scenario: Scenario, options: ScenarioOptions = {}): Promise<ScenarioRun> {
  const sim = await Simulator.start({
    region: scenario.region,
    clusterName: scenario.cluster.name,
    timing: scenario.timing,
    seed: scenario.seed,
    apiPort: options.serve?.port,
  });
  try {
    const start = sim.now();
    const asgNames = new Map<string, string[]>();
    for (const g of scenario.groups) {
      asgNames.set(
        g.name,
        sim.addNodeGroup({
          name: g.name,
          role: g.role,
          zones: g.zones,
          perZone: g.perZone,
          maxPerZone: g.maxPerZone ?? g.perZone,
          minPerZone: g.minPerZone ?? g.perZone,
          instanceTypes: g.instanceTypes,
          lifecycle: g.lifecycle,
          instanceAgeDays: g.instanceAgeDays,
          capacityRebalance: g.capacityRebalance,
          ...(g.terminateHook
            ? {
                terminateHook: {
                  name: TERMINATE_HOOK,
                  heartbeatTimeout: g.terminateHook.heartbeatTimeoutSeconds,
                  defaultResult: g.terminateHook.defaultResult,
                },
              }
            : {}),
          // As the stack creates it: the join timeout and a margin, CONTINUE should node-manager be down.
          ...(g.launchHook
            ? {
                launchHook: {
                  name: LAUNCH_HOOK,
                  heartbeatTimeout: launchHookTimeoutSeconds(g.joinTimeoutSeconds),
                  defaultResult: 'CONTINUE' as const,
                },
              }
            : {}),
        }),
      );
    }
    for (const w of scenario.workloads) {
      sim.addWorkload({
        name: w.name,
        namespace: w.namespace,
        nodeGroup: w.group,
        replicas: w.replicas,
        kind: w.kind,
        pdb: w.pdb,
        emptyDir: w.emptyDir,
        terminationGracePeriodSeconds: w.terminationGracePeriodSeconds,
      });
    }
    sim.createTable(LEASE_TABLE, 'group', TTL_ATTRIBUTE);
    const access =
      scenario.cluster.kind === 'eks'
        ? { kind: 'eks' as const, clusterName: scenario.cluster.name }
        : { kind: 'kubeconfig' as const, secretId: KUBECONFIG_SECRET };
    if (scenario.cluster.kind === 'eks') sim.registerEksCluster(scenario.cluster.name);
    else sim.putSecret(KUBECONFIG_SECRET, sim.kubeconfig());
    const config: Config = parseConfig({
      cluster: { name: scenario.cluster.name.replace(/[^A-Za-z0-9._-]/g, '-'), region: scenario.region, access },
      leaseTable: LEASE_TABLE,
      ...(options.historyEventBudget !== undefined ? { historyEventBudget: options.historyEventBudget } : {}),
      groups: scenario.groups.map((g) => ({
        name: g.name,
        role: g.role,
        asgNames: asgNames.get(g.name),
        desiredReady: g.desiredReady,
        surplus: g.role === 'control-plane' ? 0 : g.surplus,
        drainTimeoutSeconds: g.drainTimeoutSeconds,
        joinTimeoutSeconds: g.joinTimeoutSeconds,
        cooldownSeconds: g.cooldownSeconds,
        ...(g.terminateHook
          ? {
              terminateHook: {
                heartbeatTimeoutSeconds: g.terminateHook.heartbeatTimeoutSeconds,
                maxHeartbeats: g.terminateHook.maxHeartbeats,
              },
            }
          : {}),
        launchHook: g.launchHook,
      })),
    });
    const runner = new WorkflowRunner(sim, config);
    if (options.serve) {
      runner.scheduler.pace = { speed: options.serve.speed, tickMs: 100 };
      options.serve.onStart?.(sim);
    }

    const minReady = new Map<string, number>();
    const maxLeaving = new Map<string, number>();
    const leavingOf = (group: string) =>
      [...sim.cluster.nodes.values()].filter(
        (n) =>
          n.nodeGroup === group &&
          (n.unschedulable ||
            ['shutting-down', 'terminated'].includes(sim.region.instances.get(n.instanceId)?.state ?? '')),
      ).length;
    const timelines = new Map<string, Array<[number, number]>>(scenario.groups.map((g) => [g.name, []]));
    const readyOf = (group: string) =>
      [...sim.cluster.nodes.values()].filter((n) => n.nodeGroup === group && n.ready).length;
    const sample = () => {
      for (const g of scenario.groups) {
        const ready = readyOf(g.name);
        minReady.set(g.name, Math.min(minReady.get(g.name) ?? Number.POSITIVE_INFINITY, ready));
        maxLeaving.set(g.name, Math.max(maxLeaving.get(g.name) ?? 0, leavingOf(g.name)));
        const tl = timelines.get(g.name)!;
        if (tl.length === 0 || tl[tl.length - 1][1] !== ready) tl.push([(sim.now() - start) / 1000, ready]);
      }
    };
    sample();
    runner.scheduler.onTick = sample;
    runner.afterStep = sample;

    const end = start + scenario.until * 1000;
    for (const f of scenario.faults) {
      const from = start + f.at * 1000;
      sim.clock.at(from, `fault ${f.kind}`, () => {
        switch (f.kind) {
          case 'zoneOutage':
            sim.armFault({
              kind: 'zoneOutage',
              zone: f.zone,
              from,
              until: f.for !== undefined ? from + f.for * 1000 : undefined,
            });
            break;
          case 'instanceTypeOutage':
            sim.armFault({
              kind: 'instanceTypeOutage',
              instanceType: f.instanceType,
              zone: f.zone,
              from,
              until: f.for !== undefined ? from + f.for * 1000 : undefined,
            });
            break;
          case 'neverJoin':
            sim.armNeverJoin(f.count, f.group, f.zone);
            break;
          case 'throttle':
            sim.armFault({
              kind: 'throttle',
              operation: f.operation,
              rate: f.rate,
              times: f.times,
              from,
              until: f.for !== undefined ? from + f.for * 1000 : undefined,
            });
            break;
          case 'callFailure':
            sim.armFault({ kind: 'callFailure', operation: f.operation, times: f.times, from });
            break;
          case 'stepCrash':
            runner.stepCrashes.push({ state: f.state, times: f.times, from });
            break;
          case 'pdbBlock': {
            const w = scenario.workloads.find((x) => x.name === f.workload)!;
            sim.blockBudget(w.namespace, w.name, f.for);
            break;
          }
          case 'rollout': {
            const w = scenario.workloads.find((x) => x.name === f.workload)!;
            sim.cluster.rollout(w.namespace, w.name);
            break;
          }
          case 'stopExecution':
            for (const e of runner.executions) if (e.workflow === f.workflow && e.status === 'RUNNING') runner.stop(e);
            break;
          case 'spotInterruption': {
            const stop = Math.min(end, f.for !== undefined ? from + f.for * 1000 : end);
            const again = (t: number) => {
              sim.spotInterruption(f.group, f.zone, f.count);
              if (f.every !== undefined && t + f.every * 1000 <= stop)
                sim.clock.at(t + f.every * 1000, `fault ${f.kind}`, () => again(t + f.every! * 1000));
            };
            again(from);
            break;
          }
          case 'instanceStop':
            sim.stopInstances(f.group, f.zone, f.count, f.for);
            break;
          case 'startExecution': {
            const member = f.target
              ? sim
                  .asgsOf(f.target.group)
                  .flatMap((a) => a.instanceIds.map((id) => sim.region.instances.get(id)!))
                  .find((i) => i.asgLifecycle === 'InService' && (!f.target!.zone || i.zone === f.target!.zone))
              : undefined;
            const input = substitute(f.input, from, { instance: member?.id, asg: member?.asg });
            // As any caller with states:StartExecution would: through the Step Functions API.
            void runner.external(`operator-${from}`, () =>
              runner.deps.sfn
                .startExecution(
                  runner.stateMachineArn(f.workflow),
                  f.name ?? `crafted-${sim.rng.hex(8)}`,
                  JSON.stringify(input),
                )
                .catch((e: unknown) => ({ started: false, error: e })),
            );
            break;
          }
          case 'rebalanceRecommendation':
            sim.rebalanceRecommendation(f.group, f.zone, f.count);
            break;
          case 'foreignInterruption':
            sim.foreignInterruption();
            break;
          case 'scaleAsg': {
            const asg = sim.asgsOf(f.group).find((a) => a.zones.includes(f.zone));
            if (asg) {
              asg.max = Math.max(asg.max, f.desired);
              asg.desired = f.desired;
              sim.region.reconcile(asg);
            }
            break;
          }
        }
      });
    }
    for (const r of scenario.runs) {
      if ('on' in r && r.on === 'interruption') {
        // The stack's rules (core/notices.ts), matched as EventBridge matches them; their target is the gate.
        const rules = noticeRules(
          SIM_ACCOUNT,
          scenario.groups.map((g) => ({
            name: g.name,
            asgNames: asgNames.get(g.name),
            joinTimeoutSeconds: g.joinTimeoutSeconds,
            ...(g.terminateHook ? { terminateHook: g.terminateHook } : {}),
            launchHook: g.launchHook,
          })),
        );
        sim.bus.onEvent((ev) => {
          if (sim.now() > end) return;
          const event = sim.bus.toEventBridge(ev);
          if (!rules.some((rule) => matchesPattern(rule.pattern, event))) return;
          const deliver = () => {
            if (sim.now() <= end) void runner.invokeGate(event);
          };
          const copies = sim.rng.next() < r.duplicates ? 2 : 1;
          for (let i = 0; i < copies; i += 1) {
            const delay = r.delaySeconds + (r.maxDelaySeconds > 0 ? Math.round(sim.rng.next() * r.maxDelaySeconds) : 0);
            if (delay === 0) deliver();
            else sim.clock.after(delay, 'deliver interruption event', deliver);
          }
        });
        continue;
      }
      if ('on' in r) {
        const mine = new Set(asgNames.get(r.input.group) ?? []);
        sim.bus.onEvent((ev) => {
          if (ev.source === 'aws.autoscaling' && mine.has(ev.detail.AutoScalingGroupName) && sim.now() <= end)
            runner.start(r.workflow, r.input);
        });
        continue;
      }
      const first = start + r.at * 1000;
      const every = 'every' in r ? r.every * 1000 : undefined;
      const launch = (t: number) =>
        sim.clock.at(t, `start ${r.workflow}`, () => {
          runner.start(r.workflow, r.input);
          if (every && t + every <= end) launch(t + every);
        });
      if (first <= end) launch(first);
    }
    options.onReady?.(sim, runner);

    await runner.scheduler.runUntil(end);
    await runner.shutdown();

    const execs = runner.executions;
    const refreshGroups = scenario.runs.flatMap((r) =>
      r.workflow === 'refresh' && !('on' in r) && !('every' in r)
        ? [(r.input as { group?: string } | undefined)?.group ?? '']
        : [],
    );
    const reaps = runner.timeline.flatMap((t) =>
      (
        (t.summary as { reaped?: Array<{ instanceId: string; asg: string; ageSeconds: number }> } | undefined)
          ?.reaped ?? []
      ).map((r) => ({ instanceId: r.instanceId, asg: r.asg, ageSeconds: r.ageSeconds })),
    );
    // The refresh's duration when the scenario runs refreshes (the lower bound is about them), else every execution's span.
    const timed = execs.some((e) => e.workflow === 'refresh') ? execs.filter((e) => e.workflow === 'refresh') : execs;
    const stops = timed.map((e) => e.stoppedAt ?? end);
    const report: Report = {
      scenario: scenario.name,
      startedAt: new Date(start).toISOString(),
      executions: execs.map((e: ExecutionRecord) => ({
        workflow: e.workflow,
        name: e.name,
        input: e.input,
        status: e.status,
        error: e.error,
        cause: e.cause,
        startedAt: (e.startedAt - start) / 1000,
        stoppedAt: e.stoppedAt === null ? null : (e.stoppedAt - start) / 1000,
        transitions: e.transitions,
        historyEvents: e.historyEvents,
        lambdaInvocations: e.lambdaInvocations,
        lambdaBilledMs: e.lambdaBilledMs,
        continuedAs: e.continuedAs,
        output: e.output ?? null,
      })),
      totals: {
        simulatedSeconds: timed.length ? (Math.max(...stops) - Math.min(...timed.map((e) => e.startedAt))) / 1000 : 0,
        lowerBoundSeconds: refreshGroups.reduce((a, g) => a + refreshLowerBound(scenario, g), 0),
        transitions: execs.reduce((a, e) => a + e.transitions, 0),
        lambdaInvocations: execs.reduce((a, e) => a + e.lambdaInvocations, 0),
        lambdaBilledMs: execs.reduce((a, e) => a + e.lambdaBilledMs, 0),
        gate: {
          invocations: runner.gate.invocations,
          billedMs: runner.gate.billedMs,
          dropped: runner.gate.outcomes.filter((o) => o.outcome.dropped).length,
          duplicates: runner.gate.outcomes.filter((o) => o.outcome.duplicate).length,
          deadLettered: runner.gate.deadLettered.length,
        },
        awsCalls: { ...sim.meter.calls.aws },
        kubeCalls: { ...sim.meter.calls.kube },
      },
      groups: scenario.groups.map((g) => ({
        name: g.name,
        desiredReady: g.desiredReady,
        minReady: minReady.get(g.name) ?? 0,
        readyAtEnd: readyOf(g.name),
        readyTimeline: timelines.get(g.name) ?? [],
        asgModifications: sim.meter.asgChanges.filter((ch) => (asgNames.get(g.name) ?? []).includes(ch.asg)).length,
        reaps: reaps.filter((r) => (asgNames.get(g.name) ?? []).includes(r.asg)),
        asgs: sim.asgsOf(g.name).map((a) => ({
          name: a.name,
          zone: a.zones[0],
          desired: a.desired,
          min: a.min,
          max: a.max,
          homeDesired: g.perZone,
        })),
        members: sim.asgsOf(g.name).flatMap((a) =>
          a.instanceIds.map((id) => {
            const i = sim.region.instances.get(id)!;
            const n = sim.cluster.nodeOf(id);
            return {
              instanceId: id,
              asg: a.name,
              zone: i.zone,
              launchedAt: (i.launchTime - start) / 1000,
              node: n?.name ?? null,
              nodeCreatedAt: n ? (n.createdAt - start) / 1000 : null,
              ready: !!n?.ready,
              unschedulable: !!n?.unschedulable,
              cordonedBy: n?.annotations[CORDONED_BY_ANNOTATION] ?? null,
              taints: n?.unschedulable ? ['node.kubernetes.io/unschedulable:NoSchedule'] : [],
            };
          }),
        ),
        maxLeaving: maxLeaving.get(g.name) ?? 0,
        lease: leaseOf(sim, g.name),
      })),
      outsideAsgs: [...sim.region.instances.values()]
        .filter(
          (i) =>
            !i.asg &&
            i.state !== 'terminated' &&
            i.state !== 'shutting-down' &&
            i.tags.KubernetesCluster === sim.clusterName,
        )
        .map((i) => ({
          instanceId: i.id,
          nodeGroup: i.nodeGroup,
          zone: i.zone,
          state: i.state,
          launchedAt: (i.launchTime - start) / 1000,
          node: sim.cluster.nodeOf(i.id)?.name ?? null,
        })),
      audit: sim.meter.audit.map((a) => ({ ...a, at: (a.at - start) / 1000 })),
      pods: { ...sim.cluster.counters, pending: sim.cluster.pendingPods() },
    };
    return { report, runner, sim, start };
  } finally {
    if (!options.serve) await sim.stop();
  }
}

/** The lease item of a group as stored (journal and memory parsed from their JSON), its size, and the group's ledger items. */
function leaseOf(sim: Simulator, group: string): Report['groups'][number]['lease'] {
  const table = sim.tables.table(LEASE_TABLE);
  const item = table?.items.get(group);
  const json = (v: { S?: string } | undefined) => (v?.S !== undefined ? (JSON.parse(v.S) as unknown) : null);
  const interruptions: Record<string, unknown> = {};
  for (const it of table?.items.values() ?? [])
    if (it.ledger?.S === group && it.instance?.S !== undefined) interruptions[it.instance.S] = json(it.entry);
  // An earlier release kept its ledger in the lease item itself (`i_<instance id>`).
  for (const [k, v] of Object.entries(item ?? {})) if (k.startsWith('i_')) interruptions[k.slice(2)] ??= json(v);
  if (!item && Object.keys(interruptions).length === 0) return null;
  return {
    holder: item?.holder?.S ?? null,
    kind: item?.kind?.S ?? null,
    journal: json(item?.journal),
    memory: json(item?.memory),
    itemBytes: item ? itemSize(item) : 0,
    interruptions,
  };
}
