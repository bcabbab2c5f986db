import type { AsgState } from './types';

/**
 * A node whose drain outlived its timeout under `onTimeout: quarantine`, as the group's memory keeps
 * it (keyed by instance id): its instance is in Standby (its ASG launched a replacement), the node
 * stays cordoned while its pods finish, and replenish reaps it, as the Auto Scaling user guide
 * describes Standby: moved back into service (desired +1), then terminated with decrement.
 */
export interface Quarantined {
  readonly asg: string;
  readonly node: string;
  /** When the refresh quarantined it, and when it is reaped whatever its pods (epoch ms). */
  readonly since: number;
  readonly until: number;
  /**
   * `standby`: waiting for its pods (or its instance about to enter Standby); `exiting`: ExitStandby
   * asked (desired +1), waiting for InService; `terminating`: TerminateInstanceInAutoScalingGroup
   * with decrement asked. Journaled before each call, so a pass cut short is finished by the next.
   */
  readonly phase: 'standby' | 'exiting' | 'terminating';
  /** MaxSize before the reap raised it to move the instance out of Standby: put back once it is gone. */
  readonly maxFrom?: number;
  /** The pods still on it when the deadline passed (they end with the instance), named in the output. */
  readonly podsLeft?: readonly string[];
}

/** What one reap pass does for one quarantined instance. */
export type QuarantineStep =
  /** Its pods still run (or the instance is between states): look again at the next pass. */
  | { readonly kind: 'wait'; readonly instanceId: string; readonly why: string }
  /** Empty, or past its deadline: ExitStandby, raising MaxSize first when desired + 1 would pass it. */
  | { readonly kind: 'exit'; readonly instanceId: string; readonly raiseMaxTo?: number; readonly why: string }
  /** InService again: terminate it with decrement, then put MaxSize back. */
  | { readonly kind: 'terminate'; readonly instanceId: string; readonly why: string }
  /** Nothing left to do (gone, or never made it to Standby: then its node is uncordoned). */
  | {
      readonly kind: 'forget';
      readonly instanceId: string;
      readonly why: string;
      readonly uncordon?: string;
    };

/**
 * Decides each quarantined instance's next step from its ASG's view and the pods still on its node
 * (`podsLeft`: undefined when not read, for an instance not in Standby). Pure; the caller journals
 * the memory this returns before it acts.
 */
export function planQuarantine(
  entries: Readonly<Record<string, Quarantined>>,
  asgs: readonly AsgState[],
  podsLeft: (instanceId: string) => readonly string[] | undefined,
  now: number,
): { readonly steps: readonly QuarantineStep[]; readonly entries: Readonly<Record<string, Quarantined>> } {
  const steps: QuarantineStep[] = [];
  const after: Record<string, Quarantined> = {};
  // One instance of an ASG out of Standby at a time: each exit raises desired (and maybe MaxSize) by one.
  const busy = new Set(
    Object.entries(entries)
      .filter(([, e]) => e.phase !== 'standby')
      .map(([, e]) => e.asg),
  );
  for (const [id, e] of Object.entries(entries)) {
    const asg = asgs.find((a) => a.name === e.asg);
    const state = asg?.instances.find((i) => i.instanceId === id)?.lifecycleState;
    const label = `${e.node} (${id}, ${e.asg})`;
    if (state === undefined || state.startsWith('Terminat') || state.startsWith('Detach')) {
      steps.push({ kind: 'forget', instanceId: id, why: `${label} is ${state ?? 'gone from its ASG'}: reaped` });
      continue;
    }
    if (e.phase === 'terminating') {
      // The terminate was asked and the instance still shows in service: ask again.
      after[id] = e;
      steps.push({ kind: 'terminate', instanceId: id, why: `${label}: terminating with decrement` });
      continue;
    }
    if (state === 'Standby') {
      const pods = e.phase === 'standby' ? (podsLeft(id) ?? []) : [];
      if (e.phase === 'standby' && pods.length && now < e.until) {
        after[id] = e;
        steps.push({
          kind: 'wait',
          instanceId: id,
          why:
            `${label} in Standby: ${pods.length} pod(s) still running (${pods.join(', ')}); reaped once they ` +
            `finish, at the latest ${new Date(e.until).toISOString()}`,
        });
        continue;
      }
      if (e.phase === 'standby' && busy.has(e.asg)) {
        after[id] = e;
        steps.push({ kind: 'wait', instanceId: id, why: `${label}: another of its ASG leaves Standby first` });
        continue;
      }
      busy.add(e.asg);
      const raise = asg && asg.desired + 1 > asg.max ? asg.desired + 1 : undefined;
      after[id] = {
        ...e,
        phase: 'exiting',
        ...(raise !== undefined && e.maxFrom === undefined ? { maxFrom: asg!.max } : {}),
        ...(pods.length ? { podsLeft: pods } : {}),
      };
      steps.push({
        kind: 'exit',
        instanceId: id,
        ...(raise !== undefined ? { raiseMaxTo: raise } : {}),
        why:
          e.phase === 'exiting'
            ? `${label}: moving it out of Standby again`
            : pods.length
              ? `${label}: its quarantine ended at ${new Date(e.until).toISOString()} with ${pods.length} pod(s) ` +
                `still on it (they end with the instance)`
              : `${label}: its pods finished`,
      });
      continue;
    }
    if (state === 'EnteringStandby' || (e.phase === 'exiting' && state.startsWith('Pending'))) {
      after[id] = e;
      steps.push({ kind: 'wait', instanceId: id, why: `${label} is ${state}` });
      continue;
    }
    if (e.phase === 'exiting' && state === 'InService') {
      after[id] = { ...e, phase: 'terminating' };
      steps.push({ kind: 'terminate', instanceId: id, why: `${label} back in service: terminating with decrement` });
      continue;
    }
    // In service without ever reaching Standby: the refresh stopped between journaling and asking.
    steps.push({
      kind: 'forget',
      instanceId: id,
      uncordon: e.node,
      why: `${label} never went to Standby (the refresh that quarantined it stopped first): uncordoned and left`,
    });
  }
  return { steps, entries: after };
}
