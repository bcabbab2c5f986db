import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDeploymentConfig } from '../../lib/config/deployment';
import { runScenario, type Report } from '../../sim/scenario/run';
import { workerScenario } from '../fixtures';

/**
 * Three Spot workers, one per zone (MaxSize 1 each), a surplus of one, a drain timeout of two
 * minutes and `onTimeout: quarantine`; replenish every five minutes reaps what the refresh quarantined.
 */
function scenario(
  db: Record<string, unknown>,
  faults: unknown[] = [],
  drain: Record<string, unknown> = {},
  perZone = 1,
) {
  return workerScenario(
    'quarantine',
    {
      perZone,
      maxPerZone: perZone,
      desiredReady: 3 * perZone,
      surplus: 1,
      drainTimeoutSeconds: 120,
      drain: { onTimeout: 'quarantine', ...drain },
    },
    {
      workloads: [
        { name: 'web', group: 'nodes', replicas: 3, pdb: { maxUnavailable: 1 } },
        { name: 'db', group: 'nodes', replicas: 1, ...db },
      ],
      faults,
      runs: [
        { at: '0s', workflow: 'refresh', input: { group: 'nodes' } },
        { at: '5m', every: '5m', workflow: 'replenish', input: { group: 'nodes' } },
      ],
      until: '3h',
    },
  );
}

const refresh = (r: Report) => r.executions.find((e) => e.workflow === 'refresh')!;
const finalDid = (r: Report) => (refresh(r).output as { did: Record<string, unknown> }).did;
const replenishDids = (r: Report) =>
  r.executions
    .filter((e) => e.workflow === 'replenish')
    .map((e) => (e.output as { did?: Record<string, unknown> }).did ?? {});
const nodes = (r: Report) => r.groups.find((g) => g.name === 'nodes')!;
const calls = (r: Report, op: string) => r.audit.filter((a) => a.operation === op);

describe('onTimeout: quarantine, as the Auto Scaling user guide describes Standby', () => {
  it('puts the stuck node in Standby, lets its pod finish, then reaps it (out of Standby, terminated with decrement)', async () => {
    // The db's budget refuses every eviction for 40 minutes, then lets its pod go.
    const { report } = await runScenario(
      scenario({ pdb: { maxUnavailable: 1 } }, [{ kind: 'pdbBlock', at: '0s', workload: 'db', for: '40m' }]),
    );
    expect(refresh(report).status).toBe('SUCCEEDED');
    const did = finalDid(report);
    // Every node is replaced: the stuck one by the instance its ASG launched when it went to Standby.
    expect(did.replaced).toBe(3);
    const q = did.quarantined as Array<{ node: string; instance: string; reason: string; pods: string[] }>;
    expect(q).toHaveLength(1);
    expect(q[0].reason).toMatch(
      /^its drain outlived 120s \(onTimeout: quarantine\): in Standby, cordoned, (the surplus stands in for it|its ASG launches a replacement); replenish reaps it once its pods finish, at the latest 20/,
    );
    expect(q[0].pods).toEqual([expect.stringMatching(/^default\/db-[0-9a-f]+$/)]);
    // In the last batch the surplus stands in for it (decrement, as a termination there would); else its ASG replaces it.
    expect(calls(report, 'EnterStandby')).toEqual([
      expect.objectContaining({ target: expect.stringMatching(`instances=${q[0].instance} decrement=(true|false)$`) }),
    ]);
    // Replenish waited for the pod, then moved the instance out of Standby and terminated it with decrement.
    const lines = replenishDids(report).flatMap((d) => (d.quarantine as string[] | undefined) ?? []);
    expect(lines.some((l) => /in Standby: 1 pod\(s\) still running \(default\/db-/.test(l))).toBe(true);
    expect(lines.some((l) => l.endsWith('its pods finished'))).toBe(true);
    expect(lines.some((l) => l.endsWith('back in service: terminating with decrement'))).toBe(true);
    expect(calls(report, 'ExitStandby')).toHaveLength(1);
    const terminated = calls(report, 'TerminateInstanceInAutoScalingGroup').filter((a) =>
      a.target.startsWith(`instance/${q[0].instance}`),
    );
    expect(terminated).toEqual([expect.objectContaining({ target: `instance/${q[0].instance} decrement=true` })]);
    // Nothing lost, nothing left: the pod was evicted through its budget, the group is whole and home.
    expect(replenishDids(report).some((d) => d.podsLost)).toBe(false);
    expect(report.pods.deletedWithoutEviction).toBe(0);
    const g = nodes(report);
    expect(g.readyAtEnd).toBe(3);
    expect(g.members.every((m) => m.ready && !m.unschedulable && m.instanceId !== q[0].instance)).toBe(true);
    for (const a of g.asgs) expect(a).toMatchObject({ desired: a.homeDesired, max: 1 });
    expect(report.outsideAsgs).toEqual([]);
  });

  it('a stuck node in an earlier batch goes to Standby without decrement: its ASG launches the replacement', async () => {
    const { report } = await runScenario(
      scenario({ pdb: { maxUnavailable: 1 } }, [{ kind: 'pdbBlock', at: '0s', workload: 'db', for: '40m' }], {}, 2),
    );
    expect(refresh(report).status).toBe('SUCCEEDED');
    const did = finalDid(report);
    expect(did.replaced).toBe(6);
    const q = did.quarantined as Array<{ instance: string; reason: string }>;
    expect(q[0].reason).toContain('its ASG launches a replacement');
    const standby = calls(report, 'EnterStandby');
    expect(standby).toEqual([expect.objectContaining({ target: expect.stringMatching(/decrement=false$/) })]);
    const g = nodes(report);
    expect(g.readyAtEnd).toBe(6);
    expect(g.members.every((m) => m.instanceId !== q[0].instance && !m.unschedulable)).toBe(true);
    for (const a of g.asgs) expect(a).toMatchObject({ desired: a.homeDesired, max: 2 });
    expect(report.outsideAsgs).toEqual([]);
  });

  it('reaps the node at its deadline when its pods never finish, and names them lost', async () => {
    const { report } = await runScenario(scenario({ pdb: { minAvailable: 1 } }, [], { quarantineSeconds: 900 }));
    expect(refresh(report).status).toBe('SUCCEEDED');
    const q = finalDid(report).quarantined as Array<{ instance: string }>;
    expect(q).toHaveLength(1);
    const lost = replenishDids(report).flatMap((d) => (d.podsLost as string[] | undefined) ?? []);
    expect(lost).toEqual([expect.stringMatching(/^default\/db-[0-9a-f]+: ended with its quarantined node$/)]);
    const g = nodes(report);
    expect(g.members.every((m) => m.instanceId !== q[0].instance && !m.unschedulable)).toBe(true);
    for (const a of g.asgs) expect(a).toMatchObject({ desired: a.homeDesired, max: 1 });
    expect(report.outsideAsgs).toEqual([]);
  });

  it('is refused without replenish to reap, naming the field', () => {
    const config = JSON.parse(readFileSync(join(__dirname, '../../examples/config/kops.json'), 'utf8'));
    config.groups[0] = { ...config.groups[0], replenishEverySeconds: 0, drain: { onTimeout: 'quarantine' } };
    expect(() => parseDeploymentConfig(config)).toThrow(
      /groups\[[^\]]+\]\.drain\.onTimeout: "quarantine" needs replenish to reap the quarantined nodes/,
    );
    config.groups[0].replenishEverySeconds = 300;
    expect(parseDeploymentConfig(config).groups[0].drain.onTimeout).toBe('quarantine');
  });
});
