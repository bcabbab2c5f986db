import {
  GIVE_BACK_BLOCKED_SECONDS,
  GIVE_BACK_RETRY_SECONDS,
  isLeavingAsgState,
  LeaseHeldError,
  LeaseLostError,
  planReplenish,
  type RefreshJournal,
  type ReplenishMemory,
} from '../core';
import { acquireGroupLease } from '../aws/lease';
import { parseStart, type StartEvent } from '../input';
import { drainNode, evictPass, executionName, uncordonAll, type DrainPass } from '../drain';
import type { KubePort } from '../kube/port';
import { terminateUnlessLeaving } from '../terminate';
import type { Deps } from '../runtime';
import { lookAtGroup } from '../snapshot';

/**
 * The replenish workflow's steps: one pass over a group (reap, substitute, give back), short and
 * frequent (a schedule every few minutes, and Auto Scaling events). Like refresh, each step
 * returns the execution's state with `did`.
 */
export interface ReplenishState {
  readonly group: string;
  readonly dryRun: boolean;
  readonly execution: string;
  /** Set when another execution holds the group: the execution ends at once, successfully. */
  readonly skipped?: boolean;
  /** Set by validate: a look without the lease found nothing to do; the execution ends at once. */
  readonly idle?: boolean;
  readonly did?: Record<string, unknown>;
  readonly failure?: { readonly Error: string; readonly Cause: string };
}

/** What a replenish execution changes and must undo if it fails: nodes it cordoned to give back. */
interface ReplenishJournal {
  readonly execution: string;
  readonly cordoned: readonly string[];
  readonly giveBack?: { readonly instanceId: string; readonly node: string; readonly asg: string };
  readonly deadline?: number;
  /** Since when every pod left has been refused by its budget, with no eviction going through. */
  readonly blockedSince?: number;
  /** The node is cordoned (the first pass did it): later passes only evict. */
  readonly marked?: boolean;
}

/**
 * Checks the input, then (not for a dry run) looks at the group without the lease: when nobody
 * holds it, nothing is being reaped, and a pass would change nothing (no reap, no raise, no
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
  const memory = (rec?.memory as ReplenishMemory | undefined) ?? {};
  if (rec?.holder || Object.keys(memory.reaping ?? {}).length) return { ...state, idle: false };
  const { settings, snapshot, c, now } = await lookAtGroup(deps, group.name);
  const p = planReplenish(snapshot.asgs, c, settings, memory, now);
  const acts = p.reap.length || p.raise.length || p.restoreMax.length || p.giveBack;
  if (acts) return { ...state, idle: false };
  // Nothing to change but the bookkeeping (a launch failure seen lengthens an ASG's back-off):
  // kept by a conditional write, without the lease. During a Spot outage every failed launch
  // retry starts a pass; each ends here, one invocation, instead of taking the lease.
  const noted =
    JSON.stringify(p.memory) !== JSON.stringify(memory)
      ? await deps.lease.writeMemoryUnheld(group.name, p.memory, rec?.memory)
      : undefined;
  return {
    ...state,
    idle: true,
    did: {
      ...state.did,
      idle: `${p.ready} Ready of ${p.desiredReady}, ${p.launching} launching: nothing to do`,
      ...(noted !== undefined
        ? { backoff: noted ? 'launch failures noted' : 'another execution is at work on the group' }
        : {}),
      ...(p.notes.length ? { notes: p.notes } : {}),
    },
  };
}

const look = (deps: Deps, state: ReplenishState) => lookAtGroup(deps, state.group);

/**
 * Takes the lease. While a refresh (or another replenish) runs, the execution skips, successfully,
 * and says who holds the group: concurrent starts collapse into one. A dead holder's lease is
 * taken over: its cordons are undone, and a dead refresh's surplus becomes substitute capacity to
 * give back (its home layout goes to memory).
 */
