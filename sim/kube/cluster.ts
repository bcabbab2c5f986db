import type { Random, VirtualClock } from '../clock';
import type { SimInstance, SimTiming } from '../aws/model';
import { EtcdSlots, PodIndex } from './indexes';
import { mirrorPodsReady, scheduleWorkloads } from './scheduling';
import { budgetStatus, evictPod, selects, type BudgetStatus } from './budgets';
import {
  DAEMONSETS,
  DEFAULT_ALLOCATABLE,
  SYSTEM_REQUESTS,
  nodeOf,
  STATIC_PODS,
  podOf,
  type SimNode,
  type SimPod,
  type WorkloadSpec,
  type BudgetSpec,
  type SimBudget,
  type ClusterEvent,
  type PodCounters,
  type EvictionOutcome,
  type Quantities,
} from './model';

/**
 * The Kubernetes side: nodes that register when their instance boots, DaemonSet and mirror pods
 * on every node, workloads whose pods are recreated and scheduled onto schedulable Ready nodes of
 * their group, PodDisruptionBudgets enforced on eviction, and nodes deleted once their instance is
 * gone (taking their pods with them, as pod GC does).
 */
export class Cluster {
  readonly nodes = new Map<string, SimNode>();
  readonly pods = new Map<string, SimPod>();
  readonly workloads = new Map<string, WorkloadSpec>();
  readonly counters: PodCounters = {
    evictions: 0,
    evictionsRefused: 0,
    deletedWithoutEviction: 0,
    lostToInterruption: 0,
  };
  /** Budgets forced to refuse every eviction until the given time (the pdbBlock fault), by `namespace/name`. */
  readonly blockedBudgets = new Map<string, number>();
  readonly budgets = new Map<string, SimBudget>();
  /** Watchers of node and pod changes (the API server's watch). */
  readonly watchers = new Set<(e: ClusterEvent) => void>();
  private resourceVersion = 1000;
  /** Indexes kept with `pods` and `nodes`, so that no change costs a scan of the whole cluster. */
  private readonly podsByNode = new PodIndex();
  private readonly podsByWorkload = new PodIndex();
  private readonly nodeByInstance = new Map<string, string>();
  /** kops etcd: which instance holds each control-plane ASG's single member slot. */
  private readonly etcdSlots = new EtcdSlots();
  /** Nodes whose kubelet is down while their instance runs. */
  private readonly kubeletDown = new Set<string>();
  /** What each node group's nodes report allocatable (the group's instance type, less the system reserve). */
  readonly allocatable = new Map<string, Quantities>();

  constructor(
    readonly clock: VirtualClock,
    private readonly rng: Random,
    readonly timing: SimTiming,
  ) {}

  nextResourceVersion(): number {
    this.resourceVersion += 1;
    return this.resourceVersion;
  }

  addWorkload(spec: WorkloadSpec): void {
    const key = `${spec.namespace}/${spec.name}`;
    this.workloads.set(key, spec);
    if (spec.pdb)
      this.addBudget({ name: spec.name, namespace: spec.namespace, selector: { app: spec.name }, ...spec.pdb });
    if (spec.kind === 'Pod') {
      // Bare pods: made once, bound now if a node can take them, never recreated.
      for (let i = 0; i < spec.replicas; i += 1) this.newWorkloadPod(key, spec);
    }
    this.reconcileWorkloads();
  }

  addBudget(spec: BudgetSpec): void {
    this.budgets.set(`${spec.namespace}/${spec.name}`, {
      ...spec,
      uid: this.rng.uuid(),
      createdAt: this.clock.now(),
      resourceVersion: this.nextResourceVersion(),
    });
  }

  notify(e: ClusterEvent): void {
    for (const w of this.watchers) w(e);
  }

  newWorkloadPod(key: string, w: WorkloadSpec): SimPod {
    const kind = w.kind ?? 'ReplicaSet';
    const owner = kind === 'Pod' ? undefined : { kind, name: kind === 'ReplicaSet' ? `${w.name}-7d9f8c6b5` : w.name };
    return this.createPod(
      w.namespace,
      `${w.name}-${this.rng.hex(10)}`,
      owner,
      undefined,
      { ...(w.annotations ?? {}) },
      key,
      // A Deployment's ReplicaSet labels its pods with the template's hash, as the RS name ends with it.
      kind === 'ReplicaSet' ? { app: w.name, 'pod-template-hash': '7d9f8c6b5' } : { app: w.name },
      {
        emptyDir: !!w.emptyDir,
        stopSeconds: w.terminationGracePeriodSeconds ?? this.timing.podStopSeconds,
        ...(w.requests ? { requests: w.requests } : {}),
      },
    );
  }

