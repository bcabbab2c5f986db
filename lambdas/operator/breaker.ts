import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PauseStore } from '../aws/pause-store';
import { inlinedConfig, type Config } from '../config';

/**
 * The circuit breaker: an EventBridge rule sends each watched CloudWatch alarm's state changes
 * here, and every group that watches the alarm records its state on its lease item. While any of a
 * group's alarms is in ALARM, its workflows read a pause with their lease (lease.ts, pauseOf): a
 * refresh finishes the step in hand and waits, replenish observes. Nothing is believed beyond the
 * alarm's name and state: the rule matches only this account's alarms of the names configured.
 */

export interface BreakerDeps {
  readonly config: Pick<Config, 'groups'>;
  readonly pauses: Pick<PauseStore, 'noteAlarm'>;
}

export interface BreakerOutcome {
  /** The groups whose record changed, with the state noted. */
  readonly noted: readonly string[];
  /** Why the event changed nothing. */
  readonly ignored?: string;
}

interface AlarmEvent {
  readonly time?: string;
  readonly detail?: {
    readonly alarmName?: unknown;
    readonly state?: { readonly value?: unknown; readonly timestamp?: unknown };
  };
}

export async function noteAlarmChange(event: unknown, deps: BreakerDeps): Promise<BreakerOutcome> {
  const e = (typeof event === 'object' && event !== null ? event : {}) as AlarmEvent;
  const name = e.detail?.alarmName;
  const state = e.detail?.state?.value;
  if (typeof name !== 'string' || typeof state !== 'string')
    return { noted: [], ignored: 'not a CloudWatch Alarm State Change event (no detail.alarmName or state.value)' };
  const at = Date.parse(String(e.detail?.state?.timestamp ?? e.time ?? ''));
  if (!Number.isFinite(at)) return { noted: [], ignored: `alarm ${name}: the state change carries no time` };
  const groups = deps.config.groups.filter((g) => g.alarms?.includes(name));
  if (groups.length === 0) return { noted: [], ignored: `no group watches alarm ${name}` };
  const noted: string[] = [];
  for (const g of groups) {
    if (await deps.pauses.noteAlarm(g.name, name, state, at)) noted.push(`${g.name}: ${name} ${state}`);
  }
  return noted.length ? { noted } : { noted, ignored: `alarm ${name}: a newer state is recorded already` };
}

let lambdaDeps: BreakerDeps | undefined;

/** The Lambda entry point: the client made once per container. */
export async function handler(event: unknown): Promise<BreakerOutcome> {
  const config = inlinedConfig();
  lambdaDeps ??= { config, pauses: new PauseStore(new DynamoDBClient({}), config.leaseTable) };
  return noteAlarmChange(event, lambdaDeps);
}
