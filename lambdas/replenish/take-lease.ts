import { LeaseHeldError, type RefreshJournal } from '../core';
import { acquireGroupLease, withRefreshSurplus } from '../lease';
import { uncordonAll } from '../drain';
import type { Deps } from '../runtime';
import { ReplenishJournal, ReplenishState } from './state';

/**
 * Takes the lease. While a refresh (or another replenish) runs, the execution skips, successfully,
 * and says who holds the group: concurrent starts collapse into one. A dead holder's lease is
 * taken over: its cordons are undone, and a dead refresh's surplus becomes substitute capacity to
 * give back (its home layout goes to memory).
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
    if (got.recoveredKind === 'refresh' && dead?.surged && dead.original) {
      const memory = got.memory;
      await deps.lease.writeMemory(
        state.group,
        state.execution,
        withRefreshSurplus(memory, { original: dead.original, surgeTargets: dead.surgeTargets }),
      );
    }
    recovered = { takenOverFrom: `${got.recoveredKind} ${got.recoveredFrom}`, uncordoned };
  }
  await deps.lease.writeJournal(state.group, state.execution, journal, deps.now());
  return { ...state, skipped: false, did: { lease: 'taken', ...(recovered ?? {}) } };
}
