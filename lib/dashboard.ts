import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { METRIC_NAMESPACE, METRICS, type MetricName } from '../lambdas/core/metrics';
import type { MetricAlarmSettings } from './props';

/** One of node-manager's metrics (lambdas/core/metrics.ts), of a group or (no group) of the cluster. */
function metric(
  cluster: string,
  group: string | undefined,
  name: MetricName,
  statistic: string,
  period: Duration,
  label?: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName: name,
    dimensionsMap: group !== undefined ? { Cluster: cluster, Group: group } : { Cluster: cluster },
    statistic,
    period,
    ...(label ? { label } : {}),
    ...(METRICS[name].unit === 'Seconds' ? { unit: cloudwatch.Unit.SECONDS } : {}),
  });
}

/**
 * The alarms on the metrics, announced on the topic: a group's Ready nodes below desiredReady for
 * too long, substitute capacity held for too long (its home zones never recovered), evictions
 * refused again and again (a budget that never frees), and any refused notice (someone starting
 * interruption drains with forged events). No data (no pass ran) is not an alarm.
 */
export function addMetricAlarms(
  scope: Construct,
  p: {
    readonly clusterName: string;
    readonly groups: readonly string[];
    readonly topic: sns.ITopic;
    readonly settings: MetricAlarmSettings;
  },
): cloudwatch.Alarm[] {
  const below = p.settings.readyBelowDesiredMinutes ?? 15;
  const held = p.settings.substituteHeldHours ?? 6;
  const refused = p.settings.evictionsRefused ?? 20;
  const alarms: cloudwatch.Alarm[] = [];
  const add = (id: string, props: cloudwatch.AlarmProps) => {
    const alarm = new cloudwatch.Alarm(scope, id, props);
    alarm.addAlarmAction(new cwActions.SnsAction(p.topic));
    alarms.push(alarm);
  };
  const atLeast = {
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  };
  for (const [i, g] of p.groups.entries()) {
    // The least shortfall over the whole period: every pass in it saw the group below desired.
    add(`ReadyBelowDesired${i}`, {
      alarmDescription:
        `node-manager ${p.clusterName}: group ${g} has had fewer Ready nodes than desiredReady for ${below} minutes ` +
        '(see the dashboard and the replenish executions)',
      metric: metric(p.clusterName, g, 'ReadyShortfall', 'Minimum', Duration.minutes(below)),
      threshold: 1,
      ...atLeast,
    });
    add(`SubstituteHeld${i}`, {
      alarmDescription:
        `node-manager ${p.clusterName}: group ${g} has held substitute capacity for ${held} hours: its home ` +
        'zones have not recovered (Spot capacity), or the give-back is held by a pod',
      metric: metric(p.clusterName, g, 'SubstituteNodes', 'Minimum', Duration.hours(held)),
      threshold: 1,
      ...atLeast,
    });
    add(`EvictionsRefused${i}`, {
      alarmDescription:
        `node-manager ${p.clusterName}: ${refused} or more evictions refused in group ${g} within 15 minutes: ` +
        'a PodDisruptionBudget that does not free (see the EvictionBlocked Events on the nodes)',
      metric: metric(p.clusterName, g, 'EvictionsRefused', 'Sum', Duration.minutes(15)),
      threshold: refused,
      ...atLeast,
    });
  }
  add('NoticesRefused', {
    alarmDescription:
      `node-manager ${p.clusterName}: interruption notices refused as untrue (forged, stale, not marked by EC2): ` +
      'who starts the interruption workflow? See its executions whose output says refused',
    metric: metric(p.clusterName, undefined, 'NoticesRefused', 'Sum', Duration.minutes(5)),
    threshold: 1,
    ...atLeast,
  });
  return alarms;
}

/**
 * The cluster's dashboard: a column per group (side by side), a row per story: Ready against
 * desired, refresh progress, drains, seconds below desired, interruptions.
 */
export function addDashboard(
  scope: Construct,
  p: { readonly clusterName: string; readonly slug: string; readonly groups: ReadonlyArray<{ readonly name: string }> },
): cloudwatch.Dashboard {
  const c = p.clusterName;
  const five = Duration.minutes(5);
  const width = Math.max(6, Math.floor(24 / Math.max(1, p.groups.length)));
  const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
    new cloudwatch.GraphWidget({ title, left, right, width, height: 6 });
  const rows: cloudwatch.IWidget[][] = [
    p.groups.map((g) =>
      graph(`${g.name}: Ready against desired`, [
        metric(c, g.name, 'ReadyNodes', 'Minimum', five, 'Ready (least)'),
        metric(c, g.name, 'DesiredReady', 'Maximum', five, 'desiredReady'),
        metric(c, g.name, 'SubstituteNodes', 'Maximum', five, 'substitutes'),
      ]),
    ),
    p.groups.map((g) =>
      graph(
        `${g.name}: refresh progress`,
        [metric(c, g.name, 'NodesReplaced', 'Sum', five, 'nodes replaced')],
        [metric(c, g.name, 'RefreshBoundRatio', 'Maximum', five, 'duration / learned bound')],
      ),
    ),
    p.groups.map((g) =>
      graph(
        `${g.name}: drains`,
        [
          metric(c, g.name, 'PodsEvicted', 'Sum', five, 'evicted'),
          metric(c, g.name, 'EvictionsRefused', 'Sum', five, 'refused'),
          metric(c, g.name, 'PodsLost', 'Sum', five, 'lost'),
        ],
        [metric(c, g.name, 'DrainSeconds', 'Maximum', five, 'drain seconds (longest)')],
      ),
    ),
    p.groups.map((g) =>
      graph(`${g.name}: seconds below desiredReady per disruption`, [
        metric(c, g.name, 'SecondsBelowDesired', 'Maximum', five, 'longest'),
        metric(c, g.name, 'SecondsBelowDesired', 'Average', five, 'average'),
      ]),
    ),
    [
      ...p.groups.map((g) =>
        graph(`${g.name}: interruptions, reaps, repairs`, [
          metric(c, g.name, 'InterruptionsDrained', 'Sum', five, 'interruptions drained'),
          metric(c, g.name, 'NodesReaped', 'Sum', five, 'reaped'),
          metric(c, g.name, 'NodesRepaired', 'Sum', five, 'repaired'),
        ]),
      ),
      graph('cluster: notices refused', [metric(c, undefined, 'NoticesRefused', 'Sum', five, 'refused')]),
    ],
  ];
  return new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: `node-manager-${p.slug}`.slice(0, 255),
    defaultInterval: Duration.hours(24),
    widgets: rows,
  });
}
