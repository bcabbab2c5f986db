import { batchSize, pickBatch, planSurge } from '../core';
import type { Deps } from '../runtime';
import { COST, look, next, type RefreshState } from './state';

/** Dry run: what a refresh would do now, in order, changing nothing. */
export async function planRefresh(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const { settings, snapshot, c, now } = await look(deps, state);
  const surge = planSurge(snapshot.asgs, c, settings, now);
  const old = c.members.filter((m) => m.node && m.node.createdAt < state.startedAt && m.state !== 'leaving');
  const size = batchSize(settings);
  const batches: string[][] = [];
  for (let i = 0; i < old.length; i += size)
    batches.push(
      old
        .slice(i, i + size)
        .map(
          (m) => `${m.node!.name} (${m.instanceId}, ${m.zone}, ${Math.round((m.nodeAgeSeconds ?? 0) / 86400)}d old)`,
        ),
    );
  const skipped = pickBatch(snapshot.asgs, c, settings, { startedAt: state.startedAt, terminated: [] }, now).skipped;
  return next(state, COST.task, {
    dryRun: true,
    ready: c.counts.ready,
    desiredReady: settings.desiredReady,
    surge: surge.changes.map((ch) => ({
      asg: ch.asg,
      desired: `${ch.fromDesired} -> ${ch.toDesired}`,
      ...(ch.raiseMaxTo ? { maxSize: ch.raiseMaxTo } : {}),
    })),
    ...(surge.blocked ? { surgeBlocked: surge.blockedReason } : {}),
    replaceInOrder: batches,
    ...(skipped.length ? { cannotReplaceNow: skipped } : {}),
  });
}
