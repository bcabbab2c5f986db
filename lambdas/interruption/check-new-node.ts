import type { GroupConfig } from '../config';
import { drainDeadline, type LedgerEntry } from '../core';
import { executionName } from '../drain';
import { writeEntry } from './ledger';
import { CONTENDED, nodeOf, type Facts, type InterruptionState } from './state';
import type { Deps } from '../runtime';

/**
 * The opt-in launch lifecycle hook: a new instance waits in Pending:Wait until its node is Ready
 * (CONTINUE), or is abandoned after the group's join timeout when its node demonstrably did not
 * join (ABANDON: the ASG launches another). An instance warming into a warm pool goes on at once
 * (its kubelet does not run there); one coming back from the pool gets its node back first.
 */

/** A launch lifecycle action: claim it, then wait (join) for the instance's node to be Ready within the join timeout. */
export async function takeLaunch(
  state: InterruptionState,
  deps: Deps,
  g: GroupConfig,
  previous: string | undefined,
  now: number,
  facts: Facts,
  existing: LedgerEntry | undefined,
): Promise<InterruptionState | typeof CONTENDED> {
  const n = state.notice;
  if (n.hook?.destination === 'WarmPool') {
    const warming = {
      ...state.did,
      group: g.name,
      warming:
        `${n.instanceId} is warming into the warm pool of ${n.hook.asg}: its kubelet is not expected to ` +
        `join there; CONTINUE at once`,
    };
    return { ...state, group: g.name, act: true, warming: true, asg: n.hook.asg, taken: warming, did: warming };
  }
  // The join timeout runs from the launch (as replenish's reaping counts it), not from the event.
  const deadline = drainDeadline(n, now, {
    drainTimeoutSeconds: g.drainTimeoutSeconds,
    joinTimeoutSeconds: g.joinTimeoutSeconds,
    launchedAt: facts.launchedAt,
  });
  const entry: LedgerEntry = { kind: n.kind, execution: state.execution, since: now, deadline };
  if (!(await writeEntry(deps, g.name, n.instanceId, entry, previous))) return CONTENDED;
  // Back from the warm pool: the node its termination drained comes back cordoned by that drain.
  let back: string | undefined;
  if (existing?.warmPool && existing.node) {
    const node = await nodeOf(deps, n.instanceId, facts.privateDnsName);
    const given = node
      ? await (await deps.kube()).unmarkInterrupted(node.name, executionName(existing.execution))
      : undefined;
    if (given) back = `${given.name} back from the warm pool: untainted and uncordoned`;
  }
  const taken = {
    ...state.did,
    group: g.name,
    waiting:
      `for ${n.instanceId}'s node to be Ready by ${new Date(deadline).toISOString()} (join timeout ` +
      `${g.joinTimeoutSeconds}s), else ABANDON`,
    ...(back ? { node: back } : {}),
  };
  return {
    ...state,
    group: g.name,
    act: true,
    joining: true,
    asg: n.hook?.asg,
    deadline,
    entry: JSON.stringify(entry),
    ledgerItem: true,
    taken,
    did: taken,
  };
}

/** A launch: is the new instance's node Ready yet? (By its private DNS name, checked against its providerID.) */
export async function checkNewNode(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
  const n = state.notice;
  const now = deps.now();
  const deadline = state.deadline ?? now;
  const [inst] = await deps.ec2.describeInstances([n.instanceId]);
  const gone = !inst || inst.state === 'shutting-down' || inst.state === 'terminated';
  const node = gone ? undefined : await nodeOf(deps, n.instanceId, inst.privateDnsName);
  const joined = !!node?.ready;
  // Out of time only when the node demonstrably did not join: the instance is there, the timeout has passed.
  const timeUp = !joined && !gone && now >= deadline;
  const left = Math.max(1, Math.ceil((deadline - now) / 1000));
  return {
    ...state,
    joined,
    // A launch whose instance went meanwhile has no action left to complete: finish closes its entry.
    timeUp: timeUp || gone,
    ...(gone ? { verified: false } : {}),
    waitSeconds: Math.min(15, left),
    did: {
      node: gone
        ? `${n.instanceId} is ${inst?.state ?? 'gone'}`
        : node
          ? `${node.name} ${node.ready ? 'Ready' : 'registered, not Ready'}`
          : 'not registered yet',
      secondsLeft: Math.max(0, Math.round((deadline - now) / 1000)),
    },
  };
}
