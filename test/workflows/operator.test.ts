import { runScenario, type Report } from '../../sim/scenario/run';
import { workerScenario } from '../fixtures';

/** Three zones of three Spot workers, a surplus of one: a refresh takes about 40 minutes. */
function scenario(
  runs: unknown[],
  extra: Record<string, unknown> = {},
  faults: unknown[] = [],
  group: Record<string, unknown> = {},
) {
  return workerScenario(
    'operator',
    { perZone: 3, maxPerZone: 4, desiredReady: 9, surplus: 1, ...group },
    {
      workloads: [{ name: 'web', group: 'nodes', replicas: 6, pdb: { maxUnavailable: 1 } }],
      faults,
      runs,
      until: '4h',
      ...extra,
    },
  );
}

const refreshes = (r: Report) => r.executions.filter((e) => e.workflow === 'refresh');
const did = (e: Report['executions'][number]) => (e.output as { did: Record<string, unknown> }).did;

describe('overlapping starts do no harm', () => {
  it('a scheduled start that finds the refresh running ends successfully, naming it; any other start still fails', async () => {
    const { report } = await runScenario(
      scenario([
        { at: '0s', workflow: 'refresh', input: { group: 'nodes', trigger: 'schedule' } },
        { at: '10m', workflow: 'refresh', input: { group: 'nodes', trigger: 'schedule' } },
        { at: '11m', workflow: 'refresh', input: { group: 'nodes' } },
      ]),
    );
    const [first, scheduled, byHand] = refreshes(report);
    expect(first.status).toBe('SUCCEEDED');
    expect(did(first).replaced).toBe(9);
    expect(scheduled.status).toBe('SUCCEEDED');
    expect(did(scheduled).skipped).toBe(
      `refresh ${first.name} is still running group nodes: this scheduled start changed nothing`,
    );
    // Its one write was the lease's conditional take, refused: nothing changed.
    expect(report.audit.filter((a) => a.execution === scheduled.name && a.outcome === 'ok')).toEqual([]);
    expect(byHand).toMatchObject({ status: 'FAILED', error: 'LeaseHeld' });
  });

  it('refuses a trigger other than "schedule", naming what is allowed', async () => {
    const { report } = await runScenario(
      scenario([{ at: '0s', workflow: 'refresh', input: { group: 'nodes', trigger: 'cron' } }]),
    );
    expect(refreshes(report)[0]).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
    expect(JSON.parse(refreshes(report)[0].cause!).errorMessage).toBe(
      '"trigger" may only be "schedule" (set by the refresh schedule); got "cron"',
    );
  });
});

describe('stop is pause', () => {
  it('a stopped refresh survives replenish: its surplus goes back drained, and the next refresh replaces only what it had not', async () => {
    const { report } = await runScenario(
      scenario(
        [
          { at: '0s', workflow: 'refresh', input: { group: 'nodes' } },
          { at: '3m', every: '5m', workflow: 'replenish', input: { group: 'nodes' } },
          { at: '90m', workflow: 'refresh', input: { group: 'nodes' } },
        ],
        {},
        [{ kind: 'stopExecution', at: '20m', workflow: 'refresh' }],
      ),
    );
    const [stopped, resumed] = refreshes(report);
    expect(stopped.status).toBe('ABORTED');
    expect(resumed.status).toBe('SUCCEEDED');
    const out = resumed.output as { startedAt: number; did: Record<string, unknown> };
    // The start it kept is the stopped one's, and the two replaced the nine nodes once each.
    expect(out.startedAt).toBe(Date.parse(report.startedAt) + stopped.startedAt * 1000);
    expect(out.did.replaced).toBe(9);
    const terminations = report.audit.filter(
      (a) => a.operation === 'TerminateInstanceInAutoScalingGroup' && a.outcome === 'ok',
    );
    const byRefresh = terminations.filter((a) => a.execution?.startsWith('refresh-'));
    // Without the kept start the second refresh replaces the first one's new nodes again (13 of 9 before).
    expect(byRefresh).toHaveLength(9);
    // Replenish gave the stopped refresh's surplus back by drain and terminate with decrement, never by lowering desired.
    const byReplenish = terminations.filter((a) => a.execution?.startsWith('replenish-'));
    expect(byReplenish.length).toBeGreaterThanOrEqual(1);
    for (const t of byReplenish) expect(t.target).toMatch(/decrement=true$/);
    const lowered = report.audit.filter(
      (a) => a.execution?.startsWith('replenish-') && /SetDesiredCapacity|UpdateAutoScalingGroup/.test(a.operation),
    );
    expect(lowered.filter((a) => / desired=/.test(a.target) && !/desired=-/.test(a.target))).toEqual([]);
    // Every node left was launched by one of the two; none is cordoned.
    const g = report.groups[0];
    expect(g.members.every((m) => m.launchedAt >= 0 && !m.unschedulable)).toBe(true);
    expect(g.readyAtEnd).toBe(9);
  });
});

