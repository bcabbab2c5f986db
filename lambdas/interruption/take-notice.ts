import { decideClaim, describePause, drainDeadline, unverified, type LedgerEntry, type Notice } from '../core';
import type { GroupConfig } from '../config';
import { executionName } from '../drain';
import { takeLaunch } from './check-new-node';
import { groupOfOwnClaim, readLedger, writeEntry } from './ledger';
import { CONTENDED, groupOfAsg, ignore, nodeOf, readFacts, refuse, type Facts, type InterruptionState } from './state';
import type { Deps } from '../runtime';

/**
 * Takes the notice: finds the instance's group (none: ignored at once, and said), checks with AWS
 * that the notice is true (refused otherwise, nothing changed), decides from the ledger whether it
 * is new, claims it (a conditional write: one notice, one drain), marks the node (taint, cordon,
 * out of load balancers), and starts the replacement now by detaching the instance without
 * decrement where the instance will go anyway and nobody else is replacing it.
 */
export async function takeNotice(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
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
    if (why) return refuse(deps.metrics, state, why, { group: g.name });
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
    // An earlier attempt of this step claimed it and failed before it ended (a throttled taint): that
    // claim is this execution's, and it closes it, as every path of the drain closes its own entry.
    if (retry && existing.doneAt === undefined) {
      const closed: LedgerEntry = { ...existing, doneAt: now };
      if (!(await writeEntry(deps, g.name, n.instanceId, closed, read.previous))) return CONTENDED;
    }
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
  const kube = node ? await deps.kube() : undefined;
  const marked = node ? await kube!.markInterrupted(node.name, { by, why: n.kind, at: now, group: g.name }) : undefined;
  if (marked)
    await kube!.recordEvent(
      {
        node: marked.name,
        reason: 'Interrupted',
        note:
          `${n.kind} notice for ${n.instanceId} (${verifiedHow(n, facts)}): tainted ${n.kind}:NoSchedule and cordoned; ` +
          `its pods are evicted until ${new Date(deadline).toISOString()}`,
        type: 'Warning',
        action: 'Drain',
        by,
      },
      now,
    );
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
      ...(read.pause
        ? { paused: { ...describePause(read.pause), drain: 'goes on: an interruption takes the node regardless' } }
        : {}),
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
