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
  readonly isDaemonSet: boolean;
  /** Static pods' mirrors: the kubelet owns them, the API cannot evict them. */
  readonly isMirror: boolean;
  /** Already on its way out (deletionTimestamp set) or finished. */
  readonly isTerminal: boolean;
}

export type EvictionResult = 'evicted' | 'gone';

function toNodeState(n: V1Node): NodeState {
  const ready = (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const created = n.metadata?.creationTimestamp;
  return {
    name: n.metadata?.name ?? '',
    providerID: n.spec?.providerID,
    ready,
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
    isDaemonSet: owner?.kind === 'DaemonSet',
    isMirror: !!p.metadata?.annotations?.['kubernetes.io/config.mirror'],
    isTerminal: !!p.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed',
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
