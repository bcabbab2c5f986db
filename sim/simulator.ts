import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Role } from '../lambdas/core';
import { ApiServer, SIM_CA_PEM } from './kube/apiserver';
import type { UserInfo } from './kube/rbac';
import { SimAws } from './aws/install';
import { Random, VirtualClock } from './clock';
import { Cluster, type WorkloadSpec } from './kube/cluster';
import { InvocationContext, type Invocation } from './workflows/context';
import { Tables } from './aws/tables';
import { INSUFFICIENT_CAPACITY, INSUFFICIENT_ON_DEMAND, isActive, type Fault } from './faults';
import { DEFAULT_TIMING, Region, type SimAsg, type SimTiming } from './aws/region';

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
  /** ASG Capacity Rebalancing on. @default false */
  readonly capacityRebalance?: boolean;
}

/** An EventBridge event as a rule's target receives it. */
export interface EventBridgeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Record<string, string>;
}

export interface SimExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  readonly startDate: number;
  stopDate?: number;
  readonly input: string;
}

/** An EventBridge event as AWS would deliver it (the parts rules match on). */
export interface SimEvent {
  readonly at: number;
  readonly source: 'aws.autoscaling' | 'aws.ec2';
  readonly detailType: string;
  readonly detail: Readonly<Record<string, string>>;
}

/** One mutating call, as an auditor reads a run: when, what, on what, by which execution and step, and how it ended. */
export interface AuditEntry {
  readonly at: number;
  readonly api: 'aws' | 'kube';
  readonly operation: string;
  readonly target: string;
  /** The node group the target belongs to, when it belongs to one. */
  readonly group: string | null;
  readonly execution: string | null;
  readonly step: string | null;
  readonly outcome: string;
  /** A node patch: what it changed (cordon, uncordon, taint KEY, untaint KEY). */
  readonly change?: string;
}

export interface AsgChange {
  readonly at: number;
  readonly asg: string;
  readonly what: 'desired' | 'min' | 'max' | 'terminateWithDecrement';
  readonly from: number;
  readonly to: number;
}

/** node-manager's identity on a kops cluster: the service account `deploy/rbac-kops.yaml` binds. */
export const NODE_MANAGER_TOKEN = 'node-manager-sa-token';
export const NODE_MANAGER_USER: UserInfo = {
  name: 'system:serviceaccount:kube-system:node-manager',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};

/** The simulated account. */
export const SIM_ACCOUNT = '123456789012';

/** Tag that names the node group an ASG belongs to (for tag selectors). */
export const GROUP_TAG = 'node-manager.io/group';

/**
 * One simulated AWS region and Kubernetes cluster on a virtual clock. The real SDK clients reach
 * it through aws-sdk-client-mock (every client instance), the real client-node through HTTPS on
 * 127.0.0.1, so adapters and handlers run unchanged. It counts every call by operation.
 */
export class Simulator {
  readonly clock: VirtualClock;
  readonly rng: Random;
  readonly timing: SimTiming;
  readonly region: Region;
  readonly cluster: Cluster;
  readonly tables = new Tables();
  readonly executions = new Map<string, SimExecution>();
  /** The state machines StartExecution may name (the runner registers its workflows). */
  readonly stateMachines = new Set<string>();
  /** How StartExecution starts an execution (the runner's): set once the runner is built. */
  onStartExecution?: (stateMachineArn: string, name: string, input: unknown) => SimExecution;
  readonly eksClusters = new Map<string, { endpoint: () => string; caData: string }>();
  readonly secrets = new Map<string, () => string>();
  readonly faults: Fault[] = [];
  readonly calls = { aws: {} as Record<string, number>, kube: {} as Record<string, number> };
  /** Every mutating AWS and Kubernetes call, in order. */
  readonly audit: AuditEntry[] = [];
  /** Which runner invocation makes each call (billing and the audit). */
  readonly context = new InvocationContext();
  readonly asgChanges: AsgChange[] = [];
  /** EventBridge events the region emitted (Auto Scaling launch failures and terminations, Spot warnings). */
  readonly events: SimEvent[] = [];
  private readonly eventListeners: Array<(e: SimEvent) => void> = [];
  /** Access keys the simulated STS knows (to verify EKS tokens). */
  readonly credentials = new Map<string, { secretAccessKey: string; sessionToken?: string }>();
  /** Static bearer tokens and who they are: the product's service account, and an administrator for kubectl. */
  readonly staticTokens = new Map<string, UserInfo>();
  readonly clusterName: string;
  readonly apiServer: ApiServer;
  private uninstall?: () => void;

