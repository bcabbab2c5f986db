import type { Classification } from './classify';
import { RefreshStuckError, ReplacementTimeoutError, SurgeTimeoutError } from './errors';
import { interruptionsInFlight } from './interruption';
import {
  drainPollSeconds,
  drainWaitSeconds,
  FIRST_READY_POLL_SECONDS,
  learnReady,
  readySample,
  readyWaitSeconds,
  type Learned,
} from './learn';
import { homeNow } from './home';
import { checkWhole, pickBatch } from './refresh';
import type { BatchMember, RefreshJournal } from './journal';
import type { GroupSettings, Snapshot } from './types';

/**
 * The refresh's batch loop ("Replace oldest nodes"), decided: what the journal's phase calls for
 * next, and, once the group has been looked at, whether to wait, pick a batch, go on to the give-
 * back, or fail. The step performs the command (journal first, then the change) and renders `did`
 * from it; nothing here reads a clock or calls anything.
 */

/** What a pass does before it looks at the group: the journal alone decides. */
export type AdvanceStart =
  /** Every old node is replaced (or the give-back has begun): go give the surplus back. */
  | { readonly kind: 'giveBack' }
  /** A batch a stopped refresh had drained and begun terminating: terminate it. */
  | { readonly kind: 'terminate' }
  /** The batch's pods are leaving: look at them again. */
  | { readonly kind: 'drainAgain' }
  /** Look at the group: is it whole, and what goes next? */
  | { readonly kind: 'look' };

export function advanceStart(journal: Pick<RefreshJournal, 'phase' | 'batch'>): AdvanceStart {
  if (journal.phase === 'giveBack' || journal.phase === 'done') return { kind: 'giveBack' };
  if (journal.phase === 'terminating') return { kind: 'terminate' };
  if (journal.phase === 'drain' && journal.batch.length) return { kind: 'drainAgain' };
  return { kind: 'look' };
}

/** What a look at the group decides. `journal`, when given, is written before anything else is done. */
export type AdvanceCommand =
  | { readonly kind: 'fail'; readonly error: SurgeTimeoutError | ReplacementTimeoutError | RefreshStuckError }
  | {
      readonly kind: 'wait';
      readonly seconds: number;
      readonly did: Record<string, unknown>;
      readonly journal?: RefreshJournal;
    }
  | { readonly kind: 'giveBack'; readonly journal: RefreshJournal; readonly did: Record<string, unknown> }
  | {
      readonly kind: 'pick';
      readonly journal: RefreshJournal;
      readonly batch: readonly BatchMember[];
      readonly did: Record<string, unknown>;
    };

/**
 * Waits for the group to be whole (the surplus or the replacements Ready), learns how long that
 * took, pauses while interruption drains are in flight, then picks the next batch (journaled with
 * its cordons in one write), or finds every old node replaced, or none replaceable in time.
 */
