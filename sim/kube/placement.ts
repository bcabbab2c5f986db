import { addResources, resourcesOf, subtractResources, type Resources } from '../../lambdas/core';
import type { SimNode, SimPod } from './model';

/** Whether a workload pod (which tolerates no taint) may be scheduled on the node at all. */
export function admits(n: SimNode): boolean {
  return n.ready && !n.unschedulable && !n.taints.some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
}

const requestsOf = (p: SimPod): Resources => resourcesOf(p.requests);

/** What the pods bound to a node request (terminating ones too: the scheduler counts them until they are gone). */
export function requestedOn(pods: readonly SimPod[]): Resources {
  return pods.reduce((sum, p) => addResources(sum, requestsOf(p)), { cpu: 0, memory: 0 });
}

export interface Placement {
  readonly bound: Array<[SimPod, SimNode]>;
  /** Pods left Pending, with the scheduler's message ("0/3 nodes are available: 3 Insufficient cpu."). */
  readonly unschedulable: Array<[SimPod, string]>;
}

/**
 * The scheduler's choice for a workload's pending pods: each to the node that admits it, has room
 * for its requests, and runs the fewest of the workload's pods (then by name); the load and the
 * room are counted once and updated as it binds. A pod nothing has room for stays Pending with
 * the message the real scheduler writes.
 */
export function placePods(
  live: readonly SimPod[],
  pending: readonly SimPod[],
  nodes: readonly SimNode[],
  podsOn: (node: string) => readonly SimPod[],
): Placement {
  const candidates = nodes.filter(admits);
  const load = new Map(candidates.map((n) => [n.name, 0]));
  for (const p of live) if (p.nodeName && load.has(p.nodeName)) load.set(p.nodeName, load.get(p.nodeName)! + 1);
  const free = new Map(
    candidates.map((n) => [n.name, subtractResources(resourcesOf(n.allocatable), requestedOn(podsOn(n.name)))]),
  );
  const bound: Array<[SimPod, SimNode]> = [];
  const unschedulable: Array<[SimPod, string]> = [];
  for (const pod of pending) {
    const need = requestsOf(pod);
    let target: SimNode | undefined;
    const short = { cpu: 0, memory: 0 };
    for (const n of candidates) {
      const room = free.get(n.name)!;
      const cpu = need.cpu > room.cpu;
      const memory = need.memory > room.memory;
      if (cpu) short.cpu += 1;
      if (memory) short.memory += 1;
      if (cpu || memory) continue;
      const d = target ? load.get(n.name)! - load.get(target.name)! : -1;
      if (d < 0 || (d === 0 && target && n.name < target.name)) target = n;
    }
    if (!target) {
      unschedulable.push([pod, schedulerMessage(nodes.length, nodes.length - candidates.length, short)]);
      continue;
    }
    load.set(target.name, load.get(target.name)! + 1);
    free.set(target.name, subtractResources(free.get(target.name)!, need));
    bound.push([pod, target]);
  }
  return { bound, unschedulable };
}

function schedulerMessage(total: number, refused: number, short: { cpu: number; memory: number }): string {
  const reasons = [
    ...(short.cpu ? [`${short.cpu} Insufficient cpu`] : []),
    ...(short.memory ? [`${short.memory} Insufficient memory`] : []),
    ...(refused ? [`${refused} node(s) had untolerated taint(s) or were not ready`] : []),
  ];
  return `0/${total} nodes are available: ${reasons.join(', ') || 'no nodes available to schedule pods'}.`;
}
