import { InvalidInputError } from './errors';

/**
 * Interruption drain, the pure part: what an EventBridge event announces, whether this notice is
 * new work or a duplicate of one already handled, and how much time the drain has.
 */

/** What the event says is about to happen to the instance. */
export type NoticeKind =
  /** `EC2 Spot Instance Interruption Warning`: EC2 reclaims the instance two minutes after the event. */
  | 'spot-interruption'
  /** `EC2 Instance Rebalance Recommendation`: elevated risk, no deadline. */
  | 'rebalance'
  /** Auto Scaling `EC2 Instance-terminate Lifecycle Action`: the instance waits in `Terminating:Wait`. */
  | 'terminate-hook'
  /** `EC2 Instance State-change Notification` stopping / shutting-down: nobody announced it. */
  | 'unannounced'
  /** Auto Scaling `EC2 Instance-launch Lifecycle Action` (opt-in): the instance waits in `Pending:Wait` until its node is Ready. */
  | 'launch-hook';

export interface Notice {
  readonly kind: NoticeKind;
  readonly instanceId: string;
  /** The event's time (epoch ms). */
  readonly at: number;
  /** The event's id (EventBridge's, unique per event; a redelivery keeps it). */
  readonly eventId: string;
  /** For a lifecycle action: which hook of which ASG holds the instance, and its token. */
  readonly hook?: { readonly asg: string; readonly name: string; readonly token: string };
  /** For a state change: the state. */
  readonly state?: string;
}

/** EC2 reclaims a Spot instance two minutes after the warning. */
export const SPOT_NOTICE_SECONDS = 120;
/** Time kept back from the Spot deadline: evictions and their pods' SIGTERM need to land before the reclaim. */
export const SPOT_MARGIN_SECONDS = 15;
/** What a drain of an instance already shutting down can still do: its kubelet stops within seconds. */
export const UNANNOUNCED_SECONDS = 20;
/** A handled notice is kept this long so that late duplicates do nothing, then pruned. */
export const LEDGER_KEEP_MS = 60 * 60 * 1000;
/** An entry still marked in flight after this long belongs to an execution that died: it no longer pauses anything. */
export const IN_FLIGHT_MAX_MS = 30 * 60 * 1000;

const DETAIL_TYPES: Record<string, NoticeKind> = {
  'EC2 Spot Instance Interruption Warning': 'spot-interruption',
  'EC2 Instance Rebalance Recommendation': 'rebalance',
  'EC2 Instance-terminate Lifecycle Action': 'terminate-hook',
  'EC2 Instance State-change Notification': 'unannounced',
  'EC2 Instance-launch Lifecycle Action': 'launch-hook',
};

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

function field(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 1600) throw new InvalidInputError(`${where}.${key} must be a non-empty string of at most 1600 characters; got ${JSON.stringify(v ?? null)?.slice(0, 80)}`);
  return v;
}

/**
 * Reads an EventBridge event as AWS documents it (the whole envelope, as a rule's target
 * receives it). Anything else ends the execution with InvalidInput naming the field.
 */
export function parseNotice(event: unknown): Notice {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new InvalidInputError('the input must be an EventBridge event (an object with "detail-type", "source", "time" and "detail")');
  const e = event as Record<string, unknown>;
  const detailType = field(e, 'detail-type', 'event');
  const kind = DETAIL_TYPES[detailType];
  if (!kind) throw new InvalidInputError(`event.detail-type ${JSON.stringify(detailType).slice(0, 80)} is not one node-manager drains on; allowed: ${Object.keys(DETAIL_TYPES).join(', ')}`);
  const source = field(e, 'source', 'event');
  const expected = kind === 'terminate-hook' || kind === 'launch-hook' ? 'aws.autoscaling' : 'aws.ec2';
  if (source !== expected) throw new InvalidInputError(`event.source must be ${expected} for ${detailType}; got ${JSON.stringify(source).slice(0, 80)}`);
  const at = Date.parse(field(e, 'time', 'event'));
  if (Number.isNaN(at)) throw new InvalidInputError('event.time must be an ISO 8601 time such as 2026-11-01T00:00:00Z');
  const eventId = typeof e.id === 'string' ? e.id.slice(0, 64) : '';
  if (typeof e.detail !== 'object' || e.detail === null) throw new InvalidInputError('event.detail must be an object');
  const d = e.detail as Record<string, unknown>;
  if (kind === 'terminate-hook' || kind === 'launch-hook') {
    const instanceId = field(d, 'EC2InstanceId', 'event.detail');
    if (!INSTANCE_ID.test(instanceId)) throw new InvalidInputError(`event.detail.EC2InstanceId must be an instance id such as i-0123456789abcdef0; got ${JSON.stringify(instanceId).slice(0, 40)}`);
    const transition = field(d, 'LifecycleTransition', 'event.detail');
    const want = kind === 'terminate-hook' ? 'autoscaling:EC2_INSTANCE_TERMINATING' : 'autoscaling:EC2_INSTANCE_LAUNCHING';
    if (transition !== want) throw new InvalidInputError(`event.detail.LifecycleTransition must be ${want} for ${detailType}; got ${JSON.stringify(transition).slice(0, 60)}`);
    return {
      kind,
      instanceId,
      at,
      eventId,
      hook: { asg: field(d, 'AutoScalingGroupName', 'event.detail'), name: field(d, 'LifecycleHookName', 'event.detail'), token: field(d, 'LifecycleActionToken', 'event.detail') },
    };
  }
  const instanceId = field(d, 'instance-id', 'event.detail');
  if (!INSTANCE_ID.test(instanceId)) throw new InvalidInputError(`event.detail.instance-id must be an instance id such as i-0123456789abcdef0; got ${JSON.stringify(instanceId).slice(0, 40)}`);
  if (kind === 'unannounced') {
    const state = field(d, 'state', 'event.detail');
    return { kind, instanceId, at, eventId, state };
  }
  return { kind, instanceId, at, eventId };
}

