import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { LAUNCH_HOOK_NAME, launchHookTimeoutSeconds, noticeRules, TERMINATE_HOOK_NAME } from '../lambdas/core/notices';
import type { DeploymentGroup } from './deployment-config';

export { LAUNCH_HOOK_NAME, TERMINATE_HOOK_NAME };

export interface InterruptionDrainParts {
  readonly stateMachine: sfn.StateMachine;
  /** The drain's steps' role (lifecycle actions are added to it). */
  readonly role: iam.Role;
  /** The gate in front of the workflow: the rules' target. */
  readonly gate: lambda.Function;
  readonly groups: readonly DeploymentGroup[];
  readonly deadLetterQueue: sqs.IQueue;
  readonly tag: { readonly key: string; readonly value: string };
  readonly clusterName: string;
}

/**
 * The interruption drain's part of the stack: the EventBridge rules (core/notices.ts writes their
 * patterns, scoped to this account) whose target is the gate, the termination and launch hooks on
 * the groups' ASGs that ask for them, and the calls the gate and the drain may make.
 *
 * Standard, not Express, for every kind of event: a lifecycle hook can hold an instance for hours
 * of heartbeats (Express stops at 5 minutes), and a Spot drain's history is what an operator reads
 * in the console after a storm. An event for an instance of no managed group never reaches Step
 * Functions: the gate drops it for the price of one short invocation.
 */
export function addInterruptionDrain(scope: Construct, parts: InterruptionDrainParts): void {
  const stack = Stack.of(scope);
  for (const rule of noticeRules(stack.account, parts.groups)) {
    new events.Rule(scope, rule.id, {
      description: `Drain nodes of ${parts.clusterName}: ${rule.description}`,
      eventPattern: {
        source: [...rule.pattern.source],
        detailType: [...rule.pattern['detail-type']],
        ...(rule.pattern.account ? { account: [...rule.pattern.account] } : {}),
        ...(rule.pattern.detail ? { detail: rule.pattern.detail } : {}),
      },
      // The whole event is the input: the gate, and the workflow after it, read AWS's documented shape.
      targets: [
        new eventTargets.LambdaFunction(parts.gate, {
          deadLetterQueue: parts.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.seconds(rule.maxEventAgeSeconds),
        }),
      ],
    });
  }
  for (const g of parts.groups) {
    if (!g.asgNames) continue;
    const id = g.name.replace(/[^A-Za-z0-9]/g, '');
    g.asgNames.forEach((asg, i) => {
      if (g.terminateHook) {
        new autoscaling.CfnLifecycleHook(scope, `TerminateHook${id}${i}`, {
          autoScalingGroupName: asg,
          lifecycleHookName: TERMINATE_HOOK_NAME,
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeout: g.terminateHook.heartbeatTimeoutSeconds,
          // Should node-manager be down, the instance still goes when the wait ends.
          defaultResult: 'CONTINUE',
        });
      }
      if (g.launchHook) {
        // Long enough for the join timeout and the completing call; CONTINUE should node-manager be
        // down (replenish still reaps an instance that never joins).
        new autoscaling.CfnLifecycleHook(scope, `LaunchHook${id}${i}`, {
          autoScalingGroupName: asg,
          lifecycleHookName: LAUNCH_HOOK_NAME,
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          heartbeatTimeout: launchHookTimeoutSeconds(g.joinTimeoutSeconds),
          defaultResult: 'CONTINUE',
        });
      }
    });
  }
  parts.role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'LifecycleActions',
      actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
      resources: [
        Arn.format(
          {
            service: 'autoscaling',
            resource: 'autoScalingGroup',
            resourceName: '*:autoScalingGroupName/*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          },
          stack,
        ),
      ],
      conditions: { StringEquals: { [`aws:ResourceTag/${parts.tag.key}`]: parts.tag.value } },
    }),
  );
  // What the drain reads to believe a notice: where Auto Scaling holds the instance, the hook's
  // timing, and the Spot request's status. None of these supports resource-level permissions.
  parts.role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'VerifyNotices',
      actions: [
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLifecycleHooks',
        'ec2:DescribeSpotInstanceRequests',
      ],
      resources: ['*'],
    }),
  );
  // The gate: which group an instance is in, and starting the workflow. Nothing else.
  parts.gate.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'WhichGroup',
      actions: ['autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeAutoScalingGroups'],
      resources: ['*'],
    }),
  );
  parts.stateMachine.grantStartExecution(parts.gate);
}
