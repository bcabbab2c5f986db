import { heldBy } from '../lease';
import { uncordonAll } from '../drain';
import type { Deps } from '../runtime';
import { ReplenishJournal, ReplenishState } from './state';

/** Failure path: uncordon what this execution cordoned, release the lease. */
export async function cleanUp(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const rec = await deps.lease.get(state.group);
  const held = heldBy<ReplenishJournal | undefined>(rec, state.execution);
  if (!held) return { ...state, did: { cleanup: 'this execution holds no lease' } };
  const journal = held.journal;
  const uncordoned = await uncordonAll(deps.kube, journal?.cordoned ?? []);
  await deps.lease.release(state.group, state.execution);
  return { ...state, did: { uncordoned, released: true, failure: state.failure?.Error } };
}
