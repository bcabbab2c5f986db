import {
  classify,
  formatProviderId,
  planReplenish,
  updateBackoff,
  type AsgState,
  type GroupMemory,
  type GroupSettings,
  type ScalingActivity,
  type Snapshot,
  DEFAULT_DRAIN_POLICY,
} from '../../lambdas/core';

const NOW = Date.UTC(2026, 10, 1, 12);
const workers: GroupSettings = {
  name: 'nodes',
  role: 'worker',
  desiredReady: 3,
  surplus: 0,
  drainTimeoutSeconds: 600,
  joinTimeoutSeconds: 900,
  cooldownSeconds: 300,
  drain: DEFAULT_DRAIN_POLICY,
  settleSeconds: 60,
  notReadyTimeoutSeconds: 900,
  repairMaxUnhealthy: 1,
};

interface M {
  id: string;
  asg: string;
  joined?: boolean;
  ready?: boolean;
  ageSeconds?: number;
}

function snap(asgs: Array<Partial<AsgState> & { name: string }>, members: M[]): Snapshot {
  return {
    group: 'nodes',
    takenAt: NOW,
    asgs: asgs.map((a) => ({
      zones: [`z-${a.name}`],
      desired: members.filter((m) => m.asg === a.name).length,
      min: 0,
      max: 2,
      activities: [],
      tags: {},
      ...a,
      instances: members
        .filter((m) => m.asg === a.name)
        .map((m) => ({ instanceId: m.id, zone: `z-${a.name}`, lifecycleState: 'InService', healthStatus: 'Healthy' })),
    })),
    instances: members.map((m) => ({
      instanceId: m.id,
      zone: `z-${m.asg}`,
      instanceType: 'm5.large',
      lifecycle: 'spot',
      launchTime: NOW - (m.ageSeconds ?? 86400) * 1000,
      state: 'running',
    })),
    nodes: members
      .filter((m) => m.joined !== false)
      .map((m) => ({
        name: `n-${m.id}`,
        providerID: formatProviderId(`z-${m.asg}`, m.id),
        ready: m.ready ?? true,
        unschedulable: false,
        createdAt: NOW - (m.ageSeconds ?? 86400) * 1000 + 60_000,
        labels: {},
        cordonedByUs: false,
      })),
  };
}

const act = (
  statusCode: ScalingActivity['statusCode'],
  at: number,
  description = 'Launching a new EC2 instance',
): ScalingActivity => ({ activityId: `${statusCode}-${at}`, statusCode, description, startTime: at, endTime: at });

