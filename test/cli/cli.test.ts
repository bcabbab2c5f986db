import { runScenario } from '../../sim/scenario/run';
import { nodeManagerStack } from '../../sim/aws/cloudformation';
import { workerScenario } from '../fixtures';
import { cliAt, find, invoke, type CliRun } from './served';

/** Nine Spot workers in three zones, a surplus of one: a refresh of about 40 minutes. */
const scenario = (runs: unknown[], until = '3h') =>
  workerScenario(
    'cli',
    { perZone: 3, maxPerZone: 4, desiredReady: 9, surplus: 1 },
    { workloads: [{ name: 'web', group: 'nodes', replicas: 6, pdb: { maxUnavailable: 1 } }], runs, until },
  );

describe('the node-manager CLI against the served simulator (its SDK over the wire)', () => {
  const runs: CliRun[] = [];
  let report: Awaited<ReturnType<typeof runScenario>>['report'];

  beforeAll(async () => {
    ({ report } = await runScenario(scenario([{ at: '1m', workflow: 'refresh', input: { group: 'nodes' } }]), {
      aws: { port: 0, overWire: true },
      onReady: (sim, runner) => {
        cliAt(sim, runner, 15 * 60, ['status'], runs);
        cliAt(sim, runner, 15 * 60 + 1, ['status', 'nodes', '--json'], runs);
        cliAt(sim, runner, 16 * 60, ['pause', 'nodes', '--reason', 'change freeze', '--until', '30m'], runs);
        cliAt(sim, runner, 16 * 60 + 1, ['status', 'nodes'], runs);
        cliAt(sim, runner, 16 * 60 + 2, ['refresh', 'nodes'], runs);
        cliAt(sim, runner, 16 * 60 + 3, ['pause', 'nodes', '--reason', 'incident 42'], runs);
        cliAt(sim, runner, 17 * 60, ['resume', 'nodes'], runs);
        cliAt(sim, runner, 17 * 60 + 1, ['status', 'nodes'], runs);
        cliAt(sim, runner, 150 * 60, ['history', 'nodes'], runs);
        cliAt(sim, runner, 150 * 60 + 1, ['history', 'nodes', '--json'], runs);
        cliAt(sim, runner, 151 * 60, ['refresh', 'nodes', '--dry-run', '--interval', '0.05'], runs);
        cliAt(sim, runner, 152 * 60, ['status', 'masters'], runs);
        cliAt(sim, runner, 152 * 60, ['pause'], runs);
        cliAt(sim, runner, 152 * 60, ['--stack', 'NodeManager-other', 'status'], runs);
        cliAt(sim, runner, 152 * 60, ['status'], runs, {
          PATH: process.env.PATH,
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
        });
        cliAt(sim, runner, 152 * 60, ['status'], runs, {
          PATH: process.env.PATH,
          AWS_REGION: 'ap-northeast-1',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
          AWS_CONFIG_FILE: '/nonexistent',
          AWS_EC2_METADATA_DISABLED: 'true',
        });
        cliAt(sim, runner, 153 * 60, ['pause', 'nodes', '--until', 'tomorrow'], runs);
        sim.clock.at(sim.now() + 154 * 60 * 1000, 'second stack', () => {
          const first = [...sim.stacks.values()][0];
          const second = nodeManagerStack({
            clusterName: 'other.k8s.local',
            region: sim.region.name,
            account: '123456789012',
            createdAt: sim.now(),
            stateMachineArns: { refresh: 'a', replenish: 'b', interruption: 'c' },
            leaseTable: 'other',
            alarmTopic: 'other-topic',
            groups: [],
          });
          sim.stacks.set(second.stackName, second);
          void first;
        });
        cliAt(sim, runner, 155 * 60, ['status'], runs);
      },
    }));
  });

  it('status during a refresh: the lease, replaced n of m with the time left, each ASG against home, no pause', () => {
    const s = find(runs, 'status');
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^stack NodeManager-example-k8s-local \(example\.k8s\.local, ap-northeast-1\)/);
    expect(s.out).toMatch(/lease: refresh refresh-001 \(RUNNING\)/);
    expect(s.out).toMatch(/refresh: \w+, replaced \d of 9, about \d+ (min|s) left/);
    expect(s.out).toMatch(/nodes-ap-northeast-1\w\.example\.k8s\.local: desired 4 \(home 3\)/);
    expect(s.out).toMatch(/not paused/);
    const j = JSON.parse(find(runs, 'status', 'nodes', '--json').out) as Array<{
      refresh: { of: number; replaced: number };
    }>;
    expect(j[0].refresh.of).toBe(9);
    expect(j[0].refresh.replaced).toBeGreaterThan(0);
  });

  it('pause and resume: status names the pause on the service clock, a refresh is refused while paused', () => {
    expect(find(runs, 'pause', 'nodes', '--reason', 'change freeze', '--until', '30m').out).toMatch(
      /^paused nodes until 2026-11-01T00:4[56]:\d\d\.\d{3}Z: change freeze/,
    );
    expect(find(runs, 'status', 'nodes').out).toMatch(
      /paused since 2026-11-01T00:1[56]:\d\d\.\d{3}Z until 2026-11-01T00:4[56]:\d\d\.\d{3}Z by .*: change freeze/,
    );
    const refused = find(runs, 'refresh', 'nodes');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/group nodes is paused \(change freeze\).*node-manager resume nodes/);
    // The last word stands, and says what it replaced.
    expect(find(runs, 'pause', 'nodes', '--reason', 'incident 42').out).toMatch(
      /^paused nodes until resumed: incident 42 .*; it replaces the pause change freeze \(since 2026-11-01T00:1[56]:\d\d\.\d{3}Z, until /,
    );
    expect(find(runs, 'resume', 'nodes').out).toMatch(/^resumed nodes/);
    expect(runs.filter((r) => r.args.join(' ') === 'status nodes')[1].out).toMatch(/not paused/);
    // The refresh waited through the pause and said so.
    const refresh = report.executions.find((e) => e.name === 'refresh-001')!;
    expect(refresh.status).toBe('SUCCEEDED');
    expect((refresh.output as { did: { paused: unknown[] } }).did.paused).toHaveLength(1);
  });

  it('history: the refresh, how long it took and what it did; --json for scripts', () => {
    expect(find(runs, 'history', 'nodes').out).toMatch(
      /2026-11-01T00:01:00\.000Z refresh refresh-001: SUCCEEDED in \d+ min — \{"released":true,"replaced":9/,
    );
    const j = JSON.parse(find(runs, 'history', 'nodes', '--json').out) as Array<{
      status: string;
      did: { replaced: number };
    }>;
    expect(j[0]).toMatchObject({ status: 'SUCCEEDED', did: { replaced: 9 } });
  });

  it('a dry run prints the plan: the nodes in order, in batches, and an estimate', () => {
    const d = find(runs, 'refresh', 'nodes', '--dry-run', '--interval', '0.05');
    expect(d.code).toBe(0);
    expect(d.out).toMatch(
      /would replace 9 node\(s\) in 9 batch\(es\):\n {2}1\. ip-[\d-]+\.ap-northeast-1\.compute\.internal \(i-0/,
    );
    expect(d.out).toMatch(/estimate: about \d+ min: 9 batch\(es\)/);
  });

  it('errors say what is wrong and what to do', () => {
    const unknown = find(runs, 'status', 'masters');
    expect([unknown.code, unknown.err]).toEqual([
      1,
      'node-manager: no group masters in stack NodeManager-example-k8s-local; its groups: nodes',
    ]);
    const usage = find(runs, 'pause');
    expect([usage.code, usage.err]).toEqual([2, 'node-manager: pause: name a group, or --all for every group']);
    expect(find(runs, '--stack', 'NodeManager-other', 'status').err).toBe(
      'node-manager: no stack NodeManager-other in ap-northeast-1: check --stack and --region',
    );
    expect(find(runs, 'pause', 'nodes', '--until', 'tomorrow')).toMatchObject({
      code: 2,
      err: 'node-manager: --until: a time (2026-12-07T18:00:00Z) or a duration (2h, 90m, 1h30m); got tomorrow',
    });
    const several = runs.filter((r) => r.args.join(' ') === 'status').pop()!;
    expect(several.err).toBe(
      'node-manager: 2 node-manager stacks in ap-northeast-1: NodeManager-example-k8s-local, NodeManager-other-k8s-local; pass --stack <name>',
    );
  });
});

describe('refresh --follow', () => {
  it('starts a refresh and shows its progress until it ends (paced, as `--serve` runs)', async () => {
    const runs: CliRun[] = [];
    let follow: Promise<CliRun> | undefined;
    const { sim } = await runScenario(
      scenario([{ at: '69m', workflow: 'replenish', input: { group: 'nodes' } }], '70m'),
      {
        serve: { speed: 3000 },
        onReady: (s) => {
          s.clock.at(s.now() + 60_000, 'follow', () => {
            follow = invoke(s, ['refresh', 'nodes', '--follow', '--interval', '0.05'], runs);
          });
        },
      },
    );
    try {
      const f = await follow!;
      expect(f.code).toBe(0);
      expect(f.out).toMatch(/^started [0-9a-f-]{36} \(refresh of nodes\)/);
      const bars = f.out.split('\n').filter((l) => l.startsWith('['));
      expect(bars.length).toBeGreaterThanOrEqual(3);
      expect(bars.some((l) => /\] [1-8]\/9 replaced/.test(l))).toBe(true);
      expect(f.out).toMatch(/\[#{30}\] 9\/9 replaced\n[0-9a-f-]{36}: SUCCEEDED/);
    } finally {
      await sim.stop();
    }
  });
});

describe('the handlers over the wire', () => {
  it('a refresh through the SDK serialization runs as through the in-process route: same calls, same time, same nodes', async () => {
    const sc = workerScenario(
      'wire',
      { perZone: 2, maxPerZone: 3, desiredReady: 6, surplus: 1 },
      {
        workloads: [{ name: 'web', group: 'nodes', replicas: 4, pdb: { maxUnavailable: 1 } }],
        runs: [{ at: '1m', workflow: 'refresh', input: { group: 'nodes' } }],
        until: '90m',
      },
    );
    const inProcess = (await runScenario(sc)).report;
    const wire = (await runScenario(sc, { aws: { port: 0, overWire: true } })).report;
    expect(wire.executions.map((e) => [e.name, e.status, e.output])).toEqual(
      inProcess.executions.map((e) => [e.name, e.status, e.output]),
    );
    expect(wire.totals.awsCalls).toEqual(inProcess.totals.awsCalls);
    expect(wire.totals.simulatedSeconds).toBe(inProcess.totals.simulatedSeconds);
    expect(wire.groups[0].members.map((m) => m.instanceId)).toEqual(
      inProcess.groups[0].members.map((m) => m.instanceId),
    );
  });
});
