import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { DeploymentGroup } from './deployment-config';

/** The termination hook the stack puts on each ASG of a group that asks for one. */
export const TERMINATE_HOOK_NAME = 'node-manager-drain';
/** The launch hook (opt-in): a new instance goes InService once its node is Ready. */
export const LAUNCH_HOOK_NAME = 'node-manager-launch';

export interface InterruptionDrainParts {
  readonly stateMachine: sfn.StateMachine;
  readonly role: iam.Role;
  readonly groups: readonly DeploymentGroup[];
  readonly deadLetterQueue: sqs.IQueue;
  readonly tag: { readonly key: string; readonly value: string };
  readonly clusterName: string;
}

/**
 * The interruption drain's part of the stack: the EventBridge rules that start it, the
 * termination and launch hooks on the groups' ASGs that ask for them, and the lifecycle calls its
 * role may make (on the cluster's tagged ASGs only).
 *
 * Standard, not Express, for every kind of event: a lifecycle hook can hold an instance for hours
 * of heartbeats (Express stops at 5 minutes), a Spot drain's history is what an operator reads in
 * the console after a storm (Express keeps none there), and a Spot reclaim's ~20 transitions
 * (its drain and its own state change) cost $0.0005: about $0.52 per 1,000 with Lambda.
 */
export function addInterruptionDrain(scope: Construct, parts: InterruptionDrainParts): void {
  const stack = Stack.of(scope);
  const target = () =>
    // The whole event is the input: the handler reads AWS's documented shape.
    new eventTargets.SfnStateMachine(parts.stateMachine, { deadLetterQueue: parts.deadLetterQueue, retryAttempts: 2, maxEventAge: Duration.minutes(2) });
  // EC2's notices name only the instance: every instance of the account and region matches, and
  // the drain ends at once for an instance of no managed group (a few transitions each).
  new events.Rule(scope, 'SpotNotices', {
    description: `Drain nodes of ${parts.clusterName} on Spot interruption warnings and rebalance recommendations`,
    eventPattern: { source: ['aws.ec2'], detailType: ['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation'] },
    targets: [target()],
  });
  new events.Rule(scope, 'UnannouncedStops', {
    description: `Drain nodes of ${parts.clusterName} that stop or shut down without a notice`,
    eventPattern: { source: ['aws.ec2'], detailType: ['EC2 Instance State-change Notification'], detail: { state: ['stopping', 'shutting-down'] } },
    targets: [target()],
  });
  const hooked = parts.groups.filter((g) => g.terminateHook && g.asgNames);
  for (const g of hooked) {
    const id = g.name.replace(/[^A-Za-z0-9]/g, '');
    new events.Rule(scope, `TerminateHook${id}`, {
      description: `Drain nodes of ${g.name} (${parts.clusterName}) held by the ${TERMINATE_HOOK_NAME} termination hook`,
      eventPattern: { source: ['aws.autoscaling'], detailType: ['EC2 Instance-terminate Lifecycle Action'], detail: { AutoScalingGroupName: [...g.asgNames!], LifecycleHookName: [TERMINATE_HOOK_NAME] } },
      // A hook waits at most its heartbeat timeout: an event older than that is no use.
      targets: [new eventTargets.SfnStateMachine(parts.stateMachine, { deadLetterQueue: parts.deadLetterQueue, retryAttempts: 2, maxEventAge: Duration.seconds(Math.max(60, g.terminateHook!.heartbeatTimeoutSeconds)) })],
    });
    g.asgNames!.forEach((asg, i) => {
      new autoscaling.CfnLifecycleHook(scope, `TerminateHook${id}${i}`, {
        autoScalingGroupName: asg,
        lifecycleHookName: TERMINATE_HOOK_NAME,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeout: g.terminateHook!.heartbeatTimeoutSeconds,
        // Should node-manager be down, the instance still goes when the wait ends.
        defaultResult: 'CONTINUE',
      });
    });
  }
  for (const g of parts.groups.filter((x) => x.launchHook && x.asgNames)) {
    const id = g.name.replace(/[^A-Za-z0-9]/g, '');
    // Long enough for the join timeout and the completing call; CONTINUE should node-manager be
    // down (replenish still reaps an instance that never joins).
    const heartbeatTimeout = Math.min(7200, g.joinTimeoutSeconds + 120);
    new events.Rule(scope, `LaunchHook${id}`, {
      description: `Let new instances of ${g.name} (${parts.clusterName}) go InService once their node is Ready`,
      eventPattern: { source: ['aws.autoscaling'], detailType: ['EC2 Instance-launch Lifecycle Action'], detail: { AutoScalingGroupName: [...g.asgNames!], LifecycleHookName: [LAUNCH_HOOK_NAME] } },
      targets: [new eventTargets.SfnStateMachine(parts.stateMachine, { deadLetterQueue: parts.deadLetterQueue, retryAttempts: 2, maxEventAge: Duration.seconds(heartbeatTimeout) })],
    });
    g.asgNames!.forEach((asg, i) => {
      new autoscaling.CfnLifecycleHook(scope, `LaunchHook${id}${i}`, {
        autoScalingGroupName: asg,
        lifecycleHookName: LAUNCH_HOOK_NAME,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        heartbeatTimeout,
        defaultResult: 'CONTINUE',
      });
    });
  }
  parts.role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'LifecycleActions',
      actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
      resources: [Arn.format({ service: 'autoscaling', resource: 'autoScalingGroup', resourceName: '*:autoScalingGroupName/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack)],
      conditions: { StringEquals: { [`aws:ResourceTag/${parts.tag.key}`]: parts.tag.value } },
    }),
  );
}