  /**
   * The instance booted: its kubelet registers, unless it never joins or (control plane) etcd has
   * no free slot. `preexisting` nodes (the cluster as it was before the simulation) registered
   * long ago and are Ready already.
   */
  instanceBooted(inst: SimInstance, preexisting = false): void {
    if (inst.neverJoin) return;
    if (inst.role === 'control-plane' && inst.asg && !this.etcdSlots.claim(inst, inst.asg)) return;
    this.register(inst, preexisting);
  }

  private register(inst: SimInstance, preexisting: boolean): void {
    inst.registered = true;
    const at = preexisting ? inst.launchTime + this.timing.bootSeconds * 1000 : this.clock.now();
    const node = nodeOf(inst, {
      uid: this.rng.uuid(),
      ready: preexisting,
      at,
      resourceVersion: this.nextResourceVersion(),
      allocatable: this.allocatable.get(inst.nodeGroup) ?? DEFAULT_ALLOCATABLE,
    });
    this.nodes.set(node.name, node);
    this.nodeByInstance.set(node.instanceId, node.name);
    this.notify({ type: 'ADDED', kind: 'Node', node });
    for (const ds of DAEMONSETS) this.daemonPod(ds, node.name);
    if (inst.role === 'control-plane') {
      // A new master's static pods start with its kubelet and are Ready a little after the node.
      for (const sp of STATIC_PODS) {
        this.createPod(
          'kube-system',
          `${sp}-${node.name}`,
          { kind: 'Node', name: node.name },
          node.name,
          { 'kubernetes.io/config.mirror': this.rng.hex(32) },
          undefined,
          { component: sp, tier: 'control-plane' },
          { requests: SYSTEM_REQUESTS[sp], ready: preexisting },
        );
      }
    }
    if (preexisting) this.becomeReady(node, inst, false, false);
    else
      this.clock.after(this.timing.joinSeconds, `${node.name} Ready`, () => this.becomeReady(node, inst, true, false));
  }

  /**
   * The kubelet reports the node Ready, if it is still this node and its instance runs (and, after
   * a restart, it is not Ready already); `since`: its Ready transition is now.
   */
  private becomeReady(node: SimNode, inst: SimInstance, since: boolean, unlessReady: boolean): void {
    const n = this.nodes.get(node.name);
    if (!n || n.uid !== node.uid || inst.state !== 'running' || (unlessReady && n.ready)) return;
    n.ready = true;
    if (since) n.readySince = this.clock.now();
    n.resourceVersion = this.nextResourceVersion();
    this.notify({ type: 'MODIFIED', kind: 'Node', node: n });
    this.clock.after(this.timing.podStartSeconds, `${n.name} static pods Ready`, () => mirrorPodsReady(this, n));
    this.reconcileWorkloads();
  }

  private createPod(
    namespace: string,
    name: string,
    owner: SimPod['owner'],
    nodeName: string | undefined,
    annotations: Record<string, string>,
    workload?: string,
    labels: Record<string, string> = {},
    extra: { emptyDir?: boolean; stopSeconds?: number; requests?: Quantities; ready?: boolean } = {},
  ): SimPod {
    // generateName: the API server refuses a name taken, and the controller tries another suffix.
    while (this.pods.has(`${namespace}/${name}`)) name = name.replace(/-[0-9a-f]+$/, `-${this.rng.hex(10)}`);
    const pod = podOf(namespace, name, {
      uid: this.rng.uuid(),
      nodeName,
      labels,
      annotations,
      owner,
      workload,
      emptyDir: !!extra.emptyDir,
      stopSeconds: extra.stopSeconds ?? this.timing.podStopSeconds,
      ...(extra.requests ? { requests: extra.requests } : {}),
      ...(extra.ready !== undefined ? { ready: extra.ready } : {}),
      at: this.clock.now(),
      resourceVersion: this.nextResourceVersion(),
    });
    this.pods.set(`${namespace}/${name}`, pod);
    this.podsByNode.add(nodeName, `${namespace}/${name}`);
    this.podsByWorkload.add(workload, `${namespace}/${name}`);
    this.notify({ type: 'ADDED', kind: 'Pod', pod });
    return pod;
  }

