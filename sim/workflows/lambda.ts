import type { Deps } from '../../lambdas/runtime';
import type { Workflow } from '../../lambdas/workflows';
import { dispatch as refreshDispatch, type RefreshEvent } from '../../lambdas/refresh/handler';
import { dispatch as replenishDispatch, type ReplenishEvent } from '../../lambdas/replenish/handler';
import { dispatch as interruptionDispatch, type InterruptionEvent } from '../../lambdas/interruption/handler';

/** Lambda's error shape as Step Functions sees it: the type as `Error`, a JSON Cause. */
export class LambdaError extends Error {
  constructor(
    readonly name: string,
    message: string,
  ) {
    super(message, { cause: JSON.stringify({ errorType: name, errorMessage: message }) });
  }
}

/** Each workflow's Lambda function, as its Tasks invoke it (a new workflow must be added here to compile). */
export const DISPATCH: { readonly [W in Workflow]: (event: never, deps: Deps) => Promise<unknown> } = {
  refresh: (event: RefreshEvent, deps) => refreshDispatch(event, deps),
  replenish: (event: ReplenishEvent, deps) => replenishDispatch(event, deps),
  interruption: (event: InterruptionEvent, deps) => interruptionDispatch(event, deps),
};

/** Beyond any simulation's real duration, and within what a Node timer can hold (2^31 ms). */
export const REAL_TASK_TIMEOUT_SECONDS = 2_000_000;

/** Virtual duration of one invocation: a cold-ish base plus each API call it made. */
export const LAMBDA_BASE_MS = 120;
export const LAMBDA_PER_CALL_MS = 40;
