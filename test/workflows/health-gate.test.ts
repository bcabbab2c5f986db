import { parseScenario, runScenario, type Report } from '../../sim/scenario/run';
import { workerScenario } from '../fixtures';

/**
 * Three workers of 2 CPUs, one per zone, each running one pod of 1500m, and a fourth such pod
 * Pending (the cluster is short of room before the refresh begins): the surplus node it gets
 * leaves no room for the pods of the first batch.
 */
function crowded(extra: Record<string, unknown> = {}, faults: unknown[] = []) {
  return parseScenario({
    name: 'health-gate',
    cluster: { name: 'example.k8s.local', kind: 'kops' },
    timing: { bootSeconds: 90, joinSeconds: 60 },
    groups: [
      {
        name: 'nodes',
        role: 'worker',
        zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
        perZone: 1,
        maxPerZone: 3,
        desiredReady: 3,
        surplus: 1,
        allocatable: { cpu: '2', memory: '8Gi' },
        ...extra,
      },
    ],
    workloads: [{ name: 'big', group: 'nodes', replicas: 4, requests: { cpu: '1500m', memory: '1Gi' } }],
    faults,
    runs: [{ at: '0s', workflow: 'refresh', input: { group: 'nodes' } }],
    until: '3h',
  });
}

const refresh = (r: Report) => r.executions.find((e) => e.workflow === 'refresh')!;
const nodes = (r: Report) => r.groups.find((g) => g.name === 'nodes')!;
const firstCordon = (r: Report) =>
  r.audit.find((a) => a.operation === 'patch nodes' && a.change?.startsWith('cordon') && a.step !== null)?.at;

describe('the health gate, as a platform engineer checks it', () => {
  it('holds a batch that does not fit the nodes that stay, and drains it once a person adds room', async () => {
    const { report } = await runScenario(
      crowded({ drainTimeoutSeconds: 1800 }, [
        { kind: 'scaleAsg', at: '10m', group: 'nodes', zone: 'ap-northeast-1c', desired: 2 },
      ]),
    );
    expect(refresh(report).status).toBe('SUCCEEDED');
    // Nothing was cordoned before the new node (10 minutes, then boot and join) could take the batch's pod.
    expect(firstCordon(report)).toBeGreaterThanOrEqual(600 + 150);
    const did = (refresh(report).output as { did: Record<string, unknown> }).did;
    expect(did.replaced).toBe(3);
    expect(did.othersKept).toEqual([expect.stringMatching(/ap-northeast-1c.*: desired set to 2 by someone else/)]);
    // Four nodes, four pods of 1500m: every one runs at the end.
    expect(nodes(report).readyAtEnd).toBe(4);
    expect(report.pods.pending).toBe(0);
  });

  it('fails NoRoom after the drain timeout, naming the pods that fit nowhere, with no old node drained', async () => {
    const { report } = await runScenario(crowded({ drainTimeoutSeconds: 300 }));
    const r = refresh(report);
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('NoRoom');
    expect(r.cause).toMatch(
      /no room for the next batch \(.+\) after 300s: the batch's 1 pod\(s\) need 1500m CPU, 1\.0Gi memory; .*no room for default\/big-\w+/,
    );
    // The three old nodes still run, uncordoned; no pod of theirs was evicted.
    const old = nodes(report).members.filter((m) => m.launchedAt < 0);
    expect(old).toHaveLength(3);
    expect(old.every((m) => m.ready && !m.unschedulable)).toBe(true);
    const oldNodes = new Set(old.map((m) => m.node));
    const evictedFromOld = report.audit.filter(
      (a) => a.operation === 'patch nodes' && a.change?.startsWith('cordon') && oldNodes.has(a.target),
    );
    expect(evictedFromOld).toEqual([]);
  });
});

describe('the settle gate: the last batch’s pods run again before the next batch', () => {
  // Pods that take long to start after an eviction (an image pull, a slow readiness): Pending meanwhile.
  const slow = (podStartSeconds: number, settleSeconds: number) =>
    workerScenario(
      'settle-gate',
      { perZone: 1, maxPerZone: 2, desiredReady: 3, surplus: 1, settleSeconds },
      {
        timing: { bootSeconds: 90, joinSeconds: 60, podStartSeconds },
        workloads: [{ name: 'web', group: 'nodes', replicas: 3 }],
        // Once the pods that were there have started.
        runs: [{ at: '20m', workflow: 'refresh', input: { group: 'nodes' } }],
        until: '3h',
      },
    );
  const cordons = (r: Report) =>
    r.audit.filter((a) => a.step === 'Replace oldest nodes' && a.change?.startsWith('cordon')).map((a) => a.at);
  const evictions = (r: Report) =>
    r.audit.filter((a) => a.operation === 'create pods/eviction' && a.outcome === 'ok').map((a) => a.at);

  it('waits for the evicted pods to run before draining the next batch, then goes on', async () => {
    const { report } = await runScenario(slow(200, 120));
    expect(refresh(report).status).toBe('SUCCEEDED');
    const [first, second] = cordons(report);
    const evicted = evictions(report).filter((t) => t >= first && t < second);
    expect(evicted.length).toBeGreaterThan(0);
    // The second batch waited for the first batch's pods to start (200 s), past its replacement's Ready (150 s).
    expect(second).toBeGreaterThanOrEqual(Math.max(...evicted) + 200);
    expect(second).toBeLessThan(Math.max(...evicted) + 200 + 120);
    expect(report.pods.pending).toBe(0);
  });

  it('stops with SettleTimeout naming the pods still Pending past settleSeconds, draining nothing more', async () => {
    const { report } = await runScenario(slow(900, 60));
    const r = refresh(report);
    expect(r).toMatchObject({ status: 'FAILED', error: 'SettleTimeout' });
    expect(r.cause).toMatch(/default\/web-\w+/);
    expect(cordons(report)).toHaveLength(1);
    // Cleaned up: nothing cordoned, the group whole once the pods start.
    expect(nodes(report).members.every((m) => !m.unschedulable)).toBe(true);
  });
});
