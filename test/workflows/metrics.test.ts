import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_WIDE, InvocationMetrics, type EmfOutput } from '../../lambdas/aws/metrics';
import { sumEmf } from '../../sim/scenario/metrics';
import {
  closeBatch,
  METRICS,
  type MetricName,
  followShortfall,
  reclaimShortfall,
  refreshSummary,
  replenishSummary,
  watchReady,
  watchRefusals,
} from '../../lambdas/core';
import { parseScenario, runScenario } from '../../sim/scenario/run';

const SCENARIOS = join(__dirname, '..', '..', 'examples', 'scenarios');
const load = (name: string) => parseScenario(JSON.parse(readFileSync(join(SCENARIOS, `${name}.json`), 'utf8')));

describe('metrics (EMF, from the functions) and summaries (to the topic)', () => {
  it('one EMF record per invocation with Cluster and Group, refused notices under Cluster alone, stamped with the function clock', () => {
    const records: EmfOutput[] = [];
    const m = new InvocationMetrics('prod');
    m.add('PodsEvicted', 1);
    m.add('PodsEvicted', 1);
    m.add('DrainSeconds', 42);
    m.add('NoticesRefused', 1);
    m.add('PodsLost', Number.NaN);
    m.flush(Date.parse('2026-11-01T00:00:00Z'), 'nodes', (r) => records.push(r));
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      _aws: {
        Timestamp: Date.parse('2026-11-01T00:00:00Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'NodeManager',
            Dimensions: [['Cluster', 'Group']],
            Metrics: [
              { Name: 'PodsEvicted', Unit: 'Count' },
              { Name: 'DrainSeconds', Unit: 'Seconds' },
            ],
          },
        ],
      },
      Cluster: 'prod',
      Group: 'nodes',
      PodsEvicted: [1, 1],
      DrainSeconds: 42,
    });
    expect(records[1]).toMatchObject({ Cluster: 'prod', NoticesRefused: 1 });
    expect(records[1]).not.toHaveProperty('Group');
    expect(sumEmf(records)).toEqual({
      nodes: {
        PodsEvicted: { sum: 2, count: 2, min: 1, max: 1 },
        DrainSeconds: { sum: 42, count: 1, min: 42, max: 42 },
      },
      '(cluster)': { NoticesRefused: { sum: 1, count: 1, min: 1, max: 1 } },
    });
    // Nothing added, nothing published.
    m.flush(0, 'nodes', (r) => records.push(r));
    expect(records).toHaveLength(2);
  });

  it('a refresh: nodes replaced, drain seconds, 0 s below desired per batch (the surplus covers it), its ratio to the learned bound, and its summary', async () => {
    const { report } = await runScenario(load('kops-weekly'));
    const refreshed = report.executions.filter((e) => e.workflow === 'refresh' && e.status === 'SUCCEEDED');
    expect(refreshed.length).toBeGreaterThan(0);
    const m = report.metrics.nodes;
    const replaced = report.summaries.filter((s) => /refresh of nodes done/.test(s.subject ?? ''));
    expect(m.NodesReplaced.sum).toBe(
      refreshed.reduce((n, e) => n + ((e.output as { did?: { replaced?: number } }).did?.replaced ?? 0), 0),
    );
    expect(m.SecondsBelowDesired).toMatchObject({ count: m.NodesReplaced.sum, max: 0 });
    expect(m.DrainSeconds.count).toBe(m.NodesReplaced.sum);
    expect(m.RefreshSeconds.count).toBe(refreshed.length);
    expect(m.RefreshBoundRatio.max).toBeLessThan(1.2);
    expect(m.RefreshBoundRatio.min).toBeGreaterThan(0.8);
    expect(m.PodsEvicted.sum).toBe(report.pods.evictions);
    expect(replaced).toHaveLength(refreshed.length);
    expect(replaced[0].message).toMatch(
      /^Refresh of group nodes \(cluster [^)]+\) done: (\d+) of \1 nodes replaced in \d+ (min|s), never below \d+ Ready \(\d\.\d\dx its learned bound\)\. /,
    );
    expect(replaced[0].message).toMatch(
      /Surplus given back\. Execution: https:\/\/[a-z0-9-]+\.console\.aws\.amazon\.com\/states\//,
    );
  });

  it('a Spot outage: Ready against desired at each replenish pass, the shortfall measured once when it ends, substitutes in place, a summary of the raise', async () => {
    const { report } = await runScenario(load('spot-outage-replenish'));
    const m = report.metrics.nodes;
    expect(m.ReadyNodes.min).toBeLessThan(m.DesiredReady.max);
    expect(m.ReadyShortfall.max).toBeGreaterThanOrEqual(1);
    expect(m.SubstituteNodes.max).toBeGreaterThanOrEqual(1);
    expect(m.SecondsBelowDesired.count).toBeGreaterThanOrEqual(1);
    expect(m.SecondsBelowDesired.min).toBeGreaterThan(0);
    const raised = report.summaries.find((s) => /replenish of nodes/.test(s.subject ?? ''));
    expect(raised?.message).toMatch(/had \d+ Ready of \d+ desired; replenish raised nodes-.* \(substitute capacity/);
  });

  it('interruptions: drained and refused notices counted, a summary per drain', async () => {
    const { report } = await runScenario(load('forged-notices'));
    expect(report.metrics['(cluster)'].NoticesRefused.sum).toBe(
      report.executions.filter((e) => (e.output as { did?: { refused?: boolean } } | null)?.did?.refused).length,
    );
    expect(report.metrics.nodes.InterruptionsDrained.sum).toBe(1);
    const told = report.summaries.filter((s) => /spot-interruption of i-/.test(s.subject ?? ''));
    expect(told).toHaveLength(1);
    expect(told[0].message).toMatch(
      /^spot-interruption for i-\w+ \(node [^)]+\) in group nodes .*: \d+ pods evicted in \d+ (s|min), none left on it\./,
    );
  });

  it('a Spot reclaim: seconds below desiredReady from the cordon until the replacement was Ready, once, as the picture shows it', async () => {
    const { report } = await runScenario(load('spot-reclaim'));
    const reclaimed = report.lives.find((l) => l.phases.some(([, p]) => p === 'draining'))!;
    const cordonAt = reclaimed.phases.find(([, p]) => p === 'draining')![0];
    const replacement = report.lives.find((l) => l.phases[0][0] >= cordonAt)!;
    const readyAt = replacement.phases.find(([, p]) => p === 'ready')![0];
    expect(report.metrics.nodes.SecondsBelowDesired).toEqual({
      sum: readyAt - cordonAt,
      count: 1,
      min: readyAt - cordonAt,
      max: readyAt - cordonAt,
    });
    expect(readyAt - cordonAt).toBeGreaterThan(0);
    const drain = report.executions.find((e) => e.workflow === 'interruption')!;
    expect(drain.status).toBe('SUCCEEDED');
    expect((drain.output as { did: { whole: string } }).did.whole).toBe(
      `below desiredReady for ${readyAt - cordonAt}s, from the cordon until its replacement was Ready`,
    );
  });

  it('a shortfall ends when the node that made the group whole turned Ready; a reclaim the surplus covered is 0 s', () => {
    expect(followShortfall(1_000, 3, 3, 100_000, 41_000)).toEqual({ closedSeconds: 40 });
    expect(followShortfall(1_000, 3, 3, 100_000)).toEqual({ closedSeconds: 99 });
    expect(followShortfall(undefined, 2, 3, 5_000)).toEqual({ since: 5_000 });
    const old = { launchedAt: 0, readySince: 0 };
    expect(reclaimShortfall({ cordonAt: 10_000, desiredReady: 2, ready: [old, old], now: 20_000 })).toEqual({
      whole: true,
      seconds: 0,
    });
    expect(reclaimShortfall({ cordonAt: 10_000, desiredReady: 3, ready: [old, old], now: 20_000 })).toEqual({
      whole: false,
      seconds: 10,
    });
    expect(
      reclaimShortfall({
        cordonAt: 10_000,
        desiredReady: 3,
        ready: [old, old, { launchedAt: 11_000, readySince: 160_000 }],
        now: 170_000,
      }),
    ).toEqual({ whole: true, seconds: 150 });
  });

  it("the README's metrics table is the catalog's", () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const [name, m] of Object.entries(METRICS)) {
      const dims = CLUSTER_WIDE.has(name as MetricName) ? 'Cluster' : 'Cluster, Group';
      expect(readme).toContain(`| \`${name}\` | ${m.unit} | ${dims} | ${m.what} |`);
    }
  });

  it('a refresh a budget stops: its summary says what it set out to do, what refused, and what it put back', async () => {
    const { report } = await runScenario(load('pdb-blocks-drain'));
    const [told] = report.summaries;
    expect(told.subject).toBe(
      'node-manager example.k8s.local: refresh of nodes ended with DrainTimeout, 0 of 3 replaced',
    );
    expect(told.message).toMatch(
      /^Refresh of group nodes \(cluster example\.k8s\.local\) ended with DrainTimeout: 0 of 3 nodes replaced in \d+ min, never below 3 Ready\. \d+ evictions refused by budget web \(waited for, not forced\)\. Its cordons were lifted and the surplus given back\./,
    );
    expect(report.metrics.nodes.EvictionsRefused.sum).toBe(report.pods.evictionsRefused);
    expect(report.metrics.nodes).not.toHaveProperty('RefreshSeconds');
  });

  it('summary texts read as a person would write them', () => {
    const base = {
      cluster: 'prod',
      group: 'web',
      execution: 'arn:aws:states:eu-west-1:123456789012:execution:node-manager-prod-refresh:weekly',
      desiredReady: 8,
      notReplaced: [],
      podsLost: 0,
    };
    expect(
      refreshSummary({
        ...base,
        replaced: 8,
        planned: 8,
        seconds: 1020,
        minReady: 8,
        refusals: 2,
        budgets: ['web'],
        boundRatio: 1.04,
      }),
    ).toEqual({
      subject: 'node-manager prod: refresh of web done, 8 of 8 replaced',
      message:
        'Refresh of group web (cluster prod) done: 8 of 8 nodes replaced in 17 min, never below 8 Ready (1.04x its ' +
        'learned bound). 2 evictions refused by budget web (waited for, not forced). Surplus given back. Execution: ' +
        'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/' +
        'arn:aws:states:eu-west-1:123456789012:execution:node-manager-prod-refresh:weekly',
    });
    const failed = refreshSummary({
      ...base,
      replaced: 3,
      planned: 8,
      seconds: 45,
      minReady: 7,
      refusals: 0,
      budgets: [],
      notReplaced: ['ip-1: held by do-not-disrupt'],
      podsLost: 1,
      failure: 'DrainTimeout',
    });
    expect(failed.subject).toBe('node-manager prod: refresh of web ended with DrainTimeout, 3 of 8 replaced');
    expect(failed.message).toContain('3 of 8 nodes replaced in 45 s, down to 7 Ready of 8 desired.');
    expect(failed.message).toContain('Not replaced: ip-1: held by do-not-disrupt. 1 pod lost');
    expect(failed.message).toContain('Its cordons were lifted and the surplus given back.');
    expect(replenishSummary({ ...base, ready: 8, desiredReady: 8, raised: [], reaped: 0 })).toBeUndefined();
  });

  it('a batch is measured once: Ready below desired between looks, closed when whole, refusals named by budget', () => {
    let w = watchReady(undefined, 8, 8, 0);
    w = watchReady(w, 7, 8, 10_000);
    w = watchReady(w, 8, 8, 40_000);
    w = watchRefusals(w, 2, [
      "Cannot evict pod as it would violate the pod's disruption budget. The disruption budget web needs 2 healthy pods",
    ]);
    const first = closeBatch(w, 1, 50_000);
    expect(first.seconds).toBe(30);
    expect(closeBatch(first.watch, 1, 60_000).seconds).toBeUndefined();
    expect(first.watch).toMatchObject({ minReady: 7, refusals: 2, budgets: ['web'], batches: 1 });
  });
});
