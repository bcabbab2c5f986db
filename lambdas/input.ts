import type { GroupConfig } from './config';
import { InvalidInputError } from './core';
import type { AsgSelector } from './aws/autoscaling';
import type { Deps } from './runtime';

/** What the first Task of every workflow passes: the execution's input and its context. */
export interface StartEvent {
  readonly input: unknown;
  readonly executionArn: string;
  readonly startTime: string;
  readonly stateMachineArn: string;
}

/** Step Functions adds this key to the input of an execution started by another one. */
export const STARTED_BY = 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID';

export interface StartInput {
  readonly group: GroupConfig;
  readonly dryRun: boolean;
  /** The other fields the workflow accepts, as given. */
  readonly extra: Readonly<Record<string, unknown>>;
}

/** Caller input quoted in an error, bounded: a 200 kB field must not make a 200 kB error. */
export function shown(v: unknown, max = 80): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > max ? `${s.slice(0, max - 1)}… (${s.length} characters)` : s;
}

export function groupOf(deps: Deps, name: string): GroupConfig {
  const g = deps.config.groups.find((x) => x.name === name);
  if (!g) throw new InvalidInputError(`unknown group ${shown(name)}`);
  return g;
}

export function selectorOf(g: GroupConfig): AsgSelector {
  return g.asgNames ? { names: g.asgNames } : { tags: g.asgTags ?? {} };
}

/**
 * Checks a workflow's start input before anything is read or changed: a JSON object with a
 * configured `group`, an optional boolean `dryRun`, and nothing else but `extraKeys`. The error
 * says what is wrong and what is allowed.
 */
export function parseStart(
  input: unknown,
  deps: Deps,
  extraKeys: readonly string[] = [],
  /** How the allowed-fields message names the extra keys a caller may pass (`trigger ("schedule")`). */
  documented: readonly string[] = [],
): StartInput {
  const allowed = deps.config.groups.map((g) => g.name);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidInputError(
      `the input must be a JSON object such as {"group": "${allowed[0]}"}; got ${shown(input)}`,
    );
  }
  const fields = input as Record<string, unknown>;
  const known = ['group', 'dryRun', STARTED_BY, ...extraKeys];
  const unknown = Object.keys(fields).filter((k) => !known.includes(k));
  if (unknown.length) {
    const names =
      unknown
        .slice(0, 5)
        .map((k) => shown(k, 40))
        .join(', ') + (unknown.length > 5 ? ` and ${unknown.length - 5} more` : '');
    throw new InvalidInputError(
      `unknown field(s) ${names}; allowed: group (one of ${allowed.join(', ')}), dryRun (boolean)` +
        documented.map((d) => `, ${d}`).join(''),
    );
  }
  if (typeof fields.group !== 'string' || !allowed.includes(fields.group)) {
    throw new InvalidInputError(
      `"group" must be one of ${allowed.map((a) => `"${a}"`).join(', ')}; got ${shown(fields.group ?? null)}`,
    );
  }
  if (fields.dryRun !== undefined && typeof fields.dryRun !== 'boolean') {
    throw new InvalidInputError(`"dryRun" must be true or false; got ${shown(fields.dryRun)}`);
  }
  const extra = Object.fromEntries(extraKeys.filter((k) => fields[k] !== undefined).map((k) => [k, fields[k]]));
  return { group: groupOf(deps, fields.group), dryRun: fields.dryRun === true, extra };
}
