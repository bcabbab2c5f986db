import { stepDispatcher, type StepEvent } from '../dispatch';
import { depsFromEnvironment } from '../runtime';
import type { ReplenishState } from './state';
import { FORMER_REPLENISH_STEPS, REPLENISH_STEPS, type ReplenishStep } from './steps';
import { validate } from './validate';

/** What each Task of statemachines/replenish.asl.json sends. */
export type ReplenishEvent = StepEvent<ReplenishState, ReplenishStep | keyof typeof FORMER_REPLENISH_STEPS>;

export const dispatch = stepDispatcher<ReplenishState, ReplenishStep, keyof typeof FORMER_REPLENISH_STEPS>(
  'replenish',
  validate,
  REPLENISH_STEPS,
  FORMER_REPLENISH_STEPS,
);

export const handler = (event: ReplenishEvent): Promise<ReplenishState> => dispatch(event, depsFromEnvironment());
