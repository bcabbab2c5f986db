import { parseEntry } from '../lease';
import { interruptionSummary, NodeManagerError, SURVIVAL_MARGIN_SECONDS, unverified, type Notice } from '../core';
import { closeEntry } from './ledger';
import { type InterruptionState } from './state';
import type { Deps } from '../runtime';

/**
 * Ends the drain, on every path: terminates the instance if we detached it (nothing may run
 * outside an ASG), completes the lifecycle action (CONTINUE; ABANDON only for a launch whose node
 * demonstrably did not join in time: any failure of ours lets the instance go on, as the hook's own
 * default would), and closes the ledger entry (a step that failed after claiming left it in the
 * ledger, not in the state: it is found there). An instance that may outlive its notice is watched.
 */
export async function finishDrain(state: InterruptionState, deps: Deps): Promise<InterruptionState> {
  const n = state.notice;
  const done: Record<string, unknown> = {};
  const entry = state.entry !== undefined ? parseEntry(state.entry) : undefined;
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
  // Counted once: by the step that closed the entry (a retry finds it closed already); a node that
  // goes is then followed until the group is whole again (check-group.ts).
  let measure = false;
  if (pods !== undefined && (closed.said === 'closed' || closed.said?.startsWith('closed (the step'))) {
    deps.metrics.add('InterruptionsDrained', 1);
    if (state.startedAt !== undefined)
      deps.metrics.add('DrainSeconds', Math.round((deps.now() - state.startedAt) / 1000));
    if (Array.isArray(pods) && pods.length) deps.metrics.add('PodsLost', pods.length);
    const replacement = (state.taken as { replacement?: unknown } | undefined)?.replacement;
    const text = interruptionSummary({
      cluster: deps.config.cluster.name,
      group: state.group ?? closed.group ?? '?',
      execution: state.execution,
      notice: n.kind,
      instanceId: n.instanceId,
      ...(node !== undefined ? { node } : {}),
      evicted: state.evicted ?? 0,
      podsLeft: pods,
      ...(state.startedAt !== undefined ? { seconds: (deps.now() - state.startedAt) / 1000 } : {}),
      ...(typeof replacement === 'string' ? { replacement } : {}),
    });
    done.summary = await deps.summaries.publish(text.subject, text.message);
    // A Spot reclaim, whose replacement is launched at once: how long it left the group short is
    // measured. A termination hook's (scale-in, instance refresh) may have none coming.
    measure = n.kind === 'spot-interruption' && !mayStay && state.group !== undefined;
  }
  return {
    ...state,
    ...(node !== undefined ? { node } : {}),
    ...(state.group === undefined && closed.group ? { group: closed.group } : {}),
    watchSeconds,
    watchPolls: 0,
    wholeSeconds: measure ? 1 : 0,
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
