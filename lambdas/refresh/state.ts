import { mustHold, pauseOf } from '../lease';
import { surplusCount } from '../config';
import {
  type GroupMemory,
  type Pause,
  type RefreshJournal,
  type RefreshOverrides,
  type RefreshWatch,
  type ResumeAt,
} from '../core';
import type { Deps } from '../runtime';
import { lookAtGroup, type GroupView } from '../snapshot';

/**
 * The refresh workflow's steps. Each takes the execution's state and returns it with `did` (what
 * the step did, for the console's execution history) and `events` (an estimate of history events
 * used, so the workflow continues in a fresh execution well before Step Functions' 25,000 limit).
 * Every step is idempotent: what it changes is journaled in the lease first, and it reads the
 * world afresh, so a retried or resumed step does no harm.
 */
export interface RefreshState {
  readonly group: string;
  readonly dryRun: boolean;
  /** The start's overrides (validate.ts); a continued or resumed execution takes its journal's. */
  readonly overrides?: RefreshOverrides;
  /** Started by the group's refresh schedule: finding the refresh running is no failure (see take-lease.ts). */
  readonly trigger?: 'schedule';
  /** Set by the lease step: a scheduled start found the group's refresh running, and ends here successfully. */
  readonly skipped?: boolean;
  readonly execution: string;
  readonly stateMachine: string;
  readonly startedAt: number;
  readonly events: number;
  /** Continue in a new execution once `events` passes this (ASL compares the two). */
  readonly historyBudget: number;
  /** When this execution started (epoch ms): it continues in a new one well before Step Functions' 24-hour timeout. */
  readonly executionStartedAt?: number;
  /** Set by the batch loop once this execution has run {@link HAND_OVER_AFTER_MS}: continue in a new one (ASL checks it). */
  readonly handOverDue?: boolean;
  /** Set on a continued execution: the execution that handed over. */
  readonly continuedFrom?: string;
  /** Set on a continued execution: what the one that handed over passed (checked by validate). */
  readonly continuation?: { readonly from: string; readonly startedAt: number; readonly token: string };
  /** Set by the hand-over step: the token the next execution presents to take the lease. */
  readonly handoverToken?: string;
  /** Set by the lease step: where the workflow goes on (a stopped refresh taken over resumes in its phase). */
  readonly resume?: ResumeAt;
  /** Set when this refresh took over a stopped one. */
  readonly resumedFrom?: string;
  readonly did?: Record<string, unknown>;
  /** Set by a Catch: the error that sent the workflow down the cleanup path. */
  readonly failure?: { readonly Error: string; readonly Cause: string };
  /** When the batch's last evicting pass ran (a drain's learned wait counts from it). */
  readonly evictedAt?: number;
  /** What a refusing budget took to free, measured by an earlier pass of this batch (journaled with the termination). */
  readonly budgetSeconds?: number;
  /** Seconds the next Wait lasts (its SecondsPath): what the step expects things to take. */
  readonly waitSeconds?: number;
  /** Give-back passes in a row whose every pod left a budget refused (the next wait backs off). */
  readonly giveBackBlocked?: number;
  /** Set by a Catch when giving the surplus back failed. */
  readonly giveBackFailure?: { readonly Error: string; readonly Cause: string };
  /** Where "Replaced all?" goes: wait and pass again, or give the surplus back. */
  readonly next?: 'wait' | 'giveBack';
  /** "Surplus given back?": the give-back is done. */
  readonly done?: boolean;
  /** "Surplus given back?": a taken-over give-back is done, refresh anew. */
  readonly restart?: boolean;
  /** What the batch loop watched (Ready against desired, refusals), for the metrics and the summary. */
  readonly watch?: RefreshWatch;
}

/** The fields the ASL's Choices branch on, which the steps set beside `did`. */
const CONTROL = ['next', 'done', 'restart'] as const;

/** The state machine's TimeoutSeconds is 24 hours: a long refresh continues in a fresh execution after 20. */
export const HAND_OVER_AFTER_MS = 20 * 3600 * 1000;

/** History events a step's loop adds per pass (Lambda task 5, Wait 2, Choice 2). */
export const COST = { task: 5, waitLoop: 9, choice: 2 } as const;

/** A refresh's look at its group (snapshot.ts). */
export async function look(deps: Deps, state: RefreshState): Promise<GroupView> {
  const view = await lookAtGroup(deps, state.group, state.overrides?.replace === 'outdated');
  const surplus = state.overrides?.surplus;
  if (surplus === undefined) return view;
  return {
    ...view,
    settings: { ...view.settings, surplus: surplusCount({ surplus, desiredReady: view.g.desiredReady }) },
  };
}

/** Our lease: the journal and the group's memory; fails with LeaseLost when another execution holds it now. */
export async function leaseOf(
  deps: Deps,
  state: RefreshState,
): Promise<{ journal: RefreshJournal; memory: GroupMemory; pause?: Pause }> {
  const rec = await deps.lease.get(state.group);
  const held = mustHold<RefreshJournal>(
    rec,
    state.group,
    state.execution,
    `this execution no longer holds the lease of group ${state.group} (holder: ${rec?.holder ?? 'none'})`,
  );
  const pause = pauseOf(rec, deps.now());
  return pause ? { ...held, pause } : held;
}

export async function saveJournal(deps: Deps, state: RefreshState, journal: RefreshJournal): Promise<void> {
  // What the batch loop watched travels with the journal (a continued or resumed execution goes on with it).
  const watched = state.watch ? { ...journal, watch: state.watch } : journal;
  await deps.lease.writeJournal(state.group, state.execution, watched, deps.now());
}

/**
 * The state a step returns: `did` (the report) and the fields the ASL branches on, which each
 * step sets afresh. They are in `did` too, for one release: an execution started before a deploy
 * runs the previous ASL, which reads `$.did.next`, `$.did.done` and `$.did.restart`.
 */
export function next(state: RefreshState, cost: number, did: Record<string, unknown>): RefreshState {
  const out: Record<string, unknown> = { ...state, events: state.events + cost, did };
  for (const k of CONTROL) {
    if (did[k] === undefined) delete out[k];
    else out[k] = did[k];
  }
  return out as unknown as RefreshState;
}

export function freshJournal(state: RefreshState): RefreshJournal {
  return {
    execution: state.execution,
    startedAt: state.startedAt,
    original: {},
    surged: false,
    cordoned: [],
    terminated: [],
    batch: [],
    phase: 'surge',
    replaced: 0,
    ...(state.overrides ? { overrides: state.overrides } : {}),
  };
}
