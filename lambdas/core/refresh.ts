import { asgHealth } from './health';
import { placeIncrease, slotOf, type SlotChange } from './capacity';
import { isLeavingAsgState, type Classification } from './classify';
import type { AsgState, GroupSettings, Member } from './types';
import type { BatchMember, RefreshJournal } from './journal';

/**
 * Members an `outdated` refresh replaces: launched from another launch template, or another version,
 * than their ASG launches now (its `$Latest`/`$Default` as resolved), or older than `maxNodeAgeDays`.
 * A member whose template is unknown (a launch configuration) is outdated only by age.
 */
export function outdatedMembers(
  asgs: readonly AsgState[],
  c: Classification,
  maxNodeAgeDays: number | undefined,
): Set<string> {
  const out = new Set<string>();
  for (const a of asgs) {
    const t = a.launchTemplate;
    const want = t?.resolvedVersion ?? t?.version;
    for (const i of a.instances) {
      const has = i.launchTemplate;
      if (t && has && (has.id !== t.id || (want !== undefined && !want.startsWith('$') && has.version !== want)))
        out.add(i.instanceId);
    }
  }
  if (maxNodeAgeDays !== undefined)
    for (const m of c.members) if ((m.nodeAgeSeconds ?? 0) > maxNodeAgeDays * 86_400) out.add(m.instanceId);
  return out;
}

/** The failure window for "this ASG is failing to launch" (scaling activities this recent count). */
export const LAUNCH_FAILURE_WINDOW_SECONDS = 600;

export function batchSize(settings: GroupSettings): number {
  return settings.role === 'control-plane' ? 1 : Math.max(1, settings.surplus);
}

/** Ready nodes the group must have at each point of a refresh. */
export function readyTarget(settings: GroupSettings, surged: boolean): number {
  return settings.desiredReady + (surged && settings.role !== 'control-plane' ? settings.surplus : 0);
}

export interface SurgePlan {
  readonly changes: readonly SlotChange[];
  readonly blocked: number;
  readonly blockedReason?: string;
}

/**
 * Raises desired by `surplus`, over ASGs launching normally, fewest members first. MaxSize may be
 * raised by as much as the surplus (and is journaled); nothing is placed on an ASG failing to launch.
 */
export function planSurge(
  asgs: readonly AsgState[],
  c: Classification,
  settings: GroupSettings,
  now: number,
): SurgePlan {
  if (settings.role === 'control-plane' || settings.surplus === 0) return { changes: [], blocked: 0 };
  const slots = asgs.map((a) =>
    slotOf(a, c, asgHealth(a, now, LAUNCH_FAILURE_WINDOW_SECONDS).launchingNormally, {
      maxCeiling: a.max + settings.surplus,
    }),
  );
  const p = placeIncrease(slots, settings.surplus);
  return { changes: p.changes, blocked: p.blocked, blockedReason: p.blockedReason };
}

export interface BatchPick {
  readonly batch: readonly BatchMember[];
  /** The batch is the last and the surplus stands in for it: terminate it with decrement (no replacement, no give-back). */
  readonly final: boolean;
  /** Ready-or-not nodes still older than the start (including this batch). */
  readonly oldRemaining: number;
  /** Old nodes skipped because their ASG cannot launch a replacement now. */
  readonly skipped: readonly { readonly instanceId: string; readonly asg: string; readonly reason: string }[];
}

/** Surplus each ASG carries now: desired above the home desired the journal keeps. */
export function surplusByAsg(asgs: readonly AsgState[], original: RefreshJournal['original']): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of asgs) {
    const home = original[a.name];
    if (home && a.desired > home.desired) out.set(a.name, a.desired - home.desired);
  }
  return out;
}

/**
 * The oldest Ready nodes created before the start, at most {@link batchSize}, never in an ASG that
 * is failing to launch (its replacement would not come back).
 *
 * The last batch ends the refresh: in each ASG carrying surplus, as many old nodes as its surplus
 * (its youngest old ones) are held back until nothing else is old; then they go together,
 * terminated with decrement, since the surplus already stands in for them. Each ASG lands on its
 * home desired with no replacement to wait for and no surplus to drain back out. Only when the
 * group keeps `desiredReady` Ready nodes without them; otherwise they are replaced as any batch.
 */
