import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { ClusterAccess } from '../lambdas/config';

export interface FunctionRoleProps {
  readonly clusterName: string;
  readonly access: ClusterAccess;
  /** The tag every ASG and instance of the cluster carries: mutations are allowed on these only. */
  readonly tag: { readonly key: string; readonly value: string };
  readonly leaseTable: dynamodb.ITable;
  /** The state machines whose executions may hold a lease (their holders are described). */
  readonly leaseHolders: readonly string[];
  /** The refresh state machine's name, when replenish may start it (a group's maxNodeAgeDays inside its windows). */
  readonly agedRefresh?: string;
  readonly vpcPlacement?: {
    readonly vpc: ec2.IVpc;
    readonly subnets?: ec2.SubnetSelection;
    readonly securityGroups?: ec2.ISecurityGroup[];
  };
}

/**
 * The role the workflows' functions run as, and what it may do: read the groups; change only the
 * cluster's tagged ASGs and instances; the lease table; describe lease holders; reach the API
 * server (EKS access entry, or the kubeconfig secret); attach to the VPC when placed in one.
 * Each workflow adds what only it calls.
 */
export function functionRole(scope: Construct, p: FunctionRoleProps): iam.Role {
  const stack = Stack.of(scope);
  const execArns = (name: string) =>
    Arn.format(
      { service: 'states', resource: 'execution', resourceName: `${name}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      stack,
    );
  const role = new iam.Role(scope, 'FunctionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `node-manager functions of cluster ${p.clusterName}`,
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ReadGroups',
      // AWS offers no resource-level permissions for these describe calls.
      actions: [
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeScalingActivities',
        'ec2:DescribeInstances',
        // What $Latest and $Default mean now, for a refresh that replaces only outdated members.
        'ec2:DescribeLaunchTemplates',
      ],
      resources: ['*'],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ChangeClusterGroups',
      actions: [
        'autoscaling:SetDesiredCapacity',
        'autoscaling:UpdateAutoScalingGroup',
        'autoscaling:TerminateInstanceInAutoScalingGroup',
        'autoscaling:DetachInstances',
        // onTimeout: quarantine puts a node's instance in Standby, and replenish's reap takes it out to terminate it.
        'autoscaling:EnterStandby',
        'autoscaling:ExitStandby',
      ],
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
      conditions: { StringEquals: { [`aws:ResourceTag/${p.tag.key}`]: p.tag.value } },
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'TerminateClusterInstances',
      actions: ['ec2:TerminateInstances'],
      resources: [
        Arn.format(
          { service: 'ec2', resource: 'instance', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
          stack,
        ),
      ],
      conditions: { StringEquals: { [`aws:ResourceTag/${p.tag.key}`]: p.tag.value } },
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'Lease',
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [p.leaseTable.tableArn],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'LeaseHolders',
      actions: ['states:DescribeExecution'],
      resources: p.leaseHolders.map(execArns),
    }),
  );
  if (p.agedRefresh) {
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'StartAgedRefresh',
        // Replenish starts a refresh of nodes past maxNodeAgeDays inside a maintenance window.
        actions: ['states:StartExecution'],
        resources: [
          Arn.format(
            {
              service: 'states',
              resource: 'stateMachine',
              resourceName: p.agedRefresh,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            stack,
          ),
        ],
      }),
    );
  }
  if (p.access.kind === 'eks') {
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'Cluster',
        actions: ['eks:DescribeCluster'],
        resources: [
          Arn.format(
            {
              service: 'eks',
              resource: 'cluster',
              resourceName: p.access.clusterName,
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            },
            stack,
          ),
        ],
      }),
    );
    new eks.CfnAccessEntry(scope, 'AccessEntry', {
      clusterName: p.access.clusterName,
      principalArn: role.roleArn,
      kubernetesGroups: ['node-manager'],
      type: 'STANDARD',
    });
  } else {
    const secretId = p.access.secretId;
    const secretArn = secretId.startsWith('arn:')
      ? secretId
      : Arn.format(
          {
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${secretId}-??????`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          },
          stack,
        );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'Kubeconfig',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [secretArn],
      }),
    );
  }
  if (p.vpcPlacement) {
    // What Lambda needs to attach the functions to the VPC, scoped to network interfaces (and the
    // chosen subnets and security groups where the call names them); Describe has no resource scope.
    const eni = Arn.format(
      { service: 'ec2', resource: 'network-interface', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
      stack,
    );
    const subnets = p.vpcPlacement.vpc
      .selectSubnets(p.vpcPlacement.subnets)
      .subnetIds.map((id) =>
        Arn.format(
          { service: 'ec2', resource: 'subnet', resourceName: id, arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
          stack,
        ),
      );
    const groups = (p.vpcPlacement.securityGroups ?? []).map((sg) =>
      Arn.format(
        {
          service: 'ec2',
          resource: 'security-group',
          resourceName: sg.securityGroupId,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        },
        stack,
      ),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'VpcAttach',
        actions: ['ec2:CreateNetworkInterface'],
        resources: [eni, ...subnets, ...groups],
      }),
    );
    // Not conditioned on the interfaces' subnets: Lambda checks these permissions when it attaches
    // a function, before any interface of ours exists, and the AWS-managed
    // AWSLambdaVPCAccessExecutionRole documents none (its actions are granted on "*"). They are
    // kept to this account's and region's interfaces; none of them can reach an instance.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'VpcInterfaces',
        actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        resources: [eni],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ sid: 'VpcDescribe', actions: ['ec2:DescribeNetworkInterfaces'], resources: ['*'] }),
    );
  }
  return role;
}
