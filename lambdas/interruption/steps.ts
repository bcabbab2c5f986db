import {
  arnScope,
  decideClaim,
  drainDeadline,
  graceFor,
  heartbeatDue,
  hookDeadline,
  impossible,
  InvalidInputError,
  NodeManagerError,
  parseNotice,
  SPOT_NOTICE_SECONDS,
  SURVIVAL_MARGIN_SECONDS,
  untilHeartbeat,
  unverified,
  type LedgerEntry,
  type Notice,
} from '../core';
import type { GroupConfig } from '../config';
import { evictPass, executionName } from '../drain';
import { takeLaunch, join } from './check-new-node';
import { closeEntry, groupOfOwnClaim, readLedger, writeEntry } from './ledger';
import { CONTENDED, groupOfAsg, ignore, nodeOf, readFacts, refuse, type Facts, type InterruptionState } from './state';
import { watch } from './check-instance';
import type { StartEvent } from '../input';
import type { Deps } from '../runtime';

/**
 * The interruption drain's steps (statemachines/interruption.asl.json): check the notice, take it
 * (which group, is it true, is it new, mark the node, start the replacement), drain until the node
 * is empty or the time is up, finish (terminate what we detached, complete the lifecycle action,
 * close the ledger entry), and watch an instance that may outlive its notice. It never takes the
 * group's lease: the deadline is minutes. What it does is written in the group's ledger.
 */

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
    return {
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
      did: { ignored: e.message, refused: true },
    };
  }
  const state: InterruptionState = {
    ...base,
    notice,
    act: true,
    did: { notice: notice.kind, instance: notice.instanceId, eventTime: new Date(notice.at).toISOString() },
  };
  const why = impossible(notice, arnScope(event.executionArn), deps.now());
  return why ? refuse(state, why) : state;
}

/**
 * Takes the notice: finds the instance's group (none: ignored at once, and said), checks with AWS
 * that the notice is true (refused otherwise, nothing changed), decides from the ledger whether it
 * is new, claims it (a conditional write: one notice, one drain), marks the node (taint, cordon,
 * out of load balancers), and starts the replacement now by detaching the instance without
 * decrement where the instance will go anyway and nobody else is replacing it.
 */
export async function take(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
  const n = state.notice;
  const facts = await readFacts(deps, n);
  const asgName = n.hook?.asg ?? facts.asg?.name;
  // A retried step whose instance we detached finds no ASG: its own claim names the group.
  const g = (await groupOfAsg(deps, asgName)) ?? (await ownGroup(deps, state));
  if (!g) {
    const where = asgName
      ? ` (its ASG: ${asgName})`
      : facts.ec2
        ? ' (it is in no Auto Scaling group)'
        : ' (EC2 does not know it in this region)';
    return ignore(state, `${n.instanceId} belongs to no group node-manager manages${where}`);
  }
  // A claim is a conditional write on what was read: when another write got in between (a
  // duplicate's claim), read again and decide again.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const out = await claimAndTake(state, deps, g, facts, deps.now());
    if (out !== CONTENDED) return out;
  }
  return ignore(
    state,
    `the ledger entry of ${n.instanceId} kept changing under this execution (3 tries): another one is handling it`,
    { group: g.name },
  );
}

async function ownGroup(deps: Deps, state: InterruptionState): Promise<GroupConfig | undefined> {
  const name = await groupOfOwnClaim(deps, state);
  return deps.config.groups.find((g) => g.name === name);
}

