import type { Deps } from '../runtime';
import { ReplenishState } from './state';

export async function releaseLease(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const released = await deps.lease.release(state.group, state.execution);
  return { ...state, did: { released } };
}
