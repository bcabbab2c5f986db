import { windowState, type WindowState } from '../core';
import { groupOf } from '../input';
import type { Deps } from '../runtime';

/**
 * The group's maintenance windows as the batch loop meets them (core/windows.ts): undefined when
 * the group has none (any time will do), or the start said `ignoreWindow`.
 */
export function windowOf(
  deps: Deps,
  state: { readonly group: string; readonly overrides?: { readonly ignoreWindow?: boolean } },
  now: number,
): WindowState | undefined {
  if (state.overrides?.ignoreWindow) return undefined;
  const windows = groupOf(deps, state.group).maintenanceWindows;
  return windows?.length ? windowState(windows, now) : undefined;
}

/** A wait for the next window: until it opens, an hour at a time (each pass checks again; a long wait hands over). */
export function windowWaitSeconds(w: WindowState, now: number): number {
  const left = w.opensAt !== undefined ? Math.ceil((w.opensAt - now) / 1000) : 3600;
  return Math.max(1, Math.min(3600, left));
}

/** How a closed window reads in an output. */
export function describeClosed(w: WindowState): string {
  return w.opensAt !== undefined
    ? `outside its maintenance windows: the next opens at ${new Date(w.opensAt).toISOString()}`
    : 'outside its maintenance windows: none opens in the next 8 days';
}