describe('replenish planner', () => {
  it('substitutes in a launching ASG with the fewest members when one AZ cannot launch', () => {
    const s = snap(
      [{ name: 'a', desired: 1, activities: [act('Failed', NOW - 60_000)] }, { name: 'c' }, { name: 'd' }],
      [
        { id: 'i-c', asg: 'c' },
        { id: 'i-d', asg: 'd' },
      ],
    );
    const p = planReplenish(s.asgs, classify(s, NOW), workers, {}, NOW);
    expect(p.raise).toEqual([{ asg: 'c', from: 1, to: 2 }]);
    expect(p.memory.home).toEqual({ a: { desired: 1, max: 2 }, c: { desired: 1, max: 2 }, d: { desired: 1, max: 2 } });
    expect(p.memory.lastChange).toEqual({ c: NOW });
    expect(p.notes.join()).toContain('a: desired 1 but 0 instances; backed off until');
  });

  it('counts launches in flight, and respects cool-down', () => {
    const s = snap(
      [{ name: 'a' }, { name: 'c' }, { name: 'd' }],
      [
        { id: 'i-a', asg: 'a' },
        { id: 'i-c', asg: 'c', joined: false, ageSeconds: 60 },
        { id: 'i-d', asg: 'd' },
      ],
    );
    const inFlight = planReplenish(s.asgs, classify(s, NOW), workers, {}, NOW);
    expect(inFlight).toMatchObject({ ready: 2, launching: 1, raise: [] });
    const cooling = snap(
      [{ name: 'a' }, { name: 'c' }],
      [
        { id: 'i-a', asg: 'a' },
        { id: 'i-c', asg: 'c' },
      ],
    );
    const p = planReplenish(
      cooling.asgs,
      classify(cooling, NOW),
      workers,
      { lastChange: { a: NOW - 60_000, c: NOW - 60_000 } },
      NOW,
    );
    expect(p.raise).toEqual([]);
    expect(p.notes.some((n) => n.includes('cooling down'))).toBe(true);
  });

  it('reaps instances past the join timeout (with decrement only for an extra control-plane instance)', () => {
    const s = snap(
      [{ name: 'a' }, { name: 'c' }, { name: 'd' }],
      [
        { id: 'i-a', asg: 'a' },
        { id: 'i-a2', asg: 'a', joined: false, ageSeconds: 1000 },
        { id: 'i-c', asg: 'c', joined: false, ageSeconds: 1000 },
        { id: 'i-d', asg: 'd', joined: false, ageSeconds: 100 },
      ],
    );
    const w = planReplenish(s.asgs, classify(s, NOW), workers, {}, NOW);
    expect(w.reap.map((r) => [r.instanceId, r.decrement])).toEqual([
      ['i-a2', false],
      ['i-c', false],
    ]);
    const cp = planReplenish(s.asgs, classify(s, NOW), { ...workers, role: 'control-plane' }, {}, NOW);
    expect(cp.reap.map((r) => [r.instanceId, r.decrement])).toEqual([
      ['i-a2', true],
      ['i-c', false],
    ]);
    expect(cp.raise).toEqual([]);
  });

  it('gives back the newest member of an ASG above its home desired once every node is Ready', () => {
    const s = snap(
      [{ name: 'a' }, { name: 'c' }, { name: 'd' }],
      [
        { id: 'i-a', asg: 'a' },
        { id: 'i-c', asg: 'c', ageSeconds: 50_000 },
        { id: 'i-c2', asg: 'c', ageSeconds: 5_000 },
        { id: 'i-d', asg: 'd' },
      ],
    );
    const home = { a: { desired: 1, max: 2 }, c: { desired: 1, max: 2 }, d: { desired: 1, max: 2 } };
    const p = planReplenish(s.asgs, classify(s, NOW), workers, { home }, NOW);
    expect(p.giveBack).toEqual({ instanceId: 'i-c2', node: 'n-i-c2', asg: 'c' });
    // A member a pod holds is passed over for a while: the next newest goes instead, and the hold expires.
    const podHeld = { 'i-c2': { until: NOW + 60_000, why: 'default/etl-1: do-not-disrupt: true' } };
    const other = planReplenish(s.asgs, classify(s, NOW), workers, { home, podHeld }, NOW);
    expect(other.giveBack).toEqual({ instanceId: 'i-c', node: 'n-i-c', asg: 'c' });
    expect(other.memory.podHeld).toEqual(podHeld);
    expect(
      planReplenish(s.asgs, classify(s, NOW + 61_000), workers, { home, podHeld }, NOW + 61_000).memory.podHeld,
    ).toBeUndefined();
    // Not while a node is not Ready.
    const notReady = snap(
      [{ name: 'a' }, { name: 'c' }, { name: 'd' }],
      [
        { id: 'i-a', asg: 'a' },
        { id: 'i-c', asg: 'c' },
        { id: 'i-c2', asg: 'c' },
        { id: 'i-d', asg: 'd', ready: false },
        { id: 'i-d2', asg: 'd' },
      ],
    );
    expect(planReplenish(notReady.asgs, classify(notReady, NOW), workers, { home }, NOW).giveBack).toBeUndefined();
  });

  it("keeps capacity others added; memory an earlier release wrote (no 'added') still gives its excess back", () => {
    const s = snap(
      [{ name: 'a' }, { name: 'c' }, { name: 'd' }],
      [
        { id: 'i-a', asg: 'a' },
        { id: 'i-c', asg: 'c', ageSeconds: 50_000 },
        { id: 'i-c2', asg: 'c', ageSeconds: 5_000 },
        { id: 'i-d', asg: 'd' },
      ],
    );
    // The lease item's memory as the previous release wrote it (JSON from its table): no 'added' field.
    const previous = JSON.parse(
      '{"home":{"a":{"desired":1,"max":2},"c":{"desired":1,"max":2},"d":{"desired":1,"max":2}},"lastChange":{"c":1}}',
    ) as GroupMemory;
    const legacy = planReplenish(s.asgs, classify(s, NOW), workers, previous, NOW);
    expect(legacy.giveBack).toEqual({ instanceId: 'i-c2', node: 'n-i-c2', asg: 'c' });
    expect(legacy.memory.added).toEqual({ c: 1 });
    // Memory that knows node-manager added nothing: the extra node is someone else's, and home follows it.
    const theirs = planReplenish(s.asgs, classify(s, NOW), workers, { ...previous, added: {} }, NOW);
    expect(theirs.giveBack).toBeUndefined();
    expect(theirs.memory.home?.c).toEqual({ desired: 2, max: 2 });
    // Someone sets a desired above what replenish made it: their value is the floor, replenish's own is absorbed.
    const raisedMore = planReplenish(
      s.asgs.map((a) => (a.name === 'c' ? { ...a, desired: 3, max: 3 } : a)),
      classify(s, NOW),
      workers,
      { ...previous, added: { c: 1 } },
      NOW,
    );
    expect(raisedMore.memory.home?.c).toEqual({ desired: 3, max: 3 });
    expect(raisedMore.memory.added).toEqual({});
    expect(theirs.notes.join()).toContain('c: desired 2 was set by someone else (home 1): kept as its home');
    // A substitute node-manager raised is remembered as its own.
    const short = snap(
      [{ name: 'a', desired: 1, activities: [act('Failed', NOW - 60_000)] }, { name: 'c' }, { name: 'd' }],
      [
        { id: 'i-c', asg: 'c' },
        { id: 'i-d', asg: 'd' },
      ],
    );
    const raised = planReplenish(short.asgs, classify(short, NOW), workers, {}, NOW);
    expect(raised.memory.added).toEqual({ c: 1 });
  });

  it('backs off 5 minutes after a failed launch, doubles on the next, and forgets after a success', () => {
    const a = (activities: ScalingActivity[]): AsgState[] => [
      { name: 'a', zones: ['z'], desired: 1, min: 0, max: 2, instances: [], activities, tags: {} },
    ];
    const first = updateBackoff(a([act('Failed', NOW)]), {});
    expect(first).toEqual({ a: { failures: 1, until: NOW + 300_000, lastFailureAt: NOW } });
    expect(updateBackoff(a([act('Failed', NOW)]), { backoff: first })).toEqual(first);
    const second = updateBackoff(a([act('Failed', NOW + 60_000), act('Failed', NOW)]), { backoff: first });
    expect(second.a).toEqual({ failures: 2, until: NOW + 60_000 + 600_000, lastFailureAt: NOW + 60_000 });
    expect(
      updateBackoff(a([act('Successful', NOW + 120_000), act('Failed', NOW + 60_000)]), { backoff: second }),
    ).toEqual({});
  });
});