export function pickBatch(
  asgs: readonly AsgState[],
  c: Classification,
  settings: GroupSettings,
  journal: Pick<RefreshJournal, 'startedAt' | 'terminated'> &
    Partial<Pick<RefreshJournal, 'original' | 'passedOver' | 'overrides'>>,
  now: number,
): BatchPick {
  const only = journal.overrides?.nodes;
  const outdated =
    journal.overrides?.replace === 'outdated' ? outdatedMembers(asgs, c, journal.overrides.maxNodeAgeDays) : undefined;
  const left = new Set((journal.passedOver ?? []).map((p) => p.instance));
  const failing = new Map<string, string>();
  for (const a of asgs) {
    const h = asgHealth(a, now, LAUNCH_FAILURE_WINDOW_SECONDS);
    if (h.lastFailure && (h.lastSuccessAt === undefined || h.lastSuccessAt < h.lastFailure.at))
      failing.set(a.name, h.reason ?? 'failing to launch');
  }
  const old = c.members.filter(
    (m): m is Member & { node: NonNullable<Member['node']> } =>
      !!m.node &&
      m.node.createdAt < journal.startedAt &&
      (!only || only.includes(m.node.name)) &&
      (!outdated || outdated.has(m.instanceId)) &&
      !journal.terminated.includes(m.instanceId) &&
      !left.has(m.instanceId) &&
      m.state !== 'leaving',
  );
  const skipped = old
    .filter((m) => failing.has(m.asg))
    .map((m) => ({ instanceId: m.instanceId, asg: m.asg, reason: failing.get(m.asg)! }));
  const eligible = old.filter((m) => m.state === 'ready' && !failing.has(m.asg));
  const held = new Set<string>();
  if (settings.role !== 'control-plane') {
    for (const [asg, extra] of surplusByAsg(asgs, journal.original ?? {})) {
      const inAsg = eligible.filter((m) => m.asg === asg);
      inAsg.slice(Math.max(0, inAsg.length - extra)).forEach((m) => held.add(m.instanceId));
    }
  }
  const toMember = (m: Member & { node: NonNullable<Member['node']> }): BatchMember => ({
    instanceId: m.instanceId,
    node: m.node.name,
    asg: m.asg,
    zone: m.zone,
  });
  const rest = eligible.filter((m) => !held.has(m.instanceId));
  if (rest.length > 0 || held.size === 0)
    return { batch: rest.slice(0, batchSize(settings)).map(toMember), final: false, oldRemaining: old.length, skipped };
  // Only held nodes are left to pick: the last batch, if nothing else old remains and the floor holds without them.
  if (old.length > held.size) return { batch: [], final: false, oldRemaining: old.length, skipped };
  const last = eligible.filter((m) => held.has(m.instanceId));
  const final = c.counts.ready - last.length >= settings.desiredReady;
  return {
    batch: last.slice(0, final ? last.length : batchSize(settings)).map(toMember),
    final,
    oldRemaining: old.length,
    skipped,
  };
}

export interface ReadyCheck {
  readonly whole: boolean;
  readonly ready: number;
  readonly want: number;
  /** Members launched but not Ready yet. */
  readonly waitingFor: readonly {
    readonly instanceId: string;
    readonly asg: string;
    readonly state: string;
    readonly ageSeconds: number;
  }[];
}

/**
 * Whether the group is whole: enough Ready nodes, and (control plane) every ASG back to a Ready
 * member, since a control-plane replacement must come back in its own AZ.
 */
export function checkWhole(
  asgs: readonly AsgState[],
  c: Classification,
  settings: GroupSettings,
  surged: boolean,
): ReadyCheck {
  const want = readyTarget(settings, surged);
  const ready = c.counts.ready;
  const waitingFor = c.members
    .filter((m) => m.state === 'notJoined' || m.state === 'notReady')
    .map((m) => ({ instanceId: m.instanceId, asg: m.asg, state: m.state, ageSeconds: m.ageSeconds }));
  let whole = ready >= want;
  if (settings.role === 'control-plane') {
    whole =
      whole && asgs.every((a) => a.desired === 0 || c.members.some((m) => m.asg === a.name && m.state === 'ready'));
  }
  return { whole, ready, want, waitingFor };
}

