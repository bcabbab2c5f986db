import { Metrics } from '@aws-lambda-powertools/metrics';
import type { EmfOutput } from '@aws-lambda-powertools/metrics/types';
import { METRICS, METRIC_NAMESPACE, type Measures, type MetricName } from '../core';

export type { EmfOutput } from '@aws-lambda-powertools/metrics/types';

/** Where a function's EMF records go: stdout in Lambda (CloudWatch Logs extracts them), the report in the simulator. */
export type EmfSink = (record: EmfOutput) => void;

/** Lambda: one line on stdout, not through console.log (which prefixes it, and CloudWatch would not read it as EMF). */
export const stdoutSink: EmfSink = (record) => {
  process.stdout.write(`${JSON.stringify(record)}\n`);
};

/**
 * One invocation's measures, published with Powertools for AWS Lambda (Metrics) at its end: one
 * EMF record with dimensions Cluster and Group, and one with Cluster alone for what belongs to no
 * group (a refused notice may name none), stamped with the function's clock. Powertools' own
 * warnings (a timestamp CloudWatch would skip: the simulator's virtual days) go to `warn`.
 */
export class InvocationMetrics implements Measures {
  private readonly values: Array<readonly [MetricName, number]> = [];

  constructor(
    private readonly cluster: string,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  add(name: MetricName, value: number): void {
    if (Number.isFinite(value)) this.values.push([name, value]);
  }

  /** Gives `sink` the records of what was added (none when nothing was), under the group known by then; empties the store. */
  flush(at: number, group: string | undefined, sink: EmfSink): void {
    const wide = this.values.filter(([n]) => CLUSTER_WIDE.has(n) || group === undefined);
    const grouped = this.values.filter(([n]) => !CLUSTER_WIDE.has(n) && group !== undefined);
    this.values.length = 0;
    for (const [values, dims] of [
      [grouped, { Cluster: this.cluster, Group: group ?? '' }],
      [wide, { Cluster: this.cluster }],
    ] as const) {
      if (!values.length) continue;
      const quiet = {
        debug: () => undefined,
        info: () => undefined,
        error: (m: unknown) => this.warn(String(m)),
        warn: (m: unknown) => this.warn(String(m)),
      };
      const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'node-manager', logger: quiet });
      // The service is the same for every record: a dimension that would only double the series.
      metrics.clearDefaultDimensions();
      metrics.addDimensions(dims);
      for (const [name, value] of values) metrics.addMetric(name, METRICS[name].unit, value);
      metrics.setTimestamp(at);
      sink(metrics.serializeMetrics());
    }
  }
}

/** Metrics of the cluster, not of a group: published with the Cluster dimension alone. */
export const CLUSTER_WIDE: ReadonlySet<MetricName> = new Set<MetricName>(['NoticesRefused']);
