import fc from 'fast-check';
import {
  asgHealth,
  launchBackoffSeconds,
  placeDecrease,
  placeIncrease,
  type AsgState,
  type Slot,
} from '../../lambdas/core';

const slot = (asg: string, members: number, extra: Partial<Slot> = {}): Slot => ({
  asg,
  zone: `z-${asg}`,
  desired: members,
  min: 0,
  max: 3,
  members,
  eligible: true,
  ...extra,
});

describe('placeIncrease', () => {
  it('adds to the AZ with the fewest members first', () => {
    const p = placeIncrease([slot('a', 2), slot('c', 1), slot('d', 1)], 2);
    expect(p.changes).toEqual([
      { asg: 'c', zone: 'z-c', fromDesired: 1, toDesired: 2 },
      { asg: 'd', zone: 'z-d', fromDesired: 1, toDesired: 2 },
    ]);
    expect(p.blocked).toBe(0);
  });

  it('skips ineligible ASGs and says when nothing can take more', () => {
    const p = placeIncrease([slot('a', 1, { eligible: false }), slot('c', 1, { max: 1 })], 1);
    expect(p.placed).toBe(0);
    expect(p.blocked).toBe(1);
    expect(p.blockedReason).toMatch(/MaxSize.*c=1/);
  });

  it('raises MaxSize only up to the ceiling, and says so', () => {
    const p = placeIncrease([slot('a', 1, { max: 1, maxCeiling: 2 })], 2);
    expect(p.changes).toEqual([{ asg: 'a', zone: 'z-a', fromDesired: 1, toDesired: 2, raiseMaxTo: 2 }]);
    expect(p.blocked).toBe(1);
  });

  const slots = fc
    .array(
      fc.record({
        members: fc.nat(8),
        extraDesired: fc.nat(2),
        min: fc.nat(3),
        room: fc.nat(6),
        ceiling: fc.nat(4),
        eligible: fc.boolean(),
        floor: fc.nat(6),
      }),
      { minLength: 1, maxLength: 6 },
    )
    .map((specs) =>
      specs.map((s, i): Slot => {
        const desired = Math.max(s.min, s.members + s.extraDesired);
        const max = desired + s.room;
        return {
          asg: `asg-${i}`,
          zone: `z${i}`,
          desired,
          min: s.min,
          max,
          members: s.members,
          eligible: s.eligible,
          maxCeiling: max + s.ceiling,
          floor: Math.min(s.floor, max),
        };
      }),
    );

  it('never exceeds the ceiling, never goes below MinSize or the floor, and counts every unit (property)', () => {
    fc.assert(
      fc.property(slots, fc.nat(30), (ss, n) => {
        for (const p of [placeIncrease(ss, n), placeDecrease(ss, n)]) {
          expect(p.placed + p.blocked).toBe(n);
          const total = p.changes.reduce((a, c) => a + Math.abs(c.toDesired - c.fromDesired), 0);
          expect(total).toBe(p.placed);
          for (const c of p.changes) {
            const s = ss.find((x) => x.asg === c.asg)!;
            expect(c.toDesired).toBeLessThanOrEqual(Math.max(s.max, s.maxCeiling ?? s.max));
            expect(c.toDesired).toBeGreaterThanOrEqual(s.min);
            if (c.toDesired < c.fromDesired) expect(c.toDesired).toBeGreaterThanOrEqual(s.floor ?? s.min);
            if (c.toDesired > c.fromDesired) expect(s.eligible).toBe(true);
            expect(c.raiseMaxTo === undefined).toBe(c.toDesired <= s.max);
          }
        }
      }),
    );
  });

  it('keeps the spread across AZs within one when capacity allows (property)', () => {
    const balanced = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.nat(5), fc.nat(5)).chain(([k, base, extra]) =>
      fc
        .tuple(
          fc.constant(k),
          fc.array(fc.boolean(), { minLength: k, maxLength: k }),
          fc.constant(base),
          fc.nat(extra * k + 3),
        )
        .map(([kk, bumps, b, n]) => ({
          ss: bumps.slice(0, kk).map((bump, i): Slot => ({
            asg: `a${i}`,
            zone: `z${i}`,
            desired: b + (bump ? 1 : 0),
            min: 0,
            max: 100,
            members: b + (bump ? 1 : 0),
            eligible: true,
          })),
          n,
        })),
    );
    fc.assert(
      fc.property(balanced, ({ ss, n }) => {
        const after = (changes: ReturnType<typeof placeIncrease>['changes']) =>
          ss.map((s) => s.members + ((changes.find((c) => c.asg === s.asg)?.toDesired ?? s.desired) - s.desired));
        for (const p of [
          placeIncrease(ss, n),
          placeDecrease(
            ss,
            Math.min(
              n,
              ss.reduce((a, s) => a + s.desired, 0),
            ),
          ),
        ]) {
          const m = after(p.changes);
          expect(Math.max(...m) - Math.min(...m)).toBeLessThanOrEqual(1);
        }
      }),
    );
  });
});

describe('placeDecrease', () => {
  it('takes from the AZ with the most members, down to the floor', () => {
    const p = placeDecrease([slot('a', 2, { floor: 1 }), slot('c', 2, { floor: 2 }), slot('d', 1, { floor: 1 })], 3);
    expect(p.changes).toEqual([{ asg: 'a', zone: 'z-a', fromDesired: 2, toDesired: 1 }]);
    expect(p.blocked).toBe(2);
    expect(p.blockedReason).toMatch(/floor/);
  });
});

describe('asgHealth', () => {
  const now = Date.UTC(2026, 10, 1, 12);
  const base: AsgState = {
    name: 'nodes-a',
    zones: ['az-a'],
    desired: 2,
    min: 0,
    max: 3,
    instances: [
      { instanceId: 'i-1', zone: 'az-a', lifecycleState: 'InService', healthStatus: 'Healthy' },
      { instanceId: 'i-2', zone: 'az-a', lifecycleState: 'Terminating', healthStatus: 'Healthy' },
    ],
    activities: [],
    tags: {},
  };
  it('is short when desired does not match the active instances', () => {
    const h = asgHealth(base, now, 600);
    expect(h).toMatchObject({ active: 1, launchingNormally: false });
    expect(h.reason).toBe('desired 2 but 1 active instances');
  });
  it('is failing after a failed launch until a launch succeeds', () => {
    const failed = {
      activityId: 'x',
      statusCode: 'Failed' as const,
      description: 'Launching a new EC2 instance.  Status Reason: ...',
      statusMessage: 'Could not launch Spot Instances. InsufficientInstanceCapacity',
      startTime: now - 120_000,
      endTime: now - 110_000,
    };
    const ok = { ...base, desired: 1 };
    expect(asgHealth({ ...ok, activities: [failed] }, now, 600)).toMatchObject({
      launchingNormally: false,
      lastFailure: { at: now - 110_000 },
    });
    expect(asgHealth({ ...ok, activities: [failed] }, now, 60).launchingNormally).toBe(true);
    expect(
      asgHealth(
        {
          ...ok,
          activities: [failed, { ...failed, activityId: 'y', statusCode: 'Successful', endTime: now - 10_000 }],
        },
        now,
        600,
      ).launchingNormally,
    ).toBe(true);
  });
  it('backs off 5 minutes, doubling, at most 30', () => {
    expect([0, 1, 2, 3, 4, 5].map(launchBackoffSeconds)).toEqual([0, 300, 600, 1200, 1800, 1800]);
  });
});
