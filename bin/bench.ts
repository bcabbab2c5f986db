/**
 * Benchmarks, printed, never asserted.
 *
 * `npm run bench` prints one table: refreshes of 6, 60, 300 and 2,000 nodes with surplus 1 and
 * 10 %, the control plane, an idle and an outage replenish, with the time against the physical
 * bound, transitions, AWS and Kubernetes calls per replaced node, history, cost, real seconds and
 * peak memory. `npm run bench -- --sizes 6,60` picks the sizes.
 *
 * `npm run bench -- scenario.json ...` runs scenario files instead and prints each one's figures;
 * for scenarios with interruptions (spot-reclaim, spot-storm), the drain's figures.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseScenario, runScenario, type Report, type Scenario } from '../sim/scenario/run';
import { offlineEnvironment } from '../sim/offline';
import { benchTable, gateCost, PRICE } from './bench-table';

offlineEnvironment();

async function bench(file: string): Promise<void> {
  const scenario = parseScenario(JSON.parse(readFileSync(file, 'utf8')));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 250);
  const heapAt: number[] = [];
  const t0 = performance.now();
  const { report } = await runScenario(scenario, {
    onReady: (sim) => {
      // Heap every simulated hour: flat means the cost of a step does not grow with the run's past.
      const hour = () =>
        sim.clock.after(3600, 'bench heap sample', () => {
          heapAt.push(Math.round(process.memoryUsage().heapUsed / 1e6));
          hour();
        });
      hour();
    },
  });
  clearInterval(sampler);
  const seconds = (performance.now() - t0) / 1000;
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const replaced = scenario.groups.reduce((n, g) => n + (g.perZone ?? 0) * g.zones.length, 0);
  const t = report.totals;
  const byStatus = new Map<string, number>();
  for (const e of report.executions)
    byStatus.set(`${e.workflow} ${e.status}`, (byStatus.get(`${e.workflow} ${e.status}`) ?? 0) + 1);
  console.log(
    `== ${scenario.name}: ` +
      (report.executions.length <= 6
        ? report.executions.map((e) => `${e.name} ${e.status}`)
        : [...byStatus].map(([k, n]) => `${n} ${k}`)
      ).join(', '),
  );
  console.log(
    `  real ${seconds.toFixed(1)} s, peak RSS ${Math.round(peak / 1e6)} MB, heap by simulated hour (MB): ` +
      `${heapAt.slice(0, 12).join(' ')}${heapAt.length > 12 ? ` … ${heapAt.slice(-3).join(' ')}` : ''}`,
  );
  console.log(
    `  simulated ${(t.simulatedSeconds / 3600).toFixed(2)} ` +
      `h${t.lowerBoundSeconds > 0 ? `, ratio to the lower bound ${(t.simulatedSeconds / t.lowerBoundSeconds).toFixed(3)}` : ''}`,
  );
  if (report.executions.some((e) => e.workflow === 'refresh')) {
    console.log(
      `  per replaced node: ${(t.transitions / replaced).toFixed(2)} transitions, ` +
        `${(sum(t.awsCalls) / replaced).toFixed(2)} AWS calls, ${(sum(t.kubeCalls) / replaced).toFixed(2)} ` +
        `Kubernetes calls; largest history ${Math.max(...report.executions.map((e) => e.historyEvents))} events`,
    );
  }
  if (report.executions.some((e) => e.workflow === 'interruption')) interruptionFigures(scenario, report);
}

/** The interruption drain's figures: how fast a node is tainted and emptied, what is lost, what is left over, what it costs. */
function interruptionFigures(scenario: Scenario, report: Report): void {
  const start = Date.parse(report.startedAt);
  const all = report.executions.filter((e) => e.workflow === 'interruption');
  const drains = all.filter((e) => (e.output as { did?: { ignored?: unknown } } | null)?.did?.ignored === undefined);
  const eventAt = (e: Report['executions'][number]) => (Date.parse((e.input as { time: string }).time) - start) / 1000;
  const firstOf = (e: Report['executions'][number], op: string) =>
    report.audit.filter((a) => a.execution === e.name && a.operation === op).map((a) => a.at);
  const tainted = drains.map((e) => Math.min(...firstOf(e, 'patch nodes')) - eventAt(e)).filter(Number.isFinite);
  const emptied = drains
    .map((e) => Math.max(...firstOf(e, 'create pods/eviction')) - eventAt(e))
    .filter(Number.isFinite);
  const stats = (xs: number[]) =>
    xs.length ? `median ${xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]} s, max ${Math.max(...xs)} s` : 'n/a';
  const until = scenario.until;
  const below = report.groups.map((g) => {
    let s = 0;
    g.readyTimeline.forEach(([at, ready], i) => {
      if (ready < g.desiredReady) s += (i + 1 < g.readyTimeline.length ? g.readyTimeline[i + 1][0] : until) - at;
    });
    return `${g.name} ${s} s`;
  });
  const leftOver =
    report.groups.reduce((n, g) => n + g.asgs.reduce((m, a) => m + Math.max(0, a.desired - a.homeDesired), 0), 0) +
    report.outsideAsgs.length;
  const transitions = all.reduce((n, e) => n + e.transitions, 0);
  const invocations = all.reduce((n, e) => n + e.lambdaInvocations, 0);
  const billed = all.reduce((n, e) => n + e.lambdaBilledMs, 0);
  const cost =
    transitions * PRICE.transition +
    invocations * PRICE.request +
    (billed / 1000) * PRICE.memoryGb * PRICE.gbSecond +
    gateCost(report);
  const per = Math.max(1, drains.length);
  console.log(
    `  interruptions: ${drains.length} drained, ${all.length - drains.length} executions ignored or refused ` +
      `(duplicates, ends of announced ones, forged); the gate dropped ${report.totals.gate.dropped} of ` +
      `${report.totals.gate.invocations} events before Step Functions`,
  );
  console.log(`  notice -> node tainted: ${stats(tainted)}; notice -> last eviction: ${stats(emptied)}`);
  console.log(
    `  pods lost to interruptions ${report.pods.lostToInterruption}, deleted without eviction ` +
      `${report.pods.deletedWithoutEviction}; seconds below desiredReady: ${below.join(', ')}; capacity left over at the end ${leftOver}`,
  );
  console.log(
    `  per interruption: ${(all.length / per).toFixed(2)} executions, ${(transitions / per).toFixed(1)} ` +
      `transitions, ${(invocations / per).toFixed(1)} Lambda invocations; $${((cost / per) * 1000).toFixed(2)} per 1,000 interruptions`,
  );
}

async function main(argv: string[]): Promise<void> {
  const files = argv.filter((a) => a.endsWith('.json'));
  if (files.length) {
    for (const f of files) await bench(resolve(f));
    return;
  }
  const at = argv.indexOf('--sizes');
  const sizes = at >= 0 ? (argv[at + 1] ?? '').split(',').map(Number) : [6, 60, 300, 2000];
  if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 3 || n > 5000))
    throw new Error('--sizes: comma-separated node counts, each from 3 to 5000 (for example --sizes 6,60,300)');
  await benchTable(sizes);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
    process.exit(2);
  },
);
