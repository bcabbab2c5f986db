import type { SnsMessage } from './aws/sns';
import type { Role } from '../lambdas/core';
import { ApiServer } from './kube/apiserver';
import { AwsDispatch, installAws } from './aws/install';
import { AwsWireServer } from './aws/wire/server';
import type { SimStack } from './aws/cloudformation';
import { StepFunctionsModel } from './aws/executions';
import { Random, VirtualClock } from './clock';
import { Cluster } from './kube/cluster';
import type { Quantities, WorkloadSpec } from './kube/model';
import type { UserInfo } from './kube/rbac';
import { EventBus } from './events';
import { Identity, NODE_MANAGER_TOKEN, NODE_MANAGER_USER } from './identity';
import { Meter } from './meter';
import { Tables } from './aws/tables';
import type { Fault } from './faults';
import { DEFAULT_TIMING, type PresetMember, type SimAsg, type SimTiming } from './aws/model';
import { Region } from './aws/region';

export interface SimulatorOptions {
  readonly region?: string;
  /** Virtual start time (epoch ms). */
  readonly startAt?: number;
  readonly seed?: number;
  readonly timing?: Partial<SimTiming>;
  /** The cluster's name (kops `example.k8s.local`, or the EKS cluster name). */
  readonly clusterName?: string;
  /** The API server's port on 127.0.0.1. @default any free port */
  readonly apiPort?: number;
  /**
   * Serve the simulated AWS APIs over HTTP on 127.0.0.1 at this port (0: any free port).
   * @default not served
   */
  readonly awsPort?: number;
  /**
   * The SDK clients of this process go over the wire (`AWS_ENDPOINT_URL` is set to the served
   * endpoint) rather than the in-process route: the SDK's own serialization is exercised. Needs `awsPort`.
   * @default false
   */
  readonly awsOverWire?: boolean;
  /** The RBAC manifests the operator applied. @default deploy/rbac.yaml and deploy/rbac-kops.yaml */
  readonly rbacManifests?: readonly string[];
}

export interface NodeGroupSpec {
  readonly name: string;
  readonly role: Role;
  readonly zones: readonly string[];
  /** Each ASG's starting desired capacity. */
  readonly perZone: number;
  /** Each ASG's MaxSize (kops sets it to the desired). @default perZone */
  readonly maxPerZone?: number;
  /** Each ASG's MinSize. @default perZone */
  readonly minPerZone?: number;
  readonly instanceTypes?: readonly string[];
  readonly lifecycle?: 'spot' | 'on-demand';
  /** How old the starting instances are. @default 10 */
  readonly instanceAgeDays?: number;
  /** A termination lifecycle hook on each ASG (as the stack creates it). */
  readonly terminateHook?: {
    readonly name: string;
    readonly heartbeatTimeout: number;
    readonly defaultResult: 'CONTINUE' | 'ABANDON';
  };
  /** A launch lifecycle hook on each ASG (heartbeat timeout in seconds). */
  readonly launchHook?: {
    readonly name: string;
    readonly heartbeatTimeout: number;
    readonly defaultResult: 'CONTINUE' | 'ABANDON';
  };
  /**
   * The group's ASGs as a snapshot read them (names, zones, sizes, the very members): instead of one
   * ASG per zone of `perZone` generated instances.
   */
  readonly asgs?: ReadonlyArray<{
    readonly name: string;
    readonly zones: readonly string[];
    readonly desired: number;
    readonly min: number;
    readonly max: number;
    readonly instanceTypes?: readonly string[];
    readonly members: readonly PresetMember[];
  }>;
  /** ASG Capacity Rebalancing on. @default false */
  readonly capacityRebalance?: boolean;
  /** What each node reports allocatable. @default DEFAULT_ALLOCATABLE (an m5.large) */
  readonly allocatable?: Quantities;
}

/** The simulated account. */
export const SIM_ACCOUNT = '123456789012';

/** Tag that names the node group an ASG belongs to (for tag selectors). */
export const GROUP_TAG = 'node-manager.io/group';

