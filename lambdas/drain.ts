import {
  EvictionBlockedError,
  judgePod,
  ResourceNotFoundError,
  type DrainContext,
  type DrainPolicy,
  type Measures,
} from './core';
import { DRAINING_TAINT, type KubePort, type PodInfo } from './kube/port';

export interface DrainOptions {
  /** Cordon first, with this mark (a drain's first pass); later passes only evict. */
  readonly cordonBy?: string;
  /** Who drains (an execution's name): the Events on the nodes name it. @default cordonBy; no Events without either */
  readonly by?: string;
  /** Cordon (and check first) these of the nodes only; the others are cordoned already. @default all */
  readonly cordonOnly?: readonly string[];
  /**
   * A voluntary drain (refresh, give-back, repair) under the group's policy: a node with a pod that
   * holds it (do-not-disrupt, or a bare or emptyDir pod the policy keeps) is not cordoned, and no
   * pod that holds its node is evicted. @default an interruption's drain: everything that may go, goes
   */
  readonly voluntary?: DrainPolicy;
  /** The grace period each eviction gives its pod (undefined: the pod's own). @default the pod's own */
  readonly grace?: (pod: PodInfo) => number | undefined;
  /**
   * Try every pod at each round. By default, once an owner's pod is refused, the owner's other pods
   * wait for the next round (they share a budget in practice, and each call would be refused).
   */
  readonly tryEveryPod?: boolean;
  /** Seconds evicted pods are expected to take to stop (the group's learned drain time). */
  readonly expectSeconds: number;
  /** Seconds a refusing budget is expected to take to free (learned); `expectSeconds` when unknown. */
  readonly refusalSeconds?: number;
  /** The longest single wait slept inside the invocation (0: one round, no wait). */
  readonly maxWaitSeconds: number;
  /** The most the pass spends, calls and waits, before it leaves the rest to the workflow's Wait. */
  readonly budgetSeconds: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  /** Where the pods evicted, refused and lost are counted (the invocation's metrics). */
  readonly measures: Measures;
}

export interface DrainResult {
  readonly drained: boolean;
  readonly evicted: readonly string[];
  /** Pods still on the batch's nodes at the last look (evicted ones still stopping count). */
  readonly remaining: readonly string[];
  /** What refused an eviction: the API server's words, naming the PodDisruptionBudget. */
  readonly refused: readonly string[];
  /** Evictions refused in this pass (each pod tried and refused counts). */
  readonly refusals: number;
  /** The longest grace period among the pods still leaving. */
  readonly graceSeconds: number;
  /** Seconds slept inside the invocation. */
  readonly waitedSeconds: number;
  /** When this invocation last evicted a pod (what a wait for pods to stop counts from). */
  readonly lastEvictionAt?: number;
  /** What a refusing budget took to free, as this invocation measured it (undefined: no budget refused and freed). */
  readonly refusalSeconds?: number;
  /** The pods this invocation evicted were seen gone: how long after the last eviction, and whether at the first look. */
  readonly stopped?: { readonly afterSeconds: number; readonly firstLook: boolean };
  /** The pods still on the nodes at the last look, as listed. */
  readonly remainingPods: readonly PodInfo[];
  /** Nodes found gone when cordoned. */
  readonly gone: readonly string[];
  /** Nodes a pod holds (a voluntary drain): not cordoned on a first pass, and never emptied. Each pod with why. */
  readonly held: readonly HeldNode[];
  /** Pods evicted that will not come back as they were (no controller, or their emptyDir data), with why. */
  readonly lost: readonly string[];
}

export interface HeldNode {
  readonly node: string;
  /** `namespace/name: why` of each pod that holds it. */
  readonly pods: readonly string[];
}

