import { PatchStrategy, setHeaderOptions, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { NodeState } from '../core';
import type { KubeApiProvider } from './client';
import { toEvictionError, toKubeError } from './errors';

/** Our mark on a node we cordoned, so that cleanup uncordons only what we cordoned. Value: who (execution). */
export const CORDONED_BY_ANNOTATION = 'node-manager.io/cordoned-by';
export const LIST_PAGE_SIZE = 500;

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
  /** Already on its way out (deletionTimestamp set) or finished. */
  readonly isTerminal: boolean;
  /** `spec.terminationGracePeriodSeconds` (Kubernetes' default is 30). */
  readonly graceSeconds?: number;
  /** For a pod on its way out: when its grace period ends (epoch ms), from deletionTimestamp + deletionGracePeriodSeconds. */
  readonly stopsBy?: number;
}

/** The taint an interruption drain puts on its node, so nothing new lands there (value: what announced it). */
export const INTERRUPTION_TAINT = 'node-manager.io/interruption';
/** The well-known label that takes a node out of external load balancers' targets. */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export type EvictionResult = 'evicted' | 'gone';

function toNodeState(n: V1Node): NodeState {
  const condition = (n.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const ready = condition?.status === 'True';
  const created = n.metadata?.creationTimestamp;
  const since = condition?.lastTransitionTime ? new Date(condition.lastTransitionTime).getTime() : NaN;
  return {
    name: n.metadata?.name ?? '',
    providerID: n.spec?.providerID,
    ready,
    ...(Number.isFinite(since) ? { readySince: since } : {}),
    unschedulable: n.spec?.unschedulable === true,
    createdAt: created ? new Date(created).getTime() : 0,
    labels: n.metadata?.labels ?? {},
    cordonedByUs: n.spec?.unschedulable === true && !!n.metadata?.annotations?.[CORDONED_BY_ANNOTATION],
  };
}

function toPodInfo(p: V1Pod): PodInfo {
  const owner = (p.metadata?.ownerReferences ?? []).find((o) => o.controller) ?? p.metadata?.ownerReferences?.[0];
  const phase = p.status?.phase;
  return {
    namespace: p.metadata?.namespace ?? 'default',
    name: p.metadata?.name ?? '',
    nodeName: p.spec?.nodeName,
    phase,
    ownerKind: owner?.kind,
    ownerName: owner?.name,
    isDaemonSet: owner?.kind === 'DaemonSet',
    isMirror: !!p.metadata?.annotations?.['kubernetes.io/config.mirror'],
    isTerminal: !!p.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed',
    graceSeconds: p.spec?.terminationGracePeriodSeconds,
    ...(p.metadata?.deletionTimestamp ? { stopsBy: new Date(p.metadata.deletionTimestamp).getTime() + (p.metadata.deletionGracePeriodSeconds ?? 30) * 1000 } : {}),
  };
}

const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The API server calls node-manager makes, and nothing else (see the RBAC manifest). */
export class KubePort {
  constructor(private readonly api: KubeApiProvider) {}

  /** Every node, read in pages of {@link LIST_PAGE_SIZE}. */
  async listNodes(labelSelector?: string): Promise<NodeState[]> {
    const core = await this.api.core();
    const out: NodeState[] = [];
    let token: string | undefined;
    do {
      const page = await core.listNode({ limit: LIST_PAGE_SIZE, _continue: token, labelSelector }).catch((e: unknown) => {
        throw toKubeError(e, 'list nodes');
      });
      out.push(...page.items.map(toNodeState));
      token = page.metadata?._continue || undefined;
    } while (token);
    return out;
  }

  /** Marks the node unschedulable and notes who did, so cleanup knows it is ours to undo. */
  async cordon(name: string, by: string): Promise<NodeState> {
    return this.patchNode(name, { spec: { unschedulable: true }, metadata: { annotations: { [CORDONED_BY_ANNOTATION]: by } } }, 'cordon');
  }

  /**
   * An interruption drain's mark: cordon with our annotation, taint NoSchedule, and label the node
   * out of external load balancers, in one patch. Taints are a list a merge patch replaces whole,
   * so the node is read first and the patch carries its resourceVersion: a concurrent change is a
   * 409 and the patch is made again from a fresh read. Undefined when no such node exists.
   */
  async markInterrupted(name: string, by: string, why: string): Promise<NodeState | undefined> {
    const core = await this.api.core();
    for (let attempt = 0; ; attempt += 1) {
      const list = await core.listNode({ fieldSelector: `metadata.name=${name}`, limit: 1 }).catch((e: unknown) => {
        throw toKubeError(e, `read node ${name}`);
      });
      const node = list.items[0];
      if (!node) return undefined;
      const others = (node.spec?.taints ?? []).filter((t) => t.key !== INTERRUPTION_TAINT && t.key !== 'node.kubernetes.io/unschedulable');
      const body = {
        metadata: { resourceVersion: node.metadata?.resourceVersion, labels: { [EXCLUDE_FROM_LB_LABEL]: 'true' }, annotations: { [CORDONED_BY_ANNOTATION]: by } },
        spec: { unschedulable: true, taints: [...others, { key: INTERRUPTION_TAINT, value: why, effect: 'NoSchedule' }] },
      };
      try {
        return await this.patchNode(name, body, 'taint');
      } catch (e) {
        if (!(e instanceof Error && e.name === 'KubeConflict') || attempt >= 2) throw e;
      }
    }
  }

  /** A node by name, or undefined (a list with a name field selector: the role grants list, not get). */
  async findNode(name: string): Promise<NodeState | undefined> {
    const core = await this.api.core();
    const list = await core.listNode({ fieldSelector: `metadata.name=${name}`, limit: 1 }).catch((e: unknown) => {
      throw toKubeError(e, `read node ${name}`);
    });
    return list.items[0] ? toNodeState(list.items[0]) : undefined;
  }

  async uncordon(name: string): Promise<NodeState> {
    // `null` removes the annotation under a JSON merge patch.
    return this.patchNode(name, { spec: { unschedulable: null }, metadata: { annotations: { [CORDONED_BY_ANNOTATION]: null } } }, 'uncordon');
  }

  private async patchNode(name: string, body: object, what: string): Promise<NodeState> {
    const core = await this.api.core();
    const n = await core.patchNode({ name, body }, mergePatch()).catch((e: unknown) => {
      throw toKubeError(e, `${what} node ${name}`);
    });
    return toNodeState(n);
  }

  /** The pods bound to one node, across namespaces (`spec.nodeName` field selector). */
  async listPodsOnNode(nodeName: string): Promise<PodInfo[]> {
    const core = await this.api.core();
    const out: PodInfo[] = [];
    let token: string | undefined;
    do {
      const page = await core
        .listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}`, limit: LIST_PAGE_SIZE, _continue: token })
        .catch((e: unknown) => {
          throw toKubeError(e, `list pods on ${nodeName}`);
        });
      out.push(...page.items.map(toPodInfo));
      token = page.metadata?._continue || undefined;
    } while (token);
    return out;
  }

  /**
   * Evicts one pod through the policy/v1 Eviction API, so PodDisruptionBudgets are honoured.
   * A pod already gone is 'gone'; a budget that forbids it throws EvictionBlocked with the
   * API server's message naming the budget.
   */
  async evictPod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<EvictionResult> {
    const core = await this.api.core();
    try {
      await core.createNamespacedPodEviction({
        name,
        namespace,
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name, namespace },
          ...(gracePeriodSeconds !== undefined ? { deleteOptions: { gracePeriodSeconds } } : {}),
        },
      });
      return 'evicted';
    } catch (e) {
      const mapped = toEvictionError(e, `${namespace}/${name}`);
      if (mapped instanceof Error && mapped.name === 'ResourceNotFound') return 'gone';
      throw mapped;
    }
  }
}
