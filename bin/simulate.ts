/**
 * `npm run simulate`: boots the embedded simulator with the kops cluster of the original use case
 * (3 control-plane + 3 Spot workers, one ASG per AZ in ap-northeast-1a/1c/1d), loses a worker to a
 * Spot-like termination during a zone outage, and prints what node-manager's real adapters read
 * (the snapshot and its classification) as the cluster heals. The refresh and replenish workflows
 * will run here on the same simulator (issues 3 and 4).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { AutoScalingPort } from '../lambdas/aws/autoscaling';
import { Ec2Port } from '../lambdas/aws/ec2';
import { asgHealth, classify } from '../lambdas/core';
import { kubeconfigApiProvider } from '../lambdas/kube/client';
import { KubePort } from '../lambdas/kube/port';
import { readSnapshot } from '../lambdas/snapshot';
import { GROUP_TAG, Simulator } from '../test/sim/simulator';

const ZONES = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];

process.env.AWS_REGION ??= 'ap-northeast-1';
process.env.AWS_ACCESS_KEY_ID ??= 'AKIASIMULATOR0000000';
process.env.AWS_SECRET_ACCESS_KEY ??= 'simulator-secret-key';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

function clock(sim: Simulator, start: number): string {
  const s = Math.round((sim.now() - start) / 1000);
  return `+${String(Math.floor(s / 60)).padStart(3, ' ')}m${String(s % 60).padStart(2, '0')}s`;
}

async function main(): Promise<void> {
  const sim = await Simulator.start({ region: 'ap-northeast-1', clusterName: 'example.k8s.local', timing: { bootSeconds: 90, joinSeconds: 60 } });
  const start = sim.now();
  try {
    sim.addNodeGroup({ name: 'master', role: 'control-plane', zones: ZONES, perZone: 1, lifecycle: 'on-demand', instanceTypes: ['c5.large'], instanceAgeDays: 30 });
    sim.addNodeGroup({ name: 'nodes', role: 'worker', zones: ZONES, perZone: 1, instanceTypes: ['m5.large', 'm5a.large'], instanceAgeDays: 10 });
    sim.addWorkload({ name: 'web', namespace: 'default', nodeGroup: 'nodes', replicas: 4, pdb: { maxUnavailable: 1 } });
    sim.advance(10);

    const kube = new KubePort(kubeconfigApiProvider(sim.kubeconfig()));
    const ports = { autoscaling: new AutoScalingPort(new AutoScalingClient({})), ec2: new Ec2Port(new EC2Client({})), kube };

    const show = async (title: string) => {
      const snapshot = await readSnapshot(ports, 'nodes', { tags: { [GROUP_TAG]: 'nodes' } }, sim.now());
      const c = classify(snapshot, sim.now());
      console.log(`\n${clock(sim, start)}  ${title}`);
      console.log(`  workers: ${c.counts.ready} ready, ${c.counts.notReady} not ready, ${c.counts.notJoined} not joined, ${c.counts.leaving} leaving`);
      for (const m of c.members) {
        console.log(`    ${m.instanceId}  ${m.zone}  ${m.asgLifecycleState.padEnd(11)} ${m.state.padEnd(9)} ${m.node?.name ?? '(no node)'}`);
      }
      for (const a of snapshot.asgs) {
        const h = asgHealth(a, sim.now(), 600);
        console.log(`    ${a.name}: desired ${a.desired}/max ${a.max}, ${h.launchingNormally ? 'launching normally' : h.reason}`);
      }
    };

    await show('the cluster as found: three Spot workers, one per AZ, 10 days old');

    // A Spot capacity outage in 1a, and the 1a worker is reclaimed.
    sim.armFault({ kind: 'zoneOutage', zone: ZONES[0], from: sim.now(), until: sim.now() + 20 * 60_000 });
    const lost = sim.asgsOf('nodes')[0].instanceIds[0];
    sim.region.terminateFromEc2(sim.region.instances.get(lost)!, 'a Spot interruption');
    await show(`${lost} reclaimed by EC2 while ${ZONES[0]} has no Spot capacity`);
    sim.advance(5 * 60);
    await show('five minutes later: the 1a ASG keeps failing to launch (replenish will substitute elsewhere)');
    sim.advance(16 * 60);
    await show('the outage is over: the ASG launched again');
    sim.advance(150);
    await show('the replacement has joined and is Ready');

    console.log(`\nAPI calls made by the adapters: ${JSON.stringify(sim.calls.aws)} ${JSON.stringify(sim.calls.kube)}`);
    console.log(`pods: ${JSON.stringify(sim.cluster.counters)} (workload pods lost with the reclaimed node are what interruption drain will prevent)`);
  } finally {
    await sim.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
