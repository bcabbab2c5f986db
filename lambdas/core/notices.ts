import { InvalidInputError } from './errors';

/**
 * The one catalog of the events node-manager drains on: for each kind, the EventBridge source and
 * detail-type, how the rule that routes it is written, and how its event is read. The CDK rules,
 * the gate in front of the workflow, the parser and the simulator's routing all read it, so the
 * event a rule lets through is the event the parser accepts (after karpenter-provider-aws's
 * `interruption/messages/<kind>/parser.go`).
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

/** Where an Auto Scaling lifecycle action takes the instance (warm pools add `WarmPool`). */
export type HookPlace = 'EC2' | 'AutoScalingGroup' | 'WarmPool';

export interface Notice {
  readonly kind: NoticeKind;
  readonly instanceId: string;
  /** The event's time (epoch ms): for a lifecycle action, when the action began. */
  readonly at: number;
  /** The event's id (EventBridge's, unique per event; a redelivery keeps it). */
  readonly eventId: string;
  /** The account and region the event says it comes from. */
  readonly account: string;
  readonly region: string;
  /** For a lifecycle action: which hook of which ASG holds the instance, its token, and where the instance goes. */
  readonly hook?: {
    readonly asg: string;
    readonly name: string;
    readonly token: string;
    readonly origin?: HookPlace;
    readonly destination?: HookPlace;
  };
  /** For a state change: the state. */
  readonly state?: string;
}

export interface NoticeSpec {
  readonly source: 'aws.ec2' | 'aws.autoscaling';
  readonly detailType: string;
  /** A lifecycle action: the transition its detail must name. */
  readonly transition?: 'autoscaling:EC2_INSTANCE_TERMINATING' | 'autoscaling:EC2_INSTANCE_LAUNCHING';
}

export const NOTICES: Readonly<Record<NoticeKind, NoticeSpec>> = {
  'spot-interruption': { source: 'aws.ec2', detailType: 'EC2 Spot Instance Interruption Warning' },
  rebalance: { source: 'aws.ec2', detailType: 'EC2 Instance Rebalance Recommendation' },
  'terminate-hook': {
    source: 'aws.autoscaling',
    detailType: 'EC2 Instance-terminate Lifecycle Action',
    transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
  },
  unannounced: { source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification' },
  'launch-hook': {
    source: 'aws.autoscaling',
    detailType: 'EC2 Instance-launch Lifecycle Action',
    transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
  },
};

/** The instance states of an unannounced stop the drain acts on. */
export const UNANNOUNCED_STATES = ['stopping', 'shutting-down'] as const;

/** The hooks the stack creates on a group's ASGs. */
export const TERMINATE_HOOK_NAME = 'node-manager-drain';
export const LAUNCH_HOOK_NAME = 'node-manager-launch';

const KIND_BY_DETAIL_TYPE: ReadonlyMap<string, NoticeKind> = new Map(
  Object.entries(NOTICES).map(([kind, s]) => [s.detailType, kind as NoticeKind]),
);

/** The kind a detail-type names: own entries of the catalog only (`constructor`, `__proto__`, `toString` name none). */
export function kindOf(detailType: unknown): NoticeKind | undefined {
  return typeof detailType === 'string' ? KIND_BY_DETAIL_TYPE.get(detailType) : undefined;
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const PLACES: readonly HookPlace[] = ['EC2', 'AutoScalingGroup', 'WarmPool'];

/** Caller input quoted in an error, bounded. */
function quote(v: unknown, max = 80): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function field(o: Record<string, unknown>, key: string, where: string): string {
  const v = Object.hasOwn(o, key) ? o[key] : undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 1600)
    throw new InvalidInputError(
      `${where}.${key} must be a non-empty string of at most 1600 characters; got ${quote(v ?? null)}`,
    );
  return v;
}

function place(d: Record<string, unknown>, key: 'Origin' | 'Destination'): HookPlace | undefined {
  const v = Object.hasOwn(d, key) ? d[key] : undefined;
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(PLACES as readonly string[]).includes(v))
    throw new InvalidInputError(`event.detail.${key} must be one of ${PLACES.join(', ')}; got ${quote(v)}`);
  return v as HookPlace;
}

/**
 * Reads an EventBridge event as AWS documents it (the whole envelope, as a rule's target
 * receives it). Anything else throws InvalidInput naming the field and what is allowed.
 */
