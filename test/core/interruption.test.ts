import {
  aftermath,
  decideClaim,
  drainDeadline,
  entryExpiresAt,
  graceFor,
  heartbeatDue,
  hookDeadline,
  impossible,
  interruptionsInFlight,
  isExpired,
  kindOf,
  matchesPattern,
  noticeRules,
  parseNotice,
  unverified,
  type LedgerEntry,
  type NodeState,
} from '../../lambdas/core';

// AWS's documented sample events (EC2 User Guide, Auto Scaling event reference), with our ids.
const spot = {
  version: '0',
  id: '12345678-1234-1234-1234-123456789012',
  'detail-type': 'EC2 Spot Instance Interruption Warning',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2026-11-01T00:05:00Z',
  region: 'us-east-2',
  resources: ['arn:aws:ec2:us-east-2:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', 'instance-action': 'terminate' },
};
const rebalance = {
  ...spot,
  'detail-type': 'EC2 Instance Rebalance Recommendation',
  detail: { 'instance-id': 'i-1234567890abcdef0' },
};
const stateChange = {
  ...spot,
  'detail-type': 'EC2 Instance State-change Notification',
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'shutting-down' },
};
const hook = {
  ...spot,
  'detail-type': 'EC2 Instance-terminate Lifecycle Action',
  source: 'aws.autoscaling',
  resources: ['auto-scaling-group-arn'],
  detail: {
    LifecycleActionToken: '87654321-4321-4321-4321-210987654321',
    AutoScalingGroupName: 'my-asg',
    LifecycleHookName: 'my-lifecycle-hook',
    EC2InstanceId: 'i-1234567890abcdef0',
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    NotificationMetadata: 'additional-info',
    Origin: 'AutoScalingGroup',
    Destination: 'EC2',
  },
};
const T = Date.parse('2026-11-01T00:05:00Z');

