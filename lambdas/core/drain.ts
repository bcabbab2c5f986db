/**
 * Which pods a drain evicts, waits for or leaves: named filters in order, after kubectl's
 * `pkg/drain/filters.go`. The first filter with a verdict decides; a pod no filter claims is
 * evicted. Every drain (the refresh's batches, replenish's give-back, the interruption drain)
 * reads this one list, so a drain policy lands here once.
 */

/** A pod as a drain judges it. */
export interface DrainPod {
  readonly namespace: string;
  readonly name: string;
  readonly phase?: string;
  readonly isDaemonSet: boolean;
  /** Static pods' mirrors: the kubelet owns them, the API cannot evict them. */
  readonly isMirror: boolean;
  /** On its way out: deletionTimestamp set (an eviction or deletion was accepted). */
  readonly deleting: boolean;
}

/**
 * - `evict`: through the Eviction API; the drain waits until it is gone.
 * - `wait`: on its way out already; the drain waits for it, evicting nothing.
 * - `leave`: not the drain's to move, and not waited for (a DaemonSet's pod, a static pod's mirror, a finished pod).
 * - `holdNode`: must not be evicted, and the node must not go while it runs.
 */
export type PodVerdict = 'evict' | 'wait' | 'leave' | 'holdNode';

export interface PodJudgement {
  readonly verdict: PodVerdict;
  /** The filter that decided (`default` when none did). */
  readonly filter: string;
  readonly reason: string;
}

export interface DrainFilter {
  readonly name: string;
  /** A verdict and why, or undefined to let the next filter judge. */
  judge(pod: DrainPod): { readonly verdict: PodVerdict; readonly reason: string } | undefined;
}

const finished = (p: DrainPod) => p.phase === 'Succeeded' || p.phase === 'Failed';

/** The filters every drain applies, in order. */
export const DRAIN_FILTERS: readonly DrainFilter[] = [
  {
    name: 'finished',
    judge: (p) => (finished(p) ? { verdict: 'leave', reason: `its phase is ${p.phase}: nothing runs` } : undefined),
  },
  {
    name: 'mirror',
    judge: (p) =>
      p.isMirror ? { verdict: 'leave', reason: "a static pod's mirror: the kubelet owns it, not the API" } : undefined,
  },
  {
    name: 'daemonSet',
    judge: (p) =>
      p.isDaemonSet
        ? { verdict: 'leave', reason: 'a DaemonSet pod: its controller would put it straight back' }
        : undefined,
  },
  {
    name: 'leaving',
    judge: (p) => (p.deleting ? { verdict: 'wait', reason: 'already on its way out' } : undefined),
  },
];

export function judgePod(pod: DrainPod, filters: readonly DrainFilter[] = DRAIN_FILTERS): PodJudgement {
  for (const f of filters) {
    const j = f.judge(pod);
    if (j) return { ...j, filter: f.name };
  }
  return { verdict: 'evict', filter: 'default', reason: 'evicted through the Eviction API' };
}

/** Pods a drain evicts: not DaemonSet pods (they would come straight back), not mirror pods, not already leaving. */
export function podsToEvict<P extends DrainPod>(pods: readonly P[]): P[] {
  return pods.filter((p) => judgePod(p).verdict === 'evict');
}

/** Pods a drain waits for: those it evicts, and those already leaving (evicted ones still stopping count). */
export function podsHoldingDrain<P extends DrainPod>(pods: readonly P[]): P[] {
  return pods.filter((p) => {
    const v = judgePod(p).verdict;
    return v === 'evict' || v === 'wait' || v === 'holdNode';
  });
}
