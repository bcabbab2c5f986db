import { SPOT_NOTICE_SECONDS, type HookPlace, type Notice, type NoticeKind } from './notices';
import type { NodeState } from './types';

/**
 * Interruption drain, the pure part: whether a notice is new work or a duplicate of one already
 * handled, what AWS must confirm before anything changes, how much time the drain has, and how
 * long a ledger entry is kept.
 */

/** Time kept back from the Spot deadline: evictions and their pods' SIGTERM need to land before the reclaim. */
export const SPOT_MARGIN_SECONDS = 15;
/** What a drain of an instance already shutting down can still do: its kubelet stops within seconds. */
export const UNANNOUNCED_SECONDS = 20;
/** A closed entry is kept this long so that late copies of its events, and the state change that ends it, do nothing. */
export const CLOSED_ENTRY_KEEP_MS = 60 * 60 * 1000;
/**
 * An open entry outlives any execution that could still close it (the workflow's TimeoutSeconds
 * is 3 hours): past this it is expired, whoever wrote it.
 */
export const OPEN_ENTRY_KEEP_MS = 4 * 60 * 60 * 1000;
/** A node marked for an interruption this long ago no longer pauses anything: its drain is over or dead. */
export const IN_FLIGHT_MAX_MS = 30 * 60 * 1000;
/**
 * The nodes of a group an interruption drain marked not long ago: a refresh picks no new batch
 * while any is (a Spot storm pauses voluntary disruption). Read from the nodes, which every look
 * lists anyway; the drain's mark names its group, so a detached instance's node still counts.
 */
export function interruptionsInFlight(
  nodes: readonly NodeState[],
  group: string,
  now: number,
): Array<{ readonly node: string; readonly kind: string }> {
  return nodes
    .filter((n) => n.interruption?.group === group && now - n.interruption.at < IN_FLIGHT_MAX_MS)
    .map((n) => ({ node: n.name, kind: n.interruption!.kind }));
}

/** After the deadline, how long an instance that should have gone may still be running before its node is given back. */
export const SURVIVAL_MARGIN_SECONDS = 60;

/** What the ledger holds per instance (one item per instance, see aws/lease.ts). */
export interface LedgerEntry {
  readonly kind: NoticeKind;
  readonly execution: string;
  readonly since: number;
  /** When the drain must be over (epoch ms). */
  readonly deadline: number;
  readonly node?: string;
  /** We detached the instance so its ASG launches the replacement now: we must terminate it. */
  readonly detached?: boolean;
  /** Set once the drain is over. */
  readonly doneAt?: number;
  /** The kinds already handled for this instance (a Spot warning after a rebalance, say). */
  readonly handled?: readonly NoticeKind[];
  /** The instance went back to its ASG's warm pool: its node comes back cordoned, and is given back on its next launch. */
  readonly warmPool?: boolean;
  /** Set when the instance outlived the notice and its node was given back (uncordoned, untainted). */
  readonly survived?: boolean;
}

/** When DynamoDB may drop the entry (its time to live, epoch seconds). */
export function entryExpiresAt(e: LedgerEntry): number {
  const ms = e.doneAt !== undefined ? e.doneAt + CLOSED_ENTRY_KEEP_MS : e.since + OPEN_ENTRY_KEEP_MS;
  return Math.ceil(ms / 1000);
}

/** DynamoDB deletes expired items within days, not at once: an expired entry still read is no entry. */
export function isExpired(expiresAtSeconds: number | undefined, now: number): boolean {
  return expiresAtSeconds !== undefined && expiresAtSeconds * 1000 <= now;
}

export type ClaimDecision =
  { readonly claim: true; readonly upgradeFrom?: NoticeKind } | { readonly claim: false; readonly why: string };

const short = (execution: string) => execution.split(':').pop();