export async function acquire(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  let got;
  try {
    got = await acquireGroupLease(deps.lease, deps.sfn, state.group, state.execution, 'replenish', deps.now());
  } catch (e) {
    if (e instanceof LeaseHeldError) {
      return { ...state, skipped: true, did: { skipped: `${e.holderKind} ${e.holder} holds group ${state.group}` } };
    }
    throw e;
  }
  const journal: ReplenishJournal = { execution: state.execution, cordoned: [] };
  let recovered: Record<string, unknown> | undefined;
  if (got.recoveredFrom) {
    const dead = got.recoveredJournal as (Partial<RefreshJournal> & Partial<ReplenishJournal>) | undefined;
    const uncordoned = await uncordonAll(deps.kube, dead?.cordoned ?? []);
    if (got.recoveredKind === 'refresh' && dead?.surged && dead.original) {
      const memory = (got.memory as ReplenishMemory | undefined) ?? {};
      await deps.lease.writeMemory(state.group, state.execution, {
        ...memory,
        home: { ...(memory.home ?? {}), ...dead.original },
      });
    }
    recovered = { takenOverFrom: `${got.recoveredKind} ${got.recoveredFrom}`, uncordoned };
  }
  await deps.lease.writeJournal(state.group, state.execution, journal, deps.now());
  return { ...state, skipped: false, did: { lease: 'taken', ...(recovered ?? {}) } };
}

/** Dry run: what a pass would do now, changing nothing. */
export async function plan(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const { settings, snapshot, c, now } = await look(deps, state);
  const memory = ((await deps.lease.get(state.group))?.memory as ReplenishMemory | undefined) ?? {};
  const p = planReplenish(snapshot.asgs, c, settings, memory, now);
  return {
    ...state,
    did: {
      dryRun: true,
      ready: p.ready,
      desiredReady: p.desiredReady,
      launching: p.launching,
      wouldReap: p.reap,
      wouldRaise: p.raise,
      wouldGiveBack: p.giveBack ?? null,
      notes: p.notes,
    },
  };
}

