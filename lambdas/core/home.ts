import type { GroupMemory } from './memory';
import type { BatchMember, RefreshJournal } from './journal';
import type { AsgState } from './types';

/**
 * A refresh's home layout as node-manager and others change it: what it added above home and may
 * give back, what someone else set (their floor), and what it took off desired itself.
 */

/**
 * Surplus node-manager left in place (a refresh that stopped, substitute capacity not yet given
 * back): desired above the remembered home that is its own (`added`; all of it in memory an earlier
 * release wrote). A new refresh counts it toward its own surplus rather than adding more on top, and
 * takes the rest above home (someone else's) as the ASG's floor.
 */
export function leftoverSurplus(
  asgs: readonly AsgState[],
  memory: Pick<GroupMemory, 'home' | 'added'>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of asgs) {
    const home = memory.home?.[a.name];
    if (!home || a.desired <= home.desired) continue;
    const over = a.desired - home.desired;
    const ours = memory.added === undefined ? over : Math.min(over, memory.added[a.name] ?? 0);
    if (ours > 0) out.set(a.name, ours);
  }
  return out;
}

/**
 * The home each ASG goes back to: its desired before the surge, unless someone else (a person, a
 * cluster autoscaler) set a desired above what the refresh made it (the surge less what it
 * terminated with decrement). Then what they set is that ASG's floor: it becomes the home, the
 * refresh's surplus there is taken as theirs, and nothing there goes with decrement or is given
 * back. Capacity others took away is not followed (the home stays what the refresh found): a
 * journal an earlier release wrote does not count its decrements, and its last batch would read as
 * someone else's removal.
 */
export function homeNow(
  journal: Pick<RefreshJournal, 'original' | 'surgeTargets' | 'decremented'>,
  asgs: readonly AsgState[],
): {
  readonly original: RefreshJournal['original'];
  readonly others: readonly { asg: string; from: number; to: number }[];
} {
  const original: Record<string, { desired: number; max: number }> = { ...journal.original };
  const others: Array<{ asg: string; from: number; to: number }> = [];
  for (const a of asgs) {
    const home = journal.original[a.name];
    if (!home) continue;
    const surge = Math.max(0, (journal.surgeTargets?.[a.name]?.desired ?? home.desired) - home.desired);
    const ours = home.desired + surge - (journal.decremented?.[a.name] ?? 0);
    if (a.desired <= ours) continue;
    others.push({ asg: a.name, from: home.desired, to: a.desired });
    original[a.name] = { desired: a.desired, max: Math.max(home.max, a.desired) };
  }
  return { original, others };
}

/** Members terminated with decrement, per ASG: what the refresh took off desired itself. */
export function countDecrements(
  before: RefreshJournal['decremented'],
  members: readonly BatchMember[],
  outcomes: readonly { readonly outcome: string }[],
): Record<string, number> {
  const out: Record<string, number> = { ...(before ?? {}) };
  members.forEach((m, i) => {
    if (outcomes[i]?.outcome === 'terminated' || outcomes[i]?.outcome === 'standby') out[m.asg] = (out[m.asg] ?? 0) + 1;
  });
  return out;
}