  /** A DaemonSet's pod on a node (the DaemonSet controller puts one back on every node that lacks it). */
  private daemonPod(ds: string, nodeName: string): SimPod {
    return this.createPod(
      'kube-system',
      `${ds}-${this.rng.hex(5)}`,
      { kind: 'DaemonSet', name: ds },
      nodeName,
      {},
      undefined,
      { 'k8s-app': ds },
      { requests: SYSTEM_REQUESTS[ds] },
    );
  }

  /** The DaemonSets every node runs (kube-proxy, aws-node). */
  daemonSets(): readonly string[] {
    return DAEMONSETS;
  }
  /**
   * Deletes a pod through the API (DELETE, or an eviction that went through): it is marked
   * terminating and goes once its grace period has run, or `graceSeconds` when the request
   * shortens it. A DaemonSet pod comes back on its node.
   */
  terminatePod(pod: SimPod, graceSeconds?: number): void {
    if (pod.deletionTimestamp !== undefined) return;
    pod.deletionTimestamp = this.clock.now();
    pod.ready = false;
    pod.resourceVersion = this.nextResourceVersion();
    this.notify({ type: 'MODIFIED', kind: 'Pod', pod });
    const key = `${pod.namespace}/${pod.name}`;
    this.clock.after(
      graceSeconds !== undefined ? Math.min(graceSeconds, pod.stopSeconds) : pod.stopSeconds,
      `${pod.name} gone`,
      () => {
        if (this.pods.get(key) !== pod) return;
        // A kubelet that is down cannot confirm the pod stopped: it stays Terminating until the
        // kubelet is back or its Node is deleted.
        if (pod.nodeName && this.kubeletDown.has(pod.nodeName)) return;
        this.deletePod(key);
        const node = pod.nodeName ? this.nodes.get(pod.nodeName) : undefined;
        if (pod.owner?.kind === 'DaemonSet' && node) this.daemonPod(pod.owner.name, node.name);
      },
    );
    this.reconcileWorkloads();
  }

  private deletePod(key: string): void {
    const pod = this.pods.get(key);
    if (!pod) return;
    this.pods.delete(key);
    this.podsByNode.delete(pod.nodeName, key);
    this.podsByWorkload.delete(pod.workload, key);
    this.notify({ type: 'DELETED', kind: 'Pod', pod });
  }

  /** The pods bound to a node. */
  podsOn(nodeName: string): SimPod[] {
    return this.podsByNode.of(nodeName).map((k) => this.pods.get(k)!);
  }

  /** The kubelet stops: the node turns NotReady. */
  /**
   * The kubelet of a running instance stops (a `nodeNotReady` fault): the node turns NotReady, its
   * pods unready, and pods deleted meanwhile stay Terminating. It comes back after `forSeconds`,
   * if given: the node turns Ready `joinSeconds` later and the Terminating pods finish.
   */
  kubeletFails(inst: SimInstance, forSeconds?: number): void {
    const node = this.nodeOf(inst.id);
    if (!node || !node.ready) return;
    this.kubeletDown.add(node.name);
    this.instanceStopping(inst);
    if (forSeconds === undefined) return;
    this.clock.after(forSeconds, `${node.name} kubelet back`, () => {
      this.kubeletDown.delete(node.name);
      if (inst.state !== 'running' || this.nodes.get(node.name)?.uid !== node.uid) return;
      for (const p of this.podsOn(node.name))
        if (p.deletionTimestamp !== undefined)
          this.clock.after(1, `${p.name} gone`, () => this.deletePod(`${p.namespace}/${p.name}`));
      this.instanceStarted(inst);
    });
  }

  instanceStopping(inst: SimInstance): void {
    const node = this.nodeOf(inst.id);
    if (node) {
      if (node.ready) node.readySince = this.clock.now();
      node.ready = false;
      node.resourceVersion = this.nextResourceVersion();
      for (const p of this.podsOn(node.name)) p.ready = false;
      this.notify({ type: 'MODIFIED', kind: 'Node', node });
    }
    this.etcdSlots.forget(inst);
  }

