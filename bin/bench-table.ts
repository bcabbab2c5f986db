/**
 * The table `npm run bench` prints: refreshes at several sizes and surpluses, the control plane,
 * an idle and an outage replenish, on the simulator, with what they cost. Figures only: nothing
 * here asserts (tests check behaviour; benchmarks print).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario, runScenario, type Report, type Scenario } from '../sim/scenario/run';

const SCENARIOS = join(__dirname, '..', 'examples', 'scenarios');

/**
 * Prices (us-east-1, 2026): Step Functions Standard per transition; Lambda per request and per
 * GB-second on arm64 at the functions' 512 MB; DynamoDB on demand per write and (strongly
 * consistent) read request unit, the lease item taken as one unit.
 */
export const PRICE = {
  transition: 0.000025,
  request: 0.0000002,
  gbSecond: 0.0000133334,
  memoryGb: 0.5,
  gateMemoryGb: 0.25,
  write: 0.000000625,
  read: 0.000000125,
} as const;

/** What the interruption gate's invocations cost (256 MB, arm64). */
export function gateCost(r: Report): number {
  return (
    r.totals.gate.invocations * PRICE.request + (r.totals.gate.billedMs / 1000) * PRICE.gateMemoryGb * PRICE.gbSecond
  );
}

/** A thousand Spot warnings for instances of no managed group (another cluster, a bastion), one a second. */
export function foreignEvents(count = 1000): Scenario {
  const s = load('interruption-foreign');
  return parseScenario({
    ...s,
    name: `${count} foreign Spot warnings`,
    faults: Array.from({ length: count }, (_, i) => ({ at: `${i + 1}s`, kind: 'foreignInterruption' })),
    until: `${count + 60}s`,
  });
}

export interface Row {
  readonly name: string;
  readonly realSeconds: number;
  readonly peakRssMb: number;
  readonly report: Report;
  readonly scenario: Scenario;
}

function load(name: string): Scenario {
  return parseScenario(JSON.parse(readFileSync(join(SCENARIOS, `${name}.json`), 'utf8')));
}

/**
 * A worker group of `nodes` (3 AZs, 4 from 2,000 up) with a DaemonSet and two web pods per node
 * under a budget that lets 5 % of them go at once (one at a time up to 10 nodes).
 */
export function refreshScenario(nodes: number, surplus: number | string): Scenario {
  const zones =
    nodes >= 2000
      ? ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d', 'ap-northeast-1b']
      : ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];
  const perZone = Math.ceil(nodes / zones.length);
  const base = JSON.parse(readFileSync(join(SCENARIOS, 'bench-300.json'), 'utf8')) as Record<string, unknown>;
  const batches =
    typeof surplus === 'number'
      ? Math.ceil(nodes / Math.max(1, surplus))
      : Math.ceil(100 / Number.parseInt(surplus, 10)) + 1;
  return parseScenario({
    ...base,
    name: `refresh ${perZone * zones.length} nodes, surplus ${surplus}`,
    groups: [
      {
        ...(base.groups as object[])[0],
        zones,
        perZone,
        maxPerZone: perZone,
        desiredReady: perZone * zones.length,
        surplus,
        drainTimeoutSeconds: 1800,
      },
    ],
    workloads: [
      {
        name: 'web',
        namespace: 'default',
        group: 'nodes',
        replicas: 2 * perZone * zones.length,
        pdb: { maxUnavailable: '5%' },
      },
    ],
    // Room for every batch at twice its physical time, and an hour more.
    until: `${3600 + batches * 2 * (90 + 60 + 10 + 10 * Math.ceil(nodes / batches))}s`,
  });
}

/** An idle group on a 5-minute replenish schedule for a day: what doing nothing costs. */
function idleReplenish(): Scenario {
  const s = load('spot-outage-replenish');
  return parseScenario({
    ...s,
    name: 'replenish, idle (5-minute schedule, 1 day)',
    faults: [],
    runs: [{ every: '5m', workflow: 'replenish', input: { group: 'nodes' } }],
    until: '1d',
  });
}

export async function measure(name: string, scenario: Scenario): Promise<Row> {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const t0 = performance.now();
  const { report } = await runScenario(scenario);
  clearInterval(sampler);
  return {
    name,
    realSeconds: (performance.now() - t0) / 1000,
    peakRssMb: Math.round(Math.max(peak, process.memoryUsage().rss) / 1e6),
    report,
    scenario,
  };
}

const sum = (o: Readonly<Record<string, number>>) => Object.values(o).reduce((a, b) => a + b, 0);

/** What the executions of one workflow cost: transitions, invocations, Lambda time and the lease's reads and writes. */
export function cost(r: Report, workflow?: string): number {
  const execs = r.executions.filter((e) => workflow === undefined || e.workflow === workflow);
  const transitions = execs.reduce((n, e) => n + e.transitions, 0);
  const invocations = execs.reduce((n, e) => n + e.lambdaInvocations, 0);
  const billed = execs.reduce((n, e) => n + e.lambdaBilledMs, 0);
  const all = workflow === undefined || r.executions.every((e) => e.workflow === workflow);
  const dynamo = all
    ? (r.totals.awsCalls.UpdateItem ?? 0) * PRICE.write + (r.totals.awsCalls.GetItem ?? 0) * PRICE.read
    : 0;
  return (
    transitions * PRICE.transition +
    invocations * PRICE.request +
    (billed / 1000) * PRICE.memoryGb * PRICE.gbSecond +
    dynamo
  );
}

