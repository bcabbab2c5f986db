/**
 * What a randomized fault campaign broke, each as the scenario that broke it: every test failed
 * before its fix. The invariants are read from the JSON report alone, as an auditor would.
 */
import { parseScenario, runScenario, type Report } from '../../sim/scenario/run';

const WORKERS = {
  name: 'nodes',
  role: 'worker',
  zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
  perZone: 1,
  maxPerZone: 1,
  desiredReady: 3,
  surplus: 1,
  instanceAgeDays: 10,
};

function scenario(over: Record<string, unknown>) {
  return parseScenario(raw(over));
}

function raw(over: Record<string, unknown>): Record<string, unknown> & { runs: unknown[] } {
  return {
    name: 'fault',
    cluster: { name: 'example.k8s.local', kind: 'kops' },
    groups: [WORKERS],
    workloads: [{ name: 'web', group: 'nodes', replicas: 4, pdb: { maxUnavailable: 1 } }],
    runs: [{ at: '0s', workflow: 'refresh', input: { group: 'nodes' } }],
    until: '6h',
    ...over,
  } as Record<string, unknown> & { runs: unknown[] };
}

const group = (r: Report, name = 'nodes') => r.groups.find((g) => g.name === name)!;
const summaries = (r: Awaited<ReturnType<typeof runScenario>>, state: string, execution?: string) =>
  r.runner.timeline
    .filter((t) => t.state === state && (!execution || t.execution === execution) && t.outcome === 'ok')
    .map((t) => t.summary as Record<string, unknown>);

/** Nothing left behind: no lease held, nothing cordoned, every ASG at its home desired and MaxSize, no instance outside an ASG. */
function expectNothingLeftBehind(r: Report, homeMax = 1) {
  for (const g of r.groups) {
    expect({ group: g.name, holder: g.lease?.holder ?? null }).toEqual({ group: g.name, holder: null });
    expect(g.members.filter((m) => m.unschedulable)).toEqual([]);
    for (const a of g.asgs)
      expect({ asg: a.name, desired: a.desired, max: a.max }).toEqual({
        asg: a.name,
        desired: a.homeDesired,
        max: homeMax,
      });
  }
  expect(r.outsideAsgs).toEqual([]);
}

