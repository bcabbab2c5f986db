import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/**
 * The alarms: an event no schedule, rule or gate could deliver (lost work, which nobody would see
 * otherwise), and each workflow's failed, timed-out and aborted executions; announced on the
 * topic when one is given.
 */
export function addAlarms(
  scope: Construct,
  p: {
    readonly clusterName: string;
    readonly deadLetterQueue: sqs.Queue;
    readonly machines: ReadonlyArray<readonly [name: string, sm: sfn.StateMachine]>;
    readonly topic?: sns.ITopic;
  },
): void {
  const lost = new cloudwatch.Alarm(scope, 'UndeliveredEvents', {
    alarmDescription:
      `node-manager events undeliverable for cluster ${p.clusterName}: read them in the ` +
      `dead-letter queue ${p.deadLetterQueue.queueName}`,
    metric: p.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: 'Maximum',
    }),
    threshold: 0,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  if (p.topic) lost.addAlarmAction(new cwActions.SnsAction(p.topic));
  for (const [name, sm] of p.machines) {
    for (const [what, metric] of [
      ['Failed', sm.metricFailed()],
      ['TimedOut', sm.metricTimedOut()],
      ['Aborted', sm.metricAborted()],
    ] as const) {
      const alarm = new cloudwatch.Alarm(scope, `${name}${what}`, {
        alarmDescription:
          `node-manager ${name.toLowerCase()} executions ${what} for cluster ` +
          `${p.clusterName}: see the execution history`,
        metric: metric.with({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (p.topic) alarm.addAlarmAction(new cwActions.SnsAction(p.topic));
    }
  }
}
