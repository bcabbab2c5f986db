/**
 * The interruption drain can be trusted: what a forged start can and cannot do, cordons given back
 * when the instance outlives its notice, a ledger that stays small under churn, a launch hook that
 * fails open, and the campaign's finds, each as a scenario read from its report.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkInvariants } from '../../sim/chaos/campaign';
import { parseScenario, runScenario, type Report } from '../../sim/scenario/run';
import type { ClusterEvent } from '../../sim/kube/model';

const ZONES = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];
const base = (over: Record<string, unknown>) =>
  parseScenario({
    name: 'trust',
    cluster: { name: 'example.k8s.local', kind: 'kops' },
    groups: [
      { name: 'spot', role: 'worker', zones: ZONES, perZone: 2, maxPerZone: 3, desiredReady: 6, surplus: 1 },
      {
        name: 'steady',
        role: 'worker',
        zones: ZONES,
        perZone: 1,
        maxPerZone: 2,
        desiredReady: 3,
        surplus: 1,
        lifecycle: 'on-demand',
      },
    ],
    workloads: [
      { name: 'web', group: 'spot', replicas: 12, pdb: { maxUnavailable: 1 } },
      { name: 'api', group: 'steady', replicas: 6, pdb: { maxUnavailable: 1 } },
    ],
    runs: [{ on: 'interruption', workflow: 'interruption' }],
    until: '30m',
    ...over,
  });

const interruptions = (r: Report) => r.executions.filter((e) => e.workflow === 'interruption');
const did = (e: Report['executions'][number]) => (e.output as { did?: Record<string, unknown> } | null)?.did ?? {};
const ledger = (r: Report, group: string) =>
  (r.groups.find((g) => g.name === group)?.lease?.interruptions ?? {}) as Record<
    string,
    { kind: string; execution: string; doneAt?: number; survived?: boolean; node?: string }
  >;

/** A Spot warning as EC2 sends it, with the fault's substitutions. */
const spotWarning = (over: Record<string, unknown> = {}) => ({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Spot Instance Interruption Warning',
  source: 'aws.ec2',
  account: '123456789012',
  time: '$TIME',
  region: 'ap-northeast-1',
  resources: ['arn:aws:ec2:ap-northeast-1:123456789012:instance/$INSTANCE'],
  detail: { 'instance-id': '$INSTANCE', 'instance-action': 'terminate' },
  ...over,
});
const hookAction = (transition: string, hook: string, detailType: string) => ({
  version: '0',
  id: '8f3a2e91-0b7c-4d6e-9a1f-2c3b4d5e6f70',
  'detail-type': detailType,
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '$TIME',
  region: 'ap-northeast-1',
  resources: [
    'arn:aws:autoscaling:ap-northeast-1:123456789012:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/$ASG',
  ],
  detail: {
    LifecycleActionToken: '71514b9d-6a40-4b26-8523-05e7eEXAMPLE',
    AutoScalingGroupName: '$ASG',
    LifecycleHookName: hook,
    EC2InstanceId: '$INSTANCE',
    LifecycleTransition: transition,
    Origin: 'AutoScalingGroup',
    Destination: 'EC2',
  },
});

