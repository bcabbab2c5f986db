/**
 * An operator's pause of a group, kept on the group's lease item (so every workflow reads it with
 * the lease, no extra call): voluntary disruption (a refresh's next batch or give-back, replenish's
 * raises, give-backs and repairs) waits while it holds; an interruption drain goes on.
 */
export interface Pause {
  readonly reason: string;
  /** When it was set, and when it ends by itself (epoch ms); no `until`: until resumed. */
  readonly from: number;
  readonly until?: number;
  /** Who set it (the CLI's caller, a scenario), for the output. */
  readonly by?: string;
}

/** A pause a refresh waited through, as its final output lists it (ISO 8601 times). */
export interface PausedThrough {
  readonly reason: string;
  readonly from: string;
  readonly to: string;
}

/** The pause in force at `now`: none when absent or past its `until`. */
export function activePause(p: Pause | undefined, now: number): Pause | undefined {
  if (!p) return undefined;
  return p.until !== undefined && p.until <= now ? undefined : p;
}

/** How a pause reads in an execution's output. */
export function describePause(p: Pause): Record<string, string> {
  return {
    reason: p.reason,
    since: new Date(p.from).toISOString(),
    ...(p.until !== undefined ? { until: new Date(p.until).toISOString() } : { until: 'resumed' }),
    ...(p.by ? { by: p.by } : {}),
  };
}

/** Seconds a paused workflow waits before it looks again: to the pause's end, at most five minutes. */
export function pauseWaitSeconds(p: Pause, now: number): number {
  const left = p.until !== undefined ? Math.ceil((p.until - now) / 1000) : Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(300, left));
}

/** Checkpoints of a refresh: after these shares of the old nodes are replaced, wait `bakeSeconds` (the breaker watching). */
export interface Checkpoints {
  readonly percentages: readonly number[];
  readonly bakeSeconds: number;
}

/**
 * The checkpoint a refresh has just passed and not yet baked: the largest percentage the share
 * replaced so far has reached (a batch that jumps two takes one bake). Undefined: none due.
 */
export function checkpointDue(
  cp: Checkpoints,
  replaced: number,
  oldRemaining: number,
  baked: readonly number[],
): number | undefined {
  const total = replaced + oldRemaining;
  if (replaced === 0 || oldRemaining === 0 || total === 0) return undefined;
  const share = (replaced / total) * 100;
  const due = cp.percentages.filter((p) => share >= p && !baked.includes(p));
  return due.length ? Math.max(...due) : undefined;
}
