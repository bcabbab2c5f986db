import type { GroupSettings } from '../lambdas/core';
import type { GroupConfig } from './config';

/**
 * What the functions need of the configuration at run time, without the schema: lib/config.ts
 * validates with zod when the stack is synthesized, and the functions, which get the validated
 * configuration inlined, do not carry zod (a fifth of a bundle) to validate it again.
 */

/** Thrown when a configuration does not validate; the message names each field and what is allowed. */
export class InvalidConfigError extends Error {
  readonly name = 'InvalidConfig';
}

/** The surplus in nodes: a count as given, a percentage of desiredReady rounded up (at least one node unless 0%). */
export function surplusCount(g: { readonly surplus: number | string; readonly desiredReady: number }): number {
  if (typeof g.surplus === 'number') return g.surplus;
  const pct = Number(g.surplus.slice(0, -1));
  return pct === 0 ? 0 : Math.max(1, Math.ceil((g.desiredReady * pct) / 100));
}

export function groupSettings(g: GroupConfig): GroupSettings {
  return {
    name: g.name,
    role: g.role,
    desiredReady: g.desiredReady,
    surplus: surplusCount(g),
    drainTimeoutSeconds: g.drainTimeoutSeconds,
    joinTimeoutSeconds: g.joinTimeoutSeconds,
    cooldownSeconds: g.cooldownSeconds,
  };
}
