/**
 * Waits that know how long things take. A group remembers, from what its refreshes saw, how long a
 * launch takes to give a Ready node and how long a batch's pods take to leave once evicted; a
 * refresh waits that long first and then polls briefly, instead of polling at a fixed interval
 * that lines up with the real times only by chance. Pure: times in, seconds to wait out.
 */

/** What a group learned about its own timing (kept in the lease memory between refreshes). */
export interface Learned {
  /** Seconds from a termination (or the surge) to the replacement's Ready transition, newest last. */
  readonly readySeconds?: readonly number[];
  /** Seconds a batch's pods took to leave once evicted. */
  readonly drainSeconds?: number;
  /** Seconds a disruption budget that refused an eviction took to free (its pods' replacements to start). */
  readonly budgetSeconds?: number;
  /** First drain checks in a row that found the pods gone: after {@link DRAIN_PROBE_AFTER}, try a shorter wait. */
  readonly drainStreak?: number;
}

/** Ready samples kept: the wait is their maximum, so one slow launch among them keeps the first check right. */
export const READY_SAMPLES = 5;
/** Before anything is learned: today's fixed polls. */
export const FIRST_READY_POLL_SECONDS = 30;
export const FIRST_DRAIN_WAIT_SECONDS = 10;
/** Margin after the expected Ready: the node's condition is stamped to the second. */
const READY_MARGIN_SECONDS = 1;
/** Drains found done at the first check this many times in a row try a wait 20 % shorter (a miss costs a short poll). */
export const DRAIN_PROBE_AFTER = 2;
/** The longest a learned wait may be (a bad sample must not park a refresh). */
const MAX_WAIT_SECONDS = 3600;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** A short poll once the expected time has passed: a twentieth of the expected time, 2 to 15 seconds. */
export function shortPollSeconds(expectedSeconds: number): number {
  return clamp(Math.round(expectedSeconds / 20), 2, 15);
}

/** How long until the launches begun at `since` should have given Ready nodes; a short poll once that has passed. */
export function readyWaitSeconds(l: Learned | undefined, since: number | undefined, now: number): number {
  const samples = l?.readySeconds ?? [];
  if (samples.length === 0 || since === undefined) return FIRST_READY_POLL_SECONDS;
  const expected = Math.max(...samples) + READY_MARGIN_SECONDS;
  const left = Math.ceil((since + expected * 1000 - now) / 1000);
  return left > 0 ? Math.min(left, MAX_WAIT_SECONDS) : shortPollSeconds(expected);
}

/** Adds a launch-to-Ready sample (seconds), keeping the newest {@link READY_SAMPLES}. */
export function learnReady(l: Learned | undefined, seconds: number): Learned {
  const s = clamp(Math.ceil(seconds), 0, MAX_WAIT_SECONDS);
  return { ...l, readySeconds: [...(l?.readySeconds ?? []), s].slice(-READY_SAMPLES) };
}

/**
 * The launch-to-Ready time the group just showed: from `since` (the termination or surge) to the
 * latest Ready transition among nodes created since then. Undefined when no such node is Ready.
 */
export function readySample(
  nodes: readonly { readonly createdAt: number; readonly ready: boolean; readonly readySince?: number }[],
  since: number,
): number | undefined {
  const times = nodes
    .filter((n) => n.ready && n.createdAt >= since && n.readySince !== undefined)
    .map((n) => n.readySince!);
  return times.length ? Math.max(0, (Math.max(...times) - since) / 1000) : undefined;
}

/** How long to wait after an eviction pass before looking again, never past the pods' own grace. */
export function drainWaitSeconds(l: Learned | undefined, graceSeconds: number): number {
  return clamp(
    Math.min(l?.drainSeconds ?? FIRST_DRAIN_WAIT_SECONDS, Math.max(1, Math.ceil(graceSeconds))),
    1,
    MAX_WAIT_SECONDS,
  );
}

/**
 * Learns from a drain that finished `elapsed` seconds after its eviction pass. Found done at the
 * first check: the wait was long enough, perhaps too long, so after a few in a row the next is 10 %
 * shorter. Found done only by a later poll: the wait becomes what it took.
 */
export function learnDrain(l: Learned | undefined, elapsedSeconds: number, firstCheck: boolean): Learned {
  const current = l?.drainSeconds ?? FIRST_DRAIN_WAIT_SECONDS;
  if (!firstCheck) return { ...l, drainSeconds: clamp(Math.ceil(elapsedSeconds), 1, MAX_WAIT_SECONDS), drainStreak: 0 };
  const streak = (l?.drainStreak ?? 0) + 1;
  if (streak < DRAIN_PROBE_AFTER)
    return {
      ...l,
      drainSeconds: Math.min(current, clamp(Math.ceil(elapsedSeconds), 1, MAX_WAIT_SECONDS)),
      drainStreak: streak,
    };
  return {
    ...l,
    drainSeconds: Math.max(1, Math.floor(Math.min(current, Math.ceil(elapsedSeconds)) * 0.8)),
    drainStreak: 0,
  };
}

/** Polls while pods are still leaving after the learned wait: a fifth of it, 1 to 10 seconds. */
export function drainPollSeconds(l: Learned | undefined): number {
  return clamp(Math.round((l?.drainSeconds ?? FIRST_DRAIN_WAIT_SECONDS) / 5), 1, 10);
}

/** What a refresh assumes before it has learned anything of the group. */
export const FIRST_READY_SECONDS = 180;
export const FIRST_DRAIN_SECONDS = 30;

/**
 * Seconds `batches` batches of a refresh take by the group's learned waits: per batch its pods
 * leaving and (but for the last) a replacement's launch, plus the surge's launch when `withSurge`.
 */
export function refreshEstimateSeconds(l: Learned | undefined, batches: number, withSurge = true): number {
  if (batches <= 0) return 0;
  const ready = Math.max(...(l?.readySeconds?.length ? l.readySeconds : [FIRST_READY_SECONDS]));
  const drain = l?.drainSeconds ?? FIRST_DRAIN_SECONDS;
  return (withSurge ? ready : 0) + batches * drain + (batches - 1) * ready;
}
