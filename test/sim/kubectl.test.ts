/**
 * Conformance: the real kubectl (installed on every machine of this kind) against the simulated
 * API server. If kubectl accepts it, node-manager's own paths are tested against a server that
 * answers as the real one does, not one shaped to the product.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlWith, run } from './kubectl-run';
import { KubePort } from '../../lambdas/kube/port';
import { kubeconfigApiProvider } from '../../lambdas/kube/client';
import { Simulator } from '../../sim/simulator';

const ZONES = ['ap-northeast-1a', 'ap-northeast-1c'];

describe('kubectl against the simulated API server', () => {
  let sim: Simulator;
  let kubeconfig: string;
  let ownConfig: string;
  let ticker: NodeJS.Timeout;

  /** kubectl's output and exit code (as an operator, unless another kubeconfig is given). */
  const kubectl = (...args: string[]) => kubectlWith(kubeconfig, ...args);

  beforeAll(async () => {
    sim = await Simulator.start({ timing: { podStopSeconds: 5, podStartSeconds: 2 } });
    sim.addNodeGroup({ name: 'nodes', role: 'worker', zones: ZONES, perZone: 2, maxPerZone: 3 });
    sim.addWorkload({
      name: 'web',
      namespace: 'default',
      nodeGroup: 'nodes',
      replicas: 4,
      pdb: { maxUnavailable: '25%' },
    });
    sim.addWorkload({
      name: 'cache',
      namespace: 'default',
      nodeGroup: 'nodes',
      replicas: 4,
      pdb: { minAvailable: 4 },
      emptyDir: true,
    });
    sim.addWorkload({ name: 'batch', namespace: 'jobs', nodeGroup: 'nodes', replicas: 2, kind: 'Job' });
    sim.addWorkload({ name: 'lonely', namespace: 'default', nodeGroup: 'nodes', replicas: 1, kind: 'Pod' });
    sim.advance(10);
    const dir = mkdtempSync(join(tmpdir(), 'nm-kubectl-'));
    kubeconfig = join(dir, 'admin.yaml');
    writeFileSync(kubeconfig, sim.adminKubeconfig());
    ownConfig = join(dir, 'node-manager.yaml');
    writeFileSync(ownConfig, sim.kubeconfig());
    // Virtual time runs at 20x real time, so pods evicted by kubectl go while it waits for them.
    ticker = setInterval(() => sim.advance(1), 50);
  });
  afterAll(async () => {
    clearInterval(ticker);
    await sim.stop();
  });

  it('gets nodes, pods, budgets as tables, and pages with --chunk-size', async () => {
    const nodes = await kubectl('get', 'nodes');
    expect(nodes.code).toBe(0);
    expect(nodes.out.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    expect(nodes.out.trim().split('\n')).toHaveLength(5);
    const paged = await kubectl('get', 'nodes', '--chunk-size=1', '-o', 'name', '-v=6');
    expect(paged.out.trim().split('\n')).toHaveLength(4);
    expect((paged.err.match(/GET .*\/api\/v1\/nodes\?.*limit=1/g) ?? []).length).toBe(4);
    const pods = await kubectl('get', 'pods', '-A', '-o', 'wide');
    expect(pods.out).toMatch(/kube-system\s+kube-proxy-\w+\s+1\/1\s+Running/);
    const pdb = await kubectl('get', 'pdb', '-A');
    expect(pdb.out).toMatch(/default\s+cache\s+4\s+N\/A\s+0/);
    expect(pdb.out).toMatch(/default\s+web\s+N\/A\s+25%\s+1/);
    const owner = (
      await kubectl('get', 'pods', '-n', 'jobs', '-o', 'jsonpath={.items[0].metadata.ownerReferences[0].kind}')
    ).out;
    expect(owner).toBe('Job');
  });

  it('refuses what the API server refuses: an unsupported field selector (400), a stale resourceVersion (409), a wrong type (400), an expired continue token (410)', async () => {
    expect((await kubectl('get', 'pods', '-A', '--field-selector', 'spec.hostNetwork=true')).err).toContain(
      'field label not supported: spec.hostNetwork',
    );
    const node = (await kubectl('get', 'nodes', '-o', 'name')).out.split('\n')[0];
    const stale = await kubectl(
      'patch',
      node,
      '--type=merge',
      '-p',
      '{"metadata":{"resourceVersion":"1"},"spec":{"unschedulable":true}}',
    );
    expect(stale.err).toMatch(/Conflict|the object has been modified/);
    const wrong = await kubectl('patch', node, '--type=merge', '-p', '{"spec":{"unschedulable":"yes"}}');
    expect(wrong.err).toContain(
      'cannot unmarshal string into Go struct field NodeSpec.spec.unschedulable of type bool',
    );
    const tainted = await kubectl('taint', 'nodes', node.replace('node/', ''), 'dedicated=db:NoSchedule');
    expect(tainted.code).toBe(0);
    await kubectl('cordon', node);
    await kubectl('uncordon', node);
    expect((await kubectl('get', node, '-o', 'jsonpath={.spec.taints[*].key}')).out).toBe('dedicated');
    await kubectl('taint', 'nodes', node.replace('node/', ''), 'dedicated-');
    const first = JSON.parse((await kubectl('get', '--raw', '/api/v1/nodes?limit=1')).out) as {
      metadata: { continue: string };
    };
    sim.advance(6 * 60);
    const expired = await kubectl('get', '--raw', `/api/v1/nodes?limit=1&continue=${first.metadata.continue}`);
    expect(expired.err).toMatch(/Expired|too old/);
  });

  it('cordons, uncordons, and drains a node through the Eviction API, retrying while a budget refuses', async () => {
    const node = (await kubectl('get', 'nodes', '-o', 'name')).out.split('\n')[1].replace('node/', '');
    expect((await kubectl('cordon', node)).out).toContain('cordoned');
    expect((await kubectl('get', 'node', node)).out).toContain('Ready,SchedulingDisabled');
    expect((await kubectl('uncordon', node)).out).toContain('uncordoned');
    // Without --force a bare pod stops the drain; drain another node that has none.
    const lonely = (await kubectl('get', 'pods', '-l', 'app=lonely', '-o', 'jsonpath={.items[0].spec.nodeName}')).out;
    const target = (await kubectl('get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}')).out
      .split(' ')
      .find((n) => n !== lonely)!;
    // "cache" allows no disruption (minAvailable 4 of 4): the drain retries its 429s until the budget's block is lifted.
    const cacheOnTarget = (
      await kubectl('get', 'pods', '-l', 'app=cache', '--field-selector', `spec.nodeName=${target}`, '-o', 'name')
    ).out.trim();
    expect(cacheOnTarget).not.toBe('');
    setTimeout(
      () => sim.cluster.budgets.set('default/cache', { ...sim.cluster.budgets.get('default/cache')!, minAvailable: 3 }),
      4000,
    );
    const drained = await kubectl('drain', target, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s');
    expect(drained.code).toBe(0);
    expect(drained.out).toContain(`node/${target} drained`);
    expect(drained.err + drained.out).toMatch(/Cannot evict pod as it would violate the pod's disruption budget/);
    const left = (
      await kubectl(
        'get',
        'pods',
        '-A',
        '--field-selector',
        `spec.nodeName=${target}`,
        '-o',
        'jsonpath={.items[*].metadata.name}',
      )
    ).out
      .split(' ')
      .filter(Boolean);
    // Only DaemonSet pods stay (and come back if deleted).
    expect(left.every((p) => /^(kube-proxy|aws-node)-/.test(p))).toBe(true);
    const ds = left[0];
    await kubectl('delete', 'pod', '-n', 'kube-system', ds, '--wait=true');
    const after = (
      await kubectl('get', 'pods', '-n', 'kube-system', '--field-selector', `spec.nodeName=${target}`, '-o', 'name')
    ).out
      .trim()
      .split('\n');
    expect(after).toHaveLength(2);
    expect(after).not.toContain(`pod/${ds}`);
    // A bare pod stops a drain without --force, naming it.
    const bare = await kubectl('drain', lonely, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=30s');
    expect(bare.code).not.toBe(0);
    expect(bare.err).toContain('cannot delete Pods that declare no controller');
    await kubectl('uncordon', lonely);
  });

  it('a pod under two budgets cannot be evicted (500), an eviction dry run changes nothing, and a node can be deleted', async () => {
    sim.cluster.addBudget({ name: 'web-too', namespace: 'default', selector: { app: 'web' }, maxUnavailable: 1 });
    const pod = (await kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).out;
    const body = JSON.stringify({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: pod, namespace: 'default' },
    });
    const dir = mkdtempSync(join(tmpdir(), 'nm-evict-'));
    writeFileSync(join(dir, 'eviction.json'), body);
    const two = await kubectl(
      'create',
      '--raw',
      `/api/v1/namespaces/default/pods/${pod}/eviction`,
      '-f',
      join(dir, 'eviction.json'),
    );
    expect(two.err).toContain('This pod has more than one PodDisruptionBudget');
    sim.cluster.budgets.delete('default/web-too');
    const dry = await kubectl(
      'create',
      '--raw',
      `/api/v1/namespaces/default/pods/${pod}/eviction?dryRun=All`,
      '-f',
      join(dir, 'eviction.json'),
    );
    expect(dry.code).toBe(0);
    expect((await kubectl('get', 'pod', pod, '-o', 'jsonpath={.metadata.deletionTimestamp}')).out).toBe('');
    const node = (await kubectl('get', 'nodes', '-o', 'name')).out.trim().split('\n').pop()!;
    expect((await kubectl('delete', node)).out).toContain('deleted');
    expect((await kubectl('get', 'nodes', '-o', 'name')).out).not.toContain(node);
  });

  it("enforces deploy/rbac.yaml for node-manager's own identity: what it is not granted is a 403", async () => {
    const own = (...args: string[]) => kubectlWith(ownConfig, ...args);
    expect((await own('get', 'nodes', '-o', 'name')).code).toBe(0);
    expect((await own('get', 'pods', '-A', '-o', 'name')).code).toBe(0);
    const pod = (await kubectl('get', 'pods', '-n', 'jobs', '-o', 'jsonpath={.items[0].metadata.name}')).out;
    const get = await own('get', 'pod', '-n', 'jobs', pod);
    expect(get.err).toContain(
      `pods "${pod}" is forbidden: User "system:serviceaccount:kube-system:node-manager" cannot get resource "pods" in API group "" in the namespace "jobs"`,
    );
    expect((await own('delete', 'pod', '-n', 'jobs', pod)).err).toContain('forbidden');
    // Budgets may be listed (a dry run reads them), nothing more.
    expect((await own('get', 'pdb', '-A', '-o', 'name')).code).toBe(0);
    const [pdbNs, pdbName] = (
      await kubectl('get', 'pdb', '-A', '-o', 'jsonpath={.items[0].metadata.namespace} {.items[0].metadata.name}')
    ).out.split(' ');
    expect(pdbName).toBeTruthy();
    expect((await own('get', 'pdb', '-n', pdbNs, pdbName)).err).toContain('cannot get resource "poddisruptionbudgets"');
    // Neither reading one node nor deleting one is granted: node-manager never needs either.
    const node = (await kubectl('get', 'nodes', '-o', 'name')).out.split('\n')[0];
    expect((await own('get', node)).err).toContain('cannot get resource "nodes"');
    expect((await own('delete', node)).err).toContain('cannot delete resource "nodes"');
  });
  it("an interruption drain's mark, as kubectl shows it: tainted NoSchedule, cordoned, out of load balancers, other taints kept; given back as it was", async () => {
    const name = [...sim.cluster.nodes.keys()].sort()[0];
    expect((await kubectl('taint', 'nodes', name, 'dedicated=web:PreferNoSchedule')).code).toBe(0);
    const port = new KubePort(kubeconfigApiProvider(sim.kubeconfig()));
    const mark = { by: 'interruption-001', why: 'spot-interruption', at: sim.now(), group: 'nodes' };
    const marked = await port.markInterrupted(name, mark);
    expect(marked).toMatchObject({
      name,
      unschedulable: true,
      cordonedByUs: true,
      cordonedBy: 'interruption-001',
      interruption: { kind: 'spot-interruption', at: mark.at, group: 'nodes' },
    });
    const taints = await kubectl(
      'get',
      'node',
      name,
      '-o',
      'jsonpath={range .spec.taints[*]}{.key}={.value}:{.effect}{"\\n"}{end}',
    );
    expect(taints.out.trim().split('\n').sort()).toEqual([
      'dedicated=web:PreferNoSchedule',
      'node-manager.io/interruption=spot-interruption:NoSchedule',
      'node.kubernetes.io/unschedulable=:NoSchedule',
    ]);
    const labels = await kubectl(
      'get',
      'node',
      name,
      '-o',
      'jsonpath={.metadata.labels.node\\.kubernetes\\.io/exclude-from-external-load-balancers}',
    );
    expect(labels.out).toBe('true');
    expect((await kubectl('get', 'nodes', name)).out).toContain('SchedulingDisabled');
    // Marking again (a retried step) changes nothing more.
    await port.markInterrupted(name, mark);
    expect((await kubectl('get', 'node', name, '-o', 'jsonpath={.spec.taints[*].key}')).out.split(' ')).toHaveLength(3);
    expect(await port.markInterrupted('ip-10-9-9-9.nowhere', mark)).toBeUndefined();
    // A refresh's cleanup does not uncordon a node an interruption drain has marked.
    expect(await port.uncordon(name)).toBeUndefined();
    expect(await port.uncordon(name, ['refresh-001'])).toBeUndefined();
    // Another drain cannot give it back; its own can: taint gone, uncordoned, back in load balancers, the other taint kept.
    expect(await port.unmarkInterrupted(name, 'interruption-002')).toBeUndefined();
    expect(await port.unmarkInterrupted(name, 'interruption-001')).toMatchObject({
      unschedulable: false,
      cordonedByUs: false,
    });
    const after = await kubectl('get', 'node', name, '-o', 'json');
    const node = JSON.parse(after.out) as {
      spec: { taints?: Array<{ key: string }>; unschedulable?: boolean };
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
    };
    expect((node.spec.taints ?? []).map((t) => t.key)).toEqual(['dedicated']);
    expect(node.spec.unschedulable).toBeUndefined();
    expect(node.metadata.labels['node.kubernetes.io/exclude-from-external-load-balancers']).toBeUndefined();
    expect(Object.keys(node.metadata.annotations ?? {}).filter((k) => k.startsWith('node-manager.io/'))).toEqual([]);
    expect((await kubectl('taint', 'nodes', name, 'dedicated-')).code).toBe(0);
  });

  it("a voluntary drain's cordon, as kubectl shows it: tainted node-manager.io/draining, out of load balancers; uncordoned as it was", async () => {
    const name = [...sim.cluster.nodes.keys()].sort()[1];
    expect((await kubectl('taint', 'nodes', name, 'dedicated=web:PreferNoSchedule')).code).toBe(0);
    const port = new KubePort(kubeconfigApiProvider(sim.kubeconfig()));
    expect(await port.cordon(name, 'refresh-007')).toMatchObject({
      name,
      unschedulable: true,
      cordonedBy: 'refresh-007',
    });
    const taints = await kubectl(
      'get',
      'node',
      name,
      '-o',
      'jsonpath={range .spec.taints[*]}{.key}={.value}:{.effect}{"\\n"}{end}',
    );
    expect(taints.out.trim().split('\n').sort()).toEqual([
      'dedicated=web:PreferNoSchedule',
      'node-manager.io/draining=refresh-007:NoSchedule',
      'node.kubernetes.io/unschedulable=:NoSchedule',
    ]);
    const lb = 'jsonpath={.metadata.labels.node\\.kubernetes\\.io/exclude-from-external-load-balancers}';
    expect((await kubectl('get', 'node', name, '-o', lb)).out).toBe('true');
    // Cordoning again (a retried step) changes nothing more.
    await port.cordon(name, 'refresh-007');
    expect((await kubectl('get', 'node', name, '-o', 'jsonpath={.spec.taints[*].key}')).out.split(' ')).toHaveLength(3);
    // Another execution's cleanup leaves it; its own gives it back.
    expect(await port.uncordon(name, ['refresh-008'])).toBeUndefined();
    expect(await port.uncordon(name, ['refresh-007'])).toMatchObject({ unschedulable: false, cordonedByUs: false });
    const node = JSON.parse((await kubectl('get', 'node', name, '-o', 'json')).out) as {
      spec: { taints?: Array<{ key: string }>; unschedulable?: boolean };
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
    };
    expect((node.spec.taints ?? []).map((t) => t.key)).toEqual(['dedicated']);
    expect(node.spec.unschedulable).toBeUndefined();
    expect(node.metadata.labels['node.kubernetes.io/exclude-from-external-load-balancers']).toBeUndefined();
    expect(Object.keys(node.metadata.annotations ?? {}).filter((k) => k.startsWith('node-manager.io/'))).toEqual([]);
    expect((await kubectl('taint', 'nodes', name, 'dedicated-')).code).toBe(0);
  });

  it('a node someone took out of load balancers before the drain stays out when it is given back', async () => {
    const name = [...sim.cluster.nodes.keys()].sort()[1];
    expect(
      (await kubectl('label', 'nodes', name, 'node.kubernetes.io/exclude-from-external-load-balancers=true')).code,
    ).toBe(0);
    const port = new KubePort(kubeconfigApiProvider(sim.kubeconfig()));
    await port.markInterrupted(name, { by: 'interruption-003', why: 'unannounced', at: sim.now(), group: 'nodes' });
    await port.unmarkInterrupted(name, 'interruption-003');
    expect(
      (
        await kubectl(
          'get',
          'node',
          name,
          '-o',
          'jsonpath={.metadata.labels.node\\.kubernetes\\.io/exclude-from-external-load-balancers}',
        )
      ).out,
    ).toBe('true');
    expect(
      (await kubectl('label', 'nodes', name, 'node.kubernetes.io/exclude-from-external-load-balancers-')).code,
    ).toBe(0);
    // A node a refresh had cordoned for its batch keeps that cordon when the drain gives it back.
    await port.cordon(name, 'refresh-007');
    await port.markInterrupted(name, {
      by: 'interruption-004',
      why: 'spot-interruption',
      at: sim.now(),
      group: 'nodes',
    });
    expect(await port.unmarkInterrupted(name, 'interruption-004')).toMatchObject({
      unschedulable: true,
      cordonedBy: 'refresh-007',
    });
    expect(await port.uncordon(name, ['refresh-007'])).toMatchObject({ unschedulable: false });
  });
});

describe('requests, allocatable and Pending pods, as kubectl shows them', () => {
  let sim: Simulator;
  let config: string;
  beforeAll(async () => {
    sim = await Simulator.start();
    sim.addNodeGroup({
      name: 'masters',
      role: 'control-plane',
      zones: ['ap-northeast-1a'],
      perZone: 1,
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    });
    sim.addNodeGroup({
      name: 'nodes',
      role: 'worker',
      zones: ZONES,
      perZone: 1,
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    });
    // Two nodes with 2 CPUs, less 125m for kube-proxy and aws-node: one pod of 1500m each, the third Pending.
    sim.addWorkload({
      name: 'hungry',
      namespace: 'default',
      nodeGroup: 'nodes',
      replicas: 3,
      requests: { cpu: '1500m', memory: '1Gi' },
    });
    sim.advance(30);
    config = join(mkdtempSync(join(tmpdir(), 'nm-kubectl-')), 'admin.yaml');
    writeFileSync(config, sim.adminKubeconfig());
  });
  afterAll(() => sim.stop());

  it('describe node shows allocatable and what is requested of it; a pod nothing has room for is Pending and says why', async () => {
    const node = sim.cluster.nodeOf([...sim.asgsOf('nodes')[0].instanceIds][0])!.name;
    const d = await kubectlWith(config, 'describe', 'node', node);
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/Allocatable:\s+cpu:\s+2\s+memory:\s+4Gi/);
    // kubectl sums the requests of the node's pods itself: 1500m + 100m + 25m of 2 CPUs.
    expect(d.out).toMatch(/cpu\s+1625m \(81%\)/);
    expect(d.out).toMatch(/memory\s+1Gi \(25%\)/);
    expect(d.out).not.toContain('-9223372036854775808');
    const pending = await kubectlWith(config, 'get', 'pods', '--field-selector=status.phase=Pending', '-o', 'name');
    expect(pending.out.trim().split('\n')).toHaveLength(1);
    const why = await kubectlWith(config, 'describe', pending.out.trim());
    expect(why.out).toMatch(/Status:\s+Pending/);
    expect(why.out).toMatch(/Requests:\s+cpu:\s+1500m\s+memory:\s+1Gi/);
    expect(why.out).toContain('PodScheduled   False');
    // A master's static pods, Ready a little after it: kubectl lists them as the kubelet's mirrors.
    const statics = await kubectlWith(config, 'get', 'pods', '-n', 'kube-system', '-l', 'tier=control-plane');
    expect(statics.out).toMatch(/kube-apiserver-\S+\s+1\/1\s+Running/);
  });
});

