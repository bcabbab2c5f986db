/**
 * The interruption drain, through its shipped scenarios (the real ASL and handlers against the
 * simulator), read from the JSON report as an operator or an auditor would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkInvariants } from '../../sim/chaos/campaign';
import { parseScenario, runScenario, type Report } from '../../sim/scenario/run';

const DIR = join(__dirname, '..', '..', 'examples', 'scenarios');
const load = (name: string, over: Record<string, unknown> = {}) =>
  parseScenario({
    ...(JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as Record<string, unknown>),
    ...over,
  });

const interruptions = (r: Report) => r.executions.filter((e) => e.workflow === 'interruption');
const outputOf = (e: Report['executions'][number]) => (e.output as { did?: Record<string, unknown> } | null)?.did ?? {};
const audit = (r: Report, operation: string, execution?: string) =>
  r.audit.filter((a) => a.operation === operation && (!execution || a.execution === execution));
/** Seconds the group spent below its desired Ready count. */
function secondsBelow(r: Report, group: string, until: number): number {
  const g = r.groups.find((x) => x.name === group)!;
  let below = 0;
  g.readyTimeline.forEach(([t, ready], i) => {
    const nextT = i + 1 < g.readyTimeline.length ? g.readyTimeline[i + 1][0] : until;
    if (ready < g.desiredReady) below += nextT - t;
  });
  return below;
}

/** Nothing left behind: no instance outside an ASG, every ASG at home, nothing cordoned, no ledger entry still in flight. */
function expectWholeAndClean(r: Report, group: string) {
  const g = r.groups.find((x) => x.name === group)!;
  expect(r.outsideAsgs).toEqual([]);
  for (const a of g.asgs) expect({ asg: a.name, desired: a.desired }).toEqual({ asg: a.name, desired: a.homeDesired });
  expect(g.members.filter((m) => m.unschedulable || !m.ready).map((m) => m.instanceId)).toEqual([]);
  const open = Object.entries(g.lease?.interruptions ?? {}).filter(
    ([, e]) => (e as { doneAt?: number }).doneAt === undefined,
  );
  expect(open).toEqual([]);
}