export function planAdvance(
  journal: RefreshJournal,
  view: { readonly snapshot: Snapshot; readonly c: Classification },
  settings: GroupSettings,
  now: number,
): AdvanceCommand {
  const { snapshot, c } = view;
  const group = snapshot.group;
  const r = checkWhole(snapshot.asgs, c, settings, journal.surged);
  const waiting = journal.phase === 'surge' || journal.phase === 'replace';
  if (!r.whole) {
    if (journal.deadline !== undefined && now > journal.deadline) {
      const list =
        r.waitingFor.map((w) => `${w.instanceId} in ${w.asg} (${w.state}, ${w.ageSeconds}s old)`).join(', ') ||
        'no instance launched';
      const msg =
        `group ${group} has ${r.ready} Ready node(s), needs ${r.want}, after ` +
        `${settings.joinTimeoutSeconds}s; waiting for: ${list}`;
      return {
        kind: 'fail',
        error: journal.phase === 'surge' ? new SurgeTimeoutError(msg) : new ReplacementTimeoutError(msg),
      };
    }
    return {
      kind: 'wait',
      seconds: waiting ? readyWaitSeconds(journal.learned, journal.since, now) : FIRST_READY_POLL_SECONDS,
      did: { whole: false, ready: r.ready, want: r.want, ...(r.waitingFor.length ? { waitingFor: r.waitingFor } : {}) },
    };
  }
  // Whole: what the launches took, to the second, from the nodes' Ready transitions.
  const sample = waiting && journal.since !== undefined ? readySample(snapshot.nodes, journal.since) : undefined;
  const learned = sample !== undefined ? learnReady(journal.learned, sample) : journal.learned;
  // A Spot storm pauses voluntary disruption: no new batch while interruption drains are in flight.
  const draining = interruptionsInFlight(snapshot.nodes, group, now);
  if (draining.length) {
    const shown = draining
      .slice(0, 5)
      .map((d) => `${d.node} (${d.kind})`)
      .join(', ');
    return {
      kind: 'wait',
      seconds: FIRST_READY_POLL_SECONDS,
      did: { paused: `${draining.length} interruption drain(s) in flight: ${shown}` },
    };
  }
  // Capacity someone else added while the refresh ran is not surplus: no batch goes with decrement for it.
  const p = pickBatch(
    snapshot.asgs,
    c,
    settings,
    { ...journal, original: homeNow(journal, snapshot.asgs).original },
    now,
  );
  const readyTook = sample !== undefined ? { readyAfter: `${Math.round(sample)}s` } : {};
  if (p.batch.length === 0 && p.oldRemaining === 0) {
    return {
      kind: 'giveBack',
      journal: {
        ...journal,
        phase: 'giveBack',
        batch: [],
        terminating: [],
        learned,
        deadline: now + settings.drainTimeoutSeconds * 1000,
      },
      did: { done: true, replaced: journal.replaced, ...readyTook },
    };
  }
  if (p.batch.length === 0) {
    // Old nodes remain but none can go now (their ASG cannot launch, or they are not Ready): wait, within the join timeout.
    const deadline = waiting ? now + settings.joinTimeoutSeconds * 1000 : (journal.deadline ?? now);
    if (!waiting && now > deadline) {
      const skipped = p.skipped.map((s) => `${s.instanceId} (${s.asg}: ${s.reason})`).join('; ');
      return {
        kind: 'fail',
        error: new RefreshStuckError(
          `${p.oldRemaining} old node(s) of group ${group} cannot be replaced: ${skipped || 'none is Ready'}`,
        ),
      };
    }
    return {
      kind: 'wait',
      seconds: FIRST_READY_POLL_SECONDS,
      journal: { ...journal, phase: 'drain', batch: [], terminating: [], learned, deadline },
      did: { whole: true, oldRemaining: p.oldRemaining, skipped: p.skipped, ...readyTook },
    };
  }
  // The batch and its cordons in one write, before a node is touched: cleanup must know them.
  return {
    kind: 'pick',
    batch: p.batch,
    journal: {
      ...journal,
      phase: 'drain',
      batch: p.batch,
      final: p.final,
      terminating: [],
      cordoned: [
        ...journal.cordoned.filter((n) => !(journal.terminating ?? []).some((b) => b.node === n)),
        ...p.batch.map((b) => b.node).filter((n) => !journal.cordoned.includes(n)),
      ],
      learned,
      since: now,
      deadline: now + settings.drainTimeoutSeconds * 1000,
    },
    did: {
      batch: p.batch.map((b) => `${b.node} (${b.instanceId}, ${b.zone})`),
      oldRemaining: p.oldRemaining,
      ...(p.final ? { last: 'the surplus stands in for this batch: terminated with decrement' } : {}),
      ...(p.skipped.length ? { skipped: p.skipped } : {}),
      ...readyTook,
    },
  };
}

/** The longest a give-back waits between passes while every pod left is refused by its budget. */
export const GIVE_BACK_MAX_BACKOFF_SECONDS = 120;

/**
 * How long "Give surplus back" waits before its next pass. Terminated: a second (the next pass
 * finds the ASGs home). Evicting: as long as the group's pods take to leave. Refused with nothing
 * evicted: back off (the budget frees when its pods run elsewhere, which a poll every few seconds
 * does not hasten), doubling up to two minutes, within the deadline. `blocked`: passes in a row refused.
 */
export function giveBackWait(
  pass: {
    readonly drained: boolean;
    readonly evicted: readonly unknown[];
    readonly refused: readonly unknown[];
    readonly graceSeconds: number;
  },
  blockedBefore: number,
  learned: Learned | undefined,
  deadline: number,
  now: number,
): { readonly blocked: number; readonly wait: number } {
  const blocked = !pass.drained && pass.evicted.length === 0 && pass.refused.length > 0 ? blockedBefore + 1 : 0;
  const untilDeadline = Math.max(1, Math.ceil((deadline - now) / 1000));
  const wait = pass.drained
    ? 1
    : blocked > 0
      ? Math.min(
          untilDeadline,
          GIVE_BACK_MAX_BACKOFF_SECONDS,
          Math.max(drainPollSeconds(learned), 5 * 2 ** (blocked - 1)),
        )
      : pass.evicted.length
        ? drainWaitSeconds(learned, pass.graceSeconds)
        : drainPollSeconds(learned);
  return { blocked, wait };
}