describe('npm run simulate -- --serve', () => {
  it('runs a scenario paced in real time and keeps the API server up for kubectl afterwards', async () => {
    const { parseScenario, runScenario } = await import('../../sim/scenario/run');
    const { readFileSync } = await import('node:fs');
    const scenario = parseScenario(
      JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'scenarios', 'kops-weekly.json'), 'utf8')),
    );
    const t0 = Date.now();
    // Served, the idle time to the scenario's end passes at the pace too: a quarter hour is enough here.
    const { report, sim } = await runScenario({ ...scenario, until: 15 * 60 }, { serve: { speed: 2000 } });
    try {
      // Paced to the end: the quarter hour took real time (at 2000x, 0.45 s), the idle tail included, not a jump.
      expect(Date.now() - t0).toBeGreaterThanOrEqual((15 * 60 * 1000) / 2000 - 50);
      expect(report.executions[0].status).toBe('SUCCEEDED');
      const dir = mkdtempSync(join(tmpdir(), 'nm-serve-'));
      writeFileSync(join(dir, 'kubeconfig'), sim.adminKubeconfig());
      const out = (
        await run('kubectl', [
          '--kubeconfig',
          join(dir, 'kubeconfig'),
          'get',
          'nodes',
          '-l',
          'kops.k8s.io/instancegroup=nodes',
          '-o',
          'name',
        ])
      ).stdout;
      expect(out.trim().split('\n')).toHaveLength(3);
      // What node-manager did is still there to read (Events live an hour): the refresh's cordons and terminations.
      const events = (await run('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), 'get', 'events', '-A'])).stdout;
      expect(events.match(/\bCordoned\b/g)).toHaveLength(3);
      expect(events.match(/\bTerminated\b/g)).toHaveLength(3);
    } finally {
      await sim.stop();
    }
  });
});
