import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { AutoScalingPort } from '../../lambdas/aws/autoscaling';
import { terminateUnlessLeaving } from '../../lambdas/terminate';
import { Simulator } from '../../sim/simulator';

describe('terminateUnlessLeaving on the simulated region', () => {
  let sim: Simulator;
  let port: AutoScalingPort;
  let names: string[];

  beforeEach(async () => {
    sim = await Simulator.start();
    names = sim.addNodeGroup({ name: 'nodes', role: 'worker', zones: ['ap-northeast-1a'], perZone: 3, minPerZone: 0 });
    port = new AutoScalingPort(new AutoScalingClient({}));
  });
  afterEach(() => sim.stop());

  it('terminates what is InService, skips what its read shows leaving or gone, and never asks AWS about an instance already terminating', async () => {
    const before = await port.describeGroups({ names });
    const [a, b, c] = before[0].instances.map((i) => i.instanceId);
    await port.terminateInstance(b, false);
    const read = await port.describeGroups({ names });
    const out = await terminateUnlessLeaving(port, read, [a, b, 'i-0000000000000gone'], true);
    expect(out).toEqual([
      { instanceId: a, outcome: 'terminated' },
      { instanceId: b, outcome: 'alreadyLeaving' },
      { instanceId: 'i-0000000000000gone', outcome: 'gone' },
    ]);
    // Began leaving after the read (EC2 reclaimed it): the refusal is re-read, and counted as leaving.
    await new EC2Client({}).send(new TerminateInstancesCommand({ InstanceIds: [c] }));
    expect(await terminateUnlessLeaving(port, read, [c], false)).toEqual([
      { instanceId: c, outcome: 'alreadyLeaving' },
    ]);
    const refusedTerminates = sim.meter.audit.filter(
      (e) => e.operation === 'TerminateInstanceInAutoScalingGroup' && e.outcome !== 'ok',
    );
    expect(refusedTerminates.map((e) => e.target)).toEqual([`instance/${c} decrement=false`]);
  });
});
