import { parseScenario, runScenario, type Report } from '../../sim/scenario/run';

/** Three zones of two Spot workers, a surplus of one: a refresh takes about half an hour. */
function scenario(runs: unknown[], extra: Record<string, unknown> = {}) {
  return parseScenario({
    name: 'operator',
    cluster: { name: 'example.k8s.local', kind: 'kops' },
    timing: { bootSeconds: 90, joinSeconds: 60 },
    groups: [
      {
        name: 'nodes',
        role: 'worker',
        zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
        perZone: 2,
        maxPerZone: 3,
        desiredReady: 6,
        surplus: 1,
      },
    ],
    workloads: [{ name: 'web', group: 'nodes', replicas: 6, pdb: { maxUnavailable: 1 } }],
    runs,
    until: '4h',
    ...extra,
  });
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
    expect(did(first).replaced).toBe(6);
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
