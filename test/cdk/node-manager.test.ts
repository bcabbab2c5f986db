import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { join } from 'node:path';
import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { tmpdir } from 'node:os';
import { buildApp, loadConfig } from '../../bin/node-manager';
import { groupSettings, InvalidConfigError } from '../../lib/config/schema';
import { handlerConfig, parseDeploymentConfig } from '../../lib/config/deployment';
import { NodeManager } from '../../lib/node-manager';

const ROOT = join(__dirname, '..', '..');
// Bundling (esbuild) is exercised by `cdk synth`; Template tests only need the CloudFormation.
const app = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const example = (name: string) => loadConfig(join(ROOT, 'examples', 'config', `${name}.json`));
const rawExample = (name: string) =>
  JSON.parse(readFileSync(join(ROOT, 'examples', 'config', `${name}.json`), 'utf8')) as Record<string, unknown>;

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, string>>;
  Effect: string;
};
function statements(t: Template): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const READ_ONLY =
  /^(autoscaling|ec2|xray|logs|states|dynamodb|eks|secretsmanager):(Describe|Get|List|BatchGet)|^xray:(PutTraceSegments|PutTelemetryRecords|GetSampling)/;
/**
 * Step Functions' logging to CloudWatch Logs goes through the vended log-delivery APIs, which take
 * no resource (AWS: "these actions don't support resource-level permissions"); CDK grants them to
 * the state machine roles. They touch log deliveries, never the cluster.
 */
const LOG_DELIVERY = /^logs:(CreateLogDelivery|UpdateLogDelivery|DeleteLogDelivery|PutResourcePolicy)$/;