describe('a refresh after a stopped one, while replenish gives its surplus back (campaign seed 31)', () => {
  it('counts the surplus still in place toward its own: no batch larger than the surplus, no surplus added twice', async () => {
    const { report } = await runScenario(
      workerScenario(
        'seed-31',
        { perZone: 2, maxPerZone: 3, desiredReady: 6, surplus: 3 },
        {
          workloads: [{ name: 'web', group: 'nodes', replicas: 6, pdb: { maxUnavailable: 1 } }],
          faults: [{ kind: 'stopExecution', at: '1m', workflow: 'refresh' }],
          runs: [
            { at: '0s', workflow: 'refresh', input: { group: 'nodes' } },
            { at: '3m', every: '15m', workflow: 'replenish', input: { group: 'nodes' } },
            { at: '4m', workflow: 'refresh', input: { group: 'nodes' } },
          ],
          until: '2h',
        },
      ),
    );
    const [, second] = refreshes(report);
    expect(second.status).toBe('SUCCEEDED');
    expect(did(second).replaced).toBe(6);
    const g = report.groups[0];
    expect(g.maxLeaving).toBeLessThanOrEqual(3);
    // Desired never above home + surplus (6 + 3) at any change.
    const raised = report.audit.filter((a) => a.execution === second.name && / desired=\d+/.test(a.target));
    const desired = new Map<string, number>([
      ['nodes-ap-northeast-1a.example.k8s.local', 3],
      ['nodes-ap-northeast-1c.example.k8s.local', 3],
      ['nodes-ap-northeast-1d.example.k8s.local', 2],
    ]);
    for (const a of raised) desired.set(a.target.split(' ')[0].slice(4), Number(/ desired=(\d+)/.exec(a.target)![1]));
    expect([...desired.values()].reduce((n, x) => n + x, 0)).toBeLessThanOrEqual(9);
    for (const a of g.asgs) expect(a.desired).toBe(a.homeDesired);
  });
});