async function claimAndTake(
  state: InterruptionState,
  deps: Deps,
  g: GroupConfig,
  facts: Facts,
  now: number,
): Promise<InterruptionState | typeof CONTENDED> {
  const n = state.notice;
  const read = await readLedger(deps, g.name, n.instanceId, now);
  const existing = read.existing;
  // Our own claim, written by an earlier attempt of this step (a retry after a crash): go on with it.
  const retry = existing?.execution === state.execution && existing.kind === n.kind;
  if (!retry) {
    const why = unverified(n, facts);
    if (why) return refuse(state, why, { group: g.name });
  }
  const decision = retry ? { claim: true as const } : decideClaim(existing, n);
  if (!decision.claim) return ignore(state, decision.why, { group: g.name });
  const verified = { ...state, verified: true };
  if (n.kind === 'launch-hook') return takeLaunch(verified, deps, g, read.previous, now, facts, existing);

  // A rebalance recommendation is a risk, not a reclaim: with Capacity Rebalancing the ASG replaces
  // the instance itself (and its termination is drained then); without, the node keeps serving and
  // is drained when its interruption warning or termination comes. Draining now would strand a
  // cordoned node, or force pods out past their budgets, for a reclaim that may never come.
  if (n.kind === 'rebalance') {
    const noted: LedgerEntry = { kind: n.kind, execution: state.execution, since: now, deadline: now, doneAt: now };
    if (!(await writeEntry(deps, g.name, n.instanceId, noted, read.previous))) return CONTENDED;
    const [asg] = facts.asg ? await deps.autoscaling.describeGroups({ names: [facts.asg.name] }) : [];
    const what = asg?.capacityRebalance
      ? `${asg.name} has Capacity Rebalancing: it launches the replacement and terminates ${n.instanceId} itself, drained then`
      : `noted ${n.instanceId} at elevated risk; it is drained when its interruption warning or termination comes ` +
        `(turn on Capacity Rebalancing on ${asg?.name ?? 'its ASG'} to replace it ahead)`;
    return ignore(verified, what, { group: g.name });
  }

  const gone = facts.ec2?.state === 'terminated';
  const node = gone ? undefined : await nodeOf(deps, n.instanceId, facts.privateDnsName);
  // Drained before its end by refresh or replenish (their journal lists the cordon): that execution replaces it.
  const holderJournal = read.journal as { cordoned?: readonly string[] } | undefined;
  const heldBy = node && read.holder && holderJournal?.cordoned?.includes(node.name) ? read.holder : undefined;
  if (n.kind === 'unannounced' && (!node || (node.cordonedByUs && !node.interruption))) {
    return ignore(
      verified,
      node
        ? `${node.name} was drained before it stopped (cordoned by node-manager)`
        : `${n.instanceId} has no node: nothing to drain`,
      { group: g.name },
    );
  }

  // Start the replacement now: the reclaim is certain, and the instance counts in its ASG until it is gone.
  const replace = n.kind === 'spot-interruption' && facts.asg?.lifecycleState === 'InService' && !heldBy;
  const hook = n.hook ? await hookTiming(deps, g, n.hook) : undefined;
  const deadline = drainDeadline(n, now, { drainTimeoutSeconds: g.drainTimeoutSeconds, ...(hook ? { hook } : {}) });
  const entry: LedgerEntry = {
    kind: n.kind,
    execution: state.execution,
    since: retry ? existing.since : now,
    deadline,
    ...(node ? { node: node.name } : {}),
    ...(replace || existing?.detached ? { detached: true } : {}),
    ...(n.hook?.destination === 'WarmPool' ? { warmPool: true } : {}),
    ...(existing && !retry
      ? { handled: [...new Set([existing.kind, ...(existing.handled ?? [])])] }
      : existing?.handled
        ? { handled: existing.handled }
        : {}),
  };
  if (!(await writeEntry(deps, g.name, n.instanceId, entry, read.previous))) return CONTENDED;

  const by = executionName(state.execution);
  const marked = node
    ? await (await deps.kube()).markInterrupted(node.name, { by, why: n.kind, at: now, group: g.name })
    : undefined;
  let replacement = 'none needed';
  if (replace && facts.asg) {
    await deps.autoscaling.detachInstances(facts.asg.name, [n.instanceId], false);
    replacement = `detached from ${facts.asg.name} without decrement: the ASG launches its replacement now`;
  } else if (retry && existing.detached)
    replacement = 'detached already by an earlier attempt of this step: its ASG launches the replacement';
  else if (heldBy) replacement = `${executionName(heldBy)} is replacing it`;
  else if (n.hook?.destination === 'WarmPool')
    replacement = 'none: the instance goes back to its warm pool (its node is given back when it launches again)';
  else if (n.kind === 'terminate-hook' || facts.asg?.lifecycleState?.startsWith('Terminating'))
    replacement = 'the ASG replaces it (the instance no longer counts)';
  const taken: InterruptionState = {
    ...verified,
    group: g.name,
    act: true,
    asg: facts.asg?.name ?? n.hook?.asg,
    node: marked?.name,
    deadline,
    entry: JSON.stringify(entry),
    ledgerItem: true,
    ...(hook ? { hook, lastBeat: Math.min(n.at, now) } : { lastBeat: now }),
    heartbeats: 0,
    evicted: 0,
    going: facts.ec2 === undefined || facts.ec2.state === 'shutting-down' || facts.ec2.state === 'terminated',
    taken: {
      ...state.did,
      group: g.name,
      node: marked
        ? `${marked.name}: tainted ${n.kind}:NoSchedule, cordoned, out of load balancers`
        : 'no node (never joined, or gone)',
      deadline: `${new Date(deadline).toISOString()} (${Math.round((deadline - now) / 1000)}s left)`,
      replacement,
      verified: verifiedHow(n, facts),
      ...(decision.upgradeFrom ? { after: decision.upgradeFrom } : {}),
    },
  };
  return { ...taken, did: taken.taken };
}

