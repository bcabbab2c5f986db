import fc from 'fast-check';
import {
  classify,
  formatProviderId,
  parseProviderId,
  type AsgState,
  type InstanceState,
  type NodeState,
  type Snapshot,
} from '../../lambdas/core';

const T0 = Date.UTC(2026, 10, 1);

function asg(name: string, zone: string, instances: Array<[string, string]>): AsgState {
  return {
    name,
    zones: [zone],
    desired: instances.length,
    min: 0,
    max: 10,
    instances: instances.map(([instanceId, lifecycleState]) => ({
      instanceId,
      zone,
      lifecycleState,
      healthStatus: 'Healthy',
    })),
    activities: [],
    tags: {},
  };
}

function inst(
  instanceId: string,
  zone: string,
  launchTime: number,
  state: InstanceState['state'] = 'running',
): InstanceState {
  return { instanceId, zone, instanceType: 'm5.large', lifecycle: 'spot', launchTime, state };
}

function node(
  name: string,
  zone: string,
  instanceId: string,
  createdAt: number,
  extra: Partial<NodeState> = {},
): NodeState {
  return {
    name,
    providerID: formatProviderId(zone, instanceId),
    ready: true,
    unschedulable: false,
    createdAt,
    labels: {},
    cordonedByUs: false,
    ...extra,
  };
}

describe('providerID', () => {
  it('parses what kubelet sets and rejects anything else', () => {
    expect(parseProviderId('aws:///ap-northeast-1a/i-0abc123')).toEqual({
      zone: 'ap-northeast-1a',
      instanceId: 'i-0abc123',
    });
    expect(parseProviderId('aws://ap-northeast-1a/i-0abc123')).toBeUndefined();
    expect(parseProviderId('gce://p/z/n')).toBeUndefined();
    expect(parseProviderId(undefined)).toBeUndefined();
  });
});

