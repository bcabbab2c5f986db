import { CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { OperatorGroup } from '../../lambdas/config';
import { STACK_OUTPUTS, type Workflow } from '../../lambdas/workflows';
import { meta, operation, page, type AwsHost, type Operation } from './common';
import type { SimStack } from './model';

export type { SimStack } from './model';

const validation = (message: string) =>
  new CloudFormationServiceException({ name: 'ValidationError', $fault: 'client', message, $metadata: meta(400) });

/** CloudFormation as the CLI reads it: DescribeStacks, by name or id, or every stack of the region. */
export function cloudFormationOperations(host: AwsHost): Operation[] {
  return [
    operation('DescribeStacks', DescribeStacksCommand, (input) => {
      const all = [...host.stacks.values()];
      const named = input.StackName;
      const chosen = named ? all.filter((s) => s.stackName === named || s.stackId === named) : all;
      // CloudFormation's words for a stack it does not have.
      if (named && chosen.length === 0) throw validation(`Stack with id ${named} does not exist`);
      const p = page(chosen, 100, input.NextToken, { n: named ?? '' }, () => validation('Invalid NextToken'));
      return {
        Stacks: p.items.map((s) => ({
          StackId: s.stackId,
          StackName: s.stackName,
          Description: s.description,
          CreationTime: new Date(s.createdAt),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: s.outputs.map((o) => ({ OutputKey: o.key, OutputValue: o.value, Description: o.description })),
        })),
        NextToken: p.next,
      };
    }),
  ];
}

/** node-manager's stack as `cdk deploy` leaves it (bin/node-manager.ts's name, lib/'s outputs under the `NodeManager` id). */
export function nodeManagerStack(p: {
  readonly clusterName: string;
  readonly region: string;
  readonly account: string;
  readonly createdAt: number;
  readonly stateMachineArns: Readonly<Record<Workflow, string>>;
  readonly leaseTable: string;
  readonly alarmTopic: string;
  readonly groups: readonly OperatorGroup[];
}): SimStack {
  const stackName = `NodeManager-${p.clusterName.replace(/[^A-Za-z0-9-]/g, '-')}`;
  const o = (key: string, value: string) => ({ key: `NodeManager${key}`, value });
  return {
    stackName,
    stackId: `arn:aws:cloudformation:${p.region}:${p.account}:stack/${stackName}/6d1c5e80-0000-4000-8000-000000000001`,
    description: `node-manager for Kubernetes cluster ${p.clusterName}`,
    createdAt: p.createdAt,
    outputs: [
      o(STACK_OUTPUTS.refresh, p.stateMachineArns.refresh),
      o(STACK_OUTPUTS.replenish, p.stateMachineArns.replenish),
      o(STACK_OUTPUTS.interruption, p.stateMachineArns.interruption),
      o(STACK_OUTPUTS.leaseTable, p.leaseTable),
      o('AlarmTopicArn', p.alarmTopic),
      o(STACK_OUTPUTS.groups, JSON.stringify(p.groups)),
      o(STACK_OUTPUTS.cluster, p.clusterName),
      o(STACK_OUTPUTS.operatorPolicy, `arn:aws:iam::${p.account}:policy/${stackName}-OperatorPolicy`),
    ],
  };
}
