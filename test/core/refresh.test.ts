import fc from 'fast-check';
import {
  checkWhole,
  classify,
  formatProviderId,
  pickBatch,
  planGiveBack,
  planSurge,
  type AsgState,
  type GroupSettings,
  type Snapshot,
  DEFAULT_DRAIN_POLICY,
} from '../../lambdas/core';

const T0 = Date.UTC(2026, 10, 1);
const START = T0 - 3600_000;
const workers: GroupSettings = {
  name: 'nodes',
  role: 'worker',
  desiredReady: 3,
  surplus: 1,
  drainTimeoutSeconds: 600,
  joinTimeoutSeconds: 900,
  cooldownSeconds: 300,
  drain: DEFAULT_DRAIN_POLICY,
  settleSeconds: 60,
  notReadyTimeoutSeconds: 900,
  repairMaxUnhealthy: 1,
};

interface Spec {
  id: string;
  asg: string;
  createdAt?: number;
  ready?: boolean;
  cordoned?: boolean;
  /** Cordoned by someone else (an operator): unschedulable, but not ours to give back first. */
  cordonedByOther?: boolean;
  lifecycle?: string;
}

function world(asgs: Array<Partial<AsgState> & { name: string }>, members: Spec[]): Snapshot {
  return {
    group: 'nodes',
    takenAt: T0,
    asgs: asgs.map((a) => ({
      zones: [`z-${a.name}`],
      desired: members.filter((m) => m.asg === a.name).length,
      min: 0,
      max: 10,
      activities: [],
      tags: {},
      ...a,
      instances: members
        .filter((m) => m.asg === a.name)
        .map((m) => ({
          instanceId: m.id,
          zone: `z-${a.name}`,
          lifecycleState: m.lifecycle ?? 'InService',
          healthStatus: 'Healthy',
        })),
    })),
    instances: members.map((m, i) => ({
      instanceId: m.id,
      zone: `z-${m.asg}`,
      instanceType: 'm5.large',
      lifecycle: 'spot',
      launchTime: (m.createdAt ?? T0) - 60_000 + i,
      state: 'running',
    })),
    nodes: members
      .filter((m) => m.createdAt !== undefined)
      .map((m) => ({
        name: `n-${m.id}`,
        providerID: formatProviderId(`z-${m.asg}`, m.id),
        ready: m.ready ?? true,
        unschedulable: !!m.cordoned || !!m.cordonedByOther,
        createdAt: m.createdAt!,
        labels: {},
        cordonedByUs: !!m.cordoned,
      })),
  };
}

const failed = (at: number) => ({
  activityId: 'f',
  statusCode: 'Failed' as const,
  description: 'Launching a new EC2 instance.  Status Reason: ...',
  statusMessage: 'Could not launch Spot Instances. InsufficientInstanceCapacity',
  startTime: at,
  endTime: at,
});