describe.each(['kops', 'eks'])('the CDK app with examples/config/%s.json', (name) => {
  const config = example(name);
  const { app: a, stack } = buildApp(config, app());
  const t = Template.fromStack(stack);

  it('loads each state machine from its ASL file with every placeholder substituted', () => {
    const machines = t.findResources('AWS::StepFunctions::StateMachine');
    expect(Object.keys(machines)).toHaveLength(3);
    for (const workflow of ['refresh', 'replenish', 'interruption']) {
      const file = readFileSync(join(ROOT, 'statemachines', `${workflow}.asl.json`), 'utf8');
      const sm = Object.values(machines).find((m) =>
        (m as { Properties: { StateMachineName: string } }).Properties.StateMachineName.endsWith(`-${workflow}`),
      ) as {
        Properties: {
          DefinitionString: string;
          DefinitionSubstitutions: Record<string, unknown>;
          TracingConfiguration: unknown;
          LoggingConfiguration: { Level: string };
        };
      };
      expect(JSON.parse(sm.Properties.DefinitionString)).toEqual(JSON.parse(file));
      const placeholders = [...new Set([...file.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))];
      expect(placeholders.length).toBeGreaterThan(0);
      expect(Object.keys(sm.Properties.DefinitionSubstitutions).sort()).toEqual(placeholders.sort());
      for (const p of placeholders)
        expect(sm.Properties.DefinitionSubstitutions[p]).toEqual({
          'Fn::GetAtt': [expect.stringMatching(new RegExp(`${workflow}Function`)), 'Arn'],
        });
      expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: true });
      expect(sm.Properties.LoggingConfiguration.Level).toBe('ALL');
    }
  });

  it('lets each function write its logs to its own log group, and to no other', () => {
    const groups = Object.entries(t.findResources('AWS::Logs::LogGroup')).filter(([id]) =>
      /(refresh|replenish|interruption|interruptionGate)Logs/.test(id),
    );
    expect(groups).toHaveLength(4);
    const writes = statements(t).filter((s) =>
      actionsOf(s).some((a) => a === 'logs:CreateLogStream' || a === 'logs:PutLogEvents'),
    );
    for (const [id] of groups) {
      const grant = writes.find((s) => JSON.stringify(s.Resource).includes(id));
      expect(grant && actionsOf(grant).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    }
    for (const s of writes) expect(groups.some(([id]) => JSON.stringify(s.Resource).includes(id))).toBe(true);
    const fns = Object.values(t.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { LoggingConfig?: { LogGroup?: unknown } };
    }>;
    for (const f of fns.filter((x) => x.Properties.LoggingConfig))
      expect(JSON.stringify(f.Properties.LoggingConfig!.LogGroup)).toMatch(
        /(refresh|replenish|interruption|interruptionGate)Logs/,
      );
  });

  it('schedules each group in its time zone, with retries and a dead-letter queue', () => {
    const schedules = Object.values(t.findResources('AWS::Scheduler::Schedule')) as Array<{
      Properties: {
        ScheduleExpression: string;
        ScheduleExpressionTimezone?: string;
        Target: { Input: string; RetryPolicy: unknown; DeadLetterConfig: unknown };
      };
    }>;
    const refresh = schedules.filter((s) => s.Properties.ScheduleExpression.startsWith('cron('));
    const replenish = schedules.filter((s) => s.Properties.ScheduleExpression.startsWith('rate('));
    expect(refresh).toHaveLength(config.groups.filter((g) => g.refreshSchedule).length);
    expect(replenish).toHaveLength(config.groups.filter((g) => g.replenishEverySeconds > 0).length);
    for (const g of config.groups) {
      const s = refresh.find((x) => JSON.parse(x.Properties.Target.Input).group === g.name)!;
      expect(s.Properties.ScheduleExpression).toBe(`cron(${g.refreshSchedule!.cron})`);
      expect(s.Properties.ScheduleExpressionTimezone).toBe(g.refreshSchedule!.timeZone);
      // A scheduled start that finds its group's refresh running ends at once, successfully.
      expect(JSON.parse(s.Properties.Target.Input)).toEqual({ group: g.name, trigger: 'schedule' });
    }
    for (const s of schedules) {
      expect(s.Properties.Target.RetryPolicy).toBeDefined();
      expect(s.Properties.Target.DeadLetterConfig).toBeDefined();
    }
  });

  it('allows Auto Scaling and EC2 mutations only on resources carrying the cluster tag', () => {
    const tagKey =
      config.cluster.resourceTag?.key ??
      (config.cluster.access.kind === 'eks'
        ? `kubernetes.io/cluster/${config.cluster.access.clusterName}`
        : 'KubernetesCluster');
    const mutating = statements(t).filter((s) =>
      actionsOf(s).some((a) => /^autoscaling:(Set|Update|Terminate|Detach)|^ec2:TerminateInstances/.test(a)),
    );
    expect(mutating.length).toBe(2);
    for (const s of mutating)
      expect(Object.keys(s.Condition?.StringEquals ?? {})).toEqual([`aws:ResourceTag/${tagKey}`]);
  });

  it('grants no mutating action on every resource', () => {
    for (const s of statements(t)) {
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      if (!resources.includes('*')) continue;
      for (const action of actionsOf(s))
        expect({ action, allowed: READ_ONLY.test(action) || LOG_DELIVERY.test(action) }).toEqual({
          action,
          allowed: true,
        });
    }
  });

  it('passes cdk-nag AwsSolutions with every acknowledgement explained', () => {
    expect(() => a.synth()).not.toThrow();
  });

  it('alarms on failed, timed-out and aborted executions, and outputs how to start a refresh', () => {
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as Array<{
      Properties: {
        MetricName: string;
        Namespace: string;
        Threshold: number;
        ComparisonOperator: string;
        AlarmActions?: unknown[];
      };
    }>;
    // A stopped refresh or replenish is an operator's halt, not a failure: only a stopped drain alarms.
    const onAws = alarms.filter((x) => x.Properties.Namespace !== 'NodeManager');
    expect(onAws.map((x) => x.Properties.MetricName).sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ExecutionsAborted',
      'ExecutionsFailed',
      'ExecutionsFailed',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsTimedOut',
      'ExecutionsTimedOut',
    ]);
    // Anything in the dead-letter queue is an event nobody handled.
    expect(
      alarms.find((x) => x.Properties.MetricName === 'ApproximateNumberOfMessagesVisible')!.Properties,
    ).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    // Every alarm reaches someone: the configured topic, or the one the stack creates.
    expect(alarms.every((x) => x.Properties.AlarmActions?.length === 1)).toBe(true);
    const outputs = t.findOutputs('*') as Record<string, { Value: unknown; Description?: string }>;
    // One ready-to-paste start command per group, under names without hashes.
    const pascal = (n: string) =>
      n
        .split('-')
        .map((w) => w[0].toUpperCase() + w.slice(1))
        .join('');
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'NodeManagerClusterName',
        'NodeManagerDashboardUrl',
        'NodeManagerGroups',
        'NodeManagerFunctionRoleArn',
        ...(config.alarmTopicArn ? [] : ['NodeManagerAlarmTopicArn']),
        'NodeManagerInterruptionStateMachineArn',
        'NodeManagerLeaseTableName',
        'NodeManagerOperatorPolicyArn',
        'NodeManagerRefreshStateMachineArn',
        'NodeManagerReplenishStateMachineArn',
        ...config.groups.map((g) => `NodeManagerStartRefresh${pascal(g.name)}`),
      ].sort(),
    );
    // What the node-manager CLI reads: the groups, how to find their ASGs, and their windows.
    expect(JSON.parse(outputs.NodeManagerGroups.Value as string)).toEqual(
      config.groups.map((g) => expect.objectContaining({ name: g.name, desiredReady: g.desiredReady })),
    );
    for (const g of config.groups)
      expect(JSON.stringify(outputs[`NodeManagerStartRefresh${pascal(g.name)}`].Value)).toContain(
        `--input '{\\"group\\":\\"${g.name}\\"}'`,
      );
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      DeletionProtectionEnabled: true,
    });
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    t.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Architectures: ['arm64'] });
  });
});

