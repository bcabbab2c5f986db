import {
  decideClaim,
  drainDeadline,
  graceFor,
  heartbeatDue,
  parseNotice,
  prunable,
  SPOT_NOTICE_SECONDS,
  type InstanceState,
  type LedgerEntry,
} from './core';
import type { GroupConfig } from '../lib/config';
import { evictPass, executionName } from './drain';
import { takeLaunch, join } from './interruption-launch';
import { CONTENDED, ignore, nodeOf, type InterruptionState } from './interruption-state';
import type { StartEvent } from './input';
import type { Deps } from './runtime';

/**
 * The interruption drain's steps (statemachines/interruption.asl.json): take the notice (which
 * group, is it new, mark the node, start the replacement), drain until the node is empty or the
 * time is up, then finish (terminate what we detached, complete the lifecycle action, close the
 * ledger entry). It never takes the group's lease: the deadline is minutes. What it does is
 * written in the lease item's ledger, which refresh and replenish read.
 */

export async function validate(event: StartEvent, _deps: Deps): Promise<InterruptionState> {
  const notice = parseNotice(event.input);
  return { execution: event.executionArn, notice, startedAt: Date.parse(event.startTime), did: { notice: notice.kind, instance: notice.instanceId, eventTime: new Date(notice.at).toISOString() } };
}

/** The configured group an instance belongs to, by its ASG (the `aws:autoscaling:groupName` tag or the hook's group). */
function groupOfInstance(deps: Deps, asg: string | undefined, tags: Readonly<Record<string, string>>): GroupConfig | undefined {
  return deps.config.groups.find((g) =>
    g.asgNames ? !!asg && g.asgNames.includes(asg) : !!asg && Object.entries(g.asgTags ?? {}).every(([k, v]) => tags[k] === v),
  );
}

/**
 * Takes the notice: finds the instance's group (none: ignored at once, and said), decides from the
 * ledger whether it is new, claims it (a conditional write: one notice, one drain), marks the node
 * (taint, cordon, out of load balancers), and starts the replacement now by detaching the instance
 * without decrement where the instance will go anyway and nobody else is replacing it.
 */
export async function take(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
  const n = state.notice;
  const [inst] = await deps.ec2.describeInstances([n.instanceId]);
  const asgName = n.hook?.asg ?? inst?.tags?.['aws:autoscaling:groupName'];
  const g = groupOfInstance(deps, asgName, inst?.tags ?? {});
  if (!g) return ignore(state, `${n.instanceId} belongs to no group node-manager manages${asgName ? ` (its ASG: ${asgName})` : inst ? '' : ' (EC2 does not know it in this region)'}`);
  // A claim is a conditional write on what was read: when another write got in between (a
  // duplicate's claim, or another claim pruning old entries), read again and decide again.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const out = await claimAndTake(state, deps, g, inst, asgName, deps.now());
    if (out !== CONTENDED) return out;
  }
  return ignore(state, `the ledger entry of ${n.instanceId} kept changing under this execution (3 tries): another one is handling it`, { group: g.name });
}

