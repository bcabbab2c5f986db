import {
  Arn,
  ArnFormat,
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  TimeZone,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { z } from 'zod';
import { ClusterAccessSchema, describeIssues, InvalidConfigError } from './config';
import { DeploymentGroupSchema, handlerConfig, type DeploymentGroup } from './deployment-config';
import { addInterruptionDrain } from './interruption';
import { workflowParts } from './workflow';
import { TTL_ATTRIBUTE } from '../lambdas/aws/lease';

/** How the handlers reach the cluster's API server. */
export type ClusterAccess =
  /** EKS: endpoint and CA from DescribeCluster, a bearer token from the functions' IAM role. */
  | { readonly kind: 'eks'; readonly clusterName: string }
  /** kops (or any cluster): a kubeconfig held in Secrets Manager (a token or client certificate; no exec plugins). */
  | { readonly kind: 'kubeconfig'; readonly secretId: string };

export interface NodeGroupProps {
  /** The group's name, as executions name it in `{"group": ...}`. */
  readonly name: string;
  /** `worker`, or `control-plane` (refreshed in place, never substituted across AZs). */
  readonly role: 'worker' | 'control-plane';
  /** The group's ASGs by name (kops: one per AZ). Exactly one of `asgNames` and `asgTags`. */
  readonly asgNames?: readonly string[];
  /** Or the tags its ASGs carry (every one must match). Auto Scaling events then cannot start replenish: only its schedule does. */
  readonly asgTags?: Readonly<Record<string, string>>;
  /** Ready nodes the group must have. */
  readonly desiredReady: number;
  /**
   * Extra nodes added before a refresh replaces old ones (and the batch size): a count, or a
   * percentage of `desiredReady` such as `"10%"` (rounded up, at least one node).
   * @default 1 for workers, 0 for control-plane groups
   */
  readonly surplus?: number | string;
  /**
   * How long a drain may take before the refresh gives up safely (at most one hour).
   * @default Duration.minutes(10)
   */
  readonly drainTimeout?: Duration;
  /**
   * How long a new instance may take to become a Ready node (at most one hour).
   * @default Duration.minutes(15)
   */
  readonly joinTimeout?: Duration;
  /**
   * Quiet time after replenish changes an ASG.
   * @default Duration.minutes(5)
   */
  readonly cooldown?: Duration;
  /**
   * When the refresh runs: an EventBridge Scheduler cron expression (six fields) in an IANA time zone.
   * @default no scheduled refresh (start one with `aws stepfunctions start-execution`)
   */
  readonly refreshSchedule?: { readonly cron: string; readonly timeZone: string };
  /**
   * How often replenish runs from its schedule; `Duration.seconds(0)` turns the schedule off.
   * @default Duration.minutes(5)
   */
  readonly replenishInterval?: Duration;
  /**
   * A termination lifecycle hook (`node-manager-drain`) on each of the group's ASGs (needs
   * `asgNames`): every termination, whoever asks for it, waits in Terminating:Wait while the
   * interruption drain empties the node, kept alive with up to `maxHeartbeats` heartbeats.
   * @default no hook (Spot warnings, rebalance recommendations and unannounced stops are still drained)
   */
  readonly terminateHook?: {
    /** @default Duration.minutes(5) */
    readonly heartbeatTimeout?: Duration;
    /** @default 5 */
    readonly maxHeartbeats?: number;
  };
  /**
   * A launch lifecycle hook (`node-manager-launch`) on each of the group's ASGs (needs
   * `asgNames`): a new instance goes InService only once its node is Ready, and is abandoned
   * (the ASG launches another) when it is not Ready within `joinTimeout`.
   * @default false
   */
  readonly launchHook?: boolean;
}

export interface NodeManagerProps {
  /** The cluster's name; it names the resources and, by default, the tag its resources carry. */
  readonly clusterName: string;
  /** How the handlers reach the API server. */
  readonly access: ClusterAccess;
  /**
   * The tag every ASG and instance of this cluster carries: IAM allows Auto Scaling and EC2
   * mutations only on resources with it.
   * @default kubeconfig access (kops): `KubernetesCluster=<clusterName>`; EKS: `kubernetes.io/cluster/<eks cluster>=owned`
   */
  readonly resourceTag?: { readonly key: string; readonly value: string };
  /** The node groups to manage. */
  readonly groups: readonly NodeGroupProps[];
  /**
   * Place the functions in a VPC (for a cluster whose API endpoint is private).
   * @default not in a VPC
   */
  readonly vpcPlacement?: {
    readonly vpc: ec2.IVpc;
    readonly subnets?: ec2.SubnetSelection;
    readonly securityGroups?: ec2.ISecurityGroup[];
  };
  /**
   * Where failed, timed-out and aborted executions are announced.
   * @default no notification; the alarms still exist
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Estimated history events after which a refresh continues in a fresh execution.
   * @default 20000
   */
  readonly historyEventBudget?: number;
  /**
   * What happens to the lease table (leases, journals, home layouts) when the stack goes.
   * @default RemovalPolicy.RETAIN
   */
  readonly leaseTableRemovalPolicy?: RemovalPolicy;
  /**
   * Drain nodes on Spot interruption warnings, rebalance recommendations, termination lifecycle
   * actions and unannounced stops (the interruption workflow and its EventBridge rules).
   * @default true
   */
  readonly interruptionDrain?: boolean;
  /**
   * How long function and execution logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Resolves props into the validated configuration shape, naming the field when something is wrong. */
function validateGroups(groups: readonly NodeGroupProps[]): DeploymentGroup[] {
  if (groups.length === 0) throw new InvalidConfigError('NodeManager: groups must name at least one node group');
  const seen = new Set<string>();
  return groups.map((g, i) => {
    const raw = {
      name: g.name,
      role: g.role,
      ...(g.asgNames ? { asgNames: [...g.asgNames] } : {}),
      ...(g.asgTags ? { asgTags: { ...g.asgTags } } : {}),
      desiredReady: g.desiredReady,
      surplus: g.surplus ?? (g.role === 'control-plane' ? 0 : 1),
      drainTimeoutSeconds: (g.drainTimeout ?? Duration.minutes(10)).toSeconds(),
      joinTimeoutSeconds: (g.joinTimeout ?? Duration.minutes(15)).toSeconds(),
      cooldownSeconds: (g.cooldown ?? Duration.minutes(5)).toSeconds(),
      ...(g.refreshSchedule ? { refreshSchedule: { ...g.refreshSchedule } } : {}),
      replenishEverySeconds: (g.replenishInterval ?? Duration.minutes(5)).toSeconds(),
      ...(g.terminateHook
        ? {
            terminateHook: {
              heartbeatTimeoutSeconds: (g.terminateHook.heartbeatTimeout ?? Duration.minutes(5)).toSeconds(),
              maxHeartbeats: g.terminateHook.maxHeartbeats ?? 5,
            },
          }
        : {}),
      launchHook: g.launchHook ?? false,
    };
    const r = DeploymentGroupSchema.safeParse(raw);
    if (!r.success)
      throw new InvalidConfigError(`NodeManager: groups[${g.name}] (index ${i}): ${describeIssues(r.error)}`);
    if (seen.has(g.name))
      throw new InvalidConfigError(`NodeManager: groups[${i}].name: group name ${g.name} is used twice`);
    seen.add(g.name);
    return r.data;
  });
}

/**
 * node-manager for one cluster: the refresh and replenish workflows (Step Functions from
 * `statemachines/*.asl.json`, one Lambda function each), their schedules and Auto Scaling event
 * rules, the lease table, least-privilege IAM, the EKS access entry, and alarms.
 */
export class NodeManager extends Construct {
  readonly refreshStateMachine: sfn.StateMachine;
  readonly replenishStateMachine: sfn.StateMachine;
  /** Absent when `interruptionDrain` is false. */
  readonly interruptionStateMachine?: sfn.StateMachine;
  readonly leaseTable: dynamodb.Table;
  /** The role both functions run as (the one to map in the cluster's RBAC). */
  readonly functionRole: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  /** The function in front of the interruption drain (absent when `interruptionDrain` is false). */
  readonly interruptionGate?: lambda.Function;

  constructor(scope: Construct, id: string, props: NodeManagerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const access = ClusterAccessSchema.safeParse(props.access);
    if (!access.success) throw new InvalidConfigError(`NodeManager: access: ${describeIssues(access.error)}`);
    const clusterName = z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/)
      .safeParse(props.clusterName);
    if (!clusterName.success)
      throw new InvalidConfigError(
        `NodeManager: clusterName: letters, digits, ".", "_" or "-", at most 63 characters; got "${props.clusterName}"`,
      );
    const groups = validateGroups(props.groups);
    const slug = props.clusterName.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40);
    const tag =
      props.resourceTag ??
      (props.access.kind === 'eks'
        ? { key: `kubernetes.io/cluster/${props.access.clusterName}`, value: 'owned' }
        : { key: 'KubernetesCluster', value: props.clusterName });
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const names = {
      refresh: `node-manager-${slug}-refresh`,
      replenish: `node-manager-${slug}-replenish`,
      interruption: `node-manager-${slug}-interruption`,
    };
    const smArn = (name: string) =>
      Arn.format(
        { service: 'states', resource: 'stateMachine', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
        stack,
      );
    const execArns = (name: string) =>
      Arn.format(
        {
          service: 'states',
          resource: 'execution',
          resourceName: `${name}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        },
        stack,
      );

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

    this.functionRole = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `node-manager functions of cluster ${props.clusterName}`,
    });
    const role = this.functionRole;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadGroups',
        // AWS offers no resource-level permissions for these describe calls.
        actions: [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeScalingActivities',
          'ec2:DescribeInstances',
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
        conditions: { StringEquals: { [`aws:ResourceTag/${tag.key}`]: tag.value } },
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
        conditions: { StringEquals: { [`aws:ResourceTag/${tag.key}`]: tag.value } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'Lease',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [this.leaseTable.tableArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'LeaseHolders',
        actions: ['states:DescribeExecution'],
        resources: [execArns(names.refresh), execArns(names.replenish)],
      }),
    );
    if (props.access.kind === 'eks') {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'Cluster',
          actions: ['eks:DescribeCluster'],
          resources: [
            Arn.format(
              {
                service: 'eks',
                resource: 'cluster',
                resourceName: props.access.clusterName,
                arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
              },
              stack,
            ),
          ],
        }),
      );
      new eks.CfnAccessEntry(this, 'AccessEntry', {
        clusterName: props.access.clusterName,
        principalArn: role.roleArn,
        kubernetesGroups: ['node-manager'],
        type: 'STANDARD',
      });
    } else {
      const secretId = props.access.secretId;
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
    if (props.vpcPlacement) {
      // What Lambda needs to attach the functions to the VPC, scoped to network interfaces (and the
      // chosen subnets and security groups where the call names them); Describe has no resource scope.
      const eni = Arn.format(
        { service: 'ec2', resource: 'network-interface', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
        stack,
      );
      const subnets = props.vpcPlacement.vpc
        .selectSubnets(props.vpcPlacement.subnets)
        .subnetIds.map((id) =>
          Arn.format(
            { service: 'ec2', resource: 'subnet', resourceName: id, arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
            stack,
          ),
        );
      const groups = (props.vpcPlacement.securityGroups ?? []).map((sg) =>
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

    const config = handlerConfig(
      {
        account: '000000000000',
        cluster: { name: props.clusterName, region: 'us-east-1', access: props.access },
        groups,
        historyEventBudget: props.historyEventBudget ?? 20_000,
      },
      'from-environment',
    );
    const { fn, machine } = workflowParts(this, {
      role,
      retention,
      config,
      clusterName: props.clusterName,
      leaseTableName: this.leaseTable.tableName,
      names,
      vpcPlacement: props.vpcPlacement,
    });
    const refreshFn = fn('refresh');
    const replenishFn = fn('replenish');
    this.refreshStateMachine = machine('refresh', refreshFn);
    this.replenishStateMachine = machine('replenish', replenishFn);
    // A long refresh continues in a fresh execution of itself.
    this.refreshStateMachine.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [smArn(names.refresh)] }),
    );

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

    let interruptionFn: lambda.Function | undefined;
    if (props.interruptionDrain ?? true) {
      interruptionFn = fn('interruption');
      this.interruptionStateMachine = machine('interruption', interruptionFn);
      // The gate has a role of its own: it reads group membership and starts the drain, nothing more.
      const gateRole = new iam.Role(this, 'GateRole', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `node-manager interruption gate of cluster ${props.clusterName}`,
      });
      this.interruptionGate = fn('interruptionGate', {
        entry: 'interruption-gate.ts',
        role: gateRole,
        memorySize: 256,
        timeout: Duration.seconds(30),
        description: `node-manager: starts the interruption drain for notices of cluster ${props.clusterName}'s instances, drops the rest`,
        environment: { NODE_MANAGER_INTERRUPTION_STATE_MACHINE: this.interruptionStateMachine.stateMachineArn },
        // An event the gate failed on after Lambda's own retries lands here, and the alarm below says so.
        deadLetterQueue: this.deadLetterQueue,
        // It calls Auto Scaling and Step Functions only: outside the VPC, it needs no network interfaces.
        inVpc: false,
      });
      addInterruptionDrain(this, {
        stateMachine: this.interruptionStateMachine,
        role,
        gate: this.interruptionGate,
        groups,
        deadLetterQueue: this.deadLetterQueue,
        tag,
        clusterName: props.clusterName,
      });
      Validations.of(gateRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'DescribeAutoScalingInstances and DescribeAutoScalingGroups support no resource-level permissions; the ' +
          'gate reads which group an instance is in, nothing else.',
      });
    }

    for (const g of groups) {
      const id = g.name.replace(/[^A-Za-z0-9]/g, '');
      if (g.refreshSchedule) {
        new scheduler.Schedule(this, `Refresh${id}`, {
          scheduleName: `node-manager-${slug}-refresh-${g.name}`.slice(0, 64),
          description: `Refresh node group ${g.name} of ${props.clusterName}`,
          schedule: scheduler.ScheduleExpression.expression(
            `cron(${g.refreshSchedule.cron})`,
            TimeZone.of(g.refreshSchedule.timeZone),
          ),
          target: new schedulerTargets.StepFunctionsStartExecution(this.refreshStateMachine, {
            input: scheduler.ScheduleTargetInput.fromObject({ group: g.name }),
            retryAttempts: 3,
            maxEventAge: Duration.hours(1),
            deadLetterQueue: this.deadLetterQueue,
          }),
        });
      }
      if (g.replenishEverySeconds > 0) {
        new scheduler.Schedule(this, `Replenish${id}`, {
          scheduleName: `node-manager-${slug}-replenish-${g.name}`.slice(0, 64),
          description: `Replenish node group ${g.name} of ${props.clusterName}`,
          schedule: scheduler.ScheduleExpression.rate(Duration.seconds(g.replenishEverySeconds)),
          target: new schedulerTargets.StepFunctionsStartExecution(this.replenishStateMachine, {
            input: scheduler.ScheduleTargetInput.fromObject({ group: g.name }),
            retryAttempts: 2,
            maxEventAge: Duration.minutes(5),
            deadLetterQueue: this.deadLetterQueue,
          }),
        });
      }
      if (g.asgNames) {
        new events.Rule(this, `AutoScalingEvents${id}`, {
          description: `Replenish ${g.name} of ${props.clusterName} when its ASGs fail to launch or lose an instance`,
          eventPattern: {
            source: ['aws.autoscaling'],
            detailType: ['EC2 Instance Launch Unsuccessful', 'EC2 Instance Terminate Successful'],
            detail: { AutoScalingGroupName: [...g.asgNames] },
          },
          targets: [
            new eventTargets.SfnStateMachine(this.replenishStateMachine, {
              input: events.RuleTargetInput.fromObject({ group: g.name }),
              deadLetterQueue: this.deadLetterQueue,
              retryAttempts: 2,
              maxEventAge: Duration.minutes(10),
            }),
          ],
        });
      }
    }

    const alarmed: Array<[string, sfn.StateMachine]> = [
      ['Refresh', this.refreshStateMachine],
      ['Replenish', this.replenishStateMachine],
    ];
    if (this.interruptionStateMachine) alarmed.push(['Interruption', this.interruptionStateMachine]);
    // An event no schedule, rule or gate could deliver: lost work, which nobody would see otherwise.
    const lost = new cloudwatch.Alarm(this, 'UndeliveredEvents', {
      alarmDescription:
        `node-manager events undeliverable for cluster ${props.clusterName}: read them in the ` +
        `dead-letter queue ${this.deadLetterQueue.queueName}`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) lost.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    for (const [name, sm] of alarmed) {
      for (const [what, metric] of [
        ['Failed', sm.metricFailed()],
        ['TimedOut', sm.metricTimedOut()],
        ['Aborted', sm.metricAborted()],
      ] as const) {
        const alarm = new cloudwatch.Alarm(this, `${name}${what}`, {
          alarmDescription:
            `node-manager ${name.toLowerCase()} executions ${what} for cluster ` +
            `${props.clusterName}: see the execution history`,
          metric: metric.with({ period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
        if (props.alarmTopic) alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
      }
    }

    // Output names as an operator reads them in the console and `cdk deploy`: no hash, the
    // construct's id as prefix (so two node managers in one stack cannot collide).
    const output = (name: string, props: { value: string; description?: string }) =>
      new CfnOutput(this, name, props).overrideLogicalId(`${this.node.id.replace(/[^A-Za-z0-9]/g, '')}${name}`);
    const pascal = (group: string) =>
      group
        .split('-')
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join('');
    output('RefreshStateMachineArn', { value: this.refreshStateMachine.stateMachineArn });
    output('ReplenishStateMachineArn', { value: this.replenishStateMachine.stateMachineArn });
    if (this.interruptionStateMachine)
      output('InterruptionStateMachineArn', { value: this.interruptionStateMachine.stateMachineArn });
    for (const g of groups) {
      output(`StartRefresh${pascal(g.name)}`, {
        description: `An ad-hoc refresh of group ${g.name} (${g.role}); add "dryRun": true to the input to see the plan first`,
        value: Fn.join('', [
          'aws stepfunctions start-execution --region ',
          stack.region,
          ' --state-machine-arn ',
          this.refreshStateMachine.stateMachineArn,
          ` --input '{"group":"${g.name}"}'`,
        ]),
      });
    }
    output('FunctionRoleArn', {
      description:
        'The role the functions run as (EKS: mapped to the Kubernetes group node-manager of deploy/rbac.yaml)',
      value: role.roleArn,
    });

    this.acknowledgeFindings(stack, role, tag, names, [
      [this.refreshStateMachine, refreshFn],
      [this.replenishStateMachine, replenishFn],
      ...(this.interruptionStateMachine && interruptionFn
        ? [[this.interruptionStateMachine, interruptionFn] as [sfn.StateMachine, lambda.Function]]
        : []),
    ]);
  }

  /**
   * cdk-nag findings that are the design, each acknowledged by its exact finding (so any new
   * wildcard still fails the check) and with its reason.
   */
  private acknowledgeFindings(
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
}