const key = (p: PodInfo) => `${p.namespace}/${p.name}`;
/** An interruption's drain: the node goes regardless, so every pod that may go is evicted. */
const INTERRUPTION: Omit<DrainContext, 'now'> = {
  policy: { barePods: 'evict', emptyDir: 'evict', onTimeout: 'fail' },
  voluntary: false,
};
/** Pods of one owner share a budget in practice: once one is refused, the others wait for the next round. */
const ownerOf = (p: PodInfo) => (p.ownerName ? `${p.namespace}/${p.ownerKind ?? ''}/${p.ownerName}` : key(p));

/**
 * Drains nodes as far as short waits allow in one invocation, as `kubectl drain` does: cordon
 * (with our mark, on a first pass), evict through the Eviction API what core/drain.ts says may go,
 * and wait for what is leaving. Waiting a few seconds inside the step costs less than a Wait, a
 * Task and a Choice (three state transitions) and a fresh read of every node's pods, so the waits
 * a drain is made of (a disruption budget freeing once an evicted pod's replacement runs, evicted
 * pods stopping) are slept here when they are short, and left to the workflow's Wait when not.
 */
export async function drain(kube: KubePort, nodes: readonly string[], o: DrainOptions): Promise<DrainResult> {
  const start = o.now();
  const by = o.by ?? o.cordonBy;
  /** An Event on the node, when someone is named to report it (best effort: never fails the drain). */
  const tell = async (node: string, reason: string, note: string, type: 'Normal' | 'Warning' = 'Normal') => {
    if (by) await kube.recordEvent({ node, reason, note, type, action: 'Drain', by }, o.now());
  };
  let lastEvictionAt: number | undefined;
  let looksSinceEviction = 0;
  const evicted: string[] = [];
  const refused = new Set<string>();
  let waited = 0;
  // The pods each node still holds, as last listed; those still to evict.
  const onNode = new Map<string, PodInfo[]>();
  let toEvict: PodInfo[] = [];
  const gone: string[] = [];
  const held = new Map<string, string[]>();
  const lost = new Map<string, string>();
  const ctx = (): DrainContext =>
    o.voluntary ? { policy: o.voluntary, voluntary: true, now: o.now() } : { ...INTERRUPTION, now: o.now() };
  /** The node's pods the drain waits for, those it evicts, and those that hold the node. */
  const judge = (pods: readonly PodInfo[]) => {
    const c = ctx();
    const judged = pods.map((p) => ({ p, j: judgePod(p, c) }));
    return {
      holding: judged.filter(({ j }) => j.verdict !== 'leave').map(({ p }) => p),
      evict: judged.filter(({ j }) => j.verdict === 'evict'),
      holds: judged.filter(({ j }) => j.verdict === 'holdNode').map(({ p, j }) => `${key(p)}: ${j.reason}`),
    };
  };
  const look = async (node: string, listed?: readonly PodInfo[]) => {
    const { holding, evict, holds } = judge(listed ?? (await kube.listPodsOnNode(node)));
    if (holding.length) onNode.set(node, holding);
    else onNode.delete(node);
    if (holds.length) held.set(node, holds);
    else held.delete(node);
    const pending = new Set(toEvict.map(key));
    for (const { p, j } of evict) {
      if (pending.has(key(p))) continue;
      toEvict.push(p);
      if (j.lost) lost.set(key(p), j.reason);
    }
  };
  for (const node of nodes) {
    // A voluntary drain looks before it cordons: a node a pod holds is left as it is, not cordoned.
    let listed: PodInfo[] | undefined;
    const cordonBy = o.cordonOnly && !o.cordonOnly.includes(node) ? undefined : o.cordonBy;
    if (cordonBy && o.voluntary) {
      listed = await kube.listPodsOnNode(node);
      const holds = judge(listed).holds;
      if (holds.length) {
        held.set(node, holds);
        continue;
      }
    }
    if (cordonBy) {
      try {
        await kube.cordon(node, cordonBy);
      } catch (e) {
        if (e instanceof ResourceNotFoundError) {
          gone.push(node);
          continue;
        }
        throw e;
      }
      await tell(node, 'Cordoned', `cordoned and tainted ${DRAINING_TAINT} by ${cordonBy}: its pods are evicted next`);
    }
    await look(node, listed);
  }
  const lostNow: string[] = [];
  let refusals = 0;
  const toldBlocked = new Set<string>();
  const evictedOn = new Map<string, string[]>();
  const evictRound = async () => {
    const blocked = new Set<string>();
    const left: PodInfo[] = [];
    for (const pod of toEvict) {
      if (!o.tryEveryPod && blocked.has(ownerOf(pod))) {
        left.push(pod);
        continue;
      }
      try {
        if ((await kube.evictPod(pod.namespace, pod.name, o.grace?.(pod))) === 'evicted') {
          evicted.push(key(pod));
          if (pod.nodeName) evictedOn.set(pod.nodeName, [...(evictedOn.get(pod.nodeName) ?? []), key(pod)]);
          o.measures.add('PodsEvicted', 1);
          if (lost.has(key(pod))) {
            lostNow.push(`${key(pod)}: ${lost.get(key(pod))}`);
            o.measures.add('PodsLost', 1);
          }
          lastEvictionAt = o.now();
          looksSinceEviction = 0;
        }
      } catch (e) {
        if (!(e instanceof EvictionBlockedError)) throw e;
        refused.add(e.reason);
        refusals += 1;
        o.measures.add('EvictionsRefused', 1);
        if (pod.nodeName && !toldBlocked.has(pod.nodeName)) {
          toldBlocked.add(pod.nodeName);
          await tell(pod.nodeName, 'EvictionBlocked', `eviction of ${key(pod)} refused: ${e.reason}`, 'Warning');
        }
        blocked.add(ownerOf(pod));
        left.push(pod);
      }
    }
    toEvict = left;
  };
  await evictRound();
  // The budget counts the whole pass, calls included: a large batch's evictions leave less time to wait.
  const canWait = (s: number) => s <= o.maxWaitSeconds && (o.now() - start) / 1000 + s <= o.budgetSeconds;
  let stopped: DrainResult['stopped'];
  // Two waits make a drain: a refusing budget to free (its pods' replacements to start), and the
  // evicted pods to stop. Each is expected to take its unit, counted from the last eviction; a
  // check that comes too early is followed by short polls (1, 2, 4 s...), which measure the unit
  // closely, and checks that find the wait over try a second less now and then.
  let budgetUnit = Math.max(1, Math.ceil(o.refusalSeconds ?? o.expectSeconds));
  let stopUnit = Math.max(1, Math.ceil(o.expectSeconds));
  let missedRefusal = 0;
  let missedStop = 0;
  // First checks in a row that found a budget freed: only after a few is a shorter wait tried (a miss costs an eviction call).
  let hits = 0;
  // Whether a check came too early this pass, so that the unit was measured rather than guessed.
  let measured = o.refusalSeconds !== undefined;
  while (onNode.size > 0) {
    const refusing = toEvict.length > 0;
    const unit = refusing ? budgetUnit : stopUnit;
    const from = lastEvictionAt ?? start;
    // After a miss: 1, 2, 4 ... seconds, never more than the unit (a budget that never frees is not polled every second).
    const misses = refusing ? missedRefusal : missedStop;
    const wait = misses
      ? Math.min(unit, 2 ** (misses - 1))
      : Math.max(1, Math.ceil((from + unit * 1000 - o.now()) / 1000));
    if (!canWait(wait)) break;
    await o.sleep(wait * 1000);
    waited += wait;
    if (refusing) {
      // Try the refused pods again, without listing the nodes again.
      const before = lastEvictionAt;
      refused.clear();
      await evictRound();
      if (lastEvictionAt !== before) {
        hits = missedRefusal > 0 ? 0 : hits + 1;
        if (before !== undefined && missedRefusal > 0) {
          budgetUnit = Math.max(1, Math.round((lastEvictionAt! - before) / 1000));
          measured = true;
        } else if (!measured) {
          // Never too early yet: the unit may be far too long; try a quarter less each time until a check is early.
          budgetUnit = Math.max(1, budgetUnit - Math.ceil(budgetUnit / 4));
        } else if (hits >= 3) {
          budgetUnit = Math.max(1, budgetUnit - 1);
          hits = 0;
        }
        missedRefusal = 0;
      } else missedRefusal += 1;
      continue;
    }
    // Everything is evicted: look at the nodes still holding pods (cordoned: only ours can be there).
    for (const node of [...onNode.keys()]) await look(node);
    looksSinceEviction += 1;
    if (onNode.size === 0 && lastEvictionAt !== undefined) {
      stopped = { afterSeconds: (o.now() - lastEvictionAt) / 1000, firstLook: looksSinceEviction === 1 };
      stopUnit = missedStop > 0 ? Math.max(1, Math.round(stopped.afterSeconds)) : Math.max(1, stopUnit - 1);
    }
    missedStop = onNode.size > 0 && toEvict.length === 0 ? missedStop + 1 : 0;
    if (toEvict.length) await evictRound();
  }
  for (const [node, pods] of evictedOn)
    if (!onNode.has(node))
      await tell(
        node,
        'Drained',
        `evicted ${pods.length} pod(s): ${pods.slice(0, 10).join(', ')}${pods.length > 10 ? ', …' : ''}`,
      );
  const remaining = [...onNode.values()].flat();
  return {
    lastEvictionAt,
    ...(budgetUnit !== Math.max(1, Math.ceil(o.refusalSeconds ?? o.expectSeconds))
      ? { refusalSeconds: budgetUnit }
      : {}),
    ...(stopped ? { stopped } : {}),
    drained: remaining.length === 0,
    remainingPods: remaining,
    gone,
    held: [...held].map(([node, pods]) => ({ node, pods })),
    lost: lostNow,
    evicted,
    remaining: remaining.map(key),
    refused: [...refused],
    refusals,
    graceSeconds: Math.max(
      0,
      ...remaining.map((p) =>
        p.stopsBy !== undefined ? Math.ceil((p.stopsBy - o.now()) / 1000) : (p.graceSeconds ?? 30),
      ),
    ),
    waitedSeconds: waited,
  };
}

