import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeScalingActivitiesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type Activity,
  type AutoScalingGroup,
  type Filter,
} from '@aws-sdk/client-auto-scaling';
import {
  AwsValidationError,
  isLeavingAsgState,
  ResourceNotFoundError,
  type ActivityStatus,
  type AsgState,
  type ScalingActivity,
} from '../core';
import { call, chunks } from './errors';

/** DescribeAutoScalingGroups takes at most 100 names and returns at most 100 records a page. */
export const ASG_NAMES_PER_CALL = 100;
/** DetachInstances, EnterStandby and ExitStandby take at most 20 instance ids. */
export const DETACH_PER_CALL = 20;
/** DescribeAutoScalingInstances takes at most 50 instance ids. */
export const INSTANCES_PER_DESCRIBE = 50;

/** Where Auto Scaling says an instance is: its group and lifecycle state. */
export interface AsgMembership {
  readonly instanceId: string;
  readonly asg: string;
  readonly lifecycleState: string;
}

/** A lifecycle hook as Auto Scaling keeps it. */
export interface HookInfo {
  readonly heartbeatTimeoutSeconds: number;
  readonly globalTimeoutSeconds: number;
  readonly defaultResult: string;
}

/** How a node group names its ASGs: by name, or by tags (every tag must match; a value of `undefined` matches any). */
export type AsgSelector =
  { readonly names: readonly string[] } | { readonly tags: Readonly<Record<string, string | undefined>> };

