import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { Ec2Port } from '../../lambdas/aws/ec2';
import { StepFunctionsPort } from '../../lambdas/aws/stepfunctions';

describe('Ec2Port call shapes', () => {
  const mock = mockClient(EC2Client);
  const port = new Ec2Port(new EC2Client({}));
  beforeEach(() => mock.reset());

  it('describes instances by id filter in batches of 200, paging by NextToken', async () => {
    mock.on(DescribeInstancesCommand).callsFake((input) => {
      const ids: string[] = input.Filters[0].Values;
      return {
        Reservations: [
          {
            Instances: ids.slice(0, 1).map((id) => ({
              InstanceId: id,
              InstanceType: 'm5.large',
              InstanceLifecycle: 'spot',
              LaunchTime: new Date(7),
              Placement: { AvailabilityZone: 'az-a' },
              State: { Name: 'running' },
              PrivateDnsName: 'ip-1',
            })),
          },
        ],
        NextToken: input.NextToken ? undefined : 'p2',
      };
    });
    const ids = Array.from({ length: 450 }, (_, i) => `i-${i}`);
    const out = await port.describeInstances(ids);
    const calls = mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.Filters?.[0].Name, c.Filters?.[0].Values?.length, c.MaxResults, c.NextToken])).toEqual([
      ['instance-id', 200, 1000, undefined],
      ['instance-id', 200, 1000, 'p2'],
      ['instance-id', 200, 1000, undefined],
      ['instance-id', 200, 1000, 'p2'],
      ['instance-id', 50, 1000, undefined],
      ['instance-id', 50, 1000, 'p2'],
    ]);
    expect(calls.every((c) => c.InstanceIds === undefined)).toBe(true);
    expect(out[0]).toEqual({
      instanceId: 'i-0',
      zone: 'az-a',
      instanceType: 'm5.large',
      lifecycle: 'spot',
      launchTime: 7,
      state: 'running',
      privateDnsName: 'ip-1',
      tags: {},
    });
  });

  it('makes no call for no ids, and terminates in one call', async () => {
    mock.on(TerminateInstancesCommand).resolves({});
    expect(await port.describeInstances([])).toEqual([]);
    await port.terminateInstances(['i-1', 'i-2']);
    expect(mock.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
    expect(mock.commandCalls(TerminateInstancesCommand)[0].args[0].input).toEqual({ InstanceIds: ['i-1', 'i-2'] });
  });
});

describe('StepFunctionsPort call shapes', () => {
  const mock = mockClient(SFNClient);
  const port = new StepFunctionsPort(new SFNClient({}));
  beforeEach(() => mock.reset());

  it('says undefined for an execution Step Functions does not know', async () => {
    mock
      .on(DescribeExecutionCommand, { executionArn: 'gone' })
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    mock.on(DescribeExecutionCommand, { executionArn: 'there' }).resolves({
      executionArn: 'there',
      status: 'ABORTED',
      startDate: new Date(1),
      stopDate: new Date(2),
      stateMachineArn: 'sm',
      input: '{}',
    });
    expect(await port.describeExecution('gone')).toBeUndefined();
    expect(await port.describeExecution('there')).toEqual({
      executionArn: 'there',
      status: 'ABORTED',
      startDate: 1,
      stopDate: 2,
    });
  });

  it('starts an execution by name; the same name again starts nothing', async () => {
    mock.on(StartExecutionCommand, { name: 'spot-1' }).resolves({ executionArn: 'sm:spot-1', startDate: new Date(3) });
    mock
      .on(StartExecutionCommand, { name: 'spot-2' })
      .rejects(new ExecutionAlreadyExists({ message: "Execution Already Exists: 'sm:spot-2'", $metadata: {} }));
    expect(await port.startExecution('sm', 'spot-1', '{}')).toEqual({ executionArn: 'sm:spot-1', started: true });
    expect(await port.startExecution('sm', 'spot-2', '{}')).toEqual({ started: false });
    expect(mock.commandCalls(StartExecutionCommand)[0].args[0].input).toEqual({
      stateMachineArn: 'sm',
      name: 'spot-1',
      input: '{}',
    });
  });
});