describe('forged starts: refused, succeeded, nothing changed', () => {
  const forged = [
    {
      name: 'backdated-on-demand',
      target: { group: 'steady', zone: ZONES[0] },
      input: spotWarning({ time: '$TIME-110s' }),
      why: /is an on-demand instance: EC2 sends Spot notices for Spot instances only/,
    },
    {
      name: 'future-dated',
      target: { group: 'spot', zone: ZONES[0] },
      input: spotWarning({ time: '$TIME+3600s' }),
      why: /3600s in the future: no notice comes from the future/,
    },
    {
      name: 'not-interrupted',
      target: { group: 'spot', zone: ZONES[1] },
      input: spotWarning(),
      why: /the Spot request of i-[0-9a-f]+ is fulfilled: EC2 has not marked it for interruption/,
    },
    {
      name: 'constructor',
      target: { group: 'spot' },
      input: spotWarning({ 'detail-type': 'constructor' }),
      why: /event.detail-type "constructor" is not one node-manager drains on/,
    },
    {
      name: 'proto',
      target: { group: 'spot' },
      input: spotWarning({ 'detail-type': '__proto__' }),
      why: /event.detail-type "__proto__" is not one node-manager drains on/,
    },
    {
      name: 'other-account',
      target: { group: 'spot' },
      input: spotWarning({ account: '999999999999' }),
      why: /names account 999999999999; this workflow serves account 123456789012 only/,
    },
    {
      name: 'hook-not-waiting',
      target: { group: 'spot', zone: ZONES[2] },
      input: hookAction(
        'autoscaling:EC2_INSTANCE_TERMINATING',
        'node-manager-drain',
        'EC2 Instance-terminate Lifecycle Action',
      ),
      why: /is InService in spot-ap-northeast-1d\.example\.k8s\.local, not Terminating:Wait: no termination waits on a hook/,
    },
    {
      name: 'launch-not-waiting',
      target: { group: 'spot', zone: ZONES[2] },
      input: hookAction(
        'autoscaling:EC2_INSTANCE_LAUNCHING',
        'node-manager-launch',
        'EC2 Instance-launch Lifecycle Action',
      ),
      why: /is InService in .*, not Pending:Wait: no launch waits on a hook/,
    },
    {
      name: 'stop-not-stopping',
      target: { group: 'steady', zone: ZONES[1] },
      input: {
        ...spotWarning(),
        'detail-type': 'EC2 Instance State-change Notification',
        detail: { 'instance-id': '$INSTANCE', state: 'stopping' },
      },
      why: /is running: it is not stopping or shutting down/,
    },
  ];

  it('each forged notice is refused, says why, and changes nothing; a genuine warning for the same instance later is drained as ever', async () => {
    const scenario = base({
      faults: [
        ...forged.map((f, i) => ({
          at: `${60 + i}s`,
          kind: 'startExecution',
          workflow: 'interruption',
          name: `forged-${f.name}`,
          target: f.target,
          input: f.input,
        })),
        // The instance of the future-dated forgery gets its genuine warning later.
        { at: '10m', kind: 'spotInterruption', group: 'spot', zone: ZONES[0], count: 1 },
      ],
    });
    const { report: r } = await runScenario(scenario);
    const byName = new Map(interruptions(r).map((e) => [e.name, e]));
    for (const f of forged) {
      const e = byName.get(`forged-${f.name}`)!;
      expect({ name: f.name, status: e.status, refused: did(e).refused, ignored: String(did(e).ignored) }).toEqual({
        name: f.name,
        status: 'SUCCEEDED',
        refused: true,
        ignored: expect.stringMatching(f.why),
      });
    }
    const forgedNames = new Set(forged.map((f) => `forged-${f.name}`));
    // No taint, cordon, eviction, detach, terminate, size change, hook completion, or even a ledger claim.
    expect(r.audit.filter((a) => forgedNames.has(a.execution ?? ''))).toEqual([]);
    expect(r.pods.deletedWithoutEviction).toBe(0);
    expect(r.outsideAsgs).toEqual([]);
    // A refusal claims nothing: the genuine warning for the instance of the future-dated forgery is drained.
    const genuine = interruptions(r).find((e) => !forgedNames.has(e.name) && e.startedAt === 600)!;
    expect(did(genuine)).toMatchObject({
      verified: 'Spot request instance-terminated-no-capacity',
      replacement: expect.stringContaining('detached from spot-ap-northeast-1a'),
    });
    expect(checkInvariants(scenario, r)).toEqual([]);
  });
});

