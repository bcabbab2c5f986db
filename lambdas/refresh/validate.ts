import { groupSettings, surplusCount, type GroupConfig } from '../config';
import { batchSize, InvalidInputError, type RefreshOverrides } from '../core';
import { parseStart, shown, STARTED_BY, type StartEvent } from '../input';
import type { Deps } from '../runtime';
import { COST, type RefreshState } from './state';

/** "Validate input": the refresh's first step (the others are listed in steps.ts, the state they share in state.ts). */

/** Checks the start input before anything is read or changed, and says what is allowed. */
export async function validate(event: StartEvent, deps: Deps): Promise<RefreshState> {
  const {
    group: g,
    dryRun,
    extra,
  } = parseStart(
    event.input,
    deps,
    ['continuation', 'trigger', 'surplus', 'nodes', 'ignoreWindow', 'replace'],
    ['trigger ("schedule")', 'surplus', 'nodes', 'ignoreWindow', 'replace ("all" or "outdated")'],
  );
  const overrides = checkOverrides(g, extra);
  if (extra.trigger !== undefined && extra.trigger !== 'schedule')
    throw new InvalidInputError(
      `"trigger" may only be "schedule" (set by the refresh schedule); got ${JSON.stringify(extra.trigger).slice(0, 80)}`,
    );
  let continuation: RefreshState['continuation'];
  let startedAt = Date.parse(event.startTime);
  if (extra.continuation !== undefined) {
    continuation = checkContinuation(
      extra.continuation,
      (event.input as Record<string, unknown>)[STARTED_BY],
      event.stateMachineArn,
      Date.parse(event.startTime),
    );
    startedAt = continuation.startedAt;
  }
  const base = groupSettings(g);
  // This start's surplus, when it gives one, is the refresh's surplus and batch size.
  const settings =
    overrides?.surplus !== undefined
      ? { ...base, surplus: surplusCount({ surplus: overrides.surplus, desiredReady: g.desiredReady }) }
      : base;
  return {
    group: g.name,
    dryRun,
    execution: event.executionArn,
    stateMachine: event.stateMachineArn,
    startedAt,
    events: 3 + COST.task,
    historyBudget: deps.config.historyEventBudget,
    executionStartedAt: Date.parse(event.startTime),
    ...(continuation ? { continuedFrom: continuation.from, continuation } : {}),
    ...(extra.trigger === 'schedule' ? { trigger: 'schedule' as const } : {}),
    ...(overrides ? { overrides } : {}),
    did: {
      group: g.name,
      role: g.role,
      desiredReady: g.desiredReady,
      surplus: settings.surplus,
      batchSize: batchSize(settings),
      startedAt: new Date(startedAt).toISOString(),
      ...(continuation ? { continuedFrom: continuation.from } : {}),
      ...(overrides ? { overrides } : {}),
    },
  };
}

const NOT_YOURS =
  '"continuation" is set by node-manager itself when a refresh continues in a new execution; do not pass it';

/**
 * A continuation is accepted only as node-manager's own refresh passes it: from an execution of
 * this same state machine, which started this one (Step Functions says so in
 * AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID), with a start time a refresh can have, and the
 * hand-over token that execution put in the lease (checked when the lease is taken). Anything else
 * ends the execution with InvalidInput before anything is read or changed.
 */
function checkContinuation(
  raw: unknown,
  startedBy: unknown,
  stateMachineArn: string,
  now: number,
): NonNullable<RefreshState['continuation']> {
  const c = (typeof raw === 'object' && raw !== null ? raw : {}) as {
    from?: unknown;
    startedAt?: unknown;
    token?: unknown;
  };
  const ours = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`;
  if (
    typeof c.from !== 'string' ||
    !c.from.startsWith(ours) ||
    c.from.length > ours.length + 80 ||
    startedBy !== c.from
  )
    throw new InvalidInputError(NOT_YOURS);
  if (typeof c.token !== 'string' || !/^[0-9a-f]{32}$/.test(c.token)) throw new InvalidInputError(NOT_YOURS);
  // A refresh's start is in the past, and not older than any refresh can run (365 days of continuations).
  if (
    typeof c.startedAt !== 'number' ||
    !Number.isSafeInteger(c.startedAt) ||
    c.startedAt > now ||
    c.startedAt < now - 365 * 86_400_000
  )
    throw new InvalidInputError(NOT_YOURS);
  return { from: c.from, startedAt: c.startedAt, token: c.token };
}

/**
 * A start's overrides, checked before anything is read or changed: `surplus` as the deployment
 * file allows it (a count up to desiredReady, or a percentage; 0 for a control plane), `nodes`
 * (names, 1 to 100), `ignoreWindow` (boolean). Anything else ends the execution with InvalidInput.
 */
function checkOverrides(g: GroupConfig, extra: Readonly<Record<string, unknown>>): RefreshOverrides | undefined {
  const out: {
    surplus?: number | string;
    nodes?: string[];
    ignoreWindow?: boolean;
    replace?: 'all' | 'outdated';
    maxNodeAgeDays?: number;
  } = {};
  if (extra.replace !== undefined && extra.replace !== 'all' && extra.replace !== 'outdated')
    throw new InvalidInputError(`"replace" must be "all" or "outdated"; got ${shown(extra.replace)}`);
  // The group's default, unless this start says otherwise.
  if ((extra.replace ?? g.replace) === 'outdated') {
    out.replace = 'outdated';
    if (g.maxNodeAgeDays !== undefined) out.maxNodeAgeDays = g.maxNodeAgeDays;
  }
  if (extra.surplus !== undefined) {
    const v = extra.surplus;
    const ok =
      (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= g.desiredReady) ||
      (typeof v === 'string' && /^(100|[1-9]?\d)%$/.test(v));
    if (!ok)
      throw new InvalidInputError(
        `"surplus" must be a count from 0 to desiredReady (${g.desiredReady}) or a percentage of it such as "10%"; ` +
          `got ${shown(v)}`,
      );
    const surplus = v as number | string;
    if (g.role === 'control-plane' && surplusCount({ surplus, desiredReady: g.desiredReady }) !== 0)
      throw new InvalidInputError('"surplus" must be 0 for a control-plane group: it refreshes in place');
    out.surplus = surplus;
  }
  if (extra.nodes !== undefined) {
    const v = extra.nodes;
    if (
      !Array.isArray(v) ||
      v.length === 0 ||
      v.length > 100 ||
      !v.every((n) => typeof n === 'string' && n.length > 0 && n.length <= 253)
    )
      throw new InvalidInputError(`"nodes" must be a list of 1 to 100 node names; got ${shown(v)}`);
    out.nodes = [...new Set(v as string[])];
  }
  if (extra.ignoreWindow !== undefined) {
    if (typeof extra.ignoreWindow !== 'boolean')
      throw new InvalidInputError(`"ignoreWindow" must be true or false; got ${shown(extra.ignoreWindow)}`);
    out.ignoreWindow = extra.ignoreWindow;
  }
  return Object.keys(out).length ? out : undefined;
}
