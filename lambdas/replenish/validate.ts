import { memoryOf, pauseOf } from '../lease';
import { describePause, planReplenish } from '../core';
import { parseStart, type StartEvent } from '../input';
import type { Deps } from '../runtime';
import { lookAtGroup } from '../snapshot';
import { startAgedRefresh } from './aged';
import { measurePass } from './measure';
import { ReplenishState } from './state';

/**
 * Checks the input, then (not for a dry run) looks at the group without the lease: when nobody
 * holds it, nothing is being reaped or quarantined, and a pass would change nothing (no reap, no raise, no
 * MaxSize to restore, nothing to give back, memory as it is), the execution ends here, idle:
 * one Lambda invocation and three transitions for the pass that runs every few minutes and
 * almost always finds the group whole. Anything else takes the lease and plans again under it.
 */
export async function validate(event: StartEvent, deps: Deps): Promise<ReplenishState> {
  const { group, dryRun } = parseStart(event.input, deps);
  const state: ReplenishState = {
    group: group.name,
    dryRun,
    execution: event.executionArn,
    did: { group: group.name, role: group.role, desiredReady: group.desiredReady, dryRun },
  };
  if (dryRun) return state;
  const rec = await deps.lease.get(group.name);
  const memory = memoryOf(rec);
  const pause = pauseOf(rec, deps.now());
  if (pause) {
    // Paused: observe and say so; nothing is raised, given back, reaped or repaired.
    const { settings, snapshot, c, now } = await lookAtGroup(deps, group.name);
    const p = planReplenish(snapshot.asgs, c, settings, memory, now);
    measurePass(deps.metrics, p, false);
    const would = [
      ...p.raise.map((r) => `raise ${r.asg} ${r.from} -> ${r.to}`),
      ...(p.giveBack ? [`give back ${p.giveBack.node}`] : []),
      ...(p.repair.repair ? [`repair ${p.repair.repair.node}`] : []),
      ...(p.reap.length ? [`reap ${p.reap.length} instance(s) that never joined`] : []),
    ];
    return {
      ...state,
      idle: true,
      did: {
        ...state.did,
        paused: describePause(pause),
        observed: `${p.ready} Ready of ${p.desiredReady}, ${p.launching} launching`,
        ...(would.length ? { heldBack: would } : {}),
      },
    };
  }
  if (
    rec?.holder ||
    memory.repairing ||
    Object.keys(memory.reaping ?? {}).length ||
    Object.keys(memory.quarantined ?? {}).length
  )
    return { ...state, idle: false };
  const { settings, snapshot, c, now } = await lookAtGroup(deps, group.name);
  const aged = await startAgedRefresh(deps, group.name, c, event.stateMachineArn, now);
  const p = planReplenish(snapshot.asgs, c, settings, memory, now);
  const acts = p.reap.length || p.raise.length || p.restoreMax.length || p.giveBack || p.repair.repair;
  if (acts) return { ...state, idle: false };
  // Nothing to change but the bookkeeping (a launch failure seen lengthens an ASG's back-off):
  // kept by a conditional write, without the lease. During a Spot outage every failed launch
  // retry starts a pass; each ends here, one invocation, instead of taking the lease.
  const noted =
    JSON.stringify(p.memory) !== JSON.stringify(memory)
      ? await deps.lease.writeMemoryUnheld(group.name, p.memory, rec?.memory)
      : undefined;
  measurePass(deps.metrics, p, noted === true);
  return {
    ...state,
    idle: true,
    did: {
      ...state.did,
      idle: `${p.ready} Ready of ${p.desiredReady}, ${p.launching} launching: nothing to do`,
      ...(aged ? { agedNodes: aged } : {}),
      ...(noted !== undefined
        ? { backoff: noted ? 'launch failures noted' : 'another execution is at work on the group' }
        : {}),
      ...(p.repair.held ? { repairHeld: p.repair.held } : {}),
      ...(p.notes.length ? { notes: p.notes } : {}),
    },
  };
}