/**
 * Whether a notice is new work. The same kind twice drains once (EventBridge delivers at least
 * once); a state change after an announced notice is that notice's end; a rebalance after a
 * harder notice adds nothing; a Spot warning after a rebalance shortens the deadline; a lifecycle
 * action is always answered (the instance waits on it), even when another notice drained the node.
 */
export function decideClaim(existing: LedgerEntry | undefined, notice: Notice): ClaimDecision {
  if (!existing) return { claim: true };
  const handled = new Set([existing.kind, ...(existing.handled ?? [])]);
  // A launch and a termination of one instance are separate work: a launch claims only launches.
  if ((notice.kind === 'launch-hook') !== (existing.kind === 'launch-hook')) {
    if (notice.kind !== 'launch-hook') return { claim: true, upgradeFrom: existing.kind };
    // Back from the warm pool: its last termination is over, this is a launch like any other.
    if (existing.doneAt !== undefined && (existing.warmPool || notice.hook?.origin === 'WarmPool'))
      return { claim: true, upgradeFrom: existing.kind };
    return { claim: false, why: `${notice.instanceId} is already leaving (${existing.kind})` };
  }
  if (handled.has(notice.kind)) {
    // An instance that went to the warm pool and came back leaves again: a new termination.
    if (notice.kind === 'terminate-hook' && existing.warmPool && existing.doneAt !== undefined)
      return { claim: true, upgradeFrom: existing.kind };
    return {
      claim: false,
      why: `a duplicate: ${notice.kind} of ${notice.instanceId} is handled already by ${short(existing.execution)}`,
    };
  }
  // A noted rebalance drained nothing: the termination that follows is new work.
  if (existing.kind === 'rebalance' && !existing.handled?.length) return { claim: true, upgradeFrom: 'rebalance' };
  if (notice.kind === 'unannounced')
    return {
      claim: false,
      why: `announced before (${existing.kind}, handled by ${short(existing.execution)}): this is its end`,
    };
  if (notice.kind === 'rebalance')
    return { claim: false, why: `already draining on ${existing.kind} (${short(existing.execution)})` };
  return { claim: true, upgradeFrom: existing.kind };
}

// ---- what AWS must confirm ---------------------------------------------------------------------

/**
 * Spot request status codes that say EC2 itself is taking the instance back (the request's status
 * turns to one of these at the interruption warning; `instance-terminated-no-capacity` while the
 * instance still runs its last two minutes). A user's own stop or terminate is none of these.
 */
export const SPOT_INTERRUPTED_CODES: ReadonlySet<string> = new Set([
  'marked-for-termination',
  'marked-for-stop',
  'instance-terminated-no-capacity',
  'instance-stopped-no-capacity',
  'instance-terminated-by-price',
  'instance-stopped-by-price',
  'instance-terminated-capacity-oversubscribed',
  'instance-stopped-capacity-oversubscribed',
]);

/** What AWS says of the instance, as the take step reads it. */
export interface InstanceFacts {
  /** EC2's view; undefined when EC2 does not know the instance in this region. */
  readonly ec2?: { readonly state: string; readonly lifecycle: 'spot' | 'on-demand' };
  /** Auto Scaling's view (DescribeAutoScalingInstances); undefined when it is in no ASG. */
  readonly asg?: { readonly name: string; readonly lifecycleState: string };
  /** The Spot request's status code, for a Spot instance. */
  readonly spotStatus?: string;
}

/** The lifecycle states a hook holds an instance in, by the kind of action and where it goes. */
function hookStates(kind: 'terminate-hook' | 'launch-hook', destination: HookPlace | undefined): readonly string[] {
  if (kind === 'terminate-hook')
    return destination === 'WarmPool' ? ['Warmed:Pending:Wait', 'Terminating:Wait'] : ['Terminating:Wait'];
  return destination === 'WarmPool' ? ['Warmed:Pending:Wait'] : ['Pending:Wait'];
}