describe('classify', () => {
  it('joins instances to nodes by providerID and names each state', () => {
    const snapshot: Snapshot = {
      group: 'nodes',
      takenAt: T0,
      asgs: [
        asg('nodes-a', 'az-a', [
          ['i-0a', 'InService'],
          ['i-0b', 'InService'],
          ['i-0c', 'InService'],
          ['i-0d', 'Terminating'],
        ]),
        asg('nodes-c', 'az-c', [
          ['i-0e', 'InService'],
          ['i-0f', 'Pending'],
        ]),
      ],
      instances: [
        inst('i-0a', 'az-a', T0 - 9e6),
        inst('i-0b', 'az-a', T0 - 8e6),
        inst('i-0c', 'az-a', T0 - 7e6),
        inst('i-0d', 'az-a', T0 - 6e6),
        inst('i-0e', 'az-c', T0 - 5e6),
        inst('i-0f', 'az-c', T0 - 60_000, 'pending'),
      ],
      nodes: [
        node('n-a', 'az-a', 'i-0a', T0 - 8.9e6),
        node('n-b', 'az-a', 'i-0b', T0 - 7.9e6, { ready: false }),
        node('n-c', 'az-a', 'i-0c', T0 - 6.9e6, { unschedulable: true, cordonedByUs: true }),
        node('n-d', 'az-a', 'i-0d', T0 - 5.9e6),
        node('n-e', 'az-c', 'i-0e', T0 - 4.9e6, { unschedulable: true }),
        node('stray', 'az-d', 'i-0ffff', T0),
      ],
    };
    const c = classify(snapshot, T0);
    const byId = Object.fromEntries(c.members.map((m) => [m.instanceId, m.state]));
    expect(byId).toEqual({
      'i-0a': 'ready',
      'i-0b': 'notReady',
      'i-0c': 'leaving',
      'i-0d': 'leaving',
      'i-0e': 'ready',
      'i-0f': 'notJoined',
    });
    expect(c.counts).toEqual({ ready: 2, notReady: 1, notJoined: 1, leaving: 2 });
    expect(c.unmatchedNodes.map((n) => n.name)).toEqual(['stray']);
    expect(c.members.find((m) => m.instanceId === 'i-0f')!.ageSeconds).toBe(60);
    // oldest node first; the member without a node last
    expect(c.members.map((m) => m.instanceId)).toEqual(['i-0a', 'i-0b', 'i-0c', 'i-0d', 'i-0e', 'i-0f']);
  });

  it('orders by node creation, then launch time, then instance id', () => {
    const snapshot: Snapshot = {
      group: 'g',
      takenAt: T0,
      asgs: [
        asg('a', 'z', [
          ['i-02', 'InService'],
          ['i-01', 'InService'],
          ['i-03', 'InService'],
          ['i-04', 'InService'],
        ]),
      ],
      instances: [
        inst('i-01', 'z', T0 - 100),
        inst('i-02', 'z', T0 - 200),
        inst('i-03', 'z', T0 - 300),
        inst('i-04', 'z', T0 - 300),
      ],
      nodes: [node('x', 'z', 'i-01', T0 - 50), node('y', 'z', 'i-02', T0 - 50)],
    };
    expect(classify(snapshot, T0).members.map((m) => m.instanceId)).toEqual(['i-02', 'i-01', 'i-03', 'i-04']);
  });

  it('classifies every instance exactly once, whatever the mix (property)', () => {
    const lifecycle = fc.constantFrom(
      'Pending',
      'InService',
      'Terminating',
      'Terminating:Wait',
      'Detaching',
      'Standby',
    );
    const ec2State = fc.constantFrom('pending', 'running', 'shutting-down', 'terminated', undefined);
    const instance = fc.record({
      lifecycle,
      ec2State,
      joined: fc.boolean(),
      ready: fc.boolean(),
      cordoned: fc.boolean(),
      asg: fc.integer({ min: 0, max: 3 }),
      age: fc.nat(1e9),
    });
    fc.assert(
      fc.property(
        fc.array(instance, { maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 10 }),
        (specs, dups) => {
          const ids = specs.map((_, i) => `i-${i.toString(16).padStart(8, '0')}`);
          const asgs: AsgState[] = [0, 1, 2, 3].map((k) =>
            asg(
              `asg-${k}`,
              `z${k}`,
              specs.flatMap((s, i) => (s.asg === k ? [[ids[i], s.lifecycle] as [string, string]] : [])),
            ),
          );
          // The same instance may show up in a second ASG while it moves; it still counts once.
          for (const d of dups)
            if (ids[d])
              (asgs[(d + 1) % 4].instances as unknown as object[]).push({
                instanceId: ids[d],
                zone: 'z',
                lifecycleState: 'InService',
                healthStatus: 'Healthy',
              });
          const snapshot: Snapshot = {
            group: 'g',
            takenAt: T0,
            asgs,
            instances: specs.flatMap((s, i) =>
              s.ec2State ? [inst(ids[i], `z${s.asg}`, T0 - s.age, s.ec2State as InstanceState['state'])] : [],
            ),
            nodes: specs.flatMap((s, i) =>
              s.joined
                ? [
                    node(`n${i}`, `z${s.asg}`, ids[i], T0 - s.age / 2, {
                      ready: s.ready,
                      cordonedByUs: s.cordoned,
                      unschedulable: s.cordoned,
                    }),
                  ]
                : [],
            ),
          };
          const c = classify(snapshot, T0);
          const seen = c.members.map((m) => m.instanceId).sort();
          expect(seen).toEqual([...ids].sort());
          expect(Object.values(c.counts).reduce((a, b) => a + b, 0)).toBe(ids.length);
          for (const m of c.members) {
            if (m.state === 'ready') expect(m.node?.ready && !m.node.cordonedByUs).toBe(true);
            if (m.state === 'notJoined') expect(m.node).toBeUndefined();
          }
        },
      ),
    );
  });
});
