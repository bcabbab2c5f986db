import type { VirtualClock } from '../clock';

/**
 * Virtual time for concurrent executions. An execution is either running (inside a step, or
 * between states) or asleep until a virtual time (a Wait, a Retry back-off). Time moves only when
 * nothing runs: then the clock steps to the next simulator event or wake-up, whichever is first.
 * Every boundary is observed (a step starts, a step sleeps, an execution ends), so the idle test
 * is exact and the same scenario always unfolds the same way.
 */
export class Scheduler {
  private running = 0;
  private seq = 0;
  private sleepers: Array<{
    at: number;
    seq: number;
    owner: string;
    inStep: boolean;
    wake: () => void;
    cancel: (e: Error) => void;
  }> = [];
  private idleWaiters: Array<() => void> = [];
  private scheduled = false;
  /** Called after every step of virtual time (to sample Ready counts and the like). */
  onTick: () => void = () => undefined;

  /** Set to run paced: virtual time moves at `speed` times real time (`--serve`), in ticks of `tickMs` real milliseconds. */
  pace?: { readonly speed: number; readonly tickMs: number };

  constructor(private readonly clock: VirtualClock) {}

  /** An execution starts (it runs until it sleeps or ends). */
  begin(): void {
    this.running += 1;
  }

  /** An execution ended (or was stopped, perhaps while asleep: then it never wakes). */
  end(owner: string): void {
    const asleep = this.sleepers.findIndex((s) => s.owner === owner);
    if (asleep >= 0) this.sleepers.splice(asleep, 1);
    else this.running -= 1;
    this.kick();
  }

  /** Sleeps the calling execution until virtual time `at` (`inStep`: inside a Lambda step, which a stop interrupts). */
  async sleepUntil(owner: string, at: number, inStep = false): Promise<void> {
    if (at <= this.clock.now()) return;
    this.running -= 1;
    const woke = new Promise<void>((resolve, reject) =>
      this.sleepers.push({ at, seq: this.seq++, owner, inStep, wake: resolve, cancel: reject }),
    );
    this.sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.kick();
    await woke;
  }

  /**
   * An execution stopped while its step sleeps inside the invocation: the step wakes with an error
   * (as a Lambda whose execution was stopped would simply be forgotten), so the interpreter can
   * end the execution instead of waiting for a step that would never return.
   */
  interrupt(owner: string): void {
    const i = this.sleepers.findIndex((s) => s.owner === owner && s.inStep);
    if (i < 0) return;
    const [s] = this.sleepers.splice(i, 1);
    this.running += 1;
    s.cancel(new Error('the execution was stopped while its step waited'));
  }

  /** Ends every sleep with an error (the scenario is over): the interpreter's own timers get cleared. */
  cancelAll(): void {
    for (const s of this.sleepers.splice(0)) s.cancel(new Error('the scenario ended'));
  }

  /** Resolves when nothing runs, nobody sleeps, and no simulator event is due before `until`. */
  async runUntil(until: number): Promise<void> {
    const done = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.until = until;
    this.kick();
    await done;
  }

  private until = Number.POSITIVE_INFINITY;

  private kick(): void {
    if (this.scheduled || this.running > 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.step();
    });
  }

  private step(): void {
    while (this.running === 0) {
      const sleeper = this.sleepers[0];
      const nextEvent = this.clock.nextEventAt();
      const candidates = [sleeper?.at, nextEvent].filter((t): t is number => t !== undefined);
      const next = candidates.length ? Math.min(...candidates) : undefined;
      // Paced, an idle stretch to the scenario's end passes at the pace too (a served cluster goes on), not in a jump.
      const idleToEnd = this.pace !== undefined && Number.isFinite(this.until) && this.clock.now() < this.until;
      const target = next === undefined || next > this.until ? (idleToEnd ? this.until : undefined) : next;
      if (target === undefined) {
        if (this.clock.now() < this.until && Number.isFinite(this.until)) this.clock.advanceTo(this.until);
        this.onTick();
        // The scenario ends here; executions still asleep stay RUNNING in the report.
        const waiters = this.idleWaiters.splice(0);
        waiters.forEach((w) => w());
        return;
      }
      if (this.pace && target > this.clock.now()) {
        // Paced: move at most one tick's worth, in real time, then look again (a client may have changed things).
        const next = Math.min(target, this.clock.now() + this.pace.speed * this.pace.tickMs);
        const delay = (next - this.clock.now()) / this.pace.speed;
        this.scheduled = true;
        setTimeout(() => {
          this.scheduled = false;
          if (this.running === 0) {
            this.clock.advanceTo(next);
            this.onTick();
          }
          this.kick();
        }, delay);
        return;
      }
      this.clock.advanceTo(target);
      this.onTick();
      // A simulator event may have started an execution: let it run first.
      if (this.running > 0) return;
      if (sleeper && sleeper.at <= this.clock.now()) {
        this.sleepers.shift();
        this.running += 1;
        sleeper.wake();
        return;
      }
    }
  }
}