describe('interruption notices', () => {
  it('reads the four documented event shapes', () => {
    expect(parseNotice(spot)).toEqual({
      kind: 'spot-interruption',
      instanceId: 'i-1234567890abcdef0',
      at: T,
      eventId: spot.id,
      account: '123456789012',
      region: 'us-east-2',
    });
    expect(parseNotice(rebalance).kind).toBe('rebalance');
    expect(parseNotice(stateChange)).toMatchObject({ kind: 'unannounced', state: 'shutting-down' });
    expect(parseNotice(hook)).toMatchObject({
      kind: 'terminate-hook',
      hook: {
        asg: 'my-asg',
        name: 'my-lifecycle-hook',
        token: '87654321-4321-4321-4321-210987654321',
        origin: 'AutoScalingGroup',
        destination: 'EC2',
      },
    });
  });

  it('refuses anything else, naming the field and what is allowed', () => {
    expect(() => parseNotice([])).toThrow('the input must be an EventBridge event');
    expect(() => parseNotice({ ...spot, 'detail-type': 'EC2 Instance Launch Successful' })).toThrow(
      /event.detail-type "EC2 Instance Launch Successful" is not one node-manager drains on; allowed: EC2 Spot Instance Interruption Warning, /,
    );
    expect(() => parseNotice({ ...spot, source: 'custom.app' })).toThrow('event.source must be aws.ec2');
    expect(() => parseNotice({ ...spot, time: 'yesterday' })).toThrow('event.time must be an ISO 8601 time');
    expect(() =>
      parseNotice({ ...hook, detail: { ...hook.detail, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' } }),
    ).toThrow('must be autoscaling:EC2_INSTANCE_TERMINATING');
    expect(() => parseNotice({ ...spot, detail: { 'instance-id': 'x'.repeat(5000) } })).toThrow(
      /^event.detail.instance-id must be a non-empty string of at most 1600 characters; got "x{20,}/,
    );
    expect(() =>
      parseNotice({ ...stateChange, detail: { 'instance-id': 'i-1234567890abcdef0', state: 'running' } }),
    ).toThrow('event.detail.state must be one of stopping, shutting-down');
    expect(() => parseNotice({ ...spot, account: 'mine' })).toThrow('event.account must be a 12-digit AWS account id');
  });

  it('names of Object.prototype are no detail-type, and inherited fields are no fields', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(kindOf(name)).toBeUndefined();
      expect(() => parseNotice({ ...spot, 'detail-type': name })).toThrow(/is not one node-manager drains on/);
    }
    const inherited = Object.create({ 'detail-type': spot['detail-type'], source: 'aws.ec2' }) as Record<
      string,
      unknown
    >;
    Object.assign(inherited, { account: spot.account, region: spot.region, time: spot.time, detail: spot.detail });
    expect(() => parseNotice(inherited)).toThrow('event.detail-type must be a non-empty string');
  });

  it('refuses what is impossible from the event alone: another account or region, the future, a warning past its reclaim', () => {
    const own = { account: '123456789012', region: 'us-east-2' };
    expect(impossible(parseNotice(spot), own, T + 1000)).toBeUndefined();
    expect(impossible(parseNotice(spot), { ...own, account: '999999999999' }, T)).toMatch(
      /names account 123456789012; this workflow serves account 999999999999 only/,
    );
    expect(impossible(parseNotice(spot), { ...own, region: 'eu-west-1' }, T)).toMatch(/names region us-east-2/);
    expect(impossible(parseNotice(spot), own, T - 3600_000)).toMatch(/3600s in the future/);
    // Clocks differ a little: a minute ahead is allowed.
    expect(impossible(parseNotice(spot), own, T - 30_000)).toBeUndefined();
    expect(impossible(parseNotice(spot), own, T + 121_000)).toMatch(/its reclaim was due 1s ago/);
    // A hook's event may come late: its action is checked with Auto Scaling instead.
    expect(impossible(parseNotice(hook), own, T + 600_000)).toBeUndefined();
  });

  it('believes what AWS confirms: a Spot request marked for interruption, an instance waiting in the hook, an instance stopping', () => {
    const n = parseNotice(spot);
    const spotRunning = { ec2: { state: 'running', lifecycle: 'spot' as const } };
    expect(unverified(n, { ...spotRunning, spotStatus: 'instance-terminated-no-capacity' })).toBeUndefined();
    expect(unverified(n, { ...spotRunning, spotStatus: 'marked-for-termination' })).toBeUndefined();
    expect(unverified(n, { ...spotRunning, spotStatus: 'fulfilled' })).toMatch(
      /EC2 has not marked it for interruption/,
    );
    expect(unverified(n, { ec2: { state: 'running', lifecycle: 'on-demand' } })).toMatch(
      /on-demand instance: EC2 sends Spot notices for Spot instances only/,
    );
    expect(unverified(n, {})).toMatch(/EC2 does not know/);
    const h = parseNotice(hook);
    expect(unverified(h, { asg: { name: 'my-asg', lifecycleState: 'Terminating:Wait' } })).toBeUndefined();
    expect(unverified(h, { asg: { name: 'my-asg', lifecycleState: 'InService' } })).toMatch(
      /is InService in my-asg, not Terminating:Wait: no termination waits on a hook/,
    );
    expect(unverified(h, { asg: { name: 'other', lifecycleState: 'Terminating:Wait' } })).toMatch(
      /is in other, not in my-asg/,
    );
    expect(unverified(h, {})).toMatch(/in no Auto Scaling group/);
    expect(unverified(parseNotice(stateChange), { ec2: { state: 'running', lifecycle: 'spot' } })).toMatch(
      /running: it is not stopping or shutting down/,
    );
    expect(unverified(parseNotice(stateChange), { ec2: { state: 'stopped', lifecycle: 'on-demand' } })).toBeUndefined();
  });

  it('drains each notice once: duplicates, a state change after a notice, a rebalance after a warning do nothing; a warning after a rebalance and a hook always act', () => {
    const entry = (kind: LedgerEntry['kind']): LedgerEntry => ({
      kind,
      execution: 'arn:aws:states:r:1:execution:m:first',
      since: T,
      deadline: T + 1,
    });
    expect(decideClaim(undefined, parseNotice(spot))).toEqual({ claim: true });
    expect(decideClaim(entry('spot-interruption'), parseNotice(spot))).toEqual({
      claim: false,
      why: 'a duplicate: spot-interruption of i-1234567890abcdef0 is handled already by first',
    });
    expect(decideClaim(entry('spot-interruption'), parseNotice(stateChange))).toMatchObject({
      claim: false,
      why: expect.stringContaining('announced before'),
    });
    expect(decideClaim(entry('spot-interruption'), parseNotice(rebalance))).toMatchObject({ claim: false });
    expect(decideClaim(entry('rebalance'), parseNotice(spot))).toEqual({ claim: true, upgradeFrom: 'rebalance' });
    expect(decideClaim(entry('spot-interruption'), parseNotice(hook))).toEqual({
      claim: true,
      upgradeFrom: 'spot-interruption',
    });
    expect(decideClaim({ ...entry('rebalance'), handled: ['spot-interruption'] }, parseNotice(spot)).claim).toBe(false);
    // A noted rebalance drained nothing: even an unannounced stop after it is work.
    expect(decideClaim(entry('rebalance'), parseNotice(stateChange))).toEqual({
      claim: true,
      upgradeFrom: 'rebalance',
    });
  });

  it("a hook counts from the action's start in the event, however late the event came", () => {
    const h = { heartbeatTimeoutSeconds: 60, maxHeartbeats: 3 };
    // Delivered 38 s late: the first heartbeat is due 45 s after the action began, not after the delivery.
    expect(heartbeatDue(T, T + 44_000, h, 0)).toBe(false);
    expect(heartbeatDue(T, T + 45_000, h, 0)).toBe(true);
    // Past the action's expiry no heartbeat can help any more.
    expect(heartbeatDue(T, T + 61_000, h, 0)).toBe(false);
    // No heartbeat recorded: the action ends 60 s after its start, and the drain completes 15 s before.
    expect(hookDeadline(T, T, 3, h, 600)).toBe(T + 45_000);
    // One heartbeat recorded at 45 s, two left: 45 + 2 × 45 + 60 − 15.
    expect(hookDeadline(T, T + 45_000, 1, h, 600)).toBe(T + 180_000);
  });

  it('deadlines: the Spot reclaim minus 15 s; a hook within its heartbeats and the drain timeout; unannounced 20 s; a rebalance is not drained', () => {
    const now = T + 2000;
    expect(drainDeadline(parseNotice(spot), now, { drainTimeoutSeconds: 600 })).toBe(T + 105_000);
    // 3 heartbeats at 45 s of a 60 s timeout, then the last timeout, minus a 15 s margin.
    expect(
      drainDeadline(parseNotice(hook), now, {
        drainTimeoutSeconds: 600,
        hook: { heartbeatTimeoutSeconds: 60, maxHeartbeats: 3 },
      }),
    ).toBe(T + 180_000);
    expect(
      drainDeadline(parseNotice(hook), now, {
        drainTimeoutSeconds: 120,
        hook: { heartbeatTimeoutSeconds: 60, maxHeartbeats: 3 },
      }),
    ).toBe(T + 105_000);
    expect(drainDeadline(parseNotice(stateChange), now, { drainTimeoutSeconds: 600 })).toBe(now + 20_000);
    expect(drainDeadline(parseNotice(rebalance), now, { drainTimeoutSeconds: 600 })).toBe(now);
  });

  it('caps grace periods to the time left and records heartbeats up to the limit', () => {
    expect(graceFor(300, 90.4)).toBe(90);
    expect(graceFor(30, 90)).toBeUndefined();
    expect(graceFor(undefined, 10)).toBe(10);
    expect(graceFor(5, -3)).toBe(0);
    const h = { heartbeatTimeoutSeconds: 60, maxHeartbeats: 2 };
    expect(heartbeatDue(T, T + 44_000, h, 0)).toBe(false);
    expect(heartbeatDue(T, T + 45_000, h, 1)).toBe(true);
    expect(heartbeatDue(T, T + 45_000, h, 2)).toBe(false);
  });

  it('ledger entries expire on their own: closed ones an hour after, open ones past any execution that could close them', () => {
    const e = (since: number, doneAt?: number): LedgerEntry => ({
      kind: 'spot-interruption',
      execution: 'x',
      since,
      deadline: since,
      ...(doneAt ? { doneAt } : {}),
    });
    expect(entryExpiresAt(e(T, T + 1000))).toBe((T + 1000 + 3600_000) / 1000);
    expect(entryExpiresAt(e(T))).toBe((T + 4 * 3600_000) / 1000);
    expect(isExpired(entryExpiresAt(e(T)), T + 4 * 3600_000 - 1)).toBe(false);
    expect(isExpired(entryExpiresAt(e(T)), T + 4 * 3600_000)).toBe(true);
    expect(isExpired(undefined, T)).toBe(false);
  });

  it("a refresh pauses for the group's nodes an interruption marked in the last 30 minutes", () => {
    const node = (name: string, mark?: { kind: string; at: number; group: string }): NodeState => ({
      name,
      ready: true,
      unschedulable: !!mark,
      createdAt: 0,
      labels: {},
      cordonedByUs: !!mark,
      ...(mark ? { interruption: mark } : {}),
    });
    const nodes = [
      node('a', { kind: 'spot-interruption', at: T, group: 'nodes' }),
      node('b', { kind: 'terminate-hook', at: T - 31 * 60_000, group: 'nodes' }),
      node('c', { kind: 'spot-interruption', at: T, group: 'other' }),
      node('d'),
    ];
    expect(interruptionsInFlight(nodes, 'nodes', T + 5000)).toEqual([{ node: 'a', kind: 'spot-interruption' }]);
  });

  it('what became of an instance after its notice', () => {
    expect(aftermath(undefined, undefined)).toBe('gone');
    expect(aftermath('shutting-down', 'Terminating')).toBe('gone');
    expect(aftermath('running', 'Terminating:Wait')).toBe('gone');
    expect(aftermath('running', 'InService')).toBe('survived');
    expect(aftermath('running', undefined)).toBe('survived');
    expect(aftermath('stopped', 'InService')).toBe('stopped');
    expect(aftermath('pending', 'InService')).toBe('stopped');
  });
});

describe('the rules that route notices', () => {
  const groups = [
    {
      name: 'nodes',
      asgNames: ['my-asg'],
      joinTimeoutSeconds: 900,
      terminateHook: { heartbeatTimeoutSeconds: 300 },
      launchHook: true,
    },
  ];
  const rules = noticeRules('123456789012', groups);
  const routed = (event: unknown) => rules.filter((r) => matchesPattern(r.pattern, event)).map((r) => r.id);
  const hookEvent = (
    detailType: string,
    transition: string,
    hookName: string,
    origin: string,
    destination: string,
  ) => ({
    ...hook,
    'detail-type': detailType,
    detail: {
      ...hook.detail,
      LifecycleHookName: hookName,
      LifecycleTransition: transition,
      Origin: origin,
      Destination: destination,
    },
  });

  it("match this account only, and the groups' own hooks", () => {
    expect(routed(spot)).toEqual(['SpotNotices']);
    expect(routed({ ...spot, account: '999999999999' })).toEqual([]);
    expect(routed(stateChange)).toEqual(['UnannouncedStops']);
    expect(routed({ ...stateChange, detail: { ...stateChange.detail, state: 'running' } })).toEqual([]);
    expect(
      routed(
        hookEvent(
          'EC2 Instance-terminate Lifecycle Action',
          'autoscaling:EC2_INSTANCE_TERMINATING',
          'node-manager-drain',
          'AutoScalingGroup',
          'EC2',
        ),
      ),
    ).toEqual(['TerminateHooknodes']);
    expect(
      routed(
        hookEvent(
          'EC2 Instance-terminate Lifecycle Action',
          'autoscaling:EC2_INSTANCE_TERMINATING',
          'someone-elses-hook',
          'AutoScalingGroup',
          'EC2',
        ),
      ),
    ).toEqual([]);
  });

  it("AWS's warm-pool sample events: both directions routed, and read with where the instance goes", () => {
    const intoPool = hookEvent(
      'EC2 Instance-launch Lifecycle Action',
      'autoscaling:EC2_INSTANCE_LAUNCHING',
      'node-manager-launch',
      'EC2',
      'WarmPool',
    );
    const outOfPool = hookEvent(
      'EC2 Instance-launch Lifecycle Action',
      'autoscaling:EC2_INSTANCE_LAUNCHING',
      'node-manager-launch',
      'WarmPool',
      'AutoScalingGroup',
    );
    const backToPool = hookEvent(
      'EC2 Instance-terminate Lifecycle Action',
      'autoscaling:EC2_INSTANCE_TERMINATING',
      'node-manager-drain',
      'AutoScalingGroup',
      'WarmPool',
    );
    expect([routed(intoPool), routed(outOfPool), routed(backToPool)]).toEqual([
      ['LaunchHooknodes'],
      ['LaunchHooknodes'],
      ['TerminateHooknodes'],
    ]);
    expect(parseNotice(intoPool).hook).toMatchObject({ origin: 'EC2', destination: 'WarmPool' });
    // Back from the pool: its last termination is over, this launch is new work.
    const back = parseNotice(outOfPool);
    const gone: LedgerEntry = {
      kind: 'terminate-hook',
      execution: 'x:y',
      since: T,
      deadline: T,
      doneAt: T + 1,
      warmPool: true,
    };
    expect(decideClaim(gone, back)).toEqual({ claim: true, upgradeFrom: 'terminate-hook' });
    // Warming into the pool waits in Warmed:Pending:Wait, not Pending:Wait.
    expect(
      unverified(parseNotice(intoPool), { asg: { name: 'my-asg', lifecycleState: 'Warmed:Pending:Wait' } }),
    ).toBeUndefined();
    expect(
      unverified(parseNotice(backToPool), { asg: { name: 'my-asg', lifecycleState: 'Warmed:Pending:Wait' } }),
    ).toBeUndefined();
  });
});