describe('alarms that reach someone', () => {
  const messages = (stack: ReturnType<typeof buildApp>['stack']) =>
    stack.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === 'aws:cdk:warning' || m.type === 'aws:cdk:info')
      .map((m) => `${m.type === 'aws:cdk:warning' ? 'warning' : 'info'}: ${String(m.data)}`);

  it('without a topic, the stack creates one and synth says nobody hears it yet', () => {
    const { stack } = buildApp({ ...example('kops'), alarmTopicArn: undefined }, app());
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.resourceCountIs('AWS::SNS::Subscription', 0);
    expect(messages(stack)).toContainEqual(
      expect.stringMatching(
        /^warning: node-manager: alarms go to the topic this stack creates \(output AlarmTopicArn\), which nobody hears yet: set alarmEmail/,
      ),
    );
  });

  it('with alarmEmail, the topic e-mails it; with a topic of yours, none is created; both is refused', () => {
    const { stack } = buildApp(parseDeploymentConfig({ ...rawExample('kops'), alarmEmail: 'ops@example.com' }), app());
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(messages(stack)).toContainEqual(
      expect.stringMatching(/^info: .*e-mailed to ops@example.com once it confirms/),
    );
    const theirs = Template.fromStack(buildApp(example('eks'), app()).stack);
    theirs.resourceCountIs('AWS::SNS::Topic', 0);
    expect(() => parseDeploymentConfig({ ...rawExample('eks'), alarmEmail: 'ops@example.com' })).toThrow(
      /alarmEmail: only with the topic the stack creates/,
    );
    expect(() => parseDeploymentConfig({ ...rawExample('kops'), alarmEmail: 'ops' })).toThrow(
      /alarmEmail: an e-mail address/,
    );
  });

  it('alarms on the metrics per group (Ready below desired, substitutes held, refusals) and on refused notices, to the topic', () => {
    const config = parseDeploymentConfig({
      ...rawExample('kops'),
      metricAlarms: { readyBelowDesiredMinutes: 20, substituteHeldHours: 4 },
    });
    const t = Template.fromStack(buildApp(config, app()).stack);
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as Array<{
      Properties: Record<string, unknown> & { Namespace: string; MetricName: string; Dimensions: unknown[] };
    }>;
    const ours = alarms.filter((a) => a.Properties.Namespace === 'NodeManager');
    const of = (metric: string) => ours.filter((a) => a.Properties.MetricName === metric).map((a) => a.Properties);
    expect(of('ReadyShortfall')).toHaveLength(config.groups.length);
    expect(of('ReadyShortfall')[0]).toMatchObject({
      Statistic: 'Minimum',
      Period: 1200,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Dimensions: [
        { Name: 'Cluster', Value: config.cluster.name },
        { Name: 'Group', Value: config.groups[0].name },
      ],
    });
    expect(of('SubstituteNodes')[0]).toMatchObject({ Statistic: 'Minimum', Period: 4 * 3600, Threshold: 1 });
    expect(of('EvictionsRefused')[0]).toMatchObject({ Statistic: 'Sum', Period: 900, Threshold: 20 });
    expect(of('NoticesRefused')).toEqual([
      expect.objectContaining({ Dimensions: [{ Name: 'Cluster', Value: config.cluster.name }], Threshold: 1 }),
    ]);
    expect(ours.every((a) => (a.Properties.AlarmActions as unknown[]).length === 1)).toBe(true);
    expect(() => parseDeploymentConfig({ ...rawExample('kops'), metricAlarms: { substituteHeldHours: 48 } })).toThrow(
      /metricAlarms.substituteHeldHours: .*24/,
    );
  });

  it('a dashboard per cluster, groups side by side; summaries reach the topic unless turned off', () => {
    const config = example('kops');
    const { stack } = buildApp({ ...config, alarmTopicArn: undefined }, app());
    const t = Template.fromStack(stack);
    const [dash] = Object.values(t.findResources('AWS::CloudWatch::Dashboard')) as Array<{
      Properties: { DashboardName: string; DashboardBody: unknown };
    }>;
    expect(dash.Properties.DashboardName).toBe(`node-manager-${config.cluster.name.replace(/[^A-Za-z0-9-]/g, '-')}`);
    const body = JSON.stringify(stack.resolve(dash.Properties.DashboardBody));
    for (const g of config.groups) {
      expect(body).toContain(`${g.name}: Ready against desired`);
      expect(body).toContain(`${g.name}: seconds below desiredReady per disruption`);
    }
    for (const m of [
      'ReadyNodes',
      'DesiredReady',
      'NodesReplaced',
      'RefreshBoundRatio',
      'PodsEvicted',
      'InterruptionsDrained',
    ])
      expect(body).toContain(m);
    // The functions publish to the topic, and know it.
    const fns = Object.values(t.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { Environment?: { Variables?: Record<string, unknown> } };
    }>;
    const withTopic = fns.filter((f) => f.Properties.Environment?.Variables?.NODE_MANAGER_SUMMARY_TOPIC);
    expect(withTopic.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).toContain('sns:Publish');
    const off = Template.fromStack(buildApp({ ...config, alarmTopicArn: undefined, summaries: false }, app()).stack);
    const offFns = Object.values(off.findResources('AWS::Lambda::Function')) as typeof fns;
    expect(offFns.some((f) => f.Properties.Environment?.Variables?.NODE_MANAGER_SUMMARY_TOPIC)).toBe(false);
  });
});

