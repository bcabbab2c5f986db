import type { SimBudget, SimPod, WorkloadSpec } from './cluster';

/** A budget's status, as the disruption controller computes it (policy/v1). */
export interface BudgetStatus {
  readonly expectedPods: number;
  readonly currentHealthy: number;
  readonly desiredHealthy: number;
  readonly disruptionsAllowed: number;
}

export function selects(b: SimBudget, pod: SimPod): boolean {
  return pod.namespace === b.namespace && Object.entries(b.selector).every(([k, v]) => pod.labels[k] === v);
}

/** An IntOrString against a count: a number as is, "N%" of the count rounded up (as the controller scales it). */
function scaled(v: number | string, of: number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage: ${v}`);
  return Math.ceil((Number(m[1]) * of) / 100);
}

/**
 * Expected pods are the scale of the controllers of the pods the budget selects (a bare pod
 * counts as one); healthy ones are Ready and not terminating.
 */
export function budgetStatus(
  b: SimBudget,
  pods: readonly SimPod[],
  workloads: ReadonlyMap<string, WorkloadSpec>,
): BudgetStatus {
  const matched = pods.filter((p) => selects(b, p));
  const controllers = new Set<string>();
  let expectedPods = 0;
  for (const p of matched) {
    const w = p.workload ? workloads.get(p.workload) : undefined;
    if (w && w.kind !== 'Pod') {
      if (!controllers.has(p.workload!)) expectedPods += w.replicas;
      controllers.add(p.workload!);
    } else if (p.deletionTimestamp === undefined) {
      expectedPods += 1;
    }
  }
  const currentHealthy = matched.filter((p) => p.ready && p.deletionTimestamp === undefined).length;
  const desiredHealthy = Math.max(
    0,
    b.minAvailable !== undefined
      ? scaled(b.minAvailable, expectedPods)
      : b.maxUnavailable !== undefined
        ? expectedPods - scaled(b.maxUnavailable, expectedPods)
        : expectedPods,
  );
  return {
    expectedPods,
    currentHealthy,
    desiredHealthy,
    disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy),
  };
}
