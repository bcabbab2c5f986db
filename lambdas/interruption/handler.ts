import { INTERRUPTION_STEPS, validate, type InterruptionState, type InterruptionStep } from './steps';
import { depsFromEnvironment } from '../runtime';
import { stepDispatcher, type StepEvent } from '../dispatch';

/** What each Task of statemachines/interruption.asl.json sends. */
export type InterruptionEvent = StepEvent<InterruptionState, InterruptionStep>;

export const dispatch = stepDispatcher<InterruptionState, InterruptionStep>(
  'interruption',
  validate,
  INTERRUPTION_STEPS,
);

export const handler = (event: InterruptionEvent): Promise<InterruptionState> => dispatch(event, depsFromEnvironment());
