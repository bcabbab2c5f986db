import type { GroupConfig } from '../lib/config';
import { drainDeadline, type LedgerEntry } from './core';
import { CONTENDED, nodeOf, type InterruptionState } from './interruption-state';
import type { Deps } from './runtime';

/**
 * The opt-in launch lifecycle hook: a new instance waits in Pending:Wait until its node is Ready
 * (CONTINUE), or is abandoned after the group's join timeout (ABANDON: the ASG launches another).
 */

/** A launch lifecycle action: claim it, then wait (join) for the instance's node to be Ready within the join timeout. */
export async function takeLaunch(state: InterruptionState, deps: Deps, g: GroupConfig, previous: string | undefined, now: number, launchedAt?: number): Promise<InterruptionState | typeof CONTENDED> {
  const n = state.notice;
  // The join timeout runs from the launch (as replenish's reaping counts it), not from the event after the boot.
  const deadline = drainDeadline(launchedAt !== undefined ? { ...n, at: launchedAt } : n, now, { drainTimeoutSeconds: g.drainTimeoutSeconds, joinTimeoutSeconds: g.joinTimeoutSeconds });
  const entry: LedgerEntry = { kind: n.kind, execution: state.execution, since: now, deadline };
  const text = JSON.stringify(entry);
  if (!(await deps.lease.writeInterruption(g.name, n.instanceId, text, previous))) return CONTENDED;
  const taken = { ...state.did, group: g.name, waiting: `for ${n.instanceId}'s node to be Ready by ${new Date(deadline).toISOString()} (join timeout ${g.joinTimeoutSeconds}s), else ABANDON` };
  return { ...state, group: g.name, act: true, joining: true, asg: n.hook?.asg, deadline, entry: text, taken, did: taken };
}

/** A launch: is the new instance's node Ready yet? (By its private DNS name, checked against its providerID.) */
export async function join(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
  const n = state.notice;
  const now = deps.now();
  const deadline = state.deadline ?? now;
  const [inst] = await deps.ec2.describeInstances([n.instanceId]);
  const gone = !inst || inst.state === 'shutting-down' || inst.state === 'terminated';
  const node = gone ? undefined : await nodeOf(deps, n.instanceId, inst.privateDnsName);
  const joined = !!node?.ready;
  const timeUp = !joined && (gone || now >= deadline);
  const left = Math.max(1, Math.ceil((deadline - now) / 1000));
  return {
    ...state,
    joined,
    timeUp,
    waitSeconds: Math.min(15, left),
    did: { node: gone ? `${n.instanceId} is ${inst?.state ?? 'gone'}` : node ? `${node.name} ${node.ready ? 'Ready' : 'registered, not Ready'}` : 'not registered yet', secondsLeft: Math.max(0, Math.round((deadline - now) / 1000)) },
  };
}
