import { formatProviderId } from '../../lambdas/core';
import type { SimInstance } from '../aws/model';
/** The simulated cluster's objects: nodes, pods, workloads, budgets, and what a watch sees. */

/** The DaemonSets every node runs, and the static pods of a control-plane node (kops). */
export const DAEMONSETS = ['kube-proxy', 'aws-node'];
export const STATIC_PODS = ['etcd-manager-main', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/** Resource quantities as a manifest writes them (`{"cpu": "500m", "memory": "1Gi"}`). */
export type Quantities = Readonly<Record<string, string>>;

/** What an m5.large leaves for pods, about: the allocatable a group's nodes report unless the scenario says. */
export const DEFAULT_ALLOCATABLE: Quantities = { cpu: '1930m', memory: '7106Mi', pods: '110' };

/** The requests of the pods every node runs, as kops and the VPC CNI set them (they take room, like any pod). */
export const SYSTEM_REQUESTS: Readonly<Record<string, Quantities>> = {
  'kube-proxy': { cpu: '100m' },
  'aws-node': { cpu: '25m' },
  'etcd-manager-main': { cpu: '200m', memory: '100Mi' },
  'kube-apiserver': { cpu: '150m' },
  'kube-controller-manager': { cpu: '100m' },
  'kube-scheduler': { cpu: '100m' },
};

export interface SimNode {
  readonly name: string;
  readonly uid: string;
  readonly instanceId: string;
  readonly providerID: string;
  readonly labels: Record<string, string>;
  annotations: Record<string, string>;
  unschedulable: boolean;
  /** Taints set through the API (the unschedulable taint is derived from `unschedulable`). */
  taints: Taint[];
  ready: boolean;
  /** When the Ready condition last changed (its lastTransitionTime). */
  readySince: number;
  readonly createdAt: number;
  resourceVersion: number;
  readonly nodeGroup: string;
  /** status.allocatable (and capacity): what the scheduler may place on it. */
  readonly allocatable: Quantities;
}

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  readonly timeAdded?: string;
}

export interface SimPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  nodeName?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  /** The controller that owns it; none for a bare pod. */
  readonly owner?: { kind: string; name: string };
  /** Mounts an emptyDir volume (its data goes with the pod). */
  readonly emptyDir: boolean;
  /** How long the pod takes to stop once deleted or evicted (its termination grace period, used in full). */
  readonly stopSeconds: number;
  phase: 'Pending' | 'Running';
  ready: boolean;
  readonly createdAt: number;
  /** When it was bound and started (status.startTime). */
  startedAt?: number;
  deletionTimestamp?: number;
  resourceVersion: number;
  /** The workload it belongs to, for the ReplicaSet-like controller. */
  readonly workload?: string;
  /** Its container's resource requests. */
  readonly requests?: Quantities;
  /** Why the scheduler left it Pending (its PodScheduled condition's message), while it is. */
  unschedulable?: string;
}

/**
 * Pods pinned to one node group, optionally guarded by a PodDisruptionBudget (selecting
 * `app: <name>`): a ReplicaSet or a Job recreates what goes; bare pods (`Pod`) are never recreated.
 */
export interface WorkloadSpec {
  readonly name: string;
  readonly namespace: string;
  readonly nodeGroup: string;
  readonly replicas: number;
  /** @default 'ReplicaSet' */
  readonly kind?: 'ReplicaSet' | 'Job' | 'Pod';
  readonly pdb?: { readonly maxUnavailable?: number | string; readonly minAvailable?: number | string };
  readonly emptyDir?: boolean;
  /** Seconds a pod takes to stop. @default the timing's podStopSeconds */
  readonly terminationGracePeriodSeconds?: number;
  /** Annotations on each pod (`node-manager.io/do-not-disrupt`, ...). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Each pod's resource requests: the scheduler places it only where they fit. */
  readonly requests?: Quantities;
}

