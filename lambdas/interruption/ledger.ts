import { parseEntry, pauseOf } from '../lease';
import {
  CLOSED_ENTRY_KEEP_MS,
  entryExpiresAt,
  IN_FLIGHT_MAX_MS,
  isExpired,
  type LedgerEntry,
  type Pause,
} from '../core';
import type { LedgerItem } from '../aws/lease-store';
import type { InterruptionState } from './state';
import type { Deps } from '../runtime';

/**
 * The interruption ledger's bookkeeping: one entry per instance, an item of its own with a time to
 * live, written by conditional writes only (a claim, a close). Nobody removes an entry: DynamoDB
 * drops it once its time to live has passed, and a reader treats an expired entry as none.
 */

export interface LedgerRead {
  /** The entry as a claim sees it: the live item, else a live entry an earlier release left in the lease item. */
  readonly existing?: LedgerEntry;
  /** The item's text as read, expired or not: a write is conditional on it. */
  readonly previous?: string;
  /** The lease item's journal (a refresh or replenish draining the node replaces it itself). */
  readonly holder?: string;
  readonly journal?: unknown;
  /** The group's pause (an operator's or the circuit breaker's): the drain goes on, and says so. */
  readonly pause?: Pause;
}

const parse = (text: string | undefined): LedgerEntry | undefined =>
  text === undefined ? undefined : parseEntry(text);

/** An earlier release's entry still counts while it could be live: open and young, or closed within the hour. */
function legacyLive(e: LedgerEntry | undefined, now: number): boolean {
  if (!e) return false;
  return e.doneAt !== undefined ? now - e.doneAt < CLOSED_ENTRY_KEEP_MS : now - e.since < IN_FLIGHT_MAX_MS;
}

/**
 * Reads one instance's entry and the group's lease item (its journal, and the ledger an earlier
 * release kept there). Entries of that old ledger that can no longer be live are dropped on the
 * way, each on condition of the text read: the lease item sheds them without anyone's live entry
 * ever being touched.
 */
export async function readLedger(deps: Deps, group: string, instanceId: string, now: number): Promise<LedgerRead> {
  const [item, rec] = await Promise.all([deps.lease.readLedger(group, instanceId), deps.lease.get(group)]);
  const legacy = rec?.legacyLedger ?? {};
  const dead = Object.fromEntries(
    Object.entries(legacy).filter(([id, text]) => id !== instanceId && !legacyLive(parse(text), now)),
  );
  if (Object.keys(dead).length) await deps.lease.dropLegacyLedger(group, dead);
  const current = item && !isExpired(item.expiresAt, now) ? parse(item.text) : undefined;
  const old = parse(legacy[instanceId]);
  return {
    existing: current ?? (legacyLive(old, now) ? old : undefined),
    previous: item?.text,
    holder: rec?.holder,
    journal: rec?.journal,
    ...(pauseOf(rec, now) ? { pause: pauseOf(rec, now) } : {}),
  };
}

/** Writes an entry on condition that the item is still what was read; false when another write got in first. */
export function writeEntry(
  deps: Deps,
  group: string,
  instanceId: string,
  entry: LedgerEntry,
  previous: string | undefined,
): Promise<boolean> {
  return deps.lease.writeLedger(group, instanceId, JSON.stringify(entry), entryExpiresAt(entry), previous);
}

/**
 * The group whose ledger holds this execution's own claim on the instance: a step retried after its
 * instance left its ASG (we detached it) finds its group here, not from the instance's tags.
 */
export async function groupOfOwnClaim(deps: Deps, state: InterruptionState): Promise<string | undefined> {
  for (const g of deps.config.groups) {
    const item = await deps.lease.readLedger(g.name, state.notice.instanceId);
    if (parse(item?.text)?.execution === state.execution) return g.name;
  }
  return undefined;
}

/**
 * Closes this execution's entry, on every path. The state carries the entry as written; a step that
 * failed after claiming returns none, so the ledger is read for this execution's own open entry.
 * Says what became of it.
 */
export async function closeEntry(
  deps: Deps,
  state: InterruptionState,
  group: string | undefined,
  extra: Partial<LedgerEntry> = {},
): Promise<{ said?: string; entry?: LedgerEntry; group?: string }> {
  const id = state.notice.instanceId;
  const now = deps.now();
  if (state.entry !== undefined && !state.ledgerItem) {
    // A claim an earlier release made in the lease item: the new ledger keeps none there.
    if (group) await deps.lease.dropLegacyLedger(group, { [id]: state.entry });
    return {
      said: "closed (an earlier release's entry, dropped from the lease item)",
      entry: parse(state.entry),
      group,
    };
  }
  let text = state.entry;
  let where = group;
  if (text === undefined) {
    where = group ?? (await groupOfOwnClaim(deps, state));
    if (!where) return {};
    const item: LedgerItem | undefined = await deps.lease.readLedger(where, id);
    const mine = parse(item?.text);
    if (!mine || mine.execution !== state.execution || mine.doneAt !== undefined) return {};
    text = item!.text;
  }
  if (!where) return {};
  const entry = parse(text)!;
  const closed: LedgerEntry = { ...entry, ...extra, doneAt: entry.doneAt ?? now };
  if (await writeEntry(deps, where, id, closed, text))
    return {
      said: state.entry === undefined ? 'closed (the step that claimed it had failed)' : 'closed',
      entry: closed,
      group: where,
    };
  const current = parse((await deps.lease.readLedger(where, id))?.text);
  return {
    said:
      current?.execution === state.execution && current.doneAt !== undefined
        ? 'closed already (a retried step)'
        : 'a later notice took the entry over',
    entry,
    group: where,
  };
}
