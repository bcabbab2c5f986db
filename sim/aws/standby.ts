import { EnterStandbyCommand, ExitStandbyCommand, type Activity } from '@aws-sdk/client-auto-scaling';
import { asgError, operation, type AwsHost, type Operation } from './common';
import type { SimActivity, SimAsg, SimInstance } from './model';

function toActivity(a: SimActivity): Activity {
  return { ...a, StartTime: new Date(a.StartTime), EndTime: a.EndTime !== undefined ? new Date(a.EndTime) : undefined };
}

/**
 * EnterStandby and ExitStandby as the Auto Scaling API reference and user guide describe them: an
 * InService instance moves to Standby (still in the group, no longer counted: without decrement the
 * group launches a replacement; with it, desired drops and may not go below min); a Standby
 * instance moves back through Pending (and the group's launch hook) to InService, and desired rises
 * by one. AWS documents no answer for an instance in another state or a desired above max; the
 * simulator refuses both, so that node-manager, which must not depend on an answer, is caught.
 */
export function standbyOperations(host: AwsHost): Operation[] {
  const members = (asgName: string | undefined, ids: string[] | undefined, want: string): [SimAsg, SimInstance[]] => {
    const asg = asgName ? host.region.asgs.get(asgName) : undefined;
    if (!asg)
      throw asgError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${asgName} not found`);
    const list = ids ?? [];
    if (list.length === 0) throw asgError('ValidationError', 'At least one instance ID must be specified.');
    if (list.length > 20)
      throw asgError('ValidationError', 'The number of instance ids that may be passed in is limited to 20.');
    return [
      asg,
      list.map((id) => {
        const inst = host.region.instances.get(id);
        if (!inst || inst.asg !== asg.name || inst.state === 'terminated')
          throw asgError('ValidationError', `The instance ${id} is not part of Auto Scaling group ${asg.name}.`);
        if (inst.asgLifecycle !== want)
          throw asgError(
            'ValidationError',
            `The instance ${id} is not in ${want} (it is ${inst.asgLifecycle}) (simulator: AWS documents no ` +
              'answer to this request).',
          );
        return inst;
      }),
    ];
  };
  return [
    operation(
      'EnterStandby',
      EnterStandbyCommand,
      (input) => {
        const [asg, insts] = members(input.AutoScalingGroupName, input.InstanceIds, 'InService');
        const decrement = input.ShouldDecrementDesiredCapacity;
        if (decrement === undefined)
          throw asgError(
            'ValidationError',
            "1 validation error detected: Value null at 'shouldDecrementDesiredCapacity' failed to satisfy " +
              'constraint: Member must not be null',
          );
        if (decrement && asg.desired - insts.length < asg.min)
          throw asgError(
            'ValidationError',
            `AutoScalingGroup ${asg.name} has min-size=${asg.min}, max-size=${asg.max}, and desired-size=` +
              `${asg.desired}. To place into standby ${insts.length} instance(s), please update the ` +
              'AutoScalingGroup sizes appropriately.',
          );
        const from = asg.desired;
        if (decrement) {
          host.noteAsgChange(asg.name, 'desired', asg.desired, asg.desired - insts.length);
          asg.desired -= insts.length;
        }
        const activities = insts.map((inst) => host.region.lifecycle.enterStandby(asg, inst, decrement, from));
        host.region.reconcile(asg);
        return { Activities: activities.map(toActivity) };
      },
      (input) =>
        `asg/${input.AutoScalingGroupName} instances=${(input.InstanceIds ?? []).join(',')} ` +
        `decrement=${input.ShouldDecrementDesiredCapacity}`,
    ),
    operation(
      'ExitStandby',
      ExitStandbyCommand,
      (input) => {
        const [asg, insts] = members(input.AutoScalingGroupName, input.InstanceIds, 'Standby');
        if (asg.desired + insts.length > asg.max)
          throw asgError(
            'ValidationError',
            `AutoScalingGroup ${asg.name} has min-size=${asg.min}, max-size=${asg.max}, and desired-size=` +
              `${asg.desired}. To move out of standby ${insts.length} instance(s), please update the ` +
              'AutoScalingGroup sizes appropriately.',
          );
        const from = asg.desired;
        host.noteAsgChange(asg.name, 'desired', asg.desired, asg.desired + insts.length);
        asg.desired += insts.length;
        const activities = insts.map((inst) => host.region.lifecycle.exitStandby(asg, inst, from));
        host.region.reconcile(asg);
        return { Activities: activities.map(toActivity) };
      },
      (input) => `asg/${input.AutoScalingGroupName} instances=${(input.InstanceIds ?? []).join(',')}`,
    ),
  ];
}