describe('cordons given back when the instance survives its notice', () => {
  it('a stop followed by a start: drained at the stop, its node untainted and uncordoned once it runs again, the entry closed', async () => {
    const scenario = base({
      faults: [{ at: '5m', kind: 'instanceStop', group: 'steady', zone: ZONES[0], count: 1, for: '60s' }],
    });
    const nodeChanges: Array<{ at: number; unschedulable: boolean; tainted: boolean }> = [];
    let stopped: string | undefined;
    const run = await runScenario(scenario, {
      onReady: (sim) => {
        sim.cluster.watchers.add((e: ClusterEvent) => {
          if (e.kind !== 'Node' || !e.node || e.node.nodeGroup !== 'steady') return;
          const inst = sim.region.instances.get(e.node.instanceId);
          if (inst?.state === 'stopping') stopped ??= e.node.name;
          if (e.node.name === stopped)
            nodeChanges.push({
              at: (sim.now() - run0) / 1000,
              unschedulable: e.node.unschedulable,
              tainted: e.node.taints.some((t) => t.key === 'node-manager.io/interruption'),
            });
        });
        run0 = sim.now();
      },
    });
    const r = run.report;
    const [drain] = interruptions(r);
    expect(drain.status).toBe('SUCCEEDED');
    expect(did(drain)).toMatchObject({
      notice: 'unannounced',
      verified: 'EC2 shows it stopping',
      survived: expect.stringMatching(
        /is still running after its notice: .* untainted, uncordoned and back in load balancers/,
      ),
    });
    // Tainted and cordoned at the stop; given back after the start, for good.
    expect(nodeChanges.some((c) => c.tainted && c.unschedulable && c.at <= 301)).toBe(true);
    const last = nodeChanges[nodeChanges.length - 1];
    expect(last).toMatchObject({ unschedulable: false, tainted: false });
    const steady = r.groups.find((g) => g.name === 'steady')!;
    const member = steady.members.find((m) => m.node === stopped)!;
    expect(member).toMatchObject({ ready: true, unschedulable: false, cordonedBy: null, taints: [] });
    expect(Object.values(ledger(r, 'steady'))).toEqual([
      expect.objectContaining({ kind: 'unannounced', survived: true, doneAt: expect.any(Number) }),
    ]);
    expect(checkInvariants(scenario, r)).toEqual([]);
  });

  it('a stop that lasts: the ASG health check replaces the instance, the drain ends when it is gone', async () => {
    const scenario = base({ faults: [{ at: '5m', kind: 'instanceStop', group: 'steady', zone: ZONES[0], count: 1 }] });
    const { report: r } = await runScenario(scenario);
    const [drain] = interruptions(r).filter((e) => did(e).notice === 'unannounced');
    expect(drain.status).toBe('SUCCEEDED');
    expect(String(did(drain).watched)).toMatch(/gone as announced/);
    expect(r.groups.find((g) => g.name === 'steady')!.readyAtEnd).toBe(3);
    expect(r.pods.deletedWithoutEviction).toBe(0);
  });
});

/** Seconds a launch took from its event to CONTINUE, by instance, and the ABANDONs. */
function hookOutcomes(r: Report): { abandoned: string[]; continued: string[] } {
  const done = r.audit.filter((a) => a.operation === 'CompleteLifecycleAction' && a.outcome === 'ok');
  return {
    abandoned: done.filter((a) => a.target.endsWith('ABANDON')).map((a) => a.target),
    continued: done.filter((a) => a.target.endsWith('CONTINUE')).map((a) => a.target),
  };
}

describe('the ledger under churn', () => {
  it('48 hours of Spot churn with launch and termination hooks: the lease item stays small, nothing is abandoned that joined, and a refresh after it succeeds', async () => {
    const scenario = parseScenario({
      name: 'churn-48h',
      cluster: { name: 'example.k8s.local', kind: 'kops' },
      groups: [
        {
          name: 'spot',
          role: 'worker',
          zones: ZONES.slice(0, 2),
          perZone: 2,
          maxPerZone: 3,
          desiredReady: 4,
          surplus: 1,
          terminateHook: { heartbeatTimeoutSeconds: 120, maxHeartbeats: 2 },
          launchHook: true,
        },
      ],
      workloads: [{ name: 'web', group: 'spot', replicas: 8, pdb: { maxUnavailable: 1 } }],
      faults: [
        { at: '10m', kind: 'spotInterruption', group: 'spot', zone: ZONES[0], count: 1, every: '40m' },
        { at: '30m', kind: 'spotInterruption', group: 'spot', zone: ZONES[1], count: 1, every: '55m' },
      ],
      runs: [
        { on: 'interruption', workflow: 'interruption', duplicates: 0.3, maxDelaySeconds: 20 },
        { every: '2h', at: '5m', workflow: 'replenish', input: { group: 'spot' } },
        { at: '47h', workflow: 'refresh', input: { group: 'spot' } },
      ],
      until: '48h',
    });
    const { report: r } = await runScenario(scenario);
    const g = r.groups[0];
    const reclaims = interruptions(r).filter((e) => did(e).notice === 'spot-interruption' && did(e).replacement);
    expect(reclaims.length).toBeGreaterThan(100);
    // The lease item holds the lease and the group's memory only: the ledger lives in items of its own.
    expect(g.lease!.itemBytes).toBeLessThanOrEqual(16 * 1024);
    expect(Object.keys(g.lease!.interruptions).length).toBeGreaterThan(0);
    const refresh = r.executions.find((e) => e.workflow === 'refresh')!;
    expect(refresh.status).toBe('SUCCEEDED');
    // Every launch joined: none was abandoned.
    const hooks = hookOutcomes(r);
    expect(hooks.abandoned).toEqual([]);
    expect(hooks.continued.length).toBeGreaterThan(100);
    expect(r.executions.filter((e) => e.status === 'FAILED')).toEqual([]);
    expect(r.pods.lostToInterruption + r.pods.deletedWithoutEviction).toBe(0);
    expect(checkInvariants(scenario, r)).toEqual([]);
  });

  it('two notices at once for instances whose old entries expired: each claims its own entry, neither touches the other', async () => {
    // Rebalance recommendations note both instances (closed entries); an hour and more later both get their warnings at once.
    const scenario = base({
      faults: [
        { at: '0s', kind: 'rebalanceRecommendation', group: 'spot', zone: ZONES[0], count: 2 },
        { at: '70m', kind: 'spotInterruption', group: 'spot', zone: ZONES[0], count: 2 },
      ],
      until: '90m',
    });
    const { report: r } = await runScenario(scenario);
    const warned = interruptions(r).filter((e) => did(e).notice === 'spot-interruption');
    expect(warned).toHaveLength(2);
    // Their notes expired an hour after they closed: each warning is new work, claimed over the expired entry.
    expect(warned.every((e) => did(e).after === undefined && String(did(e).replacement).startsWith('detached'))).toBe(
      true,
    );
    const entries = ledger(r, 'spot');
    for (const e of warned) {
      const id = (e.input as { detail: { 'instance-id': string } }).detail['instance-id'];
      expect(entries[id]).toMatchObject({
        kind: 'spot-interruption',
        execution: expect.stringMatching(new RegExp(`:${e.name}$`)),
        doneAt: expect.any(Number),
      });
    }
    expect(checkInvariants(scenario, r)).toEqual([]);
  });
});

