/**
 * What a deployed function must never do with its inputs: leak the kubeconfig's secret material
 * into an error, a log line or the execution history; run an inherited method as a step; echo a
 * huge input back whole.
 */
import { dispatch } from '../../lambdas/refresh/handler';
import { makeDeps } from '../../lambdas/runtime';
import { parseConfig } from '../../lib/config/schema';
import { parseScenario, runScenario } from '../../sim/scenario/run';

const MARKER = 'MARKER-SECRET-4b1d2e';

describe('secrets and hostile inputs', () => {
  it('a kubeconfig the allowlist refuses fails the step with InvalidKubeconfig, and its token appears in no error, history or log', async () => {
    const lines: string[] = [];
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' '))),
    );
    const write = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((c: string | Uint8Array) => (lines.push(String(c)), true));
    try {
      const run = await runScenario(
        parseScenario({
          name: 'marker',
          cluster: { name: 'example.k8s.local', kind: 'kops' },
          groups: [
            {
              name: 'nodes',
              role: 'worker',
              zones: ['ap-northeast-1a'],
              perZone: 1,
              maxPerZone: 2,
              desiredReady: 1,
              surplus: 1,
            },
          ],
          runs: [{ at: '0s', workflow: 'refresh', input: { group: 'nodes' } }],
          until: '1h',
        }),
        {
          onReady: (sim) =>
            sim.putSecret(
              'node-manager/kubeconfig',
              sim.kubeconfig(MARKER).replace(/( {4}token: .*)/, '$1\n    as: system:admin'),
            ),
        },
      );
      const [e] = run.report.executions;
      expect(e).toMatchObject({ status: 'FAILED', error: 'InvalidKubeconfig' });
      expect(e.cause).toContain('is not allowed: impersonation is not allowed');
      // The failure path had nothing to uncordon, so it released the lease without the API server.
      expect(run.report.groups[0].lease?.holder ?? null).toBeNull();
      expect(JSON.stringify(run.report)).not.toContain(MARKER);
      expect(JSON.stringify(run.runner.timeline)).not.toContain(MARKER);
      expect(lines.join('\n')).not.toContain(MARKER);
      // Nothing was changed with a client it should not have trusted.
      expect(run.report.audit.filter((a) => a.api === 'kube')).toEqual([]);
    } finally {
      spies.forEach((s) => s.mockRestore());
      write.mockRestore();
    }
  });

  const deps = makeDeps(
    parseConfig({
      cluster: { name: 'c', region: 'ap-northeast-1', access: { kind: 'eks', clusterName: 'c' } },
      leaseTable: 'leases',
      groups: [{ name: 'nodes', role: 'worker', asgNames: ['a'], desiredReady: 1 }],
    }),
    () => 0,
  );

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'a direct invoke naming the inherited "%s" is refused as an unknown step',
    async (step) => {
      await expect(dispatch({ step, state: {} } as never, deps)).rejects.toMatchObject({
        name: 'InvalidInput',
        message: expect.stringContaining('unknown refresh step'),
      });
    },
  );

  it('errors quote caller input bounded, however large it is', async () => {
    const huge = 'x'.repeat(200_000);
    const start = (input: unknown) => ({
      step: 'validate',
      start: {
        input,
        executionArn: 'arn:e',
        stateMachineArn: 'arn:aws:states:ap-northeast-1:1:stateMachine:sm',
        startTime: '2026-11-01T00:00:00Z',
      },
    });
    for (const input of [{ group: huge }, { group: 'nodes', [huge]: 1 }, huge, { group: 'nodes', dryRun: huge }]) {
      const err = (await dispatch(start(input) as never, deps).catch((x: unknown) => x)) as Error;
      expect(err.name).toBe('InvalidInput');
      expect(err.message.length).toBeLessThan(400);
    }
    const err = (await dispatch({ step: huge, state: {} } as never, deps).catch((x: unknown) => x)) as Error;
    expect(err.message.length).toBeLessThan(400);
  });
});
