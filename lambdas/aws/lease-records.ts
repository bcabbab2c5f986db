import { type AttributeValue } from '@aws-sdk/client-dynamodb';

export type LeaseKind = 'refresh' | 'replenish';

/**
 * One item per node group, keyed by `group`. The holder attributes come and go with each lease;
 * `memory` (replenish's home layout and back-off) stays across leases, so releasing never deletes
 * the item.
 */
export interface LeaseRecord {
  readonly group: string;
  readonly holder?: string;
  readonly kind?: LeaseKind;
  readonly acquiredAt?: number;
  readonly heartbeatAt?: number;
  /** What the holder changed and must restore (a refresh's journal), as JSON. */
  readonly journal?: unknown;
  /** State that outlives any one execution (replenish's home layout), as JSON. */
  readonly memory?: unknown;
  /**
   * Ledger entries an earlier release kept in the lease item itself (attributes `i_<instance id>`,
   * JSON text), by instance id: read as claims until they are dropped (see {@link LeaseStore.dropLegacyLedger}).
   */
  readonly legacyLedger: Readonly<Record<string, string>>;
  /**
   * What the last holder said as it released (its execution and closing summary), written in the
   * release's own write: a retry of the release step that finds the lease gone still reports it.
   */
  readonly released?: { readonly holder: string } & Readonly<Record<string, unknown>>;
  /** An operator's pause of the group (core/pause.ts), as JSON; set and removed whoever holds the lease. */
  readonly pause?: unknown;
  /** The watched CloudWatch alarms' last states (the circuit breaker), by alarm name. */
  readonly alarms?: Readonly<Record<string, { readonly state: string; readonly at: number }>>;
}

/** The circuit breaker's attributes on the lease item: `alarm:<name>` (its state) and `alarmAt:<name>` (when). */
export const ALARM_STATE_PREFIX = 'alarm:';
export const ALARM_AT_PREFIX = 'alarmAt:';

/** An earlier release's ledger entries: attributes of the lease item named `i_<instance id>`. */
export const LEGACY_LEDGER_PREFIX = 'i_';

/**
 * One interruption ledger entry as stored: an item of its own (key `<group>#<instance id>`) with a
 * time to live, so that no churn of notices can grow the lease item, and no writer ever removes
 * another's entry (DynamoDB drops expired items by itself, days later at most).
 */
export interface LedgerItem {
  /** The entry as JSON text: a write is conditional on the exact text it replaces. */
  readonly text: string;
  /** Its time to live (epoch seconds): once past, the entry counts as gone even while DynamoDB still returns it. */
  readonly expiresAt?: number;
}

/** The time-to-live attribute of ledger items (the table's TimeToLiveSpecification names it). */
export const TTL_ATTRIBUTE = 'expiresAt';

export function ledgerKey(group: string, instanceId: string): string {
  return `${group}#${instanceId}`;
}

type Item = Record<string, AttributeValue>;

export function fromItem(item: Item | undefined): LeaseRecord | undefined {
  if (!item?.group?.S) return undefined;
  const num = (v?: AttributeValue) => (v?.N !== undefined ? Number(v.N) : undefined);
  const json = (v?: AttributeValue) => (v?.S !== undefined ? (JSON.parse(v.S) as unknown) : undefined);
  return {
    group: item.group.S,
    holder: item.holder?.S,
    kind: item.kind?.S as LeaseKind | undefined,
    acquiredAt: num(item.acquiredAt),
    heartbeatAt: num(item.heartbeatAt),
    journal: json(item.journal),
    memory: json(item.memory),
    ...(item.released?.S !== undefined ? { released: json(item.released) as LeaseRecord['released'] } : {}),
    ...(item.pause?.S !== undefined ? { pause: json(item.pause) } : {}),
    ...alarmsOf(item),
    legacyLedger: Object.fromEntries(
      Object.entries(item)
        .filter(([k, v]) => k.startsWith(LEGACY_LEDGER_PREFIX) && v.S !== undefined)
        .map(([k, v]) => [k.slice(LEGACY_LEDGER_PREFIX.length), v.S!]),
    ),
  };
}

function alarmsOf(item: Item): Pick<LeaseRecord, 'alarms'> {
  const alarms: Record<string, { state: string; at: number }> = {};
  for (const [k, v] of Object.entries(item))
    if (k.startsWith(ALARM_STATE_PREFIX) && v.S !== undefined) {
      const name = k.slice(ALARM_STATE_PREFIX.length);
      alarms[name] = { state: v.S, at: Number(item[`${ALARM_AT_PREFIX}${name}`]?.N ?? 0) };
    }
  return Object.keys(alarms).length ? { alarms } : {};
}
