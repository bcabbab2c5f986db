import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import validateAsl from 'asl-validator';
import { parseScenario, runScenario, type Report } from '../../sim/scenario/run';

const SCENARIOS = join(__dirname, '..', '..', 'examples', 'scenarios');
const load = (name: string) => parseScenario(JSON.parse(readFileSync(join(SCENARIOS, `${name}.json`), 'utf8')));
const run = (name: string) => runScenario(load(name));
const group = (r: Report, name: string) => r.groups.find((g) => g.name === name)!;

/** Seconds from `from` until the group is back at `want` Ready nodes. */
function backAt(r: Report, name: string, from: number, want: number): number {
  const hit = group(r, name).readyTimeline.find(([t, n]) => t >= from && n >= want);
  if (!hit) throw new Error(`never back at ${want} Ready after ${from}s`);
  return hit[0] - from;
}

describe('statemachines/replenish.asl.json', () => {
  it('is valid Amazon States Language', () => {
    const def = JSON.parse(readFileSync(join(__dirname, '..', '..', 'statemachines', 'replenish.asl.json'), 'utf8'));
    expect(validateAsl(structuredClone(def))).toMatchObject({ isValid: true, errors: [] });
  });
});

describe('replenish on the simulator (shipped scenarios)', () => {
  it('Spot outage in one AZ for 2 h: back to desiredReady within boot + join + 5 min, substitute given back, home layout, no pod deleted without eviction', async () => {
    const s = load('spot-outage-replenish');
    const { report, runner } = await runScenario(s);
    const g = group(report, 'nodes');
    // The reclaimed node is lost at 10m + 2m (the interruption warning's two minutes).
    const loss = 12 * 60;
    const drop = g.readyTimeline.find(([t, n]) => t >= loss && n < 3)!;
    expect(drop[0]).toBe(loss);
    expect(backAt(report, 'nodes', loss, 3)).toBeLessThanOrEqual(s.timing.bootSeconds + s.timing.joinSeconds + 300);
    // Substitute capacity went to another AZ, and came back after the outage (which ends at 2h10m).
    const raised = runner.timeline.filter((t) => (t.summary as { raised?: unknown[] })?.raised);
    expect(raised).toHaveLength(1);
    const raisedAsgs = (raised[0].summary as { raised: Array<{ asg: string }> }).raised.map((r) => r.asg);
    expect(raisedAsgs).toHaveLength(1);
    expect(raisedAsgs[0]).not.toContain('ap-northeast-1a');
    const gaveBack = runner.timeline.filter(
      (t) => t.state === 'Give capacity back' && (t.summary as { gaveBack?: string })?.gaveBack,
    );
    expect(gaveBack).toHaveLength(1);
    expect(gaveBack[0].at - runner.executions[0].startedAt).toBeGreaterThan((2 * 60 + 10) * 60 * 1000);
    for (const a of g.asgs) expect(a.desired).toBe(a.homeDesired);
    expect(g.members.map((m) => m.zone).sort()).toEqual(['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d']);
    expect(g.readyAtEnd).toBe(3);
    expect(g.asgModifications).toBe(2);
    expect(report.pods.deletedWithoutEviction).toBe(0);
    expect(report.pods.lostToInterruption).toBeGreaterThan(0);
    expect(report.executions.every((e) => e.status === 'SUCCEEDED')).toBe(true);
  });

  it('an outage that comes and goes: desired changes once each way per outage, never back and forth', async () => {
    const { report } = await run('flapping-outage');
    const g = group(report, 'nodes');
    expect(g.asgModifications).toBe(6);
    for (const a of g.asgs) expect(a.desired).toBe(a.homeDesired);
    expect(report.pods.deletedWithoutEviction).toBe(0);
  });

  it('an instance that never joins is reaped after the join timeout and replaced', async () => {
    const { report } = await run('never-joins-reaped');
    const g = group(report, 'nodes');
    expect(g.reaps).toHaveLength(1);
    expect(g.reaps[0].asg).toBe('nodes-ap-northeast-1c.example.k8s.local');
    expect(g.reaps[0].ageSeconds).toBeGreaterThan(900);
    expect(g.reaps[0].ageSeconds).toBeLessThanOrEqual(900 + 300);
    expect(g.members.map((m) => m.instanceId)).not.toContain(g.reaps[0].instanceId);
    expect(g.readyAtEnd).toBe(3);
    // No substitute was raised while the replacement was on its way.
    expect(g.asgModifications).toBe(0);
    expect(report.totals.awsCalls).toMatchObject({ DetachInstances: 1, TerminateInstances: 1 });
  });

  it('kops control plane: the extra master is reaped with decrement; a lost master is never substituted across AZs', async () => {
    const { report, runner } = await run('control-plane-extra-reaped');
    const g = group(report, 'master');
    expect(g.reaps).toHaveLength(1);
    expect(g.reaps[0].asg).toMatch(/^master-ap-northeast-1a/);
    expect(g.asgs.map((a) => a.desired)).toEqual([1, 1, 1]);
    expect(report.totals.awsCalls.SetDesiredCapacity ?? 0).toBe(0);
    expect(
      runner.timeline.some((t) =>
        JSON.stringify(t.summary).includes('control-plane groups never substitute across ASGs'),
      ),
    ).toBe(true);
    expect(g.members).toHaveLength(3);
    expect(new Set(g.members.map((m) => m.zone)).size).toBe(3);
    expect(g.readyAtEnd).toBe(3);
  });

  it('while a refresh runs, replenish skips; the two never change the group at the same time; faults change nothing', async () => {
    const { report, runner } = await run('refresh-and-replenish');
    const refresh = runner.executions.find((e) => e.workflow === 'refresh')!;
    expect(refresh.status).toBe('SUCCEEDED');
    // Every execution succeeded, but one the scenario's end cut off in its first minute (still retrying a throttled call).
    expect(
      report.executions
        .filter((e) => e.status !== 'SUCCEEDED' && !(e.status === 'RUNNING' && e.startedAt >= 3540))
        .map((e) => `${e.name} ${e.status}`),
    ).toEqual([]);
    const during = runner.executions.filter(
      (e) => e.workflow === 'replenish' && e.startedAt >= refresh.startedAt && e.startedAt <= refresh.stoppedAt!,
    );
    expect(during.length).toBeGreaterThan(0);
    for (const e of during) {
      const steps = runner.timeline.filter((t) => t.execution === e.name);
      expect(steps.some((t) => JSON.stringify(t.summary).includes(`refresh ${refresh.arn} holds group nodes`))).toBe(
        true,
      );
      expect(steps.map((t) => t.state)).not.toContain('Replenish the group');
    }
    // Replenish passes before and after did run, and changed nothing (the group was whole): most
    // ended idle at their first step, without the lease.
    const idle = runner.timeline.filter(
      (t) =>
        t.state === 'Validate input' &&
        t.outcome === 'ok' &&
        typeof (t.summary as { idle?: unknown }).idle === 'string',
    ).length;
    const full = runner.timeline.filter((t) => t.state === 'Replenish the group' && t.outcome === 'ok').length;
    expect(idle + full).toBeGreaterThan(3);
    expect(idle).toBeGreaterThan(0);
    const g = group(report, 'nodes');
    expect(g.members.every((m) => m.launchedAt >= 60 && m.ready)).toBe(true);
    for (const a of g.asgs) expect(a.desired).toBe(a.homeDesired);
    expect(g.minReady).toBeGreaterThanOrEqual(3);
    expect(report.pods.deletedWithoutEviction).toBe(0);
  });

  it('bad input fails at once; dryRun plans without changing anything', async () => {
    const s = load('never-joins-reaped');
    const bad = await runScenario({ ...s, runs: [{ at: 0, workflow: 'replenish', input: { group: 'masters' } }] });
    expect(bad.report.executions[0]).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
    const dry = await runScenario({
      ...s,
      faults: [
        { kind: 'neverJoin', at: 0, group: 'nodes', zone: 'ap-northeast-1c', count: 1 },
        { kind: 'spotInterruption', at: 0, group: 'nodes', zone: 'ap-northeast-1c', count: 1 },
      ],
      runs: [{ at: 1200, workflow: 'replenish', input: { group: 'nodes', dryRun: true } }],
    });
    const out = dry.runner.executions[0].output as {
      did: { wouldReap: Array<{ instanceId: string }>; wouldRaise: unknown[] };
    };
    expect(out.did.wouldReap).toHaveLength(1);
    expect(dry.report.totals.awsCalls.DetachInstances ?? 0).toBe(0);
    expect(dry.report.totals.awsCalls.UpdateItem ?? 0).toBe(0);
  });

  it('a pass that finds the group whole is one Lambda invocation and three transitions, and takes no lease', async () => {
    const s = parseScenario({
      name: 'idle',
      cluster: { name: 'example.k8s.local', kind: 'kops' },
      groups: [
        {
          name: 'nodes',
          role: 'worker',
          zones: ['ap-northeast-1a', 'ap-northeast-1c'],
          perZone: 2,
          desiredReady: 4,
          surplus: 1,
        },
      ],
      runs: [{ every: '5m', workflow: 'replenish', input: { group: 'nodes' } }],
      until: '1h',
    });
    const { report } = await runScenario(s);
    // The first pass records the home layout (one conditional write, no lease); every pass is idle.
    const [first, ...rest] = report.executions;
    expect(report.audit.filter((a) => a.execution === first.name).map((a) => a.operation)).toEqual(['UpdateItem']);
    expect(rest.length).toBeGreaterThanOrEqual(11);
    for (const e of report.executions)
      expect({ name: e.name, status: e.status, transitions: e.transitions, invocations: e.lambdaInvocations }).toEqual({
        name: e.name,
        status: 'SUCCEEDED',
        transitions: 3,
        invocations: 1,
      });
    expect(report.audit.filter((a) => rest.some((e) => e.name === a.execution))).toEqual([]);
  });
});