describe('cluster access', () => {
  it('EKS: an access entry maps the function role to the node-manager group; kops: only the secret is readable', () => {
    const eks = Template.fromStack(buildApp(example('eks'), app()).stack);
    eks.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'prod',
      KubernetesGroups: ['node-manager'],
      Type: 'STANDARD',
    });
    expect(statements(eks).some((s) => actionsOf(s).includes('eks:DescribeCluster'))).toBe(true);
    const kops = Template.fromStack(buildApp(example('kops'), app()).stack);
    kops.resourceCountIs('AWS::EKS::AccessEntry', 0);
    const secret = statements(kops).find((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'))!;
    expect(JSON.stringify(secret.Resource)).toContain('secret:node-manager/example.k8s.local/kubeconfig-??????');
    expect(readFileSync(join(ROOT, 'deploy', 'rbac.yaml'), 'utf8')).toContain('pods/eviction');
  });

  it('RBAC grants what the code calls and nothing else; the kops service account and token are kops-only', () => {
    const docs = (f: string) =>
      (loadAll(readFileSync(join(ROOT, 'deploy', f), 'utf8')) as Array<{ kind: string; rules?: unknown }>).filter(
        Boolean,
      );
    const base = docs('rbac.yaml');
    expect(base.map((d) => d.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    expect(base.find((d) => d.kind === 'ClusterRole')!.rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
      { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
    ]);
    expect(
      docs('rbac-kops.yaml')
        .map((d) => d.kind)
        .sort(),
    ).toEqual(['ClusterRoleBinding', 'Secret', 'ServiceAccount']);
  });

  it('Auto Scaling events of the named ASGs start replenish', () => {
    const t = Template.fromStack(buildApp(example('kops'), app()).stack);
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance Launch Unsuccessful', 'EC2 Instance Terminate Successful'],
        detail: { AutoScalingGroupName: example('kops').groups[1].asgNames },
      },
    });
  });
});

