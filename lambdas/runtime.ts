import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inlinedConfig, type Config } from './config';
import { AutoScalingPort } from './aws/autoscaling';
import { Ec2Port } from './aws/ec2';
import { EksPort, EksTokenSource, SecretsPort } from './aws/eks';
import { LeaseStore } from './aws/lease-store';
import { PauseStore } from './aws/pause-store';
import { StepFunctionsPort } from './aws/stepfunctions';
import { eksApiProvider, kubeconfigApiProvider } from './kube/client';
import { KubePort } from './kube/port';
import { sdk } from './aws/lazy';
import { stdoutSink, type EmfSink } from './aws/metrics';
import { SummaryPort } from './aws/summaries';
import { NO_MEASURES, type Measures } from './core';

/** Everything a handler needs from outside: configuration, ports, and the clock. */
export interface Deps {
  readonly config: Config;
  readonly autoscaling: AutoScalingPort;
  readonly ec2: Ec2Port;
  readonly sfn: StepFunctionsPort;
  readonly lease: LeaseStore;
  /** The pause and the circuit breaker's alarm states on the lease items (written whoever holds the lease). */
  readonly pauses: PauseStore;
  /** The API server port, built on first use (EKS DescribeCluster or the kubeconfig secret). */
  kube(): Promise<KubePort>;
  now(): number;
  /** What this invocation did, counted (core/metrics.ts); the dispatcher gives each invocation its own. */
  readonly metrics: Measures;
  /** The summaries people read, to the stack's topic. */
  readonly summaries: SummaryPort;
  /** Where an invocation's metrics go once it ends (stdout in Lambda, the report in the simulator). */
  readonly emf: EmfSink;
  /** Waits inside the invocation (short waits only: a step never sleeps near its timeout). */
  sleep(ms: number): Promise<void>;
}

/** Builds the ports from SDK clients; the clients come from outside so that they are made once per container. */
export function makeDeps(
  config: Config,
  now: () => number = Date.now,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  emf: EmfSink = stdoutSink,
): Deps {
  const region = config.cluster.region;
  const autoscaling = new AutoScalingPort(new AutoScalingClient({ region }));
  // Loaded on first use, not at cold start (see aws/lazy.ts); Auto Scaling and DynamoDB serve every step.
  const ec2 = new Ec2Port(() => new (sdk.ec2().EC2Client)({ region }));
  const sfn = new StepFunctionsPort(() => new (sdk.sfn().SFNClient)({ region }));
  const dynamodb = new DynamoDBClient({ region });
  const lease = new LeaseStore(dynamodb, config.leaseTable);
  const summaries = new SummaryPort(() => new (sdk.sns().SNSClient)({ region }), config.summaryTopic);
  const pauses = new PauseStore(dynamodb, config.leaseTable);
  let kube: Promise<KubePort> | undefined;
  const buildKube = async (): Promise<KubePort> => {
    const access = config.cluster.access;
    if (access.kind === 'eks') {
      const cluster = await new EksPort(new (sdk.eks().EKSClient)({ region })).describeCluster(access.clusterName);
      const { defaultProvider } = sdk.credentials();
      const tokens = new EksTokenSource(access.clusterName, region, defaultProvider(), now);
      return new KubePort(eksApiProvider(cluster, tokens));
    }
    const secrets = new (sdk.secrets().SecretsManagerClient)({ region });
    const yaml = await new SecretsPort(secrets).getSecretString(access.secretId);
    return new KubePort(kubeconfigApiProvider(yaml));
  };
  return {
    config,
    autoscaling,
    ec2,
    sfn,
    lease,
    pauses,
    kube: () => {
      // A failed build (throttled, secret missing) is not cached: the next call tries again.
      kube ??= buildKube().catch((e: unknown) => {
        kube = undefined;
        throw e;
      });
      return kube;
    },
    now,
    metrics: NO_MEASURES,
    summaries,
    emf,
    sleep,
  };
}

let lambdaDeps: Deps | undefined;

/** The Lambda container's dependencies, made once (the configuration is inlined into the bundle, see config.ts). */
export function depsFromEnvironment(): Deps {
  lambdaDeps ??= makeDeps(inlinedConfig());
  return lambdaDeps;
}
