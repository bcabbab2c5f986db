import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
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
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use (see Ec2Port)
  const ec2 = new Ec2Port(() => new (require('@aws-sdk/client-ec2') as { EC2Client: typeof EC2Client }).EC2Client({ region }));
  const sfn = new StepFunctionsPort(new SFNClient({ region }));
  const lease = new LeaseStore(new DynamoDBClient({ region }), config.leaseTable);
  let kube: Promise<KubePort> | undefined;
  const buildKube = async (): Promise<KubePort> => {
    const access = config.cluster.access;
    if (access.kind === 'eks') {
      const cluster = await new EksPort(new EKSClient({ region })).describeCluster(access.clusterName);
      const tokens = new EksTokenSource(access.clusterName, region, defaultProvider(), now);
      return new KubePort(eksApiProvider(cluster, tokens));
    }
    const yaml = await new SecretsPort(new SecretsManagerClient({ region })).getSecretString(access.secretId);
    return new KubePort(kubeconfigApiProvider(yaml));
  };
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