describe('the interruption drain in the stack', () => {
  const kops = example('kops');
  const t = Template.fromStack(buildApp(kops, app()).stack);
  const hooked = kops.groups.filter((g) => g.terminateHook);

  const account = kops.account;
  const gateArn = (): unknown => {
    const [id] = Object.keys(t.findResources('AWS::Lambda::Function')).filter((k) =>
      k.includes('interruptionGateFunction'),
    );
    return { 'Fn::GetAtt': [id, 'Arn'] };
  };

  it("EventBridge rules for this account's Spot warnings, rebalance recommendations and unannounced stops hand the whole event to the gate", () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation'],
        account: [account],
      },
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['EC2 Instance State-change Notification'],
        account: [account],
        detail: { state: ['stopping', 'shutting-down'] },
      },
    });
    const rules = Object.values(t.findResources('AWS::Events::Rule')) as Array<{
      Properties: {
        EventPattern: { source: string[]; 'detail-type': string[]; account?: unknown[] };
        Targets: Array<{ Arn: unknown; Input?: unknown; DeadLetterConfig?: unknown }>;
      };
    }>;
    const drains = rules.filter((x) =>
      /Spot|Lifecycle Action|State-change/.test(x.Properties.EventPattern['detail-type'][0]),
    );
    expect(drains.length).toBeGreaterThanOrEqual(3);
    for (const r of drains) {
      expect(r.Properties.EventPattern.account).toEqual([account]);
      expect(r.Properties.Targets[0].Arn).toEqual(gateArn());
      expect(r.Properties.Targets[0].Input).toBeUndefined();
      expect(r.Properties.Targets[0].DeadLetterConfig).toBeDefined();
    }
  });

  it('the gate reads group membership and starts the drain, nothing more; failed events go to the dead-letter queue', () => {
    const gate = Object.values(t.findResources('AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f).includes('NODE_MANAGER_INTERRUPTION_STATE_MACHINE'),
    ) as { Properties: { Role: { 'Fn::GetAtt': [string, string] }; MemorySize: number; DeadLetterConfig?: unknown } };
    expect(gate.Properties.MemorySize).toBe(256);
    expect(gate.Properties.DeadLetterConfig).toBeDefined();
    const policy = Object.values(t.findResources('AWS::IAM::Policy')).find((p) =>
      JSON.stringify((p as { Properties: { Roles: unknown[] } }).Properties.Roles).includes(
        gate.Properties.Role['Fn::GetAtt'][0],
      ),
    ) as { Properties: { PolicyDocument: { Statement: Statement[] } } };
    const actions = policy.Properties.PolicyDocument.Statement.flatMap(actionsOf).sort();
    expect(actions).toEqual([
      'autoscaling:DescribeAutoScalingGroups',
      'autoscaling:DescribeAutoScalingInstances',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:SendMessage',
      'states:StartExecution',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const start = policy.Properties.PolicyDocument.Statement.find((x) =>
      actionsOf(x).includes('states:StartExecution'),
    )!;
    expect(JSON.stringify(start.Resource)).toContain('interruptionStateMachine');
  });

  it('the drain may read what confirms a notice; the lease table keeps ledger entries with a time to live', () => {
    const verify = statements(t).find((x) => actionsOf(x).includes('ec2:DescribeSpotInstanceRequests'))!;
    expect(actionsOf(verify).sort()).toEqual([
      'autoscaling:DescribeAutoScalingInstances',
      'autoscaling:DescribeLifecycleHooks',
      'ec2:DescribeSpotInstanceRequests',
    ]);
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('a termination hook on each ASG of a group that asks for one, and a rule for its lifecycle actions only', () => {
    expect(hooked.length).toBeGreaterThan(0);
    const hooks = Object.values(t.findResources('AWS::AutoScaling::LifecycleHook')) as Array<{
      Properties: Record<string, unknown>;
    }>;
    expect(hooks.map((h) => h.Properties.AutoScalingGroupName).sort()).toEqual(
      hooked.flatMap((g) => g.asgNames!).sort(),
    );
    for (const h of hooks)
      expect(h.Properties).toMatchObject({
        LifecycleHookName: 'node-manager-drain',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: 300,
        DefaultResult: 'CONTINUE',
      });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
        account: [account],
        detail: { AutoScalingGroupName: hooked[0].asgNames, LifecycleHookName: ['node-manager-drain'] },
      },
    });
  });

  it('an opt-in launch hook on each ASG of a group that asks for one, covering its join timeout, and its rule', () => {
    const config = { ...kops, groups: kops.groups.map((g) => (g.role === 'worker' ? { ...g, launchHook: true } : g)) };
    const lt = Template.fromStack(buildApp(config, app()).stack);
    const launch = Object.values(lt.findResources('AWS::AutoScaling::LifecycleHook'))
      .map((h) => (h as { Properties: Record<string, unknown> }).Properties)
      .filter((p) => p.LifecycleTransition === 'autoscaling:EC2_INSTANCE_LAUNCHING');
    const workers = config.groups.filter((g) => g.launchHook);
    expect(launch.map((p) => p.AutoScalingGroupName).sort()).toEqual(workers.flatMap((g) => g.asgNames!).sort());
    for (const p of launch)
      expect(p).toMatchObject({
        LifecycleHookName: 'node-manager-launch',
        HeartbeatTimeout: workers[0].joinTimeoutSeconds + 120,
        DefaultResult: 'CONTINUE',
      });
    lt.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-launch Lifecycle Action'],
        account: [account],
        detail: { AutoScalingGroupName: workers[0].asgNames, LifecycleHookName: ['node-manager-launch'] },
      },
    });
    // Not asked for: none.
    expect(
      Object.values(t.findResources('AWS::AutoScaling::LifecycleHook')).some(
        (h) =>
          (h as { Properties: Record<string, unknown> }).Properties.LifecycleTransition ===
          'autoscaling:EC2_INSTANCE_LAUNCHING',
      ),
    ).toBe(false);
  });

  it('completes and heartbeats lifecycle actions only on ASGs carrying the cluster tag', () => {
    const s = statements(t).find((x) => actionsOf(x).includes('autoscaling:CompleteLifecycleAction'))!;
    expect(actionsOf(s).sort()).toEqual([
      'autoscaling:CompleteLifecycleAction',
      'autoscaling:RecordLifecycleActionHeartbeat',
    ]);
    expect(s.Condition).toEqual({ StringEquals: { [`aws:ResourceTag/KubernetesCluster`]: kops.cluster.name } });
  });

  it('can be turned off, and a hook needs named ASGs', () => {
    const stack = buildApp(example('eks'), app()).stack;
    const off = new NodeManager(stack, 'Off', {
      clusterName: 'c',
      access: { kind: 'eks', clusterName: 'c' },
      interruptionDrain: false,
      groups: [{ name: 'n', role: 'worker', asgNames: ['a'], desiredReady: 1 }],
    });
    expect(off.interruptionStateMachine).toBeUndefined();
    expect(off.interruptionGate).toBeUndefined();
    expect(
      () =>
        new NodeManager(stack, 'Tags', {
          clusterName: 'c',
          access: { kind: 'eks', clusterName: 'c' },
          groups: [{ name: 'n', role: 'worker', asgTags: { a: 'b' }, desiredReady: 1, terminateHook: {} }],
        }),
    ).toThrow(
      'groups[n] (index 0): terminateHook: the hook is created on each named ASG: name them with asgNames (not asgTags)',
    );
  });
});

