import { InvalidInputError } from './core';
import { shown, type StartEvent } from './input';
import type { Deps } from './runtime';

/** What each Task of a workflow's ASL sends: the first step gets the start, the others the execution's state. */
export type StepEvent<S, K extends string> =
  | { readonly step: 'validate'; readonly start: StartEvent }
  | { readonly step: Exclude<K, 'validate'>; readonly state: S };

/**
 * One Lambda function serves every step of a workflow: a warm container keeps its SDK clients,
 * API server client and EKS token across the steps of an execution.
 */
export function stepDispatcher<S, K extends string>(
  workflow: string,
  validate: (start: StartEvent, deps: Deps) => Promise<S>,
  steps: Readonly<Record<Exclude<K, 'validate'>, (state: S, deps: Deps) => Promise<S>>>,
): (event: StepEvent<S, K>, deps: Deps) => Promise<S> {
  return async (event, deps) => {
    if (event.step === 'validate') {
      const start = (event as { start?: StartEvent }).start;
      if (!start)
        throw new InvalidInputError(`the ${workflow} validate step needs "start" (the execution's input and context)`);
      return validate(start, deps);
    }
    // Own steps only: a direct invoke naming "constructor" or "toString" must not reach Object's.
    const fn =
      typeof event.step === 'string' && Object.hasOwn(steps, event.step)
        ? (steps[event.step] as (state: S, deps: Deps) => Promise<S>)
        : undefined;
    if (!fn)
      throw new InvalidInputError(
        `unknown ${workflow} step ${shown(event.step, 40)}; the steps are validate, ${Object.keys(steps).join(', ')}`,
      );
    if (!('state' in event)) throw new InvalidInputError(`the ${workflow} step ${event.step} needs "state"`);
    return fn(event.state, deps);
  };
}
