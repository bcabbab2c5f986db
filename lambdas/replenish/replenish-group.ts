import { mustHold } from '../lease';
import { isLeavingAsgState, planReplenish, replenishSummary, type GroupMemory } from '../core';
import type { Deps } from '../runtime';
import { tendQuarantine } from './quarantine';
import { measurePass } from './measure';
import { finishRepair, repairNode } from './repair';
import { ReplenishJournal, ReplenishState, look } from './state';

/** One pass: tend quarantined nodes, reap, raise desired where short, or start giving substitute capacity back. */
export async function replenishGroup(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const rec = await deps.lease.get(state.group);
  const held = mustHold(rec, state.group, state.execution);
  const q = await tendQuarantine(deps, state, held.memory);
  const quarantine = q.did?.length ? { quarantine: q.did, ...(q.podsLost ? { podsLost: q.podsLost } : {}) } : {};
  // A reap moving an instance out of Standby owns its ASG's sizes until it is done: nothing else this pass.
  if (q.busy) return { ...state, draining: false, did: { ...quarantine, draining: false } };
  const finished = await finishRepair(deps, state, q.memory);
  const memory = finished.memory;
  const { settings, snapshot, c, now } = await look(deps, state);
  const p = planReplenish(snapshot.asgs, c, settings, memory, now);
  // Memory first (back-off, cool-down): a retried pass must not act twice on one ASG.
  if (JSON.stringify(p.memory) !== JSON.stringify(memory))
    await deps.lease.writeMemory(state.group, state.execution, p.memory);
  measurePass(deps.metrics, p, true);
  const reaped = await reap(deps, state, p.memory, settings.joinTimeoutSeconds);
  if (reaped.length) deps.metrics.add('NodesReaped', reaped.length);
  for (const r of p.raise) await deps.autoscaling.setDesiredCapacity(r.asg, r.to);
  for (const r of p.restoreMax) await deps.autoscaling.updateSize(r.asg, { max: r.to });
  // A NotReady node repaired, one per pass, when nothing else is under way.
  const repaired =
    p.repair.repair && !p.giveBack && p.raise.length === 0 && reaped.length === 0
      ? await repairNode(deps, state, p.repair.repair, p.memory)
      : {};
  if ('repaired' in repaired) deps.metrics.add('NodesRepaired', 1);
  let draining = false;
  if (p.giveBack) {
    const journal: ReplenishJournal = {
      execution: state.execution,
      cordoned: [p.giveBack.node],
      giveBack: p.giveBack,
      deadline: now + settings.drainTimeoutSeconds * 1000,
    };
    await deps.lease.writeJournal(state.group, state.execution, journal, now);
    draining = true;
  }
  const text = replenishSummary({
    cluster: deps.config.cluster.name,
    group: state.group,
    execution: state.execution,
    ready: p.ready,
    desiredReady: p.desiredReady,
    raised: p.raise.map((r) => `${r.asg} ${r.from} -> ${r.to}`),
    reaped: reaped.length,
    ...(typeof repaired.repaired === 'string' ? { repaired: repaired.repaired } : {}),
    ...(p.giveBack ? { givingBack: `${p.giveBack.node} (${p.giveBack.asg})` } : {}),
  });
  const told = text ? await deps.summaries.publish(text.subject, text.message) : undefined;
  return {
    ...state,
    draining,
    did: {
      ready: p.ready,
      desiredReady: p.desiredReady,
      launching: p.launching,
      ...(reaped.length ? { reaped } : {}),
      ...(p.raise.length
        ? {
            raised: p.raise.map((r) => ({
              asg: r.asg,
              desired: `${r.from} -> ${r.to}`,
              home: p.memory.home?.[r.asg]?.desired,
            })),
          }
        : {}),
      ...(p.restoreMax.length
        ? { maxRestored: p.restoreMax.map((r) => `${r.asg}: max ${r.from} -> ${r.to} (home)`) }
        : {}),
      ...(p.giveBack
        ? {
            givingBack:
              `${p.giveBack.node} (${p.giveBack.instanceId}, ${p.giveBack.asg}): the group has ` +
              `${p.ready} Ready nodes, desired ${p.desiredReady}`,
          }
        : {}),
      ...quarantine,
      ...(finished.did ? { repairFinished: finished.did } : {}),
      ...repaired,
      ...(q.podsLost || 'podsLost' in repaired
        ? { podsLost: [...(q.podsLost ?? []), ...((repaired.podsLost as string[] | undefined) ?? [])] }
        : {}),
      ...(p.repair.held ? { repairHeld: p.repair.held } : {}),
      ...(p.notes.length ? { notes: p.notes } : {}),
      draining,
      ...(told ? { summary: told } : {}),
    },
  };
}

/**
 * Reaps: detaches each instance journaled in `memory.reaping` that is still in its ASG (without
 * decrement the ASG replaces it at once; with it, for an extra control-plane instance, it does
 * not), then terminates every journaled instance EC2 does not already show shutting down or gone,
 * and drops it from the journal. A pass that failed halfway (the detach done, the terminate not)
 * is finished by the next one from the journal: no instance is left running outside every ASG.
 */
async function reap(
  deps: Deps,
  state: ReplenishState,
  memory: GroupMemory,
  joinTimeoutSeconds: number,
): Promise<Array<Record<string, unknown>>> {
  const journal = memory.reaping ?? {};
  const ids = Object.keys(journal);
  if (ids.length === 0) return [];
  const asgs = new Map<string, string[]>();
  for (const id of ids) asgs.set(journal[id].asg, [...(asgs.get(journal[id].asg) ?? []), id]);
  const members = new Set(
    (await deps.autoscaling.describeGroups({ names: [...asgs.keys()] })).flatMap((a) =>
      a.instances.filter((i) => !isLeavingAsgState(i.lifecycleState)).map((i) => i.instanceId),
    ),
  );
  for (const [asg, inAsg] of asgs) {
    for (const decrement of [false, true]) {
      const detach = inAsg.filter((id) => members.has(id) && journal[id].decrement === decrement);
      if (detach.length) await deps.autoscaling.detachInstances(asg, detach, decrement);
    }
  }
  const seen = new Map((await deps.ec2.describeInstances(ids)).map((i) => [i.instanceId, i.state]));
  const live = ids.filter((id) => seen.has(id) && seen.get(id) !== 'shutting-down' && seen.get(id) !== 'terminated');
  if (live.length) await deps.ec2.terminateInstances(live);
  // `memory` is what this pass stored before acting: the lease is ours, so nobody changed it since.
  const rest = Object.fromEntries(Object.entries(journal).filter(([id]) => !ids.includes(id)));
  await deps.lease.writeMemory(state.group, state.execution, { ...memory, reaping: rest });
  return ids.map((id) => ({
    instanceId: id,
    asg: journal[id].asg,
    ageSeconds: journal[id].ageSeconds,
    why: `InService ${journal[id].ageSeconds}s without joining (join timeout ${joinTimeoutSeconds}s)`,
    replaced: !journal[id].decrement,
    ...(journal[id].at < deps.now()
      ? {
          finishedFromJournal:
            `journaled at ${new Date(journal[id].at).toISOString()}; ` +
            `${live.includes(id) ? 'terminated now' : `EC2 shows it ${seen.get(id) ?? 'gone'}`}`,
        }
      : {}),
  }));
}
