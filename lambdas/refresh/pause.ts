import { checkpointDue, describePause, pauseWaitSeconds, type Pause, type RefreshJournal } from '../core';
import { groupOf } from '../input';
import type { Deps } from '../runtime';
import { saveJournal, type RefreshState } from './state';

/**
 * An operator's pause as the batch loop meets it. While it holds and the next thing to do is a new
 * batch or the give-back, the refresh waits with its journal (the surplus kept: it resumes where it
 * stopped, and giving the surplus back now would only be added again); the first pass that sees it
 * journals when. The first pass after it ends journals the pause it waited through, for the final
 * output's `did.paused`.
 */
export async function notePause(
  deps: Deps,
  state: RefreshState,
  journal: RefreshJournal,
  pause: Pause | undefined,
  disrupts: boolean,
  now: number,
): Promise<{
  readonly journal: RefreshJournal;
  /** The pause ended since the last pass: the journal changed (and is saved). */
  readonly closed: boolean;
  readonly wait?: { readonly seconds: number; readonly did: Record<string, unknown> };
}> {
  if (pause && disrupts) {
    let j = journal;
    if (!j.pausedSince || j.pausedSince.from !== pause.from) {
      j = { ...j, pausedSince: { reason: pause.reason, from: pause.from } };
      await saveJournal(deps, state, j);
    }
    return {
      journal: j,
      closed: false,
      wait: {
        seconds: pauseWaitSeconds(pause, now),
        did: {
          paused: describePause(pause),
          surplus: 'kept in place: the refresh goes on from here once the group is resumed',
        },
      },
    };
  }
  if (!pause && journal.pausedSince) {
    const through = {
      reason: journal.pausedSince.reason,
      from: new Date(journal.pausedSince.from).toISOString(),
      to: new Date(now).toISOString(),
    };
    // The time paused does not count against the deadline in force (a join or drain timeout).
    const held = now - journal.pausedSince.from;
    const j: RefreshJournal = {
      ...journal,
      pausedSince: undefined,
      paused: [...(journal.paused ?? []), through],
      ...(journal.deadline !== undefined ? { deadline: Math.max(journal.deadline + held, now) } : {}),
    };
    await saveJournal(deps, state, j);
    return { journal: j, closed: true };
  }
  return { journal, closed: false };
}

/**
 * The group's checkpoints as the batch loop meets them: once the share replaced reaches one, the
 * refresh journals it and waits `bakeSeconds` before the next batch (an alarm of the circuit
 * breaker in that time pauses it, see notePause). Undefined: go on.
 */
export async function bake(
  deps: Deps,
  state: RefreshState,
  journal: RefreshJournal,
  oldRemaining: number,
  now: number,
): Promise<{ readonly seconds: number; readonly did: Record<string, unknown> } | undefined> {
  const cp = groupOf(deps, state.group).checkpoints;
  if (!cp) return undefined;
  if (journal.bakeUntil !== undefined && now < journal.bakeUntil)
    return {
      seconds: Math.max(1, Math.ceil((journal.bakeUntil - now) / 1000)),
      did: { baking: `until ${new Date(journal.bakeUntil).toISOString()}` },
    };
  const due = checkpointDue(cp, journal.replaced, oldRemaining, journal.checkpointsBaked ?? []);
  if (due === undefined) return undefined;
  const until = now + cp.bakeSeconds * 1000;
  await saveJournal(deps, state, {
    ...journal,
    checkpointsBaked: [...(journal.checkpointsBaked ?? []), ...cp.percentages.filter((p) => p <= due)],
    bakeUntil: until,
  });
  return {
    seconds: cp.bakeSeconds,
    did: {
      checkpoint:
        `${due}%: ${journal.replaced} of ${journal.replaced + oldRemaining} replaced; baking ${cp.bakeSeconds}s ` +
        'before the next batch (a watched alarm in ALARM pauses the refresh)',
    },
  };
}