describe('pause and resume', () => {
  it('a pause mid-refresh: the batch in hand finishes, then nothing is evicted or terminated until resumed', async () => {
    const { report } = await runScenario(
      scenario(
        [
          { at: '0s', workflow: 'refresh', input: { group: 'nodes' } },
          { at: '12m', every: '5m', workflow: 'replenish', input: { group: 'nodes' } },
          { on: 'interruption', workflow: 'interruption' },
        ],
        {},
        [
          { kind: 'pause', at: '10m', group: 'nodes', reason: 'incident INC-42' },
          // Spot takes a node while the group is paused: its drain goes on, and says so.
          { kind: 'spotInterruption', at: '30m', group: 'nodes', zone: 'ap-northeast-1d', count: 1 },
          { kind: 'resume', at: '70m', group: 'nodes' },
        ],
      ),
    );
    const [refresh] = refreshes(report);
    expect(refresh.status).toBe('SUCCEEDED');
    const out = did(refresh);
    // Nine old nodes, one of them taken by Spot (its ASG replaced it): eight replaced by the refresh.
    expect(out.replaced).toBe(8);
    expect(out.paused).toEqual([{ reason: 'incident INC-42', from: expect.any(String), to: expect.any(String) }]);
    const [p] = out.paused as Array<{ from: string; to: string }>;
    const start = Date.parse(report.startedAt);
    expect((Date.parse(p.from) - start) / 1000).toBe(600);
    const resumedAt = (Date.parse(p.to) - start) / 1000;
    expect(resumedAt).toBeGreaterThanOrEqual(4200);
    expect(resumedAt).toBeLessThanOrEqual(4200 + 300);
    // Disruption while paused: at most the batch in hand (its evictions and terminations within a few minutes of the pause).
    const disruptive = report.audit.filter(
      (a) =>
        a.outcome === 'ok' &&
        (a.operation === 'create pods/eviction' ||
          a.operation === 'TerminateInstanceInAutoScalingGroup' ||
          (a.operation === 'patch nodes' && a.change?.startsWith('cordon'))),
    );
    const during = disruptive.filter((a) => a.at > 600 + 240 && a.at < 4200 && !a.execution?.startsWith('spot-'));
    expect(during).toEqual([]);
    expect(disruptive.some((a) => a.at >= 4200)).toBe(true);
    const drains = report.executions.filter((e) => e.workflow === 'interruption' && e.name.startsWith('spot-'));
    expect(drains.length).toBeGreaterThan(0);
    expect((drains[0].output as { did: Record<string, unknown> }).did.paused).toMatchObject({
      reason: 'incident INC-42',
      drain: 'goes on: an interruption takes the node regardless',
    });
    // Replenish observed and said so.
    const passes = report.executions.filter((e) => e.workflow === 'replenish' && e.startedAt < 4200);
    expect(passes.length).toBeGreaterThan(0);
    for (const e of passes)
      expect((e.output as { did: Record<string, unknown> }).did.paused).toMatchObject({
        reason: 'incident INC-42',
        until: 'resumed',
        by: 'scenario',
      });
  });

  it('the circuit breaker: a watched alarm in ALARM pauses the refresh by itself, OK lets it go on', async () => {
    const { report } = await runScenario(
      scenario(
        [{ at: '0s', workflow: 'refresh', input: { group: 'nodes' } }],
        {},
        [
          { kind: 'alarm', at: '8m', name: 'api-5xx', for: '30m' },
          { kind: 'alarm', at: '9m', name: 'someone-elses', for: '2h' },
        ],
        { alarms: ['api-5xx'] },
      ),
    );
    const [refresh] = refreshes(report);
    expect(refresh.status).toBe('SUCCEEDED');
    expect(did(refresh).replaced).toBe(9);
    const paused = did(refresh).paused as Array<{ reason: string; from: string; to: string }>;
    expect(paused).toHaveLength(1);
    expect(paused[0].reason).toBe('circuit breaker: api-5xx in ALARM');
    const start = Date.parse(report.startedAt);
    expect((Date.parse(paused[0].from) - start) / 1000).toBe(480);
    const to = (Date.parse(paused[0].to) - start) / 1000;
    expect(to).toBeGreaterThanOrEqual(480 + 1800);
    const cordons = report.audit.filter((a) => a.operation === 'patch nodes' && a.change?.startsWith('cordon'));
    expect(cordons.filter((a) => a.at > 480 + 240 && a.at < 480 + 1800)).toEqual([]);
  });
});

