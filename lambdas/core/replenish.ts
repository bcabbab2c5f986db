import { isLeavingAsgState, type Classification } from './classify';
import { placeIncrease, slotOf, type Slot } from './capacity';
import { launchBackoffSeconds } from './health';
import type { GroupMemory } from './memory';
import { followShortfall, lastReadyAfter } from './metrics';
import { planRepair, type RepairPlan } from './repair';
import type { AsgState, GroupSettings, Member } from './types';

export interface Reap {
  readonly instanceId: string;
  readonly asg: string;
  readonly ageSeconds: number;
  /**
   * Detach with decrement: a control-plane ASG whose etcd member is there already cannot use a
   * replacement either (it would never join), so its desired goes down instead.
   */
  readonly decrement: boolean;
}

export interface ReplenishPlan {
  readonly ready: number;
  readonly desiredReady: number;
  /** Launched but not Ready yet (a reaped instance counts: its ASG replaces it), except extra control-plane instances. */
  readonly launching: number;
  readonly reap: readonly Reap[];
  /** Desired capacity to raise (substitute capacity when above home). */
  readonly raise: readonly { readonly asg: string; readonly from: number; readonly to: number }[];
  /** MaxSize raised above home (a refresh's surge whose surplus was kept) that desired fits under again. */
  readonly restoreMax: readonly { readonly asg: string; readonly from: number; readonly to: number }[];
  /** A member of an ASG above its home desired to drain and terminate with decrement. */
  readonly giveBack?: { readonly instanceId: string; readonly node: string; readonly asg: string };
  /** NotReady nodes to repair, or a storm left to a person (see core/repair.ts). */
  readonly repair: RepairPlan;
  /** The memory to store after acting. */
  readonly memory: GroupMemory;
  /** Ready was below desiredReady at an earlier pass and is whole now: how long it was below (seconds). */
  readonly shortfallEnded?: number;
  /** Nodes above the ASGs' home desired: substitute capacity (or a surplus kept) in place. */
  readonly substitutes: number;
  /** Why nothing (more) was done, for the execution history; never empty when the group is not whole. */
  readonly notes: readonly string[];
}

/** A give-back whose every remaining pod a budget refuses, with no eviction going through, stops after this long. */
export const GIVE_BACK_BLOCKED_SECONDS = 60;
/** How long an ASG's give-back rests after it was given up. */
export const GIVE_BACK_RETRY_SECONDS = 1800;

/** Instances launched this long ago without a node count as never joining (the seed's join timeout). */
function shouldReap(m: Member, settings: GroupSettings): boolean {
  return (
    m.state === 'notJoined' &&
    m.asgLifecycleState === 'InService' &&
    m.ec2State === 'running' &&
    m.ageSeconds > settings.joinTimeoutSeconds
  );
}

/**
 * Back-off bookkeeping: every failed launch newer than the last one seen doubles the ASG's
 * back-off (5 min to 30 min); a launch that succeeds after the last failure resets it.
 */
export function updateBackoff(asgs: readonly AsgState[], memory: GroupMemory): NonNullable<GroupMemory['backoff']> {
  const out: Record<string, { failures: number; until: number; lastFailureAt: number }> = {};
  for (const a of asgs) {
    const prev = memory.backoff?.[a.name];
    const failures = a.activities.filter((x) => x.statusCode === 'Failed').map((x) => x.endTime ?? x.startTime);
    const lastFailure = failures.length ? Math.max(...failures) : undefined;
    const successes = a.activities
      .filter((x) => x.statusCode === 'Successful' && x.description.startsWith('Launching'))
      .map((x) => x.endTime ?? x.startTime);
    const lastSuccess = successes.length ? Math.max(...successes) : undefined;
    if (lastFailure === undefined || (lastSuccess !== undefined && lastSuccess > lastFailure)) continue; // healthy: no entry
    if (prev && prev.lastFailureAt >= lastFailure) {
      out[a.name] = prev;
      continue;
    }
    const n = (prev?.failures ?? 0) + 1;
    out[a.name] = { failures: n, until: lastFailure + launchBackoffSeconds(n) * 1000, lastFailureAt: lastFailure };
  }
  return out;
}

