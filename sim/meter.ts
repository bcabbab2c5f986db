import { INSUFFICIENT_CAPACITY, INSUFFICIENT_ON_DEMAND, isActive, type Fault } from './faults';
import { InvocationContext, type Invocation } from './workflows/context';

/** One mutating call, as an auditor reads a run: when, what, on what, by which execution and step, and how it ended. */
export interface AuditEntry {
  readonly at: number;
  readonly api: 'aws' | 'kube';
  readonly operation: string;
  readonly target: string;
  /** The node group the target belongs to, when it belongs to one. */
  readonly group: string | null;
  readonly execution: string | null;
  readonly step: string | null;
  readonly outcome: string;
  /** A node patch: what it changed (cordon, uncordon, taint KEY, untaint KEY). */
  readonly change?: string;
}

export interface AsgChange {
  readonly at: number;
  readonly asg: string;
  readonly what: 'desired' | 'min' | 'max' | 'terminateWithDecrement';
  readonly from: number;
  readonly to: number;
}

/** An API error a throttle or failure fault makes the service answer. */
export interface FaultErrors {
  throttle(): Error;
  failure(): Error;
}

/** What the meter needs of the world: the time, a die, and which node group a call's target belongs to. */
export interface MeterHost {
  now(): number;
  random(): number;
  groupOfTarget(target: string): string | null;
}

/**
 * The simulator's bookkeeping, apart from the world it keeps: every call counted by operation,
 * every mutating call audited, ASG size changes, and the armed faults that make a call fail.
 */
export class Meter {
  readonly faults: Fault[] = [];
  readonly calls = { aws: {} as Record<string, number>, kube: {} as Record<string, number> };
  /** Every mutating AWS and Kubernetes call, in order. */
  readonly audit: AuditEntry[] = [];
  readonly asgChanges: AsgChange[] = [];
  /** Which runner invocation makes each call (billing and the audit). */
  readonly context = new InvocationContext();

  constructor(private readonly host: MeterHost) {}

  arm(fault: Fault): void {
    this.faults.push(fault);
  }

  count(
    kind: 'aws' | 'kube',
    operation: string,
    inv: Invocation | undefined = kind === 'aws' ? this.context.current() : undefined,
  ): void {
    const c = this.calls[kind];
    c[operation] = (c[operation] ?? 0) + 1;
    if (inv) inv.calls += 1;
  }

  recordMutation(
    api: 'aws' | 'kube',
    operation: string,
    target: string,
    inv: Invocation | undefined,
    outcome: string,
    change?: string,
  ): void {
    this.audit.push({
      at: this.host.now(),
      api,
      operation,
      target,
      group: this.host.groupOfTarget(target),
      execution: inv?.execution ?? null,
      step: inv?.state ?? null,
      outcome,
      ...(change ? { change } : {}),
    });
  }

  /** Throws the service's own error when a throttle or failure fault hits this call. */
  checkFault(operation: string, errors: FaultErrors): void {
    const hit = this.faultFor(operation);
    if (hit === 'throttle') throw errors.throttle();
    if (hit === 'failure') throw errors.failure();
  }

  /** Counts a Kubernetes call and answers the status a fault makes the API server return, if one hits. */
  kubeCall(operation: string, port: number | undefined): { code: number; reason: string; message: string } | undefined {
    this.count('kube', operation, this.context.ofPort(port));
    const hit = this.faultFor(operation);
    if (hit === 'throttle')
      return { code: 429, reason: 'TooManyRequests', message: 'Too many requests, please try again later.' };
    if (hit === 'failure')
      return { code: 500, reason: 'InternalError', message: 'Internal error occurred: simulated failure' };
    return undefined;
  }

  noteAsgChange(asg: string, what: AsgChange['what'], from: number, to: number): void {
    if (from !== to) this.asgChanges.push({ at: this.host.now(), asg, what, from, to });
  }

  /** The error code a launch in the zone fails with while an outage fault is active, if one is. */
  launchFailure(zone: string, instanceType: string, lifecycle: 'spot' | 'on-demand'): string | undefined {
    const now = this.host.now();
    for (const f of this.faults) {
      if (!isActive(f, now)) continue;
      const out =
        (f.kind === 'zoneOutage' && f.zone === zone) ||
        (f.kind === 'instanceTypeOutage' && f.instanceType === instanceType && (!f.zone || f.zone === zone));
      if (out) return lifecycle === 'spot' ? INSUFFICIENT_CAPACITY : INSUFFICIENT_ON_DEMAND;
    }
    return undefined;
  }

  private faultFor(operation: string): 'throttle' | 'failure' | undefined {
    const now = this.host.now();
    for (const f of this.faults) {
      if ((f.kind !== 'throttle' && f.kind !== 'callFailure') || f.operation !== operation || !isActive(f, now))
        continue;
      if (f.kind === 'throttle' && f.times === undefined && this.host.random() >= (f.rate ?? 1)) continue;
      if (f.times !== undefined) f.times -= 1;
      return f.kind === 'throttle' ? 'throttle' : 'failure';
    }
    return undefined;
  }
}
