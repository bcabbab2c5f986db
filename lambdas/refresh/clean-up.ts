import { heldBy } from '../lease';
import { groupSettings } from '../config';
import { type RefreshJournal } from '../core';
import { groupOf } from '../input';
import { uncordonAll } from '../drain';
import type { Deps } from '../runtime';
import { COST, next, saveJournal, type RefreshState } from './state';

/** Failure path, first step: uncordon what we cordoned and did not terminate; the give-back loop follows. */
export async function cleanUp(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const rec = await deps.lease.get(state.group);
  const held = heldBy<RefreshJournal>(rec, state.execution);
  if (!held) return next(state, COST.task, { cleanup: 'this execution holds no lease: nothing to clean up' });
  const journal = held.journal;
  const uncordoned = await uncordonAll(deps.kube, journal.cordoned);
  await saveJournal(deps, state, {
    ...journal,
    cordoned: [],
    batch: [],
    phase: 'giveBack',
    deadline: deps.now() + groupSettings(groupOf(deps, state.group)).drainTimeoutSeconds * 1000,
    failure: state.failure?.Error ?? 'unknown',
    refreshAfterGiveBack: false,
  });
  return next(state, COST.task, { uncordoned, failure: state.failure?.Error });
}
