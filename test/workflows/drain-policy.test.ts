import { parseScenario, runScenario, type Report } from '../../sim/scenario/run';
import { workerScenario } from '../fixtures';

/** Three Spot workers, one per zone, a surplus of one; the workloads and the group's drain policy vary. */
function scenario(
  workloads: unknown[],
  drain?: Record<string, string>,
  extra: Record<string, unknown> = {},
  faults: unknown[] = [],
) {
  return workerScenario(
    'drain-policy',
    {
      perZone: 1,
      maxPerZone: 1,
      desiredReady: 3,
      surplus: 1,
      ...(drain ? { drain } : {}),
      ...extra,
    },
    {
      workloads: [{ name: 'web', group: 'nodes', replicas: 3, pdb: { maxUnavailable: 1 } }, ...workloads],
      faults,
      runs: [{ at: '0s', workflow: 'refresh', input: { group: 'nodes' } }],
      until: '4h',
    },
  );
}

const refresh = (r: Report) => r.executions.find((e) => e.workflow === 'refresh')!;
const finalDid = (r: Report) => (refresh(r).output as { did: Record<string, unknown> }).did;
const nodes = (r: Report) => r.groups.find((g) => g.name === 'nodes')!;

describe('the drain policy, as a platform engineer checks it', () => {
  it('taints every node it drains node-manager.io/draining and takes it out of load balancers, and leaves none so', async () => {
    const { report } = await runScenario(scenario([]));
    expect(refresh(report).status).toBe('SUCCEEDED');
    const cordons = report.audit.filter((a) => a.operation === 'patch nodes' && a.change?.startsWith('cordon'));
    expect(cordons.length).toBeGreaterThanOrEqual(3);
    for (const c of cordons) expect(c.change).toBe('cordon, taint node-manager.io/draining');
    expect(nodes(report).members.every((m) => !m.unschedulable && m.taints.length === 0)).toBe(true);
  });

  it('names what it left even when the release step is retried after it did its work', async () => {
    const { report } = await runScenario(
      scenario([{ name: 'lonely', group: 'nodes', replicas: 1, kind: 'Pod' }], undefined, {}, [
        { kind: 'stepCrash', state: 'Release the lease', times: 1 },
      ]),
    );
    expect(refresh(report).status).toBe('SUCCEEDED');
    expect(finalDid(report)).toMatchObject({
      released: false,
      replaced: 2,
      notReplaced: [{ reason: 'a pod holds it' }],
    });
  });

  it('keeps a bare pod and the node under it, names both, and replaces the rest (barePods: skip-node, the default)', async () => {
    const { report } = await runScenario(scenario([{ name: 'lonely', group: 'nodes', replicas: 1, kind: 'Pod' }]));
    expect(refresh(report).status).toBe('SUCCEEDED');
    const did = finalDid(report);
    expect(did.replaced).toBe(2);
    const left = did.notReplaced as Array<{ node: string; instance: string; reason: string; pods: string[] }>;
    expect(left).toHaveLength(1);
    expect(left[0].reason).toBe('a pod holds it');
    expect(left[0].pods).toEqual([expect.stringMatching(/^default\/lonely-[0-9a-f]+: no controller: never recreated/)]);
    // The node is still there, in service, uncordoned; the pod was never evicted.
    const kept = nodes(report).members.find((m) => m.instanceId === left[0].instance)!;
    expect(kept).toMatchObject({ node: left[0].node, ready: true, unschedulable: false });
    expect(report.audit.filter((a) => a.operation === 'create pods/eviction' && a.target.includes('lonely'))).toEqual(
      [],
    );
    expect(report.pods.deletedWithoutEviction).toBe(0);
  });

  it('evicts a bare pod under barePods: evict, and names it lost', async () => {
    const { report } = await runScenario(
      scenario([{ name: 'lonely', group: 'nodes', replicas: 1, kind: 'Pod' }], { barePods: 'evict' }),
    );
    const did = finalDid(report);
    expect(did.replaced).toBe(3);
    expect(did.notReplaced).toBeUndefined();
    expect(did.podsLost).toEqual([
      expect.stringMatching(/^default\/lonely-[0-9a-f]+: no controller: it will not come back$/),
    ]);
  });

  it('evicts emptyDir pods and names each lost (emptyDir: evict, the default); holds their nodes under skip-node', async () => {
    const cache = { name: 'cache', group: 'nodes', replicas: 2, emptyDir: true };
    const evicted = await runScenario(scenario([cache]));
    expect(finalDid(evicted.report).replaced).toBe(3);
    const lost = finalDid(evicted.report).podsLost as string[];
    expect(lost.length).toBeGreaterThanOrEqual(2);
    for (const p of lost) expect(p).toMatch(/^default\/cache-[0-9a-f]+: its emptyDir data is lost$/);
    const held = await runScenario(scenario([cache], { emptyDir: 'skip-node' }));
    expect(refresh(held.report).status).toBe('SUCCEEDED');
    const left = finalDid(held.report).notReplaced as Array<{ pods: string[] }>;
    expect(left.length).toBeGreaterThanOrEqual(1);
    expect(
      left.flatMap((l) => l.pods).every((p) => /cache-.*emptyDir data \(drain.emptyDir: skip-node\)/.test(p)),
    ).toBe(true);
  });

  it("passes over a do-not-disrupt pod's node (node-manager's or karpenter's annotation), replaces the rest, and names both", async () => {
    for (const annotation of ['node-manager.io/do-not-disrupt', 'karpenter.sh/do-not-disrupt']) {
      const { report } = await runScenario(
        scenario([{ name: 'etl', group: 'nodes', replicas: 1, annotations: { [annotation]: 'true' } }]),
      );
      expect(refresh(report).status).toBe('SUCCEEDED');
      const did = finalDid(report);
      expect(did.replaced).toBe(2);
      const left = did.notReplaced as Array<{ pods: string[] }>;
      expect(left).toHaveLength(1);
      expect(left[0].pods).toEqual([expect.stringMatching(/^default\/etl-[0-9a-f]+: do-not-disrupt: true$/)]);
    }
  });

  it('a do-not-disrupt duration protects a pod only until it has run that long', async () => {
    const short = await runScenario(
      scenario([{ name: 'etl', group: 'nodes', replicas: 1, annotations: { 'karpenter.sh/do-not-disrupt': '1m' } }]),
    );
    // The pods started at the scenario's start; by the time their nodes are picked they ran longer than a minute.
    expect(finalDid(short.report).replaced).toBe(3);
    const long = await runScenario(
      scenario([{ name: 'etl', group: 'nodes', replicas: 1, annotations: { 'karpenter.sh/do-not-disrupt': '48h' } }]),
    );
    expect(finalDid(long.report).replaced).toBe(2);
  });
});

