import { heldBy, memoryOf, withRefreshSurplus } from '../lease';
import { type RefreshJournal } from '../core';
import { groupOf, selectorOf } from '../input';
import { uncordonAll } from '../drain';
import type { Deps } from '../runtime';
import { COST, next, type RefreshState } from './state';

/**
 * What can be put back without draining: uncordon our nodes that still run, and MaxSize where
 * desired already fits under it. Desired is never lowered here: the ASG would choose which
 * instance to terminate (the oldest, usually) and its pods would go without eviction. Surplus left
 * in place is reported; the next refresh or replenish gives it back.
 */
async function restore(deps: Deps, group: string, journal: RefreshJournal): Promise<Record<string, unknown>> {
  const uncordoned = await uncordonAll(deps.kube, journal.cordoned);
  const g = groupOf(deps, group);
  const asgs = await deps.autoscaling.describeGroups(selectorOf(g));
  const maxRestored: string[] = [];
  const surplusLeft: string[] = [];
  for (const a of asgs) {
    const home = journal.original[a.name];
    if (!home) continue;
    if (a.desired > home.desired) surplusLeft.push(`${a.name}: desired ${a.desired} (home ${home.desired})`);
    if (a.max !== home.max && a.desired <= home.max) {
      await deps.autoscaling.updateSize(a.name, { max: home.max });
      maxRestored.push(`${a.name}: max ${a.max} -> ${home.max}`);
    }
  }
  return { uncordoned, maxRestored, ...(surplusLeft.length ? { surplusLeftInPlace: surplusLeft } : {}) };
}

/**
 * Last resort when giving back failed too: restore what can be restored without draining, record
 * the home layout in the lease memory (so the next refresh or replenish gives the surplus left in
 * place back, rather than taking it for home), and release. A retry after this step did its work
 * finds the lease released and says, from the group as it is, what was left in place.
 */
export async function restoreSizes(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const rec = await deps.lease.get(state.group);
  const failure = state.failure ?? state.giveBackFailure;
  const withFailure = (s: RefreshState) => ({ ...s, ...(failure ? { failure } : {}) });
  const held = heldBy<RefreshJournal>(rec, state.execution);
  if (!held) {
    const home = memoryOf(rec).home ?? {};
    const asgs = await deps.autoscaling.describeGroups(selectorOf(groupOf(deps, state.group)));
    const left = asgs
      .filter((a) => home[a.name] && (a.desired > home[a.name].desired || a.max > home[a.name].max))
      .map((a) => `${a.name}: desired ${a.desired}, max ${a.max} (home ${home[a.name].desired}/${home[a.name].max})`);
    return withFailure(
      next(state, COST.task, {
        restored: `already done: the lease of group ${state.group} is ${rec?.holder ? `held by ${rec.holder}` : 'released'}`,
        ...(left.length
          ? {
              surplusLeftInPlace: left,
              homeLayout: 'remembered in the lease memory: the next replenish or refresh gives it back',
            }
          : {}),
      }),
    );
  }
  const { journal, memory } = held;
  const restored = await restore(deps, state.group, journal);
  if (journal.surged || Object.keys(journal.original).length) {
    await deps.lease.writeMemory(state.group, state.execution, withRefreshSurplus(memory, journal));
  }
  await deps.lease.release(state.group, state.execution);
  return withFailure(
    next(state, COST.task, {
      restored,
      ...(restored.surplusLeftInPlace
        ? { homeLayout: 'remembered in the lease memory: the next replenish or refresh gives it back' }
        : {}),
      released: true,
    }),
  );
}
