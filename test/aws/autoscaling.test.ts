import {
  AutoScalingClient,
  AutoScalingServiceException,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  DetachInstancesCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingPort } from '../../lambdas/aws/autoscaling';
import { AwsThrottledError, AwsUnavailableError, AwsValidationError, ResourceNotFoundError } from '../../lambdas/core';

const mock = mockClient(AutoScalingClient);
const port = new AutoScalingPort(new AutoScalingClient({}));
const sdkError = (name: string, message: string, status = 400) =>
  new AutoScalingServiceException({
    name,
    message,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

beforeEach(() => mock.reset());

describe('AutoScalingPort call shapes', () => {
  it('describes groups by name in batches of 100, following NextToken', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `asg-${String(i).padStart(3, '0')}`);
    mock.on(DescribeAutoScalingGroupsCommand).callsFake((input) => {
      const batch: string[] = input.AutoScalingGroupNames;
      // AWS may page even within a batch: return the first half with a token, then the rest.
      const half = Math.ceil(batch.length / 2);
      const part = input.NextToken ? batch.slice(half) : batch.slice(0, half);
      return {
        AutoScalingGroups: part.map((n) => ({
          AutoScalingGroupName: n,
          MinSize: 0,
          MaxSize: 1,
          DesiredCapacity: 1,
          Instances: [],
          AvailabilityZones: ['az'],
          Tags: [{ Key: 'k', Value: 'v' }],
        })),
        NextToken: input.NextToken ? undefined : 'more',
      };
    });
    const groups = await port.describeGroups({ names: [...names, names[0]] });
    expect(groups.map((g) => g.name)).toEqual(names);
    const calls = mock.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(6);
    expect(calls.map((c) => [c.AutoScalingGroupNames?.length, c.MaxRecords, c.NextToken])).toEqual([
      [100, 100, undefined],
      [100, 100, 'more'],
      [100, 100, undefined],
      [100, 100, 'more'],
      [50, 100, undefined],
      [50, 100, 'more'],
    ]);
    expect(groups[0].tags).toEqual({ k: 'v' });
  });

  it('describes groups by tags with tag:key and tag-key filters', async () => {
    mock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    await port.describeGroups({ tags: { 'node-manager.io/group': 'nodes', 'kubernetes.io/cluster/c': undefined } });
    expect(mock.commandCalls(DescribeAutoScalingGroupsCommand)[0].args[0].input).toEqual({
      Filters: [
        { Name: 'tag:node-manager.io/group', Values: ['nodes'] },
        { Name: 'tag-key', Values: ['kubernetes.io/cluster/c'] },
      ],
      MaxRecords: 100,
      NextToken: undefined,
    });
  });

  it('reads the newest activities of each group that is not whole, and converts times', async () => {
    const whole = {
      AutoScalingGroupName: 'w',
      MinSize: 0,
      MaxSize: 1,
      DesiredCapacity: 1,
      AvailabilityZones: ['az'],
      DefaultCooldown: 300,
      HealthCheckType: 'EC2',
      CreatedTime: new Date(0),
      Instances: [
        {
          InstanceId: 'i-1',
          AvailabilityZone: 'az',
          LifecycleState: 'InService' as const,
          HealthStatus: 'Healthy',
          ProtectedFromScaleIn: false,
        },
      ],
    };
    mock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'a',
          MinSize: 0,
          MaxSize: 1,
          DesiredCapacity: 1,
          AvailabilityZones: ['az'],
          DefaultCooldown: 300,
          HealthCheckType: 'EC2',
          CreatedTime: new Date(0),
        },
        whole,
      ],
    });
    mock.on(DescribeScalingActivitiesCommand).resolves({
      Activities: [
        {
          ActivityId: 'x',
          AutoScalingGroupName: 'a',
          Cause: 'c',
          StartTime: new Date(1000),
          EndTime: new Date(2000),
          StatusCode: 'Failed',
          StatusMessage: 'Could not launch Spot Instances.',
          Description: 'Launching',
        },
      ],
    });
    const [g, w] = await port.readGroups({ names: ['a', 'w'] }, 10);
    expect(mock.commandCalls(DescribeScalingActivitiesCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'a', MaxRecords: 10 },
    ]);
    expect(w.activities).toEqual([]);
    expect(g.activities).toEqual([
      {
        activityId: 'x',
        statusCode: 'Failed',
        description: 'Launching',
        statusMessage: 'Could not launch Spot Instances.',
        startTime: 1000,
        endTime: 2000,
      },
    ]);
  });

  it('sets desired capacity without honouring the ASG cool-down, and updates sizes', async () => {
    mock.on(SetDesiredCapacityCommand).resolves({});
    mock.on(UpdateAutoScalingGroupCommand).resolves({});
    await port.setDesiredCapacity('a', 3);
    await port.updateSize('a', { max: 4, desired: 4 });
    expect(mock.commandCalls(SetDesiredCapacityCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'a',
      DesiredCapacity: 3,
      HonorCooldown: false,
    });
    expect(mock.commandCalls(UpdateAutoScalingGroupCommand)[0].args[0].input).toEqual({
      AutoScalingGroupName: 'a',
      MinSize: undefined,
      MaxSize: 4,
      DesiredCapacity: 4,
    });
  });

  it('terminates with or without decrement, and reports a non-member as not found', async () => {
    mock.on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: 'i-1' }).resolves({
      Activity: {
        ActivityId: 'x',
        AutoScalingGroupName: 'a',
        Cause: 'c',
        StartTime: new Date(5),
        StatusCode: 'InProgress',
        Description: 'Terminating EC2 instance: i-1',
      },
    });
    mock
      .on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: 'i-2' })
      .rejects(sdkError('ValidationError', 'Instance Id not found - No managed instance found for instance ID: i-2'));
    mock
      .on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: 'i-3' })
      .rejects(
        sdkError(
          'ValidationError',
          "Currently, desiredSize equals minSize (1). Terminating instance without replacement will violate group's min size constraint.",
        ),
      );
    await expect(port.terminateInstance('i-1', false)).resolves.toMatchObject({
      activityId: 'x',
      statusCode: 'InProgress',
    });
    expect(mock.commandCalls(TerminateInstanceInAutoScalingGroupCommand)[0].args[0].input).toEqual({
      InstanceId: 'i-1',
      ShouldDecrementDesiredCapacity: false,
    });
    await expect(port.terminateInstance('i-2', true)).rejects.toBeInstanceOf(ResourceNotFoundError);
    await expect(port.terminateInstance('i-3', true)).rejects.toBeInstanceOf(AwsValidationError);
  });

  it('detaches at most 20 instances a call', async () => {
    mock.on(DetachInstancesCommand).resolves({ Activities: [] });
    const ids = Array.from({ length: 45 }, (_, i) => `i-${i}`);
    await port.detachInstances('a', ids, false);
    const calls = mock.commandCalls(DetachInstancesCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.InstanceIds?.length)).toEqual([20, 20, 5]);
    expect(calls[0]).toMatchObject({ AutoScalingGroupName: 'a', ShouldDecrementDesiredCapacity: false });
  });

  it('maps throttling and server faults to retryable domain errors and rethrows the rest', async () => {
    mock.on(SetDesiredCapacityCommand, { AutoScalingGroupName: 't' }).rejects(sdkError('Throttling', 'Rate exceeded'));
    mock.on(SetDesiredCapacityCommand, { AutoScalingGroupName: 's' }).rejects(sdkError('InternalFailure', 'boom', 500));
    mock
      .on(SetDesiredCapacityCommand, { AutoScalingGroupName: 'c' })
      .rejects(sdkError('ScalingActivityInProgressFault', 'busy'));
    const odd = sdkError('AccessDenied', 'not allowed', 403);
    mock.on(SetDesiredCapacityCommand, { AutoScalingGroupName: 'x' }).rejects(odd);
    const t = await port.setDesiredCapacity('t', 1).catch((e: unknown) => e);
    expect(t).toBeInstanceOf(AwsThrottledError);
    expect(t).toMatchObject({
      name: 'AwsThrottled',
      retryable: true,
      message: 'SetDesiredCapacity: Throttling: Rate exceeded',
    });
    await expect(port.setDesiredCapacity('s', 1)).rejects.toBeInstanceOf(AwsUnavailableError);
    await expect(port.setDesiredCapacity('c', 1)).rejects.toBeInstanceOf(AwsUnavailableError);
    await expect(port.setDesiredCapacity('x', 1)).rejects.toBe(odd);
  });
});
