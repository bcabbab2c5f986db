import { Arn, ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  LAUNCH_HOOK_NAME,
  launchHookTimeoutSeconds,
  noticeRules,
  TERMINATE_HOOK_NAME,
} from '../../lambdas/core/notices';
import { GATE_ENTRY } from '../../lambdas/workflows';
import { idOf, type WorkflowContext } from './context';

export { LAUNCH_HOOK_NAME, TERMINATE_HOOK_NAME };

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
export class InterruptionWorkflow {
  readonly fn: lambda.Function;
  readonly stateMachine: sfn.StateMachine;
  /** The function in front of the workflow: the rules' target. */
  readonly gate: lambda.Function;

  constructor(c: WorkflowContext) {
    const scope = c.scope;
    const stack = Stack.of(scope);
    this.fn = c.parts.fn('interruption');
    this.stateMachine = c.parts.machine('interruption', this.fn);
    // The gate has a role of its own: it reads group membership and starts the drain, nothing more.
    const gateRole = new iam.Role(scope, 'GateRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `node-manager interruption gate of cluster ${c.clusterName}`,
    });
    this.gate = c.parts.fn('interruptionGate', {
      entry: GATE_ENTRY,
      role: gateRole,
      memorySize: 256,
      timeout: Duration.seconds(30),
      description:
        `node-manager: starts the interruption drain for notices of cluster ${c.clusterName}'s ` +
        'instances, drops the rest',
      environment: { NODE_MANAGER_INTERRUPTION_STATE_MACHINE: this.stateMachine.stateMachineArn },
      // An event the gate failed on after Lambda's own retries lands here, and the alarm says so.
      deadLetterQueue: c.deadLetterQueue,
      // It calls Auto Scaling and Step Functions only: outside the VPC, it needs no network interfaces.
      inVpc: false,
    });
    Validations.of(gateRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'DescribeAutoScalingInstances and DescribeAutoScalingGroups support no resource-level permissions; the ' +
        'gate reads which group an instance is in, nothing else.',
    });
    for (const rule of noticeRules(stack.account, c.groups)) {
      new events.Rule(scope, rule.id, {
        description: `Drain nodes of ${c.clusterName}: ${rule.description}`,
        eventPattern: {
          source: [...rule.pattern.source],
          detailType: [...rule.pattern['detail-type']],
          ...(rule.pattern.account ? { account: [...rule.pattern.account] } : {}),
          ...(rule.pattern.detail ? { detail: rule.pattern.detail } : {}),
        },
        // The whole event is the input: the gate, and the workflow after it, read AWS's documented shape.
        targets: [
          new eventTargets.LambdaFunction(this.gate, {
            deadLetterQueue: c.deadLetterQueue,
            retryAttempts: 2,
            maxEventAge: Duration.seconds(rule.maxEventAgeSeconds),
          }),
        ],
      });
    }
    for (const g of c.groups) {
      if (!g.asgNames) continue;
      const id = idOf(g.name);
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
    c.role.addToPolicy(
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
        conditions: { StringEquals: { [`aws:ResourceTag/${c.tag.key}`]: c.tag.value } },
      }),
    );
    // What the drain reads to believe a notice: where Auto Scaling holds the instance, the hook's
    // timing, and the Spot request's status. None of these supports resource-level permissions.
    c.role.addToPolicy(
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
    this.gate.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WhichGroup',
        actions: ['autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeAutoScalingGroups'],
        resources: ['*'],
      }),
    );
    this.stateMachine.grantStartExecution(this.gate);
  }

  addOutputs(c: WorkflowContext): void {
    c.output('InterruptionStateMachineArn', { value: this.stateMachine.stateMachineArn });
  }
}