describe('maintenance windows', () => {
  const inWindow = (at: number, start: number, windows: Array<[number, number]>) =>
    windows.some(([from, to]) => start + at * 1000 >= from && start + at * 1000 < to);

  it('drains only inside the windows (Asia/Tokyo, 02:00 for 30m on weekends), across days and a hand-over', async () => {
    const { report } = await runScenario(
      scenario(
        [{ at: '0s', workflow: 'refresh', input: { group: 'nodes' } }],
        // Slow launches: a batch takes about 8 minutes, the refresh more than one window.
        { start: '2026-11-06T00:00:00Z', until: '200h', timing: { bootSeconds: 420, joinSeconds: 60 } },
        [],
        {
          maintenanceWindows: [{ days: ['sat', 'sun'], start: '02:00', duration: '30m', timeZone: 'Asia/Tokyo' }],
        },
      ),
    );
    const runs = refreshes(report);
    const last = runs[runs.length - 1];
    expect(last.status).toBe('SUCCEEDED');
    // The refresh handed over to new executions while it waited (the state machine's day is 24 hours).
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    expect(did(last).replaced).toBe(9);
    const start = Date.parse(report.startedAt);
    // Saturday and Sunday 02:00 JST are Friday and Saturday 17:00 UTC.
    const windows: Array<[number, number]> = ['2026-11-06', '2026-11-07', '2026-11-13', '2026-11-14'].map((d) => [
      Date.parse(`${d}T17:00:00Z`),
      Date.parse(`${d}T17:30:00Z`),
    ]);
    const batches = report.audit.filter(
      (a) =>
        a.outcome === 'ok' &&
        a.operation === 'patch nodes' &&
        a.change?.startsWith('cordon') &&
        a.step === 'Replace oldest nodes',
    );
    expect(batches.length).toBeGreaterThan(0);
    // Every batch began inside a window (at a close, the batch in hand finishes and the surplus goes back).
    for (const c of batches) expect(inWindow(c.at, start, windows)).toBe(true);
    expect(batches.some((c) => inWindow(c.at, start, [windows[0]]))).toBe(true);
    expect(batches.some((c) => inWindow(c.at, start, windows.slice(1)))).toBe(true);
    // Nothing was added before the first window.
    const changes = report.audit.filter(
      (a) => a.outcome === 'ok' && a.api === 'aws' && /Capacity|UpdateAutoScaling/.test(a.operation),
    );
    expect(changes.filter((a) => start + a.at * 1000 < windows[0][0])).toEqual([]);
    // The group is home at the end.
    for (const a of report.groups[0].asgs) expect(a.desired).toBe(a.homeDesired);
  });
});

describe('maintenance windows across a daylight-saving change', () => {
  it('America/New_York, Sundays 01:30 for 30m: the window on the night clocks fall back opens at the first 01:30', async () => {
    const { report } = await runScenario(
      scenario(
        [{ at: '0s', workflow: 'refresh', input: { group: 'nodes' } }],
        { start: '2026-10-30T00:00:00Z', until: '400h', timing: { bootSeconds: 420, joinSeconds: 60 } },
        [],
        { maintenanceWindows: [{ days: ['sun'], start: '01:30', duration: '30m', timeZone: 'America/New_York' }] },
      ),
    );
    const runs = refreshes(report);
    expect(runs[runs.length - 1].status).toBe('SUCCEEDED');
    expect(did(runs[runs.length - 1]).replaced).toBe(9);
    const start = Date.parse(report.startedAt);
    // 01:30 EDT on 1 November is 05:30 UTC; after the change, 01:30 EST is 06:30 UTC.
    const windows: Array<[number, number]> = [
      [Date.parse('2026-11-01T05:30:00Z'), Date.parse('2026-11-01T06:00:00Z')],
      [Date.parse('2026-11-08T06:30:00Z'), Date.parse('2026-11-08T07:00:00Z')],
      [Date.parse('2026-11-15T06:30:00Z'), Date.parse('2026-11-15T07:00:00Z')],
    ];
    const batches = report.audit.filter(
      (a) => a.outcome === 'ok' && a.step === 'Replace oldest nodes' && a.change?.startsWith('cordon'),
    );
    for (const b of batches)
      expect(windows.some(([f, t]) => start + b.at * 1000 >= f && start + b.at * 1000 < t)).toBe(true);
    // Work on both sides of the change.
    expect(batches.some((b) => start + b.at * 1000 < windows[1][0])).toBe(true);
    expect(batches.some((b) => start + b.at * 1000 >= windows[1][0])).toBe(true);
  });
});

describe('maxNodeAgeDays without a schedule of its own', () => {
  it('replenish starts a refresh of the nodes past that age inside a window, once a window', async () => {
    const { report } = await runScenario(
      scenario(
        [{ at: '0s', every: '5m', workflow: 'replenish', input: { group: 'nodes' } }],
        { start: '2026-11-06T00:00:00Z', until: '30h' },
        [],
        {
          instanceAgeDays: 10,
          maxNodeAgeDays: 7,
          maintenanceWindows: [{ days: ['sat'], start: '02:00', duration: '2h', timeZone: 'Asia/Tokyo' }],
        },
      ),
    );
    const runs = refreshes(report);
    expect(runs).toHaveLength(1);
    expect(runs[0].name).toMatch(/^aged-nodes-\d+$/);
    expect(runs[0].status).toBe('SUCCEEDED');
    expect(did(runs[0]).replaced).toBe(9);
    // Started at the first pass inside the window (Saturday 02:00 JST is Friday 17:00 UTC).
    expect(runs[0].startedAt).toBe(61200);
  });
});

