import { AutoScalingClient, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { ApiException, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Simulator } from '../../sim/simulator';

const ZONES = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];

/** An operator's client (RBAC for node-manager's own identity is tested with kubectl and in the workflows). */
function client(sim: Simulator, token?: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromString(token ? sim.kubeconfig(token) : sim.adminKubeconfig());
  return kc.makeApiClient(CoreV1Api);
}

async function failure(p: Promise<unknown>): Promise<{
  code: number;
  body: { reason?: string; message?: string; details?: { causes?: Array<{ reason: string; message: string }> } };
}> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return { code: e.code, body: typeof e.body === 'string' ? JSON.parse(e.body) : {} };
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('simulated API server, as client-node sees it', () => {
  let sim: Simulator;
  let core: CoreV1Api;

  beforeEach(async () => {
    sim = await Simulator.start({
      timing: { bootSeconds: 90, joinSeconds: 60, shutdownSeconds: 30, podStartSeconds: 5, podStopSeconds: 5 },
    });
    sim.addNodeGroup({ name: 'master', role: 'control-plane', zones: ZONES, perZone: 1 });
    sim.addNodeGroup({ name: 'nodes', role: 'worker', zones: ZONES, perZone: 1, maxPerZone: 2 });
    sim.addWorkload({ name: 'web', namespace: 'default', nodeGroup: 'nodes', replicas: 4, pdb: { maxUnavailable: 1 } });
    sim.advance(10);
    core = client(sim);
  });
  afterEach(() => sim.stop());

  it('serves nodes over verified TLS with kops/EKS-like labels and providerIDs', async () => {
    const nodes = await core.listNode();
    expect(nodes.items).toHaveLength(6);
    const worker = nodes.items.find((n) => n.metadata?.labels?.['kops.k8s.io/instancegroup'] === 'nodes')!;
    expect(worker.spec?.providerID).toMatch(/^aws:\/\/\/ap-northeast-1[acd]\/i-0[0-9a-f]{16}$/);
    expect(worker.metadata?.labels).toMatchObject({
      'topology.kubernetes.io/zone': expect.stringMatching(/^ap-northeast-1/),
      'node-role.kubernetes.io/node': '',
    });
    const cp = nodes.items.filter(
      (n) => n.metadata?.labels && 'node-role.kubernetes.io/control-plane' in n.metadata.labels,
    );
    expect(cp).toHaveLength(3);
    expect(worker.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('refuses an unknown token with 401', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfig('good').replace('token: good', 'token: bad'));
    expect((await failure(kc.makeApiClient(CoreV1Api).listNode())).code).toBe(401);
  });

  it('pages lists with limit and continue', async () => {
    const first = await core.listNode({ limit: 4 });
    expect(first.items).toHaveLength(4);
    expect(first.metadata?._continue).toBeTruthy();
    const second = await core.listNode({ limit: 4, _continue: first.metadata!._continue });
    expect(second.items).toHaveLength(2);
    expect(second.metadata?._continue).toBeFalsy();
    const names = [...first.items, ...second.items].map((n) => n.metadata?.name);
    expect(new Set(names).size).toBe(6);
    const selected = await core.listNode({ labelSelector: 'node-role.kubernetes.io/control-plane' });
    expect(selected.items).toHaveLength(3);
  });

  it('runs DaemonSet pods on every node and mirror pods on control-plane nodes', async () => {
    const cp = (await core.listNode({ labelSelector: 'node-role.kubernetes.io/control-plane' })).items[0].metadata!
      .name!;
    const pods = (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${cp}` })).items;
    const kinds = pods.map((p) => p.metadata?.ownerReferences?.[0].kind).sort();
    expect(kinds).toEqual(['DaemonSet', 'DaemonSet', 'Node', 'Node', 'Node', 'Node']);
    expect(pods.filter((p) => p.metadata?.annotations?.['kubernetes.io/config.mirror'])).toHaveLength(4);
  });

  it('cordons with a merge patch and schedules nothing new on the cordoned node', async () => {
    const name = (await core.listNode({ labelSelector: 'kops.k8s.io/instancegroup=nodes' })).items[0].metadata!.name!;
    const patched = await core.patchNode(
      { name, body: { spec: { unschedulable: true }, metadata: { annotations: { who: 'me' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.spec?.unschedulable).toBe(true);
    expect(patched.spec?.taints?.[0].key).toBe('node.kubernetes.io/unschedulable');
    const webOnNode = (
      await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}`, labelSelector: 'app=web' })
    ).items;
    for (const p of webOnNode)
      await core
        .createNamespacedPodEviction({
          name: p.metadata!.name!,
          namespace: 'default',
          body: {
            apiVersion: 'policy/v1',
            kind: 'Eviction',
            metadata: { name: p.metadata!.name!, namespace: 'default' },
          },
        })
        .catch(() => undefined);
    sim.advance(30);
    const stillThere = (
      await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}`, labelSelector: 'app=web' })
    ).items;
    expect(stillThere.length).toBeLessThanOrEqual(webOnNode.length);
    expect(stillThere.every((p) => webOnNode.some((w) => w.metadata?.name === p.metadata?.name))).toBe(true);
    const cleared = await core.patchNode(
      { name, body: [{ op: 'remove', path: '/spec/unschedulable' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(cleared.spec?.unschedulable).toBeUndefined();
  });

  it('evicts through policy/v1, refusing with 429 and the budget’s name while the PDB forbids it, and recreates evicted pods', async () => {
    const web = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })).items;
    expect(web).toHaveLength(4);
    sim.advance(5);
    const evict = (name: string) =>
      core.createNamespacedPodEviction({
        name,
        namespace: 'default',
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } },
      });
    await evict(web[0].metadata!.name!);
    const refused = await failure(evict(web[1].metadata!.name!));
    expect(refused.code).toBe(429);
    expect(refused.body.reason).toBe('TooManyRequests');
    expect(refused.body.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(refused.body.details?.causes?.[0]).toEqual({
      reason: 'DisruptionBudget',
      message: 'The disruption budget web needs 3 healthy pods and has 3 currently',
    });
    // The ReplicaSet recreated the evicted pod at once; once it is Ready the budget allows another.
    const now = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })).items;
    expect(now.filter((p) => !p.metadata?.deletionTimestamp)).toHaveLength(4);
    sim.advance(5);
    await expect(evict(web[1].metadata!.name!)).resolves.toBeDefined();
    expect((await failure(evict('no-such-pod'))).code).toBe(404);
    expect(sim.cluster.counters).toMatchObject({ evictions: 2, evictionsRefused: 1, deletedWithoutEviction: 0 });
  });

  it('a pdbBlock refuses every eviction for its duration', async () => {
    sim.blockBudget('default', 'web', 600);
    const pod = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })).items[0].metadata!
      .name!;
    const evict = () =>
      core.createNamespacedPodEviction({
        name: pod,
        namespace: 'default',
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: 'default' } },
      });
    expect((await failure(evict())).code).toBe(429);
    sim.advance(600);
    await expect(evict()).resolves.toBeDefined();
  });

  it('deletes the node of a terminated instance, and its pods with it (counted as lost without eviction)', async () => {
    const asgName = sim.asgsOf('nodes')[0].name;
    const victim = sim.region.asgs.get(asgName)!.instanceIds[0];
    const nodeName = sim.cluster.nodeOf(victim)!.name;
    const lost = [...sim.cluster.pods.values()].filter((p) => p.nodeName === nodeName && p.workload).length;
    expect(lost).toBeGreaterThan(0);
    await new AutoScalingClient({}).send(
      new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim, ShouldDecrementDesiredCapacity: false }),
    );
    expect((await core.readNode({ name: nodeName })).status?.conditions?.[0].status).toBe('Unknown');
    sim.advance(30);
    expect((await failure(core.readNode({ name: nodeName }))).code).toBe(404);
    expect(sim.cluster.counters.deletedWithoutEviction).toBe(lost);
    // The replacement joins and the workload is whole again.
    sim.advance(150 + 10);
    expect([...sim.cluster.pods.values()].filter((p) => p.workload && p.ready)).toHaveLength(4);
  });

  it('kops control plane: an extra instance in a master ASG never joins until the etcd member leaves', async () => {
    const asg = sim.asgsOf('master')[0];
    asg.max = 2;
    asg.desired = 2;
    sim.region.reconcile(asg);
    sim.advance(90 + 60);
    const [old, extra] = asg.instanceIds;
    expect(sim.cluster.nodeOf(extra)).toBeUndefined();
    sim.advance(3600);
    expect(sim.cluster.nodeOf(extra)).toBeUndefined();
    asg.desired = 1;
    await new AutoScalingClient({}).send(
      new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: old, ShouldDecrementDesiredCapacity: false }),
    );
    sim.advance(30);
    expect(sim.cluster.nodeOf(extra)).toBeDefined();
    sim.advance(60);
    expect(sim.cluster.nodeOf(extra)?.ready).toBe(true);
  });

  it('an armed neverJoin instance boots but never registers', async () => {
    sim.armNeverJoin(1, 'nodes', ZONES[1]);
    const asg = sim.asgsOf('nodes')[1];
    asg.desired = 2;
    sim.region.reconcile(asg);
    sim.advance(3600);
    const fresh = asg.instanceIds[1];
    expect(sim.region.instances.get(fresh)?.asgLifecycle).toBe('InService');
    expect(sim.cluster.nodeOf(fresh)).toBeUndefined();
  });

  it('throttles a Kubernetes call with 429 and fails one with 500 when armed', async () => {
    sim.armFault({ kind: 'throttle', operation: 'list nodes', times: 1, from: sim.now() });
    sim.armFault({ kind: 'callFailure', operation: 'list nodes', times: 1, from: sim.now() });
    expect((await failure(core.listNode())).code).toBe(429);
    expect((await failure(core.listNode())).code).toBe(500);
    await expect(core.listNode()).resolves.toBeDefined();
    expect(sim.meter.calls.kube['list nodes']).toBe(3);
  });
});

describe('the virtual clock and loopback HTTP', () => {
  it('a request in flight completes however far virtual time jumps meanwhile', async () => {
    const sim = await Simulator.start();
    try {
      sim.addNodeGroup({ name: 'nodes', role: 'worker', zones: ['ap-northeast-1a'], perZone: 3 });
      const pending = client(sim).listNode();
      sim.advance(7 * 86_400);
      expect((await pending).items).toHaveLength(3);
    } finally {
      await sim.stop();
    }
  });
});
