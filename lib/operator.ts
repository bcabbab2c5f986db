import { Arn, ArnFormat, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

/**
 * What an operator needs to drive node-manager (the CLI, or the AWS CLI by hand), as one managed
 * policy: start, stop and read refresh and replenish executions, read the lease items (status) and
 * pause or resume a group (the `pause` attribute alone), read the groups and the stack's outputs.
 * No StartExecution on the interruption drain: only EventBridge, through the gate, starts it.
 */
export function operatorPolicy(
  scope: Construct,
  p: {
    readonly clusterName: string;
    readonly names: Readonly<Record<'refresh' | 'replenish', string>>;
    readonly leaseTable: dynamodb.ITable;
  },
): iam.ManagedPolicy {
  const stack = Stack.of(scope);
  const arn = (resource: string, resourceName: string) =>
    Arn.format({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack);
  const machines = [p.names.refresh, p.names.replenish];
  const policy = new iam.ManagedPolicy(scope, 'OperatorPolicy', {
    description:
      `Operate node-manager of cluster ${p.clusterName}: start, stop and read refreshes and replenish ` +
      'passes, pause and resume groups',
    statements: [
      new iam.PolicyStatement({
        sid: 'RunRefreshAndReplenish',
        actions: ['states:StartExecution', 'states:ListExecutions', 'states:DescribeStateMachine'],
        resources: machines.map((m) => arn('stateMachine', m)),
      }),
      new iam.PolicyStatement({
        sid: 'FollowTheirExecutions',
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'],
        resources: machines.map((m) => arn('execution', `${m}:*`)),
      }),
      new iam.PolicyStatement({
        sid: 'ReadStatus',
        actions: ['dynamodb:GetItem'],
        resources: [p.leaseTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'PauseAndResume',
        // The pause attribute of a group's item, nothing else: never the lease, journal or memory.
        actions: ['dynamodb:UpdateItem'],
        resources: [p.leaseTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['group', 'pause'] } },
      }),
      new iam.PolicyStatement({
        sid: 'ReadGroupsAndStack',
        // These support no resource-level permissions. DescribeInstances: the launch times (status's n of m, snapshot).
        actions: ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances', 'cloudformation:DescribeStacks'],
        resources: ['*'],
      }),
    ],
  });
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'DescribeAutoScalingGroups, DescribeInstances and DescribeStacks (to find the stack) support no resource-level permissions.',
  });
  for (const m of machines)
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:${m}:*]`,
      reason: 'The executions of our own refresh and replenish state machines, whose names are not known in advance.',
    });
  return policy;
}