/** What AWS confirmed, in the output's words. */
function verifiedHow(n: Notice, f: Facts): string {
  if (n.kind === 'spot-interruption') return `Spot request ${f.spotStatus}`;
  if (n.kind === 'unannounced') return `EC2 shows it ${f.ec2?.state}`;
  return `${f.asg?.lifecycleState} in ${f.asg?.name}`;
}

/**
 * The hook's timing as Auto Scaling keeps it (its heartbeat timeout), and the group's limit on
 * heartbeats: the drain keeps the action alive from the action's start, whenever its event came.
 */
async function hookTiming(
  deps: Deps,
  g: GroupConfig,
  hook: NonNullable<Notice['hook']>,
): Promise<{ heartbeatTimeoutSeconds: number; maxHeartbeats: number }> {
  const info = await deps.autoscaling.describeHook(hook.asg, hook.name);
  const heartbeatTimeoutSeconds = info?.heartbeatTimeoutSeconds ?? g.terminateHook?.heartbeatTimeoutSeconds ?? 300;
  return { heartbeatTimeoutSeconds, maxHeartbeats: g.terminateHook?.maxHeartbeats ?? 0 };
}

/**
 * One pass of the drain: evict what may go (not DaemonSet or mirror pods), each pod's grace
 * period capped to the time left; a lifecycle action's heartbeat is recorded when due, counted from
 * the action's start. The workflow loops until nothing is left or the time is up.
 */
