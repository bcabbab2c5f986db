import { runScenario, type Report } from '../../sim/scenario/run';
import { workerScenario } from '../fixtures';

/** Three workers and a replenish every five minutes; a kubelet (or three) stops at 10m. */
function scenario(count: number, extra: Record<string, unknown> = {}, forSeconds?: string) {
  return workerScenario(
    'repair',
    {
      perZone: 1,
      maxPerZone: 2,
      desiredReady: 3,
      notReadyTimeoutSeconds: 300,
      cooldownSeconds: 120,
      ...extra,
    },
    {
      workloads: [{ name: 'web', group: 'nodes', replicas: 3, pdb: { maxUnavailable: 1 } }],
      faults: [{ kind: 'nodeNotReady', at: '10m', group: 'nodes', count, ...(forSeconds ? { for: forSeconds } : {}) }],
      runs: [{ at: '0s', every: '5m', workflow: 'replenish', input: { group: 'nodes' } }],
      until: '1h',
    },
  );
}

const dids = (r: Report) =>
  r.executions
    .filter((e) => e.workflow === 'replenish')
    .map((e) => (e.output as { did?: Record<string, unknown> }).did ?? {});
const nodes = (r: Report) => r.groups.find((g) => g.name === 'nodes')!;

describe('NotReady repair (replenish)', () => {
  it('repairs a node NotReady past its timeout while its instance runs: drained as far as it can be, replaced', async () => {
    const { report } = await runScenario(scenario(1));
    const repaired = dids(report).filter((d) => d.repaired);
    expect(repaired).toHaveLength(1);
    expect(repaired[0].repaired).toMatch(/NotReady for \d+s: \d+ pod\(s\) evicted, terminated; its ASG replaces it$/);
    const g = nodes(report);
    expect(g.readyAtEnd).toBe(3);
    expect(g.members.every((m) => m.ready && !m.unschedulable)).toBe(true);
    expect(report.audit.filter((a) => a.operation === 'TerminateInstanceInAutoScalingGroup')).toHaveLength(1);
    expect(report.outsideAsgs).toEqual([]);
    // Its ASG replaced it: desired as it was.
    for (const a of g.asgs) expect(a.desired).toBe(a.homeDesired);
  });

  it('leaves a node whose kubelet comes back within the timeout alone', async () => {
    const { report } = await runScenario(scenario(1, {}, '3m'));
    expect(dids(report).filter((d) => d.repaired)).toEqual([]);
    expect(nodes(report).readyAtEnd).toBe(3);
  });

  it('holds off in a storm: more NotReady than repairMaxUnhealthy are named and left to a person', async () => {
    const { report } = await runScenario(scenario(2, { repairMaxUnhealthy: 1 }));
    expect(dids(report).filter((d) => d.repaired)).toEqual([]);
    const held = dids(report).filter((d) => d.repairHeld);
    expect(held.length).toBeGreaterThan(0);
    const last = held[held.length - 1].repairHeld as { nodes: string[]; reason: string };
    expect(last.nodes).toHaveLength(2);
    expect(last.reason).toMatch(/^2 node\(s\) NotReady, more than repairMaxUnhealthy \(1\)/);
    expect(report.audit.filter((a) => a.operation.startsWith('Terminate'))).toEqual([]);
  });
});