describe('ad-hoc overrides on start-execution', () => {
  it('surplus and ignoreWindow: a bigger batch, outside the windows; an empty node list refused', async () => {
    const windows = { maintenanceWindows: [{ days: ['sat'], start: '02:00', duration: '1h', timeZone: 'Asia/Tokyo' }] };
    // A Monday: no window for days. The override drains now, three nodes at a time.
    const wide = await runScenario(
      scenario(
        [{ at: '0s', workflow: 'refresh', input: { group: 'nodes', surplus: 3, ignoreWindow: true } }],
        { start: '2026-11-09T00:00:00Z' },
        [],
        windows,
      ),
    );
    const [r] = refreshes(wide.report);
    expect(r.status).toBe('SUCCEEDED');
    expect(did(r)).toMatchObject({ replaced: 9 });
    expect(wide.report.groups[0].maxLeaving).toBe(3);
    const named = await runScenario(
      scenario([{ at: '0s', workflow: 'refresh', input: { group: 'nodes', nodes: [] } }]),
    );
    expect(refreshes(named.report)[0]).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
  });

  it('replaces only the nodes named', async () => {
    const probe = await runScenario(
      scenario([{ at: '0s', workflow: 'refresh', input: { group: 'nodes', dryRun: true } }], { until: '1m' }),
    );
    const [a, b] = probe.report.groups[0].members.map((m) => m.node!);
    const { report } = await runScenario(
      scenario([{ at: '0s', workflow: 'refresh', input: { group: 'nodes', nodes: [a, b] } }]),
    );
    expect(did(refreshes(report)[0]).replaced).toBe(2);
    const left = report.groups[0].members.map((m) => m.node);
    expect(left).not.toContain(a);
    expect(left).not.toContain(b);
    expect(left.filter((n) => probe.report.groups[0].members.some((m) => m.node === n))).toHaveLength(7);
  });

  it('refuses a bad override, naming the field and what is allowed', async () => {
    for (const [input, message] of [
      [
        { surplus: 20 },
        '"surplus" must be a count from 0 to desiredReady (9) or a percentage of it such as "10%"; got 20',
      ],
      [{ ignoreWindow: 'yes' }, '"ignoreWindow" must be true or false; got "yes"'],
      [{ nodes: 'ip-1' }, '"nodes" must be a list of 1 to 100 node names; got "ip-1"'],
    ] as const) {
      const { report } = await runScenario(
        scenario([{ at: '0s', workflow: 'refresh', input: { group: 'nodes', ...input } }]),
      );
      const [r] = refreshes(report);
      expect(r).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
      expect(JSON.parse(r.cause!).errorMessage).toBe(message);
    }
  });
});