  /**
   * A stopped instance runs again: its kubelet starts, and its Node (kept while the instance was
   * stopped, NotReady) turns Ready `joinSeconds` later; one that never registered registers now.
   */
  instanceStarted(inst: SimInstance): void {
    const node = this.nodeOf(inst.id);
    if (!node) {
      if (inst.registered || inst.booted) this.instanceBooted(inst);
      return;
    }
    this.clock.after(this.timing.joinSeconds, `${node.name} Ready again`, () =>
      this.becomeReady(node, inst, true, true),
    );
  }

  /** The instance is gone: the cloud node controller deletes the Node and pod GC its pods. */
  instanceTerminated(inst: SimInstance): void {
    const node = this.nodeOf(inst.id);
    // Taken by AWS itself (a Spot reclaim, Capacity Rebalancing, a health check replacing a stopped instance), not by anyone's API call.
    if (node)
      this.removeNode(
        node.name,
        inst.interrupted || inst.rebalanceReplacedBy || inst.unhealthy ? 'interruption' : 'api',
      );
    this.instanceStopping(inst);
    // etcd-manager of a waiting instance in the same ASG can mount the volume now.
    for (const next of this.etcdSlots.release(inst)) this.instanceBooted(next);
  }

  nodeOf(instanceId: string): SimNode | undefined {
    const name = this.nodeByInstance.get(instanceId);
    return name === undefined ? undefined : this.nodes.get(name);
  }

  /** Deletes a Node (API DELETE, or the cloud controller): its pods are garbage-collected. */
  removeNode(name: string, cause: 'api' | 'interruption' = 'api'): boolean {
    const node = this.nodes.get(name);
    if (!node) return false;
    this.nodes.delete(name);
    this.kubeletDown.delete(name);
    if (this.nodeByInstance.get(node.instanceId) === name) this.nodeByInstance.delete(node.instanceId);
    this.notify({ type: 'DELETED', kind: 'Node', node });
    for (const pod of this.podsOn(name)) {
      this.deletePod(`${pod.namespace}/${pod.name}`);
      if (pod.workload && pod.deletionTimestamp === undefined) {
        if (cause === 'interruption') this.counters.lostToInterruption += 1;
        else this.counters.deletedWithoutEviction += 1;
      }
    }
    this.reconcileWorkloads();
    return true;
  }

  workloadPods(key: string): SimPod[] {
    return this.podsByWorkload.of(key).map((k) => this.pods.get(k)!);
  }

  /** The budget's status, as the disruption controller computes it (over a workload's own pods when it selects by `app`). */
  budgetStatus(b: SimBudget): BudgetStatus {
    const app = b.selector.app;
    const own = app !== undefined && this.workloads.has(`${b.namespace}/${app}`);
    return budgetStatus(b, own ? this.workloadPods(`${b.namespace}/${app}`) : [...this.pods.values()], this.workloads);
  }

  /** The budgets that select a pod. */
  budgetsOf(pod: SimPod): SimBudget[] {
    return [...this.budgets.values()].filter((b) => selects(b, pod));
  }

  /** The Eviction API (policy/v1), as budgets.ts answers it. */
  evict(namespace: string, name: string, dryRun = false, graceSeconds?: number): EvictionOutcome {
    return evictPod(this, namespace, name, dryRun, graceSeconds);
  }

  /** The ReplicaSet controller and the scheduler (scheduling.ts). */
  reconcileWorkloads(): void {
    scheduleWorkloads(this);
  }

  /** A pod changed: a new resourceVersion, and watchers told. */
  touch(pod: SimPod): void {
    pod.resourceVersion = this.nextResourceVersion();
    this.notify({ type: 'MODIFIED', kind: 'Pod', pod });
  }

  /** The scheduler bound the pod: indexed under its node. */
  indexOnNode(pod: SimPod): void {
    if (pod.nodeName) this.podsByNode.add(pod.nodeName, `${pod.namespace}/${pod.name}`);
  }

  /**
   * A rollout of the workload (a new ReplicaSet, Recreate strategy): its pods are replaced and the
   * scheduler spreads the new ones over every schedulable Ready node, new nodes included. The old
   * pods go by their workload's own doing, so no counter calls them lost.
   */
  rollout(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    for (const pod of this.workloadPods(key)) this.deletePod(`${pod.namespace}/${pod.name}`);
    this.reconcileWorkloads();
  }
}