export interface GiveBackPlan {
  /** Members to drain and terminate with decrement, per ASG above its original desired. */
  readonly remove: readonly BatchMember[];
  /** ASGs whose MaxSize goes back to the original once their desired is home. */
  readonly restoreMax: readonly { readonly asg: string; readonly max: number }[];
  /** Surplus kept because giving it back would leave fewer Ready nodes than desired. */
  readonly kept: number;
  /** Surplus kept because a pod holds every member that could go (do-not-disrupt, a bare pod...). */
  readonly heldByPods: number;
  /**
   * Surplus that never launched (the ASG's desired is above its instances: its launches fail), by
   * ASG. No member stands for it, so none is drained for it; lowering desired could race a launch
   * that succeeds meanwhile and let the ASG end an undrained node. It is left, and its home layout
   * remembered, so that replenish gives it back once it launches.
   */
  readonly neverLaunched: Readonly<Record<string, number>>;
  readonly done: boolean;
}

/**
 * Returns the group to its home layout: each ASG above its original desired loses members
 * (ours already cordoned, then unjoined, not Ready, then the newest; never one in `avoid`, which a
 * pod holds) with decrement, and MaxSize
 * goes back once desired allows. Never takes the group below `minReady` schedulable Ready nodes: surplus that
 * stands in for a replacement that did not come is kept (and said so).
 */
export function planGiveBack(
  asgs: readonly AsgState[],
  c: Classification,
  original: RefreshJournal['original'],
  minReady: number,
  avoid: ReadonlySet<string> = new Set(),
): GiveBackPlan {
  const remove: BatchMember[] = [];
  const restoreMax: Array<{ asg: string; max: number }> = [];
  const ours = (m: Member) =>
    m.state === 'leaving' &&
    !!m.node?.cordonedByUs &&
    !isLeavingAsgState(m.asgLifecycleState) &&
    m.ec2State !== 'shutting-down' &&
    m.ec2State !== 'terminated';
  // The floor is nodes that can take pods: Ready and schedulable. A node cordoned by anyone (us
  // included: a give-back already under way) takes none, so removing it costs nothing.
  const servesPods = (m: Member) => m.state === 'ready' && !!m.node && !m.node.unschedulable;
  let readySpare = c.members.filter(servesPods).length - minReady;
  let kept = 0;
  let heldByPods = 0;
  const neverLaunched: Record<string, number> = {};
  for (const a of asgs) {
    const home = original[a.name];
    if (!home) continue;
    const active = a.instances.filter((i) => !isLeavingAsgState(i.lifecycleState)).length;
    const unlaunched = Math.min(Math.max(0, a.desired - home.desired), Math.max(0, a.desired - active));
    if (unlaunched > 0) neverLaunched[a.name] = unlaunched;
    const excess = a.desired - home.desired - unlaunched;
    if (excess > 0) {
      const rank = (m: Member) => (ours(m) ? 0 : m.state === 'notJoined' ? 1 : m.state === 'notReady' ? 2 : 3);
      const candidates = c.members
        .filter((m) => m.asg === a.name && !avoid.has(m.instanceId) && (m.state !== 'leaving' || ours(m)))
        .sort(
          (x, y) =>
            rank(x) - rank(y) || (y.launchTime ?? y.node?.createdAt ?? 0) - (x.launchTime ?? x.node?.createdAt ?? 0),
        );
      heldByPods += Math.max(0, excess - candidates.length);
      for (const m of candidates.slice(0, excess)) {
        if (servesPods(m)) {
          if (readySpare <= 0) {
            kept += 1;
            continue;
          }
          readySpare -= 1;
        }
        remove.push({ instanceId: m.instanceId, node: m.node?.name ?? '', asg: m.asg, zone: m.zone });
      }
    } else if (unlaunched === 0 && a.max !== home.max && a.desired <= home.max) {
      restoreMax.push({ asg: a.name, max: home.max });
    }
  }
  const done = remove.length === 0 && restoreMax.length === 0;
  return { remove, restoreMax, kept, heldByPods, neverLaunched, done };
}
