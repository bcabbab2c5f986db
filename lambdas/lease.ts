import {
  activePause,
  InvalidInputError,
  LeaseHeldError,
  LeaseLostError,
  type GroupMemory,
  type LedgerEntry,
  type Pause,
  type RefreshJournal,
} from './core';
import type { LeaseKind, LeaseRecord, LeaseStore } from './aws/lease-store';
import type { PauseStore } from './aws/pause-store';
import type { StepFunctionsPort } from './aws/stepfunctions';

/**
 * The lease as the workflows use it: who holds a group, what the holder's journal and the group's
 * memory say, and how an interruption ledger entry is written. The store (aws/lease-store.ts)
 * keeps the records; what they mean is decided here, once.
 */

/** The group's memory as the lease item keeps it (absent: nothing remembered). */
export function memoryOf(rec: LeaseRecord | undefined): GroupMemory {
  return (rec?.memory as GroupMemory | undefined) ?? {};
}

/**
 * The holder check: the journal (as the holder's workflow wrote it) and the group's memory when
 * `execution` holds the lease; undefined when it does not (any more).
 */
export function heldBy<J>(
  rec: LeaseRecord | undefined,
  execution: string,
): { readonly journal: J; readonly memory: GroupMemory } | undefined {
  if (rec?.holder !== execution) return undefined;
  return { journal: rec.journal as J, memory: memoryOf(rec) };
}

/** The holder check for a step that must hold the lease: LeaseLost when `execution` does not (any more). */
export function mustHold<J>(
  rec: LeaseRecord | undefined,
  group: string,
  execution: string,
  lost = `this execution no longer holds the lease of group ${group}`,
): { readonly journal: J; readonly memory: GroupMemory } {
  const held = heldBy<J>(rec, execution);
  if (!held) throw new LeaseLostError(lost);
  return held;
}

/**
 * The group's memory once a refresh's surplus may be left in place: each ASG's home layout, and
 * the surplus the refresh added counted as node-manager's own (at most what it surged), so that
 * replenish gives back that and only that.
 */
export function withRefreshSurplus(
  memory: GroupMemory,
  journal: Pick<RefreshJournal, 'original' | 'surgeTargets'>,
): GroupMemory {
  const home = { ...(memory.home ?? {}), ...journal.original };
  // Memory an earlier release wrote counts all excess as ours: it stays so until replenish rewrites it.
  if (memory.added === undefined) return { ...memory, home };
  const added: Record<string, number> = { ...memory.added };
  for (const [asg, original] of Object.entries(journal.original)) {
    const surge = Math.max(0, (journal.surgeTargets?.[asg]?.desired ?? original.desired) - original.desired);
    if (surge > 0) added[asg] = (added[asg] ?? 0) + surge;
  }
  return { ...memory, home, added };
}

/** A ledger entry from the text the store keeps (JSON: a write is conditional on the exact text it replaces). */
export function parseEntry(text: string): LedgerEntry {
  return JSON.parse(text) as LedgerEntry;
}

export interface AcquiredLease {
  /** The journal a dead holder left behind: restore it before doing anything else. */
  readonly recoveredJournal?: unknown;
  readonly recoveredFrom?: string;
  /** What kind of execution the dead holder was (its journal's shape depends on it). */
  readonly recoveredKind?: string;
  readonly memory: GroupMemory;
}

/**
 * Takes a group's lease, taking it over from a holder whose execution is no longer running.
 * A running holder makes it throw {@link LeaseHeldError} naming that holder and its kind.
 */
export async function acquireGroupLease(
  store: LeaseStore,
  executions: StepFunctionsPort,
  group: string,
  holder: string,
  kind: LeaseKind,
  now: number,
): Promise<AcquiredLease> {
  try {
    const before = await store.acquire(group, holder, kind, now);
    const ownJournal = before?.holder === holder ? before.journal : undefined;
    return { recoveredJournal: ownJournal, memory: memoryOf(before) };
  } catch (e) {
    if (!(e instanceof LeaseHeldError)) throw e;
    const execution = await executions.describeExecution(e.holder);
    if (execution?.status === 'RUNNING') throw e;
    const before = await store.acquire(group, holder, kind, now, e.holder);
    return {
      recoveredJournal: before?.journal,
      recoveredFrom: e.holder,
      recoveredKind: e.holderKind,
      memory: memoryOf(before),
    };
  }
}

/**
 * The group's pause in force at `now`, from the lease item as read: an operator's, else the circuit
 * breaker's while any watched alarm is in ALARM.
 */
export function pauseOf(rec: LeaseRecord | undefined, now: number): Pause | undefined {
  const operator = activePause(rec?.pause as Pause | undefined, now);
  if (operator) return operator;
  const firing = Object.entries(rec?.alarms ?? {}).filter(([, a]) => a.state === 'ALARM');
  if (firing.length === 0) return undefined;
  return {
    reason: `circuit breaker: ${firing.map(([n]) => n).join(', ')} in ALARM`,
    from: Math.min(...firing.map(([, a]) => a.at)),
    by: 'circuit breaker',
  };
}

/**
 * Pauses a group (what the CLI and a scenario's `pause` fault call): a reason, and an end in the
 * future when given. Voluntary disruption waits from the holder's next pass.
 */
export async function pauseGroup(
  store: Pick<PauseStore, 'setPause'>,
  group: string,
  p: { readonly reason: string; readonly until?: number; readonly by?: string },
  now: number,
): Promise<Pause> {
  if (!p.reason.trim() || p.reason.length > 256)
    throw new InvalidInputError('a pause needs a reason of 1 to 256 characters (what the outputs will show)');
  if (p.until !== undefined && p.until <= now)
    throw new InvalidInputError(`a pause's end must be in the future; got ${new Date(p.until).toISOString()}`);
  const pause: Pause = {
    reason: p.reason.trim(),
    from: now,
    ...(p.until ? { until: p.until } : {}),
    ...(p.by ? { by: p.by } : {}),
  };
  await store.setPause(group, pause);
  return pause;
}

/** Resumes a group: its pause is removed, and the holder goes on at its next pass. */
export async function resumeGroup(store: Pick<PauseStore, 'setPause'>, group: string): Promise<void> {
  await store.setPause(group, undefined);
}