describe('the launch hook fails open', () => {
  it('with DynamoDB failing, every launch goes on (CONTINUE), and says why', async () => {
    const scenario = base({
      groups: [
        {
          name: 'spot',
          role: 'worker',
          zones: ZONES.slice(0, 2),
          perZone: 1,
          maxPerZone: 2,
          desiredReady: 2,
          surplus: 1,
          launchHook: true,
        },
      ],
      workloads: [],
      faults: [
        { at: '50s', kind: 'callFailure', operation: 'UpdateItem', times: 40 },
        { at: '1m', kind: 'scaleAsg', group: 'spot', zone: ZONES[0], desired: 2 },
        { at: '1m', kind: 'scaleAsg', group: 'spot', zone: ZONES[1], desired: 2 },
      ],
    });
    const { report: r, runner } = await runScenario(scenario);
    const launches = interruptions(r).filter(
      (e) => (e.input as { 'detail-type': string })['detail-type'] === 'EC2 Instance-launch Lifecycle Action',
    );
    expect(launches).toHaveLength(2);
    for (const e of launches) {
      // Our own failure fails the execution (someone should look at DynamoDB), after the launch was let through.
      expect([e.status, e.error]).toEqual(['FAILED', 'InterruptionDrainFailed']);
      const finish = runner.timeline.find(
        (t) => t.execution === e.name && t.state === 'Finish the drain' && t.outcome === 'ok',
      )!;
      expect(finish.summary).toMatchObject({
        lifecycleAction: 'completed CONTINUE (node-manager-launch)',
        failOpen: expect.stringMatching(/^node-manager failed \(AwsUnavailable\): the launch goes on/),
      });
    }
    expect(hookOutcomes(r).continued).toHaveLength(2);
    expect(hookOutcomes(r).abandoned).toEqual([]);
    expect(r.groups[0].members.filter((m) => m.ready)).toHaveLength(4);
  });
});