describe('refresh planner', () => {
  it('surges on the AZ with the fewest members, raising MaxSize, and not on a failing ASG', () => {
    const s = world(
      [
        { name: 'a', max: 1, activities: [failed(T0 - 60_000)] },
        { name: 'c', max: 1 },
        { name: 'd', max: 1 },
      ],
      [
        { id: 'i-1', asg: 'a', createdAt: START - 1 },
        { id: 'i-2', asg: 'c', createdAt: START - 1 },
        { id: 'i-3', asg: 'd', createdAt: START - 1 },
      ],
    );
    const p = planSurge(s.asgs, classify(s, T0), workers, T0);
    expect(p.changes).toEqual([{ asg: 'c', zone: 'z-c', fromDesired: 1, toDesired: 2, raiseMaxTo: 2 }]);
    expect(planSurge(s.asgs, classify(s, T0), { ...workers, role: 'control-plane', surplus: 0 }, T0).changes).toEqual(
      [],
    );
  });

  it('picks the oldest Ready nodes from before the start, max(1, surplus) at a time, never in a failing ASG', () => {
    const s = world(
      [{ name: 'a', activities: [failed(T0 - 60_000)] }, { name: 'c' }],
      [
        { id: 'i-1', asg: 'a', createdAt: START - 5000 },
        { id: 'i-2', asg: 'c', createdAt: START - 4000 },
        { id: 'i-3', asg: 'c', createdAt: START - 3000, ready: false },
        { id: 'i-4', asg: 'c', createdAt: START - 2000 },
        { id: 'i-5', asg: 'c', createdAt: START - 1000 },
        { id: 'i-6', asg: 'c', createdAt: START + 1000 },
        { id: 'i-7', asg: 'c' },
      ],
    );
    const c = classify(s, T0);
    const p = pickBatch(s.asgs, c, { ...workers, surplus: 2 }, { startedAt: START, terminated: ['i-5'] }, T0);
    expect(p.batch.map((b) => b.instanceId)).toEqual(['i-2', 'i-4']);
    expect(p.oldRemaining).toBe(4);
    expect(p.skipped).toEqual([
      { instanceId: 'i-1', asg: 'a', reason: expect.stringContaining('Could not launch Spot Instances') },
    ]);
    expect(
      pickBatch(s.asgs, c, { ...workers, role: 'control-plane', surplus: 0 }, { startedAt: START, terminated: [] }, T0)
        .batch,
    ).toHaveLength(1);
  });

  it('keeps the old nodes the surplus stands in for until last, then picks them as the final batch (terminated with decrement)', () => {
    // The surge put one node in a (home desired 2, now 3): a's youngest old node waits for last.
    const s = world(
      [{ name: 'a' }, { name: 'c' }],
      [
        { id: 'i-1', asg: 'a', createdAt: START - 5000 },
        { id: 'i-2', asg: 'a', createdAt: START - 4000 },
        { id: 'i-3', asg: 'c', createdAt: START - 3000 },
        { id: 'i-9', asg: 'a', createdAt: T0 - 1000 },
      ],
    );
    const original = { a: { desired: 2, max: 10 }, c: { desired: 1, max: 10 } };
    const first = pickBatch(s.asgs, classify(s, T0), workers, { startedAt: START, terminated: [], original }, T0);
    expect(first).toMatchObject({ batch: [{ instanceId: 'i-1' }], final: false, oldRemaining: 3 });
    const second = pickBatch(s.asgs, classify(s, T0), workers, { startedAt: START, terminated: ['i-1'], original }, T0);
    expect(second).toMatchObject({ batch: [{ instanceId: 'i-3' }], final: false });
    const last = pickBatch(
      s.asgs,
      classify(s, T0),
      workers,
      { startedAt: START, terminated: ['i-1', 'i-3'], original },
      T0,
    );
    expect(last).toMatchObject({ batch: [{ instanceId: 'i-2', asg: 'a' }], final: true, oldRemaining: 1 });
  });

  it('replaces the last batch as any other when the group would fall below desiredReady without it, or old nodes elsewhere are not Ready', () => {
    const original = { a: { desired: 1, max: 10 }, c: { desired: 1, max: 10 } };
    // The surplus node in a is not Ready: terminating i-1 with decrement would leave 1 Ready of 2.
    const notReady = world(
      [{ name: 'a' }, { name: 'c' }],
      [
        { id: 'i-1', asg: 'a', createdAt: START - 5000 },
        { id: 'i-9', asg: 'a', createdAt: T0 - 1000, ready: false },
        { id: 'i-8', asg: 'c', createdAt: T0 - 2000 },
      ],
    );
    const settings = { ...workers, desiredReady: 2 };
    expect(
      pickBatch(notReady.asgs, classify(notReady, T0), settings, { startedAt: START, terminated: [], original }, T0),
    ).toMatchObject({ batch: [{ instanceId: 'i-1' }], final: false });
    // An old node in c is not Ready yet: the held node waits for it (nothing picked now).
    const waiting = world(
      [{ name: 'a' }, { name: 'c' }],
      [
        { id: 'i-1', asg: 'a', createdAt: START - 5000 },
        { id: 'i-9', asg: 'a', createdAt: T0 - 1000 },
        { id: 'i-2', asg: 'c', createdAt: START - 4000, ready: false },
      ],
    );
    expect(
      pickBatch(waiting.asgs, classify(waiting, T0), settings, { startedAt: START, terminated: [], original }, T0),
    ).toMatchObject({ batch: [], final: false, oldRemaining: 2 });
  });

  it('the control plane is whole only when every ASG has a Ready member again', () => {
    const cp = { ...workers, role: 'control-plane' as const, surplus: 0, desiredReady: 2 };
    const s = world(
      [{ name: 'a' }, { name: 'c' }, { name: 'd' }],
      [
        { id: 'i-1', asg: 'a', createdAt: T0 },
        { id: 'i-2', asg: 'c', createdAt: T0 },
        { id: 'i-3', asg: 'd' },
      ],
    );
    expect(checkWhole(s.asgs, classify(s, T0), cp, false)).toMatchObject({
      whole: false,
      ready: 2,
      want: 2,
      waitingFor: [{ instanceId: 'i-3', state: 'notJoined' }],
    });
  });

  it('gives back ours first, then unjoined, then the newest; restores MaxSize once desired is home', () => {
    const s = world(
      [
        { name: 'a', max: 3 },
        { name: 'c', max: 2 },
      ],
      [
        { id: 'i-1', asg: 'a', createdAt: T0 - 3000 },
        { id: 'i-2', asg: 'a', createdAt: T0 - 2000, cordoned: true },
        { id: 'i-3', asg: 'a' },
        { id: 'i-4', asg: 'c', createdAt: T0 - 1000 },
      ],
    );
    const p = planGiveBack(s.asgs, classify(s, T0), { a: { desired: 1, max: 1 }, c: { desired: 1, max: 1 } }, 1);
    expect(p.remove.map((r) => r.instanceId)).toEqual(['i-2', 'i-3']);
    expect(p.restoreMax).toEqual([{ asg: 'c', max: 1 }]);
    expect(p.done).toBe(false);
  });

  it('gives back another member in place of one a pod holds, and keeps the surplus when every member is held', () => {
    const s = world(
      [{ name: 'a', max: 3 }],
      [
        { id: 'i-1', asg: 'a', createdAt: T0 - 3000 },
        { id: 'i-2', asg: 'a', createdAt: T0 - 2000 },
        { id: 'i-3', asg: 'a', createdAt: T0 - 1000 },
      ],
    );
    const home = { a: { desired: 2, max: 3 } };
    expect(planGiveBack(s.asgs, classify(s, T0), home, 1).remove.map((r) => r.instanceId)).toEqual(['i-3']);
    const other = planGiveBack(s.asgs, classify(s, T0), home, 1, new Set(['i-3']));
    expect(other.remove.map((r) => r.instanceId)).toEqual(['i-2']);
    expect(other.heldByPods).toBe(0);
    const none = planGiveBack(s.asgs, classify(s, T0), home, 1, new Set(['i-1', 'i-2', 'i-3']));
    expect(none.remove).toEqual([]);
    expect(none.heldByPods).toBe(1);
  });

  it('counts only schedulable Ready nodes toward the floor: a node cordoned by an operator is no capacity', () => {
    // Floor 3; five Ready nodes, the one in c cordoned by someone else; ASG a is 2 above home.
    const s = world(
      [{ name: 'a' }, { name: 'c' }],
      [
        { id: 'i-1', asg: 'a', createdAt: START - 5000 },
        { id: 'i-2', asg: 'a', createdAt: START - 4000 },
        { id: 'i-3', asg: 'a', createdAt: START - 3000 },
        { id: 'i-4', asg: 'a', createdAt: START - 2000 },
        { id: 'i-5', asg: 'c', createdAt: START - 1000, cordonedByOther: true },
      ],
    );
    const p = planGiveBack(s.asgs, classify(s, T0), { a: { desired: 2, max: 10 }, c: { desired: 1, max: 10 } }, 3);
    expect(p.remove.map((r) => r.instanceId)).toEqual(['i-4']);
    expect(p.kept).toBe(1);
  });

  it('never gives surplus back below the floor of schedulable Ready nodes (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            asg: fc.constantFrom('a', 'c', 'd'),
            joined: fc.boolean(),
            ready: fc.boolean(),
            cordon: fc.constantFrom('none', 'ours', 'other'),
          }),
          { maxLength: 20 },
        ),
        fc.nat(6),
        fc.nat(3),
        (specs, floor, home) => {
          const s = world(
            [{ name: 'a' }, { name: 'c' }, { name: 'd' }],
            specs.map((m, i) => ({
              id: `i-${i.toString(16).padStart(4, '0')}`,
              asg: m.asg,
              createdAt: m.joined ? T0 - i : undefined,
              ready: m.ready,
              cordoned: m.cordon === 'ours',
              cordonedByOther: m.cordon === 'other',
            })),
          );
          const c = classify(s, T0);
          const p = planGiveBack(
            s.asgs,
            c,
            { a: { desired: home, max: 10 }, c: { desired: home, max: 10 }, d: { desired: home, max: 10 } },
            floor,
          );
          const schedulable = c.members.filter((m) => m.node?.ready && !m.node.unschedulable && m.state !== 'leaving');
          const removed = p.remove.filter((r) => schedulable.some((m) => m.instanceId === r.instanceId)).length;
          if (schedulable.length >= floor) expect(schedulable.length - removed).toBeGreaterThanOrEqual(floor);
          else expect(removed).toBe(0);
          for (const a of s.asgs)
            expect(p.remove.filter((r) => r.asg === a.name).length).toBeLessThanOrEqual(Math.max(0, a.desired - home));
        },
      ),
    );
  });
});
