import { InvalidInputError } from './core';
import type { StartEvent } from './input';
import { REPLENISH_STEPS, validate, type ReplenishState, type ReplenishStep } from './replenish';
import { depsFromEnvironment, type Deps } from './runtime';

/** What each Task of statemachines/replenish.asl.json sends. */
export type ReplenishEvent = { readonly step: 'validate'; readonly start: StartEvent } | { readonly step: Exclude<ReplenishStep, 'validate'>; readonly state: ReplenishState };

export async function dispatch(event: ReplenishEvent, deps: Deps): Promise<ReplenishState> {
  if (event.step === 'validate') return validate(event.start, deps);
  const fn = REPLENISH_STEPS[event.step];
  if (!fn) throw new InvalidInputError(`unknown replenish step ${JSON.stringify((event as { step: unknown }).step)}`);
  return fn(event.state, deps);
}

export const handler = (event: ReplenishEvent): Promise<ReplenishState> => dispatch(event, depsFromEnvironment());