async function claimAndTake(state: InterruptionState, deps: Deps, g: GroupConfig, inst: InstanceState | undefined, asgName: string | undefined, now: number): Promise<InterruptionState | typeof CONTENDED> {
  const n = state.notice;
  const rec = await deps.lease.get(g.name);
  const ledger = rec?.interruptions ?? {};
  const previous = ledger[n.instanceId];
  const existing = previous !== undefined ? (JSON.parse(previous) as LedgerEntry) : undefined;
  // Our own claim, written by an earlier attempt of this step (a retry after a crash): go on with it.
  const retry = existing?.execution === state.execution && existing.kind === n.kind;
  const decision = retry ? { claim: true as const } : decideClaim(existing, n);
  if (!decision.claim) return ignore(state, decision.why, { group: g.name });
  if (n.kind === 'launch-hook') return takeLaunch(state, deps, g, previous, now, inst?.launchTime);

  const [asg] = asgName ? await deps.autoscaling.describeGroups({ names: [asgName] }) : [];
  const member = asg?.instances.find((i) => i.instanceId === n.instanceId);
  // A rebalance recommendation is a risk, not a reclaim: with Capacity Rebalancing the ASG replaces
  // the instance itself (and its termination is drained then); without, the node keeps serving and
  // is drained when its interruption warning or termination comes. Draining now would strand a
  // cordoned node, or force pods out past their budgets, for a reclaim that may never come.
  if (n.kind === 'rebalance') {
    const noted: LedgerEntry = { kind: n.kind, execution: state.execution, since: now, deadline: now, doneAt: now };
    const wrote = await deps.lease.writeInterruption(g.name, n.instanceId, JSON.stringify(noted), previous);
    const what = asg?.capacityRebalance
      ? `${asg.name} has Capacity Rebalancing: it launches the replacement and terminates ${n.instanceId} itself, drained then`
      : `noted ${n.instanceId} at elevated risk; it is drained when its interruption warning or termination comes (turn on Capacity Rebalancing on ${asg?.name ?? 'its ASG'} to replace it ahead)`;
    return wrote ? ignore(state, what, { group: g.name }) : CONTENDED;
  }

  const node = inst && inst.state !== 'terminated' ? await nodeOf(deps, n.instanceId, inst.privateDnsName) : undefined;
  // Drained before its end by refresh or replenish (their journal lists the cordon): that execution replaces it.
  const holderJournal = rec?.journal as { cordoned?: readonly string[] } | undefined;
  const heldBy = node && rec?.holder && holderJournal?.cordoned?.includes(node.name) ? rec.holder : undefined;
  if (n.kind === 'unannounced' && (!node || node.cordonedByUs)) {
    return ignore(state, node ? `${node.name} was drained before it stopped (cordoned by node-manager)` : `${n.instanceId} has no node: nothing to drain`, { group: g.name });
  }

  // Start the replacement now: the reclaim is certain, and the instance counts in its ASG until it is gone.
  const replace = n.kind === 'spot-interruption' && member?.lifecycleState === 'InService' && !heldBy;
  const deadline = drainDeadline(n, now, { drainTimeoutSeconds: g.drainTimeoutSeconds, hook: g.terminateHook });
  const entry: LedgerEntry = {
    kind: n.kind,
    execution: state.execution,
    since: retry ? existing.since : now,
    deadline,
    ...(node ? { node: node.name } : {}),
    ...(replace || existing?.detached ? { detached: true } : {}),
    ...(existing && !retry ? { handled: [...new Set([existing.kind, ...(existing.handled ?? [])])] } : existing?.handled ? { handled: existing.handled } : {}),
  };
  const text = JSON.stringify(entry);
  const prune = prunable(Object.fromEntries(Object.entries(ledger).map(([id, t]) => [id, JSON.parse(t) as LedgerEntry])), now);
  if (!(await deps.lease.writeInterruption(g.name, n.instanceId, text, previous, prune))) return CONTENDED;

  const by = executionName(state.execution);
  const marked = node ? await (await deps.kube()).markInterrupted(node.name, by, n.kind) : undefined;
  let replacement = 'none needed';
  if (replace && asg) {
    await deps.autoscaling.detachInstances(asg.name, [n.instanceId], false);
    replacement = `detached from ${asg.name} without decrement: the ASG launches its replacement now`;
  } else if (heldBy) replacement = `${executionName(heldBy)} is replacing it`;
  else if (n.kind === 'terminate-hook' || member?.lifecycleState?.startsWith('Terminating')) replacement = 'the ASG replaces it (the instance no longer counts)';
  const taken: InterruptionState = {
    ...state,
    group: g.name,
    act: true,
    asg: asg?.name ?? asgName,
    node: marked?.name,
    deadline,
    entry: text,
    lastBeat: now,
    heartbeats: 0,
    evicted: 0,
    taken: {
      ...state.did,
      group: g.name,
      node: marked ? `${marked.name}: tainted ${n.kind}:NoSchedule, cordoned, out of load balancers` : 'no node (never joined, or gone)',
      deadline: `${new Date(deadline).toISOString()} (${Math.round((deadline - now) / 1000)}s left)`,
      replacement,
      ...(decision.upgradeFrom ? { after: decision.upgradeFrom } : {}),
    },
  };
  return { ...taken, did: taken.taken };
}

/**
 * One pass of the drain: evict what may go (not DaemonSet or mirror pods), each pod's grace
 * period capped to the time left; a lifecycle action's heartbeat is recorded when due. The
 * workflow loops until nothing is left or the time is up.
 */
export async function drain(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
  if (!state.node || state.deadline === undefined) return { ...state, drained: true, timeUp: false, waitSeconds: 0, untilReclaim: untilReclaim(state, deps.now()), did: { drained: 'no node to drain' } };
  const now = deps.now();
  let { lastBeat = now, heartbeats = 0 } = state;
  const hook = state.notice.hook;
  const g = deps.config.groups.find((x) => x.name === state.group);
  let beat: string | undefined;
  // A hook the stack did not create (no terminateHook setting): its timeout is unknown, so one heartbeat a minute keeps it.
  if (hook && heartbeatDue(lastBeat, now, g?.terminateHook ?? { heartbeatTimeoutSeconds: 80, maxHeartbeats: 60 }, heartbeats) && now < state.deadline) {
    beat = (await deps.autoscaling.recordHeartbeat(hook, state.notice.instanceId)) ? 'heartbeat recorded' : 'no lifecycle action waits any more';
    lastBeat = now;
    heartbeats += 1;
  }
  const left = (state.deadline - now) / 1000;
  const { evicted, refused, staying } = await evictPass(await deps.kube(), state.node, (pod) => graceFor(pod.graceSeconds, left));
  const remaining = staying.map((p) => `${p.namespace}/${p.name}`);
  const drained = remaining.length === 0;
  const timeUp = !drained && now >= state.deadline;
  return {
    ...state,
    lastBeat,
    heartbeats,
    drained,
    timeUp,
    waitSeconds: nextPoll(staying, evicted.length, refused.length, now, state.deadline),
    left: remaining.slice(0, 20),
    refusedBy: refused.slice(0, 5),
    untilReclaim: drained || timeUp ? untilReclaim(state, now) : 0,
    evicted: (state.evicted ?? 0) + evicted.length,
    did: {
      evicted,
      secondsLeft: Math.max(0, Math.round(left)),
      ...(drained ? {} : { podsLeft: remaining.slice(0, 20), ...(remaining.length > 20 ? { more: remaining.length - 20 } : {}) }),
      ...(refused.length ? { refused } : {}),
      ...(beat ? { heartbeat: beat } : {}),
    },
  };
}

