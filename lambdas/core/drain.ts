import { DEFAULT_DRAIN_POLICY, type DrainPolicy } from './types';

/**
 * Which pods a drain evicts, waits for, leaves, or lets hold its node: named filters in order,
 * after kubectl's `pkg/drain/filters.go`. The first filter with a verdict decides; a pod no filter
 * claims is evicted. Every drain (the refresh's batches, give-backs, repair, the interruption
 * drain) reads this one list.
 */

/** The annotations a pod asks not to be disrupted by: `"true"`, or a duration it must run first (`"30m"`). */
export const DO_NOT_DISRUPT_ANNOTATIONS = ['node-manager.io/do-not-disrupt', 'karpenter.sh/do-not-disrupt'] as const;

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
  /** Its controller's kind (ReplicaSet, StatefulSet, Job...); absent: a bare pod, never recreated. */
  readonly ownerKind?: string;
  /** It mounts an emptyDir volume: that data goes with it. */
  readonly emptyDir?: boolean;
  /** The do-not-disrupt annotation's value (node-manager's own, else karpenter's), when set. */
  readonly doNotDisrupt?: string;
  /** When it started (status.startTime), for a do-not-disrupt duration. */
  readonly startedAt?: number;
}

/**
 * - `evict`: through the Eviction API; the drain waits until it is gone.
 * - `wait`: on its way out already; the drain waits for it, evicting nothing.
 * - `leave`: not the drain's to move, and not waited for (a DaemonSet's pod, a static pod's mirror, a finished pod).
 * - `holdNode`: must not be evicted, and the node must not go while it runs: a voluntary drain passes it over.
 */
export type PodVerdict = 'evict' | 'wait' | 'leave' | 'holdNode';

export interface PodJudgement {
  readonly verdict: PodVerdict;
  /** The filter that decided (`default` when none did). */
  readonly filter: string;
  readonly reason: string;
  /** Evicted, it will not come back as it was (no controller, or its emptyDir data): named in the output. */
  readonly lost?: boolean;
}

/** Whose drain it is: a voluntary one (refresh, give-back, repair) follows the group's policy; an interruption's cannot. */
export interface DrainContext {
  readonly policy: DrainPolicy;
  readonly voluntary: boolean;
  readonly now: number;
}

export interface DrainFilter {
  readonly name: string;
  /** A verdict and why, or undefined to let the next filter judge. */
  judge(pod: DrainPod, ctx: DrainContext): Omit<PodJudgement, 'filter'> | undefined;
}

const finished = (p: DrainPod) => p.phase === 'Succeeded' || p.phase === 'Failed';

/** Seconds in a do-not-disrupt duration ("90s", "30m", "2h", "1h30m"), or undefined when it is no duration. */
export function durationSeconds(v: string): number | undefined {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v.trim());
  if (!m || v.trim() === '') return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** Whether a do-not-disrupt value protects the pod now, and how it reads. */
export function protectedBy(pod: DrainPod, now: number): string | undefined {
  const v = pod.doNotDisrupt;
  if (v === undefined) return undefined;
  if (v === 'true') return 'do-not-disrupt: true';
  const s = durationSeconds(v);
  if (s === undefined) return undefined;
  const ran = pod.startedAt === undefined ? 0 : Math.max(0, (now - pod.startedAt) / 1000);
  return ran < s ? `do-not-disrupt: ${v} (it has run ${Math.floor(ran / 60)}m)` : undefined;
}

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
  {
    name: 'doNotDisrupt',
    judge: (p, ctx) => {
      const why = protectedBy(p, ctx.now);
      if (!why) return undefined;
      return ctx.voluntary
        ? { verdict: 'holdNode', reason: why }
        : { verdict: 'evict', reason: `${why}, but an interruption takes the node regardless` };
    },
  },
  {
    name: 'unreplicated',
    judge: (p, ctx) => {
      if (p.ownerKind !== undefined) return undefined;
      if (ctx.voluntary && ctx.policy.barePods === 'skip-node')
        return { verdict: 'holdNode', reason: 'no controller: never recreated (drain.barePods: skip-node)' };
      return { verdict: 'evict', reason: 'no controller: it will not come back', lost: true };
    },
  },
  {
    name: 'localStorage',
    judge: (p, ctx) => {
      if (!p.emptyDir) return undefined;
      if (ctx.voluntary && ctx.policy.emptyDir === 'skip-node')
        return { verdict: 'holdNode', reason: 'emptyDir data (drain.emptyDir: skip-node)' };
      return { verdict: 'evict', reason: 'its emptyDir data is lost', lost: true };
    },
  },
];

const ANY: DrainContext = { policy: DEFAULT_DRAIN_POLICY, voluntary: false, now: 0 };

export function judgePod(
  pod: DrainPod,
  ctx: DrainContext = ANY,
  filters: readonly DrainFilter[] = DRAIN_FILTERS,
): PodJudgement {
  for (const f of filters) {
    const j = f.judge(pod, ctx);
    if (j) return { ...j, filter: f.name };
  }
  return { verdict: 'evict', filter: 'default', reason: 'evicted through the Eviction API' };
}

/** Pods a drain evicts (an interruption's, by default: the node goes regardless). */
export function podsToEvict<P extends DrainPod>(pods: readonly P[], ctx: DrainContext = ANY): P[] {
  return pods.filter((p) => judgePod(p, ctx).verdict === 'evict');
}

/** Pods a drain waits for: those it evicts, those already leaving, and those that hold the node. */
export function podsHoldingDrain<P extends DrainPod>(pods: readonly P[], ctx: DrainContext = ANY): P[] {
  return pods.filter((p) => judgePod(p, ctx).verdict !== 'leave');
}