describe('a faithful dry run', () => {
  it('lists the nodes in the order the run takes them, names what would hold a node, and estimates the time', async () => {
    const { report } = await runScenario(
      scenario(
        [
          { at: '0s', workflow: 'refresh', input: { group: 'nodes', dryRun: true } },
          { at: '1m', workflow: 'refresh', input: { group: 'nodes' } },
        ],
        {
          workloads: [
            { name: 'web', group: 'nodes', replicas: 6, pdb: { maxUnavailable: 1 } },
            { name: 'etl', group: 'nodes', replicas: 1, annotations: { 'karpenter.sh/do-not-disrupt': 'true' } },
          ],
        },
      ),
    );
    const [plan, run] = refreshes(report);
    const p = did(plan) as {
      replaceInOrder: string[][];
      wouldLeave: Array<{ node: string; pods: string[] }>;
      estimate: { seconds: number; text: string };
    };
    expect(p.wouldLeave).toEqual([
      expect.objectContaining({ pods: [expect.stringMatching(/^default\/etl-[0-9a-f]+: do-not-disrupt: true$/)] }),
    ]);
    const planned = p.replaceInOrder.flat().map((s) => s.split(' ')[0]);
    expect(planned).toHaveLength(8);
    // The run took the same nodes in the same order, and left the one the plan said it would.
    const taken = report.audit
      .filter((a) => a.execution === run.name && a.step === 'Replace oldest nodes' && a.change?.startsWith('cordon'))
      .map((a) => a.target.replace(/^node\//, ''));
    expect(taken).toEqual(planned);
    expect((did(run).notReplaced as Array<{ node: string }>)[0].node).toBe(p.wouldLeave[0].node);
    // An estimate, from defaults (nothing learned yet), within a factor of the run's own time.
    expect(p.estimate.text).toMatch(/^about \d+ min: 8 batch\(es\)/);
    const took = run.stoppedAt! - run.startedAt;
    expect(p.estimate.seconds).toBeGreaterThan(took / 3);
    expect(p.estimate.seconds).toBeLessThan(took * 3);
  });
});

describe('a dry run reads the budgets', () => {
  it('names the planned pods a budget allowing no disruption now would hold up', async () => {
    const { report } = await runScenario(
      scenario([{ at: '1m', workflow: 'refresh', input: { group: 'nodes', dryRun: true } }], {
        workloads: [
          { name: 'web', group: 'nodes', replicas: 6, pdb: { maxUnavailable: 1 } },
          { name: 'db', group: 'nodes', replicas: 1, pdb: { minAvailable: 1 } },
        ],
        until: '10m',
      }),
    );
    const plan = did(refreshes(report)[0]) as { wouldWait: string[] };
    expect(plan.wouldWait).toEqual([
      expect.stringMatching(
        /^default\/db-[0-9a-f]+ on ip-[\d-]+\.ap-northeast-1\.compute\.internal: budget default\/db allows no disruption now/,
      ),
    ]);
  });
});

describe('only what is outdated', () => {
  it('after a new launch template version, replaces the members launched from the old one and keeps the new', async () => {
    const { report } = await runScenario(
      scenario([{ at: '20m', workflow: 'refresh', input: { group: 'nodes', replace: 'outdated' } }], {}, [
        { kind: 'newLaunchTemplateVersion', at: '0s', group: 'nodes' },
        // Spot takes one node: its ASG's replacement launches from the new version.
        { kind: 'spotInterruption', at: '2m', group: 'nodes', zone: 'ap-northeast-1a', count: 1 },
      ]),
    );
    const [r] = refreshes(report);
    expect(r.status).toBe('SUCCEEDED');
    // Nine members, one already on the new version: eight replaced.
    expect(did(r).replaced).toBe(8);
    const g = report.groups[0];
    const fresh = g.members.filter((m) => m.launchedAt > 100 && m.launchedAt < 1200);
    expect(fresh).toHaveLength(1);
    expect(g.readyAtEnd).toBe(9);
    // The default, every member older than the start, would have replaced all nine.
    const all = await runScenario(
      scenario([{ at: '20m', workflow: 'refresh', input: { group: 'nodes' } }], {}, [
        { kind: 'newLaunchTemplateVersion', at: '0s', group: 'nodes' },
        { kind: 'spotInterruption', at: '2m', group: 'nodes', zone: 'ap-northeast-1a', count: 1 },
      ]),
    );
    expect(did(refreshes(all.report)[0]).replaced).toBe(9);
  });
});

describe('checkpoints', () => {
  it('bakes after the shares named before the next batch', async () => {
    const { report } = await runScenario(
      scenario([{ at: '0s', workflow: 'refresh', input: { group: 'nodes' } }], {}, [], {
        checkpoints: { percentages: [30, 60], bakeSeconds: 600 },
      }),
    );
    const [r] = refreshes(report);
    expect(r.status).toBe('SUCCEEDED');
    expect(did(r).replaced).toBe(9);
    const batches = report.audit
      .filter((a) => a.execution === r.name && a.step === 'Replace oldest nodes' && a.change?.startsWith('cordon'))
      .map((a) => a.at);
    // Two gaps of at least the bake between batches (after 3 of 9 and after 6 of 9), the rest short.
    const gaps = batches.slice(1).map((t, i) => t - batches[i]);
    expect(gaps.filter((g) => g >= 600)).toHaveLength(2);
    expect(gaps.filter((g) => g < 600)).toHaveLength(gaps.length - 2);
  });
});
