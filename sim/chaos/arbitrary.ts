import fc from 'fast-check';

/** The campaign's scenarios: fast-check arbitraries over the scenario format, faults and forged starts included. */

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
  drain?: { barePods: string; emptyDir: string; onTimeout: string; quarantineSeconds?: number };
  notReadyTimeoutSeconds?: number;
  repairMaxUnhealthy?: number | string;
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
      drain: fc.option(
        fc.record({
          barePods: fc.constantFrom('skip-node', 'evict'),
          emptyDir: fc.constantFrom('evict', 'skip-node'),
          onTimeout: fc.constantFrom('fail', 'skip', 'force', 'quarantine'),
          quarantineSeconds: fc.constantFrom(300, 1800, 7200),
        }),
        { nil: undefined },
      ),
      repair: fc.option(
        fc.record({
          notReadyTimeoutSeconds: fc.constantFrom(300, 900),
          repairMaxUnhealthy: fc.constantFrom<number | string>('20%', 1, 3),
        }),
        { nil: undefined },
      ),
    })
    .map(({ zones, nodes, headroom, surplus, hook, capacityRebalance, launchHook, onDemand, drain, repair }) => {
      const perZone = Math.max(1, Math.round(nodes / zones));
      return {
        name,
        role: 'worker' as const,
        zones: ZONES.slice(0, zones),
        perZone,
        maxPerZone: perZone + headroom,
        desiredReady: perZone * zones,
        // The deployment file refuses a surplus above desiredReady (it is also the batch).
        surplus: Math.min(surplus, perZone * zones),
        instanceAgeDays: 10,
        ...(hook ? { terminateHook: hook } : {}),
        ...(launchHook ? { launchHook } : {}),
        ...(capacityRebalance ? { capacityRebalance } : {}),
        ...(onDemand ? { lifecycle: 'on-demand' as const } : {}),
        ...(drain ? { drain } : {}),
        ...(repair ?? {}),
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
        // Bare pods, Jobs, emptyDir data, do-not-disrupt and requests: what the drain policy and the health gate judge.
        kind: fc.constantFrom('ReplicaSet', 'ReplicaSet', 'ReplicaSet', 'Job', 'Pod'),
        emptyDir: fc.constantFrom(false, false, true),
        doNotDisrupt: fc.constantFrom(undefined, undefined, undefined, 'true', '30m'),
        cpu: fc.constantFrom(undefined, undefined, '200m', '700m'),
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
        fc.constantFrom(...workerNames).chain((g) =>
          fc.record({
            kind: fc.constant('nodeNotReady'),
            at,
            group: fc.constant(g),
            zone: fc.option(zoneOf(g), { nil: undefined }),
            count: fc.integer({ min: 1, max: 3 }),
            for: fc.option(fc.integer({ min: 2, max: 60 }).map(minutes), { nil: undefined }),
          }),
        ),
        fc.constantFrom(...workerNames).chain((g) =>
          fc.record({
            kind: fc.constant('scaleAsg'),
            at,
            group: fc.constant(g),
            zone: zoneOf(g),
            desired: fc.integer({ min: 1, max: 2 }).map((k) => groups.find((x) => x.name === g)!.perZone + k),
          }),
        ),
        fc.record({ kind: fc.constant('stopExecution'), at, workflow: fc.constant('refresh') }),
        // An operator's pause, through the code the CLI uses: no batch may start while it holds.
        fc.constantFrom(...names).chain((g) =>
          fc.record({
            kind: fc.constant('pause'),
            at,
            group: fc.constant(g),
            reason: fc.constant('chaos'),
            for: fc.integer({ min: 5, max: 90 }).map(minutes),
          }),
        ),
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
        .map(({ workloads, faults, refreshes, replenishEvery: every, onEvents, interruption }) => {
          // Replenish reaps what a refresh quarantined: the deployment file refuses quarantine without its schedule.
          const replenishEvery = every ?? (drafts.some((d) => d.drain?.onTimeout === 'quarantine') ? 15 : undefined);
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
              ...(w.kind !== 'ReplicaSet' ? { kind: w.kind } : {}),
              ...(w.emptyDir ? { emptyDir: true } : {}),
              ...(w.doNotDisrupt ? { annotations: { 'karpenter.sh/do-not-disrupt': w.doNotDisrupt } } : {}),
              ...(w.cpu ? { requests: { cpu: w.cpu } } : {}),
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
