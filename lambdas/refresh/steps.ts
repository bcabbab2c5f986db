import { addSurplus } from './add-surplus';
import { cleanUp } from './clean-up';
import { giveBack } from './give-back';
import { planRefresh } from './plan-refresh';
import { prepareHandOver } from './prepare-hand-over';
import { releaseLease } from './release-lease';
import { replaceOldest } from './replace-oldest';
import { restoreSizes } from './restore-sizes';
import { takeLease } from './take-lease';

/** The refresh's steps by the key each Task of statemachines/refresh.asl.json sends (its name, camelCased). */
export const REFRESH_STEPS = {
  planRefresh,
  takeLease,
  addSurplus,
  replaceOldest,
  prepareHandOver,
  giveBack,
  releaseLease,
  cleanUp,
  restoreSizes,
} as const;

export type RefreshStep = keyof typeof REFRESH_STEPS;

/** The keys the previous release's ASL sends, for executions started before a deploy. */
export const FORMER_REFRESH_STEPS = {
  plan: 'planRefresh',
  acquire: 'takeLease',
  surge: 'addSurplus',
  advance: 'replaceOldest',
  handOver: 'prepareHandOver',
  release: 'releaseLease',
  cleanup: 'cleanUp',
  forceRestore: 'restoreSizes',
} as const satisfies Record<string, RefreshStep>;
