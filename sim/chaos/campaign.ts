import fc from 'fast-check';
import { surplusCount } from '../../lambdas/config';
import { parseScenario, runScenario, type Report, type Scenario } from '../scenario/run';

/**
 * The randomized fault campaign: fast-check arbitraries over the scenario format, and the
 * invariants every run must keep, checked from the JSON report alone (what an auditor would have).
 * `npm run chaos` runs many; a fixed-seed slice runs in `npm test`.
 */

const ZONES = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d', 'ap-northeast-1b'];
const AWS_OPERATIONS = [
  'DescribeAutoScalingGroups',
  'DescribeScalingActivities',
  'SetDesiredCapacity',
  'UpdateAutoScalingGroup',
  'TerminateInstanceInAutoScalingGroup',
  'DetachInstances',
  'DescribeInstances',
  'TerminateInstances',
  'GetItem',
  'UpdateItem',
  'DescribeExecution',
  'DescribeAutoScalingInstances',
  'DescribeLifecycleHooks',
  'DescribeSpotInstanceRequests',
  'CompleteLifecycleAction',
  'RecordLifecycleActionHeartbeat',
  'StartExecution',
];
const KUBE_OPERATIONS = ['list nodes', 'patch nodes', 'list pods', 'create pods/eviction'];
const STATES = [
  'Take the group lease',
  'Add surplus nodes',
  'Replace oldest nodes',
  'Give surplus back',
  'Release the lease',
  'Clean up after failure',
  'Restore sizes and release',
  'Replenish the group',
  'Give capacity back',
  'Take the notice',
  'Drain the node',
  'Finish the drain',
  'Check the new node',
  'Check the instance',
];

/**
 * Starts of the interruption workflow a person could make with states:StartExecution, each
 * impossible on its face or by what AWS says: the workflow must refuse every one and change nothing.
 */
const FORGED: ReadonlyArray<{
  readonly name: string;
  readonly onDemandOnly?: boolean;
  readonly input: Record<string, unknown>;
}> = (() => {
  const spot = (over: Record<string, unknown> = {}) => ({
    version: '0',
    id: 'forged',
    'detail-type': 'EC2 Spot Instance Interruption Warning',
    source: 'aws.ec2',
    account: '123456789012',
    time: '$TIME',
    region: 'ap-northeast-1',
    resources: ['arn:aws:ec2:ap-northeast-1:123456789012:instance/$INSTANCE'],
    detail: { 'instance-id': '$INSTANCE', 'instance-action': 'terminate' },
    ...over,
  });
  return [
    { name: 'future', input: spot({ time: '$TIME+3600s' }) },
    { name: 'backdated on-demand', onDemandOnly: true, input: spot({ time: '$TIME-110s' }) },
    { name: 'other account', input: spot({ account: '999999999999' }) },
    { name: 'other region', input: spot({ region: 'eu-west-1' }) },
    { name: 'constructor', input: spot({ 'detail-type': 'constructor' }) },
    { name: '__proto__', input: spot({ 'detail-type': '__proto__' }) },
    { name: 'not an event', input: { group: 'nodes' } },
  ];
})();

/** Error names a failed execution may end with: ours, and Lambda's own when a crash outlives every retry. */
export const NAMED_ERRORS = new Set([
  'AwsThrottled',
  'AwsUnavailable',
  'AwsValidation',
  'ResourceNotFound',
  'KubeThrottled',
  'KubeUnavailable',
  'KubeForbidden',
  'KubeConflict',
  'EvictionBlocked',
  'LeaseHeld',
  'LeaseLost',
  'InvalidInput',
  'ReplenishRunning',
  'SurgeBlocked',
  'SurgeTimeout',
  'ReplacementTimeout',
  'DrainTimeout',
  'RefreshStuck',
  'Runtime.ExitError',
  'InterruptionDrainFailed',
]);

const minutes = (n: number) => `${n}m`;

