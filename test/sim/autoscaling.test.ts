import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { INSUFFICIENT_CAPACITY } from '../../sim/faults';
import { Simulator } from '../../sim/simulator';

const ZONES = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];

describe('simulated Auto Scaling and EC2, as the SDK sees them', () => {
  let sim: Simulator;
  const asg = new AutoScalingClient({});
  const ec2 = new EC2Client({});
  let names: string[];

  beforeEach(async () => {
    sim = await Simulator.start({ timing: { bootSeconds: 90, joinSeconds: 60, shutdownSeconds: 30 } });
    names = sim.addNodeGroup({ name: 'nodes', role: 'worker', zones: ZONES, perZone: 1, maxPerZone: 2, minPerZone: 1 });
  });
  afterEach(() => sim.stop());

  const group = async (name: string) =>
    (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups![0];

  it('launches on a desired increase: Pending, InService after boot, node Ready after join', async () => {
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: names[0], DesiredCapacity: 2 }));
    let g = await group(names[0]);
    const fresh = g.Instances!.find((i) => i.LifecycleState === 'Pending')!;
    expect(fresh).toBeDefined();
    expect(sim.cluster.nodeOf(fresh.InstanceId!)).toBeUndefined();
    sim.advance(90);
    g = await group(names[0]);
    expect(g.Instances!.find((i) => i.InstanceId === fresh.InstanceId)!.LifecycleState).toBe('InService');
    expect(sim.cluster.nodeOf(fresh.InstanceId!)?.ready).toBe(false);
    sim.advance(60);
    expect(sim.cluster.nodeOf(fresh.InstanceId!)?.ready).toBe(true);
    const acts = await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: names[0] }));
    expect(acts.Activities![0]).toMatchObject({
      StatusCode: 'Successful',
      Description: `Launching a new EC2 instance: ${fresh.InstanceId}`,
    });
  });

  it('refuses a desired capacity outside MinSize/MaxSize with the real ValidationError', async () => {
    await expect(
      asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: names[0], DesiredCapacity: 3 })),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'New SetDesiredCapacity value 3 is above max value 2 for the AutoScalingGroup.',
    });
    await expect(
      asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: names[0], DesiredCapacity: 0 })),
    ).rejects.toMatchObject({
      message: 'New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup.',
    });
    await expect(
      asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: names[0], MaxSize: 1, DesiredCapacity: 2 })),
    ).rejects.toMatchObject({
      message: 'Desired capacity:2 must be between the specified min size:1 and max size:1',
    });
    await expect(
      asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'nope', DesiredCapacity: 1 })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('replaces an instance terminated without decrement, and shrinks with decrement', async () => {
    const victim = (await group(names[0])).Instances![0].InstanceId!;
    const out = await asg.send(
      new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim, ShouldDecrementDesiredCapacity: false }),
    );
    expect(out.Activity?.Description).toBe(`Terminating EC2 instance: ${victim}`);
    let g = await group(names[0]);
    expect(g.DesiredCapacity).toBe(1);
    expect(g.Instances!.map((i) => [i.InstanceId === victim, i.LifecycleState])).toEqual([
      [true, 'Terminating'],
      [false, 'Pending'],
    ]);
    expect(sim.cluster.nodeOf(victim)?.ready).toBe(false);
    sim.advance(30);
    g = await group(names[0]);
    expect(g.Instances!.map((i) => i.InstanceId)).not.toContain(victim);
    expect(sim.cluster.nodeOf(victim)).toBeUndefined();
    const ec2View = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim] }));
    expect(ec2View.Reservations![0].Instances![0].State?.Name).toBe('terminated');
    // at its MinSize, a decrement is refused with AWS's words
    sim.advance(150);
    const last = (await group(names[0])).Instances![0].InstanceId!;
    await expect(
      asg.send(
        new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: last, ShouldDecrementDesiredCapacity: true }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(
        "Terminating instance without replacement will violate group's min size constraint",
      ),
    });
    await expect(
      asg.send(
        new TerminateInstanceInAutoScalingGroupCommand({
          InstanceId: 'i-0000000000000dead',
          ShouldDecrementDesiredCapacity: false,
        }),
      ),
    ).rejects.toMatchObject({
      message: 'Instance Id not found - No managed instance found for instance ID: i-0000000000000dead',
    });
    // terminated instances stay visible in EC2 for about an hour
    sim.advance(3600);
    await expect(ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim] }))).rejects.toMatchObject({
      name: 'InvalidInstanceID.NotFound',
    });
  });

  it('detaches without decrement: the instance keeps running outside the ASG, which launches a replacement', async () => {
    const victim = (await group(names[1])).Instances![0].InstanceId!;
    const out = await asg.send(
      new DetachInstancesCommand({
        AutoScalingGroupName: names[1],
        InstanceIds: [victim],
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    expect(out.Activities?.map((a) => [a.Description, a.StatusCode])).toEqual([
      [`Detaching EC2 instance: ${victim}`, 'InProgress'],
    ]);
    let g = await group(names[1]);
    // Detaching first (no longer counted: the replacement launches at once), then out of the group.
    expect(g.Instances!.map((i) => [i.InstanceId === victim, i.LifecycleState])).toEqual([
      [true, 'Detaching'],
      [false, 'Pending'],
    ]);
    await expect(
      asg.send(
        new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim, ShouldDecrementDesiredCapacity: false }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    sim.advance(10);
    g = await group(names[1]);
    expect(g.Instances!.map((i) => i.InstanceId)).not.toContain(victim);
    expect(g.Instances!.map((i) => i.LifecycleState)).toEqual(['Pending']);
    const view = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim] }));
    expect(view.Reservations![0].Instances![0].State?.Name).toBe('running');
    await expect(
      asg.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: names[1],
          InstanceIds: [victim],
          ShouldDecrementDesiredCapacity: false,
        }),
      ),
    ).rejects.toMatchObject({
      message: `The instance ${victim} is not part of Auto Scaling group ${names[1]}.`,
    });
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [victim] }));
    sim.advance(30);
    expect(sim.cluster.nodeOf(victim)).toBeUndefined();
  });

  it('refuses a detach below MinSize and one of an instance not InService, with AWS words', async () => {
    const [victim] = (await group(names[1])).Instances!.map((i) => i.InstanceId!);
    await expect(
      asg.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: names[1],
          InstanceIds: [victim],
          ShouldDecrementDesiredCapacity: true,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/below its min size 1; please update the AutoScalingGroup sizes appropriately\.$/),
    });
    await asg.send(
      new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim, ShouldDecrementDesiredCapacity: false }),
    );
    await expect(
      asg.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: names[1],
          InstanceIds: [victim],
          ShouldDecrementDesiredCapacity: false,
        }),
      ),
    ).rejects.toMatchObject({
      message: `The instance ${victim} is not in InService or Standby.`,
    });
  });

  it('Standby as the user guide describes it: out of the count (a replacement launched), back through Pending with desired +1', async () => {
    const [inst] = (await group(names[0])).Instances!;
    // With decrement below MinSize: refused; without decrement: the group launches a replacement.
    await expect(
      asg.send(
        new EnterStandbyCommand({
          AutoScalingGroupName: names[0],
          InstanceIds: [inst.InstanceId!],
          ShouldDecrementDesiredCapacity: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('min-size=1') });
    const out = await asg.send(
      new EnterStandbyCommand({
        AutoScalingGroupName: names[0],
        InstanceIds: [inst.InstanceId!],
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    expect(out.Activities![0].Description).toBe(`Moving EC2 instance to Standby: ${inst.InstanceId}`);
    sim.advance(10);
    let g = await group(names[0]);
    expect(g.DesiredCapacity).toBe(1);
    expect(g.Instances!.map((i) => i.LifecycleState).sort()).toEqual(['Pending', 'Standby']);
    sim.advance(150);
    // Out of Standby: desired 2 is within MaxSize 2; the instance passes Pending to InService.
    await asg.send(new ExitStandbyCommand({ AutoScalingGroupName: names[0], InstanceIds: [inst.InstanceId!] }));
    g = await group(names[0]);
    expect(g.DesiredCapacity).toBe(2);
    expect(g.Instances!.find((i) => i.InstanceId === inst.InstanceId)!.LifecycleState).toBe('Pending');
    sim.advance(10);
    g = await group(names[0]);
    expect(g.Instances!.every((i) => i.LifecycleState === 'InService')).toBe(true);
    // An instance not in Standby cannot leave it; one not InService cannot enter it.
    await expect(
      asg.send(new ExitStandbyCommand({ AutoScalingGroupName: names[0], InstanceIds: [inst.InstanceId!] })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('refuses more than 200 filter values on one DescribeInstances call, over all its filters', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    await expect(
      ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'instance-id', Values: ids },
            { Name: 'availability-zone', Values: ids.slice(0, 51) },
          ],
        }),
      ),
    ).rejects.toMatchObject({
      name: 'FilterLimitExceeded',
      message: 'The maximum number of filter values specified on a single call is 200',
    });
  });

  it('an instance terminated through EC2 is replaced by its ASG', async () => {
    const victim = (await group(names[2])).Instances![0].InstanceId!;
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [victim] }));
    const g = await group(names[2]);
    expect(g.Instances!.map((i) => i.LifecycleState).sort()).toEqual(['Pending', 'Terminating']);
  });

  it('fails launches in a zone outage with the Spot capacity message, keeps retrying, and launches once capacity is back', async () => {
    sim.armFault({ kind: 'zoneOutage', zone: ZONES[0], from: sim.now(), until: sim.now() + 10 * 60_000 });
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: names[0], DesiredCapacity: 2 }));
    sim.advance(5 * 60);
    const acts = (await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: names[0] }))).Activities!;
    const failed = acts.filter((a) => a.StatusCode === 'Failed');
    expect(failed.length).toBeGreaterThanOrEqual(5);
    expect(failed[0].StatusMessage).toBe(INSUFFICIENT_CAPACITY);
    expect(failed[0].StatusMessage).toMatch(/^Could not launch Spot Instances\. InsufficientInstanceCapacity/);
    expect(failed[0].Description).toBe(`Launching a new EC2 instance.  Status Reason: ${INSUFFICIENT_CAPACITY}`);
    expect((await group(names[0])).Instances).toHaveLength(1);
    sim.advance(6 * 60);
    const g = await group(names[0]);
    expect(g.Instances).toHaveLength(2);
  });

  it('falls back to the next instance type when one type is out', async () => {
    sim.armFault({ kind: 'instanceTypeOutage', instanceType: 'm5.large', from: sim.now() });
    const name = sim.region.createAsg({
      name: 'mixed',
      zones: [ZONES[0]],
      desired: 1,
      min: 0,
      max: 2,
      instanceTypes: ['m5.large', 'm5a.large'],
      lifecycle: 'spot',
      role: 'worker',
      nodeGroup: 'mixed',
    }).name;
    expect((await group(name)).Instances![0].InstanceType).toBe('m5a.large');
  });

  it('pages DescribeAutoScalingGroups and refuses a token it did not issue', async () => {
    for (let i = 0; i < 120; i += 1)
      sim.region.createAsg({
        name: `bulk-${String(i).padStart(3, '0')}`,
        zones: [ZONES[0]],
        desired: 0,
        min: 0,
        max: 1,
        instanceTypes: ['m5.large'],
        lifecycle: 'spot',
        role: 'worker',
        nodeGroup: 'bulk',
      });
    const first = await asg.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 100 }));
    expect(first.AutoScalingGroups).toHaveLength(100);
    const second = await asg.send(
      new DescribeAutoScalingGroupsCommand({ MaxRecords: 100, NextToken: first.NextToken }),
    );
    expect(second.AutoScalingGroups).toHaveLength(23);
    expect(second.NextToken).toBeUndefined();
    await expect(
      asg.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 50, NextToken: 'bm90LWEtdG9rZW4=' })),
    ).rejects.toMatchObject({ name: 'InvalidNextToken' });
    await expect(asg.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 101 }))).rejects.toMatchObject({
      name: 'ValidationError',
    });
    const tagged = await asg.send(
      new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag:node-manager.io/group', Values: ['nodes'] }] }),
    );
    expect(tagged.AutoScalingGroups!.map((g) => g.AutoScalingGroupName)).toEqual(names);
  });

  it('pages DescribeInstances and refuses InstanceIds with MaxResults', async () => {
    const ids = sim.asgsOf('nodes').flatMap((a) => a.instanceIds);
    const p1 = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: ids }], MaxResults: 5 }),
    );
    expect(p1.Reservations).toHaveLength(3);
    expect(p1.Reservations![0].Instances![0]).toMatchObject({ InstanceLifecycle: 'spot', State: { Name: 'running' } });
    await expect(ec2.send(new DescribeInstancesCommand({ InstanceIds: ids, MaxResults: 5 }))).rejects.toMatchObject({
      name: 'InvalidParameterCombination',
    });
  });

  it('throttles with each service’s own error code', async () => {
    sim.armFault({ kind: 'throttle', operation: 'DescribeAutoScalingGroups', times: 1, from: sim.now() });
    sim.armFault({ kind: 'throttle', operation: 'DescribeInstances', times: 1, from: sim.now() });
    await expect(group(names[0])).rejects.toMatchObject({ name: 'Throttling', message: 'Rate exceeded' });
    await expect(ec2.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    await expect(group(names[0])).resolves.toBeDefined();
    expect(sim.meter.calls.aws.DescribeAutoScalingGroups).toBe(2);
  });
});