/** What the ledger (in the group's lease item) holds per instance. */
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
}

export type ClaimDecision =
  | { readonly claim: true; readonly upgradeFrom?: NoticeKind }
  | { readonly claim: false; readonly why: string };

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
    return notice.kind === 'launch-hook' ? { claim: false, why: `${notice.instanceId} is already leaving (${existing.kind})` } : { claim: true, upgradeFrom: existing.kind };
  }
  if (handled.has(notice.kind)) return { claim: false, why: `a duplicate: ${notice.kind} of ${notice.instanceId} is handled already by ${existing.execution.split(':').pop()}` };
  // A noted rebalance drained nothing: the termination that follows is new work.
  if (existing.kind === 'rebalance' && !existing.handled?.length) return { claim: true, upgradeFrom: 'rebalance' };
  if (notice.kind === 'unannounced') return { claim: false, why: `announced before (${existing.kind}, handled by ${existing.execution.split(':').pop()}): this is its end` };
  if (notice.kind === 'rebalance') return { claim: false, why: `already draining on ${existing.kind} (${existing.execution.split(':').pop()})` };
  return { claim: true, upgradeFrom: existing.kind };
}

/**
 * When the drain must be over. Spot: the reclaim minus a margin. A lifecycle hook: its heartbeat
 * timeout, renewed up to `maxHeartbeats` times (never past the group's drain timeout, nor past
 * the hook's own global timeout of 100 heartbeat timeouts). A rebalance: the group's drain timeout.
 * Unannounced: a few seconds, before the kubelet stops.
 */
export function drainDeadline(notice: Notice, now: number, settings: { readonly drainTimeoutSeconds: number; readonly joinTimeoutSeconds?: number; readonly hook?: { readonly heartbeatTimeoutSeconds: number; readonly maxHeartbeats: number } }): number {
  switch (notice.kind) {
    case 'spot-interruption':
      return notice.at + (SPOT_NOTICE_SECONDS - SPOT_MARGIN_SECONDS) * 1000;
    case 'terminate-hook': {
      const h = settings.hook;
      const start = Math.min(notice.at, now);
      if (!h) return start + Math.min(settings.drainTimeoutSeconds, 3600) * 1000;
      // The hook holds the instance until its last heartbeat's timeout runs out; complete before that, with a margin.
      const held = Math.min(h.heartbeatTimeoutSeconds * HEARTBEAT_AT * h.maxHeartbeats + h.heartbeatTimeoutSeconds, h.heartbeatTimeoutSeconds * 100, settings.drainTimeoutSeconds);
      return start + Math.max(held - hookMargin(h.heartbeatTimeoutSeconds), 5) * 1000;
    }
    case 'rebalance':
      // Not drained on the recommendation (see take): kept for completeness.
      return now;
    case 'unannounced':
      return now + UNANNOUNCED_SECONDS * 1000;
    case 'launch-hook':
      // The node must be Ready within the join timeout of the instance's launch (the event's time).
      return notice.at + (settings.joinTimeoutSeconds ?? 900) * 1000;
  }
}

/** The grace period an eviction asks for: the pod's own, unless the time left is shorter. */
export function graceFor(podGraceSeconds: number | undefined, secondsLeft: number): number | undefined {
  const left = Math.max(0, Math.floor(secondsLeft));
  const own = podGraceSeconds ?? 30;
  return own > left ? left : undefined;
}

/** A heartbeat is recorded once this share of the heartbeat timeout has passed since the last one. */
export const HEARTBEAT_AT = 0.75;

/** What a drain keeps back from a hook's expiry: the completing call must land before it. */
function hookMargin(heartbeatTimeoutSeconds: number): number {
  return Math.min(30, heartbeatTimeoutSeconds / 4);
}

/** Whether a heartbeat is due: {@link HEARTBEAT_AT} of the timeout has passed since the last one (or the start), and the limit allows one more. */
export function heartbeatDue(lastBeat: number, now: number, hook: { readonly heartbeatTimeoutSeconds: number; readonly maxHeartbeats: number }, recorded: number): boolean {
  return recorded < hook.maxHeartbeats && now - lastBeat >= hook.heartbeatTimeoutSeconds * HEARTBEAT_AT * 1000;
}

/** Drains still in flight (not done, not abandoned by a dead execution): a refresh pauses while any is. A launch waiting for its node is no drain. */
export function inFlight(entries: Readonly<Record<string, LedgerEntry>>, now: number): Array<[string, LedgerEntry]> {
  return Object.entries(entries).filter(([, e]) => e.kind !== 'launch-hook' && e.doneAt === undefined && now - e.since < IN_FLIGHT_MAX_MS);
}

/** Entries a write may drop: handled more than an hour ago (late duplicates are over by then). */
export function prunable(entries: Readonly<Record<string, LedgerEntry>>, now: number): string[] {
  return Object.entries(entries)
    .filter(([, e]) => now - (e.doneAt ?? e.since) > LEDGER_KEEP_MS)
    .map(([id]) => id);
}
