import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { OperatorGroup } from '../lambdas/config';
import { STACK_OUTPUTS, type Workflow } from '../lambdas/workflows';

/** A mistake the operator can fix: printed as is (no stack trace), exit code 1 (2 for usage). */
export class CliError extends Error {
  readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface GlobalOptions {
  readonly stack?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
  readonly json?: boolean;
}

/** Where the CLI writes, and what it reads of its environment (tests give their own). */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Real time (the follow loop's polls); the simulator's clock is read through AWS's answers. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

/** The deployed node-manager the CLI talks to: its stack's outputs, and the AWS clients. */
export interface NodeManagerStack {
  readonly name: string;
  readonly region: string;
  readonly cluster: string;
  readonly leaseTable: string;
  readonly stateMachines: Readonly<Record<Workflow, string | undefined>>;
  readonly groups: readonly OperatorGroup[];
}

export interface Clients {
  readonly sfn: SFNClient;
  readonly dynamodb: DynamoDBClient;
  readonly autoscaling: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly cloudformation: CloudFormationClient;
}

/** The region: `--region`, AWS_REGION, AWS_DEFAULT_REGION, else the profile's (the SDK reads it). */
export function clientsFor(o: GlobalOptions, env: Io['env']): Clients {
  const region = o.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const config = {
    ...(region ? { region } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.endpointUrl ? { endpoint: o.endpointUrl } : {}),
    // The operator waits for an answer: one retry at most, then the error says what happened.
    maxAttempts: 2,
  };
  return {
    sfn: new SFNClient(config),
    dynamodb: new DynamoDBClient(config),
    autoscaling: new AutoScalingClient(config),
    ec2: new EC2Client(config),
    cloudformation: new CloudFormationClient(config),
  };
}

/** An AWS SDK error as the operator can act on it: no credentials, no region, no access. */
export function explainAwsError(e: unknown, o: GlobalOptions): Error {
  if (e instanceof CliError) return e;
  const err = e as { name?: string; message?: string };
  const message = err?.message ?? String(e);
  if (/Region is missing/i.test(message))
    return new CliError(
      'no AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), or give the profile one',
    );
  if (err?.name === 'CredentialsProviderError' || /Could not load credentials/i.test(message))
    return new CliError(
      'no AWS credentials: pass --profile, set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' +
        (o.profile ? ` (profile ${o.profile} gave none)` : ''),
    );
  if (err?.name === 'AccessDeniedException' || err?.name === 'AccessDenied' || err?.name === 'UnauthorizedOperation')
    return new CliError(`AWS refused: ${message} (attach the stack's OperatorPolicyArn output to you or your role)`);
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(message) || (e as { code?: string })?.code === 'ECONNREFUSED')
    return new CliError(`cannot reach AWS${o.endpointUrl ? ` at ${o.endpointUrl}` : ''}: ${message}`);
  return e instanceof Error ? e : new Error(message);
}

const outputOf = (s: Stack, key: string) => s.Outputs?.find((o) => o.OutputKey?.endsWith(key))?.OutputValue;
const isNodeManager = (s: Stack) =>
  outputOf(s, STACK_OUTPUTS.leaseTable) !== undefined && outputOf(s, STACK_OUTPUTS.refresh) !== undefined;

/** The node-manager stack: `--stack`, else the only one in the region (several: an error naming them). */
export async function findStack(c: Clients, o: GlobalOptions): Promise<NodeManagerStack> {
  const region = await c.cloudformation.config.region();
  let stacks: Stack[] = [];
  if (o.stack) {
    try {
      stacks = (await c.cloudformation.send(new DescribeStacksCommand({ StackName: o.stack }))).Stacks ?? [];
    } catch (e) {
      if ((e as { name?: string }).name === 'ValidationError')
        throw new CliError(`no stack ${o.stack} in ${region}: check --stack and --region`);
      throw e;
    }
    if (!stacks.some(isNodeManager))
      throw new CliError(`stack ${o.stack} in ${region} is not a node-manager stack (it has no LeaseTableName output)`);
  } else {
    let token: string | undefined;
    do {
      const page = await c.cloudformation.send(new DescribeStacksCommand({ NextToken: token }));
      stacks.push(...(page.Stacks ?? []).filter(isNodeManager));
      token = page.NextToken;
    } while (token);
    if (stacks.length === 0)
      throw new CliError(`no node-manager stack in ${region}: deploy one with cdk deploy, or pass --region / --stack`);
    if (stacks.length > 1)
      throw new CliError(
        `${stacks.length} node-manager stacks in ${region}: ${stacks.map((s) => s.StackName).join(', ')}; pass --stack <name>`,
      );
  }
  const s = stacks.find(isNodeManager)!;
  let groups: OperatorGroup[] = [];
  try {
    groups = JSON.parse(outputOf(s, STACK_OUTPUTS.groups) ?? '[]') as OperatorGroup[];
  } catch {
    throw new CliError(`stack ${s.StackName}'s Groups output is not JSON: redeploy it with this release`);
  }
  return {
    name: s.StackName ?? '',
    region,
    cluster: outputOf(s, STACK_OUTPUTS.cluster) ?? '',
    leaseTable: outputOf(s, STACK_OUTPUTS.leaseTable)!,
    stateMachines: {
      refresh: outputOf(s, STACK_OUTPUTS.refresh),
      replenish: outputOf(s, STACK_OUTPUTS.replenish),
      interruption: outputOf(s, STACK_OUTPUTS.interruption),
    },
    groups,
  };
}

/** The group named, or an error naming the stack's groups. */
export function groupOf(stack: NodeManagerStack, name: string): OperatorGroup {
  const g = stack.groups.find((x) => x.name === name);
  if (!g)
    throw new CliError(
      `no group ${name} in stack ${stack.name}; its groups: ${stack.groups.map((x) => x.name).join(', ') || '(none)'}`,
    );
  return g;
}
