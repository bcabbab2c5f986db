import { cleanUp } from './clean-up';
import { giveBack } from './give-back';
import { planReplenish } from './plan-replenish';
import { releaseLease } from './release-lease';
import { replenishGroup } from './replenish-group';
import { takeLease } from './take-lease';

/** The replenish steps by the key each Task of statemachines/replenish.asl.json sends (its name, camelCased). */
export const REPLENISH_STEPS = { planReplenish, takeLease, replenishGroup, giveBack, releaseLease, cleanUp } as const;

export type ReplenishStep = keyof typeof REPLENISH_STEPS;

/** The keys the previous release's ASL sends, for executions started before a deploy. */
export const FORMER_REPLENISH_STEPS = {
  plan: 'planReplenish',
  acquire: 'takeLease',
  replenish: 'replenishGroup',
  cleanup: 'cleanUp',
  release: 'releaseLease',
} as const satisfies Record<string, ReplenishStep>;
