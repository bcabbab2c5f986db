import { randomBytes } from 'node:crypto';
import type { Deps } from '../runtime';
import { COST, next, type RefreshState } from './state';

/**
 * Before continuing in a new execution: offer the lease to it with a fresh token, which the
 * continuation carries; only the execution that presents it can take the lease over.
 */
export async function prepareHandOver(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const token = randomBytes(16).toString('hex');
  await deps.lease.offerHandover(state.group, state.execution, token);
  return {
    ...next(state, COST.task, { handingOver: 'the lease is offered to the next execution' }),
    handoverToken: token,
  };
}
