import { InvalidInputError } from './core';
import { shown, type StartEvent } from './input';
import type { Deps } from './runtime';
import { InvocationMetrics } from './aws/metrics';

/**
 * What each Task of a workflow's ASL sends: the first step gets the start, the others the
 * execution's state. `step` is the Task's own name in camelCase ("Replace oldest nodes" sends
 * `replaceOldest`), and names the file of `lambdas/<workflow>/` that runs it (replace-oldest.ts).
 */
export type StepEvent<S, K extends string> =
  { readonly step: 'validate'; readonly start: StartEvent } | { readonly step: K; readonly state: S };

export type Step<S> = (state: S, deps: Deps) => Promise<S>;

/**
 * One Lambda function serves every step of a workflow: a warm container keeps its SDK clients,
 * API server client and EKS token across the steps of an execution. `formerly` maps the step keys
 * of the previous release to today's, so an execution started before a deploy, whose ASL still
 * sends the old keys, ends under the new code.
 */
export function stepDispatcher<S, K extends string, F extends string = never>(
  workflow: string,
  validate: (start: StartEvent, deps: Deps) => Promise<S>,
  steps: Readonly<Record<K, Step<S>>>,
  formerly: Readonly<Record<F, K>> = {} as Record<F, K>,
): (event: StepEvent<S, K | F>, deps: Deps) => Promise<S> {
  const run = dispatchStep(workflow, validate, steps, formerly);
  return async (event, deps) => {
    // Each invocation counts what it did and publishes it once at its end, done or failed (a
    // failed step may have evicted pods before it failed).
    let group = groupIn((event as { state?: unknown }).state);
    const metrics = new InvocationMetrics(deps.config.cluster.name);
    try {
      const out = await run(event, { ...deps, metrics });
      group ??= groupIn(out);
      return out;
    } finally {
      metrics.flush(deps.now(), group, deps.emf);
    }
  };
}

function groupIn(state: unknown): string | undefined {
  const g = (state as { group?: unknown } | undefined)?.group;
  return typeof g === 'string' ? g : undefined;
}

function dispatchStep<S, K extends string, F extends string>(
  workflow: string,
  validate: (start: StartEvent, deps: Deps) => Promise<S>,
  steps: Readonly<Record<K, Step<S>>>,
  formerly: Readonly<Record<F, K>>,
): (event: StepEvent<S, K | F>, deps: Deps) => Promise<S> {
  return async (event, deps) => {
    if (event.step === 'validate') {
      const start = (event as { start?: StartEvent }).start;
      if (!start)
        throw new InvalidInputError(`the ${workflow} validate step needs "start" (the execution's input and context)`);
      return validate(start, deps);
    }
    // Own keys only: a direct invoke naming "constructor" or "toString" must not reach Object's.
    const own = <T extends object>(o: T, k: unknown): k is keyof T => typeof k === 'string' && Object.hasOwn(o, k);
    const key = own(formerly, event.step) ? formerly[event.step] : event.step;
    const fn = own(steps, key) ? steps[key] : undefined;
    if (!fn)
      throw new InvalidInputError(
        `unknown ${workflow} step ${shown(event.step, 40)}; the steps are validate, ${Object.keys(steps).join(', ')}`,
      );
    if (!('state' in event)) throw new InvalidInputError(`the ${workflow} step ${event.step} needs "state"`);
    return fn(event.state, deps);
  };
}
