import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { InvalidConfigError, type Config } from '../../lambdas/config';
import { filesOf, WORKFLOWS, type Workflow } from '../../lambdas/workflows';
import { BUNDLE, inlinedConfigDefine, LAMBDA_ALIASES } from '../bundling';

const ROOT = join(__dirname, '..', '..');

export interface WorkflowPartsProps {
  readonly role: iam.IRole;
  readonly retention: logs.RetentionDays;
  /** The handlers' configuration, inlined into each bundle. */
  readonly config: Config;
  readonly clusterName: string;
  readonly leaseTableName: string;
  /** The topic the summaries go to (absent: no summaries). */
  readonly summaryTopicArn?: string;
  readonly names: Readonly<Record<Workflow, string>>;
  readonly vpcPlacement?: {
    readonly vpc: ec2.IVpc;
    readonly subnets?: ec2.SubnetSelection;
    readonly securityGroups?: ec2.ISecurityGroup[];
  };
}

/** A function that is not a workflow's own (the interruption gate): its entry, role and size. */
export interface FunctionOverrides {
  /** Relative to the project root. @default the workflow's own (lambdas/<name>/handler.ts) */
  readonly entry?: string;
  readonly role?: iam.IRole;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly environment?: Readonly<Record<string, string>>;
  readonly description?: string;
  readonly deadLetterQueue?: sqs.IQueue;
  /** Placed in the VPC with the others (the gate never reaches the API server, only AWS's public APIs). @default true */
  readonly inVpc?: boolean;
}

/**
 * What every workflow is made of: its Lambda function (one per workflow, serving each of its
 * steps) with its own log group, and its state machine from `statemachines/<name>.asl.json`.
 */
export interface WorkflowParts {
  fn(name: string, overrides?: FunctionOverrides): lambda.Function;
  machine(name: Workflow, f: lambda.IFunction): sfn.StateMachine;
}

/** A function without an entry of its own is a workflow's. */
function workflowNamed(name: string): Workflow {
  const w = WORKFLOWS.find((x) => x === name);
  if (!w) throw new InvalidConfigError(`function ${name} is no workflow's (${WORKFLOWS.join(', ')}): give its entry`);
  return w;
}

export function workflowParts(scope: Construct, p: WorkflowPartsProps): WorkflowParts {
  // checkov, on the functions and their logs, justified rather than changed:
  // - CKV_AWS_116 (no DLQ): Step Functions invokes them synchronously, retries and catches; a
  //   Lambda DLQ applies to asynchronous invocations only. The schedules and rules have one.
  // - CKV_AWS_117 (not in a VPC): optional (`vpcPlacement`), for private API server endpoints.
  // - CKV_AWS_115 (no reserved concurrency): the lease serializes work per group, so concurrency
  //   stays at a few per group; a reservation would only take from the account's pool.
  // - CKV_AWS_173 (environment not KMS-encrypted): it holds the table name and NODE_OPTIONS; the
  //   configuration is inlined in the code and no secret is ever in either.
  // - CKV_AWS_158 (log groups without KMS): logs hold step outputs (names, counts), never the
  //   kubeconfig or a token (tested with a marker token); encrypted by CloudWatch Logs itself.
  const fn = (name: string, o: FunctionOverrides = {}) => {
    const role = o.role ?? p.role;
    const logGroup = new logs.LogGroup(scope, `${name}Logs`, {
      retention: p.retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The role is our own (no AWSLambdaBasicExecutionRole): without this a crash or a timeout of
    // a deployed step would leave no log. Streams of this function's own log group, nothing else.
    logGroup.grantWrite(role);
    const f = new NodejsFunction(scope, `${name}Function`, {
      entry: join(ROOT, o.entry ?? filesOf(workflowNamed(name)).entry),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: o.memorySize ?? 512,
      timeout: o.timeout ?? Duration.minutes(5),
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      description: o.description ?? `node-manager ${name} steps for cluster ${p.clusterName}`,
      ...(o.deadLetterQueue ? { deadLetterQueue: o.deadLetterQueue } : {}),
      // The region the handlers' SDK clients use comes from the Lambda environment (AWS_REGION).
      environment: {
        NODE_MANAGER_LEASE_TABLE: p.leaseTableName,
        ...(p.summaryTopicArn ? { NODE_MANAGER_SUMMARY_TOPIC: p.summaryTopicArn } : {}),
        NODE_OPTIONS: '--enable-source-maps',
        ...(o.environment ?? {}),
      },
      bundling: {
        minify: BUNDLE.minify,
        sourceMap: true,
        target: BUNDLE.target,
        format: OutputFormat.CJS,
        externalModules: [...BUNDLE.external],
        define: inlinedConfigDefine(p.config, Stack.of(scope).region),
        // Paths relative to the project root, where the bundling runs (locally or in Docker).
        esbuildArgs: Object.fromEntries(
          Object.entries(LAMBDA_ALIASES).map(([from, to]) => ['--alias', `${from}=${to}`]),
        ),
      },
      ...(p.vpcPlacement && o.inVpc !== false
        ? { vpc: p.vpcPlacement.vpc, vpcSubnets: p.vpcPlacement.subnets, securityGroups: p.vpcPlacement.securityGroups }
        : {}),
    });
    return f;
  };
  const machine = (name: Workflow, f: lambda.IFunction) => {
    const logGroup = new logs.LogGroup(scope, `${name}ExecutionLogs`, {
      retention: p.retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const sm = new sfn.StateMachine(scope, `${name}StateMachine`, {
      stateMachineName: p.names[name],
      // Inlined (not an S3 asset): the template carries the repository's ASL file verbatim.
      definitionBody: sfn.DefinitionBody.fromString(readFileSync(join(ROOT, filesOf(name).asl), 'utf8')),
      definitionSubstitutions: { [`${name.charAt(0).toUpperCase()}${name.slice(1)}FunctionArn`]: f.functionArn },
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    f.grantInvoke(sm);
    return sm;
  };
  return { fn, machine };
}
