/**
 * The CDK app: `npx cdk synth|deploy -c config=<file.json>` (or NODE_MANAGER_CONFIG_FILE).
 * Builds one stack per configuration file from examples/config's shape, validated first: a wrong
 * field stops `cdk synth` with a message naming it and what is allowed.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseDeploymentConfig, type DeploymentConfig } from '../lib/config/deployment';
import { NodeManager } from '../lib/node-manager';

export function buildApp(
  config: DeploymentConfig,
  app = new App(),
): { app: App; stack: Stack; nodeManager: NodeManager } {
  const stack = new Stack(app, `NodeManager-${config.cluster.name.replace(/[^A-Za-z0-9-]/g, '-')}`, {
    env: { account: config.account, region: config.cluster.region },
    description: `node-manager for Kubernetes cluster ${config.cluster.name}`,
  });
  const vpc = config.vpc;
  const nodeManager = new NodeManager(stack, 'NodeManager', {
    clusterName: config.cluster.name,
    access: config.cluster.access,
    resourceTag: config.cluster.resourceTag,
    historyEventBudget: config.historyEventBudget,
    ...(config.alarmTopicArn ? { alarmTopic: sns.Topic.fromTopicArn(stack, 'AlarmTopic', config.alarmTopicArn) } : {}),
    ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
    summaries: config.summaries,
    metricAlarms: config.metricAlarms,
    ...(vpc
      ? {
          vpcPlacement: {
            vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
              vpcId: vpc.vpcId,
              availabilityZones: vpc.availabilityZones,
              privateSubnetIds: vpc.subnetIds,
            }),
            subnets: { subnets: vpc.subnetIds.map((id, i) => ec2.Subnet.fromSubnetId(stack, `Subnet${i}`, id)) },
            securityGroups: vpc.securityGroupIds.map((id, i) =>
              ec2.SecurityGroup.fromSecurityGroupId(stack, `SecurityGroup${i}`, id),
            ),
          },
        }
      : {}),
    groups: config.groups.map((g) => ({
      name: g.name,
      role: g.role,
      asgNames: g.asgNames,
      asgTags: g.asgTags,
      desiredReady: g.desiredReady,
      surplus: g.surplus,
      drainTimeout: Duration.seconds(g.drainTimeoutSeconds),
      joinTimeout: Duration.seconds(g.joinTimeoutSeconds),
      cooldown: Duration.seconds(g.cooldownSeconds),
      refreshSchedule: g.refreshSchedule,
      replenishInterval: Duration.seconds(g.replenishEverySeconds),
      ...(g.terminateHook
        ? {
            terminateHook: {
              heartbeatTimeout: Duration.seconds(g.terminateHook.heartbeatTimeoutSeconds),
              maxHeartbeats: g.terminateHook.maxHeartbeats,
            },
          }
        : {}),
      launchHook: g.launchHook,
      drain: g.drain,
      settleTime: Duration.seconds(g.settleSeconds),
      notReadyTimeout: Duration.seconds(g.notReadyTimeoutSeconds),
      repairMaxUnhealthy: g.repairMaxUnhealthy,
      ...(g.alarms ? { alarms: g.alarms } : {}),
      ...(g.maintenanceWindows ? { maintenanceWindows: g.maintenanceWindows } : {}),
      ...(g.replace ? { replace: g.replace } : {}),
      ...(g.maxNodeAgeDays !== undefined ? { maxNodeAgeDays: g.maxNodeAgeDays } : {}),
      ...(g.checkpoints ? { checkpoints: g.checkpoints } : {}),
    })),
  });
  if (vpc) {
    Validations.of(stack).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
      reason: 'Subnets imported by id only place the functions; nothing reads their route tables.',
    });
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, nodeManager };
}

/** A JSON syntax error with its line and column (JSON.parse gives a character position). */
export function jsonErrorAt(text: string, e: Error): string {
  const m = /at position (\d+)/.exec(e.message);
  if (!m) return e.message;
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${e.message.replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '')} at line ${line}, column ${column}`;
}

export function loadConfig(file: string): DeploymentConfig {
  let raw: unknown;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the node-manager configuration ${file}: ${(e as Error).message}`);
  }
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`the node-manager configuration ${file} is not valid JSON: ${jsonErrorAt(text, e as Error)}`);
  }
  return parseDeploymentConfig(raw, `configuration ${file}`);
}

if (require.main === module) {
  const app = new App();
  const file = (app.node.tryGetContext('config') as string | undefined) ?? process.env.NODE_MANAGER_CONFIG_FILE;
  if (!file) {
    console.error(
      'node-manager: no configuration. Pass one: npx cdk synth -c config=examples/config/kops.json (copy an example and edit it).',
    );
    process.exit(1);
  }
  try {
    buildApp(loadConfig(resolve(file)), app);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
  app.synth();
}