/**
 * One simulated AWS region and Kubernetes cluster on a virtual clock: the composition root. The
 * world (region, cluster, tables, executions), its bookkeeping (the meter), the event bus and
 * identity are separate parts, each given only what it reads. The real SDK clients reach the
 * region through aws-sdk-client-mock (every client instance), the real client-node the cluster
 * through HTTPS on 127.0.0.1, so adapters and handlers run unchanged. This class builds the
 * world and acts on it as a scenario does (node groups, workloads, faults, Spot reclaims).
 */
export class Simulator {
  readonly clock: VirtualClock;
  readonly rng: Random;
  readonly timing: SimTiming;
  readonly region: Region;
  readonly cluster: Cluster;
  readonly tables = new Tables();
  readonly stepFunctions: StepFunctionsModel;
  readonly meter: Meter;
  readonly bus: EventBus;
  readonly identity: Identity;
  readonly clusterName: string;
  readonly apiServer: ApiServer;
  /** The deployed stacks DescribeStacks shows (the scenario runner deploys node-manager's). */
  readonly stacks = new Map<string, SimStack>();
  /** SNS topics (the stack's alarm topic) and what was published to each. */
  readonly topics = new Map<string, SnsMessage[]>();
  /** The simulated AWS APIs over HTTP, when served. */
  awsServer?: AwsWireServer;
  private uninstall?: () => void;
  private restoreEnv?: () => void;

  private constructor(options: SimulatorOptions) {
    this.clock = new VirtualClock(options.startAt ?? Date.UTC(2026, 10, 1, 0, 0, 0));
    this.rng = new Random(options.seed ?? 1);
    this.timing = { ...DEFAULT_TIMING, ...(options.timing ?? {}) };
    this.clusterName = options.clusterName ?? 'example.k8s.local';
    const now = () => this.clock.now();
    this.stepFunctions = new StepFunctionsModel(now);
    this.meter = new Meter({ now, random: () => this.rng.next(), groupOfTarget: (t) => this.groupOfTarget(t) });
    this.cluster = new Cluster(this.clock, this.rng, this.timing);
    const regionName = options.region ?? 'ap-northeast-1';
    this.bus = new EventBus(regionName, SIM_ACCOUNT, this.rng);
    this.region = new Region(
      regionName,
      this.clock,
      this.rng,
      this.timing,
      {
        booted: (inst, preexisting) => this.cluster.instanceBooted(inst, preexisting),
        stopping: (inst) => this.cluster.instanceStopping(inst),
        started: (inst) => this.cluster.instanceStarted(inst),
        terminated: (inst) => this.cluster.instanceTerminated(inst),
      },
      (zone, type, lifecycle) => this.meter.launchFailure(zone, type, lifecycle),
      (source, detailType, detail) => this.bus.emit({ at: now(), source, detailType, detail }),
    );
    this.identity = new Identity({
      now,
      regionName,
      clusterName: this.clusterName,
      account: SIM_ACCOUNT,
      apiUrl: () => this.apiServer.url,
    });
    this.apiServer = new ApiServer({
      ...(options.rbacManifests ? { rbacManifests: options.rbacManifests } : {}),
      cluster: this.cluster,
      now,
      kubeCall: (op, port) => this.meter.kubeCall(op, port),
      audit: (op, target, port, outcome, change) =>
        this.meter.recordMutation('kube', op, target, this.meter.context.ofPort(port), outcome, change),
      authenticate: (token) => this.identity.authenticate(token),
    });
  }