/** Polls are short while evictions are refused or new; once every pod left is on its way out, the next look is when the last grace period ends. */
function nextPoll(staying: ReadonlyArray<{ readonly stopsBy?: number; readonly isTerminal: boolean }>, evicted: number, refused: number, now: number, deadline: number): number {
  const left = Math.max(1, Math.ceil((deadline - now) / 1000));
  // Refused by a budget: another pod must become Ready elsewhere first, which takes a while.
  if (refused > 0) return Math.min(10, left);
  if (staying.some((p) => !p.isTerminal)) return Math.min(5, left);
  const last = Math.max(now, ...staying.map((p) => p.stopsBy ?? now + (evicted > 0 ? 5000 : 0)));
  return Math.max(1, Math.min(left, Math.ceil((last - now) / 1000) + 1));
}

/**
 * A Spot instance we detached is reclaimed by EC2 at the notice's time + 2 minutes: finishing
 * waits for that (the node stays Ready, if empty, until then), and terminates only what EC2 left
 * (an interruption that stops or hibernates the instance rather than terminating it).
 */
function untilReclaim(state: InterruptionState, now: number): number {
  const entry = state.entry !== undefined ? (JSON.parse(state.entry) as LedgerEntry) : undefined;
  if (state.notice.kind !== 'spot-interruption' || !entry?.detached) return 0;
  return Math.max(0, Math.ceil((state.notice.at + (SPOT_NOTICE_SECONDS + 5) * 1000 - now) / 1000));
}

/**
 * Ends the drain, on every path: terminates the instance if we detached it (nothing may run
 * outside an ASG), completes the lifecycle action with CONTINUE, and closes the ledger entry.
 */
export async function finish(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
  const n = state.notice;
  const done: Record<string, unknown> = {};
  const entry = state.entry !== undefined ? (JSON.parse(state.entry) as LedgerEntry) : undefined;
  if (entry?.detached) {
    const [inst] = await deps.ec2.describeInstances([n.instanceId]);
    if (inst && inst.state !== 'shutting-down' && inst.state !== 'terminated') {
      // Detached or not (the take step may have failed before the detach), it goes now: outside
      // its ASG nobody else would end it; inside, its ASG replaces it.
      await deps.ec2.terminateInstances([n.instanceId]);
      done.terminated = `${n.instanceId} (drained; terminated so nothing runs outside an ASG)`;
    } else done.terminated = `${n.instanceId} already ${inst?.state ?? 'gone'}`;
  }
  if (n.hook) {
    // A launch goes on only with a Ready node: ABANDON makes the ASG launch another.
    const result = n.kind === 'launch-hook' && !state.joined ? 'ABANDON' : 'CONTINUE';
    const completed = await deps.autoscaling.completeLifecycleAction(n.hook, n.instanceId, result);
    done.lifecycleAction = completed ? `completed ${result} (${n.hook.name})` : 'no lifecycle action was waiting (completed or timed out already)';
  }
  if (state.group && entry && state.entry !== undefined) {
    const closed: LedgerEntry = { ...entry, doneAt: deps.now() };
    const wrote = await deps.lease.writeInterruption(state.group, n.instanceId, JSON.stringify(closed), state.entry);
    if (!wrote) {
      const now = (await deps.lease.get(state.group))?.interruptions[n.instanceId];
      const current = now !== undefined ? (JSON.parse(now) as LedgerEntry) : undefined;
      done.ledger = current?.execution === state.execution && current.doneAt !== undefined ? 'closed already (a retried step)' : 'a later notice took the entry over';
    }
  }
  const pods = state.joining ? undefined : state.drained ? 'none' : state.failure && !state.left ? 'unknown (the drain failed before its first pass)' : (state.left ?? []);
  return {
    ...state,
    did: {
      ...(state.taken ?? state.did),
      ...done,
      ...(pods !== undefined ? { evicted: state.evicted ?? 0, podsLeft: pods } : { joined: !!state.joined }),
      ...(!state.drained && state.refusedBy?.length ? { refusedBy: state.refusedBy } : {}),
      ...(state.heartbeats ? { heartbeats: state.heartbeats } : {}),
      ...(state.startedAt !== undefined ? { seconds: Math.round((deps.now() - state.startedAt) / 1000) } : {}),
      ...(state.failure ? { failure: state.failure.Error, cause: state.failure.Cause.slice(0, 500) } : {}),
    },
  };
}

export type { InterruptionState } from './interruption-state';

export const INTERRUPTION_STEPS = { take, join, drain, finish } as const;
export type InterruptionStep = 'validate' | keyof typeof INTERRUPTION_STEPS;

