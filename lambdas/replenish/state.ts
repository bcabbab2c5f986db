import type { Deps } from '../runtime';
import { lookAtGroup } from '../snapshot';

/**
 * The replenish workflow's steps: one pass over a group (reap, substitute, give back), short and
 * frequent (a schedule every few minutes, and Auto Scaling events). Like refresh, each step
 * returns the execution's state with `did`.
 */
export interface ReplenishState {
  readonly group: string;
  readonly dryRun: boolean;
  readonly execution: string;
  /** Set when another execution holds the group: the execution ends at once, successfully. */
  readonly skipped?: boolean;
  /** Set by validate: a look without the lease found nothing to do; the execution ends at once. */
  readonly idle?: boolean;
  /**
   * Where "Giving capacity back?" and "Drained?" go: a node is being given back. Also in `did`
   * for one release (the previous ASL reads `$.did.draining`).
   */
  readonly draining?: boolean;
  readonly did?: Record<string, unknown>;
  readonly failure?: { readonly Error: string; readonly Cause: string };
}

/** What a replenish execution changes and must undo if it fails: nodes it cordoned to give back. */
export interface ReplenishJournal {
  readonly execution: string;
  readonly cordoned: readonly string[];
  readonly giveBack?: { readonly instanceId: string; readonly node: string; readonly asg: string };
  readonly deadline?: number;
  /** Since when every pod left has been refused by its budget, with no eviction going through. */
  readonly blockedSince?: number;
  /** The node is cordoned (the first pass did it): later passes only evict. */
  readonly marked?: boolean;
}

export const look = (deps: Deps, state: ReplenishState) => lookAtGroup(deps, state.group);
