import { EvictionBlockedError, podsToEvict, ResourceNotFoundError } from './core';
import type { KubePort, PodInfo } from './kube/port';

export interface DrainPass {
  /** Pods evicted by this pass. */
  readonly evicted: readonly string[];
  /** Pods still on the node (terminating ones included): drained means none. */
  readonly remaining: readonly string[];
  /** What refused an eviction: the API server's words, naming the PodDisruptionBudget. */
  readonly refused: readonly string[];
  /** The node is gone already. */
  readonly gone: boolean;
}

/**
 * One pass of a drain, as `kubectl drain` does it: cordon (with our mark), evict through the
 * Eviction API whatever may go (not DaemonSet or mirror pods, not pods already leaving), and
 * report what is left. Callers poll until nothing is left or their timeout.
 */
export async function drainNode(kube: KubePort, node: string, by: string): Promise<DrainPass> {
  try {
    await kube.cordon(node, by);
  } catch (e) {
    if (e instanceof ResourceNotFoundError) return { evicted: [], remaining: [], refused: [], gone: true };
    throw e;
  }
  const pass = await evictPass(kube, node);
  return {
    evicted: pass.evicted,
    remaining: pass.staying.map((p) => `${p.namespace}/${p.name}`),
    refused: pass.refused,
    gone: false,
  };
}

/**
 * Evicts, through the Eviction API, every pod of the node that may go (not DaemonSet or mirror
 * pods, not pods already leaving), each with the grace period `grace` gives it (undefined: the
 * pod's own). Returns what it evicted, what budgets refused, and the pods still on the node:
 * drained means none, as kubectl drain waits (evicted pods still terminating count).
 */
export async function evictPass(
  kube: KubePort,
  node: string,
  grace: (pod: PodInfo) => number | undefined = () => undefined,
): Promise<{ evicted: string[]; refused: string[]; staying: PodInfo[] }> {
  const pods = await kube.listPodsOnNode(node);
  const evicted: string[] = [];
  const refused = new Set<string>();
  for (const pod of podsToEvict(pods)) {
    try {
      if ((await kube.evictPod(pod.namespace, pod.name, grace(pod))) === 'evicted')
        evicted.push(`${pod.namespace}/${pod.name}`);
    } catch (e) {
      if (!(e instanceof EvictionBlockedError)) throw e;
      refused.add(e.reason);
    }
  }
  return { evicted, refused: [...refused], staying: pods.filter(holdsDrain) };
}

/** A pod a drain waits for: not a DaemonSet's or a mirror, not finished (evicted ones still stopping count). */
export function holdsDrain(p: PodInfo): boolean {
  return !p.isDaemonSet && !p.isMirror && p.phase !== 'Succeeded' && p.phase !== 'Failed';
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
