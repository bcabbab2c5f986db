import { PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';
import { KubeConflictError, KubeForbiddenError, ResourceNotFoundError, type NodeState } from '../core';
import type { KubeApiProvider } from './client';
import { toEvictionError, toKubeError } from './errors';
import { recordNodeEvent, type NodeEvent } from './events';

export type { NodeEvent } from './events';
import {
  CORDONED_BEFORE_ANNOTATION,
  CORDONED_BY_ANNOTATION,
  DRAINING_TAINT,
  EXCLUDE_FROM_LB_LABEL,
  EXCLUDED_BY_US_ANNOTATION,
  INTERRUPTED_AT_ANNOTATION,
  INTERRUPTED_GROUP_ANNOTATION,
  INTERRUPTION_TAINT,
  toNodeState,
  toBudgetInfo,
  toPodInfo,
  type BudgetInfo,
  type PodInfo,
} from './objects';

export * from './objects';

export const LIST_PAGE_SIZE = 500;

/** The taint an interruption drain puts on its node, so nothing new lands there (value: what announced it). */
export type EvictionResult = 'evicted' | 'gone';

const taintsOf = (node: V1Node) => node.spec?.taints ?? [];

const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The API server calls node-manager makes, and nothing else (see the RBAC manifest). */
export class KubePort {
  constructor(private readonly api: KubeApiProvider) {}

  /** Records an Event on a node (best effort: false when the server refused it). */
  recordEvent(e: NodeEvent, now: number): Promise<boolean> {
    return recordNodeEvent(this.api, e, now);
  }

  /** Every node, read in pages of {@link LIST_PAGE_SIZE}. */
  async listNodes(labelSelector?: string): Promise<NodeState[]> {
    const core = await this.api.core();
    const out: NodeState[] = [];
    let token: string | undefined;
    do {
      const page = await core
        .listNode({ limit: LIST_PAGE_SIZE, _continue: token, labelSelector })
        .catch((e: unknown) => {
          throw toKubeError(e, 'list nodes');
        });
      out.push(...page.items.map(toNodeState));
      token = page.metadata?._continue || undefined;
    } while (token);
    return out;
  }

  /** Marks the node unschedulable and notes who did, so cleanup knows it is ours to undo. */
  async cordon(name: string, by: string): Promise<NodeState> {
    const out = await this.patchRead(name, 'cordon', (node) => {
      const labels = node.metadata?.labels ?? {};
      const annotations = node.metadata?.annotations ?? {};
      // Excluded before we came (by someone, or by an earlier mark of ours): leave that as it is.
      const weExclude =
        labels[EXCLUDE_FROM_LB_LABEL] === undefined || annotations[EXCLUDED_BY_US_ANNOTATION] === 'true';
      const others = taintsOf(node).filter((t) => t.key !== DRAINING_TAINT);
      return {
        metadata: {
          labels: { [EXCLUDE_FROM_LB_LABEL]: 'true' },
          annotations: { [CORDONED_BY_ANNOTATION]: by, ...(weExclude ? { [EXCLUDED_BY_US_ANNOTATION]: 'true' } : {}) },
        },
        spec: { unschedulable: true, taints: [...others, { key: DRAINING_TAINT, value: by, effect: 'NoSchedule' }] },
      };
    });
    if (!out) throw new ResourceNotFoundError(`node/${name}`, `node ${name} not found`);
    return out;
  }

  /**
   * An interruption drain's mark: cordon with our annotation, taint NoSchedule, note when, and
   * label the node out of external load balancers (noting that we did, when it was not so
   * already), in one patch. Taints are a list a merge patch replaces whole, so the node is read
   * first and the patch carries its resourceVersion: a concurrent change is a 409 and the patch is
   * made again from a fresh read. Undefined when no such node exists.
   */
  async markInterrupted(
    name: string,
    mark: { readonly by: string; readonly why: string; readonly at: number; readonly group: string },
  ): Promise<NodeState | undefined> {
    const { by, why, at, group } = mark;
    return this.patchRead(name, 'taint', (node) => {
      const others = taintsOf(node).filter(
        (t) => t.key !== INTERRUPTION_TAINT && t.key !== 'node.kubernetes.io/unschedulable',
      );
      const labels = node.metadata?.labels ?? {};
      const annotations = node.metadata?.annotations ?? {};
      // Excluded before we came (by someone, or by an earlier mark of ours): leave that as it is.
      const weExclude =
        labels[EXCLUDE_FROM_LB_LABEL] === undefined || annotations[EXCLUDED_BY_US_ANNOTATION] === 'true';
      // Cordoned before (a refresh's batch, a person): the cordon outlives this mark.
      const marked = taintsOf(node).some((t) => t.key === INTERRUPTION_TAINT);
      const before = marked
        ? annotations[CORDONED_BEFORE_ANNOTATION]
        : node.spec?.unschedulable
          ? (annotations[CORDONED_BY_ANNOTATION] ?? '-')
          : undefined;
      return {
        metadata: {
          labels: { [EXCLUDE_FROM_LB_LABEL]: 'true' },
          annotations: {
            [CORDONED_BY_ANNOTATION]: by,
            [INTERRUPTED_AT_ANNOTATION]: new Date(at).toISOString(),
            [INTERRUPTED_GROUP_ANNOTATION]: group,
            ...(weExclude ? { [EXCLUDED_BY_US_ANNOTATION]: 'true' } : {}),
            ...(before !== undefined ? { [CORDONED_BEFORE_ANNOTATION]: before } : {}),
          },
        },
        spec: {
          unschedulable: true,
          taints: [...others, { key: INTERRUPTION_TAINT, value: why, effect: 'NoSchedule' }],
        },
      };
    });
  }

  /**
   * Gives a node back after an interruption that did not happen (its instance survived the notice,
   * or came back from a stop or the warm pool): removes the interruption taint and our annotations,
   * uncordons it if the cordon is ours, and puts it back into load balancers if we took it out.
   * Only while the mark is `by`'s (or any interruption's, when `by` is undefined): a later drain's
   * mark stays. Undefined when the node is gone or not so marked.
   */
  async unmarkInterrupted(name: string, by: string | undefined): Promise<NodeState | undefined> {
    return this.patchRead(name, 'untaint', (node) => {
      const annotations = node.metadata?.annotations ?? {};
      const taints = taintsOf(node);
      if (!taints.some((t) => t.key === INTERRUPTION_TAINT)) return undefined;
      if (by !== undefined && annotations[CORDONED_BY_ANNOTATION] !== by) return undefined;
      const before = annotations[CORDONED_BEFORE_ANNOTATION];
      // The exclusion is ours to lift, unless a drain of ours still holds the node.
      const ours = annotations[EXCLUDED_BY_US_ANNOTATION] === 'true' && !taints.some((t) => t.key === DRAINING_TAINT);
      const keep = taints.filter(
        (t) => t.key !== INTERRUPTION_TAINT && (before !== undefined || t.key !== 'node.kubernetes.io/unschedulable'),
      );
      return {
        metadata: {
          ...(ours ? { labels: { [EXCLUDE_FROM_LB_LABEL]: null } } : {}),
          annotations: {
            [CORDONED_BY_ANNOTATION]: before !== undefined && before !== '-' ? before : null,
            [INTERRUPTED_AT_ANNOTATION]: null,
            [INTERRUPTED_GROUP_ANNOTATION]: null,
            ...(ours ? { [EXCLUDED_BY_US_ANNOTATION]: null } : {}),
            [CORDONED_BEFORE_ANNOTATION]: null,
          },
        },
        spec: { unschedulable: before !== undefined ? true : null, taints: keep },
      };
    });
  }

  /**
   * Reads the node, builds a patch from what it read (undefined: nothing to do), and applies it with
   * the read's resourceVersion; a concurrent change (409) reads again, twice at most.
   */
  private async patchRead(
    name: string,
    what: string,
    build: (node: V1Node) => object | undefined,
  ): Promise<NodeState | undefined> {
    const core = await this.api.core();
    for (let attempt = 0; ; attempt += 1) {
      const list = await core.listNode({ fieldSelector: `metadata.name=${name}`, limit: 1 }).catch((e: unknown) => {
        throw toKubeError(e, `read node ${name}`);
      });
      const node = list.items[0];
      if (!node) return undefined;
      const body = build(node);
      if (!body) return undefined;
      const withVersion = {
        ...body,
        metadata: { ...(body as { metadata?: object }).metadata, resourceVersion: node.metadata?.resourceVersion },
      };
      try {
        return await this.patchNode(name, withVersion, what);
      } catch (e) {
        if (e instanceof ResourceNotFoundError) return undefined;
        if (!(e instanceof KubeConflictError) || attempt >= 2) throw e;
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

  /**
   * Uncordons a node we cordoned: only while it carries our mark (one of `owners`', when given),
   * and never one an interruption drain has marked since (it is the drain's until its instance is
   * gone or given back). Undefined when the node is gone or not ours to undo.
   */
  async uncordon(name: string, owners?: readonly string[]): Promise<NodeState | undefined> {
    return this.patchRead(name, 'uncordon', (node) => {
      const mark = node.metadata?.annotations?.[CORDONED_BY_ANNOTATION];
      if (mark === undefined || (owners !== undefined && !owners.includes(mark))) return undefined;
      if ((node.spec?.taints ?? []).some((t) => t.key === INTERRUPTION_TAINT)) return undefined;
      const ours = node.metadata?.annotations?.[EXCLUDED_BY_US_ANNOTATION] === 'true';
      // `null` removes a label or an annotation under a JSON merge patch; taints are a list it replaces whole.
      return {
        spec: { unschedulable: null, taints: taintsOf(node).filter((t) => t.key !== DRAINING_TAINT) },
        metadata: {
          ...(ours ? { labels: { [EXCLUDE_FROM_LB_LABEL]: null } } : {}),
          annotations: { [CORDONED_BY_ANNOTATION]: null, [EXCLUDED_BY_US_ANNOTATION]: null },
        },
      };
    });
  }

  private async patchNode(name: string, body: object, what: string): Promise<NodeState> {
    const core = await this.api.core();
    const n = await core.patchNode({ name, body }, mergePatch()).catch((e: unknown) => {
      throw toKubeError(e, `${what} node ${name}`);
    });
    return toNodeState(n);
  }

  /** The pods bound to one node, across namespaces (`spec.nodeName` field selector). */
  listPodsOnNode(nodeName: string): Promise<PodInfo[]> {
    return this.listPods(`spec.nodeName=${nodeName}`, `list pods on ${nodeName}`);
  }

  /** Pods not yet running (unscheduled, or their containers not started), across namespaces. */
  listPendingPods(): Promise<PodInfo[]> {
    return this.listPods('status.phase=Pending', 'list pending pods');
  }

  /** Every pod not finished, across namespaces, Pending ones included: what the room check reads. */
  listActivePods(): Promise<PodInfo[]> {
    return this.listPods('status.phase!=Succeeded,status.phase!=Failed', 'list pods');
  }

  /** Every PodDisruptionBudget of the cluster (policy/v1), in pages: what a dry run checks the plan's pods against. */
  async listBudgets(): Promise<BudgetInfo[]> {
    const policy = await this.api.policy();
    const out: BudgetInfo[] = [];
    let token: string | undefined;
    do {
      const page = await policy
        .listPodDisruptionBudgetForAllNamespaces({ limit: LIST_PAGE_SIZE, _continue: token })
        .catch((e: unknown) => {
          throw toKubeError(e, 'list poddisruptionbudgets');
        });
      out.push(...page.items.map(toBudgetInfo));
      token = page.metadata?._continue || undefined;
    } while (token);
    return out;
  }

  private async listPods(fieldSelector: string, what: string): Promise<PodInfo[]> {
    const core = await this.api.core();
    const out: PodInfo[] = [];
    let token: string | undefined;
    do {
      const page = await core
        .listPodForAllNamespaces({ fieldSelector, limit: LIST_PAGE_SIZE, _continue: token })
        .catch((e: unknown) => {
          throw toKubeError(e, what);
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
      if (mapped instanceof ResourceNotFoundError) return 'gone';
      throw mapped;
    }
  }

  /**
   * Deletes a pod (DELETE, its own grace period): what `onTimeout: force` does to the pods a drain
   * could not evict in time. No budget is asked. False when the pod is gone already.
   */
  async deletePod(namespace: string, name: string): Promise<boolean> {
    const core = await this.api.core();
    try {
      await core.deleteNamespacedPod({ name, namespace });
      return true;
    } catch (e) {
      const mapped = toKubeError(e, `delete pod ${namespace}/${name}`);
      if (mapped instanceof ResourceNotFoundError) return false;
      // Only onTimeout: force deletes pods, and its grant is a separate manifest: say which.
      if (mapped instanceof KubeForbiddenError)
        throw new KubeForbiddenError(`${mapped.message} (onTimeout: force needs deploy/rbac-force.yaml applied)`, {
          cause: mapped,
        });
      throw mapped;
    }
  }
}