/**
 * Checks a notice against what AWS says, before anything changes: a Spot warning needs a Spot
 * instance whose request EC2 has marked for interruption; a lifecycle action needs the instance
 * waiting in that hook's state in that ASG; an unannounced stop needs the instance stopping or
 * shutting down. A rebalance recommendation cannot be checked (AWS offers no API that shows it):
 * it changes nothing but a note. Returns why the notice is refused, or undefined.
 */
export function unverified(n: Notice, f: InstanceFacts): string | undefined {
  const id = n.instanceId;
  switch (n.kind) {
    case 'spot-interruption':
    case 'rebalance': {
      if (!f.ec2) return `EC2 does not know ${id} in this region`;
      if (f.ec2.lifecycle !== 'spot')
        return `${id} is an on-demand instance: EC2 sends Spot notices for Spot instances only`;
      if (n.kind === 'rebalance') return f.ec2.state === 'running' ? undefined : `${id} is ${f.ec2.state}, not running`;
      if (f.spotStatus === undefined) return `${id} has no Spot request EC2 can show`;
      if (!SPOT_INTERRUPTED_CODES.has(f.spotStatus))
        return `the Spot request of ${id} is ${f.spotStatus}: EC2 has not marked it for interruption`;
      return undefined;
    }
    case 'terminate-hook':
    case 'launch-hook': {
      const want = hookStates(n.kind, n.hook?.destination);
      if (!f.asg) return `${id} is in no Auto Scaling group: no lifecycle action can hold it`;
      if (f.asg.name !== n.hook?.asg) return `${id} is in ${f.asg.name}, not in ${n.hook?.asg}`;
      if (!want.includes(f.asg.lifecycleState))
        return (
          `${id} is ${f.asg.lifecycleState} in ${f.asg.name}, not ${want.join(' or ')}: no ` +
          `${n.kind === 'terminate-hook' ? 'termination' : 'launch'} waits on a hook`
        );
      return undefined;
    }
    case 'unannounced': {
      if (!f.ec2) return `EC2 does not know ${id} in this region`;
      const states = ['stopping', 'stopped', 'shutting-down', 'terminated'];
      return states.includes(f.ec2.state) ? undefined : `${id} is ${f.ec2.state}: it is not stopping or shutting down`;
    }
  }
}

// ---- how long the drain has ----------------------------------------------------------------------

export interface HookTiming {
  readonly heartbeatTimeoutSeconds: number;
  readonly maxHeartbeats: number;
}

/** A heartbeat is recorded once this share of the heartbeat timeout has passed since the last one (or the action's start). */
export const HEARTBEAT_AT = 0.75;

/** What a drain keeps back from a hook's expiry: the completing call must land before it. */
function hookMargin(heartbeatTimeoutSeconds: number): number {
  return Math.min(30, heartbeatTimeoutSeconds / 4);
}

/** The hook's own global timeout: 100 heartbeat timeouts or 48 hours, whichever is less, from the action's start. */
export function hookGlobalExpiry(startedAt: number, hook: HookTiming): number {
  return startedAt + Math.min(100 * hook.heartbeatTimeoutSeconds, 172_800) * 1000;
}

/**
 * When a hook drain must complete: the latest the action can still be held, counting from its last
 * recorded heartbeat (or the action's start, as the event's time says, however late the event came)
 * with the heartbeats left, never past the group's drain timeout from the start nor the hook's
 * global timeout; less a margin for the completing call.
 */
export function hookDeadline(
  startedAt: number,
  lastBeat: number,
  beats: number,
  hook: HookTiming,
  drainTimeoutSeconds: number,
): number {
  const t = hook.heartbeatTimeoutSeconds * 1000;
  const held = lastBeat + Math.max(0, hook.maxHeartbeats - beats) * HEARTBEAT_AT * t + t;
  const end = Math.min(held, startedAt + drainTimeoutSeconds * 1000, hookGlobalExpiry(startedAt, hook));
  return Math.max(startedAt + 5000, end - hookMargin(hook.heartbeatTimeoutSeconds) * 1000);
}