describe('the operator policy', () => {
  it('runs, stops and reads refresh and replenish, pauses through the pause attribute alone, and never starts the interruption drain', () => {
    const t = Template.fromStack(buildApp(example('kops'), app()).stack);
    const [policy] = Object.values(t.findResources('AWS::IAM::ManagedPolicy')) as Array<{
      Properties: { PolicyDocument: { Statement: Statement[] } };
    }>;
    const st = policy.Properties.PolicyDocument.Statement;
    const text = JSON.stringify(st);
    expect(text).toContain('node-manager-example-k8s-local-refresh');
    expect(text).toContain('node-manager-example-k8s-local-replenish');
    expect(text).not.toContain('interruption');
    const update = st.find((s) => actionsOf(s).includes('dynamodb:UpdateItem'))!;
    expect(update.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['group', 'pause'] } });
    const starts = st.filter((s) => actionsOf(s).includes('states:StartExecution'));
    expect(starts).toHaveLength(1);
  });
});

describe('the circuit breaker in the stack', () => {
  it('with alarms named: one rule for those alarms of this account, whose target records their states; none without', () => {
    const kops = example('kops');
    const watched = {
      ...kops,
      groups: kops.groups.map((g, i) => (i === 1 ? { ...g, alarms: ['api-5xx', 'p99'] } : g)),
    };
    const built = buildApp(watched, app());
    // cdk-nag AwsSolutions passes with the breaker's function and rule too.
    expect(() => built.app.synth()).not.toThrow();
    const t = Template.fromStack(built.stack);
    const rules = Object.values(t.findResources('AWS::Events::Rule')) as Array<{
      Properties: { EventPattern: { source: string[]; account: unknown[]; resources: unknown[] }; Targets: unknown[] };
    }>;
    const breaker = rules.filter((r) => r.Properties.EventPattern.source[0] === 'aws.cloudwatch');
    expect(breaker).toHaveLength(1);
    expect(breaker[0].Properties.EventPattern.account).toEqual([kops.account]);
    expect(JSON.stringify(breaker[0].Properties.EventPattern.resources)).toMatch(/:alarm:api-5xx".*:alarm:p99"/);
    const fns = Object.keys(t.findResources('AWS::Lambda::Function'));
    expect(fns.some((k) => k.includes('breakerFunction'))).toBe(true);
    const plain = Template.fromStack(buildApp(kops, app()).stack);
    expect(
      Object.values(plain.findResources('AWS::Events::Rule')).filter(
        (r) =>
          (r as { Properties: { EventPattern: { source: string[] } } }).Properties.EventPattern.source[0] ===
          'aws.cloudwatch',
      ),
    ).toEqual([]);
  });
});