/**
 * One replenish pass. Reaps instances that never joined; when short of `desiredReady` Ready nodes
 * (counting launches in flight), raises desired on ASGs that launch normally, AZ-balanced, within
 * MaxSize, outside back-off and cool-down; when over with every node Ready, gives back one
 * member of an ASG above its home desired. Control-plane groups only reap.
 */
export function planReplenish(
  asgs: readonly AsgState[],
  c: Classification,
  settings: GroupSettings,
  memory: GroupMemory,
  now: number,
): ReplenishPlan {
  // NotReady nodes repair owns do not keep a give-back waiting; a node a pod holds waits for its repair.
  const repair = planRepair(
    c,
    settings,
    memory,
    now,
    new Set(
      Object.entries(memory.podHeld ?? {})
        .filter(([, h]) => h.until > now)
        .map(([id]) => id),
    ),
  );
  const notes: string[] = [];
  const home: Record<string, { desired: number; max: number }> = { ...(memory.home ?? {}) };
  for (const a of asgs) home[a.name] ??= { desired: a.desired, max: a.max };
  // A desired above home that node-manager did not make is someone else's: what they set is that
  // ASG's floor, its new home, and what node-manager had added there is taken as theirs.
  const added: Record<string, number> = {};
  for (const a of asgs) {
    const excess = Math.max(0, a.desired - home[a.name].desired);
    const ours = memory.added ? (memory.added[a.name] ?? 0) : excess;
    if (excess > ours) {
      notes.push(
        `${a.name}: desired ${a.desired} was set by someone else (home ${home[a.name].desired}): kept as its home`,
      );
      home[a.name] = { desired: a.desired, max: Math.max(home[a.name].max, a.desired) };
    } else if (excess > 0) added[a.name] = excess;
  }
  const backoff = updateBackoff(asgs, memory);
  const lastChange: Record<string, number> = { ...(memory.lastChange ?? {}) };
  const coolingDown = (asg: string) =>
    (lastChange[asg] ?? Number.NEGATIVE_INFINITY) + settings.cooldownSeconds * 1000 > now;

  const reap = c.members
    .filter((m) => shouldReap(m, settings))
    .map((m) => ({
      instanceId: m.instanceId,
      asg: m.asg,
      ageSeconds: m.ageSeconds,
      decrement:
        settings.role === 'control-plane' &&
        c.members.some(
          (o) => o.asg === m.asg && o.instanceId !== m.instanceId && (o.state === 'ready' || o.state === 'notReady'),
        ),
    }));
  for (const r of reap) if (r.decrement) lastChange[r.asg] = now;
  const ready = c.counts.ready;
  // A reaped instance is replaced by its ASG (unless reaped with decrement): it still counts as a launch in flight.
  const launching = c.members.filter(
    (m) =>
      (m.state === 'notJoined' || m.state === 'notReady') &&
      !reap.some((r) => r.instanceId === m.instanceId && r.decrement),
  ).length;
  const short = settings.desiredReady - ready - launching;
  const raise: Array<{ asg: string; from: number; to: number }> = [];
  let giveBack: ReplenishPlan['giveBack'];

  if (short > 0 && settings.role === 'control-plane') {
    notes.push(
      `short of ${short} Ready node(s); control-plane groups never substitute across ASGs (etcd volumes are ` +
        `zonal): waiting for each ASG's own replacement`,
    );
  } else if (short > 0) {
    const slots: Slot[] = asgs.map((a) => {
      const active = a.instances.filter((i) => !isLeavingAsgState(i.lifecycleState)).length;
      const b = backoff[a.name];
      const reasons = [
        a.desired !== active ? `desired ${a.desired} but ${active} instances` : '',
        b && b.until > now
          ? `backed off until ${new Date(b.until).toISOString()} after ${b.failures} failed launch(es)`
          : '',
        coolingDown(a.name)
          ? `cooling down until ${new Date(lastChange[a.name] + settings.cooldownSeconds * 1000).toISOString()}`
          : '',
      ].filter(Boolean);
      if (reasons.length) notes.push(`${a.name}: ${reasons.join('; ')}`);
      return slotOf(a, c, reasons.length === 0);
    });
    const p = placeIncrease(slots, short);
    for (const ch of p.changes) {
      raise.push({ asg: ch.asg, from: ch.fromDesired, to: ch.toDesired });
      lastChange[ch.asg] = now;
      added[ch.asg] = (added[ch.asg] ?? 0) + ch.toDesired - ch.fromDesired;
    }
    if (p.blocked) notes.push(`${p.blocked} of ${short} missing node(s) cannot be placed now: ${p.blockedReason}`);
  } else if (ready > settings.desiredReady && launching === 0 && c.counts.notReady === repair.owned.length) {
    // Over, and everything Ready: give back substitute capacity, one member at a time, newest first.
    const held = (asg: string) => (memory.giveBackHeld?.[asg]?.until ?? Number.NEGATIVE_INFINITY) > now;
    for (const a of asgs) {
      const h = memory.giveBackHeld?.[a.name];
      if (a.desired > home[a.name].desired && h && h.until > now)
        notes.push(`${a.name}: giving back rests until ${new Date(h.until).toISOString()} (${h.why})`);
    }
    const above = asgs.filter((a) => a.desired > home[a.name].desired && !coolingDown(a.name) && !held(a.name));
    const podHeld = (id: string) => (memory.podHeld?.[id]?.until ?? Number.NEGATIVE_INFINITY) > now;
    const candidates = c.members
      .filter((m) => m.state === 'ready' && above.some((a) => a.name === m.asg) && m.node && !podHeld(m.instanceId))
      .sort((x, y) => (y.node?.createdAt ?? 0) - (x.node?.createdAt ?? 0));
    if (candidates[0]) {
      giveBack = { instanceId: candidates[0].instanceId, node: candidates[0].node!.name, asg: candidates[0].asg };
      lastChange[candidates[0].asg] = now;
    } else if (asgs.some((a) => a.desired > home[a.name].desired)) {
      notes.push('over desiredReady; the ASGs above their home desired are cooling down');
    }
  }
  const restoreMax = asgs
    .filter((a) => a.max > home[a.name].max && a.desired <= home[a.name].max)
    .map((a) => ({ asg: a.name, from: a.max, to: home[a.name].max }));
  const reaping = { ...(memory.reaping ?? {}) };
  for (const r of reap)
    reaping[r.instanceId] = { asg: r.asg, at: now, ageSeconds: r.ageSeconds, decrement: r.decrement };
  const giveBackHeld = Object.fromEntries(Object.entries(memory.giveBackHeld ?? {}).filter(([, h]) => h.until > now));
  const podHeld = Object.fromEntries(Object.entries(memory.podHeld ?? {}).filter(([, h]) => h.until > now));
  // What others keep in the group's memory (a refresh's learned waits) passes through untouched.
  const {
    home: _home,
    backoff: _backoff,
    lastChange: _lastChange,
    reaping: _reaping,
    giveBackHeld: _held,
    podHeld: _podHeld,
    added: _added,
    shortSince: _shortSince,
    ...others
  } = memory;
  const readyMembers = c.members
    .filter((m) => m.state === 'ready')
    .map((m) => ({ launchedAt: m.node?.createdAt ?? m.launchTime, readySince: m.node?.readySince }));
  const shortfall = followShortfall(
    memory.shortSince,
    ready,
    settings.desiredReady,
    now,
    memory.shortSince !== undefined ? lastReadyAfter(readyMembers, memory.shortSince) : undefined,
  );
  return {
    ready,
    desiredReady: settings.desiredReady,
    launching,
    reap,
    raise,
    restoreMax,
    giveBack,
    repair,
    memory: {
      ...others,
      home,
      backoff,
      lastChange,
      ...(Object.keys(reaping).length ? { reaping } : {}),
      ...(Object.keys(giveBackHeld).length ? { giveBackHeld } : {}),
      ...(Object.keys(podHeld).length ? { podHeld } : {}),
      added,
      ...(shortfall.since !== undefined ? { shortSince: shortfall.since } : {}),
    },
    ...(shortfall.closedSeconds !== undefined ? { shortfallEnded: shortfall.closedSeconds } : {}),
    substitutes: asgs.reduce((n, a) => n + Math.max(0, a.desired - home[a.name].desired), 0),
    notes,
  };
}