/** When the action expires if no further heartbeat comes: the last beat (or the start) plus one timeout. */
export function hookExpiry(lastBeat: number, hook: HookTiming): number {
  return lastBeat + hook.heartbeatTimeoutSeconds * 1000;
}

/** Whether a heartbeat is due now: {@link HEARTBEAT_AT} of the timeout since the last one, one is left, and the action has not expired. */
export function heartbeatDue(lastBeat: number, now: number, hook: HookTiming, recorded: number): boolean {
  return (
    recorded < hook.maxHeartbeats &&
    now - lastBeat >= hook.heartbeatTimeoutSeconds * HEARTBEAT_AT * 1000 &&
    now < hookExpiry(lastBeat, hook)
  );
}

/** Seconds until the next heartbeat is due (undefined when none is left). */
export function untilHeartbeat(lastBeat: number, now: number, hook: HookTiming, recorded: number): number | undefined {
  if (recorded >= hook.maxHeartbeats) return undefined;
  return Math.max(1, Math.ceil((lastBeat + hook.heartbeatTimeoutSeconds * HEARTBEAT_AT * 1000 - now) / 1000));
}

/**
 * When the drain must be over. Spot: the reclaim minus a margin. A lifecycle hook: see
 * {@link hookDeadline}. A rebalance: now (it is noted, not drained). Unannounced: a few seconds,
 * before the kubelet stops. A launch: the join timeout from the instance's launch.
 */
export function drainDeadline(
  notice: Notice,
  now: number,
  settings: {
    readonly drainTimeoutSeconds: number;
    readonly joinTimeoutSeconds?: number;
    readonly hook?: HookTiming;
    readonly launchedAt?: number;
  },
): number {
  switch (notice.kind) {
    case 'spot-interruption':
      return notice.at + (SPOT_NOTICE_SECONDS - SPOT_MARGIN_SECONDS) * 1000;
    case 'terminate-hook': {
      const start = Math.min(notice.at, now);
      return settings.hook
        ? hookDeadline(start, start, 0, settings.hook, settings.drainTimeoutSeconds)
        : start + Math.min(settings.drainTimeoutSeconds, 3600) * 1000;
    }
    case 'rebalance':
      return now;
    case 'unannounced':
      return now + UNANNOUNCED_SECONDS * 1000;
    case 'launch-hook':
      return (settings.launchedAt ?? notice.at) + (settings.joinTimeoutSeconds ?? 900) * 1000;
  }
}

/** The grace period an eviction asks for: the pod's own, unless the time left is shorter. */
export function graceFor(podGraceSeconds: number | undefined, secondsLeft: number): number | undefined {
  const left = Math.max(0, Math.floor(secondsLeft));
  const own = podGraceSeconds ?? 30;
  return own > left ? left : undefined;
}

/** What the instance did after the notice: gone (or going) as announced, still there, or stopped and waiting. */
export type Aftermath = 'gone' | 'survived' | 'stopped';

/**
 * Whether the instance went as the notice said. Shutting down, terminated, or leaving its ASG: gone.
 * Running after the deadline and a margin (a warning not carried out, a stop followed by a start):
 * survived, and its node is given back. Stopped, stopping or starting: not decided yet.
 */
export function aftermath(ec2State: string | undefined, asgState: string | undefined): Aftermath {
  if (ec2State === undefined || ec2State === 'shutting-down' || ec2State === 'terminated') return 'gone';
  if (asgState !== undefined && /^(Terminating|Detaching|Detached|Warmed)/.test(asgState)) return 'gone';
  return ec2State === 'running' ? 'survived' : 'stopped';
}

/** Polls of a stopped instance: 1, 2, 4 ... minutes, at most 15. */
export function stoppedPollSeconds(polls: number): number {
  return Math.min(900, 60 * 2 ** Math.min(polls, 4));
}
