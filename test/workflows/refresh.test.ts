import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import validateAsl from 'asl-validator';
import { parseScenario, runScenario, type Report, type ScenarioOptions } from '../../sim/scenario/run';
import type { Simulator } from '../../sim/simulator';

const SCENARIOS = join(__dirname, '..', '..', 'examples', 'scenarios');
const load = (name: string) => parseScenario(JSON.parse(readFileSync(join(SCENARIOS, `${name}.json`), 'utf8')));
const run = (name: string, options?: ScenarioOptions) => runScenario(load(name), options);

const MUTATING_AWS = [
  'SetDesiredCapacity',
  'UpdateAutoScalingGroup',
  'TerminateInstanceInAutoScalingGroup',
  'DetachInstances',
  'TerminateInstances',
  'UpdateItem',
  'PutItem',
  'DeleteItem',
];
const MUTATING_KUBE = ['patch nodes', 'delete nodes', 'create pods/eviction'];

function group(r: Report, name: string) {
  return r.groups.find((g) => g.name === name)!;
}

/** Every ASG at its home desired and MaxSize, nothing cordoned, the lease free. */
function expectHome(r: Report, sim: Simulator, name: string, homeMax: number) {
  const g = group(r, name);
  for (const a of g.asgs)
    expect({ asg: a.name, desired: a.desired, max: a.max }).toEqual({
      asg: a.name,
      desired: a.homeDesired,
      max: homeMax,
    });
  expect(g.members.filter((m) => m.unschedulable)).toEqual([]);
  const lease = sim.tables.table('node-manager-leases')!.items.get(name);
  expect(lease?.holder).toBeUndefined();
}

describe('statemachines/refresh.asl.json', () => {
  it('is valid Amazon States Language with every state reachable by name', () => {
    const def = JSON.parse(readFileSync(join(__dirname, '..', '..', 'statemachines', 'refresh.asl.json'), 'utf8'));
    const result = validateAsl(structuredClone(def));
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
    expect(def.TimeoutSeconds).toBeGreaterThan(0);
    expect(def.StartAt).toBe('Validate input');
  });
});

