/**
 * The simulator's virtual clock. It is explicit and never touches the process's timers, so a
 * loopback HTTP request to the simulated API server can never be cut short by virtual time:
 * time moves only when a test or the runner calls `advance`/`advanceTo`.
 */
export class VirtualClock {
  private current: number;
  private seq = 0;
  private readonly queue: Array<{ at: number; seq: number; label: string; fn: () => void }> = [];

  constructor(startAt: number) {
    this.current = startAt;
  }

  now(): number {
    return this.current;
  }

  /** Runs `fn` when virtual time reaches `at` (at once on the next advance if `at` is past). */
  at(at: number, label: string, fn: () => void): void {
    // Binary insertion after every event due at the same time or earlier: order by time, then by arrival.
    const when = Math.max(at, this.current);
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.queue[mid].at <= when) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, { at: when, seq: this.seq++, label, fn });
  }

  after(seconds: number, label: string, fn: () => void): void {
    this.at(this.current + seconds * 1000, label, fn);
  }

  /** The time of the next pending event, if any. */
  nextEventAt(): number | undefined {
    return this.queue[0]?.at;
  }

  pending(): number {
    return this.queue.length;
  }

  /** Moves to `target`, running every event due on the way in time order (events may schedule more). */
  advanceTo(target: number): void {
    if (target < this.current) throw new Error(`the virtual clock cannot go back (${target} < ${this.current})`);
    for (;;) {
      const next = this.queue[0];
      if (!next || next.at > target) break;
      this.queue.shift();
      this.current = next.at;
      next.fn();
    }
    this.current = target;
  }

  advance(seconds: number): void {
    this.advanceTo(this.current + seconds * 1000);
  }
}

/** A small seeded PRNG (mulberry32): the same scenario makes the same ids and the same faults. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  hex(length: number): string {
    let s = '';
    while (s.length < length) s += Math.floor(this.next() * 16).toString(16);
    return s;
  }
  /** A version-4 UUID's shape, from this generator (EventBridge event ids, execution names). */
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-a${this.hex(3)}-${this.hex(12)}`;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
}