interface GroupDraft {
  name: string;
  role: 'worker' | 'control-plane';
  zones: string[];
  perZone: number;
  maxPerZone: number;
  desiredReady: number;
  surplus: number;
  instanceAgeDays: number;
  terminateHook?: { heartbeatTimeoutSeconds: number; maxHeartbeats: number };
  launchHook?: boolean;
  capacityRebalance?: boolean;
  lifecycle?: 'spot' | 'on-demand';
}

const workerGroup = (name: string): fc.Arbitrary<GroupDraft> =>
  fc
    .record({
      zones: fc.integer({ min: 2, max: 4 }),
      nodes: fc.integer({ min: 3, max: 40 }),
      headroom: fc.integer({ min: 0, max: 2 }),
      surplus: fc.integer({ min: 0, max: 3 }),
      hook: fc.option(
        fc.record({
          heartbeatTimeoutSeconds: fc.constantFrom(60, 120, 300),
          maxHeartbeats: fc.integer({ min: 0, max: 3 }),
        }),
        { nil: undefined },
      ),
      capacityRebalance: fc.boolean(),
      launchHook: fc.boolean(),
      onDemand: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    })
    .map(({ zones, nodes, headroom, surplus, hook, capacityRebalance, launchHook, onDemand }) => {
      const perZone = Math.max(1, Math.round(nodes / zones));
      return {
        name,
        role: 'worker' as const,
        zones: ZONES.slice(0, zones),
        perZone,
        maxPerZone: perZone + headroom,
        desiredReady: perZone * zones,
        surplus,
        instanceAgeDays: 10,
        ...(hook ? { terminateHook: hook } : {}),
        ...(launchHook ? { launchHook } : {}),
        ...(capacityRebalance ? { capacityRebalance } : {}),
        ...(onDemand ? { lifecycle: 'on-demand' as const } : {}),
      };
    });

const controlPlane: GroupDraft = {
  name: 'master',
  role: 'control-plane',
  zones: ZONES.slice(0, 3),
  perZone: 1,
  maxPerZone: 1,
  desiredReady: 3,
  surplus: 0,
  instanceAgeDays: 30,
};

/**
 * A random scenario: 1–3 groups (a kops control plane among them or not), workloads with and without budgets, faults
 * at random times, overlapping runs.
 */
