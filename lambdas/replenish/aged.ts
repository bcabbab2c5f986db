import { outdatedMembers, type Classification } from '../core';
import { groupOf } from '../input';
import type { Deps } from '../runtime';
import { windowOf } from '../refresh/window';

/**
 * `maxNodeAgeDays` without a schedule of its own: a replenish pass that finds, inside one of the
 * group's maintenance windows, a member past that age starts a refresh of the outdated members
 * (`replace: outdated`, `trigger: schedule`, so it ends at once if a refresh already runs). The
 * execution is named after the window (its close), so the passes of one window start it once.
 * Groups without windows are left to their schedule: an age alone never starts a refresh at an
 * hour nobody chose.
 */
export async function startAgedRefresh(
  deps: Deps,
  group: string,
  c: Classification,
  replenishStateMachine: string,
  now: number,
): Promise<string | undefined> {
  const g = groupOf(deps, group);
  if (g.maxNodeAgeDays === undefined || !g.maintenanceWindows?.length) return undefined;
  const w = windowOf(deps, { group }, now);
  if (!w?.open || w.closesAt === undefined) return undefined;
  const aged = outdatedMembers([], c, g.maxNodeAgeDays);
  if (aged.size === 0) return undefined;
  // The stack names its state machines node-manager-<cluster>-<workflow>.
  const refresh = replenishStateMachine.replace(/-replenish$/, '-refresh');
  const name = `aged-${group}-${Math.floor(w.closesAt / 1000)}`.slice(0, 80);
  const r = await deps.sfn.startExecution(
    refresh,
    name,
    JSON.stringify({ group, trigger: 'schedule', replace: 'outdated' }),
  );
  return r.started
    ? `${aged.size} node(s) past maxNodeAgeDays (${g.maxNodeAgeDays}) inside a maintenance window: started refresh ${name}`
    : undefined;
}
