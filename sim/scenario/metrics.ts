import type { EmfOutput } from '../../lambdas/aws/metrics';

/** What the simulator reports: each metric's values summed by group. */
export interface MetricSums {
  readonly sum: number;
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

/** Reads EMF records back (values may be one number or a list of them) into sums by group and metric. */
export function sumEmf(records: readonly EmfOutput[]): Record<string, Record<string, MetricSums>> {
  const out: Record<string, Record<string, MetricSums>> = {};
  for (const r of records) {
    const group = typeof r.Group === 'string' ? r.Group : '(cluster)';
    for (const d of r._aws.CloudWatchMetrics.flatMap((m) => m.Metrics)) {
      const raw = r[d.Name];
      const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number');
      for (const v of values) {
        const g = (out[group] ??= {});
        const s = g[d.Name];
        g[d.Name] = s
          ? { sum: s.sum + v, count: s.count + 1, min: Math.min(s.min, v), max: Math.max(s.max, v) }
          : { sum: v, count: 1, min: v, max: v };
      }
    }
  }
  return out;
}
