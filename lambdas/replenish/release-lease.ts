import type { Deps } from '../runtime';
import { ReplenishState } from './state';

/** What a pass did that its execution's end names (the reaps and raises are in the step's own output). */
const NAMED_AT_THE_END = [
  'repaired',
  'repairWaits',
  'repairHeld',
  'gaveBack',
  'heldBy',
  'podsLost',
  'quarantine',
] as const;

/** Releases the lease; the output keeps what the pass repaired, gave back or lost, so the execution's end says it. */
export async function releaseLease(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const released = await deps.lease.release(state.group, state.execution);
  const named = NAMED_AT_THE_END.filter((k) => state.did?.[k] !== undefined).map((k) => [k, state.did![k]]);
  return { ...state, did: { ...Object.fromEntries(named), released } };
}
