import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlWith } from './kubectl-run';
import { runScenario } from '../../sim/scenario/run';
import { workerScenario } from '../fixtures';

const kubectl = kubectlWith;

describe("node-manager's Events, as kubectl shows them", () => {
  const seen = new Map<string, { out: string; err: string; code: number }>();
  let drainedNode = '';

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nm-events-'));
    const admin = join(dir, 'admin');
    const own = join(dir, 'node-manager');
    await runScenario(
      workerScenario(
        'events',
        { perZone: 1, maxPerZone: 2, desiredReady: 3, surplus: 1 },
        {
          workloads: [{ name: 'web', group: 'nodes', replicas: 3, pdb: { maxUnavailable: 1 } }],
          runs: [{ at: '1m', workflow: 'refresh', input: { group: 'nodes' } }],
          until: '1h',
        },
      ),
      {
        onReady: (sim, runner) => {
          writeFileSync(admin, sim.adminKubeconfig());
          writeFileSync(own, sim.kubeconfig());
          sim.clock.at(sim.now() + 50 * 60_000, 'kubectl later', () => {
            void runner.external('kubectl later', async () => {
              seen.set(
                'terminated',
                await kubectl(admin, 'get', 'events', '-A', '--field-selector', 'reason=Terminated'),
              );
            });
          });
          const before = runner.afterStep;
          let probed = false;
          runner.afterStep = () => {
            before();
            if (probed) return;
            // The first node a refresh drained, while it is still there (cordoned, not yet terminated).
            const node = [...sim.cluster.nodes.values()].find(
              (n) =>
                n.unschedulable &&
                sim.apiServer.events.about('Node', n.name, sim.now()).some((e) => e.reason === 'Drained'),
            );
            if (!node) return;
            probed = true;
            drainedNode = node.name;
            void runner.external('kubectl', async () => {
              seen.set('describe', await kubectl(admin, 'describe', 'node', node.name));
              seen.set('events', await kubectl(admin, 'get', 'events', '-A'));
              seen.set('rs', await kubectl(admin, 'get', 'rs', '-A'));
              seen.set(
                'can-i events',
                await kubectl(own, 'auth', 'can-i', 'create', 'events.events.k8s.io', '-n', 'default'),
              );
              seen.set(
                'can-i evict',
                await kubectl(own, 'auth', 'can-i', 'create', 'pods', '--subresource=eviction', '-n', 'default'),
              );
              seen.set('can-i delete', await kubectl(own, 'auth', 'can-i', 'delete', 'pods', '-n', 'default'));
            });
          };
        },
      },
    );
  });

  it('kubectl describe node tells what node-manager did to it: cordoned, drained', () => {
    const d = seen.get('describe')!;
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message/);
    expect(d.out).toMatch(
      /Normal\s+Cordoned\s+\S+\s+node-manager\.io\/node-manager\s+cordoned and tainted node-manager\.io\/draining by refresh-001/,
    );
    expect(d.out).toMatch(
      /Normal\s+Drained\s+\S+\s+node-manager\.io\/node-manager\s+evicted \d pod\(s\): default\/web-/,
    );
    expect(drainedNode).not.toBe('');
  });

  it('kubectl get events lists them; kubectl get rs answers what discovery lists', () => {
    const e = seen.get('events')!;
    expect(e.code).toBe(0);
    expect(e.out).toMatch(/^NAMESPACE\s+LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    expect(e.out).toContain(`node/${drainedNode}`);
    const rs = seen.get('rs')!;
    expect(rs.code).toBe(0);
    expect(rs.out).toMatch(/default\s+web-7d9f8c6b5\s+3\s+/);
  });

  it('each replaced node is told its termination, and how it is replaced', () => {
    const t = seen.get('terminated')!;
    expect(t.code).toBe(0);
    const rows = t.out.trim().split('\n').slice(1);
    expect(rows).toHaveLength(3);
    expect(
      rows.filter((r) =>
        /Terminated\s+node\/ip-\S+\s+instance i-0\w+ terminated by refresh-001: its ASG launches the replacement/.test(
          r,
        ),
      ),
    ).toHaveLength(2);
    expect(rows.filter((r) => /with decrement: the surplus stands in for it/.test(r))).toHaveLength(1);
  });

  it('kubectl auth can-i answers from the RBAC the server enforces', () => {
    expect(seen.get('can-i events')).toMatchObject({ code: 0, out: 'yes\n', err: '' });
    expect(seen.get('can-i evict')).toMatchObject({ code: 0, out: 'yes\n' });
    expect(seen.get('can-i delete')).toMatchObject({ code: 1, out: 'no\n' });
  });
});
