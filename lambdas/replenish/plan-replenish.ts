import { memoryOf } from '../lease';
import { planReplenish as planPass } from '../core';
import type { Deps } from '../runtime';
import { ReplenishState, look } from './state';

/** Dry run: what a pass would do now, changing nothing. */
export async function planReplenish(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const { settings, snapshot, c, now } = await look(deps, state);
  const memory = memoryOf(await deps.lease.get(state.group));
  const p = planPass(snapshot.asgs, c, settings, memory, now);
  return {
    ...state,
    did: {
      dryRun: true,
      ready: p.ready,
      desiredReady: p.desiredReady,
      launching: p.launching,
      wouldReap: p.reap,
      wouldRaise: p.raise,
      wouldGiveBack: p.giveBack ?? null,
      notes: p.notes,
    },
  };
}