export function parseNotice(event: unknown): Notice {
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw new InvalidInputError(
      'the input must be an EventBridge event (an object with "detail-type", "source", "account", "region", "time" and "detail")',
    );
  const e = event as Record<string, unknown>;
  const detailType = field(e, 'detail-type', 'event');
  const kind = kindOf(detailType);
  if (!kind)
    throw new InvalidInputError(
      `event.detail-type ${quote(detailType)} is not one node-manager drains on; allowed: ${Object.values(NOTICES)
        .map((s) => s.detailType)
        .join(', ')}`,
    );
  const spec = NOTICES[kind];
  const source = field(e, 'source', 'event');
  if (source !== spec.source)
    throw new InvalidInputError(`event.source must be ${spec.source} for ${detailType}; got ${quote(source)}`);
  const account = field(e, 'account', 'event');
  if (!/^\d{12}$/.test(account))
    throw new InvalidInputError(`event.account must be a 12-digit AWS account id; got ${quote(account)}`);
  const region = field(e, 'region', 'event');
  const at = Date.parse(field(e, 'time', 'event'));
  if (Number.isNaN(at)) throw new InvalidInputError('event.time must be an ISO 8601 time such as 2026-11-01T00:00:00Z');
  const eventId = typeof e.id === 'string' ? e.id.slice(0, 64) : '';
  const detail = Object.hasOwn(e, 'detail') ? e.detail : undefined;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
    throw new InvalidInputError('event.detail must be an object');
  const d = detail as Record<string, unknown>;
  const base = { kind, at, eventId, account, region };
  if (spec.transition) {
    const instanceId = field(d, 'EC2InstanceId', 'event.detail');
    if (!INSTANCE_ID.test(instanceId))
      throw new InvalidInputError(
        `event.detail.EC2InstanceId must be an instance id such as i-0123456789abcdef0; got ${quote(instanceId, 40)}`,
      );
    const transition = field(d, 'LifecycleTransition', 'event.detail');
    if (transition !== spec.transition)
      throw new InvalidInputError(
        `event.detail.LifecycleTransition must be ${spec.transition} for ${detailType}; got ${quote(transition, 60)}`,
      );
    const origin = place(d, 'Origin');
    const destination = place(d, 'Destination');
    const hook = {
      asg: field(d, 'AutoScalingGroupName', 'event.detail'),
      name: field(d, 'LifecycleHookName', 'event.detail'),
      token: field(d, 'LifecycleActionToken', 'event.detail'),
    };
    return {
      ...base,
      instanceId,
      hook: { ...hook, ...(origin ? { origin } : {}), ...(destination ? { destination } : {}) },
    };
  }
  const instanceId = field(d, 'instance-id', 'event.detail');
  if (!INSTANCE_ID.test(instanceId))
    throw new InvalidInputError(
      `event.detail.instance-id must be an instance id such as i-0123456789abcdef0; got ${quote(instanceId, 40)}`,
    );
  if (kind === 'unannounced') {
    const state = field(d, 'state', 'event.detail');
    if (!(UNANNOUNCED_STATES as readonly string[]).includes(state))
      throw new InvalidInputError(
        `event.detail.state must be one of ${UNANNOUNCED_STATES.join(', ')} for ${detailType}; got ${quote(state, 40)}`,
      );
    return { ...base, instanceId, state };
  }
  return { ...base, instanceId };
}

/** EC2 reclaims a Spot instance two minutes after the warning. */
export const SPOT_NOTICE_SECONDS = 120;
/** How far ahead of our clock an event's time may be (clocks differ a little; an hour ahead is a forgery). */
export const CLOCK_SKEW_SECONDS = 60;

/**
 * What can be refused from the event and the execution alone, before any call: another account or
 * region than the workflow's own (its execution ARN says which), a time in the future, a Spot
 * warning past its own reclaim. Undefined when nothing is wrong.
 */
export function impossible(
  n: Notice,
  own: { readonly account: string; readonly region: string },
  now: number,
): string | undefined {
  if (n.account !== own.account)
    return `the event names account ${n.account}; this workflow serves account ${own.account} only`;
  if (n.region !== own.region) return `the event names region ${n.region}; this workflow serves ${own.region} only`;
  if (n.at > now + CLOCK_SKEW_SECONDS * 1000)
    return (
      `the event is dated ${new Date(n.at).toISOString()}, ${Math.round((n.at - now) / 1000)}s in the ` +
      `future: no notice comes from the future`
    );
  if (n.kind === 'spot-interruption' && n.at + SPOT_NOTICE_SECONDS * 1000 < now) {
    return (
      `the Spot warning is dated ${new Date(n.at).toISOString()}: its reclaim was due ` +
      `${Math.round((now - n.at) / 1000 - SPOT_NOTICE_SECONDS)}s ago, nothing is left to drain in time`
    );
  }
  return undefined;
}