  /** Starts the API server and routes every AWS SDK client to this simulator. */
  static async start(options: SimulatorOptions = {}): Promise<Simulator> {
    const sim = new Simulator(options);
    await sim.apiServer.start(options.apiPort ?? 0);
    sim.meter.context.install();
    const dispatch = new AwsDispatch(
      {
        region: sim.region,
        tables: sim.tables,
        stepFunctions: sim.stepFunctions,
        eksClusters: sim.identity.eksClusters,
        secrets: sim.identity.secrets,
        stacks: sim.stacks,
        topics: sim.topics,
        rng: sim.rng,
        account: SIM_ACCOUNT,
        now: () => sim.now(),
        noteAsgChange: (asg, what, from, to) => sim.meter.noteAsgChange(asg, what, from, to),
      },
      sim.meter,
    );
    if (options.awsPort !== undefined) {
      sim.awsServer = new AwsWireServer(dispatch, () => sim.now());
      await sim.awsServer.start(options.awsPort);
      if (options.awsOverWire) {
        const before = process.env.AWS_ENDPOINT_URL;
        process.env.AWS_ENDPOINT_URL = sim.awsServer.url;
        sim.restoreEnv = () => {
          if (before === undefined) delete process.env.AWS_ENDPOINT_URL;
          else process.env.AWS_ENDPOINT_URL = before;
        };
      }
    }
    // Over the wire, only EKS (not served) keeps the in-process route.
    const uninstallAws = installAws(
      dispatch,
      options.awsOverWire && sim.awsServer
        ? ['autoscaling', 'ec2', 'dynamodb', 'sfn', 'secretsmanager', 'cloudformation']
        : [],
    );
    sim.uninstall = () => {
      uninstallAws();
      sim.meter.context.uninstall();
    };
    const key = process.env.AWS_ACCESS_KEY_ID ?? 'AKIASIMULATOR0000000';
    sim.identity.credentials.set(key, {
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'simulator-secret-key',
      sessionToken: process.env.AWS_SESSION_TOKEN,
    });
    return sim;
  }

  async stop(): Promise<void> {
    this.uninstall?.();
    this.uninstall = undefined;
    await this.awsServer?.stop();
    this.restoreEnv?.();
    await this.apiServer.stop();
  }

  now(): number {
    return this.clock.now();
  }

  advance(seconds: number): void {
    this.clock.advance(seconds);
  }

  // ---- building the world -------------------------------------------------------------------

  /** One ASG per zone, as kops lays out an instance group; returns the ASG names. */
  addNodeGroup(spec: NodeGroupSpec): string[] {
    const names: string[] = [];
    const ageMs = (spec.instanceAgeDays ?? 10) * 86_400_000;
    if (spec.allocatable) this.cluster.allocatable.set(spec.name, spec.allocatable);
    const layouts = spec.asgs
      ? spec.asgs.map((a) => ({ ...a, instanceGroup: a.name, options: { members: a.members } }))
      : spec.zones.map((zone, z) => ({
          name:
            spec.role === 'control-plane'
              ? `${spec.name}-${zone}.masters.${this.clusterName}`
              : `${spec.name}-${zone}.${this.clusterName}`,
          zones: [zone],
          desired: spec.perZone,
          min: spec.minPerZone ?? spec.perZone,
          max: spec.maxPerZone ?? spec.perZone,
          instanceTypes: spec.instanceTypes,
          instanceGroup: `${spec.name}-${zone}`,
          // Stagger launch times so that "oldest first" is well defined.
          options: { launchedAt: this.now() - ageMs + z * 600_000, ageSpreadMs: 60_000 },
        }));
    for (const l of layouts) {
      const asg = this.region.createAsg(
        {
          name: l.name,
          zones: l.zones,
          desired: l.desired,
          min: l.min,
          max: l.max,
          instanceTypes: [...(l.instanceTypes ?? spec.instanceTypes ?? ['m5.large'])],
          lifecycle: spec.lifecycle ?? 'spot',
          role: spec.role,
          nodeGroup: spec.name,
          tags: {
            KubernetesCluster: this.clusterName,
            [`kubernetes.io/cluster/${this.clusterName}`]: 'owned',
            'kops.k8s.io/instancegroup': l.instanceGroup,
            [GROUP_TAG]: spec.name,
            ...(spec.role === 'control-plane' ? { 'k8s.io/role/control-plane': '1' } : { 'k8s.io/role/node': '1' }),
          },
        },
        l.options,
      );
      if (spec.terminateHook)
        asg.hooks.push({
          name: spec.terminateHook.name,
          transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeout: spec.terminateHook.heartbeatTimeout,
          defaultResult: spec.terminateHook.defaultResult,
        });
      if (spec.launchHook)
        asg.hooks.push({
          name: spec.launchHook.name,
          transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          heartbeatTimeout: spec.launchHook.heartbeatTimeout,
          defaultResult: spec.launchHook.defaultResult,
        });
      asg.capacityRebalance = spec.capacityRebalance ?? false;
      names.push(asg.name);
    }
    return names;
  }

