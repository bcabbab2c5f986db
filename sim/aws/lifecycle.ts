import type { Random, VirtualClock } from '../clock';
import {
  DETACH_SECONDS,
  STANDBY_SECONDS,
  type SimActivity,
  type SimAsg,
  type SimHook,
  type SimInstance,
  type SimLifecycleAction,
} from './model';

/** What lifecycle hooks need of the region. */
export interface HookHost {
  readonly clock: VirtualClock;
  readonly rng: Random;
  readonly asgs: ReadonlyMap<string, SimAsg>;
  emit(source: 'aws.autoscaling' | 'aws.ec2', detailType: string, detail: Record<string, string>): void;
  reconcile(asg: SimAsg): void;
  shutDown(inst: SimInstance, asg: SimAsg | undefined, act: SimActivity | undefined): void;
  activity(asg: SimAsg, description: string, cause: string, status: SimActivity['StatusCode']): SimActivity;
  inService(asg: SimAsg, inst: SimInstance, act: SimActivity): void;
}

/**
 * An instance's passage through the waits and exits Auto Scaling keeps apart from launching and
 * terminating: lifecycle hooks as the user guide describes them: an instance held in Pending:Wait
 * or Terminating:Wait, the lifecycle action event, the heartbeat and global timeouts and their
 * default result, and CompleteLifecycleAction's CONTINUE or ABANDON; detaching; and standby.
 */
export class Lifecycle {
  constructor(private readonly region: HookHost) {}

  /**
   * Holds an instance for a lifecycle hook (Terminating:Wait or Pending:Wait) and emits the
   * lifecycle action event; the default result applies when the heartbeat (or global) timeout passes.
   */
  hold(asg: SimAsg, inst: SimInstance, hook: SimHook, act: SimActivity, launched?: () => void): void {
    const now = this.region.clock.now();
    const launching = hook.transition === 'autoscaling:EC2_INSTANCE_LAUNCHING';
    inst.asgLifecycle = launching ? 'Pending:Wait' : 'Terminating:Wait';
    act.StatusCode = 'MidLifecycleAction';
    const rng = this.region.rng;
    const action: SimLifecycleAction = {
      hook,
      token: `${rng.hex(8)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(12)}`,
      asg: asg.name,
      startedAt: now,
      expiresAt: now + hook.heartbeatTimeout * 1000,
      globalExpiresAt: now + Math.min(100 * hook.heartbeatTimeout, 172_800) * 1000,
      heartbeats: 0,
      ...(launched ? { launched } : {}),
    };
    inst.lifecycleAction = action;
    this.region.emit(
      'aws.autoscaling',
      launching ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
      {
        Origin: launching ? 'EC2' : 'AutoScalingGroup',
        Destination: launching ? 'AutoScalingGroup' : 'EC2',
        LifecycleActionToken: action.token,
        AutoScalingGroupName: asg.name,
        LifecycleHookName: hook.name,
        EC2InstanceId: inst.id,
        LifecycleTransition: hook.transition,
      },
    );
    // Nobody answered: the default result when the heartbeat timeout (or the global one) passes.
    const check = () => {
      if (inst.lifecycleAction !== action) return;
      const due = Math.min(action.expiresAt, action.globalExpiresAt);
      if (this.region.clock.now() >= due) this.end(inst, hook.defaultResult);
      else this.region.clock.at(due, `${inst.id} lifecycle timeout`, check);
    };
    this.region.clock.at(action.expiresAt, `${inst.id} lifecycle timeout`, check);
    if (!launching) this.region.reconcile(asg);
  }