describe('a drain past its timeout, as the group says (onTimeout)', () => {
  // A budget that never lets a pod go: the node holding the budget's pods cannot be drained in time.
  const stuck = [{ name: 'db', group: 'nodes', replicas: 1, pdb: { minAvailable: 1 } }];

  it('fail (the default): the refresh fails, cleans up, and gives the surplus back', async () => {
    const { report } = await runScenario(scenario(stuck, undefined, { drainTimeoutSeconds: 120 }));
    expect(refresh(report)).toMatchObject({ status: 'FAILED', error: 'DrainTimeout' });
    expect(nodes(report).members.every((m) => !m.unschedulable)).toBe(true);
  });

  it('skip: the stuck node is uncordoned and named, the rest is replaced, and the refresh succeeds', async () => {
    const { report } = await runScenario(scenario(stuck, { onTimeout: 'skip' }, { drainTimeoutSeconds: 120 }));
    expect(refresh(report).status).toBe('SUCCEEDED');
    const did = finalDid(report);
    expect(did.replaced).toBe(2);
    const left = did.notReplaced as Array<{ reason: string; pods: string[] }>;
    expect(left).toHaveLength(1);
    expect(left[0].reason).toBe('its drain outlived 120s (onTimeout: skip): uncordoned and left');
    expect(left[0].pods).toEqual([expect.stringMatching(/^default\/db-[0-9a-f]+$/)]);
    expect(nodes(report).members.every((m) => !m.unschedulable)).toBe(true);
  });

  it('force: the pods left are deleted and named, the node goes, and the refresh succeeds', async () => {
    const { report } = await runScenario(scenario(stuck, { onTimeout: 'force' }, { drainTimeoutSeconds: 120 }));
    expect(refresh(report).status).toBe('SUCCEEDED');
    const did = finalDid(report);
    expect(did.replaced).toBe(3);
    expect(did.podsLost).toEqual([
      expect.stringMatching(/^default\/db-[0-9a-f]+: deleted after the drain timeout \(onTimeout: force\)$/),
    ]);
    expect(report.audit.filter((a) => a.operation === 'delete pods')).toHaveLength(1);
  });
});

describe('capacity others added is theirs', () => {
  const asg = (r: Report, zone: string) => nodes(r).asgs.find((a) => a.zone === zone)!;

  it('a refresh gives its own surplus back and keeps what a person added while it ran', async () => {
    const { report } = await runScenario(
      scenario([], undefined, { maxPerZone: 3 }, [
        { kind: 'scaleAsg', at: '4m', group: 'nodes', zone: 'ap-northeast-1d', desired: 2 },
      ]),
    );
    expect(refresh(report).status).toBe('SUCCEEDED');
    expect(asg(report, 'ap-northeast-1d').desired).toBe(2);
    expect(finalDid(report)).toMatchObject({
      othersKept: [
        expect.stringMatching(/desired set to 2 by someone else while the refresh ran \(home 1\): kept as its floor/),
      ],
    });
    expect(asg(report, 'ap-northeast-1a').desired).toBe(1);
    expect(asg(report, 'ap-northeast-1c').desired).toBe(1);
  });

  it('replenish gives back only the substitute capacity it added: a raise by someone else stays', async () => {
    const s = parseScenario({
      name: 'others',
      cluster: { name: 'example.k8s.local', kind: 'kops' },
      groups: [
        {
          name: 'nodes',
          role: 'worker',
          zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
          perZone: 1,
          maxPerZone: 3,
          desiredReady: 3,
        },
      ],
      workloads: [{ name: 'web', group: 'nodes', replicas: 3 }],
      faults: [{ kind: 'scaleAsg', at: '10m', group: 'nodes', zone: 'ap-northeast-1c', desired: 2 }],
      runs: [{ at: '0s', every: '5m', workflow: 'replenish', input: { group: 'nodes' } }],
      until: '3h',
    });
    const { report } = await runScenario(s);
    expect(asg(report, 'ap-northeast-1c').desired).toBe(2);
    expect(report.audit.filter((a) => a.operation === 'TerminateInstanceInAutoScalingGroup')).toEqual([]);
    expect(nodes(report).readyAtEnd).toBe(4);
  });
});
