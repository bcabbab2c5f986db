import { arnScope, impossible, InvalidInputError, parseNotice, type Notice } from '../core';
import { refuse, type InterruptionState } from './state';
import type { StartEvent } from '../input';
import type { Deps } from '../runtime';

/**
 * Reads the event and refuses what is impossible from the event alone: not an event of the
 * catalog, another account or region than this workflow's own, a time in the future, a Spot
 * warning past its reclaim. A refusal changes nothing and the execution succeeds, saying why:
 * whoever can start the workflow can send anything, and a refusal is not an outage.
 */
export async function validate(event: StartEvent, deps: Deps): Promise<InterruptionState> {
  const base = { execution: event.executionArn, startedAt: Date.parse(event.startTime) };
  let notice: Notice;
  try {
    notice = parseNotice(event.input);
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    const raw = event.input as {
      'detail-type'?: unknown;
      detail?: { 'instance-id'?: unknown; EC2InstanceId?: unknown };
    } | null;
    const id =
      typeof raw === 'object' && raw !== null ? (raw.detail?.['instance-id'] ?? raw.detail?.EC2InstanceId) : undefined;
    const unread: InterruptionState = {
      ...base,
      notice: {
        kind: 'rebalance',
        instanceId: typeof id === 'string' ? id.slice(0, 40) : '',
        at: 0,
        eventId: '',
        account: '',
        region: '',
      },
      act: false,
      did: {},
    };
    return refuse(deps.metrics, unread, e.message);
  }
  const state: InterruptionState = {
    ...base,
    notice,
    act: true,
    did: { notice: notice.kind, instance: notice.instanceId, eventTime: new Date(notice.at).toISOString() },
  };
  const why = impossible(notice, arnScope(event.executionArn), deps.now());
  return why ? refuse(deps.metrics, state, why) : state;
}