/** The account and region of a Step Functions ARN (`arn:aws:states:<region>:<account>:...`). */
export function arnScope(arn: string): { readonly region: string; readonly account: string } {
  const parts = arn.split(':');
  return { region: parts[3] ?? '', account: parts[4] ?? '' };
}

// ---- the rules -------------------------------------------------------------------------------

/** An EventBridge event pattern, in the service's own JSON shape (kebab-case `detail-type`). */
export interface EventPattern {
  readonly source: readonly string[];
  readonly 'detail-type': readonly string[];
  readonly account?: readonly string[];
  readonly detail?: Readonly<Record<string, readonly string[]>>;
}

export interface NoticeRule {
  /** A construct id: what the rule is for. */
  readonly id: string;
  readonly description: string;
  readonly pattern: EventPattern;
  /** How old an event may be and still be worth delivering. */
  readonly maxEventAgeSeconds: number;
}

/** What the rules need to know of a group. */
export interface RuledGroup {
  readonly name: string;
  readonly asgNames?: readonly string[];
  readonly joinTimeoutSeconds: number;
  readonly terminateHook?: { readonly heartbeatTimeoutSeconds: number };
  readonly launchHook?: boolean;
}

/** The launch hook's heartbeat timeout: the join timeout, and time for the completing call. */
export function launchHookTimeoutSeconds(joinTimeoutSeconds: number): number {
  return Math.min(7200, joinTimeoutSeconds + 120);
}

const asId = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');

/**
 * The rules that route notices to the interruption workflow (through its gate), scoped to this
 * account. EC2's notices name only the instance, so they match every instance of the account and
 * region, and the gate drops those of no managed group before any execution starts. Lifecycle
 * actions match the groups' own ASGs and hooks; both warm-pool directions are kept (an instance
 * going back to the pool is drained like a termination; one warming into the pool is let through
 * at once), see the README.
 */
export function noticeRules(account: string, groups: readonly RuledGroup[]): NoticeRule[] {
  const ec2 = (kinds: readonly NoticeKind[]) => ({
    source: ['aws.ec2'],
    'detail-type': kinds.map((k) => NOTICES[k].detailType),
    account: [account],
  });
  const rules: NoticeRule[] = [
    {
      id: 'SpotNotices',
      description: 'Spot interruption warnings and rebalance recommendations',
      pattern: ec2(['spot-interruption', 'rebalance']),
      maxEventAgeSeconds: SPOT_NOTICE_SECONDS,
    },
    {
      id: 'UnannouncedStops',
      description: 'instances that stop or shut down without a notice',
      pattern: { ...ec2(['unannounced']), detail: { state: [...UNANNOUNCED_STATES] } },
      maxEventAgeSeconds: SPOT_NOTICE_SECONDS,
    },
  ];
  for (const g of groups) {
    if (!g.asgNames) continue;
    const hookRule = (
      kind: 'terminate-hook' | 'launch-hook',
      hook: string,
      timeoutSeconds: number,
      description: string,
    ): NoticeRule => ({
      id: `${kind === 'terminate-hook' ? 'TerminateHook' : 'LaunchHook'}${asId(g.name)}`,
      description,
      pattern: {
        source: [NOTICES[kind].source],
        'detail-type': [NOTICES[kind].detailType],
        account: [account],
        detail: { AutoScalingGroupName: [...g.asgNames!], LifecycleHookName: [hook] },
      },
      // A hook waits at most its heartbeat timeout: an event older than that is of no use.
      maxEventAgeSeconds: Math.max(60, timeoutSeconds),
    });
    if (g.terminateHook)
      rules.push(
        hookRule(
          'terminate-hook',
          TERMINATE_HOOK_NAME,
          g.terminateHook.heartbeatTimeoutSeconds,
          `terminations of ${g.name} held by the ${TERMINATE_HOOK_NAME} hook`,
        ),
      );
    if (g.launchHook)
      rules.push(
        hookRule(
          'launch-hook',
          LAUNCH_HOOK_NAME,
          launchHookTimeoutSeconds(g.joinTimeoutSeconds),
          `launches of ${g.name} held by the ${LAUNCH_HOOK_NAME} hook`,
        ),
      );
  }
  return rules;
}

/**
 * EventBridge's matching for the patterns above: every field the pattern names must be present in
 * the event with one of the listed values (an array in the event matches if any element does);
 * objects nest. What the rules here use of the service's pattern language, nothing more.
 */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern)) {
    const values = Array.isArray(event) ? event : [event];
    return values.some((v) => pattern.some((p) => p === v));
  }
  if (typeof pattern !== 'object' || pattern === null) return false;
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, unknown>;
  return Object.entries(pattern).every(([k, p]) => Object.hasOwn(e, k) && matchesPattern(p, e[k]));
}
