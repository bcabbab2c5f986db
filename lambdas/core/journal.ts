import type { RefreshWatch } from './metrics';
import type { PausedThrough } from './pause';
import type { Learned } from './learn';

/**
 * The refresh's journal, as it is kept in the group's lease item (what it changed and must put
 * back), and the shapes it holds. Earlier releases' journals must still read: fields are added as
 * optional.
 */

/** What a refresh changed and must put back; kept in the group's lease so a later run can restore it. */
export interface RefreshJournal {
  readonly execution: string;
  /** The refresh's start: every node created before it is replaced. */
  readonly startedAt: number;
  /** Each ASG's desired and MaxSize before the surge (the home layout). */
  readonly original: Readonly<Record<string, { readonly desired: number; readonly max: number }>>;
  readonly surged: boolean;
  /** Where the surge takes each ASG, so a retried step can finish applying it. */
  readonly surgeTargets?: Readonly<Record<string, { readonly desired: number; readonly max?: number }>>;
  /** Nodes we cordoned that are not terminated yet (cleanup uncordons them). */
  readonly cordoned: readonly string[];
  /** Instances we terminated, so a retried step never counts them as old again. */
  readonly terminated: readonly string[];
  /** The batch being replaced now. */
  readonly batch: readonly BatchMember[];
  /** The batch is the last one and the surplus stands in for it: terminated with decrement, not replaced. */
  readonly final?: boolean;
  /** The batch terminated last: a step that stopped after journaling it and before AWS answered terminates it again. */
  readonly terminating?: readonly BatchMember[];
  /** When the current wait began (the surge, the termination, the eviction pass): what the learned waits count from. */
  readonly since?: number;
  /** The group's timing as this refresh has learned it (seeded from the lease memory, written back at the end). */
  readonly learned?: Learned;
  /** When the current wait (Ready after surge, drain, replacement) gives up. */
  readonly deadline?: number;
  readonly phase: 'surge' | 'drain' | 'terminating' | 'replace' | 'giveBack' | 'done';
  /** Nodes replaced so far, across continued executions. */
  readonly replaced: number;
  /** What the batch loop watched so far (metrics.ts), kept across hand-overs and resumes for the summary. */
  readonly watch?: RefreshWatch;
  /** Set when this refresh took over a stopped one: which, and the start it keeps. */
  readonly resumedFrom?: { readonly execution: string; readonly phase: RefreshJournal['phase'] };
  /** Set by the failure path: the error that ended this refresh's replacing. */
  readonly failure?: string;
  /**
   * Set when this refresh took over a failed one that was giving its surplus back: once that is
   * done, it refreshes anew (from the same start) rather than ending as if it had refreshed.
   */
  readonly refreshAfterGiveBack?: boolean;
  /** Old nodes this refresh left (a pod held them, their drain timed out): never picked again, named at the end. */
  readonly passedOver?: readonly NotReplaced[];
  /** Pods its drains evicted that will not come back as they were (no controller, or emptyDir data), with why. */
  readonly podsLost?: readonly string[];
  /** An operator's pause the refresh is waiting through now (set at the first pass that saw it). */
  readonly pausedSince?: { readonly reason: string; readonly from: number };
  /** The start's overrides (validated), kept for every execution the refresh continues in. */
  readonly overrides?: RefreshOverrides;
  /** Checkpoints it baked (percentages), and until when the current bake lasts. */
  readonly checkpointsBaked?: readonly number[];
  readonly bakeUntil?: number;
  /** When a maintenance window closed on it (its surplus goes back; it goes on in the next window). */
  readonly windowClosedAt?: number;
  /** The pauses it waited through, for its final output. */
  readonly paused?: readonly PausedThrough[];
  /** Nodes put in Standby (onTimeout: quarantine) with the pods left on them: replenish reaps them. */
  readonly quarantined?: readonly NotReplaced[];
  /** Members a pod holds, which the give-back does not take (it takes another, or keeps the surplus). */
  readonly giveBackAvoids?: readonly string[];
  /** The batch's drain timed out and its pods were deleted (onTimeout: force): the deadline is the pods' to stop. */
  readonly forced?: boolean;
  /**
   * The controllers (`namespace/Kind/name`) whose pods the current batch evicts, each with how many
   * of its pods were Pending when it was picked: no more may be before the next batch.
   */
  readonly settleOwners?: Readonly<Record<string, number>>;
  /** Since when the next batch has waited for the last one's pods to run again. */
  readonly settleSince?: number;
  /** Since when the next batch has waited for room on the nodes that stay. */
  readonly roomSince?: number;
  /** Capacity others added while the refresh ran, kept at its end (named in the final output). */
  readonly othersKept?: readonly string[];
  /** Members this refresh terminated with decrement, per ASG (the last batch, the give-back). */
  readonly decremented?: Readonly<Record<string, number>>;
}

/** An old node a refresh left, and why: the execution's final output names it. */
/** What one refresh's start may override: the surplus, only these nodes, and the maintenance windows. */
export interface RefreshOverrides {
  readonly surplus?: number | string;
  /** Replace only these nodes (by name), if old. */
  readonly nodes?: readonly string[];
  readonly ignoreWindow?: boolean;
  /** `outdated`: only members launched from another template (or version) than their ASG's, or past `maxNodeAgeDays`. */
  readonly replace?: 'all' | 'outdated';
  readonly maxNodeAgeDays?: number;
}

export interface NotReplaced {
  readonly node: string;
  readonly instance: string;
  readonly asg: string;
  readonly reason: string;
  /** `namespace/name: why` of the pods that held it or were left on it. */
  readonly pods: readonly string[];
}

/** Where a refresh taken over from a stopped one goes on: the workflow's Choice after the lease. */
export type ResumeAt = 'surge' | 'terminate' | 'giveBack';

/**
 * The phase a stopped refresh left decides where its successor goes on: a refresh stopped while
 * giving the surplus back gives it back (surging again would launch what it just removed); one
 * stopped while terminating a drained batch terminates it; any other goes through the surge, which
 * applies only what the journal says is missing, and picks again.
 */
export function resumeAt(phase: RefreshJournal['phase']): ResumeAt {
  if (phase === 'giveBack' || phase === 'done') return 'giveBack';
  if (phase === 'terminating') return 'terminate';
  return 'surge';
}

export interface BatchMember {
  readonly instanceId: string;
  readonly node: string;
  readonly asg: string;
  readonly zone: string;
  /** Its drain outlived the timeout under `onTimeout: quarantine`: it goes to Standby, not away. */
  readonly quarantine?: boolean;
}