  private constructor(options: SimulatorOptions) {
    this.clock = new VirtualClock(options.startAt ?? Date.UTC(2026, 10, 1, 0, 0, 0));
    this.rng = new Random(options.seed ?? 1);
    this.timing = { ...DEFAULT_TIMING, ...(options.timing ?? {}) };
    this.clusterName = options.clusterName ?? 'example.k8s.local';
    this.cluster = new Cluster(this.clock, this.rng, this.timing);
    this.region = new Region(
      options.region ?? 'ap-northeast-1',
      this.clock,
      this.rng,
      this.timing,
      {
        booted: (inst, preexisting) => this.cluster.instanceBooted(inst, preexisting),
        stopping: (inst) => this.cluster.instanceStopping(inst),
        started: (inst) => this.cluster.instanceStarted(inst),
        terminated: (inst) => this.cluster.instanceTerminated(inst),
      },
      (zone, type, lifecycle) => this.launchFailure(zone, type, lifecycle),
      (source, detailType, detail) => this.emit({ at: this.now(), source, detailType, detail }),
    );
    this.apiServer = new ApiServer({
      cluster: this.cluster,
      now: () => this.clock.now(),
      kubeCall: (op, port) => this.kubeCall(op, port),
      audit: (op, target, port, outcome, change) =>
        this.recordMutation('kube', op, target, this.context.ofPort(port), outcome, change),
      authenticate: (token) => this.authenticate(token),
    });
  }

  /** Starts the API server and routes every AWS SDK client to this simulator. */
  static async start(options: SimulatorOptions = {}): Promise<Simulator> {
    const sim = new Simulator(options);
    await sim.apiServer.start(options.apiPort ?? 0);
    sim.context.install();
    const uninstallAws = new SimAws(sim).install();
    sim.uninstall = () => {
      uninstallAws();
      sim.context.uninstall();
    };
    const key = process.env.AWS_ACCESS_KEY_ID ?? 'AKIASIMULATOR0000000';
    sim.credentials.set(key, {
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'simulator-secret-key',
      sessionToken: process.env.AWS_SESSION_TOKEN,
    });
    return sim;
  }