/** One pass: reap, raise desired where short, or start giving substitute capacity back. */
export async function replenish(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const rec = await deps.lease.get(state.group);
  if (rec?.holder !== state.execution)
    throw new LeaseLostError(`this execution no longer holds the lease of group ${state.group}`);
  const { settings, snapshot, c, now } = await look(deps, state);
  const p = planReplenish(snapshot.asgs, c, settings, (rec.memory as ReplenishMemory | undefined) ?? {}, now);
  // Memory first (back-off, cool-down): a retried pass must not act twice on one ASG.
  if (JSON.stringify(p.memory) !== JSON.stringify(rec.memory ?? {}))
    await deps.lease.writeMemory(state.group, state.execution, p.memory);
  const reaped = await reap(deps, state, p.memory, settings.joinTimeoutSeconds);
  for (const r of p.raise) await deps.autoscaling.setDesiredCapacity(r.asg, r.to);
  for (const r of p.restoreMax) await deps.autoscaling.updateSize(r.asg, { max: r.to });
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
  return {
    ...state,
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
      ...(p.notes.length ? { notes: p.notes } : {}),
      draining,
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
  memory: ReplenishMemory,
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

/**
 * Drains the member being given back; once empty, terminates it with decrement. Gives up
 * (uncordoned) past the drain timeout, or sooner when budgets have refused every pod left for
 * {@link GIVE_BACK_BLOCKED_SECONDS}; either way that ASG's give-back rests for
 * {@link GIVE_BACK_RETRY_SECONDS}, so the lease is not held pass after pass for nothing.
 */
export async function giveBack(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const rec = await deps.lease.get(state.group);
  if (rec?.holder !== state.execution)
    throw new LeaseLostError(`this execution no longer holds the lease of group ${state.group}`);
  const journal = rec.journal as ReplenishJournal;
  const target = journal.giveBack;
  if (!target) return { ...state, did: { draining: false } };
  const kube = await deps.kube();
  // The first pass cordons (with our mark); later ones only evict: a refusing budget costs no node patches.
  const pass = journal.marked
    ? await evictOnly(kube, target.node)
    : await drainNode(kube, target.node, executionName(state.execution));
  if (!journal.marked && !pass.gone)
    await deps.lease.writeJournal(state.group, state.execution, { ...journal, marked: true }, deps.now());
  const left = pass.remaining;
  const refused = pass.refused;
  const now = deps.now();
  if (left.length === 0) {
    await terminateUnlessLeaving(
      deps.autoscaling,
      await deps.autoscaling.describeGroups({ names: [target.asg] }),
      [target.instanceId],
      true,
    );
    await deps.lease.writeJournal(state.group, state.execution, { execution: state.execution, cordoned: [] }, now);
    return {
      ...state,
      did: {
        draining: false,
        gaveBack: `${target.node} (${target.instanceId}) terminated with decrement in ${target.asg}`,
      },
    };
  }
  const blocked = pass.evicted.length === 0 && refused.length > 0;
  const blockedSince = blocked ? (journal.blockedSince ?? now) : undefined;
  const blockedFor = blockedSince === undefined ? 0 : (now - blockedSince) / 1000;
  const timedOut = journal.deadline !== undefined && now > journal.deadline;
  if (timedOut || blockedFor >= GIVE_BACK_BLOCKED_SECONDS) {
    const why = timedOut
      ? `could not be drained within the drain timeout (pods left: ` +
        `${left.join(', ')}${refused.length ? `; refused: ${refused.join(' | ')}` : ''})`
      : `had every pod left refused by its budget for ${Math.round(blockedFor)}s (pods left: ${left.join(', ')}; ` +
        `refused: ${refused.join(' | ')})`;
    await uncordonAll(kube, [target.node]);
    const until = now + GIVE_BACK_RETRY_SECONDS * 1000;
    const memory = (rec.memory as ReplenishMemory | undefined) ?? {};
    await deps.lease.writeMemory(state.group, state.execution, {
      ...memory,
      giveBackHeld: { ...(memory.giveBackHeld ?? {}), [target.asg]: { until, why: `${target.node} ${why}` } },
    });
    await deps.lease.writeJournal(state.group, state.execution, { execution: state.execution, cordoned: [] }, now);
    return {
      ...state,
      did: {
        draining: false,
        gaveUp: `${target.node} ${why}; uncordoned; ${target.asg} gives back again after ${new Date(until).toISOString()}`,
      },
    };
  }
  if (blockedSince !== journal.blockedSince)
    await deps.lease.writeJournal(state.group, state.execution, { ...journal, marked: true, blockedSince }, now);
  return {
    ...state,
    did: {
      draining: true,
      node: target.node,
      evicted: pass.evicted,
      podsLeft: left,
      ...(refused.length ? { refused } : {}),
    },
  };
}

/** A later pass of a drain: evict what may go, report what is left (the node is cordoned already). */
async function evictOnly(kube: KubePort, node: string): Promise<DrainPass> {
  const pass = await evictPass(kube, node);
  return {
    evicted: pass.evicted,
    remaining: pass.staying.map((p) => `${p.namespace}/${p.name}`),
    refused: pass.refused,
    gone: false,
  };
}

/** Failure path: uncordon what this execution cordoned, release the lease. */
export async function cleanup(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const rec = await deps.lease.get(state.group);
  if (rec?.holder !== state.execution) return { ...state, did: { cleanup: 'this execution holds no lease' } };
  const journal = rec.journal as ReplenishJournal | undefined;
  const uncordoned = await uncordonAll(deps.kube, journal?.cordoned ?? []);
  await deps.lease.release(state.group, state.execution);
  return { ...state, did: { uncordoned, released: true, failure: state.failure?.Error } };
}

export async function release(state: ReplenishState, deps: Deps): Promise<ReplenishState> {
  const released = await deps.lease.release(state.group, state.execution);
  return { ...state, did: { released } };
}

export const REPLENISH_STEPS = { validate, plan, acquire, replenish, giveBack, cleanup, release } as const;
export type ReplenishStep = keyof typeof REPLENISH_STEPS;