describe("the campaign's finds", () => {
  it("a failed refresh's cleanup leaves alone a node an interruption drain is draining", async () => {
    // A budget that allows nothing holds the refresh's first batch until its drain timeout; a Spot
    // warning for that very node comes meanwhile; the refresh fails and cleans up.
    const scenario = base({
      groups: [
        {
          name: 'spot',
          role: 'worker',
          zones: ZONES,
          perZone: 2,
          maxPerZone: 3,
          desiredReady: 6,
          surplus: 1,
          drainTimeoutSeconds: 60,
        },
      ],
      workloads: [{ name: 'web', group: 'spot', replicas: 6, pdb: { maxUnavailable: 0 } }],
      faults: [{ at: '175s', kind: 'spotInterruption', group: 'spot', zone: ZONES[0], count: 1 }],
      runs: [
        { on: 'interruption', workflow: 'interruption' },
        { at: '0s', workflow: 'refresh', input: { group: 'spot' } },
      ],
    });
    const { report: r } = await runScenario(scenario);
    const refresh = r.executions.find((e) => e.workflow === 'refresh')!;
    expect(refresh.error).toBe('DrainTimeout');
    const drain = interruptions(r).find((e) => did(e).notice === 'spot-interruption')!;
    const marked = r.audit.find(
      (a) => a.execution === drain.name && a.change?.includes('taint node-manager.io/interruption'),
    )!;
    expect(marked).toBeDefined();
    // The cleanup ran while the drain did, and did not uncordon its node.
    const cleanup = r.audit.filter((a) => a.execution === refresh.name && a.step === 'Clean up after failure');
    expect(cleanup.some((a) => a.at > marked.at && a.at < drain.stoppedAt!)).toBe(true);
    expect(
      r.audit.filter(
        (a) =>
          a.target === marked.target &&
          a.execution !== drain.name &&
          a.change?.includes('uncordon') &&
          a.at > marked.at,
      ),
    ).toEqual([]);
    expect(checkInvariants(scenario, r)).toEqual([]);
  });

  it('a take that fails after claiming: the entry is closed by finish, and a later notice for that instance is not mistaken for a duplicate', async () => {
    // Four Lambda retries, then the Catch: "Take the notice" dies five times after its claim.
    const scenario = base({
      groups: [
        {
          name: 'spot',
          role: 'worker',
          zones: ZONES,
          perZone: 2,
          maxPerZone: 3,
          desiredReady: 6,
          surplus: 1,
          terminateHook: { heartbeatTimeoutSeconds: 120, maxHeartbeats: 1 },
        },
      ],
      workloads: [{ name: 'web', group: 'spot', replicas: 12, pdb: { maxUnavailable: 1 } }],
      faults: [
        { at: '0s', kind: 'stepCrash', state: 'Take the notice', times: 5 },
        { at: '1m', kind: 'rebalanceRecommendation', group: 'spot', zone: ZONES[0], count: 1 },
        { at: '3m', kind: 'spotInterruption', group: 'spot', zone: ZONES[0], count: 1 },
      ],
    });
    const { report: r } = await runScenario(scenario);
    const [failed, ...rest] = interruptions(r);
    expect(failed.status).toBe('FAILED');
    const id = (failed.input as { detail: { 'instance-id': string } }).detail['instance-id'];
    const entry = ledger(r, 'spot')[id];
    expect(entry.doneAt).toBeDefined();
    // The warning that followed was drained as a warning, after the (closed) rebalance note.
    const warning = rest.find((e) => did(e).notice === 'spot-interruption')!;
    expect(did(warning)).toMatchObject({ after: 'rebalance', replacement: expect.stringContaining('detached') });
    expect(checkInvariants(scenario, r)).toEqual([]);
  });

  it('a Spot take retried after its own detach finds its group from its claim (Auto Scaling dropped the group tag): every pod evicted, none lost', async () => {
    const scenario = parseScenario({
      ...(JSON.parse(
        readFileSync(join(__dirname, '..', '..', 'examples', 'scenarios', 'spot-reclaim.json'), 'utf8'),
      ) as Record<string, unknown>),
      faults: [
        { at: '5m', kind: 'spotInterruption', group: 'nodes', zone: ZONES[0], count: 1 },
        { at: '5m', kind: 'stepCrash', state: 'Take the notice', times: 1 },
      ],
    });
    const { report: r } = await runScenario(scenario);
    const [drain] = interruptions(r);
    expect(drain.status).toBe('SUCCEEDED');
    expect(did(drain)).toMatchObject({ group: 'nodes', replacement: expect.stringContaining('detached') });
    expect(r.audit.filter((a) => a.execution === drain.name && a.operation === 'create pods/eviction')).toHaveLength(
      31,
    );
    expect(r.pods.lostToInterruption + r.pods.deletedWithoutEviction).toBe(0);
    expect(Object.values(ledger(r, 'nodes')).every((e) => e.doneAt !== undefined)).toBe(true);
    expect(r.outsideAsgs).toEqual([]);
  });

  it("a failed refresh's give-back remembers surplus that never launched, and replenish gives it back once it does", async () => {
    // The surplus lands in an empty ASG whose zone cannot launch; the refresh times out waiting for it.
    const scenario = base({
      groups: [
        {
          name: 'spot',
          role: 'worker',
          zones: ZONES,
          perZone: 2,
          minPerZone: 0,
          maxPerZone: 3,
          desiredReady: 4,
          surplus: 1,
          joinTimeoutSeconds: 300,
        },
      ],
      workloads: [],
      faults: [
        { at: '0s', kind: 'scaleAsg', group: 'spot', zone: ZONES[0], desired: 0 },
        { at: '0s', kind: 'zoneOutage', zone: ZONES[0], for: '40m' },
      ],
      runs: [
        { at: '1m', workflow: 'refresh', input: { group: 'spot' } },
        { every: '10m', at: '15m', workflow: 'replenish', input: { group: 'spot' } },
      ],
      until: '2h',
    });
    const { report: r } = await runScenario(scenario);
    const refresh = r.executions.find((e) => e.workflow === 'refresh')!;
    expect(refresh.error).toBe('SurgeTimeout');
    const g = r.groups[0];
    expect(
      (g.lease!.memory as { home?: Record<string, { desired: number }> }).home?.[`spot-${ZONES[0]}.example.k8s.local`]
        ?.desired,
    ).toBe(0);
    // Once the zone launches again, the substitute is given back: the ASG is home, nothing extra runs.
    expect(g.asgs.find((a) => a.zone === ZONES[0])!.desired).toBe(0);
    expect(g.members).toHaveLength(4);
  });

  it("a termination hook whose event comes 38 s late: the heartbeat is due from the action's start, and the action never times out under the drain", async () => {
    const scenario = base({
      groups: [
        {
          name: 'spot',
          role: 'worker',
          zones: ZONES,
          perZone: 2,
          maxPerZone: 3,
          desiredReady: 6,
          surplus: 1,
          terminateHook: { heartbeatTimeoutSeconds: 60, maxHeartbeats: 3 },
        },
      ],
      workloads: [{ name: 'ledger', group: 'spot', replicas: 6, pdb: { maxUnavailable: 0 } }],
      faults: [{ at: '1m', kind: 'scaleAsg', group: 'spot', zone: ZONES[0], desired: 1 }],
      runs: [{ on: 'interruption', workflow: 'interruption', delaySeconds: 38 }],
    });
    const { report: r } = await runScenario(scenario);
    const drain = interruptions(r).find((e) => did(e).notice === 'terminate-hook')!;
    const start = 60;
    const beats = r.audit.filter((a) => a.execution === drain.name && a.operation === 'RecordLifecycleActionHeartbeat');
    expect(beats.length).toBeGreaterThan(0);
    // The first heartbeat within the action's first timeout (from its start, not from the late event).
    expect(beats[0].at - start).toBeLessThanOrEqual(46);
    expect(beats.every((b) => b.outcome === 'ok')).toBe(true);
    // Completed by node-manager, not by the hook's timeout.
    expect(did(drain).lifecycleAction).toBe('completed CONTINUE (node-manager-drain)');
  });

  it('give-back under a blocking budget backs off instead of spinning', async () => {
    const scenario = base({
      groups: [
        {
          name: 'spot',
          role: 'worker',
          zones: ZONES,
          perZone: 2,
          maxPerZone: 3,
          desiredReady: 6,
          surplus: 3,
          drainTimeoutSeconds: 600,
        },
      ],
      workloads: [{ name: 'web', group: 'spot', replicas: 18, pdb: { maxUnavailable: 1 } }],
      faults: [{ at: '3m', kind: 'pdbBlock', workload: 'web', for: '40m' }],
      runs: [{ at: '0s', workflow: 'refresh', input: { group: 'spot' } }],
      until: '1h',
    });
    const { report: r } = await runScenario(scenario);
    const giveBack = r.audit.filter((a) => a.step === 'Give surplus back');
    // Before: a pass every 2 s for the whole drain timeout, ~300 passes cordoning 3 nodes each (906 patches, 1,510 evictions).
    expect(giveBack.filter((a) => a.operation === 'patch nodes')).toHaveLength(3);
    expect(giveBack.filter((a) => a.operation === 'create pods/eviction').length).toBeLessThan(100);
    expect(r.executions[0].lambdaInvocations).toBeLessThan(40);
  });
});

let run0 = 0;
