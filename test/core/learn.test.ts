import fc from 'fast-check';
import {
  drainWaitSeconds,
  FIRST_READY_POLL_SECONDS,
  learnDrain,
  learnReady,
  readySample,
  readyWaitSeconds,
  READY_SAMPLES,
} from '../../lambdas/core';

const T = Date.UTC(2026, 10, 1);

describe('learned waits', () => {
  it('waits the longest of the recent launch-to-Ready times (plus a second) from the termination, then polls briefly', () => {
    expect(readyWaitSeconds(undefined, T, T)).toBe(FIRST_READY_POLL_SECONDS);
    const l = [140, 150, 145].reduce((acc, s) => learnReady(acc, s), learnReady(undefined, 148));
    expect(readyWaitSeconds(l, T, T)).toBe(151);
    expect(readyWaitSeconds(l, T, T + 100_000)).toBe(51);
    // Past the expected time: a twentieth of it, 2 to 15 seconds.
    expect(readyWaitSeconds(l, T, T + 200_000)).toBe(8);
  });

  it('keeps the newest samples only, so a group whose launches got faster waits less after a while', () => {
    let l = learnReady(undefined, 600);
    for (let i = 0; i < READY_SAMPLES; i += 1) l = learnReady(l, 100);
    expect(l.readySeconds).toHaveLength(READY_SAMPLES);
    expect(readyWaitSeconds(l, T, T)).toBe(101);
  });

  it('measures a launch from the Ready transition of the nodes created since the termination', () => {
    const nodes = [
      { createdAt: T - 10_000, ready: true, readySince: T - 5_000 },
      { createdAt: T + 90_000, ready: true, readySince: T + 150_000 },
      { createdAt: T + 95_000, ready: false, readySince: T + 95_000 },
    ];
    expect(readySample(nodes, T)).toBe(150);
    expect(readySample(nodes.slice(2), T)).toBeUndefined();
  });

  it('a drain found done at the first check tries a shorter wait only after a few in a row; a late one sets the wait to what it took', () => {
    let l = learnDrain(undefined, 12, false);
    expect(l.drainSeconds).toBe(12);
    l = learnDrain(l, 12, true);
    expect(l.drainSeconds).toBe(12);
    l = learnDrain(l, 12, true);
    expect(l.drainSeconds).toBe(9);
    expect(drainWaitSeconds(l, 5)).toBe(5);
    expect(drainWaitSeconds(l, 300)).toBe(9);
  });

  it('never waits less than a second nor more than an hour, whatever it saw (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ s: fc.double({ min: 0, max: 1e7, noNaN: true }), first: fc.boolean() }), {
          maxLength: 30,
        }),
        fc.integer({ min: 0, max: 1e7 }),
        (seen, elapsed) => {
          let l = {};
          for (const x of seen) l = learnReady(learnDrain(l, x.s, x.first), x.s);
          const ready = readyWaitSeconds(l, T, T + elapsed * 1000);
          const drain = drainWaitSeconds(l, Number.POSITIVE_INFINITY);
          return (
            ready >= 1 &&
            ready <= 3600 &&
            drain >= 1 &&
            drain <= 3600 &&
            Number.isInteger(ready) &&
            Number.isInteger(drain)
          );
        },
      ),
    );
  });
});