export const scenarioArbitrary: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    workers: fc
      .array(fc.constantFrom('nodes', 'spot'), { minLength: 1, maxLength: 2 })
      .map((names) => [...new Set(names)]),
    withControlPlane: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .chain(({ workers, withControlPlane, seed }) =>
    fc.tuple(...workers.map(workerGroup)).chain((drafts) => {
      const groups: GroupDraft[] = [...drafts, ...(withControlPlane ? [controlPlane] : [])];
      const names = groups.map((g) => g.name);
      const workerNames = drafts.map((g) => g.name);
      const onDemandNames = drafts.filter((g) => g.lifecycle === 'on-demand').map((g) => g.name);
      const zoneOf = (g: string) => fc.constantFrom(...groups.find((x) => x.name === g)!.zones);
      const at = fc.integer({ min: 0, max: 120 }).map(minutes);
      const workload = fc.record({
        group: fc.constantFrom(...workerNames),
        replicas: fc.integer({ min: 1, max: 12 }),
        pdb: fc.constantFrom<Record<string, number> | undefined>(
          undefined,
          { maxUnavailable: 1 },
          { minAvailable: 1 },
          { maxUnavailable: 0 },
        ),
      });
      const fault = fc.oneof(
        fc.record({
          kind: fc.constant('zoneOutage'),
          at,
          zone: fc.constantFrom(...ZONES.slice(0, 3)),
          for: fc.option(fc.integer({ min: 5, max: 120 }).map(minutes), { nil: undefined }),
        }),
        fc.record({
          kind: fc.constant('instanceTypeOutage'),
          at,
          instanceType: fc.constant('m5.large'),
          zone: fc.constantFrom(...ZONES.slice(0, 3)),
          for: fc.integer({ min: 5, max: 90 }).map(minutes),
        }),
        fc.record({
          kind: fc.constant('throttle'),
          at,
          operation: fc.constantFrom(...AWS_OPERATIONS, ...KUBE_OPERATIONS),
          times: fc.integer({ min: 1, max: 6 }),
        }),
        fc.record({
          kind: fc.constant('callFailure'),
          at,
          operation: fc.constantFrom(...AWS_OPERATIONS, ...KUBE_OPERATIONS),
          times: fc.integer({ min: 1, max: 3 }),
        }),
        fc.record({
          kind: fc.constant('stepCrash'),
          at,
          state: fc.constantFrom(...STATES),
          times: fc.integer({ min: 1, max: 2 }),
        }),
        fc.constantFrom(...names).chain((g) =>
          fc.record({
            kind: fc.constant('neverJoin'),
            at,
            group: fc.constant(g),
            zone: zoneOf(g),
            count: fc.integer({ min: 1, max: 2 }),
          }),
        ),
        fc.constantFrom(...workerNames).chain((g) =>
          fc
            .record({
              kind: fc.constant('spotInterruption'),
              at,
              group: fc.constant(g),
              zone: zoneOf(g),
              count: fc.integer({ min: 1, max: 2 }),
              every: fc.option(fc.integer({ min: 10, max: 60 }).map(minutes), { nil: undefined }),
            })
            .map((f) => (f.every ? { ...f, for: '4h' } : f)),
        ),
        ...(onDemandNames.length
          ? [
              fc.constantFrom(...onDemandNames).chain((g) =>
                fc.record({
                  kind: fc.constant('instanceStop'),
                  at,
                  group: fc.constant(g),
                  zone: zoneOf(g),
                  count: fc.constant(1),
                  for: fc.option(
                    fc.integer({ min: 20, max: 600 }).map((n) => `${n}s`),
                    { nil: undefined },
                  ),
                }),
              ),
            ]
          : []),
        fc
          .record({ forged: fc.constantFrom(...FORGED), target: fc.constantFrom(...workerNames), at })
          .map(({ forged, target, at: when }) => {
            const onDemand = onDemandNames.includes(target);
            const f = forged.onDemandOnly && !onDemand ? FORGED[0] : forged;
            return {
              kind: 'startExecution',
              at: when,
              workflow: 'interruption',
              name: `crafted-${f.name.replace(/[^a-z0-9]+/g, '-')}-${when}`,
              target: { group: target },
              input: f.input,
            };
          }),
        fc.constantFrom(...workerNames).chain((g) =>
          fc.record({
            kind: fc.constant('rebalanceRecommendation'),
            at,
            group: fc.constant(g),
            zone: zoneOf(g),
            count: fc.integer({ min: 1, max: 2 }),
          }),
        ),
        fc.record({ kind: fc.constant('foreignInterruption'), at }),
        fc.record({ kind: fc.constant('stopExecution'), at, workflow: fc.constant('refresh') }),
      );
      const refreshRun = fc.record({
        workflow: fc.constant('refresh'),
        at: fc.integer({ min: 0, max: 90 }).map(minutes),
        input: fc.record({ group: fc.constantFrom(...names), dryRun: fc.constantFrom(false, false, false, true) }),
      });
      return fc
        .record({
          workloads: fc.array(workload, { maxLength: 3 }),
          faults: fc.array(fault, { maxLength: 4 }),
          refreshes: fc.array(refreshRun, { minLength: 1, maxLength: 3 }),
          replenishEvery: fc.constantFrom(undefined, 10, 15),
          onEvents: fc.boolean(),
          interruption: fc.option(
            fc.record({
              duplicates: fc.constantFrom(0, 0.5),
              maxDelaySeconds: fc.constantFrom(0, 30),
              delaySeconds: fc.constantFrom(0, 0, 38),
            }),
            { nil: undefined },
          ),
        })
        .map(({ workloads, faults, refreshes, replenishEvery, onEvents, interruption }) => {
          const replenishRuns = replenishEvery
            ? names.map((g) => ({
                every: minutes(replenishEvery),
                at: minutes(3),
                workflow: 'replenish',
                input: { group: g },
              }))
            : [];
          const eventRuns = onEvents
            ? workerNames.map((g) => ({ on: 'autoscaling', workflow: 'replenish', input: { group: g } }))
            : [];
          if (interruption) eventRuns.push({ on: 'interruption', workflow: 'interruption', ...interruption } as never);
          return {
            name: `chaos-${seed}`,
            seed,
            cluster: { name: 'example.k8s.local', kind: 'kops' },
            // The stack creates a group's hook with the rule that routes its lifecycle actions: no hook without the interruption drain.
            groups: interruption ? groups : groups.map(({ terminateHook: _h, launchHook: _l, ...g }) => g),
            workloads: workloads.map((w, i) => ({
              name: `app-${i}`,
              group: w.group,
              replicas: w.replicas,
              ...(w.pdb ? { pdb: w.pdb } : {}),
            })),
            faults,
            runs: [
              ...refreshes.map((r) => ({ ...r, input: r.input.dryRun ? r.input : { group: r.input.group } })),
              ...replenishRuns,
              ...eventRuns,
            ],
            until: '10h',
          };
        });
    }),
  );

