import { localInstant, windowSeconds, windowState, type MaintenanceWindow } from '../../lambdas/core';

const at = (iso: string) => Date.parse(iso);
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

describe('maintenance windows in the operator’s time zone', () => {
  const tokyo: MaintenanceWindow[] = [{ days: ['sat', 'sun'], start: '02:00', duration: '3h', timeZone: 'Asia/Tokyo' }];

  it('opens on its days at its local time, and says when it closes or the next opens', () => {
    // Friday 2026-12-11 09:00 JST: closed; Saturday 02:00 JST is Friday 17:00 UTC.
    expect(windowState(tokyo, at('2026-12-11T00:00:00Z'))).toEqual({
      open: false,
      opensAt: at('2026-12-11T17:00:00Z'),
    });
    expect(windowState(tokyo, at('2026-12-11T17:00:00Z'))).toEqual({
      open: true,
      closesAt: at('2026-12-11T20:00:00Z'),
    });
    // Saturday 05:00 JST: closed until Sunday 02:00 JST.
    expect(iso(windowState(tokyo, at('2026-12-11T20:00:00Z')).opensAt)).toBe('2026-12-12T17:00:00.000Z');
    // Sunday's window closes, and the next is a week on Saturday.
    expect(iso(windowState(tokyo, at('2026-12-12T20:30:00Z')).opensAt)).toBe('2026-12-18T17:00:00.000Z');
  });

  it('crosses daylight-saving changes where the zone has them (America/New_York, Europe/Berlin)', () => {
    const ny: MaintenanceWindow[] = [{ days: ['sun'], start: '01:30', duration: '2h', timeZone: 'America/New_York' }];
    // Sunday 2026-11-01: 01:30 happens twice (EDT, then EST); the window opens at the first.
    expect(iso(windowState(ny, at('2026-10-31T12:00:00Z')).opensAt)).toBe('2026-11-01T05:30:00.000Z');
    // A week later, standard time: 01:30 EST is 06:30 UTC.
    expect(iso(windowState(ny, at('2026-11-02T12:00:00Z')).opensAt)).toBe('2026-11-08T06:30:00.000Z');
    // 02:30 on the spring-forward night does not exist: it opens at 03:30 EDT.
    expect(localInstant('America/New_York', 2026, 3, 8, 2, 30)).toBe(at('2026-03-08T07:30:00Z'));
    const berlin: MaintenanceWindow[] = [{ days: ['sun'], start: '03:00', duration: '1h', timeZone: 'Europe/Berlin' }];
    // Berlin leaves summer time on 2026-10-25: 03:00 CEST the week before (01:00 UTC), 03:00 CET on the day (02:00 UTC).
    expect(iso(windowState(berlin, at('2026-10-17T00:00:00Z')).opensAt)).toBe('2026-10-18T01:00:00.000Z');
    expect(iso(windowState(berlin, at('2026-10-24T00:00:00Z')).opensAt)).toBe('2026-10-25T02:00:00.000Z');
  });

  it('keeps a window open past midnight, and reads durations', () => {
    const late: MaintenanceWindow[] = [{ days: ['fri'], start: '23:00', duration: '3h', timeZone: 'UTC' }];
    expect(windowState(late, at('2026-12-12T01:00:00Z'))).toEqual({ open: true, closesAt: at('2026-12-12T02:00:00Z') });
    expect([windowSeconds('3h'), windowSeconds('90m'), windowSeconds('1h30m'), windowSeconds('3 hours')]).toEqual([
      10_800,
      5_400,
      5_400,
      undefined,
    ]);
  });
});
