import { runScenario } from './sim/scenario/run';
import { workerScenario } from './test/fixtures';
import { offlineEnvironment } from './sim/offline';
import { runCli } from './cli/program';
offlineEnvironment();
(async () => {
  const sc = workerScenario('w', { perZone: 2, maxPerZone: 3, desiredReady: 6, surplus: 1 }, { until: '2h', workloads: [{ name: 'web', group: 'nodes', replicas: 4, pdb: { maxUnavailable: 1 } }], runs: [{ workflow: 'refresh', at: '1m', input: { group: 'nodes' } }] });
  const { sim } = await runScenario(sc, {
    aws: { port: 0, overWire: true },
    onReady: (s, runner) => {
      for (const [t, args] of [[600, ['status']], [601, ['pause', 'nodes', '--reason', 'change freeze', '--until', '30m']], [602, ['status', 'nodes', '--json']], [3000, ['history', 'nodes']], [3001, ['refresh', 'nodes', '--dry-run', '--interval', '0.05']], [3002, ['status', 'nope']]] as const) {
        s.clock.at(s.now() + t * 1000, 'cli', () => void runner.external('cli', async () => {
          const code = await runCli(['--endpoint-url', s.awsServer!.url, ...args], { out: (x) => console.log(x), err: (x) => console.log('ERR', x), env: process.env, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: () => Date.now() });
          console.log('exit', code);
        }));
      }
    },
  });
  await sim.stop();
})();
