import fc from 'fast-check';
import { checkInvariants, runChaos, scenarioArbitrary } from '../../sim/chaos/campaign';
import { parseScenario, runScenario, type Report } from '../../sim/scenario/run';

/** A fixed-seed slice of `npm run chaos`: the same scenarios every time, each through the real ASL and handlers. */
const SLICE = { seed: 20261127, runs: 12 };

describe('chaos campaign (fixed-seed slice)', () => {
  const scenarios = fc.sample(scenarioArbitrary, { seed: SLICE.seed, numRuns: SLICE.runs });

  it.each(scenarios.map((s, i) => [i, s] as const))('scenario %i keeps every invariant', async (_i, raw) => {
    const outcome = await runChaos(raw);
    expect(outcome.breaks).toEqual([]);
  });
});

/** Scenarios the campaign broke on, as it shrank them: each keeps every invariant now. */
describe('campaign finds, kept fixed', () => {
  it.each([
    [
      'seed 1211: a drain whose taint was throttled, retried after the node was gone, closes the entry it opened',
      {
        name: 'chaos-161334',
        seed: 161334,
        cluster: { name: 'example.k8s.local', kind: 'kops' },
        groups: [
          {
            name: 'spot',
            role: 'worker',
            zones: ['ap-northeast-1a', 'ap-northeast-1c'],
            perZone: 13,
            maxPerZone: 13,
            desiredReady: 26,
            surplus: 3,
            instanceAgeDays: 10,
            launchHook: true,
            drain: { barePods: 'skip-node', emptyDir: 'skip-node', onTimeout: 'quarantine', quarantineSeconds: 1800 },
            notReadyTimeoutSeconds: 900,
            repairMaxUnhealthy: '20%',
          },
          {
            name: 'master',
            role: 'control-plane',
            zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
            perZone: 1,
            maxPerZone: 1,
            desiredReady: 3,
            surplus: 0,
            instanceAgeDays: 30,
          },
        ],
        workloads: [],
        faults: [
          { kind: 'throttle', at: '0m', operation: 'patch nodes', times: 5 },
          { kind: 'nodeNotReady', at: '0m', group: 'spot', count: 1 },
        ],
        runs: [
          { workflow: 'refresh', at: '0m', input: { group: 'spot' } },
          { every: '15m', at: '3m', workflow: 'replenish', input: { group: 'spot' } },
          { every: '15m', at: '3m', workflow: 'replenish', input: { group: 'master' } },
          { on: 'interruption', workflow: 'interruption', duplicates: 0, maxDelaySeconds: 30, delaySeconds: 0 },
        ],
        until: '10h',
      },
    ],
    [
      'seed 1211: a later pause replaces an earlier one (the last word stands), and the refresh goes on when it ends',
      {
        name: 'chaos-352160',
        seed: 352160,
        cluster: { name: 'example.k8s.local', kind: 'kops' },
        groups: [
          {
            name: 'nodes',
            role: 'worker',
            zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
            perZone: 13,
            maxPerZone: 13,
            desiredReady: 39,
            surplus: 1,
            instanceAgeDays: 10,
            launchHook: true,
            lifecycle: 'on-demand',
            drain: { barePods: 'skip-node', emptyDir: 'evict', onTimeout: 'quarantine', quarantineSeconds: 1800 },
            notReadyTimeoutSeconds: 300,
            repairMaxUnhealthy: 1,
          },
        ],
        workloads: [],
        faults: [
          { kind: 'pause', at: '1m', group: 'nodes', reason: 'chaos', for: '5m' },
          { kind: 'pause', at: '0m', group: 'nodes', reason: 'chaos', for: '48m' },
          {
            kind: 'startExecution',
            at: '81m',
            workflow: 'interruption',
            name: 'crafted-other-region-81m',
            target: { group: 'nodes' },
            input: {
              version: '0',
              id: 'forged',
              'detail-type': 'EC2 Spot Instance Interruption Warning',
              source: 'aws.ec2',
              account: '123456789012',
              time: '$TIME',
              region: 'eu-west-1',
              resources: ['arn:aws:ec2:ap-northeast-1:123456789012:instance/$INSTANCE'],
              detail: { 'instance-id': '$INSTANCE', 'instance-action': 'terminate' },
            },
          },
        ],
        runs: [
          { workflow: 'refresh', at: '45m', input: { group: 'nodes' } },
          { every: '15m', at: '3m', workflow: 'replenish', input: { group: 'nodes' } },
          { on: 'interruption', workflow: 'interruption', duplicates: 0.5, maxDelaySeconds: 30, delaySeconds: 0 },
        ],
        until: '10h',
      },
    ],
    [
      'seed 1214: a quarantined node out of Standby on its way to termination is not a batch leaving',
      {
        name: 'chaos-599068',
        seed: 599068,
        cluster: { name: 'example.k8s.local', kind: 'kops' },
        groups: [
          {
            name: 'nodes',
            role: 'worker',
            zones: ['ap-northeast-1a', 'ap-northeast-1c'],
            perZone: 6,
            maxPerZone: 8,
            desiredReady: 12,
            surplus: 0,
            instanceAgeDays: 10,
            capacityRebalance: true,
            drain: { barePods: 'evict', emptyDir: 'evict', onTimeout: 'quarantine', quarantineSeconds: 7200 },
            notReadyTimeoutSeconds: 300,
            repairMaxUnhealthy: '20%',
          },
          {
            name: 'spot',
            role: 'worker',
            zones: ['ap-northeast-1a', 'ap-northeast-1c'],
            perZone: 12,
            maxPerZone: 12,
            desiredReady: 24,
            surplus: 3,
            instanceAgeDays: 10,
            capacityRebalance: true,
          },
        ],
        workloads: [{ name: 'app-0', group: 'nodes', replicas: 6, pdb: { maxUnavailable: 0 } }],
        faults: [],
        runs: [
          { workflow: 'refresh', at: '0m', input: { group: 'nodes' } },
          { every: '15m', at: '3m', workflow: 'replenish', input: { group: 'nodes' } },
          { every: '15m', at: '3m', workflow: 'replenish', input: { group: 'spot' } },
        ],
        until: '10h',
      },
    ],
    [
      'seed 1225: a repair whose termination failed after its cordon is finished by the next pass (the cordoned node was no NotReady member to repair any more)',
      {
        name: 'chaos-774298',
        seed: 774298,
        cluster: { name: 'example.k8s.local', kind: 'kops' },
        groups: [
          {
            name: 'nodes',
            role: 'worker',
            zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d', 'ap-northeast-1b'],
            perZone: 2,
            maxPerZone: 3,
            desiredReady: 8,
            surplus: 2,
            instanceAgeDays: 10,
            terminateHook: { heartbeatTimeoutSeconds: 120, maxHeartbeats: 3 },
            launchHook: true,
            capacityRebalance: true,
            notReadyTimeoutSeconds: 900,
            repairMaxUnhealthy: 3,
          },
        ],
        workloads: [],
        faults: [
          { kind: 'callFailure', at: '92m', operation: 'TerminateInstanceInAutoScalingGroup', times: 1 },
          { kind: 'nodeNotReady', at: '92m', group: 'nodes', count: 1 },
        ],
        runs: [
          { workflow: 'refresh', at: '81m', input: { group: 'nodes' } },
          { workflow: 'refresh', at: '90m', input: { group: 'nodes' } },
          { every: '10m', at: '3m', workflow: 'replenish', input: { group: 'nodes' } },
          { on: 'autoscaling', workflow: 'replenish', input: { group: 'nodes' } },
          { on: 'interruption', workflow: 'interruption', duplicates: 0.5, maxDelaySeconds: 0, delaySeconds: 0 },
        ],
        until: '10h',
      },
    ],
  ])('%s', async (_what, raw) => {
    const s = parseScenario(raw);
    expect(checkInvariants(s, (await runScenario(s)).report)).toEqual([]);
  });
});

