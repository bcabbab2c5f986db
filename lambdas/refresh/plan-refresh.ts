import { groupSettings } from '../config';
import { memoryOf } from '../lease';
import {
  batchSize,
  FIRST_DRAIN_SECONDS,
  FIRST_READY_SECONDS,
  judgePod,
  pickBatch,
  planSurge,
  refreshEstimateSeconds,
  type BatchMember,
  type NotReplaced,
} from '../core';
import { groupOf } from '../input';
import { budgetSelects } from '../kube/port';
import type { Deps } from '../runtime';
import { COST, look, next, type RefreshState } from './state';
import { describeClosed, windowOf } from './window';

/** Seconds a batch is expected to take when nothing was learned yet: a launch to Ready, and the pods to leave. */

/**
 * Dry run: what a refresh would do now, in the order it would do it, changing nothing. The batches
 * come from the run's own pick (oldest first, as the group's ASGs allow), each node's pods are read
 * and judged by the drain's own filters (what would hold a node, what would be lost), and the
 * duration is estimated from the group's learned waits (its last refreshes), batch by batch.
 */
export async function planRefresh(state: RefreshState, deps: Deps): Promise<RefreshState> {
  const { settings, snapshot, c, now } = await look(deps, state);
  const surge = planSurge(snapshot.asgs, c, settings, now);
  const policy = groupSettings(groupOf(deps, state.group)).drain;
  const kube = await deps.kube();
  // The run's own order: pick, count as gone, pick again, the surplus in place (its last batch
  // goes where the surplus stands in for it).
  const original = Object.fromEntries(snapshot.asgs.map((a) => [a.name, { desired: a.desired, max: a.max }]));
  const surged = snapshot.asgs.map((a) => {
    const ch = surge.changes.find((x) => x.asg === a.name);
    return ch ? { ...a, desired: ch.toDesired, max: Math.max(a.max, ch.raiseMaxTo ?? a.max) } : a;
  });
  const terminated: string[] = [];
  const passedOver: NotReplaced[] = [];
  const batches: string[][] = [];
  const lost: string[] = [];
  // Budgets that allow no disruption now, and the planned pods they cover: the run would wait on them.
  const budgets = (await kube.listBudgets()).filter((b) => b.disruptionsAllowed === 0);
  const waits: string[] = [];
  let skipped: ReturnType<typeof pickBatch>['skipped'] = [];
  for (let guard = 0; guard < 10_000; guard += 1) {
    const pick = pickBatch(
      surged,
      c,
      settings,
      {
        startedAt: state.startedAt,
        terminated,
        passedOver,
        original,
        ...(state.overrides ? { overrides: state.overrides } : {}),
      },
      now,
    );
    if (guard === 0) skipped = pick.skipped;
    if (pick.batch.length === 0) break;
    const batch: BatchMember[] = [];
    for (const b of pick.batch) {
      const pods = await kube.listPodsOnNode(b.node);
      const judged = pods.map((p) => ({ p, j: judgePod(p, { policy, voluntary: true, now }) }));
      const holds = judged.filter(({ j }) => j.verdict === 'holdNode');
      if (holds.length) {
        passedOver.push({
          node: b.node,
          instance: b.instanceId,
          asg: b.asg,
          reason: 'a pod holds it',
          pods: holds.map(({ p, j }) => `${p.namespace}/${p.name}: ${j.reason}`),
        });
        continue;
      }
      lost.push(...judged.filter(({ j }) => j.lost).map(({ p, j }) => `${p.namespace}/${p.name}: ${j.reason}`));
      for (const { p } of judged.filter(({ j }) => j.verdict === 'evict'))
        for (const bud of budgets.filter((x) => budgetSelects(x, p)))
          waits.push(
            `${p.namespace}/${p.name} on ${b.node}: budget ${bud.namespace}/${bud.name} allows no disruption now ` +
              '(the drain waits for it, up to drainTimeoutSeconds)',
          );
      batch.push(b);
    }
    terminated.push(...pick.batch.map((b) => b.instanceId));
    if (batch.length)
      batches.push(
        batch.map((b) => {
          const m = c.members.find((x) => x.instanceId === b.instanceId);
          return `${b.node} (${b.instanceId}, ${b.zone}, ${Math.round((m?.nodeAgeSeconds ?? 0) / 86400)}d old)`;
        }),
      );
  }
  const learned = memoryOf(await deps.lease.get(state.group)).learned;
  const ready = Math.max(...(learned?.readySeconds?.length ? learned.readySeconds : [FIRST_READY_SECONDS]));
  const drain = learned?.drainSeconds ?? FIRST_DRAIN_SECONDS;
  const estimate = refreshEstimateSeconds(learned, batches.length);
  const w = windowOf(deps, state, now);
  return next(state, COST.task, {
    dryRun: true,
    ready: c.counts.ready,
    desiredReady: settings.desiredReady,
    surplus: settings.surplus,
    batchSize: batchSize(settings),
    surge: surge.changes.map((ch) => ({
      asg: ch.asg,
      desired: `${ch.fromDesired} -> ${ch.toDesired}`,
      ...(ch.raiseMaxTo ? { maxSize: ch.raiseMaxTo } : {}),
    })),
    ...(surge.blocked ? { surgeBlocked: surge.blockedReason } : {}),
    replaceInOrder: batches,
    ...(passedOver.length ? { wouldLeave: passedOver } : {}),
    ...(lost.length ? { wouldLose: lost } : {}),
    ...(waits.length ? { wouldWait: waits } : {}),
    ...(skipped.length ? { cannotReplaceNow: skipped } : {}),
    estimate: {
      seconds: estimate,
      text:
        `about ${Math.round(estimate / 60)} min: ${batches.length} batch(es), ${ready}s a launch to Ready, ` +
        `${drain}s for pods to leave` +
        (learned?.readySeconds?.length ? ' (learned from its last refreshes)' : ' (nothing learned yet: defaults)'),
    },
    ...(w && !w.open ? { window: describeClosed(w) } : {}),
  });
}
