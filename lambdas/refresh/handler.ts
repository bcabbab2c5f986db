import { stepDispatcher, type StepEvent } from '../dispatch';
import { depsFromEnvironment } from '../runtime';
import type { RefreshState } from './state';
import { FORMER_REFRESH_STEPS, REFRESH_STEPS, type RefreshStep } from './steps';
import { validate } from './validate';

/** What each Task of statemachines/refresh.asl.json sends. */
export type RefreshEvent = StepEvent<RefreshState, RefreshStep | keyof typeof FORMER_REFRESH_STEPS>;

export const dispatch = stepDispatcher<RefreshState, RefreshStep, keyof typeof FORMER_REFRESH_STEPS>(
  'refresh',
  validate,
  REFRESH_STEPS,
  FORMER_REFRESH_STEPS,
);

export const handler = (event: RefreshEvent): Promise<RefreshState> => dispatch(event, depsFromEnvironment());
