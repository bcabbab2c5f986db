import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { BREAKER_ENTRY } from '../../lambdas/workflows';
import type { WorkflowContext } from './context';

/**
 * The circuit breaker's part of the stack, when a group names alarms: one EventBridge rule that
 * matches the state changes of those alarms (this account's, by ARN) and a small function that
 * records each on the lease items of the groups that watch it (lambdas/operator/breaker.ts).
 */
export class CircuitBreaker {
  readonly fn: lambda.Function;

  static of(c: WorkflowContext): CircuitBreaker | undefined {
    const names = [...new Set(c.groups.flatMap((g) => g.alarms ?? []))].sort();
    return names.length ? new CircuitBreaker(c, names) : undefined;
  }

  private constructor(c: WorkflowContext, alarms: readonly string[]) {
    const stack = Stack.of(c.scope);
    this.fn = c.parts.fn('breaker', {
      entry: BREAKER_ENTRY,
      memorySize: 256,
      timeout: Duration.seconds(30),
      description: `node-manager circuit breaker of cluster ${c.clusterName}: records watched alarms' states`,
      deadLetterQueue: c.deadLetterQueue,
      inVpc: false,
    });
    new events.Rule(c.scope, 'CircuitBreakerRule', {
      description: `Pause voluntary disruption of ${c.clusterName} while a watched alarm is in ALARM`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        account: [stack.account],
        resources: alarms.map((name) =>
          Arn.format(
            { service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
            stack,
          ),
        ),
      },
      targets: [
        new eventTargets.LambdaFunction(this.fn, {
          deadLetterQueue: c.deadLetterQueue,
          retryAttempts: 4,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
  }
}
