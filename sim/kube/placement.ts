import type { SimNode, SimPod } from './model';

/**
 * The scheduler's choice for a workload's pending pods: each to the candidate node that runs the
 * fewest of the workload's pods (then by name), the load counted once and updated as it binds.
 */
export function placePods(
  live: readonly SimPod[],
  pending: readonly SimPod[],
  candidates: readonly SimNode[],
): Array<[SimPod, SimNode]> {
  const load = new Map(candidates.map((n) => [n.name, 0]));
  for (const p of live) if (p.nodeName && load.has(p.nodeName)) load.set(p.nodeName, load.get(p.nodeName)! + 1);
  return pending.map((pod) => {
    let target = candidates[0];
    for (const n of candidates) {
      const d = load.get(n.name)! - load.get(target.name)!;
      if (d < 0 || (d === 0 && n.name < target.name)) target = n;
    }
    load.set(target.name, load.get(target.name)! + 1);
    return [pod, target];
  });
}
