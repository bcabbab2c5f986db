import { decideClaim, drainDeadline, graceFor, heartbeatDue, inFlight, parseNotice, prunable, type LedgerEntry } from '../../lambdas/core';

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
const rebalance = { ...spot, 'detail-type': 'EC2 Instance Rebalance Recommendation', detail: { 'instance-id': 'i-1234567890abcdef0' } };
const stateChange = { ...spot, 'detail-type': 'EC2 Instance State-change Notification', detail: { 'instance-id': 'i-1234567890abcdef0', state: 'shutting-down' } };
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
    expect(parseNotice(spot)).toEqual({ kind: 'spot-interruption', instanceId: 'i-1234567890abcdef0', at: T, eventId: spot.id });
    expect(parseNotice(rebalance).kind).toBe('rebalance');
    expect(parseNotice(stateChange)).toMatchObject({ kind: 'unannounced', state: 'shutting-down' });
    expect(parseNotice(hook)).toMatchObject({ kind: 'terminate-hook', hook: { asg: 'my-asg', name: 'my-lifecycle-hook', token: '87654321-4321-4321-4321-210987654321' } });
  });

  it('refuses anything else, naming the field and what is allowed', () => {
    expect(() => parseNotice([])).toThrow('the input must be an EventBridge event');
    expect(() => parseNotice({ ...spot, 'detail-type': 'EC2 Instance Launch Successful' })).toThrow(/event.detail-type "EC2 Instance Launch Successful" is not one node-manager drains on; allowed: EC2 Spot Instance Interruption Warning, /);
    expect(() => parseNotice({ ...spot, source: 'custom.app' })).toThrow('event.source must be aws.ec2');
    expect(() => parseNotice({ ...spot, time: 'yesterday' })).toThrow('event.time must be an ISO 8601 time');
    expect(() => parseNotice({ ...hook, detail: { ...hook.detail, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' } })).toThrow('must be autoscaling:EC2_INSTANCE_TERMINATING');
    expect(() => parseNotice({ ...spot, detail: { 'instance-id': 'x'.repeat(5000) } })).toThrow(/^event.detail.instance-id must be a non-empty string of at most 1600 characters; got "x{20,}/);
  });

  it('drains each notice once: duplicates, a state change after a notice, a rebalance after a warning do nothing; a warning after a rebalance and a hook always act', () => {
    const entry = (kind: LedgerEntry['kind']): LedgerEntry => ({ kind, execution: 'arn:aws:states:r:1:execution:m:first', since: T, deadline: T + 1 });
    expect(decideClaim(undefined, parseNotice(spot))).toEqual({ claim: true });
    expect(decideClaim(entry('spot-interruption'), parseNotice(spot))).toEqual({ claim: false, why: 'a duplicate: spot-interruption of i-1234567890abcdef0 is handled already by first' });
    expect(decideClaim(entry('spot-interruption'), parseNotice(stateChange))).toMatchObject({ claim: false, why: expect.stringContaining('announced before') });
    expect(decideClaim(entry('spot-interruption'), parseNotice(rebalance))).toMatchObject({ claim: false });
    expect(decideClaim(entry('rebalance'), parseNotice(spot))).toEqual({ claim: true, upgradeFrom: 'rebalance' });
    expect(decideClaim(entry('spot-interruption'), parseNotice(hook))).toEqual({ claim: true, upgradeFrom: 'spot-interruption' });
    expect(decideClaim({ ...entry('rebalance'), handled: ['spot-interruption'] }, parseNotice(spot)).claim).toBe(false);
    // A noted rebalance drained nothing: even an unannounced stop after it is work.
    expect(decideClaim(entry('rebalance'), parseNotice(stateChange))).toEqual({ claim: true, upgradeFrom: 'rebalance' });
  });

  it('deadlines: the Spot reclaim minus 15 s; a hook within its heartbeats and the drain timeout; unannounced 20 s; a rebalance is not drained', () => {
    const now = T + 2000;
    expect(drainDeadline(parseNotice(spot), now, { drainTimeoutSeconds: 600 })).toBe(T + 105_000);
    // 3 heartbeats at 45 s of a 60 s timeout, then the last timeout, minus a 15 s margin.
    expect(drainDeadline(parseNotice(hook), now, { drainTimeoutSeconds: 600, hook: { heartbeatTimeoutSeconds: 60, maxHeartbeats: 3 } })).toBe(T + 180_000);
    expect(drainDeadline(parseNotice(hook), now, { drainTimeoutSeconds: 120, hook: { heartbeatTimeoutSeconds: 60, maxHeartbeats: 3 } })).toBe(T + 105_000);
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

  it('in flight and prunable ledger entries', () => {
    const e = (since: number, doneAt?: number): LedgerEntry => ({ kind: 'spot-interruption', execution: 'x', since, deadline: since, ...(doneAt ? { doneAt } : {}) });
    const ledger = { a: e(T), b: e(T, T + 1000), c: e(T - 31 * 60_000), d: e(T - 2 * 3600_000, T - 3600_001) };
    expect(inFlight(ledger, T + 5000).map(([id]) => id)).toEqual(['a']);
    expect(prunable(ledger, T)).toEqual(['d']);
  });
});
