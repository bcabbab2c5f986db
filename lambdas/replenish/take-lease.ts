import { LeaseHeldError, type RefreshJournal, type StoppedRefresh } from '../core';
import { acquireGroupLease, withRefreshSurplus } from '../lease';
import { uncordonAll } from '../drain';
import type { Deps } from '../runtime';
import { ReplenishJournal, ReplenishState } from './state';

/**
 * Takes the lease. While a refresh (or another replenish) runs, the execution skips, successfully,
 * and says who holds the group: concurrent starts collapse into one. A dead holder's lease is
 * taken over: its cordons are undone, and a dead refresh's surplus becomes substitute capacity to
 * give back (its home layout goes to memory), its start and progress kept for the next refresh.
 */
export async function takeLease(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  let got;
  try {
    got = await acquireGroupLease(deps.lease, deps.sfn, state.group, state.execution, 'replenish', deps.now());
  } catch (e) {
    if (e instanceof LeaseHeldError) {
      return { ...state, skipped: true, did: { skipped: `${e.holderKind} ${e.holder} holds group ${state.group}` } };
    }
    throw e;
  }
  const journal: ReplenishJournal = { execution: state.execution, cordoned: [] };
  let recovered: Record<string, unknown> | undefined;
  if (got.recoveredFrom) {
    const dead = got.recoveredJournal as (Partial<RefreshJournal> & Partial<ReplenishJournal>) | undefined;
    const uncordoned = await uncordonAll(deps.kube, dead?.cordoned ?? []);
    let kept: StoppedRefresh | undefined;
    if (got.recoveredKind === 'refresh' && dead?.startedAt !== undefined) {
      // Stop is pause: the surplus goes back (as substitute capacity: drained, terminated with
      // decrement), and the next refresh resumes from this one's start and progress.
      const memory = got.memory;
      kept = {
        execution: got.recoveredFrom,
        startedAt: dead.startedAt,
        replaced: dead.replaced ?? 0,
        phase: dead.phase ?? 'surge',
        at: deps.now(),
      };
      const withSurplus =
        dead.surged && dead.original
          ? withRefreshSurplus(memory, { original: dead.original, surgeTargets: dead.surgeTargets })
          : memory;
      await deps.lease.writeMemory(state.group, state.execution, { ...withSurplus, stoppedRefresh: kept });
    }
    recovered = {
      takenOverFrom: `${got.recoveredKind} ${got.recoveredFrom}`,
      uncordoned,
      ...(kept
        ? {
            refreshKept:
              `the next refresh resumes from ${kept.execution}'s start (${new Date(kept.startedAt).toISOString()}, ` +
              `${kept.replaced} replaced): nodes launched since are not replaced again`,
          }
        : {}),
    };
  }
  await deps.lease.writeJournal(state.group, state.execution, journal, deps.now());
  return { ...state, skipped: false, did: { lease: 'taken', ...(recovered ?? {}) } };
}
