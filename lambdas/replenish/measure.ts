import type { Measures, ReplenishPlan } from '../core';

/**
 * What a replenish pass saw, published at every pass (the dashboard's Ready against desired, the
 * alarms' shortfall and substitute capacity). A shortfall's length is published by the pass whose
 * memory write ended it (`stored`), so that two passes racing do not both count it.
 */
export function measurePass(measures: Measures, p: ReplenishPlan, stored: boolean): void {
  measures.add('ReadyNodes', p.ready);
  measures.add('DesiredReady', p.desiredReady);
  measures.add('ReadyShortfall', Math.max(0, p.desiredReady - p.ready));
  measures.add('SubstituteNodes', p.substitutes);
  if (stored && p.shortfallEnded !== undefined) measures.add('SecondsBelowDesired', p.shortfallEnded);
}
