import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../lib/config';
import { InvalidConfigError } from '../lib/settings';
import { AutoScalingPort } from './aws/autoscaling';
import { Ec2Port } from './aws/ec2';
import { EksPort, EksTokenSource, SecretsPort } from './aws/eks';
import { LeaseStore } from './aws/lease';
import { StepFunctionsPort } from './aws/stepfunctions';
import { eksApiProvider, kubeconfigApiProvider } from './kube/client';
import { KubePort } from './kube/port';

/** Everything a handler needs from outside: configuration, ports, and the clock. */
export interface Deps {
  readonly config: Config;
  readonly autoscaling: AutoScalingPort;
  readonly ec2: Ec2Port;
  readonly sfn: StepFunctionsPort;
  readonly lease: LeaseStore;
  /** The API server port, built on first use (EKS DescribeCluster or the kubeconfig secret). */
  kube(): Promise<KubePort>;
  now(): number;
  /** Waits inside the invocation (short waits only: a step never sleeps near its timeout). */
  sleep(ms: number): Promise<void>;
}

/** Builds the ports from SDK clients; the clients come from outside so that they are made once per container. */
export function makeDeps(config: Config, now: () => number = Date.now, sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Deps {
  const region = config.cluster.region;
  const autoscaling = new AutoScalingPort(new AutoScalingClient({ region }));
  // Loaded on first use, not at cold start (see aws/lazy.ts); Auto Scaling and DynamoDB serve every step.
  /* eslint-disable @typescript-eslint/no-require-imports -- deliberately late */
  const ec2 = new Ec2Port(() => new (require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2')).EC2Client({ region }));
  const sfn = new StepFunctionsPort(() => new (require('@aws-sdk/client-sfn') as typeof import('@aws-sdk/client-sfn')).SFNClient({ region }));
  const lease = new LeaseStore(new DynamoDBClient({ region }), config.leaseTable);
  let kube: Promise<KubePort> | undefined;
  const buildKube = async (): Promise<KubePort> => {
    const access = config.cluster.access;
    if (access.kind === 'eks') {
      const cluster = await new EksPort(new (require('@aws-sdk/client-eks') as typeof import('@aws-sdk/client-eks')).EKSClient({ region })).describeCluster(access.clusterName);
      const { defaultProvider } = require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
      const tokens = new EksTokenSource(access.clusterName, region, defaultProvider(), now);
      return new KubePort(eksApiProvider(cluster, tokens));
    }
    const secrets = new (require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({ region });
    const yaml = await new SecretsPort(secrets).getSecretString(access.secretId);
    return new KubePort(kubeconfigApiProvider(yaml));
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return {
    config,
    autoscaling,
    ec2,
    sfn,
    lease,
    kube: () => {
      // A failed build (throttled, secret missing) is not cached: the next call tries again.
      kube ??= buildKube().catch((e: unknown) => {
        kube = undefined;
        throw e;
      });
      return kube;
    },
    now,
    sleep,
  };
}

let lambdaDeps: Deps | undefined;

/**
 * The configuration as the stack inlines it: validated when the stack was synthesized (the zod
 * schema of lib/config.ts, defaults applied), so the function does not carry zod to validate it
 * again; this shape check only catches a bundle built some other way, naming what is missing.
 */
export function bundledConfig(raw: unknown): Config {
  const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof Config, unknown>>;
  const cluster = (c.cluster ?? {}) as Record<string, unknown>;
  const missing = [
    ...(typeof cluster.name === 'string' && typeof cluster.region === 'string' && typeof cluster.access === 'object' ? [] : ['cluster (name, region, access)']),
    ...(typeof c.leaseTable === 'string' ? [] : ['leaseTable']),
    ...(typeof c.historyEventBudget === 'number' ? [] : ['historyEventBudget']),
    ...(Array.isArray(c.groups) && c.groups.length > 0 ? [] : ['groups']),
    ...(Array.isArray(c.groups) ? c.groups : []).flatMap((g: Record<string, unknown>, i) =>
      ['name', 'role', 'desiredReady', 'surplus', 'drainTimeoutSeconds', 'joinTimeoutSeconds', 'cooldownSeconds'].filter((k) => g[k] === undefined).map((k) => `groups.${i}.${k}`),
    ),
  ];
  if (missing.length) throw new InvalidConfigError(`the inlined configuration is not one the stack wrote (synthesize with the CDK app): missing ${missing.join(', ')}`);
  return raw as Config;
}

/**
 * The Lambda container's dependencies, made once. The configuration is inlined into the bundle at
 * deploy time (esbuild `define` of `process.env.NODE_MANAGER_CONFIG`), so its size is not bound by
 * Lambda's 4 KB environment limit; the lease table's name, known only once deployed, comes from
 * the environment.
 */
export function depsFromEnvironment(): Deps {
  if (!lambdaDeps) {
    const inline = process.env.NODE_MANAGER_CONFIG;
    if (!inline) throw new InvalidConfigError('no configuration: NODE_MANAGER_CONFIG is inlined into the bundle when the stack is synthesized');
    const raw = JSON.parse(inline) as Record<string, unknown>;
    const table = process.env.NODE_MANAGER_LEASE_TABLE;
    lambdaDeps = makeDeps(bundledConfig(table ? { ...raw, leaseTable: table } : raw));
  }
  return lambdaDeps;
}