  /**
   * Ends a lifecycle wait (CompleteLifecycleAction or a timeout). A termination goes on either way;
   * a launch goes InService on CONTINUE and is terminated on ABANDON (the ASG then launches again).
   */
  end(inst: SimInstance, result: 'CONTINUE' | 'ABANDON'): void {
    const action = inst.lifecycleAction;
    if (!action) return;
    inst.lifecycleAction = undefined;
    const asg = this.region.asgs.get(action.asg);
    if (action.launched) {
      if (result === 'CONTINUE') return action.launched();
      const act = asg?.activities.find(
        (a) => a.Description === `Launching a new EC2 instance: ${inst.id}` && a.EndTime === undefined,
      );
      if (act) {
        act.StatusCode = 'Cancelled';
        act.EndTime = this.region.clock.now();
        act.StatusMessage =
          `Instance failed to complete user's Lifecycle Action: Lifecycle Action with token ` +
          `${action.token} was abandoned: Lifecycle Action Completed with ABANDON Result`;
      }
      inst.asgLifecycle = 'Terminating';
      this.region.shutDown(inst, asg, undefined);
      if (asg) this.region.reconcile(asg);
      return;
    }
    const act = asg?.activities.find(
      (a) => a.Description === `Terminating EC2 instance: ${inst.id}` && a.EndTime === undefined,
    );
    if (act) act.StatusCode = 'InProgress';
    this.region.shutDown(inst, asg, act);
  }

  /**
   * Detaches an instance: it shows `Detaching` (no longer counted toward desired) with an
   * InProgress activity, and leaves the group `DETACH_SECONDS` later; it keeps running outside any ASG.
   */
  detach(asg: SimAsg, inst: SimInstance, decrement: boolean): SimActivity {
    inst.asgLifecycle = 'Detaching';
    // Auto Scaling removes the tag naming the group from an instance it no longer holds.
    delete inst.tags['aws:autoscaling:groupName'];
    const act = this.region.activity(
      asg,
      `Detaching EC2 instance: ${inst.id}`,
      'an instance was detached in response to a user request' +
        (decrement
          ? `, shrinking the capacity from ${asg.desired + 1} to ${asg.desired}.`
          : ', keeping the capacity at the desired value.'),
      'InProgress',
    );
    this.region.clock.after(DETACH_SECONDS, `${inst.id} detached`, () => {
      asg.instanceIds = asg.instanceIds.filter((id) => id !== inst.id);
      inst.asg = undefined;
      inst.asgLifecycle = undefined;
      act.StatusCode = 'Successful';
      act.EndTime = this.region.clock.now();
      act.Progress = 100;
    });
    return act;
  }

  /**
   * Moves an InService instance to Standby (EnteringStandby for a moment): still in the group and
   * running, no longer counted toward desired, out of its load balancers. The caller has lowered
   * desired when asked to; otherwise the group's reconcile launches a replacement.
   */
  enterStandby(asg: SimAsg, inst: SimInstance, decrement: boolean, from: number): SimActivity {
    inst.asgLifecycle = 'EnteringStandby';
    const act = this.region.activity(
      asg,
      `Moving EC2 instance to Standby: ${inst.id}`,
      `instance ${inst.id} was moved to standby in response to a user request` +
        (decrement ? `, shrinking the capacity from ${from} to ${asg.desired}.` : '.'),
      'InProgress',
    );
    this.region.clock.after(STANDBY_SECONDS, `${inst.id} Standby`, () => {
      if (inst.asgLifecycle !== 'EnteringStandby') return;
      inst.asgLifecycle = 'Standby';
      act.StatusCode = 'Successful';
      act.EndTime = this.region.clock.now();
      act.Progress = 100;
    });
    return act;
  }

  /**
   * Moves a Standby instance back: Pending (held by the group's launch hook, when it has one, as a
   * launch is), then InService. The caller has raised desired by one.
   */
  exitStandby(asg: SimAsg, inst: SimInstance, from: number): SimActivity {
    inst.asgLifecycle = 'Pending';
    const act = this.region.activity(
      asg,
      `Moving EC2 instance out of Standby: ${inst.id}`,
      `instance ${inst.id} was moved out of standby in response to a user request, increasing the capacity ` +
        `from ${from} to ${asg.desired}.`,
      'InProgress',
    );
    const hook = asg.hooks.find((h) => h.transition === 'autoscaling:EC2_INSTANCE_LAUNCHING');
    if (hook) this.hold(asg, inst, hook, act, () => this.region.inService(asg, inst, act));
    else
      this.region.clock.after(STANDBY_SECONDS, `${inst.id} InService`, () => {
        if (inst.asgLifecycle === 'Pending' && inst.state === 'running') this.region.inService(asg, inst, act);
      });
    return act;
  }
}
