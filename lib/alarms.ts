import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Annotations, Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/**
 * The alarms: an event no schedule, rule or gate could deliver (lost work, which nobody would see
 * otherwise), and each workflow's failed and timed-out executions, announced on the topic. Stopped
 * (aborted) refresh and replenish executions are not alarmed: stopping one is how an operator halts
 * it (the next run resumes it). A stopped interruption drain is: nobody should stop one.
 */
export function addAlarms(
  scope: Construct,
  p: {
    readonly clusterName: string;
    readonly deadLetterQueue: sqs.Queue;
    readonly machines: ReadonlyArray<readonly [name: string, sm: sfn.StateMachine]>;
    readonly topic: sns.ITopic;
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
  lost.addAlarmAction(new cwActions.SnsAction(p.topic));
  for (const [name, sm] of p.machines) {
    const watched: Array<readonly [string, cloudwatch.Metric]> = [
      ['Failed', sm.metricFailed()],
      ['TimedOut', sm.metricTimedOut()],
      ...(name === 'Interruption' ? [['Aborted', sm.metricAborted()] as const] : []),
    ];
    for (const [what, metric] of watched) {
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
      alarm.addAlarmAction(new cwActions.SnsAction(p.topic));
    }
  }
}

/**
 * The topic the alarms reach: the operator's, or one created here (with the e-mail subscription
 * when given). Synth says which, so that alarms nobody hears are never a surprise.
 */
export function alarmTopic(
  scope: Construct,
  p: { readonly clusterName: string; readonly topic?: sns.ITopic; readonly email?: string },
): { topic: sns.ITopic; created: boolean } {
  if (p.topic) return { topic: p.topic, created: false };
  const topic = new sns.Topic(scope, 'AlarmTopic', {
    displayName: `node-manager ${p.clusterName}`.slice(0, 100),
    enforceSSL: true,
  });
  Validations.of(topic).acknowledge({
    id: 'AwsSolutions-SNS2',
    reason: 'Alarm notifications (names and states, no secret); a KMS key would need a key policy for CloudWatch.',
  });
  if (p.email) {
    topic.addSubscription(new subscriptions.EmailSubscription(p.email));
    Annotations.of(scope).addInfo(
      `node-manager: alarms go to the topic this stack creates (output AlarmTopicArn), e-mailed to ${p.email} once it ` +
        'confirms the subscription',
    );
  } else
    Annotations.of(scope).addWarningV2(
      'node-manager:alarm-topic-without-subscriber',
      'node-manager: alarms go to the topic this stack creates (output AlarmTopicArn), which nobody hears yet: set ' +
        'alarmEmail, or alarmTopicArn to a topic of yours, or subscribe to it',
    );
  return { topic, created: true };
}