function refreshLine(row: Row): string[] {
  const r = row.report;
  const t = r.totals;
  const replaced = row.scenario.groups.reduce((n, g) => n + (g.perZone ?? 0) * g.zones.length, 0);
  const pods = r.pods.evictions;
  const kube = sum(t.kubeCalls) - (t.kubeCalls['create pods/eviction'] ?? 0);
  const ok = r.executions.every((e) => e.status === 'SUCCEEDED');
  return [
    row.name,
    ok
      ? `${r.executions.length} SUCCEEDED`
      : r.executions.map((e) => `${e.status}${e.error ? ` ${e.error}` : ''}`).join(','),
    (t.simulatedSeconds / t.lowerBoundSeconds).toFixed(3),
    (t.transitions / replaced).toFixed(2),
    (sum(t.awsCalls) / replaced).toFixed(2),
    `${(kube / replaced).toFixed(2)} + ${(pods ? (t.kubeCalls['create pods/eviction'] ?? 0) / pods : 0).toFixed(2)}/pod`,
    String(Math.max(...r.executions.map((e) => e.historyEvents))),
    `$${((cost(r) / replaced) * 1000).toFixed(2)}`,
    row.realSeconds.toFixed(1),
    String(row.peakRssMb),
  ];
}

function replenishLine(row: Row): string[] {
  const r = row.report;
  const execs = r.executions.filter((e) => e.workflow === 'replenish');
  const n = Math.max(1, execs.length);
  const passes = (r.totals.simulatedSeconds / 300) | 0;
  const perMonth = (cost(r, 'replenish') / Math.max(1, r.totals.simulatedSeconds)) * 30 * 86400;
  return [
    row.name,
    `${execs.length} executions (${passes} scheduled)`,
    (execs.reduce((a, e) => a + e.transitions, 0) / n).toFixed(2),
    (execs.reduce((a, e) => a + e.lambdaInvocations, 0) / n).toFixed(2),
    `$${cost(r, 'replenish').toFixed(4)}`,
    `$${perMonth.toFixed(2)}`,
    row.realSeconds.toFixed(1),
    String(row.peakRssMb),
  ];
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Runs every row and prints the two tables (refresh, replenish). `sizes` picks the refresh sizes. */
export async function benchTable(sizes: readonly number[]): Promise<void> {
  const refreshRows: string[][] = [];
  for (const nodes of sizes) {
    for (const surplus of [1, '10%'] as const) {
      const row = await measure(`${nodes} nodes, surplus ${surplus}`, refreshScenario(nodes, surplus));
      refreshRows.push(refreshLine(row));
      console.error(`  done: ${row.name} in ${row.realSeconds.toFixed(1)} s`);
    }
  }
  const cp = await measure('control plane (3 masters, in place)', load('kops-control-plane'));
  refreshRows.push(refreshLine(cp));
  console.log(
    `Refresh (per replaced node; the bound: one launch for the surge, each batch's drain, a launch for every batch but the last)\n`,
  );
  console.log(
    table(
      [
        'refresh',
        'executions',
        'time / bound',
        'transitions',
        'AWS calls',
        'Kubernetes calls',
        'largest history',
        'cost per 1,000 nodes',
        'real s',
        'peak RSS MB',
      ],
      refreshRows,
    ),
  );
  const replenishRows = [
    replenishLine(await measure('idle (nothing to do)', idleReplenish())),
    replenishLine(await measure('Spot outage in one AZ (2 h, events on)', load('spot-outage-replenish'))),
  ];
  console.log(`\nReplenish (per execution; the run's cost, and a month at that rate)\n`);
  console.log(
    table(
      [
        'replenish',
        'executions',
        'transitions',
        'Lambda invocations',
        'cost of the run',
        'per group-month',
        'real s',
        'peak RSS MB',
      ],
      replenishRows,
    ),
  );
  const foreign = await measure('foreign events', foreignEvents());
  const f = foreign.report;
  const n = f.totals.gate.invocations;
  console.log(
    `\nInterruption drain: events for instances of no managed group (the gate drops them before Step Functions)\n`,
  );
  console.log(
    table(
      ['events', 'dropped by the gate', 'executions', 'transitions', 'AWS calls', 'cost per 1,000', 'real s'],
      [
        [
          String(n),
          String(f.totals.gate.dropped),
          String(f.executions.length),
          String(f.totals.transitions),
          String(sum(f.totals.awsCalls)),
          `$${((gateCost(f) / Math.max(1, n)) * 1000).toFixed(5)}`,
          foreign.realSeconds.toFixed(1),
        ],
      ],
    ),
  );
  console.log(
    `\nPrices: Standard transition $${PRICE.transition}, Lambda request $${PRICE.request}, GB-s ` +
      `$${PRICE.gbSecond} (arm64, 512 MB), DynamoDB write $${PRICE.write}, read $${PRICE.read}.`,
  );
}
