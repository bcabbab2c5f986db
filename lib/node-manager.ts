import { CfnOutput, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { Duration } from 'aws-cdk-lib';
import { TTL_ATTRIBUTE } from '../lambdas/aws/lease-store';
import { STACK_OUTPUTS, type Workflow } from '../lambdas/workflows';
import { operatorGroups } from '../lambdas/config';
import { functionRole } from './access';
import { addAlarms, alarmTopic } from './alarms';
import { addDashboard, addMetricAlarms } from './dashboard';
import { handlerConfig } from './config/deployment';
import { acknowledgeFindings } from './findings';
import { operatorPolicy } from './operator';
import { checkProps, type NodeManagerProps } from './props';
import type { WorkflowContext } from './workflows/context';
import { CircuitBreaker } from './workflows/breaker';
import { InterruptionWorkflow } from './workflows/interruption';
import { RefreshWorkflow } from './workflows/refresh';
import { ReplenishWorkflow } from './workflows/replenish';
import { workflowParts } from './workflows/workflow';

export type { ClusterAccess, NodeGroupProps, NodeManagerProps } from './props';

/**
 * node-manager for one cluster, composed of its parts: the lease table, the functions' role
 * (lib/access.ts), a dead-letter queue, each workflow's part (lib/workflows/: function, state
 * machine, schedules, rules, hooks), the alarms (lib/alarms.ts) and the outputs.
 *
 * The parts add their resources to this construct itself rather than to constructs of their own,
 * so every logical id stays the one earlier releases deployed: a new id would replace the lease
 * table (losing every lease and journal) and collide with the state machines' fixed names.
 */
export class NodeManager extends Construct {
  readonly refreshStateMachine: sfn.StateMachine;
  readonly replenishStateMachine: sfn.StateMachine;
  /** Absent when `interruptionDrain` is false. */
  readonly interruptionStateMachine?: sfn.StateMachine;
  readonly leaseTable: dynamodb.Table;
  /** The role the workflows' functions run as (the one to map in the cluster's RBAC). */
  readonly functionRole: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  /** The function in front of the interruption drain (absent when `interruptionDrain` is false). */
  readonly interruptionGate?: lambda.Function;

  constructor(scope: Construct, id: string, props: NodeManagerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const groups = checkProps(props);
    const slug = props.clusterName.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40);
    const tag =
      props.resourceTag ??
      (props.access.kind === 'eks'
        ? { key: `kubernetes.io/cluster/${props.access.clusterName}`, value: 'owned' }
        : { key: 'KubernetesCluster', value: props.clusterName });
    const names: Record<Workflow, string> = {
      refresh: `node-manager-${slug}-refresh`,
      replenish: `node-manager-${slug}-replenish`,
      interruption: `node-manager-${slug}-interruption`,
    };

    // checkov CKV_AWS_119 (no customer-managed KMS key): encrypted at rest with DynamoDB's own key.
    // The items hold group names, instance ids, node names and sizes, never a secret; a CMK would
    // add a key policy to keep and a cost for nothing it protects better.
    this.leaseTable = new dynamodb.Table(this, 'Leases', {
      partitionKey: { name: 'group', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: (props.leaseTableRemovalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.RETAIN,
      removalPolicy: props.leaseTableRemovalPolicy ?? RemovalPolicy.RETAIN,
      // The interruption ledger's entries are items of their own that expire (an existing table gains it in place).
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });

    const role = functionRole(this, {
      clusterName: props.clusterName,
      access: props.access,
      tag,
      leaseTable: this.leaseTable,
      leaseHolders: [names.refresh, names.replenish],
      ...(groups.some((g) => g.maxNodeAgeDays !== undefined && g.maintenanceWindows?.length)
        ? { agedRefresh: names.refresh }
        : {}),
      vpcPlacement: props.vpcPlacement,
    });
    this.functionRole = role;

    // checkov CKV_AWS_27 (SQS not encrypted) is a false positive here: SQS-managed SSE encrypts at
    // rest (SqsManagedSseEnabled); checkov only recognizes a KMS key id.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the schedules and event rules.',
    });

    // The alarms' topic, which the summaries reach too (one place for a person to subscribe).
    const alarms = alarmTopic(this, {
      clusterName: props.clusterName,
      topic: props.alarmTopic,
      email: props.alarmEmail,
    });
    const summaries = props.summaries ?? true;
    if (summaries) alarms.topic.grantPublish(role);
    const config = handlerConfig(
      {
        account: '000000000000',
        cluster: { name: props.clusterName, region: 'us-east-1', access: props.access },
        groups,
        historyEventBudget: props.historyEventBudget ?? 20_000,
      },
      'from-environment',
    );
    const parts = workflowParts(this, {
      role,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      config,
      clusterName: props.clusterName,
      leaseTableName: this.leaseTable.tableName,
      ...(summaries ? { summaryTopicArn: alarms.topic.topicArn } : {}),
      names,
      vpcPlacement: props.vpcPlacement,
    });
    // Output names as an operator reads them in the console and `cdk deploy`: no hash, the
    // construct's id as prefix (so two node managers in one stack cannot collide).
    const prefix = this.node.id.replace(/[^A-Za-z0-9]/g, '');
    const context: WorkflowContext = {
      scope: this,
      parts,
      groups,
      clusterName: props.clusterName,
      slug,
      names,
      role,
      deadLetterQueue: this.deadLetterQueue,
      tag,
      output: (name, p) => new CfnOutput(this, name, p).overrideLogicalId(`${prefix}${name}`),
    };
    const refresh = new RefreshWorkflow(context);
    const replenish = new ReplenishWorkflow(context);
    const interruption = (props.interruptionDrain ?? true) ? new InterruptionWorkflow(context) : undefined;
    replenish.addTriggers(context);
    CircuitBreaker.of(context);
    this.refreshStateMachine = refresh.stateMachine;
    this.replenishStateMachine = replenish.stateMachine;
    this.interruptionStateMachine = interruption?.stateMachine;
    this.interruptionGate = interruption?.gate;

    const workflows = [
      ['Refresh', refresh],
      ['Replenish', replenish],
      ...(interruption ? [['Interruption', interruption] as const] : []),
    ] as const;
    addAlarms(this, {
      clusterName: props.clusterName,
      deadLetterQueue: this.deadLetterQueue,
      machines: workflows.map(([name, w]) => [name, w.stateMachine] as const),
      topic: alarms.topic,
    });
    addMetricAlarms(this, {
      clusterName: props.clusterName,
      groups: groups.map((g) => g.name),
      topic: alarms.topic,
      settings: props.metricAlarms ?? {},
    });
    const dashboard = addDashboard(this, { clusterName: props.clusterName, slug, groups });
    context.output('DashboardUrl', {
      description: "The cluster's node-manager dashboard in the CloudWatch console",
      value: `https://console.aws.amazon.com/cloudwatch/home#dashboards/dashboard/${dashboard.dashboardName}`,
    });
    if (alarms.created)
      context.output('AlarmTopicArn', {
        description: 'The topic the alarms reach: subscribe to it (e-mail, chat, paging)',
        value: alarms.topic.topicArn,
      });
    for (const [, w] of workflows) w.addOutputs(context);
    const operator = operatorPolicy(this, { clusterName: props.clusterName, names, leaseTable: this.leaseTable });
    context.output('OperatorPolicyArn', {
      description:
        'Attach to the people (or roles) who operate node-manager: run and stop refreshes, read status, pause and resume',
      value: operator.managedPolicyArn,
    });
    context.output(STACK_OUTPUTS.groups, {
      description:
        'The node groups (JSON: name, ASGs, desiredReady, surplus, windows): what the node-manager CLI reads',
      value: JSON.stringify(operatorGroups(groups)),
    });
    context.output(STACK_OUTPUTS.cluster, {
      description: 'The Kubernetes cluster this stack manages',
      value: props.clusterName,
    });
    context.output('LeaseTableName', {
      description: "The lease table: one item per group (its lease, journal, memory, and an operator's pause)",
      value: this.leaseTable.tableName,
    });
    context.output('FunctionRoleArn', {
      description:
        'The role the functions run as (EKS: mapped to the Kubernetes group node-manager of deploy/rbac.yaml)',
      value: role.roleArn,
    });
    acknowledgeFindings(
      stack,
      role,
      tag,
      names,
      workflows.map(([, w]) => [w.stateMachine, w.fn]),
    );
  }
}