describe('faults the campaign found', () => {
  it('reap: TerminateInstances failing once after the detach leaves no instance outside every ASG, and the reap is reported', async () => {
    const run = await runScenario(
      scenario({
        groups: [{ ...WORKERS, maxPerZone: 2 }],
        faults: [
          { at: '0s', kind: 'neverJoin', group: 'nodes', zone: 'ap-northeast-1a', count: 1 },
          { at: '10m', kind: 'spotInterruption', group: 'nodes', zone: 'ap-northeast-1a', count: 1 },
          { at: '0s', kind: 'callFailure', operation: 'TerminateInstances', times: 1 },
        ],
        runs: [{ every: '5m', workflow: 'replenish', input: { group: 'nodes' } }],
        until: '1h',
      }),
    );
    const r = run.report;
    expect(r.outsideAsgs).toEqual([]);
    expect(group(r).reaps).toHaveLength(1);
    const terminated = r.audit.filter((a) => a.operation === 'TerminateInstances' && a.outcome === 'ok');
    expect(terminated.map((a) => a.target)).toEqual([`instances=${group(r).reaps[0].instanceId}`]);
    expect(r.executions.filter((e) => e.status === 'FAILED')).toEqual([]);
    expect(group(r).readyAtEnd).toBe(3);
  });

  it('MaxSize raised by the surge is restored once replenish gives the kept surplus back', async () => {
    const run = await runScenario(
      scenario({
        // The replacement of the first node replaced (1c: 1a's, whose ASG took the surplus, is kept
        // for last) cannot launch: the refresh fails with ReplacementTimeout and must keep the
        // surplus node, which stands in for it.
        faults: [{ at: '1m', kind: 'zoneOutage', zone: 'ap-northeast-1c', for: '1h' }],
        groups: [{ ...WORKERS, joinTimeoutSeconds: 900 }],
        runs: [
          { at: '0s', workflow: 'refresh', input: { group: 'nodes' } },
          { every: '5m', at: '30m', workflow: 'replenish', input: { group: 'nodes' } },
        ],
        until: '3h',
      }),
    );
    const r = run.report;
    expect(r.executions[0]).toMatchObject({ workflow: 'refresh', status: 'FAILED', error: 'ReplacementTimeout' });
    expectNothingLeftBehind(r);
    expect(group(r).readyAtEnd).toBe(3);
  });

  it('forced restore: when giving the surplus back fails, the home layout is remembered and the surplus given back later; a crashed retry still says what was left', async () => {
    // A refresh that fails (a budget blocks past the drain timeout) gives its surplus back by draining it.
    const base = raw({
      groups: [{ ...WORKERS, drainTimeoutSeconds: 60 }],
      faults: [{ at: '0s', kind: 'pdbBlock', workload: 'web', for: '10m' }],
      until: '2h',
    });
    const first = await runScenario(parseScenario(base));
    const giveBackAt = first.runner.timeline.find((t) => t.state === 'Give surplus back')!.at - first.start;
    const run = await runScenario(
      parseScenario({
        ...base,
        faults: [
          ...(base.faults as unknown[]),
          { at: `${giveBackAt / 1000 - 1}s`, kind: 'callFailure', operation: 'patch nodes', times: 8 },
          { at: `${giveBackAt / 1000 - 1}s`, kind: 'stepCrash', state: 'Restore sizes and release', times: 1 },
        ],
        runs: [
          ...base.runs,
          {
            every: '5m',
            at: `${Math.ceil(giveBackAt / 60_000) + 10}m`,
            workflow: 'replenish',
            input: { group: 'nodes' },
          },
        ],
      }),
    );
    const r = run.report;
    expect(r.executions[0].status).toBe('FAILED');
    const restored = summaries(run, 'Restore sizes and release', r.executions[0].name);
    expect(JSON.stringify(restored.at(-1))).toContain('surplusLeftInPlace');
    expectNothingLeftBehind(r);
  });

  it('a refresh stopped while its drain waits inside the step ends there; the next takes over and leaves nothing behind', async () => {
    // A budget refuses every eviction for 10 minutes: the first batch's drain sleeps in its step.
    const run = await runScenario(
      scenario({
        faults: [
          { at: '0s', kind: 'pdbBlock', workload: 'web', for: '10m' },
          { at: '200s', kind: 'stopExecution', workflow: 'refresh' },
        ],
        runs: [
          { at: '0s', workflow: 'refresh', input: { group: 'nodes' } },
          { at: '20m', workflow: 'refresh', input: { group: 'nodes' } },
        ],
        until: '2h',
      }),
    );
    const stopped = run.report.executions[0];
    expect(stopped.status).toBe('ABORTED');
    // It was stopped in the middle of a step that waited for the budget.
    const passes = run.runner.timeline.filter(
      (t) => t.execution === stopped.name && t.state === 'Replace oldest nodes',
    );
    expect(passes.some((t) => JSON.stringify(t.summary).includes('stopped while its step waited'))).toBe(true);
    expect(run.report.executions[1].status).toBe('SUCCEEDED');
    expectNothingLeftBehind(run.report);
  });

  it('a refresh stopped after journaling a termination AWS never carried out: the next keeps that drained node cordoned and terminates it', async () => {
    const base = raw({ until: '2h' });
    const first = await runScenario(parseScenario(base));
    const at = first.report.audit.find((a) => a.operation === 'TerminateInstanceInAutoScalingGroup')!.at;
    const run = await runScenario(
      parseScenario({
        ...base,
        faults: [
          { at: `${at - 1}s`, kind: 'callFailure', operation: 'TerminateInstanceInAutoScalingGroup', times: 3 },
          { at: `${at + 1}s`, kind: 'stopExecution', workflow: 'refresh' },
        ],
        runs: [...base.runs, { at: `${at + 60}s`, workflow: 'refresh', input: { group: 'nodes' } }],
      }),
    );
    const r = run.report;
    expect(r.executions.map((e) => e.status)).toEqual(['ABORTED', 'SUCCEEDED']);
    const failed = r.audit.find((a) => a.operation === 'TerminateInstanceInAutoScalingGroup' && a.outcome !== 'ok')!;
    const node = first.report.audit.find((a) => a.operation === 'patch nodes')!.target;
    // The drained node is never uncordoned by the refresh that took over: it is terminated as it is.
    expect(
      r.audit.filter((a) => a.execution === r.executions[1].name && a.target === node && a.operation === 'patch nodes'),
    ).toEqual([]);
    expect(failed.execution).toBe(r.executions[0].name);
    expect(
      r.audit
        .filter(
          (a) =>
            a.execution === r.executions[1].name &&
            a.operation === 'TerminateInstanceInAutoScalingGroup' &&
            a.target === failed.target,
        )
        .map((a) => a.outcome)
        .at(-1),
    ).toBe('ok');
    expect(r.pods.deletedWithoutEviction).toBe(0);
    expectNothingLeftBehind(r);
  });

  it('a refresh stopped during give-back is resumed in give-back: no surplus re-added', async () => {
    const base = raw({ until: '2h' });
    const first = await runScenario(parseScenario(base));
    // The last batch goes with decrement (the surplus stands in for it); the give-back that follows
    // restores MaxSize. It crashes once after doing so, and the refresh is stopped before the retry.
    const last = first.runner.timeline.find(
      (t) => t.state === 'Replace oldest nodes' && (t.summary as { withDecrement?: boolean }).withDecrement,
    )!;
    const stopAt = (last.at - first.start) / 1000 + 1;
    const run = await runScenario(
      parseScenario({
        ...base,
        faults: [
          { at: '0s', kind: 'stepCrash', state: 'Give surplus back', times: 1 },
          { at: `${stopAt}s`, kind: 'stopExecution', workflow: 'refresh' },
        ],
        runs: [...base.runs, { at: `${stopAt + 60}s`, workflow: 'refresh', input: { group: 'nodes' } }],
      }),
    );
    const r = run.report;
    expect(r.executions.map((e) => e.status)).toEqual(['ABORTED', 'SUCCEEDED']);
    const raisedLater = r.audit.filter(
      (a) =>
        a.at > stopAt &&
        (a.operation === 'SetDesiredCapacity' || a.operation === 'UpdateAutoScalingGroup') &&
        / desired=2/.test(a.target),
    );
    expect(raisedLater).toEqual([]);
    expectNothingLeftBehind(r);
  });

  it('a refresh that takes over a failed one stopped in its give-back finishes that give-back, then refreshes anew (it does not succeed having replaced nothing)', async () => {
    const base = raw({
      groups: [{ ...WORKERS, drainTimeoutSeconds: 60 }],
      faults: [{ at: '0s', kind: 'pdbBlock', workload: 'web', for: '10m' }],
      until: '3h',
    });
    const first = await runScenario(parseScenario(base));
    expect(first.report.executions[0]).toMatchObject({ status: 'FAILED', error: 'DrainTimeout' });
    const givingBack = first.runner.timeline.find((t) => t.state === 'Give surplus back')!;
    const stopAt = (givingBack.at - first.start) / 1000 + 1;
    const run = await runScenario(
      parseScenario({
        ...base,
        faults: [...(base.faults as unknown[]), { at: `${stopAt}s`, kind: 'stopExecution', workflow: 'refresh' }],
        runs: [...base.runs, { at: '15m', workflow: 'refresh', input: { group: 'nodes' } }],
      }),
    );
    const [stopped, second] = run.report.executions;
    expect(stopped.status).toBe('ABORTED');
    expect(second.status).toBe('SUCCEEDED');
    expect(JSON.stringify(summaries(run, 'Take the group lease', second.name))).toContain('then refreshing anew');
    // Every node is newer than the start the second refresh kept (the first's).
    const kept = (second.output as { startedAt: number }).startedAt;
    expect(kept).toBe(run.start);
    expect(group(run.report).members.every((m) => (m.nodeCreatedAt ?? -1) >= 0)).toBe(true);
    expectNothingLeftBehind(run.report);
  });

  it('a failure in "Take the group lease" after the lease was taken goes to cleanup: the lease is released', async () => {
    const run = await runScenario(
      scenario({ faults: [{ at: '0s', kind: 'stepCrash', state: 'Take the group lease', times: 20 }], until: '1h' }),
    );
    const r = run.report;
    expect(r.executions[0]).toMatchObject({ status: 'FAILED', error: 'Runtime.ExitError' });
    expectNothingLeftBehind(r);
  });

  it('a resumed refresh says it resumes, from which execution, and the start it keeps, also when its takeover is retried', async () => {
    const run = await runScenario(
      scenario({
        runs: [
          { at: '0s', workflow: 'refresh', input: { group: 'nodes' } },
          { at: '15m', workflow: 'refresh', input: { group: 'nodes' } },
        ],
        faults: [
          { at: '4m', kind: 'stopExecution', workflow: 'refresh' },
          { at: '15m', kind: 'stepCrash', state: 'Take the group lease', times: 1 },
        ],
        until: '3h',
      }),
    );
    const [firstExec, second] = run.report.executions;
    expect(second.status).toBe('SUCCEEDED');
    const takes = summaries(run, 'Take the group lease', second.name);
    const firstStart = new Date(run.start).toISOString();
    expect(takes.at(-1)).toMatchObject({
      resumed: { from: expect.stringContaining(firstExec.name), startedAt: firstStart },
    });
    const surge = summaries(run, 'Add surplus nodes', second.name);
    expect(JSON.stringify(surge)).toContain(`resuming ${firstExec.name}`);
    expectNothingLeftBehind(run.report);
  });

  it('a budget that allows no disruption on a substitute node: replenish gives up early, says why, and does not try again at once', async () => {
    const run = await runScenario(
      scenario({
        groups: [{ ...WORKERS, maxPerZone: 2, drainTimeoutSeconds: 600 }],
        workloads: [{ name: 'web', group: 'nodes', replicas: 4, pdb: { maxUnavailable: 0 } }],
        faults: [
          { at: '10m', kind: 'zoneOutage', zone: 'ap-northeast-1a', for: '30m' },
          { at: '10m', kind: 'spotInterruption', group: 'nodes', zone: 'ap-northeast-1a', count: 1 },
          // Pods spread onto the substitute node too, as deployments roll.
          { at: '30m', kind: 'rollout', workload: 'web' },
        ],
        runs: [{ every: '5m', workflow: 'replenish', input: { group: 'nodes' } }],
        until: '3h',
      }),
    );
    const r = run.report;
    const attempts = new Map<string, number[]>();
    for (const t of run.runner.timeline.filter((x) => x.state === 'Give capacity back'))
      attempts.set(t.execution, [...(attempts.get(t.execution) ?? []), t.at]);
    expect(attempts.size).toBeGreaterThan(0);
    for (const times of attempts.values())
      expect((Math.max(...times) - Math.min(...times)) / 1000).toBeLessThanOrEqual(90);
    const starts = [...attempts.values()].map((t) => Math.min(...t)).sort((a, b) => a - b);
    for (let i = 1; i < starts.length; i += 1) expect(starts[i] - starts[i - 1]).toBeGreaterThanOrEqual(30 * 60_000);
    const gaveUp = run.runner.timeline
      .map((t) => (t.summary as { gaveUp?: string } | undefined)?.gaveUp)
      .filter(Boolean);
    expect(gaveUp[0]).toContain('The disruption budget web');
    expect(r.executions.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    expect(group(r).members.filter((m) => m.unschedulable)).toEqual([]);
  });

  it("a forged continuation cannot take a running refresh's lease: InvalidInput, nothing changed (also with a huge start time)", async () => {
    const arn = 'arn:aws:states:ap-northeast-1:123456789012:execution:node-manager-refresh:refresh-001';
    const forged = (c: Record<string, unknown>) => ({
      group: 'nodes',
      continuation: { from: arn, startedAt: 0, token: 'a'.repeat(32), ...c },
      AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: arn,
    });
    const run = await runScenario(
      scenario({
        runs: [
          { at: '0s', workflow: 'refresh', input: { group: 'nodes' } },
          { at: '5m', workflow: 'refresh', input: forged({ startedAt: Date.UTC(2026, 10, 1) }) },
          { at: '6m', workflow: 'refresh', input: forged({ startedAt: 1e300 }) },
          {
            at: '7m',
            workflow: 'refresh',
            input: { group: 'nodes', continuation: { from: arn, startedAt: Date.UTC(2026, 10, 1) } },
          },
        ],
        until: '3h',
      }),
    );
    const [victim, ...forgers] = run.report.executions;
    expect(victim.status).toBe('SUCCEEDED');
    for (const f of forgers) {
      expect(f).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
      expect(run.report.audit.filter((a) => a.execution === f.name && a.outcome === 'ok')).toEqual([]);
    }
    expect(forgers[0].cause).toContain('offered no hand-over');
    expectNothingLeftBehind(run.report);
  });

  it('executions cut off by `until` are reported RUNNING', async () => {
    const run = await runScenario(scenario({ until: '3m' }));
    expect(run.report.executions[0].status).toBe('RUNNING');
  });

  it('an invocation is billed for its own calls only, with two refreshes running side by side', async () => {
    const run = await runScenario(
      scenario({
        groups: [WORKERS, { ...WORKERS, name: 'other' }],
        workloads: [],
        runs: [
          { at: '0s', workflow: 'refresh', input: { group: 'nodes' } },
          { at: '0s', workflow: 'refresh', input: { group: 'other' } },
        ],
      }),
    );
    const r = run.report;
    const calls =
      Object.values(r.totals.awsCalls).reduce((a, b) => a + b, 0) +
      Object.values(r.totals.kubeCalls).reduce((a, b) => a + b, 0);
    // 120 ms per invocation and 40 ms per call, each call billed once.
    expect(r.totals.lambdaBilledMs).toBe(120 * r.totals.lambdaInvocations + 40 * calls);
  });
});
