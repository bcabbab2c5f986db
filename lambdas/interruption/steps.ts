import { checkGroup } from './check-group';
import { checkInstance } from './check-instance';
import { checkNewNode } from './check-new-node';
import { drainNode } from './drain-node';
import { finishDrain } from './finish-drain';
import { takeNotice } from './take-notice';

/**
 * The interruption drain's steps (statemachines/interruption.asl.json): check the notice, take it
 * (which group, is it true, is it new, mark the node, start the replacement), drain until the node
 * is empty or the time is up, finish (terminate what we detached, complete the lifecycle action,
 * close the ledger entry), watch an instance that may outlive its notice, and measure how long a
 * reclaim left the group below desiredReady. It never takes the
 * group's lease: the deadline is minutes. What it does is written in the group's ledger.
 */

/** The steps by the key each Task of statemachines/interruption.asl.json sends (its name, camelCased). */
export const INTERRUPTION_STEPS = {
  takeNotice,
  checkNewNode,
  drainNode,
  finishDrain,
  checkInstance,
  checkGroup,
} as const;

export type InterruptionStep = keyof typeof INTERRUPTION_STEPS;

/** The keys the previous release's ASL sends, for executions started before a deploy. */
export const FORMER_INTERRUPTION_STEPS = {
  take: 'takeNotice',
  join: 'checkNewNode',
  drain: 'drainNode',
  finish: 'finishDrain',
  watch: 'checkInstance',
} as const satisfies Record<string, InterruptionStep>;
