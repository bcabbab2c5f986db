import { stepDispatcher, type StepEvent } from '../dispatch';
import { depsFromEnvironment } from '../runtime';
import type { InterruptionState } from './state';
import { FORMER_INTERRUPTION_STEPS, INTERRUPTION_STEPS, type InterruptionStep } from './steps';
import { validate } from './validate';

/** What each Task of statemachines/interruption.asl.json sends. */
export type InterruptionEvent = StepEvent<InterruptionState, InterruptionStep | keyof typeof FORMER_INTERRUPTION_STEPS>;

export const dispatch = stepDispatcher<InterruptionState, InterruptionStep, keyof typeof FORMER_INTERRUPTION_STEPS>(
  'interruption',
  validate,
  INTERRUPTION_STEPS,
  FORMER_INTERRUPTION_STEPS,
);

export const handler = (event: InterruptionEvent): Promise<InterruptionState> => dispatch(event, depsFromEnvironment());
