import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Workflow } from '../../lambdas/workflows';

/** The workflows' ASL as the runner loads it: the definition, its states' shape, and reference paths. */

const STATEMACHINES = join(__dirname, '..', '..', 'statemachines');
export const ACCOUNT = '123456789012';

export interface AslState {
  Type: string;
  TimeoutSeconds?: number;
  Resource?: string;
  Seconds?: number;
  /**
   * A reference path into the state input (`$.field`): the runner reads it from the last Task's output, which our
   * Choices pass on unchanged.
   */
  SecondsPath?: string;
  Retry?: Array<{
    ErrorEquals: string[];
    IntervalSeconds?: number;
    BackoffRate?: number;
    MaxAttempts?: number;
    MaxDelaySeconds?: number;
  }>;
}
export interface AslDefinition {
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, AslState>;
}

/** Loads a workflow's ASL file as deployed: every `${...}` placeholder substituted, as CDK's definitionSubstitutions do. */
export function loadDefinition(workflow: Workflow, substitutions: Record<string, string>): AslDefinition {
  const text = readFileSync(join(STATEMACHINES, `${workflow}.asl.json`), 'utf8').replace(
    /\$\{(\w+)\}/g,
    (m, key: string) => {
      if (!(key in substitutions)) throw new Error(`no substitution for ${m} in ${workflow}.asl.json`);
      return substitutions[key];
    },
  );
  return JSON.parse(text) as AslDefinition;
}

/** A Wait's SecondsPath (`$.a.b`) read from the state it gets; Step Functions fails the execution when it is not a non-negative integer. */
export function secondsAt(input: unknown, path: string, state: string): number {
  let v: unknown = input;
  for (const key of path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean))
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new Error(
      `States.Runtime: ${state}: SecondsPath ${path} is ${JSON.stringify(v)}, not a non-negative integer`,
    );
  return v;
}

/** What the interpreter will do with this error: the back-off before the retry, or undefined when it will not retry. */
export function retryBackoff(state: AslState, errorName: string, attempts: Map<string, number[]>): number | undefined {
  const retriers = state.Retry ?? [];
  for (let i = 0; i < retriers.length; i += 1) {
    const r = retriers[i];
    const matches = r.ErrorEquals.some(
      (n) => n === errorName || n === 'States.ALL' || (n === 'States.TaskFailed' && state.Type === 'Task'),
    );
    if (!matches) continue;
    const counts = attempts.get('n') ?? retriers.map(() => 0);
    const max = r.MaxAttempts ?? 3;
    if (counts[i] >= max) return undefined;
    const wait = Math.min(
      (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** counts[i],
      r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY,
    );
    counts[i] += 1;
    attempts.set('n', counts);
    return wait;
  }
  return undefined;
}

// aws-local-stepfunctions 3 needs Promise.withResolvers, which Node 20 lacks.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