function toAsgState(g: AutoScalingGroup): AsgState {
  return {
    name: g.AutoScalingGroupName ?? '',
    zones: g.AvailabilityZones ?? [],
    desired: g.DesiredCapacity ?? 0,
    min: g.MinSize ?? 0,
    max: g.MaxSize ?? 0,
    instances: (g.Instances ?? []).map((i) => ({
      instanceId: i.InstanceId ?? '',
      zone: i.AvailabilityZone ?? '',
      lifecycleState: i.LifecycleState ?? 'Pending',
      healthStatus: i.HealthStatus ?? 'Healthy',
      instanceType: i.InstanceType,
      protectedFromScaleIn: i.ProtectedFromScaleIn,
      ...(i.LaunchTemplate?.LaunchTemplateId
        ? { launchTemplate: { id: i.LaunchTemplate.LaunchTemplateId, version: i.LaunchTemplate.Version ?? '' } }
        : {}),
    })),
    ...templateOf(g),
    activities: [],
    tags: Object.fromEntries((g.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    capacityRebalance: g.CapacityRebalance === true,
  };
}

/** The group's launch template, its own or its mixed instances policy's (a version absent is the default). */
function templateOf(g: AutoScalingGroup): Pick<AsgState, 'launchTemplate'> {
  const t = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  return t?.LaunchTemplateId ? { launchTemplate: { id: t.LaunchTemplateId, version: t.Version ?? '$Default' } } : {};
}

function toActivity(a: Activity): ScalingActivity {
  return {
    activityId: a.ActivityId ?? '',
    statusCode: (a.StatusCode ?? 'InProgress') as ActivityStatus,
    description: a.Description ?? '',
    statusMessage: a.StatusMessage,
    startTime: a.StartTime?.getTime() ?? 0,
    endTime: a.EndTime?.getTime(),
  };
}

const NO_MANAGED_INSTANCE = /No managed instance found|not found/i;

/** The Auto Scaling calls node-manager makes, and nothing else. */
export class AutoScalingPort {
  constructor(private readonly client: AutoScalingClient) {}

  /** The groups, sorted by name; unknown names are simply absent (as AWS answers). */
  async describeGroups(selector: AsgSelector): Promise<AsgState[]> {
    const groups: AsgState[] = [];
    if ('names' in selector) {
      for (const batch of chunks([...new Set(selector.names)], ASG_NAMES_PER_CALL)) {
        groups.push(...(await this.pages({ AutoScalingGroupNames: batch })));
      }
    } else {
      const filters: Filter[] = Object.entries(selector.tags).map(([k, v]) =>
        v === undefined ? { Name: 'tag-key', Values: [k] } : { Name: `tag:${k}`, Values: [v] },
      );
      groups.push(...(await this.pages({ Filters: filters })));
    }
    return groups.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async pages(input: { AutoScalingGroupNames?: string[]; Filters?: Filter[] }): Promise<AsgState[]> {
    const out: AsgState[] = [];
    let NextToken: string | undefined;
    do {
      const page = await call('DescribeAutoScalingGroups', () =>
        this.client.send(new DescribeAutoScalingGroupsCommand({ ...input, MaxRecords: ASG_NAMES_PER_CALL, NextToken })),
      );
      out.push(...(page.AutoScalingGroups ?? []).map(toAsgState));
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  }

  /** The newest `maxRecords` activities of one group (AWS returns newest first). */
  async describeActivities(asgName: string, maxRecords = 20): Promise<ScalingActivity[]> {
    const page = await call('DescribeScalingActivities', () =>
      this.client.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: asgName, MaxRecords: maxRecords })),
    );
    return (page.Activities ?? []).map(toActivity);
  }

  /** Which group each instance is in, and in what state; an instance in no group is absent (as AWS answers). */
  async describeInstances(instanceIds: readonly string[]): Promise<AsgMembership[]> {
    const out: AsgMembership[] = [];
    for (const batch of chunks([...new Set(instanceIds)], INSTANCES_PER_DESCRIBE)) {
      let NextToken: string | undefined;
      do {
        const page = await call('DescribeAutoScalingInstances', () =>
          this.client.send(
            new DescribeAutoScalingInstancesCommand({
              InstanceIds: batch,
              MaxRecords: INSTANCES_PER_DESCRIBE,
              NextToken,
            }),
          ),
        );
        for (const i of page.AutoScalingInstances ?? [])
          out.push({
            instanceId: i.InstanceId ?? '',
            asg: i.AutoScalingGroupName ?? '',
            lifecycleState: i.LifecycleState ?? '',
          });
        NextToken = page.NextToken;
      } while (NextToken);
    }
    return out;
  }

  /** One lifecycle hook of a group, or undefined when the group has no hook of that name. */
  async describeHook(asgName: string, hookName: string): Promise<HookInfo | undefined> {
    const out = await call('DescribeLifecycleHooks', () =>
      this.client.send(
        new DescribeLifecycleHooksCommand({ AutoScalingGroupName: asgName, LifecycleHookNames: [hookName] }),
      ),
    );
    const h = (out.LifecycleHooks ?? []).find((x) => x.LifecycleHookName === hookName);
    if (!h) return undefined;
    return {
      heartbeatTimeoutSeconds: h.HeartbeatTimeout ?? 3600,
      globalTimeoutSeconds: h.GlobalTimeout ?? 172_800,
      defaultResult: h.DefaultResult ?? 'ABANDON',
    };
  }

  /**
   * Groups with their recent activities: one describe per 100 names, plus one activity call per
   * group that is not whole (desired ≠ its active instances). A whole group has launched what it
   * was asked to, so its history cannot make it unhealthy; skipping it saves most calls.
   */
  async readGroups(selector: AsgSelector, activitiesPerGroup = 20): Promise<AsgState[]> {
    const groups = await this.describeGroups(selector);
    return Promise.all(
      groups.map(async (g) => {
        const active = g.instances.filter((i) => !isLeavingAsgState(i.lifecycleState)).length;
        return active === g.desired
          ? g
          : { ...g, activities: await this.describeActivities(g.name, activitiesPerGroup) };
      }),
    );
  }

  async setDesiredCapacity(asgName: string, desired: number): Promise<void> {
    // HonorCooldown false: node-manager keeps its own per-ASG cool-down.
    await call('SetDesiredCapacity', () =>
      this.client.send(
        new SetDesiredCapacityCommand({
          AutoScalingGroupName: asgName,
          DesiredCapacity: desired,
          HonorCooldown: false,
        }),
      ),
    );
  }

  async updateSize(
    asgName: string,
    size: { readonly min?: number; readonly max?: number; readonly desired?: number },
  ): Promise<void> {
    await call('UpdateAutoScalingGroup', () =>
      this.client.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: asgName,
          MinSize: size.min,
          MaxSize: size.max,
          DesiredCapacity: size.desired,
        }),
      ),
    );
  }

  /**
   * Terminates one instance through its ASG. Without decrement the ASG launches a replacement.
   * Throws {@link ResourceNotFoundError} when the instance is no longer in any ASG, so a retried
   * step can treat "already gone" as done.
   */
  async terminateInstance(instanceId: string, decrementDesired: boolean): Promise<ScalingActivity | undefined> {
    try {
      const out = await call('TerminateInstanceInAutoScalingGroup', () =>
        this.client.send(
          new TerminateInstanceInAutoScalingGroupCommand({
            InstanceId: instanceId,
            ShouldDecrementDesiredCapacity: decrementDesired,
          }),
        ),
      );
      return out.Activity ? toActivity(out.Activity) : undefined;
    } catch (e) {
      if (e instanceof AwsValidationError && NO_MANAGED_INSTANCE.test(e.message)) {
        throw new ResourceNotFoundError('instance', `instance ${instanceId} is in no Auto Scaling group`, { cause: e });
      }
      throw e;
    }
  }

  /**
   * Ends a lifecycle action (the instance leaves `Terminating:Wait`). False when none is waiting
   * (completed before, timed out, or the instance is gone): the answer AWS gives is a
   * ValidationError "No active Lifecycle Action found ...".
   */
  async completeLifecycleAction(
    hook: { readonly asg: string; readonly name: string },
    instanceId: string,
    result: 'CONTINUE' | 'ABANDON',
  ): Promise<boolean> {
    return this.lifecycle('CompleteLifecycleAction', () =>
      this.client.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: hook.asg,
          LifecycleHookName: hook.name,
          InstanceId: instanceId,
          LifecycleActionResult: result,
        }),
      ),
    );
  }

  /** Restarts the hook's heartbeat timeout; false when no action is waiting any more. */
  async recordHeartbeat(hook: { readonly asg: string; readonly name: string }, instanceId: string): Promise<boolean> {
    return this.lifecycle('RecordLifecycleActionHeartbeat', () =>
      this.client.send(
        new RecordLifecycleActionHeartbeatCommand({
          AutoScalingGroupName: hook.asg,
          LifecycleHookName: hook.name,
          InstanceId: instanceId,
        }),
      ),
    );
  }

  private async lifecycle(operation: string, send: () => Promise<unknown>): Promise<boolean> {
    try {
      await call(operation, send);
      return true;
    } catch (e) {
      if (e instanceof AwsValidationError && /No active Lifecycle Action found/i.test(e.message)) return false;
      throw e;
    }
  }

  /** Detaches instances (20 a call); without decrement the ASG launches replacements. */
  detachInstances(
    asgName: string,
    instanceIds: readonly string[],
    decrementDesired: boolean,
  ): Promise<ScalingActivity[]> {
    return this.perTwenty('DetachInstances', instanceIds, (batch) =>
      this.client.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: asgName,
          InstanceIds: batch,
          ShouldDecrementDesiredCapacity: decrementDesired,
        }),
      ),
    );
  }

  /**
   * Moves InService instances to Standby: still in their group and running, out of its load
   * balancers and no longer counted. Without decrement the group launches a replacement for each;
   * with it, desired drops (not below min).
   */
  enterStandby(asgName: string, instanceIds: readonly string[], decrementDesired: boolean): Promise<ScalingActivity[]> {
    return this.perTwenty('EnterStandby', instanceIds, (batch) =>
      this.client.send(
        new EnterStandbyCommand({
          AutoScalingGroupName: asgName,
          InstanceIds: batch,
          ShouldDecrementDesiredCapacity: decrementDesired,
        }),
      ),
    );
  }

  /** Moves Standby instances back into service (through Pending and the launch hook); desired rises by one each. */
  exitStandby(asgName: string, instanceIds: readonly string[]): Promise<ScalingActivity[]> {
    return this.perTwenty('ExitStandby', instanceIds, (batch) =>
      this.client.send(new ExitStandbyCommand({ AutoScalingGroupName: asgName, InstanceIds: batch })),
    );
  }

  /** An instance-list call AWS takes 20 ids at a time (DetachInstances, EnterStandby, ExitStandby): its activities. */
  private async perTwenty(
    operation: string,
    instanceIds: readonly string[],
    send: (batch: string[]) => Promise<{ Activities?: Activity[] }>,
  ): Promise<ScalingActivity[]> {
    const activities: ScalingActivity[] = [];
    for (const batch of chunks(instanceIds, DETACH_PER_CALL)) {
      const out = await call(operation, () => send(batch));
      activities.push(...(out.Activities ?? []).map(toActivity));
    }
    return activities;
  }
}