describe('invalid configuration fails synth, naming the field and what is allowed', () => {
  it('a JSON syntax error names the line and column, not a character position', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nm-config-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{\n  "account": "123456789012"\n  "cluster": {}\n}\n');
    expect(() => loadConfig(file)).toThrow(
      `the node-manager configuration ${file} is not valid JSON: Expected ',' or '}' after property value at line 3, column 3`,
    );
  });

  const good = JSON.parse(readFileSync(join(ROOT, 'examples', 'config', 'kops.json'), 'utf8'));
  const nodes = good.groups[1];
  const master = good.groups[0];
  const schedule = (cron: string, timeZone = 'Asia/Tokyo') => ({
    ...good,
    groups: [master, { ...nodes, refreshSchedule: { cron, timeZone } }],
  });
  it.each([
    [{ ...good, account: '12' }, 'account: a 12-digit AWS account id'],
    [
      { ...good, groups: [{ ...master, surplus: 1 }] },
      `groups[${master.name}].surplus: control-plane groups refresh in place: surplus must be 0`,
    ],
    [schedule('0 4 * * *'), `groups[nodes].refreshSchedule.cron: Expected 6 values, but got 5.`],
    [
      schedule('0 4 * * SUN *'),
      'groups[nodes].refreshSchedule.cron: Cannot specify both daysOfMonth and daysOfWeek field in one expression: put "?" in one of them',
    ],
    [
      schedule('0 25 ? * SUN *'),
      "groups[nodes].refreshSchedule.cron: Number '25' of hours field is bigger than upper limit '23'.",
    ],
    [
      schedule('cron(0 4 ? * SUN *)'),
      'groups[nodes].refreshSchedule.cron: write the six fields alone, without "cron( )": "0 4 ? * SUN *"',
    ],
    [
      schedule('0,30 * ? * * *'),
      'groups[nodes].refreshSchedule.cron: a refresh may be scheduled at most hourly: the minutes field must be one minute such as "0" (got "0,30")',
    ],
    [
      schedule('0 4 ? * SUN *', 'JST'),
      'groups[nodes].refreshSchedule.timeZone: an IANA time zone name such as "Asia/Tokyo"',
    ],
    [schedule('0 4 ? * SUN *', 'Tokyo'), 'groups[nodes].refreshSchedule.timeZone: an IANA time zone name'],
    [
      { ...good, groups: [master, { ...nodes, replenishEverySeconds: 90 }] },
      'groups[nodes].replenishEverySeconds: 0 (off), or whole minutes from 60 to 86400 seconds',
    ],
    [{ ...good, groups: [master, { ...nodes, desiredReady: 1e9 }] }, 'groups[nodes].desiredReady: at most 10000'],
    [
      { ...good, groups: [master, { ...nodes, surplus: 'ten' }] },
      'groups[nodes].surplus: a count such as 2, or a percentage of desiredReady from 0% to 100% such as "10%"',
    ],
    [
      { ...good, groups: [master, { ...nodes, surplus: '150%' }] },
      'groups[nodes].surplus: a count such as 2, or a percentage of desiredReady from 0% to 100% such as "10%"',
    ],
    [
      {
        ...good,
        groups: [
          master,
          {
            ...nodes,
            maintenanceWindows: [{ days: ['saturday'], start: '2:00', duration: '3h', timeZone: 'Asia/Tokyo' }],
          },
        ],
      },
      'groups[nodes].maintenanceWindows.0.days.0: a day: one of sun, mon, tue, wed, thu, fri, sat; groups[nodes].maintenanceWindows.0.start: a local time "HH:MM" (24-hour), such as "02:00"',
    ],
    [
      { ...good, groups: [master, { ...nodes, desiredReady: 2, surplus: 3 }] },
      'groups[nodes].surplus: at most desiredReady (2): a surplus of 3 is also the batch size',
    ],
    [
      { ...good, cluster: { ...good.cluster, access: { kind: 'kubeconfig' } } },
      'cluster.access.secretId: required for kind "kubeconfig": the Secrets Manager secret (name or ARN) holding the kubeconfig',
    ],
    [
      { ...good, cluster: { ...good.cluster, access: { kind: 'eks' } } },
      'cluster.access.clusterName: required for kind "eks"',
    ],
    [
      { ...good, groups: [{ ...master, surplus: '10%' }, nodes] },
      `groups[${master.name}].surplus: control-plane groups refresh in place: surplus must be 0`,
    ],
    [
      { ...good, groups: [master, { ...nodes, name: 'other' }, nodes] },
      `groups[nodes].asgNames.0: ASG ${nodes.asgNames[0]} is already in group other; an ASG belongs to one group`,
    ],
    [
      { ...good, cluster: { ...good.cluster, region: 'ap-northeast-9' } },
      'cluster.region: an AWS region such as ap-northeast-1',
    ],
    [
      { ...good, cluster: { ...good.cluster, resourceTag: { key: 'Team', value: 'platform' } } },
      `cluster.resourceTag: must identify cluster ${good.cluster.name}`,
    ],
    [
      { ...good, cluster: { ...good.cluster, resourceTag: { key: 'aws:cloudformation:stack-name', value: 'x' } } },
      'cluster.resourceTag.key: "aws:" tags are AWS\'s own',
    ],
    [{ ...good, groups: [nodes, nodes] }, 'groups[nodes].name: group name nodes is used twice'],
    [
      { ...good, cluster: { ...good.cluster, access: { kind: 'ssh' } } },
      'cluster.access.kind: one of {"kind": "eks", "clusterName": …} or {"kind": "kubeconfig", "secretId": …}',
    ],
  ])('case %#', (raw, message) => {
    expect(() => parseDeploymentConfig(raw)).toThrow(InvalidConfigError);
    expect(() => parseDeploymentConfig(raw)).toThrow(message);
  });

  it('a surplus may be a percentage of desiredReady: rounded up, at least one node; 0% is none', () => {
    const withSurplus = (surplus: unknown, desiredReady = 2000) =>
      groupSettings(
        handlerConfig(
          parseDeploymentConfig({ ...good, groups: [master, { ...nodes, surplus, desiredReady }] }),
          'leases',
        ).groups[1],
      ).surplus;
    expect(withSurplus('10%')).toBe(200);
    expect(withSurplus('10%', 3)).toBe(1);
    expect(withSurplus('25%', 6)).toBe(2);
    expect(withSurplus('0%')).toBe(0);
    expect(withSurplus(2)).toBe(2);
    expect(withSurplus(300)).toBe(300);
  });

  it('the construct checks its props the same way', () => {
    const stack = buildApp(example('kops'), app()).stack;
    expect(
      () =>
        new NodeManager(stack, 'Bad', {
          clusterName: 'c',
          access: { kind: 'eks', clusterName: 'c' },
          groups: [{ name: 'n', role: 'worker', desiredReady: 1, drainTimeout: Duration.hours(2) }],
        }),
    ).toThrow(/groups\[n\] \(index 0\): .*drainTimeoutSeconds: Too big/);
  });

  it('a wildcard mutation added to the role fails the cdk-nag check (the check can fail)', () => {
    const { app: a, nodeManager } = buildApp(example('kops'), app());
    nodeManager.functionRole.addToPolicy(new iam.PolicyStatement({ actions: ['autoscaling:*'], resources: ['*'] }));
    expect(() => a.synth()).toThrow(/AwsSolutions-IAM5/);
  });
});
