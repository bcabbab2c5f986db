import { REPLENISH_STEPS, validate, type ReplenishState, type ReplenishStep } from './steps';
import { depsFromEnvironment } from '../runtime';
import { stepDispatcher, type StepEvent } from '../dispatch';

/** What each Task of statemachines/replenish.asl.json sends. */
export type ReplenishEvent = StepEvent<ReplenishState, ReplenishStep>;

export const dispatch = stepDispatcher<ReplenishState, ReplenishStep>('replenish', validate, REPLENISH_STEPS);

export const handler = (event: ReplenishEvent): Promise<ReplenishState> => dispatch(event, depsFromEnvironment());
