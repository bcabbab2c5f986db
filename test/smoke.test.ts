import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { AutoScalingPort } from '../lambdas/aws/autoscaling';
import { Ec2Port } from '../lambdas/aws/ec2';
import { kubeconfigApiProvider } from '../lambdas/kube/client';
import { KubePort } from '../lambdas/kube/port';
import { readSnapshot } from '../lambdas/snapshot';
import { classify } from '../lambdas/core';
import { Simulator } from './sim/simulator';

it('smoke', async () => {
  const sim = await Simulator.start();
  try {
    sim.addNodeGroup({ name: 'nodes', role: 'worker', zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'], perZone: 1 });
    sim.addWorkload({ name: 'web', namespace: 'default', nodeGroup: 'nodes', replicas: 4, pdb: { maxUnavailable: 1 } });
    sim.advance(10);
    const kube = new KubePort(kubeconfigApiProvider(sim.kubeconfig()));
    const ports = { autoscaling: new AutoScalingPort(new AutoScalingClient({})), ec2: new Ec2Port(new EC2Client({})), kube };
    const snap = await readSnapshot(ports, 'nodes', { tags: { 'node-manager.io/group': 'nodes' } }, sim.now());
    const c = classify(snap, sim.now());
    console.log(JSON.stringify(c.counts), c.members.map((m) => `${m.instanceId} ${m.asg} ${m.state} ${m.node?.name}`));
    const pods = await kube.listPodsOnNode(c.members[0].node!.name);
    console.log(pods);
    console.log(sim.calls);
  } finally {
    await sim.stop();
  }
});
