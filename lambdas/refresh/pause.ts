import { describePause, pauseWaitSeconds, type Pause, type RefreshJournal } from '../core';
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
    const j: RefreshJournal = { ...journal, pausedSince: undefined, paused: [...(journal.paused ?? []), through] };
    await saveJournal(deps, state, j);
    return { journal: j, closed: true };
  }
  return { journal, closed: false };
}
