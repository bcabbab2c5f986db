import type { Learned } from './learn';
import type { Quarantined } from './quarantine';

/**
 * What outlives executions in a group's lease item, whoever holds it: refresh and replenish read
 * and write the same memory (the home layout one leaves, the other gives back).
 */
export interface GroupMemory {
  /** Each ASG's home desired and MaxSize, when surplus or substitute capacity is not home yet. */
  readonly home?: Readonly<Record<string, { readonly desired: number; readonly max: number }>>;
  /** How long the group's launches and drains take, as its refreshes saw it (the learned waits). */
  readonly learned?: Learned;
  readonly backoff?: Readonly<
    Record<string, { readonly failures: number; readonly until: number; readonly lastFailureAt: number }>
  >;
  readonly lastChange?: Readonly<Record<string, number>>;
  /**
   * ASGs whose give-back was given up because budgets refused every eviction: no give-back is
   * tried there again before `until`, so one blocked node does not hold the group's lease pass
   * after pass (and a refresh waiting behind it).
   */
  readonly giveBackHeld?: Readonly<Record<string, { readonly until: number; readonly why: string }>>;
  /**
   * Instances being reaped, journaled before the detach: once detached they are in no ASG, so
   * only this record says they are ours to terminate. An entry goes once EC2 says the instance
   * is shutting down or gone.
   */
  readonly reaping?: Readonly<
    Record<
      string,
      { readonly asg: string; readonly at: number; readonly ageSeconds: number; readonly decrement: boolean }
    >
  >;
  /**
   * Members a pod holds (do-not-disrupt, a bare or emptyDir pod the policy keeps): give-back takes
   * another member in their place until `until`, then looks again.
   */
  readonly podHeld?: Readonly<Record<string, { readonly until: number; readonly why: string }>>;
  /**
   * When a replenish pass first saw Ready below desiredReady (epoch ms), until one sees it whole:
   * the length of each shortfall is published (SecondsBelowDesired). Absent in earlier releases' memory.
   */
  readonly shortSince?: number;
  /** When replenish last repaired a NotReady node of the group (one at a time, a cool-down apart). */
  readonly lastRepairAt?: number;
  /**
   * A repair begun, journaled before its node is cordoned: a pass that failed before the
   * termination (the node cordoned, so no longer a NotReady member to repair) is finished by the
   * next one from here. Absent in earlier releases' memory.
   */
  readonly repairing?: {
    readonly instanceId: string;
    readonly asg: string;
    readonly node: string;
    readonly at: number;
  };
  /**
   * Substitute capacity node-manager itself added to each ASG and has not given back (nodes). What
   * others added (a person, a cluster autoscaler) is theirs: it becomes the ASG's home, never given back.
   * Absent in memory an earlier release wrote: everything above home then counts as ours, as it did.
   */
  readonly added?: Readonly<Record<string, number>>;
  /** Nodes a refresh quarantined (onTimeout: quarantine), by instance id: replenish reaps them (core/quarantine.ts). */
  readonly quarantined?: Readonly<Record<string, Quarantined>>;
  /**
   * A refresh that was stopped and whose lease replenish took over (it gave the surplus back): the
   * next refresh resumes from it, keeping its start (nodes launched since are not replaced again).
   */
  readonly stoppedRefresh?: StoppedRefresh;
}

/** What a stopped refresh leaves for the next one: its execution, its start, and how far it got. */
export interface StoppedRefresh {
  readonly execution: string;
  /** The refresh's start (epoch ms): nodes created before it are the old ones. */
  readonly startedAt: number;
  readonly replaced: number;
  /** The phase it stopped in, and when replenish took its lease over. */
  readonly phase: string;
  readonly at: number;
}

/** How long a stopped refresh's start is kept for the next refresh to resume: a week; after that a refresh starts anew. */
export const STOPPED_REFRESH_KEPT_MS = 7 * 86_400_000;
