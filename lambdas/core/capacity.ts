import type { Classification } from './classify';
import type { AsgState } from './types';

/**
 * AZ-balanced placement of capacity changes over a group's ASGs, within MinSize/MaxSize.
 * Pure arithmetic: the planners decide how many, this decides where.
 */

export interface Slot {
  readonly asg: string;
  readonly zone: string;
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  /** Members that count for balance (joined or joining, not leaving). */
  readonly members: number;
  /** False when the ASG must not receive capacity (failing to launch, backed off, cooling down). */
  readonly eligible: boolean;
  /**
   * How high MaxSize may be raised for this change (a refresh's surge may raise it and journal
   * the original). Defaults to `max`: MaxSize is left alone.
   */
  readonly maxCeiling?: number;
  /** The lowest desired this change may leave (e.g. the home desired when giving back). Defaults to `min`. */
  readonly floor?: number;
}

/** An ASG as a placement slot: its sizes and its members that count for balance (not leaving). */
export function slotOf(
  a: AsgState,
  c: Classification,
  eligible: boolean,
  extra: Pick<Slot, 'maxCeiling' | 'floor'> = {},
): Slot {
  return {
    asg: a.name,
    zone: a.zones[0] ?? '',
    desired: a.desired,
    min: a.min,
    max: a.max,
    members: c.members.filter((m) => m.asg === a.name && m.state !== 'leaving').length,
    eligible,
    ...extra,
  };
}

export interface SlotChange {
  readonly asg: string;
  readonly zone: string;
  readonly fromDesired: number;
  readonly toDesired: number;
  /** Set when MaxSize must be raised to reach `toDesired`. */
  readonly raiseMaxTo?: number;
}

export interface Placement {
  readonly changes: readonly SlotChange[];
  /** How many of the requested units were placed. */
  readonly placed: number;
  /** How many could not be placed, and why; never silently dropped. */
  readonly blocked: number;
  readonly blockedReason?: string;
}

function byName(a: { asg: string }, b: { asg: string }): number {
  return a.asg < b.asg ? -1 : a.asg > b.asg ? 1 : 0;
}

function toChanges(slots: readonly Slot[], delta: ReadonlyMap<string, number>): SlotChange[] {
  const changes: SlotChange[] = [];
  for (const s of [...slots].sort(byName)) {
    const d = delta.get(s.asg) ?? 0;
    if (d === 0) continue;
    const toDesired = s.desired + d;
    changes.push({
      asg: s.asg,
      zone: s.zone,
      fromDesired: s.desired,
      toDesired,
      ...(toDesired > s.max ? { raiseMaxTo: toDesired } : {}),
    });
  }
  return changes;
}

/**
 * Adds `count` units one at a time, each to the eligible ASG with the fewest members (then the
 * lowest desired, then the name), never past its ceiling. Filling the lowest first keeps the
 * spread of members across AZs within one wherever capacity allows.
 */
export function placeIncrease(slots: readonly Slot[], count: number): Placement {
  const delta = new Map<string, number>();
  let placed = 0;
  for (let i = 0; i < count; i += 1) {
    let best: Slot | undefined;
    for (const s of slots) {
      const d = delta.get(s.asg) ?? 0;
      if (!s.eligible || s.desired + d >= Math.max(s.max, s.maxCeiling ?? s.max)) continue;
      if (!best) {
        best = s;
        continue;
      }
      const bd = delta.get(best.asg) ?? 0;
      const key = [s.members + d, s.desired + d, s.asg] as const;
      const bestKey = [best.members + bd, best.desired + bd, best.asg] as const;
      if (
        key[0] < bestKey[0] ||
        (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))
      ) {
        best = s;
      }
    }
    if (!best) break;
    delta.set(best.asg, (delta.get(best.asg) ?? 0) + 1);
    placed += 1;
  }
  const blocked = count - placed;
  const eligible = slots.filter((s) => s.eligible);
  const blockedReason =
    blocked === 0
      ? undefined
      : eligible.length === 0
        ? 'no ASG of the group is eligible for more capacity'
        : `every eligible ASG is at its MaxSize (${eligible.map((s) => `${s.asg}=${Math.max(s.max, s.maxCeiling ?? s.max)}`).join(', ')})`;
  return { changes: toChanges(slots, delta), placed, blocked, blockedReason };
}

/**
 * Removes `count` units one at a time from the ASG with the most members (then the highest
 * desired, then the name), never below its floor (its home desired, or MinSize).
 */
export function placeDecrease(slots: readonly Slot[], count: number): Placement {
  const delta = new Map<string, number>();
  let placed = 0;
  for (let i = 0; i < count; i += 1) {
    let best: Slot | undefined;
    for (const s of slots) {
      const d = delta.get(s.asg) ?? 0;
      if (s.desired + d <= Math.max(s.min, s.floor ?? s.min)) continue;
      if (!best) {
        best = s;
        continue;
      }
      const bd = delta.get(best.asg) ?? 0;
      const more = s.members + d > best.members + bd;
      const same = s.members + d === best.members + bd;
      if (
        more ||
        (same && (s.desired + d > best.desired + bd || (s.desired + d === best.desired + bd && s.asg < best.asg)))
      ) {
        best = s;
      }
    }
    if (!best) break;
    delta.set(best.asg, (delta.get(best.asg) ?? 0) - 1);
    placed += 1;
  }
  const blocked = count - placed;
  return {
    changes: toChanges(slots, delta),
    placed,
    blocked,
    blockedReason: blocked === 0 ? undefined : 'every ASG of the group is at its floor (MinSize or home desired)',
  };
}
