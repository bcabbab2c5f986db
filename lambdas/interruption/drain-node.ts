import { parseEntry } from '../lease';
import { graceFor, heartbeatDue, hookDeadline, SPOT_NOTICE_SECONDS, untilHeartbeat } from '../core';
import { drainOnce, executionName } from '../drain';
import { type InterruptionState } from './state';
import type { Deps } from '../runtime';

/**
 * One pass of the drain: evict what may go (not DaemonSet or mirror pods), each pod's grace
 * period capped to the time left; a lifecycle action's heartbeat is recorded when due, counted from
 * the action's start. The workflow loops until nothing is left or the time is up.
 */
export async function drainNode(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
  const now = deps.now();
  if (!state.node || state.deadline === undefined)
    return {
      ...state,
      drained: true,
      timeUp: false,
      waitSeconds: 0,
      untilReclaim: untilReclaim(state, now),
      did: { drained: 'no node to drain' },
    };
  let { lastBeat = now, heartbeats = 0, deadline } = state;
  const n = state.notice;
  let beat: string | undefined;
  // An execution an earlier release took carries no hook timing: the group's, as that release used it.
  const g = deps.config.groups.find((x) => x.name === state.group);
  const hook = n.hook
    ? (state.hook ?? g?.terminateHook ?? { heartbeatTimeoutSeconds: 80, maxHeartbeats: 60 })
    : undefined;
  if (n.hook && hook) {
    if (heartbeatDue(lastBeat, now, hook, heartbeats) && now < deadline) {
      const recorded = await deps.autoscaling.recordHeartbeat(n.hook, n.instanceId);
      beat = recorded ? 'heartbeat recorded' : 'no lifecycle action waits any more';
      heartbeats += 1;
      if (recorded) lastBeat = now;
    }
    if (beat === 'no lifecycle action waits any more') deadline = now;
    else if (state.hook)
      deadline = hookDeadline(
        Math.min(n.at, state.lastBeat ?? now),
        lastBeat,
        heartbeats,
        state.hook,
        g?.drainTimeoutSeconds ?? 600,
      );
  }
  const left = (deadline - now) / 1000;
  const pass = await drainOnce(await deps.kube(), state.node, {
    grace: (pod) => graceFor(pod.graceSeconds, left),
    by: executionName(state.execution),
    now: deps.now,
    measures: deps.metrics,
  });
  const { evicted, refused, remaining } = pass;
  const staying = pass.remainingPods;
  const drained = remaining.length === 0;
  const timeUp = !drained && now >= deadline;
  const poll = nextPoll(staying, evicted.length, refused.length, now, deadline);
  const toBeat = n.hook && hook ? untilHeartbeat(lastBeat, now, hook, heartbeats) : undefined;
  return {
    ...state,
    deadline,
    lastBeat,
    heartbeats,
    drained,
    timeUp,
    // A heartbeat must not wait for the pods: the next pass comes when it is due.
    waitSeconds: toBeat !== undefined ? Math.min(poll, toBeat) : poll,
    left: remaining.slice(0, 20),
    refusedBy: refused.slice(0, 5),
    untilReclaim: drained || timeUp ? untilReclaim(state, now) : 0,
    evicted: (state.evicted ?? 0) + evicted.length,
    did: {
      evicted,
      secondsLeft: Math.max(0, Math.round(left)),
      ...(drained
        ? {}
        : { podsLeft: remaining.slice(0, 20), ...(remaining.length > 20 ? { more: remaining.length - 20 } : {}) }),
      ...(refused.length ? { refused } : {}),
      ...(beat ? { heartbeat: beat } : {}),
    },
  };
}

/**
 * Polls are short while evictions are refused or new; once every pod left is on its way out, the next look is when
 * the last grace period ends.
 */
function nextPoll(
  staying: ReadonlyArray<{ readonly stopsBy?: number; readonly deleting: boolean }>,
  evicted: number,
  refused: number,
  now: number,
  deadline: number,
): number {
  const left = Math.max(1, Math.ceil((deadline - now) / 1000));
  // Refused by a budget: another pod must become Ready elsewhere first, which takes a while.
  if (refused > 0) return Math.min(10, left);
  if (staying.some((p) => !p.deleting)) return Math.min(5, left);
  const last = Math.max(now, ...staying.map((p) => p.stopsBy ?? now + (evicted > 0 ? 5000 : 0)));
  return Math.max(1, Math.min(left, Math.ceil((last - now) / 1000) + 1));
}

/**
 * A Spot instance we detached is reclaimed by EC2 at the notice's time + 2 minutes: finishing
 * waits for that (the node stays Ready, if empty, until then), and terminates only what EC2 left
 * (an interruption that stops or hibernates the instance rather than terminating it).
 */
function untilReclaim(state: InterruptionState, now: number): number {
  const entry = state.entry !== undefined ? parseEntry(state.entry) : undefined;
  if (state.notice.kind !== 'spot-interruption' || !entry?.detached) return 0;
  return Math.max(0, Math.ceil((state.notice.at + (SPOT_NOTICE_SECONDS + 5) * 1000 - now) / 1000));
}
