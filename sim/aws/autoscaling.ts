import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeScalingActivitiesCommand,
  DetachInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type Activity,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { asgError, invalidAsgToken, maxRecordsError, operation, page, type AwsHost, type Operation } from './common';
import type { SimActivity, SimAsg, SimInstance } from './model';

function toActivity(a: SimActivity): Activity {
  return { ...a, StartTime: new Date(a.StartTime), EndTime: a.EndTime !== undefined ? new Date(a.EndTime) : undefined };
}

/**
 * Auto Scaling as node-manager calls it, answered from the region's groups with AWS's limits,
 * validation errors and wording, and pagination tokens bound to their query.
 */
export function autoScalingOperations(host: AwsHost): Operation[] {
  const asgOf = (name: string | undefined): SimAsg => {
    const asg = name ? host.region.asgs.get(name) : undefined;
    if (!asg) throw asgError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
    return asg;
  };
  const describeAsg = (asg: SimAsg): AutoScalingGroup => {
    const region = host.region;
    return {
      AutoScalingGroupName: asg.name,
      AutoScalingGroupARN:
        `arn:aws:autoscaling:${region.name}:${host.account}:autoScalingGroup:` +
        `00000000-0000-0000-0000-000000000000:autoScalingGroupName/${asg.name}`,
      MinSize: asg.min,
      MaxSize: asg.max,
      DesiredCapacity: asg.desired,
      DefaultCooldown: 300,
      AvailabilityZones: [...asg.zones],
      HealthCheckType: 'EC2',
      HealthCheckGracePeriod: 0,
      CreatedTime: new Date(asg.createdTime),
      Instances: asg.instanceIds.map((id) => {
        const i = region.instances.get(id)!;
        return {
          InstanceId: i.id,
          InstanceType: i.instanceType,
          AvailabilityZone: i.zone,
          LifecycleState: (i.asgLifecycle ?? 'InService') as 'InService',
          HealthStatus: 'Healthy',
          ProtectedFromScaleIn: false,
          LaunchTemplate: {
            LaunchTemplateId: region.templates.idOf(asg.name),
            LaunchTemplateName: region.templates.nameOf(asg.name),
            Version: String(i.launchTemplateVersion ?? 1),
          },
        };
      }),
      Tags: Object.entries(asg.tags).map(([Key, Value]) => ({
        Key,
        Value,
        ResourceId: asg.name,
        ResourceType: 'auto-scaling-group',
        PropagateAtLaunch: true,
      })),
      LaunchTemplate: {
        LaunchTemplateId: region.templates.idOf(asg.name),
        LaunchTemplateName: region.templates.nameOf(asg.name),
        Version: '$Latest',
      },
      TerminationPolicies: ['Default'],
      CapacityRebalance: asg.capacityRebalance,
    };
  };

  // Lifecycle actions: the instance (or the token) must be waiting on that hook of that group.
  const waiting = (input: {
    AutoScalingGroupName?: string;
    LifecycleHookName?: string;
    InstanceId?: string;
    LifecycleActionToken?: string;
  }) => {
    const asg = asgOf(input.AutoScalingGroupName);
    if (!input.LifecycleHookName)
      throw asgError(
        'ValidationError',
        "1 validation error detected: Value null at 'lifecycleHookName' failed to satisfy constraint: Member must not be null",
      );
    if (!asg.hooks.some((h) => h.name === input.LifecycleHookName))
      throw asgError(
        'ValidationError',
        `No Lifecycle Hook found with name ${input.LifecycleHookName} for group ${asg.name}`,
      );
    if (!input.InstanceId && !input.LifecycleActionToken)
      throw asgError('ValidationError', 'Either InstanceId or LifecycleActionToken must be specified.');
    const inst = input.InstanceId
      ? host.region.instances.get(input.InstanceId)
      : [...host.region.instances.values()].find((i) => i.lifecycleAction?.token === input.LifecycleActionToken);
    const action = inst?.lifecycleAction;
    if (
      !inst ||
      !action ||
      action.asg !== asg.name ||
      action.hook.name !== input.LifecycleHookName ||
      (input.LifecycleActionToken && action.token !== input.LifecycleActionToken)
    ) {
      throw asgError(
        'ValidationError',
        input.InstanceId
          ? `No active Lifecycle Action found with instance ID ${input.InstanceId}`
          : `No active Lifecycle Action found with token ${input.LifecycleActionToken}`,
      );
    }
    return { inst, action };
  };

  return [
    operation('DescribeAutoScalingGroups', DescribeAutoScalingGroupsCommand, (input) => {
      const names: string[] | undefined = input.AutoScalingGroupNames;
      const max = input.MaxRecords ?? 50;
      if (max < 1 || max > 100) throw maxRecordsError(max, 100);
      if (names && names.length > 100)
        throw asgError('ValidationError', 'The number of AutoScalingGroupNames cannot exceed 100.');
      const filters: Array<{ Name?: string; Values?: string[] }> = input.Filters ?? [];
      const groups = [...host.region.asgs.values()]
        .filter((g) => !names || names.includes(g.name))
        .filter((g) =>
          filters.every((f) => {
            const values = f.Values ?? [];
            if (f.Name === 'tag-key') return values.some((k) => k in g.tags);
            if (f.Name === 'tag-value') return values.some((v) => Object.values(g.tags).includes(v));
            if (f.Name?.startsWith('tag:')) {
              const key = f.Name.slice(4);
              return key in g.tags && values.includes(g.tags[key]);
            }
            throw asgError('ValidationError', `Filter name ${f.Name} is invalid.`);
          }),
        )
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      const p = page(groups, max, input.NextToken, { names, filters }, invalidAsgToken);
      return { AutoScalingGroups: p.items.map((g) => describeAsg(g)), NextToken: p.next };
    }),
    operation('DescribeScalingActivities', DescribeScalingActivitiesCommand, (input) => {
      const max = input.MaxRecords ?? 100;
      if (max < 1 || max > 100) throw maxRecordsError(max, 100);
      const groups = input.AutoScalingGroupName
        ? [host.region.asgs.get(input.AutoScalingGroupName)].filter((g): g is SimAsg => !!g)
        : [...host.region.asgs.values()];
      const acts = groups
        .flatMap((g) => g.activities)
        .filter((a) => !input.ActivityIds || input.ActivityIds.includes(a.ActivityId))
        .sort((a, b) => b.StartTime - a.StartTime);
      const p = page(
        acts,
        max,
        input.NextToken,
        { g: input.AutoScalingGroupName, ids: input.ActivityIds },
        invalidAsgToken,
      );
      return { Activities: p.items.map(toActivity), NextToken: p.next };
    }),
    operation(
      'SetDesiredCapacity',
      SetDesiredCapacityCommand,
      (input) => {
        const asg = asgOf(input.AutoScalingGroupName);
        const d = input.DesiredCapacity ?? 0;
        if (d > asg.max)
          throw asgError(
            'ValidationError',
            `New SetDesiredCapacity value ${d} is above max value ${asg.max} for the AutoScalingGroup.`,
          );
        if (d < asg.min)
          throw asgError(
            'ValidationError',
            `New SetDesiredCapacity value ${d} is below min value ${asg.min} for the AutoScalingGroup.`,
          );
        host.noteAsgChange(asg.name, 'desired', asg.desired, d);
        asg.desired = d;
        host.region.reconcile(asg);
        return {};
      },
      (input) => `asg/${input.AutoScalingGroupName} desired=${input.DesiredCapacity}`,
    ),
    operation(
      'UpdateAutoScalingGroup',
      UpdateAutoScalingGroupCommand,
      (input) => {
        const asg = asgOf(input.AutoScalingGroupName);
        const min = input.MinSize ?? asg.min;
        const max = input.MaxSize ?? asg.max;
        if (min > max)
          throw asgError('ValidationError', `Max bound, ${max}, must be greater than or equal to min bound, ${min}`);
        let desired = input.DesiredCapacity ?? asg.desired;
        if (input.DesiredCapacity !== undefined && (desired < min || desired > max)) {
          throw asgError(
            'ValidationError',
            `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`,
          );
        }
        // Without an explicit desired, AWS clamps the current one into the new bounds.
        desired = Math.min(Math.max(desired, min), max);
        if (min !== asg.min) host.noteAsgChange(asg.name, 'min', asg.min, min);
        if (max !== asg.max) host.noteAsgChange(asg.name, 'max', asg.max, max);
        if (desired !== asg.desired) host.noteAsgChange(asg.name, 'desired', asg.desired, desired);
        Object.assign(asg, { min, max, desired });
        host.region.reconcile(asg);
        return {};
      },
      (input) =>
        `asg/${input.AutoScalingGroupName} min=${input.MinSize ?? '-'} max=${input.MaxSize ?? '-'} desired=${input.DesiredCapacity ?? '-'}`,
    ),
    operation(
      'TerminateInstanceInAutoScalingGroup',
      TerminateInstanceInAutoScalingGroupCommand,
      (input) => {
        const inst = input.InstanceId ? host.region.instances.get(input.InstanceId) : undefined;
        const asg = inst?.asg ? host.region.asgs.get(inst.asg) : undefined;
        if (!inst || !asg || inst.state === 'terminated') {
          throw asgError(
            'ValidationError',
            `Instance Id not found - No managed instance found for instance ID: ${input.InstanceId}`,
          );
        }
        if (inst.asgLifecycle?.startsWith('Terminating') || inst.asgLifecycle === 'Detaching') {
          // AWS documents no answer for an instance already on its way out. The simulator refuses,
          // so that node-manager, which must not depend on any answer, is caught if it ever asks.
          throw asgError(
            'ValidationError',
            `The instance ${inst.id} is ${inst.asgLifecycle} (simulator: AWS documents no answer to this request; ` +
              `callers must skip instances their own read shows leaving).`,
          );
        }
        const decrement = input.ShouldDecrementDesiredCapacity === true;
        if (decrement && asg.desired <= asg.min) {
          throw asgError(
            'ValidationError',
            `Currently, desiredSize equals minSize (${asg.min}). Terminating instance without replacement will ` +
              `violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
          );
        }
        if (decrement) {
          host.noteAsgChange(asg.name, 'terminateWithDecrement', asg.desired, asg.desired - 1);
          asg.desired -= 1;
        }
        const cause = decrement
          ? `instance ${inst.id} was taken out of service in response to a user request, shrinking the capacity ` +
            `from ${asg.desired + 1} to ${asg.desired}.`
          : `instance ${inst.id} was taken out of service in response to a user request.`;
        const act = host.region.terminate(inst, cause);
        host.region.reconcile(asg);
        return { Activity: act ? toActivity(act) : undefined };
      },
      (input) => `instance/${input.InstanceId} decrement=${input.ShouldDecrementDesiredCapacity}`,
    ),
    operation(
      'DetachInstances',
      DetachInstancesCommand,
      (input) => {
        const asg = asgOf(input.AutoScalingGroupName);
        const ids: string[] = input.InstanceIds ?? [];
        if (ids.length > 20)
          throw asgError('ValidationError', 'The number of instance ids that may be passed in is limited to 20.');
        const decrement = input.ShouldDecrementDesiredCapacity;
        if (decrement === undefined) throw asgError('ValidationError', 'ShouldDecrementDesiredCapacity is required.');
        const insts: SimInstance[] = ids.map((id) => {
          const inst = host.region.instances.get(id);
          if (!inst || inst.asg !== asg.name)
            throw asgError('ValidationError', `The instance ${id} is not part of Auto Scaling group ${asg.name}.`);
          if (inst.asgLifecycle !== 'InService' && inst.asgLifecycle !== 'Standby')
            throw asgError('ValidationError', `The instance ${id} is not in InService or Standby.`);
          return inst;
        });
        if (decrement && asg.desired - insts.length < asg.min) {
          throw asgError(
            'ValidationError',
            `Detaching ${insts.length} instance(s) with ShouldDecrementDesiredCapacity would take the desired ` +
              `capacity of ${asg.name} to ${asg.desired - insts.length}, below its min size ${asg.min}; please ` +
              `update the AutoScalingGroup sizes appropriately.`,
          );
        }
        if (decrement) {
          host.noteAsgChange(asg.name, 'desired', asg.desired, asg.desired - insts.length);
          asg.desired -= insts.length;
        }
        const activities = insts.map((inst) => host.region.detach(asg, inst, decrement));
        host.region.reconcile(asg);
        return { Activities: activities.map(toActivity) };
      },
      (input) =>
        `asg/${input.AutoScalingGroupName} instances=${(input.InstanceIds ?? []).join(',')} ` +
        `decrement=${input.ShouldDecrementDesiredCapacity}`,
    ),
    operation('DescribeAutoScalingInstances', DescribeAutoScalingInstancesCommand, (input) => {
      const ids: string[] | undefined = input.InstanceIds;
      const max = input.MaxRecords ?? 50;
      if (max < 1 || max > 50) throw maxRecordsError(max, 50);
      if (ids && ids.length > 50)
        throw asgError('ValidationError', 'The number of instance ids that may be passed in is limited to 50.');
      const region = host.region;
      const members = [...region.asgs.values()]
        .flatMap((a) => a.instanceIds.map((id) => region.instances.get(id)!))
        .filter((i) => i.asg && i.asgLifecycle !== undefined && (!ids || ids.includes(i.id)))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      const p = page(members, max, input.NextToken, { ids }, invalidAsgToken);
      return {
        AutoScalingInstances: p.items.map((i) => ({
          InstanceId: i.id,
          InstanceType: i.instanceType,
          AutoScalingGroupName: i.asg!,
          AvailabilityZone: i.zone,
          LifecycleState: i.asgLifecycle!,
          // This call spells health in capitals, unlike DescribeAutoScalingGroups.
          HealthStatus: i.unhealthy ? 'UNHEALTHY' : 'HEALTHY',
          ProtectedFromScaleIn: false,
        })),
        NextToken: p.next,
      };
    }),
    operation('DescribeLifecycleHooks', DescribeLifecycleHooksCommand, (input) => {
      const asg = asgOf(input.AutoScalingGroupName);
      const names: string[] | undefined = input.LifecycleHookNames;
      if (names && names.length > 50)
        throw asgError('ValidationError', 'The number of lifecycle hook names that may be passed in is limited to 50.');
      return {
        LifecycleHooks: asg.hooks
          .filter((h) => !names || names.includes(h.name))
          .map((h) => ({
            LifecycleHookName: h.name,
            AutoScalingGroupName: asg.name,
            LifecycleTransition: h.transition,
            HeartbeatTimeout: h.heartbeatTimeout,
            GlobalTimeout: Math.min(100 * h.heartbeatTimeout, 172_800),
            DefaultResult: h.defaultResult,
          })),
      };
    }),
    operation(
      'CompleteLifecycleAction',
      CompleteLifecycleActionCommand,
      (input) => {
        const result = input.LifecycleActionResult;
        if (result !== 'CONTINUE' && result !== 'ABANDON')
          throw asgError(
            'ValidationError',
            `Invalid lifecycle action result: ${result}. Valid values are CONTINUE and ABANDON.`,
          );
        const { inst } = waiting(input);
        host.region.endLifecycleAction(inst, result);
        return {};
      },
      (input) =>
        `instance/${input.InstanceId ?? input.LifecycleActionToken} ${input.LifecycleHookName} ${input.LifecycleActionResult}`,
    ),
    operation(
      'RecordLifecycleActionHeartbeat',
      RecordLifecycleActionHeartbeatCommand,
      (input) => {
        const { action } = waiting(input);
        // A heartbeat restarts the heartbeat timeout; the global timeout stands.
        action.expiresAt = host.now() + action.hook.heartbeatTimeout * 1000;
        action.heartbeats += 1;
        return {};
      },
      (input) => `instance/${input.InstanceId ?? input.LifecycleActionToken} ${input.LifecycleHookName}`,
    ),
  ];
}
