import { leftoverSurplus, planSurge, readyWaitSeconds, SurgeBlockedError, type AsgState } from '../core';
import { groupOf, selectorOf } from '../input';
import { executionName } from '../drain';
import type { Deps } from '../runtime';
import { COST, leaseOf, look, next, saveJournal, type RefreshState } from './state';
import { describeClosed, windowOf } from './window';

/** Adds the surplus nodes (journaling every original desired and MaxSize, and the targets, first). */
export async function addSurplus(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const lease = await leaseOf(deps, state);
  let journal = lease.journal;
  const applied: string[] = [];
  let planned: Record<string, unknown>[] = [];
  let adopted: string[] = [];
  const plannedNow = !journal.surged;
  let current: readonly AsgState[] | undefined;
  if (!journal.surged) {
    // Outside the group's maintenance windows nothing is added: the batch loop waits for the next.
    const w = windowOf(deps, state, deps.now());
    if (w && !w.open)
      return { ...next(state, COST.task, { window: describeClosed(w), waitSeconds: 0 }), waitSeconds: 0 };
    const { settings, snapshot, c, now } = await look(deps, state);
    current = snapshot.asgs;
    // Surplus node-manager left in place (a stopped refresh's, being given back) counts toward this one's.
    const leftover = leftoverSurplus(snapshot.asgs, lease.memory);
    const kept = [...leftover.values()].reduce((n, x) => n + x, 0);
    const p = planSurge(snapshot.asgs, c, { ...settings, surplus: Math.max(0, settings.surplus - kept) }, now);
    if (p.blocked > 0)
      throw new SurgeBlockedError(
        `cannot add ${settings.surplus} surplus node(s) to group ${state.group}: ${p.blockedReason}`,
      );
    // Surplus an earlier refresh had to keep is not home: its home layout is remembered in the lease
    // (what someone else added above it since is theirs: part of the home).
    const home = lease.memory.home ?? {};
    const original = Object.fromEntries(
      snapshot.asgs.map((a) => [
        a.name,
        home[a.name] && leftover.has(a.name)
          ? { desired: a.desired - leftover.get(a.name)!, max: home[a.name].max }
          : (home[a.name] ?? { desired: a.desired, max: a.max }),
      ]),
    );
    const surgeTargets: Record<string, { desired: number; max?: number }> = Object.fromEntries(
      [...leftover.keys()].map((asg) => [asg, { desired: snapshot.asgs.find((a) => a.name === asg)!.desired }]),
    );
    for (const ch of p.changes)
      surgeTargets[ch.asg] = { desired: ch.toDesired, ...(ch.raiseMaxTo !== undefined ? { max: ch.raiseMaxTo } : {}) };
    journal = {
      ...journal,
      original,
      surged: true,
      surgeTargets,
      phase: 'surge',
      since: now,
      learned: journal.learned ?? lease.memory.learned,
      deadline: now + settings.joinTimeoutSeconds * 1000,
    };
    await saveJournal(deps, state, journal);
    // The leftover is this refresh's surplus now: replenish no longer counts it as its own to give back.
    if (leftover.size && lease.memory.added !== undefined) {
      const added = { ...lease.memory.added };
      for (const [asg, n] of leftover) added[asg] = Math.max(0, (added[asg] ?? 0) - n);
      await deps.lease.writeMemory(state.group, state.execution, { ...lease.memory, added });
    }
    adopted = [...leftover].map(
      ([asg, n]) => `${asg}: ${n} node(s) node-manager left in place count toward the surplus`,
    );
    planned = p.changes.map((ch) => ({
      asg: ch.asg,
      desired: `${ch.fromDesired} -> ${ch.toDesired}`,
      ...(ch.raiseMaxTo ? { maxSize: `${snapshot.asgs.find((a) => a.name === ch.asg)!.max} -> ${ch.raiseMaxTo}` } : {}),
    }));
  }
  // Apply what is not applied yet: a retried step (throttled, crashed) finishes the job, never doubles it.
  const targets = journal.surgeTargets ?? {};
  current ??= await deps.autoscaling.describeGroups(selectorOf(groupOf(deps, state.group)));
  for (const [asg, t] of Object.entries(targets)) {
    const a = current.find((x) => x.name === asg);
    if (!a || a.desired >= t.desired) continue;
    if (t.max !== undefined && a.max < t.max)
      await deps.autoscaling.updateSize(asg, { max: t.max, desired: t.desired });
    else await deps.autoscaling.setDesiredCapacity(asg, t.desired);
    applied.push(asg);
  }
  const added = Object.entries(targets).reduce(
    (n, [asg, t]) => n + t.desired - (journal.original[asg]?.desired ?? t.desired),
    0,
  );
  const from = state.resumedFrom ?? journal.resumedFrom?.execution;
  const again =
    'surplus journaled earlier' +
    (from ? ` (resuming ${executionName(from)}, start ${new Date(journal.startedAt).toISOString()})` : '') +
    `; applied now: ${applied.join(', ') || 'nothing, it is in place'}`;
  // The first look at the surplus comes when the group's launches have taken to be Ready before.
  const wait =
    journal.phase === 'surge' && added > 0 ? readyWaitSeconds(journal.learned, journal.since, deps.now()) : 0;
  return {
    ...next(state, COST.task, {
      added,
      // Planned now (nothing to add, as a control plane's in-place refresh: no changes), or journaled by an earlier attempt.
      ...(plannedNow || planned.length || adopted.length ? { changes: planned } : { resumed: again }),
      ...(adopted.length ? { surplusInPlace: adopted } : {}),
      waitSeconds: wait,
    }),
    waitSeconds: wait,
  };
}