  async stop(): Promise<void> {
    this.uninstall?.();
    this.uninstall = undefined;
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
    spec.zones.forEach((zone, z) => {
      const name =
        spec.role === 'control-plane'
          ? `${spec.name}-${zone}.masters.${this.clusterName}`
          : `${spec.name}-${zone}.${this.clusterName}`;
      const asg = this.region.createAsg(
        {
          name,
          zones: [zone],
          desired: spec.perZone,
          min: spec.minPerZone ?? spec.perZone,
          max: spec.maxPerZone ?? spec.perZone,
          instanceTypes: spec.instanceTypes ?? ['m5.large'],
          lifecycle: spec.lifecycle ?? 'spot',
          role: spec.role,
          nodeGroup: spec.name,
          tags: {
            KubernetesCluster: this.clusterName,
            [`kubernetes.io/cluster/${this.clusterName}`]: 'owned',
            'kops.k8s.io/instancegroup': `${spec.name}-${zone}`,
            [GROUP_TAG]: spec.name,
            ...(spec.role === 'control-plane' ? { 'k8s.io/role/control-plane': '1' } : { 'k8s.io/role/node': '1' }),
          },
        },
        // Stagger launch times so that "oldest first" is well defined.
        { launchedAt: this.now() - ageMs + z * 600_000, ageSpreadMs: 60_000 },
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
    });
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
    this.eksClusters.set(name, {
      endpoint: () => this.apiServer.url,
      caData: Buffer.from(SIM_CA_PEM).toString('base64'),
    });
  }

  /**
   * A kubeconfig pointing at the API server with a static token. By default it is node-manager's
   * own (kops: the kubeconfig stored in Secrets Manager), which authenticates as the
   * `kube-system/node-manager` service account that `deploy/rbac-kops.yaml` binds to the role of `deploy/rbac.yaml`, and no more.
   */
  kubeconfig(token = NODE_MANAGER_TOKEN, user: UserInfo = NODE_MANAGER_USER): string {
    this.staticTokens.set(token, user);
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${this.clusterName}`,
      '  cluster:',
      `    server: ${this.apiServer.url}`,
      `    certificate-authority-data: ${Buffer.from(SIM_CA_PEM).toString('base64')}`,
      'users:',
      `- name: ${user.name.replace(/[^A-Za-z0-9._-]/g, '-')}`,
      '  user:',
      `    token: ${token}`,
      'contexts:',
      `- name: ${this.clusterName}`,
      '  context:',
      `    cluster: ${this.clusterName}`,
      `    user: ${user.name.replace(/[^A-Za-z0-9._-]/g, '-')}`,
      `current-context: ${this.clusterName}`,
      '',
    ].join('\n');
  }

  /** An administrator's kubeconfig (system:masters), as an operator's kubectl has. */
  adminKubeconfig(): string {
    return this.kubeconfig('cluster-admin-token', {
      name: 'kubernetes-admin',
      groups: ['system:masters', 'system:authenticated'],
    });
  }

  putSecret(id: string, value: string | (() => string)): void {
    this.secrets.set(id, typeof value === 'string' ? () => value : value);
  }

  startExecution(stateMachineArn: string, name: string, input: unknown = {}): SimExecution {
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const e: SimExecution = {
      executionArn,
      stateMachineArn,
      name,
      status: 'RUNNING',
      startDate: this.now(),
      input: JSON.stringify(input),
    };
    this.executions.set(executionArn, e);
    return e;
  }

  stopExecution(executionArn: string, status: SimExecution['status'] = 'ABORTED'): void {
    const e = this.executions.get(executionArn);
    if (!e) throw new Error(`no execution ${executionArn}`);
    e.status = status;
    e.stopDate = this.now();
  }

  /** Subscribes to events, as an EventBridge rule does. */
  onEvent(listener: (e: SimEvent) => void): void {
    this.eventListeners.push(listener);
  }

  private emit(e: SimEvent): void {
    this.events.push(e);
    for (const l of this.eventListeners) l(e);
  }

  /**
   * EC2 reclaims `count` running Spot instances of the group in the zone: the interruption warning
   * now, the termination two minutes later; their ASGs then replace them like any lost instance.
   */
  spotInterruption(group: string, zone: string, count: number): string[] {
    const victims = this.asgsOf(group)
      .flatMap((a) => a.instanceIds.map((id) => this.region.instances.get(id)!))
      .filter(
        (i) => i.zone === zone && i.lifecycle === 'spot' && i.state === 'running' && i.asgLifecycle === 'InService',
      )
      .slice(0, count);
    for (const inst of victims) {
      this.region.markSpotInterrupted(inst);
      this.emit({
        at: this.now(),
        source: 'aws.ec2',
        detailType: 'EC2 Spot Instance Interruption Warning',
        detail: { 'instance-id': inst.id, 'instance-action': 'terminate' },
      });
      this.clock.after(120, `${inst.id} reclaimed`, () => {
        inst.interrupted = true;
        this.region.terminateFromEc2(
          inst,
          'an instance was taken out of service in response to an EC2 instance status check failure (Spot interruption).',
        );
      });
    }
    return victims.map((v) => v.id);
  }

  /**
   * Someone stops `count` running on-demand instances of the group in the zone (StopInstances; a
   * Spot instance of a one-time request cannot be stopped), and starts them again after
   * `startAfterSeconds` if given. Returns the instances stopped.
   */
  stopInstances(group: string, zone: string, count: number, startAfterSeconds?: number): string[] {
    const victims = this.asgsOf(group)
      .flatMap((a) => a.instanceIds.map((id) => this.region.instances.get(id)!))
      .filter(
        (i) =>
          i.zone === zone && i.lifecycle === 'on-demand' && i.state === 'running' && i.asgLifecycle === 'InService',
      )
      .slice(0, count);
    for (const inst of victims) this.region.stopInstance(inst, startAfterSeconds);
    return victims.map((v) => v.id);
  }

  /** EC2 warns of elevated interruption risk for `count` running Spot instances of the group in the zone. */
  rebalanceRecommendation(group: string, zone: string, count: number): string[] {
    const victims = this.asgsOf(group)
      .flatMap((a) => a.instanceIds.map((id) => this.region.instances.get(id)!))
      .filter(
        (i) =>
          i.zone === zone &&
          i.lifecycle === 'spot' &&
          i.state === 'running' &&
          i.asgLifecycle === 'InService' &&
          !i.rebalanceReplacedBy,
      )
      .slice(0, count);
    for (const inst of victims) this.region.rebalanceRecommendation(inst);
    return victims.map((v) => v.id);
  }

  /** A Spot instance of no managed group (a bastion, another cluster's node) is reclaimed. */
  foreignInterruption(): string {
    const id = `i-0${this.rng.hex(16)}`;
    this.emit({
      at: this.now(),
      source: 'aws.ec2',
      detailType: 'EC2 Spot Instance Interruption Warning',
      detail: { 'instance-id': id, 'instance-action': 'terminate' },
    });
    return id;
  }

  /** The event as EventBridge delivers it to a rule's target (the documented envelope). */
  toEventBridge(e: SimEvent): EventBridgeEvent {
    const region = this.region.name;
    const account = SIM_ACCOUNT;
    const instance = e.detail['instance-id'] ?? e.detail.EC2InstanceId;
    const resources =
      e.source === 'aws.ec2'
        ? [`arn:aws:ec2:${region}:${account}:instance/${instance}`]
        : [
            `arn:aws:autoscaling:${region}:${account}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${e.detail.AutoScalingGroupName}`,
          ];
    const id = this.rng.uuid();
    return {
      version: '0',
      id,
      'detail-type': e.detailType,
      source: e.source,
      account,
      time: new Date(e.at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources,
      detail: { ...e.detail },
    };
  }

  // ---- faults and counters ------------------------------------------------------------------

  armFault(fault: Fault): void {
    this.faults.push(fault);
  }

  /** The next `count` instances launched in the group (and zone) never join the cluster. */
  armNeverJoin(count: number, group?: string, zone?: string): void {
    this.region.armNeverJoin(count, group, zone);
  }

  /** The workload's PodDisruptionBudget refuses every eviction for `seconds`. */
  blockBudget(namespace: string, workload: string, seconds: number): void {
    this.cluster.blockedBudgets.set(`${namespace}/${workload}`, this.now() + seconds * 1000);
  }

  count(
    kind: 'aws' | 'kube',
    operation: string,
    inv: Invocation | undefined = kind === 'aws' ? this.context.current() : undefined,
  ): void {
    const c = this.calls[kind];
    c[operation] = (c[operation] ?? 0) + 1;
    if (inv) inv.calls += 1;
  }

  recordMutation(
    api: 'aws' | 'kube',
    operation: string,
    target: string,
    inv: Invocation | undefined,
    outcome: string,
    change?: string,
  ): void {
    this.audit.push({
      at: this.now(),
      api,
      operation,
      target,
      group: this.groupOfTarget(target),
      execution: inv?.execution ?? null,
      step: inv?.state ?? null,
      outcome,
      ...(change ? { change } : {}),
    });
  }

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
      default:
        return null;
    }
  }

  /** Throws the service's own error when a throttle or failure fault hits this call. */
  checkFault(operation: string, errors: { throttle: () => Error; failure: () => Error }): void {
    const hit = this.faultFor(operation);
    if (hit === 'throttle') throw errors.throttle();
    if (hit === 'failure') throw errors.failure();
  }

  private faultFor(operation: string): 'throttle' | 'failure' | undefined {
    const now = this.now();
    for (const f of this.faults) {
      if ((f.kind !== 'throttle' && f.kind !== 'callFailure') || f.operation !== operation || !isActive(f, now))
        continue;
      if (f.kind === 'throttle' && f.times === undefined && this.rng.next() >= (f.rate ?? 1)) continue;
      if (f.times !== undefined) f.times -= 1;
      return f.kind === 'throttle' ? 'throttle' : 'failure';
    }
    return undefined;
  }

  private kubeCall(
    operation: string,
    port: number | undefined,
  ): { code: number; reason: string; message: string } | undefined {
    this.count('kube', operation, this.context.ofPort(port));
    const hit = this.faultFor(operation);
    if (hit === 'throttle')
      return { code: 429, reason: 'TooManyRequests', message: 'Too many requests, please try again later.' };
    if (hit === 'failure')
      return { code: 500, reason: 'InternalError', message: 'Internal error occurred: simulated failure' };
    return undefined;
  }

  asgModificationCount(): number {
    return this.asgChanges.length;
  }

  noteAsgChange(asg: string, what: AsgChange['what'], from: number, to: number): void {
    if (from !== to) this.asgChanges.push({ at: this.now(), asg, what, from, to });
  }

  private launchFailure(zone: string, instanceType: string, lifecycle: 'spot' | 'on-demand'): string | undefined {
    const now = this.now();
    for (const f of this.faults) {
      if (!isActive(f, now)) continue;
      const out =
        (f.kind === 'zoneOutage' && f.zone === zone) ||
        (f.kind === 'instanceTypeOutage' && f.instanceType === instanceType && (!f.zone || f.zone === zone));
      if (out) return lifecycle === 'spot' ? INSUFFICIENT_CAPACITY : INSUFFICIENT_ON_DEMAND;
    }
    return undefined;
  }

  // ---- authentication -----------------------------------------------------------------------

  private async authenticate(token: string): Promise<UserInfo | undefined> {
    const known = this.staticTokens.get(token);
    if (known) return known;
    if (!token.startsWith('k8s-aws-v1.')) return undefined;
    // The EKS access entry maps node-manager's role to the Kubernetes group "node-manager".
    return (await this.verifyEksToken(token.slice('k8s-aws-v1.'.length)))
      ? {
          name: 'arn:aws:sts::123456789012:assumed-role/node-manager/lambda',
          groups: ['node-manager', 'system:authenticated'],
        }
      : undefined;
  }

  /**
   * What aws-iam-authenticator does, with STS's signature check done here: the URL must be a
   * presigned GetCallerIdentity on the regional STS endpoint, signed over `x-k8s-aws-id: <cluster>`,
   * by known credentials, no older than 15 minutes.
   */
  private async verifyEksToken(encoded: string): Promise<boolean> {
    let url: URL;
    try {
      url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
    } catch {
      return false;
    }
    const q = url.searchParams;
    const region = this.region.name;
    if (url.protocol !== 'https:' || url.hostname !== `sts.${region}.amazonaws.com` || url.pathname !== '/')
      return false;
    if (q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== '2011-06-15') return false;
    if (!(q.get('X-Amz-SignedHeaders') ?? '').split(';').includes('x-k8s-aws-id')) return false;
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
    if (!date) return false;
    const signedAt = Date.UTC(+date[1], +date[2] - 1, +date[3], +date[4], +date[5], +date[6]);
    if (this.now() - signedAt > 15 * 60_000 || signedAt - this.now() > 5 * 60_000) return false;
    const accessKeyId = (q.get('X-Amz-Credential') ?? '').split('/')[0];
    const creds = this.credentials.get(accessKeyId);
    if (!creds) return false;
    // Re-sign the same request; the signature only matches if the cluster name was signed in.
    const signer = new SignatureV4({ credentials: { accessKeyId, ...creds }, region, service: 'sts', sha256: Sha256 });
    const query: Record<string, string> = { Action: 'GetCallerIdentity', Version: '2011-06-15' };
    const request = new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: url.hostname,
      path: '/',
      headers: { host: url.hostname, 'x-k8s-aws-id': this.clusterName },
      query,
    });
    const expected = await signer.presign(request, {
      expiresIn: Number(q.get('X-Amz-Expires') ?? '60'),
      signingDate: new Date(signedAt),
    });
    return expected.query?.['X-Amz-Signature'] === q.get('X-Amz-Signature');
  }
}
