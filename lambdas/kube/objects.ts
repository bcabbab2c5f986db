import type { V1Container, V1Node, V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import {
  addResources,
  DO_NOT_DISRUPT_ANNOTATIONS,
  NO_RESOURCES,
  resourcesOf,
  type NodeState,
  type Resources,
} from '../core';

/**
 * Nodes and pods as node-manager reads them: the API objects reduced to what the planners use,
 * and the marks node-manager leaves on nodes.
 */

/** Our mark on a node we cordoned, so that cleanup uncordons only what we cordoned. Value: who (execution). */
export const CORDONED_BY_ANNOTATION = 'node-manager.io/cordoned-by';

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName?: string;
  readonly phase?: string;
  /** Kind of the controlling owner (ReplicaSet, DaemonSet, StatefulSet, Node for mirror pods, ...). */
  readonly ownerKind?: string;
  /** Name of the controlling owner: pods of one owner usually share one disruption budget. */
  readonly ownerName?: string;
  readonly isDaemonSet: boolean;
  /** Static pods' mirrors: the kubelet owns them, the API cannot evict them. */
  readonly isMirror: boolean;
  /** On its way out: deletionTimestamp set (an eviction or deletion was accepted). */
  readonly deleting: boolean;
  /** It mounts an emptyDir volume. */
  readonly emptyDir: boolean;
  /** The do-not-disrupt annotation's value, when set (node-manager's own, else karpenter's). */
  readonly doNotDisrupt?: string;
  /** status.startTime. */
  readonly startedAt?: number;
  /** `spec.terminationGracePeriodSeconds` (Kubernetes' default is 30). */
  readonly graceSeconds?: number;
  /** Its Ready condition. */
  readonly ready: boolean;
  /** metadata.labels (what a disruption budget selects it by). */
  readonly labels?: Readonly<Record<string, string>>;
  /** metadata.creationTimestamp. */
  readonly createdAt?: number;
  /** What the scheduler reserves for it: the larger of its containers' requests summed and its largest init container's. */
  readonly requests: Resources;
  /** Why the scheduler left it Pending (its PodScheduled condition's message), while it is. */
  readonly unschedulable?: string;
  /** For a pod on its way out: when its grace period ends (epoch ms), from deletionTimestamp + deletionGracePeriodSeconds. */
  readonly stopsBy?: number;
}

export const INTERRUPTION_TAINT = 'node-manager.io/interruption';
/** When an interruption drain marked the node (ISO 8601): a mark older than a drain can last pauses nothing. */
export const INTERRUPTED_AT_ANNOTATION = 'node-manager.io/interrupted-at';
/** The node group an interruption drain marked the node for (a detached instance is in no ASG, but its drain still pauses its group). */
export const INTERRUPTED_GROUP_ANNOTATION = 'node-manager.io/interrupted-group';
/**
 * The cordon a node had before an interruption drain marked it (the mark's execution, or "-" for a cordon without
 * one): undoing keeps it.
 */
export const CORDONED_BEFORE_ANNOTATION = 'node-manager.io/cordoned-before';
/** Set when node-manager (not someone before it) took the node out of load balancers, so that undoing puts it back. */
export const EXCLUDED_BY_US_ANNOTATION = 'node-manager.io/excluded-from-lb';
/** The well-known label that takes a node out of external load balancers' targets. */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
/** The taint every voluntary drain puts on its node with the cordon (value: whose drain). */
export const DRAINING_TAINT = 'node-manager.io/draining';

/** Taints that say what node-manager or a cordon did, not what the node is for. */
const OWN_TAINTS = new Set([INTERRUPTION_TAINT, DRAINING_TAINT, 'node.kubernetes.io/unschedulable']);

