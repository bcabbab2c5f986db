import { CORDONED_BY_ANNOTATION, KubePort } from '../../lambdas/kube/port';
import { kubeconfigApiProvider } from '../../lambdas/kube/client';
import {
  EvictionBlockedError,
  KubeThrottledError,
  KubeUnavailableError,
  ResourceNotFoundError,
} from '../../lambdas/core';
import { Simulator } from '../../sim/simulator';

describe('KubePort against the simulated API server', () => {
  let sim: Simulator;
  let kube: KubePort;
  beforeEach(async () => {
    sim = await Simulator.start({ timing: { podStartSeconds: 5, podStopSeconds: 5 } });
    sim.addNodeGroup({ name: 'nodes', role: 'worker', zones: ['ap-northeast-1a', 'ap-northeast-1c'], perZone: 2 });
    sim.addWorkload({ name: 'web', namespace: 'default', nodeGroup: 'nodes', replicas: 4, pdb: { maxUnavailable: 1 } });
    sim.advance(5);
    kube = new KubePort(kubeconfigApiProvider(sim.kubeconfig()));
  });
  afterEach(() => sim.stop());

  it('lists every node across pages of 500', async () => {
    sim.addNodeGroup({
      name: 'big',
      role: 'worker',
      zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
      perZone: 200,
    });
    const nodes = await kube.listNodes();
    expect(nodes).toHaveLength(604);
    expect(new Set(nodes.map((n) => n.name)).size).toBe(604);
    expect(sim.meter.calls.kube['list nodes']).toBe(2);
    expect(nodes[0]).toMatchObject({
      ready: true,
      unschedulable: false,
      cordonedByUs: false,
      providerID: expect.stringMatching(/^aws:\/\/\//),
    });
  });

  it('cordons with our mark and uncordons, leaving a node cordoned by someone else alone in classification', async () => {
    const [n] = await kube.listNodes();
    const cordoned = await kube.cordon(n.name, 'exec-1');
    expect(cordoned).toMatchObject({ unschedulable: true, cordonedByUs: true });
    expect(sim.cluster.nodes.get(n.name)!.annotations[CORDONED_BY_ANNOTATION]).toBe('exec-1');
    const back = await kube.uncordon(n.name);
    expect(back).toMatchObject({ unschedulable: false, cordonedByUs: false });
    expect(sim.cluster.nodes.get(n.name)!.annotations).toEqual({});
    sim.cluster.nodes.get(n.name)!.unschedulable = true;
    expect((await kube.listNodes()).find((x) => x.name === n.name)?.cordonedByUs).toBe(false);
    await expect(kube.cordon('nope', 'exec-1')).rejects.toBeInstanceOf(ResourceNotFoundError);
  });

  it('lists the pods of one node and tells DaemonSet and mirror pods apart', async () => {
    const [n] = await kube.listNodes();
    const pods = await kube.listPodsOnNode(n.name);
    expect(pods.every((p) => p.nodeName === n.name)).toBe(true);
    expect(
      pods
        .filter((p) => p.isDaemonSet)
        .map((p) => p.name.replace(/-[0-9a-f]+$/, ''))
        .sort(),
    ).toEqual(['aws-node', 'kube-proxy']);
    expect(pods.filter((p) => p.ownerKind === 'ReplicaSet')).toHaveLength(1);
  });

  it('evicts, says gone for a pod already gone, and names the budget that refuses', async () => {
    const web = [...sim.cluster.pods.values()].filter((p) => p.workload);
    await expect(kube.evictPod('default', web[0].name)).resolves.toBe('evicted');
    const refused = await kube.evictPod('default', web[1].name).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EvictionBlockedError);
    expect(refused).toMatchObject({
      name: 'EvictionBlocked',
      pod: `default/${web[1].name}`,
      reason:
        "Cannot evict pod as it would violate the pod's disruption budget. The disruption budget web needs 3 healthy pods and has 3 currently",
    });
    sim.advance(5);
    await expect(kube.evictPod('default', web[0].name)).resolves.toBe('gone');
    const onNode = await kube.listPodsOnNode(web[0].nodeName!);
    expect(onNode.some((p) => p.name === web[0].name)).toBe(false);
  });

  it('maps 429 and 5xx to retryable errors', async () => {
    sim.armFault({ kind: 'throttle', operation: 'list nodes', times: 1, from: sim.now() });
    await expect(kube.listNodes()).rejects.toBeInstanceOf(KubeThrottledError);
    sim.armFault({ kind: 'callFailure', operation: 'create pods/eviction', times: 1, from: sim.now() });
    await expect(kube.evictPod('default', 'x')).rejects.toBeInstanceOf(KubeUnavailableError);
  });
});
