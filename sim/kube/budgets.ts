import type { EvictionOutcome, SimBudget, SimPod, WorkloadSpec } from './model';

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

/**
 * Why the Eviction API (policy/v1) refuses a pod, as the real server answers: 500 when more than
 * one budget selects it, 429 when its budget allows no disruption now (an unhealthy pod may go
 * while the budget is met, a Pending one always), or a budget the scenario holds shut. Undefined: it may go.
 */
export function evictionRefusal(
  pod: SimPod,
  budgets: readonly SimBudget[],
  status: BudgetStatus | undefined,
  forcedBlock: boolean,
): Extract<EvictionOutcome, { ok: false }> | undefined {
  if (budgets.length > 1)
    return {
      ok: false,
      code: 500,
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    };
  const budget = budgets[0];
  if (!budget || !status || pod.phase === 'Pending') return undefined;
  const allowed = pod.ready ? status.disruptionsAllowed > 0 : status.currentHealthy >= status.desiredHealthy;
  if (!forcedBlock && allowed) return undefined;
  return {
    ok: false,
    code: 429,
    message: "Cannot evict pod as it would violate the pod's disruption budget.",
    causes: [
      {
        reason: 'DisruptionBudget',
        message:
          `The disruption budget ${budget.name} needs ` +
          `${forcedBlock ? status.currentHealthy + 1 : status.desiredHealthy} healthy pods and has ` +
          `${status.currentHealthy} currently`,
      },
    ],
  };
}

/** What an eviction reads and changes of the cluster. */
export interface EvictionHost {
  readonly pods: ReadonlyMap<string, SimPod>;
  readonly blockedBudgets: ReadonlyMap<string, number>;
  readonly counters: { evictions: number; evictionsRefused: number };
  readonly clock: { now(): number };
  budgetsOf(pod: SimPod): SimBudget[];
  budgetStatus(b: SimBudget): BudgetStatus;
  terminatePod(pod: SimPod, graceSeconds?: number): void;
}

/**
 * The Eviction API (policy/v1): 404 for no such pod, 429 when the pod's budget allows no
 * disruption now (an unhealthy pod may go while the budget is met), 500 when more than one budget
 * selects the pod, as the real server answers. `dryRun` checks and changes nothing.
 */
export function evictPod(
  host: EvictionHost,
  namespace: string,
  name: string,
  dryRun: boolean,
  graceSeconds?: number,
): EvictionOutcome {
  const pod = host.pods.get(`${namespace}/${name}`);
  if (!pod) return { ok: false, code: 404, message: `pods "${name}" not found` };
  if (pod.deletionTimestamp !== undefined) return { ok: true };
  const budgets = host.budgetsOf(pod);
  const blockedUntil = budgets[0] && host.blockedBudgets.get(`${budgets[0].namespace}/${budgets[0].name}`);
  const refusal = evictionRefusal(
    pod,
    budgets,
    budgets.length === 1 ? host.budgetStatus(budgets[0]) : undefined,
    blockedUntil !== undefined && host.clock.now() < blockedUntil,
  );
  if (refusal) {
    if (!dryRun && refusal.code === 429) host.counters.evictionsRefused += 1;
    return refusal;
  }
  if (dryRun) return { ok: true };
  host.counters.evictions += 1;
  host.terminatePod(pod, graceSeconds);
  return { ok: true };
}
