import { heldBy } from '../lease';
import { type RefreshJournal } from '../core';
import type { Deps } from '../runtime';
import { COST, next, type RefreshState } from './state';

/** Releases the lease (idempotent). */
export async function releaseLease(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const rec = await deps.lease.get(state.group);
  const replaced = heldBy<RefreshJournal | undefined>(rec, state.execution)?.journal?.replaced;
  const released = await deps.lease.release(state.group, state.execution);
  return next(state, COST.task, {
    released,
    ...(replaced !== undefined ? { replaced } : {}),
    ...(state.failure ? { failure: state.failure.Error } : {}),
  });
}