export interface Break {
  readonly invariant: string;
  readonly detail: string;
}

function hasFault(s: Scenario, kinds: readonly string[], group?: string): boolean {
  return s.faults.some((f) => kinds.includes(f.kind) && (!group || !('group' in f) || f.group === group));
}

/**
 * The invariants, from the report alone. Those that "because of us" qualifies are checked only
 * where the scenario injects nothing that takes capacity away by itself (outages, interruptions,
 * instances that never join).
 */
export function checkInvariants(s: Scenario, r: Report): Break[] {
  const out: Break[] = [];
  const add = (invariant: string, detail: string) => out.push({ invariant, detail });
  const capacityFaults = hasFault(s, ['zoneOutage', 'instanceTypeOutage']);

  for (const e of r.executions) {
    if (e.status === 'RUNNING') add('every execution ends', `${e.name} is still running after ${s.until}s`);
    if (e.status === 'FAILED' && !NAMED_ERRORS.has(e.error ?? ''))
      add('failures are named', `${e.name} failed with ${e.error}: ${e.cause}`);
    if (e.status === 'TIMED_OUT') add('no execution times out', `${e.name} timed out`);
  }
  if (r.pods.deletedWithoutEviction > 0)
    add('no pod deleted without eviction', `${r.pods.deletedWithoutEviction} pod(s)`);
  if (r.outsideAsgs.length) add('no instance of ours outside an ASG', JSON.stringify(r.outsideAsgs));
  const ended = r.executions.every((e) => e.status !== 'RUNNING');

  for (const g of r.groups) {
    const spec = s.groups.find((x) => x.name === g.name)!;
    const takenByFaults =
      capacityFaults ||
      hasFault(s, ['spotInterruption', 'rebalanceRecommendation', 'neverJoin', 'instanceStop'], g.name);
    if (ended) {
      // A stopped (or timed-out) execution runs no cleanup: its lease and journal wait for the next
      // run of the group, which restores them. Left so, with no run after it, the report says why.
      const holder = g.lease?.holder ? r.executions.find((e) => g.lease!.holder!.endsWith(`:${e.name}`)) : undefined;
      // A dry run reads and changes nothing, so it takes no lease over: only a real run recovers one.
      const recovers = (e: Report['executions'][number]) => {
        const input = e.input as { group?: string; dryRun?: boolean } | null;
        return e.workflow !== 'interruption' && input?.group === g.name && input.dryRun !== true;
      };
      const abandoned =
        !!holder &&
        (holder.status === 'ABORTED' || holder.status === 'TIMED_OUT') &&
        !r.executions.some((e) => recovers(e) && e.startedAt >= (holder.stoppedAt ?? Infinity));
      const journal = abandoned
        ? (g.lease?.journal as {
            cordoned?: string[];
            original?: Record<string, { desired: number; max: number }>;
          } | null)
        : null;
      if (g.lease?.holder && !abandoned)
        add('no lease held at the end', `${g.name} held by ${g.lease.holder}${holder ? ` (${holder.status})` : ''}`);
      const cordoned = g.members.filter((m) => m.cordonedBy && !(journal?.cordoned ?? []).includes(m.node ?? ''));
      if (cordoned.length)
        add(
          'nothing cordoned by us at the end',
          `${g.name}: ${cordoned.map((m) => `${m.node} (${m.cordonedBy})`).join(', ')}`,
        );
      const memoryHome = {
        ...((g.lease?.memory as { home?: Record<string, { desired: number; max: number }> } | null)?.home ?? {}),
        ...(journal?.original ?? {}),
      };
      for (const a of g.asgs) {
        const homeMax = spec.maxPerZone ?? spec.perZone;
        const homeMin = spec.minPerZone ?? spec.perZone;
        if (a.desired === a.homeDesired && a.max === homeMax && a.min === homeMin) continue;
        // Away from home is allowed only where node-manager knows it (the home layout in its memory, to give back).
        const known = memoryHome[a.name]?.desired === a.homeDesired && memoryHome[a.name]?.max === homeMax;
        if (!known || a.min !== homeMin)
          add(
            'every ASG at home, or the report says why',
            `${a.name}: desired ${a.desired}/${a.homeDesired}, max ${a.max}/${homeMax}, min ${a.min}/${homeMin}; ` +
              `memory home ${JSON.stringify(memoryHome[a.name] ?? null)}`,
          );
      }
    }
    if (!takenByFaults && spec.role === 'worker' && surplusCount(spec) >= 1 && g.minReady < g.desiredReady)
      add(
        'Ready never below desiredReady because of us (surplus >= 1)',
        `${g.name}: ${g.minReady} < ${g.desiredReady}`,
      );
    if (!takenByFaults && spec.role === 'control-plane' && g.minReady < g.desiredReady - 1)
      add('never more than one master down', `${g.name}: ${g.minReady} Ready of ${g.desiredReady}`);
    const batch = spec.role === 'control-plane' ? 1 : Math.max(1, surplusCount(spec));
    if (!takenByFaults && g.maxLeaving > batch)
      add('never more nodes leaving than the batch', `${g.name}: ${g.maxLeaving} > ${batch}`);
  }

  // Never two executions mutating one group at once: each execution's span of successful mutations on a group.
  const spans = new Map<string, Map<string, [number, number]>>();
  // Interruption drains never wait for the lease, by design: they touch their own instance and
  // node only (checked below), so they are left out of this rule.
  const drains = new Set(r.executions.filter((e) => e.workflow === 'interruption').map((e) => e.name));
  for (const a of r.audit) {
    if (!a.group || !a.execution || a.outcome !== 'ok' || a.target.startsWith('item/') || drains.has(a.execution))
      continue;
    const byExec = spans.get(a.group) ?? new Map<string, [number, number]>();
    const span = byExec.get(a.execution) ?? [a.at, a.at];
    byExec.set(a.execution, [Math.min(span[0], a.at), Math.max(span[1], a.at)]);
    spans.set(a.group, byExec);
  }
  for (const [group, byExec] of spans) {
    const list = [...byExec.entries()].sort((x, y) => x[1][0] - y[1][0]);
    for (let i = 1; i < list.length; i += 1) {
      if (list[i][1][0] < list[i - 1][1][1])
        add(
          'never two executions mutating one group at once',
          `${group}: ${list[i - 1][0]} ${JSON.stringify(list[i - 1][1])} and ${list[i][0]} ${JSON.stringify(list[i][1])}`,
        );
    }
  }

  // An interruption drain changes its own instance and node, and nothing else in the group.
  for (const e of r.executions.filter((x) => x.workflow === 'interruption')) {
    const detail = ((e.input as { detail?: Record<string, string> } | null)?.detail ?? {}) as Record<string, string>;
    const instance = detail['instance-id'] ?? detail.EC2InstanceId;
    const node = (e.output as { node?: string } | null)?.node;
    // Calls the server refused (throttled, failed) changed nothing: only those that went through count.
    for (const a of r.audit.filter(
      (x) => x.execution === e.name && x.outcome === 'ok' && !x.target.startsWith('item/'),
    )) {
      const own =
        a.target.includes(instance) ||
        (node !== undefined && a.target === `node/${node}`) ||
        a.target.startsWith('pod/');
      if (!own)
        add(
          'an interruption drain changes only its own instance and node',
          `${e.name} (${instance}): ${a.operation} ${a.target}`,
        );
    }
  }

  // Forged starts: refused, succeeded, and nothing changed by them.
  for (const e of r.executions.filter((x) => x.workflow === 'interruption' && x.name.startsWith('crafted-'))) {
    const did = (e.output as { did?: { refused?: boolean } } | null)?.did;
    if (e.status !== 'SUCCEEDED' || did?.refused !== true)
      add('a forged start is refused, and succeeds', `${e.name}: ${e.status} ${JSON.stringify(did ?? e.error)}`);
    const changed = r.audit.filter((a) => a.execution === e.name);
    if (changed.length)
      add(
        'a forged start changes nothing',
        `${e.name}: ${changed.map((a) => `${a.operation} ${a.target}`).join(', ')}`,
      );
  }

  // Every ended drain closed its ledger entry.
  if (ended) {
    for (const g of r.groups) {
      for (const [id, raw] of Object.entries(g.lease?.interruptions ?? {})) {
        const entry = raw as { execution?: string; doneAt?: number } | null;
        const owner = entry?.execution ? r.executions.find((e) => entry.execution!.endsWith(`:${e.name}`)) : undefined;
        if (owner && owner.status !== 'RUNNING' && owner.status !== 'ABORTED' && entry?.doneAt === undefined)
          add('every path of the drain closes its entry', `${g.name}: ${id} by ${owner.name} (${owner.status})`);
      }
    }
  }

  // A node an interruption drain marked is the drain's: no other execution uncordons it until the drain has ended.
  for (const mark of r.audit.filter(
    (a) =>
      a.outcome === 'ok' && a.change?.includes('taint node-manager.io/interruption') && !a.change.includes('untaint'),
  )) {
    const drain = r.executions.find((e) => e.name === mark.execution);
    const until = drain?.stoppedAt ?? Number.POSITIVE_INFINITY;
    for (const a of r.audit) {
      if (
        a.target !== mark.target ||
        a.outcome !== 'ok' ||
        a.execution === mark.execution ||
        !a.change?.includes('uncordon') ||
        a.at < mark.at ||
        a.at > until
      )
        continue;
      add(
        "an interruption drain's node is never uncordoned by another execution while it drains",
        `${mark.target}: marked by ${mark.execution} at ${mark.at}s, uncordoned by ${a.execution} (${a.step}) at ${a.at}s`,
      );
    }
  }

  // A SUCCEEDED refresh (the last of its chain) left no node older than the start it kept.
  for (const e of r.executions) {
    if (e.workflow !== 'refresh' || e.status !== 'SUCCEEDED' || e.continuedAs.length) continue;
    const out = e.output as {
      group?: string;
      startedAt?: number;
      dryRun?: boolean;
      did?: { skipped?: unknown };
    } | null;
    if (!out || out.dryRun || typeof out.startedAt !== 'number') continue;
    const startSeconds = (out.startedAt - Date.parse(r.startedAt)) / 1000;
    const g = r.groups.find((x) => x.name === out.group);
    const old = (g?.members ?? []).filter((m) => m.nodeCreatedAt !== null && m.nodeCreatedAt < startSeconds);
    if (old.length)
      add('a SUCCEEDED refresh leaves no node older than its start', `${e.name}: ${old.map((m) => m.node).join(', ')}`);
  }
  return out;
}

export interface ChaosOutcome {
  readonly scenario: Record<string, unknown>;
  readonly breaks: readonly Break[];
  readonly realMs: number;
}

/** Runs one generated scenario through the real ASL and handlers and checks it. */
export async function runChaos(raw: Record<string, unknown>): Promise<ChaosOutcome> {
  const t0 = performance.now();
  const s = parseScenario(raw);
  const { report } = await runScenario(s);
  return { scenario: raw, breaks: checkInvariants(s, report), realMs: performance.now() - t0 };
}
