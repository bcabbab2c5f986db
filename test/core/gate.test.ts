import {
  DEFAULT_DRAIN_POLICY,
  checkRoom,
  parseQuantity,
  planGate,
  resourcesOf,
  type Classification,
  type GatePod,
  type GroupSettings,
  type NodeState,
  type RefreshJournal,
} from '../../lambdas/core';

const NOW = Date.UTC(2026, 11, 7, 3);
const settings: GroupSettings = {
  name: 'nodes',
  role: 'worker',
  desiredReady: 3,
  surplus: 1,
  drainTimeoutSeconds: 600,
  joinTimeoutSeconds: 900,
  cooldownSeconds: 300,
  drain: DEFAULT_DRAIN_POLICY,
  settleSeconds: 60,
  notReadyTimeoutSeconds: 900,
  repairMaxUnhealthy: 1,
};
const journal: RefreshJournal = {
  execution: 'arn:aws:states:ap-northeast-1:111122223333:execution:node-manager-refresh:r1',
  startedAt: NOW - 3_600_000,
  phase: 'replace',
  original: {},
  surged: true,
  batch: [],
  cordoned: [],
  replaced: 0,
  terminated: [],
};

const node = (name: string, extra: Partial<NodeState> = {}): NodeState => ({
  name,
  ready: true,
  readySince: NOW - 600_000,
  unschedulable: false,
  createdAt: NOW - 86_400_000,
  labels: {},
  cordonedByUs: false,
  allocatable: resourcesOf({ cpu: '2', memory: '4Gi' }),
  ...extra,
});
const view = (nodes: NodeState[], pods: GatePod[]): { c: Classification; pods: GatePod[] } => ({
  c: {
    members: nodes.map((n) => ({
      instanceId: `i-${n.name}`,
      asg: 'a',
      zone: 'z',
      asgLifecycleState: 'InService',
      node: n,
      state: 'ready',
      ageSeconds: 86_400,
    })),
    unmatchedNodes: [],
    counts: { ready: nodes.length, notReady: 0, notJoined: 0, leaving: 0 },
  },
  pods,
});
const pod = (name: string, nodeName: string | undefined, cpu: string, extra: Partial<GatePod> = {}): GatePod => ({
  namespace: 'default',
  name,
  nodeName,
  phase: nodeName ? 'Running' : 'Pending',
  ownerKind: 'ReplicaSet',
  ownerName: name.replace(/-\w+$/, ''),
  isDaemonSet: false,
  isMirror: false,
  deleting: false,
  ready: !!nodeName,
  createdAt: NOW - 30_000,
  requests: resourcesOf({ cpu }),
  ...extra,
});
const batch = [{ node: 'old', instanceId: 'i-old', asg: 'a', zone: 'z' }];

describe('quantities', () => {
  it('reads what the API server writes, and names what it would refuse', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('128974848')).toBe(128974848);
    expect(parseQuantity('129M')).toBe(129e6);
    expect(() => parseQuantity('1.5GB')).toThrow(/"1.5GB" is not a Kubernetes quantity/);
    expect(resourcesOf({ cpu: '250m', memory: '64Mi' })).toEqual({ cpu: 250, memory: 64 * 2 ** 20 });
  });

  it('places the largest first and says which pods find no node', () => {
    const free = (name: string, cpu: string) => ({
      name,
      allocatable: resourcesOf({ cpu }),
      requested: { cpu: 0, memory: 0 },
    });
    const need = (name: string, cpu: string) => ({ namespace: 'd', name, requests: resourcesOf({ cpu }) });
    // 1500m + 500m fit 1500m + 1000m only if the big one goes first.
    expect(checkRoom([need('s', '500m'), need('b', '1500m')], [free('x', '1000m'), free('y', '1500m')]).fits).toBe(
      true,
    );
    const no = checkRoom([need('b', '1500m'), need('c', '1500m')], [free('x', '2000m'), free('y', '1000m')]);
    expect(no.homeless.map((p) => p.name)).toEqual(['c']);
  });
});

