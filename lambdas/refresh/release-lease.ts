import { heldBy, memoryOf } from '../lease';
import { groupOf } from '../input';
import { refreshEstimateSeconds, refreshSummary, type Learned, type RefreshJournal } from '../core';
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
  // Told once: by the release that let the lease go (a retry finds it released already).
  const told = released && journal ? await tell(state, deps, journal, memoryOf(rec).learned) : undefined;
  return next(state, COST.task, {
    released,
    ...summary,
    ...(state.failure ? { failure: state.failure.Error } : {}),
    ...(told ? { summary: told } : {}),
  });
}

/** The refresh's figures (duration, its ratio to the learned bound) and its summary to the topic. */
async function tell(
  state: RefreshState,
  deps: Deps,
  journal: RefreshJournal,
  learned: Learned | undefined,
): Promise<string | undefined> {
  const seconds = Math.max(0, Math.round((deps.now() - journal.startedAt) / 1000));
  const notReplaced = (journal.passedOver ?? []).map((p) => `${p.node}: ${p.reason}`);
  // This execution's watch, or what the one before a hand-over journaled.
  const watch = state.watch ?? journal.watch;
  const planned = Math.max(journal.replaced + notReplaced.length, watch?.old ?? 0);
  if (planned === 0 && !state.failure) return undefined;
  const batches = watch?.batches ?? 0;
  const bound = batches > 0 ? refreshEstimateSeconds(learned, batches) : 0;
  const boundRatio = journal.replaced > 0 && !state.failure && bound > 0 ? seconds / bound : undefined;
  if (journal.replaced > 0 && !state.failure) {
    deps.metrics.add('RefreshSeconds', seconds);
    if (boundRatio !== undefined) deps.metrics.add('RefreshBoundRatio', Math.round(boundRatio * 1000) / 1000);
  }
  const g = groupOf(deps, state.group);
  const text = refreshSummary({
    cluster: deps.config.cluster.name,
    group: state.group,
    execution: state.execution,
    replaced: journal.replaced,
    planned,
    seconds,
    desiredReady: g.desiredReady,
    ...(watch?.minReady !== undefined ? { minReady: watch.minReady } : {}),
    refusals: watch?.refusals ?? 0,
    budgets: watch?.budgets ?? [],
    notReplaced,
    podsLost: journal.podsLost?.length ?? 0,
    ...(state.failure ? { failure: state.failure.Error } : {}),
    ...(boundRatio !== undefined ? { boundRatio } : {}),
  });
  return deps.summaries.publish(text.subject, text.message);
}
