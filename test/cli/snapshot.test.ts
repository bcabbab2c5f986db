import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario, runScenario, type Report } from '../../sim/scenario/run';
import { workerScenario } from '../fixtures';
import { invoke, type CliRun } from './served';

/** The instances a refresh terminated, in order: from the audit, from its start on. */
const terminated = (r: Report, e: Report['executions'][number]) =>
  r.audit
    .filter(
      (a) =>
        a.operation === 'TerminateInstanceInAutoScalingGroup' &&
        a.outcome === 'ok' &&
        a.at >= e.startedAt &&
        a.at <= (e.stoppedAt ?? Infinity),
    )
    .map((a) => a.target.split(' ')[0]);

describe('node-manager snapshot', () => {
  it('reads a served cluster into a scenario that simulates to the same refresh: same nodes, same order, within 5 %', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'node-manager-snapshot-'));
    const runs: CliRun[] = [];
    // A first refresh teaches the group its waits; the snapshot is taken a minute before the second.
    const { report, sim } = await runScenario(
      workerScenario(
        'snapshot',
        { perZone: 3, maxPerZone: 4, desiredReady: 9, surplus: 1 },
        {
          workloads: [{ name: 'web', group: 'nodes', replicas: 6, pdb: { maxUnavailable: 1 } }],
          runs: [
            { at: '1m', workflow: 'refresh', input: { group: 'nodes' } },
            { at: '3h', workflow: 'refresh', input: { group: 'nodes' } },
          ],
          until: '5h',
        },
      ),
      {
        aws: { port: 0, overWire: true },
        onReady: (s, runner) => {
          writeFileSync(join(dir, 'kubeconfig'), s.adminKubeconfig());
          s.clock.at(s.now() + (3 * 3600 - 60) * 1000, 'snapshot', () => {
            void runner.external('snapshot', async () => {
              await invoke(
                s,
                ['snapshot', 'nodes', '--kubeconfig', join(dir, 'kubeconfig'), '-o', join(dir, 'snap.json')],
                runs,
              );
              await invoke(s, ['snapshot', 'nodes', '--kubeconfig', join(dir, 'nope')], runs);
            });
          });
        },
      },
    );
    await sim.stop();
    const [wrote, noKubeconfig] = runs;
    expect(wrote.code).toBe(0);
    expect(wrote.out).toMatch(
      /^wrote .*snap\.json: 9 member\(s\) in 3 ASG\(s\), 1 workload\(s\), boot 90 s \+ join 60 s/,
    );
    expect(noKubeconfig).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^node-manager: cannot read the kubeconfig .*nope/),
    });

    const snap = JSON.parse(readFileSync(join(dir, 'snap.json'), 'utf8')) as {
      groups: Array<{ memory?: unknown; asgs: Array<{ members: unknown[] }> }>;
      workloads: unknown[];
    };
    expect(snap.groups[0].memory).toEqual({ learned: expect.objectContaining({ readySeconds: expect.any(Array) }) });
    expect(snap.workloads).toEqual([
      expect.objectContaining({ name: 'web', replicas: 6, kind: 'ReplicaSet', pdb: { maxUnavailable: 1 } }),
    ]);

    const original = report.executions[1];
    const preview = (await runScenario(parseScenario(snap))).report;
    const previewed = preview.executions[0];
    expect([original.status, previewed.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const order = terminated(report, original);
    expect(order).toHaveLength(9);
    expect(terminated(preview, previewed)).toEqual(order);
    const took = (e: Report['executions'][number]) => e.stoppedAt! - e.startedAt;
    expect(Math.abs(took(previewed) - took(original)) / took(original)).toBeLessThan(0.05);
  });
});