describe('refresh on the simulator (shipped scenarios)', () => {
  it('workers, surplus 1: every node newer than the start, Ready never below desired, home layout, no eviction skipped', async () => {
    const { report, sim } = await run('kops-weekly');
    const [e] = report.executions;
    expect(e).toMatchObject({ workflow: 'refresh', status: 'SUCCEEDED', error: null });
    const nodes = group(report, 'nodes');
    expect(nodes.members).toHaveLength(3);
    expect(nodes.members.every((m) => m.launchedAt >= 0 && m.ready && m.node)).toBe(true);
    expect(new Set(nodes.members.map((m) => m.zone)).size).toBe(3);
    expect(nodes.minReady).toBeGreaterThanOrEqual(nodes.desiredReady);
    expectHome(report, sim, 'nodes', 1);
    expect(report.pods.deletedWithoutEviction).toBe(0);
    expect(report.pods.evictions).toBeGreaterThan(0);
    expect(report.totals.simulatedSeconds).toBeGreaterThanOrEqual(report.totals.lowerBoundSeconds);
    // The control plane was not touched.
    expect(group(report, 'master').members.every((m) => m.launchedAt < 0)).toBe(true);
  });

  it('control plane, surplus 0: one at a time, each replacement in its own ASG, at most one down', async () => {
    const { report, sim, runner } = await run('kops-control-plane');
    expect(report.executions[0].status).toBe('SUCCEEDED');
    const masters = group(report, 'master');
    expect(masters.minReady).toBe(masters.desiredReady - 1);
    for (const a of masters.asgs) {
      const inAsg = masters.members.filter((m) => m.asg === a.name);
      expect(inAsg).toHaveLength(1);
      expect(inAsg[0]).toMatchObject({ zone: a.zone, ready: true });
      expect(inAsg[0].launchedAt).toBeGreaterThanOrEqual(0);
    }
    // Never two terminations before the previous replacement was Ready: each terminate follows a whole check.
    // A batch is picked only once the group is whole, so each termination follows its own pick.
    const passes = runner.timeline
      .filter((t) => t.state === 'Replace oldest nodes' && t.outcome === 'ok')
      .map((t) => t.summary as { batch?: string[]; terminated?: string[] })
      .flatMap((s) => [...(s.batch ? ['pick'] : []), ...(s.terminated ? ['terminate'] : [])]);
    expect(passes).toEqual(['pick', 'terminate', 'pick', 'terminate', 'pick', 'terminate']);
    // A first refresh with nothing to add plans nothing: it resumes nothing either.
    expect(runner.timeline.find((t) => t.state === 'Add surplus nodes')!.summary).toEqual({
      added: 0,
      changes: [],
      waitSeconds: 0,
    });
    expectHome(report, sim, 'master', 1);
  });

  it('a PDB that blocks past the drain timeout: DrainTimeout naming the budget, node uncordoned, surplus given back, nothing else terminated', async () => {
    const { report, sim } = await run('pdb-blocks-drain');
    const [e] = report.executions;
    expect(e.status).toBe('FAILED');
    expect(e.error).toBe('DrainTimeout');
    expect(e.cause).toContain('The disruption budget web');
    const nodes = group(report, 'nodes');
    // The three original nodes are all there, Ready and schedulable; the surplus node is gone.
    expect(nodes.members.map((m) => m.launchedAt < 0)).toEqual([true, true, true]);
    expect(nodes.members.every((m) => m.ready)).toBe(true);
    expectHome(report, sim, 'nodes', 1);
    expect(report.totals.awsCalls.TerminateInstanceInAutoScalingGroup).toBe(1);
    expect(report.pods.deletedWithoutEviction).toBe(0);
  });

  it('replacements that never join: ReplacementTimeout, no further old node terminated, cleanup done', async () => {
    const { report, sim } = await run('replacement-never-joins');
    const [e] = report.executions;
    expect(e.status).toBe('FAILED');
    expect(e.error).toBe('ReplacementTimeout');
    expect(e.cause).toMatch(/needs 4, after 900s; waiting for: i-0[0-9a-f]+ in nodes-ap-northeast-1c/);
    const nodes = group(report, 'nodes');
    // The 1d node is still the original: nothing was touched after the replacement failed to come.
    expect(nodes.members.find((m) => m.zone === 'ap-northeast-1d')!.launchedAt).toBeLessThan(0);
    // The 1a node is kept for last (the surplus went to 1a), so 1c's is the first replaced.
    expect(report.totals.awsCalls.TerminateInstanceInAutoScalingGroup).toBe(1);
    // The surplus is kept: giving it back would leave fewer Ready nodes than desired.
    expect(nodes.readyAtEnd).toBeGreaterThanOrEqual(nodes.desiredReady);
    expect(nodes.members.filter((m) => m.unschedulable)).toEqual([]);
    expect(sim.tables.table('node-manager-leases')!.items.get('nodes')?.holder).toBeUndefined();
  });

  it('throttling and crashing steps change nothing in the outcome', async () => {
    const { report, sim, runner } = await run('faults-retried');
    expect(report.executions[0].status).toBe('SUCCEEDED');
    expect(runner.timeline.filter((t) => t.outcome === 'retry').length).toBeGreaterThan(3);
    const nodes = group(report, 'nodes');
    expect(nodes.members.every((m) => m.launchedAt >= 0 && m.ready)).toBe(true);
    expect(nodes.members).toHaveLength(3);
    expect(nodes.minReady).toBeGreaterThanOrEqual(3);
    expectHome(report, sim, 'nodes', 1);
    expect(report.pods.deletedWithoutEviction).toBe(0);
  });

  it('an execution stopped mid-way is recovered by the next run from the journal', async () => {
    const { report, sim } = await run('stopped-and-resumed');
    expect(report.executions.map((e) => e.status)).toEqual(['ABORTED', 'SUCCEEDED']);
    const nodes = group(report, 'nodes');
    expect(nodes.members.every((m) => m.launchedAt >= 0 && m.ready)).toBe(true);
    expectHome(report, sim, 'nodes', 1);
    expect(nodes.minReady).toBeGreaterThanOrEqual(3);
    expect(report.pods.deletedWithoutEviction).toBe(0);
  });

  it('a second refresh of the same group fails fast with LeaseHeld; bad input fails fast mutating nothing', async () => {
    const s = load('kops-weekly');
    const { report } = await runScenario({
      ...s,
      runs: [
        { at: 0, workflow: 'refresh', input: { group: 'nodes' } },
        { at: 60, workflow: 'refresh', input: { group: 'nodes' } },
      ],
    });
    const [first, second] = report.executions;
    expect(first.status).toBe('SUCCEEDED');
    expect(second).toMatchObject({ status: 'FAILED', error: 'LeaseHeld', startedAt: 60, stoppedAt: 60 });
    expect(second.cause).toContain('group nodes is held by refresh');

    for (const input of [
      { group: 'nope' },
      { group: 'nodes', dryRun: 'yes' },
      { group: 'nodes', surplus: -1 },
      'nodes',
    ]) {
      const bad = await runScenario({ ...s, runs: [{ at: 0, workflow: 'refresh', input }] });
      expect(bad.report.executions[0]).toMatchObject({ status: 'FAILED', error: 'InvalidInput', stoppedAt: 0 });
      for (const op of MUTATING_AWS) expect(bad.report.totals.awsCalls[op] ?? 0).toBe(0);
      for (const op of MUTATING_KUBE) expect(bad.report.totals.kubeCalls[op] ?? 0).toBe(0);
    }
    const unknown = await runScenario({ ...s, runs: [{ at: 0, workflow: 'refresh', input: { group: 'nope' } }] });
    // Lambda's Cause: a JSON object with the error type and message.
    expect(JSON.parse(unknown.report.executions[0].cause!)).toEqual({
      errorType: 'InvalidInput',
      errorMessage: '"group" must be one of "master", "nodes"; got "nope"',
    });
  });

  it('dryRun reads and plans, changes nothing, and returns the plan', async () => {
    const s = load('kops-weekly');
    const { report, runner } = await runScenario({
      ...s,
      runs: [{ at: 0, workflow: 'refresh', input: { group: 'nodes', dryRun: true } }],
    });
    expect(report.executions[0].status).toBe('SUCCEEDED');
    const out = runner.executions[0].output as { did: { replaceInOrder: string[][]; surge: unknown[] } };
    expect(out.did.replaceInOrder).toHaveLength(3);
    // The run's order: the node in the ASG the surplus goes to is the last (the surplus stands in for it).
    expect(out.did.replaceInOrder[0][0]).toMatch(/ip-.* \(i-0[0-9a-f]+, ap-northeast-1[cd], 10d old\)/);
    expect(out.did.replaceInOrder[2][0]).toMatch(/ip-.* \(i-0[0-9a-f]+, ap-northeast-1a, 10d old\)/);
    expect(out.did.surge).toEqual([{ asg: 'nodes-ap-northeast-1a.example.k8s.local', desired: '1 -> 2', maxSize: 2 }]);
    for (const op of MUTATING_AWS) expect(report.totals.awsCalls[op] ?? 0).toBe(0);
    for (const op of MUTATING_KUBE) expect(report.totals.kubeCalls[op] ?? 0).toBe(0);
  });

  it('continues in a fresh execution before the history budget runs out, and finishes the refresh there', async () => {
    const s = load('kops-weekly');
    const bigger = {
      ...s,
      groups: s.groups.map((g) => (g.name === 'nodes' ? { ...g, perZone: 20, maxPerZone: 20, desiredReady: 60 } : g)),
    };
    const { report, sim } = await runScenario(bigger, { historyEventBudget: 500 });
    const statuses = report.executions.map((e) => e.status);
    expect(statuses.every((st) => st === 'SUCCEEDED')).toBe(true);
    expect(report.executions.length).toBeGreaterThan(1);
    expect(report.executions[0].continuedAs).toEqual([report.executions[1].name]);
    for (const e of report.executions) expect(e.historyEvents).toBeLessThan(500 + 200);
    const nodes = group(report, 'nodes');
    expect(nodes.members.every((m) => m.launchedAt >= 0 && m.ready)).toBe(true);
    expect(nodes.members).toHaveLength(60);
    expect(nodes.minReady).toBeGreaterThanOrEqual(60);
    expectHome(report, sim, 'nodes', 20);
    // What the first execution watched went on with the refresh: one summary for the 60 nodes, one
    // value per batch, and a duration set against all its batches.
    const told = report.summaries.filter((m) => /refresh of nodes/.test(m.subject ?? ''));
    expect(told).toHaveLength(1);
    expect(told[0].message).toMatch(/done: 60 of 60 nodes replaced in \d+ min, never below 60 Ready/);
    expect(report.metrics.nodes.SecondsBelowDesired.count).toBe(60);
    expect(report.metrics.nodes.RefreshBoundRatio.max).toBeLessThan(1.2);
  });

  it('learns how long launches take: a second refresh looks once per launch, the last batch goes with decrement, no surplus is drained back out', async () => {
    const s = load('kops-weekly');
    // Replenish passes in between keep what the first refresh learned (the group's memory is shared).
    const runs = [
      s.runs[0],
      { at: 3 * 3600, workflow: 'refresh' as const, input: { group: 'nodes' } },
      { at: 1800, every: 300, workflow: 'replenish' as const, input: { group: 'nodes' } },
    ];
    const { report, runner, sim } = await runScenario({ ...s, runs, until: 6 * 3600 });
    expect(report.executions.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    const second = report.executions.filter((e) => e.workflow === 'refresh')[1].name;
    const passes = runner.timeline
      .filter((t) => t.execution === second && t.state === 'Replace oldest nodes')
      .map(
        (t) =>
          t.summary as {
            whole?: boolean;
            batch?: unknown;
            terminated?: unknown;
            withDecrement?: boolean;
            readyAfter?: string;
          },
      );
    const surge = runner.timeline.find((t) => t.execution === second && t.state === 'Add surplus nodes')!.summary as {
      waitSeconds: number;
    };
    // Boot 90 s + join 60 s, learned by the first refresh from the nodes' Ready transitions.
    expect(surge.waitSeconds).toBe(151);
    // Never a look too early: every pass either picks (the group was whole) or finds the pods gone.
    expect(passes.filter((p) => p.whole === false)).toEqual([]);
    expect(passes.filter((p) => p.batch)).toHaveLength(3);
    expect(passes.at(-1)).toMatchObject({ withDecrement: true });
    const givingBack = runner.timeline.filter((t) => t.execution === second && t.state === 'Give surplus back');
    expect(givingBack).toHaveLength(1);
    expect(
      report.audit.filter(
        (a) => a.execution === second && a.step === 'Give surplus back' && a.operation === 'create pods/eviction',
      ),
    ).toEqual([]);
    expectHome(report, sim, 'nodes', 1);
  });

  it('a budget that lets one pod go at a time: each batch drains inside one step, each eviction as soon as the budget frees', async () => {
    const s = load('kops-weekly');
    const { report, runner } = await runScenario({ ...s, workloads: [{ ...s.workloads[0], replicas: 12 }] });
    expect(report.executions[0].status).toBe('SUCCEEDED');
    const passes = runner.timeline
      .filter((t) => t.state === 'Replace oldest nodes')
      .map((t) => t.summary as { batch?: unknown; terminated?: unknown });
    // Every pass that picked a batch also terminated it: no Wait state between evictions.
    expect(passes.filter((p) => p.batch && !p.terminated)).toEqual([]);
    // Four web pods per node, one at a time: a replacement starts in 5 s (podStartSeconds), then the
    // next goes. The first wait of the group's first drain is a guess (10 s); the rest are measured.
    const ok = report.audit
      .filter((a) => a.operation === 'create pods/eviction' && a.outcome === 'ok')
      .map((a) => a.at);
    const gaps = ok
      .slice(1)
      .map((at, i) => at - ok[i])
      .filter((g) => g < 60);
    expect(gaps).toHaveLength(9);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(10);
    expect(gaps.slice(3).every((g) => g >= 5 && g <= 7)).toBe(true);
    // Within a tenth of the physical bound on the first refresh, before anything is learned.
    expect(report.totals.simulatedSeconds / report.totals.lowerBoundSeconds).toBeLessThan(1.1);
  });

  it("a refresh longer than a day continues in a fresh execution before Step Functions' 24-hour timeout", async () => {
    // 30 nodes whose launches take 50 minutes: about 26 hours of batches.
    const s = parseScenario({
      name: 'slow-boots',
      cluster: { name: 'example.k8s.local', kind: 'kops' },
      timing: { bootSeconds: 2940, joinSeconds: 60 },
      groups: [
        {
          name: 'nodes',
          role: 'worker',
          zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
          perZone: 10,
          maxPerZone: 10,
          desiredReady: 30,
          surplus: 1,
          joinTimeoutSeconds: 3600,
        },
      ],
      workloads: [{ name: 'web', namespace: 'default', group: 'nodes', replicas: 30, pdb: { maxUnavailable: 1 } }],
      runs: [{ at: '0s', workflow: 'refresh', input: { group: 'nodes' } }],
      until: '2d',
    });
    const { report, sim } = await runScenario(s);
    expect(report.executions.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(report.executions[0].continuedAs).toEqual([report.executions[1].name]);
    const first = report.executions[0];
    expect(first.stoppedAt! - first.startedAt).toBeGreaterThan(20 * 3600);
    expect(first.stoppedAt! - first.startedAt).toBeLessThan(24 * 3600);
    const nodes = group(report, 'nodes');
    expect(nodes.members.every((m) => m.launchedAt >= 0 && m.ready)).toBe(true);
    expect(nodes.minReady).toBeGreaterThanOrEqual(30);
    expectHome(report, sim, 'nodes', 10);
  });

  it('300-node group, surplus 10: succeeds in batches of 10, Ready never below desired, no execution past 25,000 history events', async () => {
    const { report, sim, runner } = await run('large-300');
    expect(report.executions.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    for (const e of report.executions) expect(e.historyEvents).toBeLessThan(25_000);
    const nodes = group(report, 'nodes');
    expect(nodes.members).toHaveLength(300);
    expect(nodes.members.every((m) => m.launchedAt >= 0 && m.ready)).toBe(true);
    expect(nodes.minReady).toBeGreaterThanOrEqual(300);
    const batches = runner.timeline
      .filter((t) => t.state === 'Replace oldest nodes' && (t.summary as { terminated?: string[] }).terminated)
      .map((t) => (t.summary as { terminated: string[] }).terminated.length);
    expect(batches).toEqual(Array(30).fill(10));
    expectHome(report, sim, 'nodes', 100);
    expect(report.pods.deletedWithoutEviction).toBe(0);
  }, 120_000);
});
