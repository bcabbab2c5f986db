import { InvalidInputError } from './core';
import { REFRESH_STEPS, validate, type RefreshState, type RefreshStep, type StartEvent } from './refresh';
import { depsFromEnvironment, type Deps } from './runtime';

/** What each Task of statemachines/refresh.asl.json sends: the step to run and the execution's state. */
export type RefreshEvent = { readonly step: 'validate'; readonly start: StartEvent } | { readonly step: Exclude<RefreshStep, 'validate'>; readonly state: RefreshState };

/**
 * One Lambda function serves every step of the refresh: a warm container keeps its SDK clients,
 * API server client and EKS token across the steps of an execution.
 */
export async function dispatch(event: RefreshEvent, deps: Deps): Promise<RefreshState> {
  if (event.step === 'validate') return validate(event.start, deps);
  const fn = REFRESH_STEPS[event.step];
  if (!fn) throw new InvalidInputError(`unknown refresh step ${JSON.stringify((event as { step: unknown }).step)}`);
  return fn(event.state, deps);
}

export const handler = (event: RefreshEvent): Promise<RefreshState> => dispatch(event, depsFromEnvironment());