  asgsOf(group: string): SimAsg[] {
    return [...this.region.asgs.values()]
      .filter((a) => a.nodeGroup === group)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  addWorkload(spec: WorkloadSpec): void {
    this.cluster.addWorkload(spec);
  }

  createTable(name: string, hashKey = 'group', ttlAttribute?: string): void {
    this.tables.create(name, hashKey, ttlAttribute);
  }

  /** An EKS cluster whose endpoint is this simulator's API server. */
  registerEksCluster(name = this.clusterName): void {
    this.identity.registerEksCluster(name);
  }

  /**
   * A kubeconfig pointing at the API server with a static token. By default it is node-manager's
   * own (kops: the kubeconfig stored in Secrets Manager), which authenticates as the
   * `kube-system/node-manager` service account that `deploy/rbac-kops.yaml` binds to the role of
   * `deploy/rbac.yaml`, and no more.
   */
  kubeconfig(token = NODE_MANAGER_TOKEN, user: UserInfo = NODE_MANAGER_USER): string {
    return this.identity.kubeconfig(token, user);
  }

  /** An administrator's kubeconfig (system:masters), as an operator's kubectl has. */
  adminKubeconfig(): string {
    return this.identity.kubeconfig('cluster-admin-token', {
      name: 'kubernetes-admin',
      groups: ['system:masters', 'system:authenticated'],
    });
  }

  putSecret(id: string, value: string | (() => string)): void {
    this.identity.putSecret(id, value);
  }

  // ---- faults -------------------------------------------------------------------------------

  armFault(fault: Fault): void {
    this.meter.arm(fault);
  }

  /** The next `count` instances launched in the group (and zone) never join the cluster. */
  armNeverJoin(count: number, group?: string, zone?: string): void {
    this.region.armNeverJoin(count, group, zone);
  }

  /** The workload's PodDisruptionBudget refuses every eviction for `seconds`. */
  blockBudget(namespace: string, workload: string, seconds: number): void {
    this.cluster.blockedBudgets.set(`${namespace}/${workload}`, this.now() + seconds * 1000);
  }

  /** The node group a call's target (`asg/…`, `instance/…`, `node/…`, `pod/…`, `item/…`) belongs to. */
  private groupOfTarget(target: string): string | null {
    const [kind, rest = ''] =
      target.split(/[/=]/, 2).length === 2
        ? [target.slice(0, target.search(/[/=]/)), target.slice(target.search(/[/=]/) + 1)]
        : [target];
    const first = rest.split(/[ ,]/)[0];
    switch (kind) {
      case 'asg':
        return this.region.asgs.get(first)?.nodeGroup ?? null;
      case 'instance':
      case 'instances':
        return this.region.instances.get(first)?.nodeGroup ?? null;
      case 'node':
        return this.cluster.nodes.get(first)?.nodeGroup ?? null;
      case 'pod': {
        const pod = this.cluster.pods.get(rest);
        return (pod?.nodeName && this.cluster.nodes.get(pod.nodeName)?.nodeGroup) || null;
      }
      case 'item':
        return rest.split('/').slice(1).join('/') || null;
      case 'event':
        // An Event is the group's whose node it is about (`event/node/<name>`).
        return rest.startsWith('node/') ? (this.cluster.nodes.get(rest.slice(5))?.nodeGroup ?? null) : null;
      default:
        return null;
    }
  }
}