/**
 * Uncordons the nodes that still exist and still carry our mark, except those an interruption
 * drain has marked since (see KubePort.uncordon); returns those it uncordoned. The client is built
 * only when there is something to uncordon, so a failure path that has nothing to undo never
 * depends on reaching the API server (a refused kubeconfig must not keep a lease held).
 */
export async function uncordonAll(
  kube: KubePort | (() => Promise<KubePort>),
  nodes: readonly string[],
  owners?: readonly string[],
): Promise<string[]> {
  if (nodes.length === 0) return [];
  if (typeof kube === 'function') kube = await kube();
  const done: string[] = [];
  for (const n of nodes) if (await kube.uncordon(n, owners)) done.push(n);
  return done;
}

/** The short name of an execution ARN, for the cordon mark. */
export function executionName(arn: string): string {
  return arn.split(':').pop() ?? arn;
}

/**
 * One round of a drain over one node, without waiting: what replenish's give-back and the
 * interruption drain do at each pass (their workflows wait between passes). Every pod that may go
 * is tried at each round.
 */
export function drainOnce(
  kube: KubePort,
  node: string,
  o: Pick<DrainOptions, 'cordonBy' | 'by' | 'grace' | 'voluntary' | 'now' | 'measures'>,
): Promise<DrainResult> {
  return drain(kube, [node], {
    ...o,
    tryEveryPod: true,
    expectSeconds: 0,
    maxWaitSeconds: 0,
    budgetSeconds: 0,
    sleep: () => Promise.resolve(),
  });
}
