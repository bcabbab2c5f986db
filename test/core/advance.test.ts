import { advanceStart, GIVE_BACK_MAX_BACKOFF_SECONDS, giveBackWait } from '../../lambdas/core';

describe('the batch loop, decided', () => {
  it('goes from the journal alone where the journal says', () => {
    expect(advanceStart({ phase: 'giveBack', batch: [] }).kind).toBe('giveBack');
    expect(advanceStart({ phase: 'done', batch: [] }).kind).toBe('giveBack');
    expect(advanceStart({ phase: 'terminating', batch: [] }).kind).toBe('terminate');
    const member = { node: 'n', instanceId: 'i', asg: 'a', zone: 'z' };
    expect(advanceStart({ phase: 'drain', batch: [member] }).kind).toBe('drainAgain');
    expect(advanceStart({ phase: 'drain', batch: [] }).kind).toBe('look');
    expect(advanceStart({ phase: 'surge', batch: [] }).kind).toBe('look');
  });
});

describe('the give-back wait', () => {
  const pass = (o: Partial<Parameters<typeof giveBackWait>[0]> = {}) => ({
    drained: false,
    evicted: [] as string[],
    refused: [] as string[],
    graceSeconds: 30,
    ...o,
  });
  const now = 1_000_000;
  const farDeadline = now + 3_600_000;

  it('looks again in a second once the surplus is terminated', () => {
    expect(giveBackWait(pass({ drained: true }), 3, undefined, farDeadline, now)).toEqual({ blocked: 0, wait: 1 });
  });

  it('backs off while every pod left is refused, doubling to two minutes, never past the deadline', () => {
    const refused = pass({ refused: ['budget web'] });
    const waits = [0, 1, 2, 3, 4, 5, 6].map((b) => giveBackWait(refused, b, undefined, farDeadline, now));
    expect(waits.map((w) => w.blocked)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const seconds = waits.map((w) => w.wait);
    for (let i = 1; i < seconds.length; i += 1) expect(seconds[i]).toBeGreaterThanOrEqual(seconds[i - 1]);
    expect(Math.max(...seconds)).toBe(GIVE_BACK_MAX_BACKOFF_SECONDS);
    expect(giveBackWait(refused, 6, undefined, now + 10_000, now).wait).toBe(10);
  });

  it('starts over once an eviction goes through', () => {
    expect(
      giveBackWait(pass({ evicted: ['d/web-1'], refused: ['budget web'] }), 5, undefined, farDeadline, now).blocked,
    ).toBe(0);
  });
});
