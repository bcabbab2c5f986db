import { REFRESH_STEPS, validate, type RefreshState, type RefreshStep } from './steps';
import { depsFromEnvironment } from '../runtime';
import { stepDispatcher, type StepEvent } from '../dispatch';

/** What each Task of statemachines/refresh.asl.json sends. */
export type RefreshEvent = StepEvent<RefreshState, RefreshStep>;

export const dispatch = stepDispatcher<RefreshState, RefreshStep>('refresh', validate, REFRESH_STEPS);

export const handler = (event: RefreshEvent): Promise<RefreshState> => dispatch(event, depsFromEnvironment());
