import { parseConfig } from '../../lib/config';
import { WorkflowRunner } from '../sim/runner';
import { GROUP_TAG, Simulator } from '../sim/simulator';

const ZONES = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];

it('refresh smoke', async () => {
  const sim = await Simulator.start();
  try {
    sim.addNodeGroup({ name: 'nodes', role: 'worker', zones: ZONES, perZone: 1 });
    sim.addWorkload({ name: 'web', namespace: 'default', nodeGroup: 'nodes', replicas: 4, pdb: { maxUnavailable: 1 } });
    sim.createTable('node-manager-leases');
    sim.putSecret('kubeconfig', sim.kubeconfig());
    const config = parseConfig({
      cluster: { name: 'example.k8s.local', region: 'ap-northeast-1', access: { kind: 'kubeconfig', secretId: 'kubeconfig' } },
      leaseTable: 'node-manager-leases',
      groups: [{ name: 'nodes', role: 'worker', asgTags: { [GROUP_TAG]: 'nodes' }, desiredReady: 3, surplus: 1 }],
    });
    const runner = new WorkflowRunner(sim, config);
    const start = sim.now();
    const rec = runner.start('refresh', { group: 'nodes' });
    await runner.scheduler.runUntil(start + 6 * 3600_000);
    await runner.shutdown();
    for (const t of runner.timeline) console.log(Math.round((t.at - start) / 1000), t.state, t.outcome, JSON.stringify(t.summary).slice(0, 200));
    console.log(rec.status, rec.error, rec.cause, rec.transitions, rec.historyEvents, rec.lambdaInvocations);
  } finally {
    await sim.stop();
  }
});
