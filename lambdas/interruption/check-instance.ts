import { parseEntry } from '../lease';
import { aftermath, stoppedPollSeconds } from '../core';
import { executionName } from '../drain';
import { writeEntry } from './ledger';
import type { InterruptionState } from './state';
import type { Deps } from '../runtime';

/** The workflow's TimeoutSeconds is 3 hours: a watch gives up well before it. */
export const WATCH_FOR_MS = 2.5 * 3600 * 1000;

/**
 * After the drain: did the instance go as its notice said? Gone (or leaving its ASG): done. Still
 * running past the deadline and a margin (a warning not carried out, a stop followed by a start):
 * its node is given back (untainted, uncordoned, back in load balancers) and the entry says so.
 * Stopped: look again later (1, 2, 4 ... minutes), until it is gone (its ASG's health check
 * replaces a stopped instance) or runs again, for at most {@link WATCH_FOR_MS}.
 */
export async function checkInstance(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
  const n = state.notice;
  const now = deps.now();
  const [inst] = await deps.ec2.describeInstances([n.instanceId]);
  const [membership] = inst ? await deps.autoscaling.describeInstances([n.instanceId]) : [];
  const what = aftermath(inst?.state, membership?.lifecycleState);
  const polls = state.watchPolls ?? 0;
  if (what === 'gone')
    return {
      ...state,
      watchSeconds: 0,
      did: {
        ...state.did,
        watched: `${n.instanceId} is ${membership?.lifecycleState ?? inst?.state ?? 'gone'}: gone as announced`,
      },
    };
  if (what === 'stopped') {
    const started = state.startedAt ?? now;
    if (now - started >= WATCH_FOR_MS) {
      return {
        ...state,
        watchSeconds: 0,
        did: {
          ...state.did,
          watched:
            `${n.instanceId} is still ${inst?.state} after ${Math.round((now - started) / 60_000)} ` +
            `minutes: its node stays cordoned (its ASG's health check replaces a stopped instance; a person who ` +
            `starts it again uncordons the node)`,
        },
      };
    }
    const wait = stoppedPollSeconds(polls);
    return {
      ...state,
      watchSeconds: wait,
      watchPolls: polls + 1,
      did: { ...state.did, watched: `${n.instanceId} is ${inst?.state}; looking again in ${wait}s` },
    };
  }
  // Survived: give the node back, but only while the mark is this drain's own.
  const node = state.node;
  const back = node ? await (await deps.kube()).unmarkInterrupted(node, executionName(state.execution)) : undefined;
  if (state.group && state.entry !== undefined && state.ledgerItem) {
    const item = await deps.lease.readLedger(state.group, n.instanceId);
    const entry = item ? parseEntry(item.text) : undefined;
    if (item && entry?.execution === state.execution && !entry.survived)
      await writeEntry(deps, state.group, n.instanceId, { ...parseEntry(item.text), survived: true }, item.text);
  }
  return {
    ...state,
    watchSeconds: 0,
    survived: true,
    did: {
      ...state.did,
      survived:
        `${n.instanceId} is still running after its notice` +
        (back
          ? `: ${node} untainted, uncordoned and back in load balancers`
          : node
            ? `: ${node} carries another drain's mark now, left as it is`
            : ''),
    },
  };
}