describe('the invariant checker', () => {
  const raw = {
    name: 'checker',
    cluster: { name: 'example.k8s.local', kind: 'kops' },
    groups: [
      {
        name: 'nodes',
        role: 'worker',
        zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
        perZone: 1,
        maxPerZone: 2,
        desiredReady: 3,
        surplus: 1,
      },
    ],
    workloads: [{ name: 'web', group: 'nodes', replicas: 4, pdb: { maxUnavailable: 1 } }],
    runs: [{ at: '0s', workflow: 'refresh', input: { group: 'nodes' } }],
    until: '2h',
  };
  let good: Report;
  const s = parseScenario(raw);
  beforeAll(async () => {
    good = (await runScenario(s)).report;
  });
  const broken = (mutate: (r: Report) => void) => {
    const r = structuredClone(good) as Report;
    mutate(r);
    return checkInvariants(s, r).map((b) => b.invariant);
  };

  it('finds nothing wrong with a clean refresh', () => {
    expect(checkInvariants(s, good)).toEqual([]);
  });

  it("holds an interruption drain to its own instance and node, counting only calls that went through (the campaign's seed 2028)", () => {
    const drainTouching = (target: string, outcome: string) =>
      broken((r) => {
        const e = r.executions[0];
        r.executions.push({
          ...e,
          workflow: 'interruption',
          name: 'interruption-009',
          input: { detail: { 'instance-id': 'i-0aaa' } },
          output: { ignored: 'i-0aaa has no node: nothing to drain' },
          continuedAs: [],
        });
        r.audit.push({
          at: 1,
          api: 'kube',
          operation: 'patch nodes',
          target,
          group: 'nodes',
          execution: 'interruption-009',
          step: 'Take the notice',
          outcome,
        });
      });
    // Its node was gone by the end, so the output names none: a throttled taint of it changed nothing.
    expect(drainTouching('node/ip-10-0-0-26', '429 TooManyRequests')).toEqual([]);
    expect(drainTouching('node/ip-10-0-0-26', 'ok')).toContain(
      'an interruption drain changes only its own instance and node',
    );
  });

  it('sees a held lease, a cordon left behind, an ASG away from home, an instance outside every ASG', () => {
    expect(
      broken((r) => {
        const g = r.groups[0] as {
          lease: unknown;
          members: Array<{ cordonedBy: string | null }>;
          asgs: Array<{ max: number }>;
        };
        g.lease = { holder: 'arn:refresh-001', kind: 'refresh', journal: null, memory: null };
        g.members[0].cordonedBy = 'refresh-001';
        g.asgs[0].max = 3;
        (r.outsideAsgs as unknown[]).push({
          instanceId: 'i-0abc',
          nodeGroup: 'nodes',
          zone: 'ap-northeast-1a',
          state: 'running',
          launchedAt: 10,
          node: null,
        });
      }),
    ).toEqual(
      expect.arrayContaining([
        'no lease held at the end',
        'nothing cordoned by us at the end',
        'every ASG at home, or the report says why',
        'no instance of ours outside an ASG',
      ]),
    );
  });

  it('explains a lease left by a stopped refresh when no real run came after it (a dry run does not count)', () => {
    const abandon = (later?: { dryRun: boolean }) =>
      broken((r) => {
        const e = r.executions[0] as { status: string; stoppedAt: number | null; name: string };
        e.status = 'ABORTED';
        e.stoppedAt = 100;
        (r.groups[0] as { lease: unknown }).lease = {
          holder: `arn:aws:states:ap-northeast-1:123456789012:execution:node-manager-refresh:${e.name}`,
          kind: 'refresh',
          journal: { cordoned: [], original: {} },
          memory: null,
        };
        if (later)
          r.executions.push({
            ...r.executions[0],
            name: 'refresh-009',
            status: 'SUCCEEDED',
            startedAt: 200,
            input: { group: 'nodes', ...later },
            output: null,
            continuedAs: [],
          });
      });
    expect(abandon()).not.toContain('no lease held at the end');
    expect(abandon({ dryRun: true })).not.toContain('no lease held at the end');
    expect(abandon({ dryRun: false })).toContain('no lease held at the end');
  });

  it('sees Ready below desired, pods deleted without eviction, an unnamed failure, a run still going, overlapping executions, an old node after success', () => {
    const names = broken((r) => {
      const g = r.groups[0] as {
        minReady: number;
        maxLeaving: number;
        members: Array<{ nodeCreatedAt: number | null }>;
      };
      g.minReady = 2;
      g.maxLeaving = 2;
      g.members[0].nodeCreatedAt = -86400;
      (r.pods as { deletedWithoutEviction: number }).deletedWithoutEviction = 1;
      const e = r.executions[0];
      r.executions.push({
        ...e,
        name: 'refresh-002',
        status: 'FAILED',
        error: 'TypeError',
        output: null,
        continuedAs: [],
      });
      r.executions.push({ ...e, name: 'refresh-003', status: 'RUNNING', output: null });
      const first = r.audit.find((a) => a.group === 'nodes' && a.execution && !a.target.startsWith('item/'))!;
      r.audit.push({ ...first, execution: 'replenish-009', at: first.at + 1 });
      r.audit.push({ ...first, execution: 'replenish-009', at: first.at + 2 });
    });
    expect(names).toEqual(
      expect.arrayContaining([
        'Ready never below desiredReady because of us (surplus >= 1)',
        'never more nodes leaving than the batch',
        'a SUCCEEDED refresh leaves no node older than its start, but those it names',
        'no pod deleted without eviction',
        'failures are named',
        'every execution ends',
        'never two executions mutating one group at once',
      ]),
    );
  });

  it('lets an interruption drain change its own instance and node beside a refresh, and nothing else', () => {
    const own = 'i-0aaaaaaaaaaaaaaa1';
    const names = broken((r) => {
      const e = r.executions[0];
      r.executions.push({
        ...e,
        workflow: 'interruption',
        name: 'interruption-007',
        input: { detail: { 'instance-id': own } },
        output: { node: 'ip-own' },
        continuedAs: [],
      });
      const first = r.audit.find((a) => a.group === 'nodes' && a.execution && !a.target.startsWith('item/'))!;
      r.audit.push({
        ...first,
        execution: 'interruption-007',
        operation: 'DetachInstances',
        target: `asg/x instances=${own} decrement=false`,
        at: first.at + 1,
      });
      r.audit.push({
        ...first,
        execution: 'interruption-007',
        operation: 'patch nodes',
        target: 'node/ip-own',
        at: first.at + 1,
      });
    });
    expect(names).toEqual([]);
    const wrong = broken((r) => {
      const e = r.executions[0];
      r.executions.push({
        ...e,
        workflow: 'interruption',
        name: 'interruption-007',
        input: { detail: { 'instance-id': own } },
        output: { node: 'ip-own' },
        continuedAs: [],
      });
      const first = r.audit.find((a) => a.group === 'nodes' && a.execution && !a.target.startsWith('item/'))!;
      r.audit.push({
        ...first,
        execution: 'interruption-007',
        operation: 'patch nodes',
        target: 'node/ip-someone-else',
        at: first.at + 1,
      });
    });
    expect(wrong).toEqual(['an interruption drain changes only its own instance and node']);
  });
});
