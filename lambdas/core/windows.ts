/**
 * Maintenance windows: when a group's voluntary disruption may run, in the operator's time zone.
 * Wall-clock times are turned into instants with the platform's time zone data (Intl), so
 * daylight-saving changes fall where the zone has them: a window starting at 02:30 on a night whose
 * 02:00–03:00 does not exist starts at 03:30 (the clock's reading an hour on), and one on a night
 * that repeats an hour starts at the first 02:30.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MaintenanceWindow {
  /** The days it opens on (local to `timeZone`). */
  readonly days: readonly Weekday[];
  /** When it opens, local "HH:MM" (24-hour). */
  readonly start: string;
  /** How long it stays open: "3h", "90m", "1h30m" (at most 24h). */
  readonly duration: string;
  /** An IANA time zone name ("Asia/Tokyo", "UTC"). */
  readonly timeZone: string;
}

export interface WindowState {
  readonly open: boolean;
  /** Open: when the window in force closes (epoch ms). */
  readonly closesAt?: number;
  /** Closed: when the next one opens (epoch ms). */
  readonly opensAt?: number;
}

/** Seconds in a window duration ("3h", "90m", "1h30m"); undefined when it is not one. */
export function windowSeconds(d: string): number | undefined {
  const m = /^(?:(\d{1,2})h)?(?:(\d{1,4})m)?$/.exec(d);
  if (!m || (m[1] === undefined && m[2] === undefined)) return undefined;
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function parts(timeZone: string, at: number): { y: number; mo: number; d: number; h: number; mi: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(at)).map((x) => [x.type, Number(x.value)]));
  return { y: p.year, mo: p.month, d: p.day, h: p.hour, mi: p.minute };
}

/** The zone's offset from UTC at an instant (ms, east positive). */
function offsetAt(timeZone: string, at: number): number {
  const p = parts(timeZone, at);
  return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi) - Math.floor(at / 60_000) * 60_000;
}

/** The instant a local wall-clock time reads in the zone (see the module comment for DST). */
export function localInstant(timeZone: string, y: number, mo: number, d: number, h: number, mi: number): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  const first = wall - offsetAt(timeZone, wall);
  // Again with the offset at the first guess: across a change the two differ.
  const second = wall - offsetAt(timeZone, first);
  const reads = (at: number) => {
    const p = parts(timeZone, at);
    return p.h === h && p.mi === mi;
  };
  const exact = [first, second].filter(reads);
  // A time the night repeats: its first reading. One the night skips: the clock's reading an hour on.
  return exact.length ? Math.min(...exact) : Math.max(first, second);
}

/** Whether a window is open at `now`, and when it closes or the next one opens (looking 8 days ahead). */
export function windowState(windows: readonly MaintenanceWindow[], now: number): WindowState {
  let closesAt: number | undefined;
  let opensAt: number | undefined;
  for (const w of windows) {
    const [h, mi] = w.start.split(':').map(Number);
    const length = (windowSeconds(w.duration) ?? 0) * 1000;
    const today = parts(w.timeZone, now);
    for (let k = -1; k <= 8; k += 1) {
      const date = new Date(Date.UTC(today.y, today.mo - 1, today.d + k));
      if (!w.days.includes(WEEKDAYS[date.getUTCDay()])) continue;
      const from = localInstant(w.timeZone, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), h, mi);
      const to = from + length;
      if (from <= now && now < to) closesAt = Math.max(closesAt ?? 0, to);
      else if (from > now) opensAt = Math.min(opensAt ?? Number.POSITIVE_INFINITY, from);
    }
  }
  return closesAt !== undefined
    ? { open: true, closesAt }
    : { open: false, ...(opensAt !== undefined ? { opensAt } : {}) };
}
