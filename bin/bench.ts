/**
 * Benchmarks: `npm run bench -- [scenario.json ...]` (default: bench-300 and bench-2000). Runs
 * each scenario on the simulator and prints figures, never asserts: real time, peak memory, the
 * simulated time against its lower bound, transitions, and AWS and Kubernetes calls per replaced node.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseScenario, runScenario } from '../test/sim/scenario';
import { offlineEnvironment } from '../test/sim/offline';

offlineEnvironment();

const DEFAULT = ['bench-300.json', 'bench-2000.json'].map((f) => join(__dirname, '..', 'examples', 'scenarios', f));

async function bench(file: string): Promise<void> {
  const scenario = parseScenario(JSON.parse(readFileSync(file, 'utf8')));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 250);
  const heapAt: number[] = [];
  const t0 = performance.now();
  const { report } = await runScenario(scenario, {
    onReady: (sim) => {
      // Heap every simulated hour: flat means the cost of a step does not grow with the run's past.
      const hour = () => sim.clock.after(3600, 'bench heap sample', () => {
        heapAt.push(Math.round(process.memoryUsage().heapUsed / 1e6));
        hour();
      });
      hour();
    },
  });
  clearInterval(sampler);
  const seconds = (performance.now() - t0) / 1000;
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const replaced = scenario.groups.reduce((n, g) => n + g.perZone * g.zones.length, 0);
  const t = report.totals;
  console.log(`== ${scenario.name}: ${report.executions.map((e) => `${e.name} ${e.status}`).join(', ')}`);
  console.log(`  real ${seconds.toFixed(1)} s, peak RSS ${Math.round(peak / 1e6)} MB, heap by simulated hour (MB): ${heapAt.slice(0, 12).join(' ')}${heapAt.length > 12 ? ` … ${heapAt.slice(-3).join(' ')}` : ''}`);
  console.log(`  simulated ${(t.simulatedSeconds / 3600).toFixed(2)} h, ratio to the lower bound ${(t.simulatedSeconds / t.lowerBoundSeconds).toFixed(3)}`);
  console.log(`  per replaced node: ${(t.transitions / replaced).toFixed(2)} transitions, ${(sum(t.awsCalls) / replaced).toFixed(2)} AWS calls, ${(sum(t.kubeCalls) / replaced).toFixed(2)} Kubernetes calls; largest history ${Math.max(...report.executions.map((e) => e.historyEvents))} events`);
}

async function main(argv: string[]): Promise<void> {
  for (const f of argv.length ? argv.map((a) => resolve(a)) : DEFAULT) await bench(f);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
    process.exit(2);
  },
);
