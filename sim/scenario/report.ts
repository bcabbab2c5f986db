import type { Life } from './lives';
import { sumEmf, type MetricSums } from './metrics';
import { CORDONED_BY_ANNOTATION } from '../../lambdas/kube/port';
import { itemSize } from '../aws/tables';
import type { Simulator } from '../simulator';
import type { ExecutionRecord, Workflow, WorkflowRunner } from '../workflows/runner';
import { surplusCount } from '../../lambdas/config';
import type { Scenario } from './format';

export const LEASE_TABLE = 'node-manager-leases';

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
      /** Where Auto Scaling has the instance (`InService`, `Standby`, `Terminating`...). */
      lifecycleState: string;
    }>;
    /** The most nodes of the group that were cordoned or on their way out at one time (quarantined ones, in Standby, aside). */
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
  /** Every step's attempt, in time order (seconds from the start): its state, outcome and output (`did`, or the error). */
  readonly timeline: Array<{ at: number; execution: string; state: string; outcome: string; output: unknown }>;
  /** The scenario's faults as they fired (seconds from the start), in time order. */
  readonly faults: Array<{ at: number; kind: string; fault: unknown }>;
  /**
   * The metrics the functions published (EMF, as CloudWatch would receive them), each one's values
   * by group: sum, count, min and max (see core/metrics.ts).
   */
  readonly metrics: Record<string, Record<string, MetricSums>>;
  /**
   * Each instance of the groups, launch to gone: its phases (booting, joining, ready, notReady,
   * cordoned, draining, gone), each from when it began (seconds from the start).
   */
  readonly lives: readonly Life[];
  /** The summaries published to the stack's topic (seconds from the start), as a subscriber reads them. */
  readonly summaries: Array<{ at: number; subject?: string; message: string }>;
  readonly pods: {
    evictions: number;
    evictionsRefused: number;
    deletedWithoutEviction: number;
    lostToInterruption: number;
    pending: number;
  };
}

/** What the run observed as it went, beside the world's own state at the end. */
export interface Observed {
  readonly start: number;
  readonly end: number;
  readonly asgNames: ReadonlyMap<string, readonly string[]>;
  readonly minReady: ReadonlyMap<string, number>;
  readonly maxLeaving: ReadonlyMap<string, number>;
  readonly timelines: ReadonlyMap<string, Array<[number, number]>>;
  /** The faults as they fired (virtual epoch ms). */
  readonly faultsFired: ReadonlyArray<{ readonly at: number; readonly fault: { readonly kind: string } }>;
  /** Each instance's life, phase by phase (lives.ts). */
  readonly lives: readonly Life[];
  readyOf(group: string): number;
}

/** The JSON report of a run: executions, totals, each group at the end, what is outside the ASGs, the audit. */
export function buildReport(sim: Simulator, runner: WorkflowRunner, scenario: Scenario, o: Observed): Report {
  const { start, end, asgNames, minReady, maxLeaving, timelines, readyOf } = o;
  const execs = runner.executions;
  const refreshGroups = scenario.runs.flatMap((r) =>
    r.workflow === 'refresh' && !('on' in r) && !('every' in r)
      ? [(r.input as { group?: string } | undefined)?.group ?? '']
      : [],
  );
  const reaps = runner.timeline.flatMap((t) =>
    (
      (t.summary as { reaped?: Array<{ instanceId: string; asg: string; ageSeconds: number }> } | undefined)?.reaped ??
      []
    ).map((r) => ({ instanceId: r.instanceId, asg: r.asg, ageSeconds: r.ageSeconds })),
  );
  // The refresh's duration when the scenario runs refreshes (the lower bound is about them), else every execution's span.
  const timed = execs.some((e) => e.workflow === 'refresh') ? execs.filter((e) => e.workflow === 'refresh') : execs;
  const stops = timed.map((e) => e.stoppedAt ?? end);
  return {
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
        homeDesired: g.perZone ?? g.asgs?.find((x) => x.name === a.name)?.desired ?? a.desired,
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
            lifecycleState: i.asgLifecycle ?? 'InService',
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
    timeline: runner.timeline.map((t) => ({
      at: (t.at - start) / 1000,
      execution: t.execution,
      state: t.state,
      outcome: t.outcome,
      output: t.summary,
    })),
    faults: o.faultsFired.map((f) => ({ at: (f.at - start) / 1000, kind: f.fault.kind, fault: f.fault })),
    metrics: sumEmf(runner.emf),
    lives: o.lives,
    summaries: [...sim.topics.values()].flat().map((m) => ({ ...m, at: (m.at - start) / 1000 })),
    pods: { ...sim.cluster.counters, pending: [...sim.cluster.pods.values()].filter((p) => !p.nodeName).length },
  };
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

/** The yardstick: the same refresh with a controller that reacts instantly (boot + join and drain time only). */
function refreshLowerBound(s: Scenario, groupName: string): number {
  const g = s.groups.find((x) => x.name === groupName);
  if (!g) return 0;
  const t = s.timing;
  const old = g.asgs ? g.asgs.reduce((n, a) => n + a.members.length, 0) : (g.perZone ?? 0) * g.zones.length;
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