describe('the health gate before a batch', () => {
  it('lets a batch go whose pods fit the nodes that stay, and remembers whose pods to see running again', () => {
    const cmd = planGate(
      journal,
      batch,
      view([node('old'), node('new'), node('b')], [pod('web-1', 'old', '1500m'), pod('web-2', 'b', '1500m')]),
      settings,
      NOW,
    );
    expect(cmd).toEqual({ kind: 'go', settleOwners: { 'default/ReplicaSet/web': 0 } });
  });

  it('waits for room, saying what is short, and fails once the drain timeout has passed', () => {
    const crowded = view(
      [node('old'), node('new'), node('b')],
      [pod('web-1', 'old', '1500m'), pod('web-2', 'b', '1500m'), pod('db-1', 'new', '1800m')],
    );
    const wait = planGate(journal, batch, crowded, settings, NOW);
    expect(wait).toMatchObject({ kind: 'wait', journal: { roomSince: NOW } });
    expect(wait.kind === 'wait' && wait.did.waitingForRoom).toBe(
      "the batch's 1 pod(s) need 1500m CPU, 0Mi memory; the 2 node(s) that stay have 700m CPU, 8.0Gi memory free; " +
        'no room for default/web-1 (1500m CPU, 0Mi memory)',
    );
    const late = planGate({ ...journal, roomSince: NOW - 601_000 }, batch, crowded, settings, NOW);
    expect(late.kind === 'fail' && late.error.name).toBe('NoRoom');
    // A node with a taint the batch's nodes lack takes none of their pods; one they share does.
    const tainted = view(
      [node('old'), node('new', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] })],
      [pod('web-1', 'old', '1500m')],
    );
    expect(planGate(journal, batch, tainted, settings, NOW).kind).toBe('wait');
    const shared = view(
      [
        node('old', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] }),
        node('new', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] }),
      ],
      [pod('web-1', 'old', '1500m')],
    );
    expect(planGate(journal, batch, shared, settings, NOW).kind).toBe('go');
  });

  it("waits while the last batch's pods are Pending beyond what their controller had Pending, and fails past settleSeconds", () => {
    const settling = { ...journal, settleOwners: { 'default/ReplicaSet/web': 1 } };
    const nodes = [node('old'), node('new')];
    const one = [pod('web-9', undefined, '100m', { createdAt: NOW - 600_000 })];
    // As many Pending as when the batch was picked: settled.
    expect(planGate(settling, batch, view(nodes, one), settings, NOW).kind).toBe('go');
    const two = [...one, pod('web-3', undefined, '100m', { createdAt: NOW - 20_000, unschedulable: '0/2 nodes' })];
    const wait = planGate(settling, batch, view(nodes, two), settings, NOW);
    expect(wait).toMatchObject({ kind: 'wait', journal: { settleSince: NOW } });
    expect(wait.kind === 'wait' && wait.did.settling).toBe(
      '1 evicted pod(s) not Running yet: default/web-3 (Pending 20s: 0/2 nodes)',
    );
    // Counted from the first look that found it Pending, not from the pod's creation.
    expect(planGate({ ...settling, settleSince: NOW }, batch, view(nodes, two), settings, NOW + 59_000).kind).toBe(
      'wait',
    );
    const fail = planGate({ ...settling, settleSince: NOW }, batch, view(nodes, two), settings, NOW + 61_000);
    expect(fail.kind === 'fail' && fail.error.message).toMatch(
      /1 pod\(s\) evicted from the last batch of group nodes are still Pending 60s \(settleSeconds\) after the next batch was due/,
    );
  });

  it("holds the next master until the new one's static pods are Ready", () => {
    const masters = { ...settings, role: 'control-plane' as const };
    const mirror = (name: string, nodeName: string, ready: boolean) =>
      pod(name, nodeName, '100m', { isMirror: true, ownerKind: 'Node', ownerName: nodeName, ready });
    const nodes = [node('old'), node('new', { readySince: NOW - 30_000 })];
    const wait = planGate(journal, batch, view(nodes, [mirror('kube-apiserver-new', 'new', false)]), masters, NOW);
    expect(wait.kind === 'wait' && wait.did.settling).toMatch(/1 static pod\(s\) of the masters not Ready yet/);
    expect(planGate(journal, batch, view(nodes, [mirror('kube-apiserver-new', 'new', true)]), masters, NOW).kind).toBe(
      'go',
    );
    expect(
      planGate(journal, batch, view(nodes, [mirror('kube-apiserver-new', 'new', false)]), masters, NOW + 900_000).kind,
    ).toBe('fail');
  });
});
