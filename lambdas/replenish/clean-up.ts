import { uncordonAll } from '../drain';
import type { Deps } from '../runtime';
import { ReplenishJournal, ReplenishState } from './state';

/** Failure path: uncordon what this execution cordoned, release the lease. */
export async function cleanUp(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const rec = await deps.lease.get(state.group);
  if (rec?.holder !== state.execution) return { ...state, did: { cleanup: 'this execution holds no lease' } };
  const journal = rec.journal as ReplenishJournal | undefined;
  const uncordoned = await uncordonAll(deps.kube, journal?.cordoned ?? []);
  await deps.lease.release(state.group, state.execution);
  return { ...state, did: { uncordoned, released: true, failure: state.failure?.Error } };
}
