import { heldBy } from '../lease';
import { type RefreshJournal } from '../core';
import type { Deps } from '../runtime';
import { COST, next, type RefreshState } from './state';

/** Releases the lease (idempotent), and says what the refresh replaced, left and lost. */
export async function releaseLease(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const rec = await deps.lease.get(state.group);
  const journal = heldBy<RefreshJournal | undefined>(rec, state.execution)?.journal;
  // What this refresh left and lost, named at its end, whatever else it did; kept in the release's
  // own write, so that a retry after the release did its work still names it.
  const summary = journal
    ? {
        ...(journal.replaced !== undefined ? { replaced: journal.replaced } : {}),
        ...(journal.passedOver?.length ? { notReplaced: journal.passedOver } : {}),
        ...(journal.podsLost?.length ? { podsLost: journal.podsLost } : {}),
        ...(journal.quarantined?.length ? { quarantined: journal.quarantined } : {}),
        ...(journal.paused?.length || journal.pausedSince
          ? {
              paused: [
                ...(journal.paused ?? []),
                ...(journal.pausedSince
                  ? [
                      {
                        reason: journal.pausedSince.reason,
                        from: new Date(journal.pausedSince.from).toISOString(),
                        to: 'the end',
                      },
                    ]
                  : []),
              ],
            }
          : {}),
        ...(journal.othersKept?.length ? { othersKept: journal.othersKept } : {}),
      }
    : rec?.released?.holder === state.execution
      ? (({ holder: _h, ...said }) => said)(rec.released)
      : {};
  const released = await deps.lease.release(state.group, state.execution, journal ? summary : undefined);
  return next(state, COST.task, {
    released,
    ...summary,
    ...(state.failure ? { failure: state.failure.Error } : {}),
  });
}