describe('interruption drain', () => {
  it('one Spot reclaim: tainted at the warning, every pod evicted before the reclaim, the replacement launched at once; Ready below desired ≤ 30 s', async () => {
    const { report: r } = await runScenario(load('spot-reclaim'));
    const [drain, ...rest] = interruptions(r);
    expect(drain.status).toBe('SUCCEEDED');
    const warning = 300;
    const taint = audit(r, 'patch nodes', drain.name)[0];
    expect(taint.at - warning).toBeLessThanOrEqual(1);
    expect(audit(r, 'DetachInstances', drain.name).map((a) => [a.at, a.outcome])).toEqual([[warning, 'ok']]);
    const evictions = audit(r, 'create pods/eviction', drain.name);
    expect(evictions).toHaveLength(31);
    expect(Math.max(...evictions.map((e) => e.at)) - warning).toBeLessThanOrEqual(5);
    expect(r.pods.lostToInterruption).toBe(0);
    expect(r.pods.deletedWithoutEviction).toBe(0);
    expect(secondsBelow(r, 'nodes', 1200)).toBeLessThanOrEqual(30);
    // What AWS confirmed before anything changed.
    expect(outputOf(drain).verified).toBe('Spot request instance-terminated-no-capacity');
    // The reclaim's own state change is the same interruption's end, not new work: the instance is
    // in no ASG any more (detached), so the gate drops it before any execution starts.
    expect(rest).toEqual([]);
    expect(r.totals.gate).toMatchObject({ invocations: 2, dropped: 1 });
    expectWholeAndClean(r, 'nodes');
  });

  it('a reclaim during a refresh: drained without the lease, never picked by the refresh, which still replaces every old node', async () => {
    const { report: r } = await runScenario(load('spot-reclaim-during-refresh'));
    const refresh = r.executions.find((e) => e.workflow === 'refresh')!;
    expect(refresh.status).toBe('SUCCEEDED');
    const drain = interruptions(r).find((e) => e.output && outputOf(e).replacement)!;
    const reclaimed = (drain.input as { detail: Record<string, string> }).detail['instance-id'];
    expect(
      audit(r, 'TerminateInstanceInAutoScalingGroup', refresh.name).filter((a) => a.target.includes(reclaimed)),
    ).toEqual([]);
    expect(r.pods.lostToInterruption).toBe(0);
    const g = r.groups[0];
    expect(g.members.every((m) => (m.nodeCreatedAt ?? -1) > 0)).toBe(true);
    expect(g.lease?.holder ?? null).toBeNull();
    expectWholeAndClean(r, 'nodes');
  });

  it('a refresh pauses picking new batches while an interruption drain is in flight', async () => {
    const scenario = load('terminate-hook-budget', {
      groups: [
        {
          name: 'nodes',
          role: 'worker',
          zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
          perZone: 2,
          maxPerZone: 3,
          desiredReady: 5,
          surplus: 1,
          terminateHook: { heartbeatTimeoutSeconds: 120, maxHeartbeats: 3 },
        },
      ],
      runs: [
        { on: 'interruption', workflow: 'interruption' },
        { at: '130s', workflow: 'refresh', input: { group: 'nodes' } },
      ],
      until: '1h',
    });
    const run = await runScenario(scenario);
    const picks = run.runner.timeline
      .filter((t) => t.state === 'Replace oldest nodes' && t.outcome === 'ok')
      .map((t): Record<string, unknown> & { at: number } => ({
        ...(t.summary as Record<string, unknown>),
        at: (t.at - run.start) / 1000,
      }));
    const drain = interruptions(run.report)[0];
    const paused = picks.filter((p) => typeof p.paused === 'string');
    expect(paused.length).toBeGreaterThan(0);
    expect(paused[0].paused).toMatch(/1 interruption drain\(s\) in flight: .* \(terminate-hook\)/);
    // Every batch was picked after the drain ended.
    const batches = picks.filter((p) => Array.isArray(p.batch));
    expect(batches.length).toBeGreaterThan(0);
    expect(Math.min(...batches.map((p) => p.at))).toBeGreaterThanOrEqual(drain.stoppedAt!);
  });

  it('a termination hook held by a budget: heartbeats up to the limit, then CONTINUE, naming the pod and the budget', async () => {
    const { report: r } = await runScenario(load('terminate-hook-budget'));
    const [drain] = interruptions(r);
    expect(drain.status).toBe('SUCCEEDED');
    expect(audit(r, 'RecordLifecycleActionHeartbeat', drain.name)).toHaveLength(3);
    expect(audit(r, 'CompleteLifecycleAction', drain.name).map((a) => a.outcome)).toEqual(['ok']);
    const out = outputOf(drain);
    expect(out.lifecycleAction).toBe('completed CONTINUE (node-manager-drain)');
    expect(out.podsLeft).toEqual([expect.stringMatching(/^default\/ledger-/)]);
    expect(String(out.refusedBy)).toContain('The disruption budget ledger needs');
    // Held no longer than the hook allows: 3 heartbeats of 60 s at 45 s each + one timeout − the margin.
    expect(drain.stoppedAt! - drain.startedAt).toBeLessThanOrEqual(0.75 * 60 * 3 + 60);
    expect(r.outsideAsgs).toEqual([]);
  });

  it('events for an instance of no managed group start no execution: the gate drops them, says why, and nothing changes', async () => {
    const { report: r, runner } = await runScenario(load('interruption-foreign'));
    expect(interruptions(r)).toEqual([]);
    expect(runner.gate.outcomes.map((o) => o.outcome.dropped)).toEqual([
      expect.stringMatching(
        /^i-0[0-9a-f]{16} is in no Auto Scaling group \(another tool's instance, or one node-manager already detached\)$/,
      ),
      expect.stringMatching(/is in no Auto Scaling group/),
    ]);
    // One short invocation each, one Auto Scaling call each: no Step Functions execution.
    expect(r.totals.gate).toMatchObject({ invocations: 2, dropped: 2 });
    expect(r.totals.transitions).toBe(0);
    expect(r.audit).toEqual([]);
  });

  it('duplicated and late events: each notice drains once, every copy and the state changes that follow do nothing', async () => {
    const { report: r } = await runScenario(load('interruption-duplicates'));
    const worked = interruptions(r).filter((e) => outputOf(e).ignored === undefined);
    expect(worked.map((e) => outputOf(e).replacement ?? outputOf(e).lifecycleAction).length).toBe(3);
    const tainted = audit(r, 'patch nodes').map((a) => a.target);
    expect(new Set(tainted).size).toBe(tainted.length);
    expect(audit(r, 'DetachInstances')).toHaveLength(2);
    expect(audit(r, 'CompleteLifecycleAction').map((a) => a.outcome)).toEqual(['ok']);
    expect(interruptions(r).every((e) => e.status === 'SUCCEEDED')).toBe(true);
    expect(r.pods.lostToInterruption).toBe(0);
    expect(r.outsideAsgs).toEqual([]);
  });

  it('rebalance: with Capacity Rebalancing the ASG replaces it and its hook is drained and completed; without, it is noted and drained when the warning comes', async () => {
    const { report: r } = await runScenario(load('rebalance-capacity-rebalancing'));
    const drains = new Set(interruptions(r).map((e) => e.name));
    const groupOfAudit = (g: string, op: string) =>
      r.audit.filter((a) => a.group === g && a.operation === op && drains.has(a.execution ?? ''));
    expect(groupOfAudit('rebalancing', 'DetachInstances')).toEqual([]);
    // Drained once, when the ASG terminated it through the hook (not cordoned at the recommendation).
    expect(groupOfAudit('rebalancing', 'patch nodes')).toHaveLength(1);
    expect(groupOfAudit('rebalancing', 'CompleteLifecycleAction').map((a) => a.outcome)).toEqual(['ok']);
    const notes = interruptions(r).map((e) => String(outputOf(e).ignored ?? ''));
    expect(notes.filter((n) => n.includes('has Capacity Rebalancing: it launches the replacement'))).toHaveLength(1);
    expect(
      notes.filter((n) =>
        n.includes('at elevated risk; it is drained when its interruption warning or termination comes'),
      ),
    ).toHaveLength(1);
    // The plain group's node is drained and replaced at the warning, once.
    expect(groupOfAudit('plain', 'patch nodes').map((a) => a.at)).toEqual([360]);
    expect(groupOfAudit('plain', 'DetachInstances').map((a) => a.at)).toEqual([360]);
    expect(r.pods.lostToInterruption + r.pods.deletedWithoutEviction).toBe(0);
    expectWholeAndClean(r, 'rebalancing');
    expectWholeAndClean(r, 'plain');
  });

  it('launch hook (opt-in): a new instance goes InService once its node is Ready; one that never joins is abandoned at the join timeout and replaced', async () => {
    const { report: r } = await runScenario(load('launch-hook'));
    const launches = interruptions(r).filter(
      (e) => (e.input as { 'detail-type': string })['detail-type'] === 'EC2 Instance-launch Lifecycle Action',
    );
    expect(launches).toHaveLength(3);
    const results = launches.map((e) => [e.startedAt, outputOf(e).lifecycleAction, outputOf(e).joined]);
    // Auto Scaling holds an instance in Pending:Wait from its launch, and says so then.
    expect(results).toEqual([
      [60, 'completed ABANDON (node-manager-launch)', false],
      [60, 'completed CONTINUE (node-manager-launch)', true],
      [360, 'completed CONTINUE (node-manager-launch)', true],
    ]);
    // Abandoned at the join timeout counted from the launch (1m + 300 s).
    expect(launches[0].stoppedAt).toBe(360);
    // Completed as soon as the node was Ready: boot 90 s + join 60 s after the launch, within one poll.
    expect(launches[1].stoppedAt! - 60).toBeLessThanOrEqual(90 + 60 + 15);
    const g = r.groups[0];
    expect(g.members).toHaveLength(4);
    expect(g.members.every((m) => m.ready)).toBe(true);
    expect(r.outsideAsgs).toEqual([]);
  });

  it('a Spot storm: 50 reclaims in an hour on 60 nodes lose no pod and leave nothing over', async () => {
    const { report: r } = await runScenario(load('spot-storm'));
    const drains = interruptions(r).filter((e) => outputOf(e).replacement);
    expect(drains).toHaveLength(50);
    expect(r.pods.lostToInterruption).toBe(0);
    expect(r.pods.deletedWithoutEviction).toBe(0);
    expect(r.groups[0].readyAtEnd).toBe(60);
    expectWholeAndClean(r, 'nodes');
  });

  it('campaign find: "Take the notice" crashing after its work is retried as the same claim, not taken for a duplicate of itself', async () => {
    const scenario = parseScenario({
      name: 'take-crash',
      cluster: { name: 'example.k8s.local', kind: 'kops' },
      groups: [
        {
          name: 'nodes',
          role: 'worker',
          zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
          perZone: 2,
          maxPerZone: 3,
          desiredReady: 6,
          surplus: 1,
          terminateHook: { heartbeatTimeoutSeconds: 60, maxHeartbeats: 1 },
        },
      ],
      faults: [{ kind: 'stepCrash', at: '0m', state: 'Take the notice', times: 1 }],
      runs: [
        { workflow: 'refresh', at: '0m', input: { group: 'nodes' } },
        { on: 'interruption', workflow: 'interruption' },
      ],
      until: '2h',
    });
    const { report: r } = await runScenario(scenario);
    const crashed = interruptions(r)[0];
    expect(String(outputOf(crashed).ignored ?? '')).not.toContain('duplicate');
    expect(audit(r, 'CompleteLifecycleAction', crashed.name).map((a) => a.outcome)).toEqual(['ok']);
    expect(checkInvariants(scenario, r)).toEqual([]);
  });

  it('campaign find: a claim whose entry another claim pruned meanwhile reads again and claims, so every termination hook is answered', async () => {
    // Two refreshes an hour apart with hooks on launch and termination, every event delivered twice at
    // once: claims made an hour later prune the launches' entries while other claims expect them.
    const scenario = parseScenario({
      name: 'claim-pruned',
      seed: 271997,
      cluster: { name: 'example.k8s.local', kind: 'kops' },
      groups: [
        {
          name: 'spot',
          role: 'worker',
          zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
          perZone: 4,
          maxPerZone: 4,
          desiredReady: 12,
          surplus: 3,
          instanceAgeDays: 10,
          terminateHook: { heartbeatTimeoutSeconds: 300, maxHeartbeats: 1 },
          launchHook: true,
        },
        {
          name: 'master',
          role: 'control-plane',
          zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
          perZone: 1,
          maxPerZone: 1,
          desiredReady: 3,
          surplus: 0,
          instanceAgeDays: 30,
        },
      ],
      workloads: [],
      faults: [],
      runs: [
        { workflow: 'refresh', at: '0m', input: { group: 'spot' } },
        { workflow: 'refresh', at: '79m', input: { group: 'spot' } },
        { workflow: 'refresh', at: '50m', input: { group: 'master' } },
        { every: '10m', at: '3m', workflow: 'replenish', input: { group: 'spot' } },
        { every: '10m', at: '3m', workflow: 'replenish', input: { group: 'master' } },
        { on: 'autoscaling', workflow: 'replenish', input: { group: 'spot' } },
        { on: 'interruption', workflow: 'interruption', duplicates: 0.5, maxDelaySeconds: 0 },
      ],
      until: '10h',
    });
    const { report: r } = await runScenario(scenario);
    const hooks = interruptions(r).filter(
      (e) => (e.input as { 'detail-type': string })['detail-type'] === 'EC2 Instance-terminate Lifecycle Action',
    );
    const answered = new Set(
      audit(r, 'CompleteLifecycleAction')
        .filter((a) => a.outcome === 'ok')
        .map((a) => a.target.split(' ')[0]),
    );
    const instances = new Set(
      hooks.map((e) => `instance/${(e.input as { detail: { EC2InstanceId: string } }).detail.EC2InstanceId}`),
    );
    expect([...instances].filter((i) => !answered.has(i))).toEqual([]);
    expect(checkInvariants(scenario, r)).toEqual([]);
  });

  it('input that is not an interruption event is refused before anything is read, naming the field; the execution succeeds', async () => {
    const { report: r } = await runScenario(
      load('interruption-foreign', {
        faults: [],
        runs: [{ at: '0s', workflow: 'refresh', input: { group: 'nodes', dryRun: true } }],
      }),
      {
        onReady: (_sim, runner) => {
          runner.start('interruption', { group: 'nodes' });
          runner.start('interruption', {
            'detail-type': 'EC2 Spot Instance Interruption Warning',
            source: 'aws.ec2',
            time: '2026-11-01T00:00:00Z',
            detail: { 'instance-id': 'bastion' },
          });
        },
      },
    );
    expect(interruptions(r).map((e) => [e.status, outputOf(e).refused, outputOf(e).ignored])).toEqual([
      ['SUCCEEDED', true, expect.stringContaining('event.detail-type must be a non-empty string') as unknown],
      ['SUCCEEDED', true, expect.stringContaining('event.account must be a non-empty string') as unknown],
    ]);
    expect(r.audit).toEqual([]);
  });
});