export function toNodeState(n: V1Node): NodeState {
  const condition = (n.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const ready = condition?.status === 'True';
  const created = n.metadata?.creationTimestamp;
  const since = condition?.lastTransitionTime ? new Date(condition.lastTransitionTime).getTime() : NaN;
  const annotations = n.metadata?.annotations ?? {};
  const taint = (n.spec?.taints ?? []).find((t) => t.key === INTERRUPTION_TAINT);
  const markedAt = Date.parse(annotations[INTERRUPTED_AT_ANNOTATION] ?? '');
  return {
    name: n.metadata?.name ?? '',
    providerID: n.spec?.providerID,
    ready,
    ...(Number.isFinite(since) ? { readySince: since } : {}),
    unschedulable: n.spec?.unschedulable === true,
    createdAt: created ? new Date(created).getTime() : 0,
    labels: n.metadata?.labels ?? {},
    cordonedByUs: n.spec?.unschedulable === true && !!annotations[CORDONED_BY_ANNOTATION],
    ...(n.status?.allocatable ? { allocatable: quantitiesOf(n.status.allocatable) } : {}),
    taints: (n.spec?.taints ?? [])
      .filter((t) => !OWN_TAINTS.has(t.key))
      .map((t) => ({ key: t.key, ...(t.value !== undefined ? { value: t.value } : {}), effect: t.effect })),
    ...(annotations[CORDONED_BY_ANNOTATION] ? { cordonedBy: annotations[CORDONED_BY_ANNOTATION] } : {}),
    ...(taint
      ? {
          interruption: {
            kind: taint.value ?? '',
            at: Number.isFinite(markedAt) ? markedAt : 0,
            group: annotations[INTERRUPTED_GROUP_ANNOTATION] ?? '',
          },
        }
      : {}),
  };
}

export function toPodInfo(p: V1Pod): PodInfo {
  // A controller reference, as kubectl drain reads it: a pod without one is never recreated.
  const owner = (p.metadata?.ownerReferences ?? []).find((o) => o.controller);
  const phase = p.status?.phase;
  const annotations = p.metadata?.annotations ?? {};
  const doNotDisrupt = DO_NOT_DISRUPT_ANNOTATIONS.map((a) => annotations[a]).find((v) => v !== undefined);
  const started = p.status?.startTime ? new Date(p.status.startTime).getTime() : undefined;
  const scheduling = (p.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
  return {
    namespace: p.metadata?.namespace ?? 'default',
    name: p.metadata?.name ?? '',
    nodeName: p.spec?.nodeName,
    phase,
    ownerKind: owner?.kind,
    ownerName: owner?.name,
    isDaemonSet: owner?.kind === 'DaemonSet',
    isMirror: !!annotations['kubernetes.io/config.mirror'],
    deleting: !!p.metadata?.deletionTimestamp,
    emptyDir: (p.spec?.volumes ?? []).some((v) => v.emptyDir !== undefined),
    ...(doNotDisrupt !== undefined ? { doNotDisrupt } : {}),
    ...(started !== undefined && Number.isFinite(started) ? { startedAt: started } : {}),
    graceSeconds: p.spec?.terminationGracePeriodSeconds,
    ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    labels: p.metadata?.labels ?? {},
    ...(p.metadata?.creationTimestamp ? { createdAt: new Date(p.metadata.creationTimestamp).getTime() } : {}),
    requests: requestsOf(p),
    ...(scheduling?.status === 'False' && scheduling.message ? { unschedulable: scheduling.message } : {}),
    ...(p.metadata?.deletionTimestamp
      ? {
          stopsBy:
            new Date(p.metadata.deletionTimestamp).getTime() + (p.metadata.deletionGracePeriodSeconds ?? 30) * 1000,
        }
      : {}),
  };
}

/** CPU and memory of a quantity map; a quantity the API server would not write counts as nothing. */
function quantitiesOf(q: Readonly<Record<string, string>>): Resources {
  try {
    return resourcesOf(q);
  } catch {
    return NO_RESOURCES;
  }
}

const containerRequests = (cs: readonly V1Container[] | undefined) =>
  (cs ?? []).map((c) => quantitiesOf(c.resources?.requests ?? {}));

/**
 * The pod's effective request, as the scheduler computes it: its containers' requests summed, or
 * its largest init container's if larger, per resource, plus the pod overhead.
 */
function requestsOf(p: V1Pod): Resources {
  const main = containerRequests(p.spec?.containers).reduce(addResources, NO_RESOURCES);
  const init = containerRequests(p.spec?.initContainers);
  const overhead = quantitiesOf(p.spec?.overhead ?? {});
  return addResources(
    {
      cpu: Math.max(main.cpu, ...init.map((r) => r.cpu)),
      memory: Math.max(main.memory, ...init.map((r) => r.memory)),
    },
    overhead,
  );
}

/** A PodDisruptionBudget as a dry run reads it: what it selects, and how many disruptions it allows now. */
export interface BudgetInfo {
  readonly namespace: string;
  readonly name: string;
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: ReadonlyArray<{
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }>;
  readonly disruptionsAllowed: number;
}

export function toBudgetInfo(b: V1PodDisruptionBudget): BudgetInfo {
  return {
    namespace: b.metadata?.namespace ?? 'default',
    name: b.metadata?.name ?? '',
    matchLabels: b.spec?.selector?.matchLabels ?? {},
    matchExpressions: (b.spec?.selector?.matchExpressions ?? []).map((e) => ({
      key: e.key,
      operator: e.operator,
      ...(e.values ? { values: e.values } : {}),
    })),
    disruptionsAllowed: b.status?.disruptionsAllowed ?? 0,
  };
}

/** Whether a budget selects a pod: same namespace, every label and expression of its selector met (as the API server matches). */
export function budgetSelects(b: BudgetInfo, p: Pick<PodInfo, 'namespace' | 'labels'>): boolean {
  if (b.namespace !== p.namespace) return false;
  const labels = p.labels ?? {};
  if (Object.keys(b.matchLabels).length === 0 && b.matchExpressions.length === 0) return true;
  if (!Object.entries(b.matchLabels).every(([k, v]) => labels[k] === v)) return false;
  return b.matchExpressions.every((e) => {
    const has = e.key in labels;
    if (e.operator === 'In') return has && (e.values ?? []).includes(labels[e.key]);
    if (e.operator === 'NotIn') return !has || !(e.values ?? []).includes(labels[e.key]);
    if (e.operator === 'Exists') return has;
    if (e.operator === 'DoesNotExist') return !has;
    return false;
  });
}
