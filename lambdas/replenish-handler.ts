import { REPLENISH_STEPS, validate, type ReplenishState, type ReplenishStep } from './replenish';
import { depsFromEnvironment } from './runtime';
import { stepDispatcher, type StepEvent } from './steps';

/** What each Task of statemachines/replenish.asl.json sends. */
export type ReplenishEvent = StepEvent<ReplenishState, ReplenishStep>;

export const dispatch = stepDispatcher<ReplenishState, ReplenishStep>('replenish', validate, REPLENISH_STEPS);

export const handler = (event: ReplenishEvent): Promise<ReplenishState> => dispatch(event, depsFromEnvironment());
