import { Token, Validations, type Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/**
 * cdk-nag findings that are the design, each acknowledged by its exact finding (so any new
 * wildcard still fails the check) and with its reason.
 */
export function acknowledgeFindings(
  stack: Stack,
  role: iam.Role,
  tag: { key: string; value: string },
  names: Record<'refresh' | 'replenish', string>,
  machines: Array<[sfn.StateMachine, lambda.Function]>,
): void {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const arn = (rest: string) => `arn:<AWS::Partition>:${rest.replace('{r}', region).replace('{a}', account)}`;
  const ack = (scope: Construct, resource: string, reason: string) =>
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
  ack(
    role,
    '*',
    'DescribeAutoScalingGroups, DescribeScalingActivities and DescribeInstances (and Lambda ENI management in a ' +
      'VPC) support no resource-level permissions.',
  );
  ack(
    role,
    arn('autoscaling:{r}:{a}:autoScalingGroup:*:autoScalingGroupName/*'),
    `Auto Scaling mutations apply only to groups tagged ${tag.key}=${tag.value} (condition aws:ResourceTag).`,
  );
  ack(
    role,
    arn('ec2:{r}:{a}:network-interface/*'),
    'The network interfaces Lambda creates for the functions in the VPC; their ids are not known in advance.',
  );
  ack(
    role,
    arn('ec2:{r}:{a}:instance/*'),
    `TerminateInstances applies only to instances tagged ${tag.key}=${tag.value} (condition aws:ResourceTag).`,
  );
  for (const name of [names.refresh, names.replenish])
    ack(
      role,
      arn(`states:{r}:{a}:execution:${name}:*`),
      'DescribeExecution on the executions of our own state machine (lease holders), whose names are not known in advance.',
    );
  for (const [sm, f] of machines) {
    ack(
      sm.role,
      '*',
      'X-Ray tracing of the state machine: PutTraceSegments and GetSampling* support no resource-level permissions.',
    );
    ack(
      sm.role,
      `<${stack.getLogicalId(f.node.defaultChild as lambda.CfnFunction)}.Arn>:*`,
      'Invoking any version or alias of our own function (CDK grantInvoke).',
    );
  }
}