export async function drain(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
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
  const { evicted, refused, staying } = await evictPass(await deps.kube(), state.node, (pod) =>
    graceFor(pod.graceSeconds, left),
  );
  const remaining = staying.map((p) => `${p.namespace}/${p.name}`);
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
  staying: ReadonlyArray<{ readonly stopsBy?: number; readonly isTerminal: boolean }>,
  evicted: number,
  refused: number,
  now: number,
  deadline: number,
): number {
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
 * outside an ASG), completes the lifecycle action (CONTINUE; ABANDON only for a launch whose node
 * demonstrably did not join in time: any failure of ours lets the instance go on, as the hook's own
 * default would), and closes the ledger entry (a step that failed after claiming left it in the
 * ledger, not in the state: it is found there). An instance that may outlive its notice is watched.
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
  // A launch whose take failed before it could confirm the action: confirm it here (one call), so
  // that an outage of ours lets the launch go on now rather than at the hook's timeout.
  // An execution an earlier release took (its entry in the lease item) checked its notice its own way: it ends as it began.
  const earlier = state.entry !== undefined && !state.ledgerItem;
  const confirmed =
    state.verified ||
    earlier ||
    (n.kind === 'launch-hook' && n.hook !== undefined && state.failure !== undefined && (await launchWaiting(deps, n)));
  if (n.hook && confirmed) {
    const abandon =
      n.kind === 'launch-hook' && state.timeUp === true && !state.joined && !state.failure && !state.warming;
    const result = abandon ? 'ABANDON' : 'CONTINUE';
    const completed = await deps.autoscaling.completeLifecycleAction(n.hook, n.instanceId, result);
    done.lifecycleAction = completed
      ? `completed ${result} (${n.hook.name})`
      : 'no lifecycle action was waiting (completed or timed out already)';
    if (completed && result === 'CONTINUE' && state.failure && n.kind === 'launch-hook')
      done.failOpen = `node-manager failed (${state.failure.Error}): the launch goes on, as the hook's default would let it`;
  } else if (n.hook && state.failure && !confirmed)
    done.lifecycleAction =
      'not completed: the notice was never confirmed with Auto Scaling (the hook times out to its default result)';
  const closed = await closeEntry(deps, state, state.group);
  if (closed.said) done.ledger = closed.said;
  // A node we marked whose instance is not certainly going: watch it, and give it back if it stays.
  const mine = entry ?? closed.entry;
  const node = state.node ?? mine?.node;
  const mayStay = node !== undefined && !mine?.detached && !state.going && !n.hook;
  const deadline = state.deadline ?? mine?.deadline ?? deps.now();
  const watchSeconds = mayStay
    ? Math.max(1, Math.ceil((deadline + SURVIVAL_MARGIN_SECONDS * 1000 - deps.now()) / 1000))
    : 0;
  const pods =
    state.joining || state.warming
      ? undefined
      : state.drained
        ? 'none'
        : state.failure && !state.left
          ? 'unknown (the drain failed before its first pass)'
          : (state.left ?? []);
  return {
    ...state,
    ...(node !== undefined ? { node } : {}),
    ...(state.group === undefined && closed.group ? { group: closed.group } : {}),
    watchSeconds,
    watchPolls: 0,
    did: {
      ...(state.taken ?? state.did),
      ...done,
      ...(pods !== undefined
        ? { evicted: state.evicted ?? 0, podsLeft: pods }
        : state.joining
          ? { joined: !!state.joined }
          : {}),
      ...(!state.drained && state.refusedBy?.length ? { refusedBy: state.refusedBy } : {}),
      ...(state.heartbeats ? { heartbeats: state.heartbeats } : {}),
      ...(watchSeconds
        ? {
            watching:
              `${n.instanceId} should be gone by ` +
              `${new Date(deps.now() + watchSeconds * 1000).toISOString()}; if it is still running then, its node is given back`,
          }
        : {}),
      ...(state.startedAt !== undefined ? { seconds: Math.round((deps.now() - state.startedAt) / 1000) } : {}),
      ...(state.failure ? { failure: state.failure.Error, cause: state.failure.Cause.slice(0, 500) } : {}),
    },
  };
}

/** Whether Auto Scaling holds the instance in Pending:Wait on that hook's group (errors: no, the hook's default applies). */
async function launchWaiting(deps: Deps, n: Notice): Promise<boolean> {
  try {
    const [m] = await deps.autoscaling.describeInstances([n.instanceId]);
    return unverified(n, { ...(m ? { asg: { name: m.asg, lifecycleState: m.lifecycleState } } : {}) }) === undefined;
  } catch (e) {
    if (e instanceof NodeManagerError) return false;
    throw e;
  }
}

export type { InterruptionState } from './state';

/** Step keys as statemachines/interruption.asl.json names them (an execution started on an earlier definition calls the same ones). */
export const INTERRUPTION_STEPS = { take, join, drain, finish, watch } as const;
export type InterruptionStep = 'validate' | keyof typeof INTERRUPTION_STEPS;