/** A policy/v1 PodDisruptionBudget: pods of its namespace whose labels match `selector`. */
export interface BudgetSpec {
  readonly name: string;
  readonly namespace: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly maxUnavailable?: number | string;
  readonly minAvailable?: number | string;
}

export interface SimBudget extends BudgetSpec {
  readonly uid: string;
  readonly createdAt: number;
  resourceVersion: number;
}

/** A change to an object, as a watch delivers it. */
export interface ClusterEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly kind: 'Node' | 'Pod';
  readonly node?: SimNode;
  readonly pod?: SimPod;
}

export interface PodCounters {
  evictions: number;
  evictionsRefused: number;
  /** Workload pods that vanished with their node, ended by an API call, rather than through an eviction. */
  deletedWithoutEviction: number;
  /**
   * Workload pods that vanished with a node AWS took (a Spot reclaim, a Capacity Rebalancing termination, a health
   * check replacing a stopped instance): nobody's call ended them.
   */
  lostToInterruption: number;
}

export type EvictionOutcome =
  | { ok: true }
  | { ok: false; code: 404 | 429 | 500; message: string; causes?: Array<{ reason: string; message: string }> };

export const GROUP_LABEL = 'kops.k8s.io/instancegroup';

/** The Node a kubelet registers for an instance (labels as kops and the cloud provider set them). */
export function nodeOf(
  inst: SimInstance,
  o: {
    readonly uid: string;
    readonly ready: boolean;
    readonly at: number;
    readonly resourceVersion: number;
    readonly allocatable: Quantities;
  },
): SimNode {
  return {
    name: inst.privateDnsName,
    uid: o.uid,
    instanceId: inst.id,
    providerID: formatProviderId(inst.zone, inst.id),
    labels: {
      'kubernetes.io/hostname': inst.privateDnsName,
      'kubernetes.io/os': 'linux',
      'node.kubernetes.io/instance-type': inst.instanceType,
      'topology.kubernetes.io/zone': inst.zone,
      'topology.kubernetes.io/region': inst.zone.replace(/[a-z]$/, ''),
      [GROUP_LABEL]: inst.nodeGroup,
      ...(inst.role === 'control-plane'
        ? { 'node-role.kubernetes.io/control-plane': '' }
        : { 'node-role.kubernetes.io/node': '' }),
      ...(inst.lifecycle === 'spot' ? { 'node.kubernetes.io/lifecycle': 'spot' } : {}),
    },
    annotations: {},
    unschedulable: false,
    taints: [],
    ready: o.ready,
    readySince: o.at,
    createdAt: o.at,
    resourceVersion: o.resourceVersion,
    nodeGroup: inst.nodeGroup,
    allocatable: o.allocatable,
  };
}

/** A pod as the API server stores it when created: Running and Ready at once when bound (a DaemonSet's, a mirror), else Pending. */
export function podOf(
  namespace: string,
  name: string,
  o: Pick<
    SimPod,
    'uid' | 'nodeName' | 'labels' | 'annotations' | 'owner' | 'workload' | 'emptyDir' | 'stopSeconds' | 'requests'
  > & {
    readonly at: number;
    readonly resourceVersion: number;
    /** Ready from the start (a DaemonSet's or a mirror pod on a node up long ago). @default bound and not a workload's */
    readonly ready?: boolean;
  },
): SimPod {
  return {
    namespace,
    name,
    uid: o.uid,
    nodeName: o.nodeName,
    labels: o.labels,
    annotations: o.annotations,
    owner: o.owner,
    emptyDir: o.emptyDir,
    stopSeconds: o.stopSeconds,
    phase: o.nodeName ? 'Running' : 'Pending',
    ready: o.ready ?? (!!o.nodeName && !o.workload),
    createdAt: o.at,
    ...(o.nodeName ? { startedAt: o.at } : {}),
    resourceVersion: o.resourceVersion,
    workload: o.workload,
    ...(o.requests ? { requests: o.requests } : {}),
  };
}
