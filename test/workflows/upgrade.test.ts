import { spotInterruption } from '../../sim/actions';
/**
 * State outlives a deploy. A lease item, a ledger and an interruption execution in flight, as the
 * previous release wrote them (fixtures below, in its shapes), are read and ended by this one:
 * Step Functions runs an execution on the definition it started with, but every Task calls the
 * function as deployed now.
 */
import { parseConfig } from '../../lib/config/schema';
import { dispatch } from '../../lambdas/interruption/handler';
import { LeaseStore } from '../../lambdas/aws/lease-store';
import type { InterruptionState } from '../../lambdas/interruption/state';
import { WorkflowRunner } from '../../sim/workflows/runner';
import { Simulator } from '../../sim/simulator';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const TABLE = 'node-manager-leases';
const OLD_EXECUTION = 'arn:aws:states:ap-northeast-1:123456789012:execution:node-manager-interruption:interruption-007';

describe("the previous release's state", () => {
  let sim: Simulator;
  let runner: WorkflowRunner;
  let asgs: string[];

  beforeEach(async () => {
    sim = await Simulator.start();
    asgs = sim.addNodeGroup({
      name: 'nodes',
      role: 'worker',
      zones: ['ap-northeast-1a', 'ap-northeast-1c'],
      perZone: 2,
      maxPerZone: 3,
      terminateHook: { name: 'node-manager-drain', heartbeatTimeout: 120, defaultResult: 'CONTINUE' },
    });
    sim.createTable(TABLE, 'group', 'expiresAt');
    sim.putSecret('kc', sim.kubeconfig());
    const config = parseConfig({
      cluster: { name: 'example.k8s.local', region: 'ap-northeast-1', access: { kind: 'kubeconfig', secretId: 'kc' } },
      leaseTable: TABLE,
      groups: [
        {
          name: 'nodes',
          role: 'worker',
          asgNames: asgs,
          desiredReady: 4,
          surplus: 1,
          terminateHook: { heartbeatTimeoutSeconds: 120, maxHeartbeats: 2 },
        },
      ],
    });
    runner = new WorkflowRunner(sim, config);
  });
  afterEach(() => sim.stop());

  it('a termination hook drain in flight across the deploy: drained, heartbeat, CONTINUE, its entry dropped from the lease item; a closed old entry dropped by the next claim', async () => {
    const [victim, other] = sim.asgsOf('nodes')[0].instanceIds.map((id) => sim.region.instances.get(id)!);
    // The ASG terminates the victim through its hook: it waits in Terminating:Wait.
    const asg = sim.asgsOf('nodes')[0];
    asg.desired -= 1;
    sim.region.reconcile(asg);
    const waiting = [victim, other].find((i) => i.asgLifecycle === 'Terminating:Wait')!;
    const bystander = [victim, other].find((i) => i !== waiting)!;
    const action = sim.region.lifecycleActionOf(waiting)!;
    const node = sim.cluster.nodeOf(waiting.id)!.name;
    const since = sim.now();
    // The previous release's ledger entries, attributes of the lease item (i_<instance id>), and its journal-free lease.
    const openEntry = JSON.stringify({
      kind: 'terminate-hook',
      execution: OLD_EXECUTION,
      since,
      deadline: since + 300_000,
      node,
    });
    const closedEntry = JSON.stringify({
      kind: 'spot-interruption',
      execution: `${OLD_EXECUTION}-x`,
      since: since - 3 * 3600_000,
      deadline: since - 3 * 3600_000,
      doneAt: since - 2 * 3600_000,
    });
    sim.tables.table(TABLE)!.items.set('nodes', {
      group: { S: 'nodes' },
      memory: { S: JSON.stringify({ home: { [asgs[0]]: { desired: 2, max: 3 } }, learned: { readySeconds: [151] } }) },
      [`i_${waiting.id}`]: { S: openEntry },
      [`i_${bystander.id}`]: { S: closedEntry },
    });
    // The state the previous release's take step returned (no hook timing, no ledger-item flag).
    const old = {
      execution: OLD_EXECUTION,
      notice: {
        kind: 'terminate-hook',
        instanceId: waiting.id,
        at: since,
        eventId: 'e-1',
        hook: { asg: asg.name, name: 'node-manager-drain', token: action.token },
      },
      startedAt: since,
      group: 'nodes',
      act: true,
      asg: asg.name,
      node,
      deadline: since + 300_000,
      entry: openEntry,
      lastBeat: since,
      heartbeats: 0,
      evicted: 0,
      taken: { notice: 'terminate-hook', group: 'nodes' },
      did: { notice: 'terminate-hook', group: 'nodes' },
    } as unknown as InterruptionState;
    // Its next drain pass, under the new code, 100 s into a 120 s heartbeat timeout: the heartbeat is due.
    sim.advance(100);
    const drained = await dispatch({ step: 'drain', state: old }, runner.deps);
    expect(drained.did).toMatchObject({ heartbeat: 'heartbeat recorded' });
    expect(drained.untilReclaim).toBe(0);
    const finished = await dispatch({ step: 'finish', state: { ...drained, drained: true } }, runner.deps);
    expect(finished.did).toMatchObject({
      lifecycleAction: 'completed CONTINUE (node-manager-drain)',
      ledger: "closed (an earlier release's entry, dropped from the lease item)",
    });
    expect(finished.watchSeconds).toBe(0);
    const store = new LeaseStore(new DynamoDBClient({}), TABLE);
    expect((await store.get('nodes'))?.legacyLedger).toEqual({ [bystander.id]: closedEntry });
    // The memory the previous release wrote still reads.
    expect((await store.get('nodes'))?.memory).toEqual({
      home: { [asgs[0]]: { desired: 2, max: 3 } },
      learned: { readySeconds: [151] },
    });
    // A new claim in the group drops the old closed entry (conditional on its text) and claims in its own item.
    spotInterruption(sim, 'nodes', 'ap-northeast-1c', 1);
    const event = sim.bus.toEventBridge(sim.bus.events[sim.bus.events.length - 1]);
    const validated = await dispatch(
      {
        step: 'validate',
        start: {
          input: event,
          executionArn: `${OLD_EXECUTION.replace('interruption-007', 'spot-1')}`,
          startTime: new Date(sim.now()).toISOString(),
          stateMachineArn: 'sm',
        },
      },
      runner.deps,
    );
    const taken = await dispatch({ step: 'take', state: validated }, runner.deps);
    expect(taken).toMatchObject({ act: true, ledgerItem: true });
    expect((await store.get('nodes'))?.legacyLedger).toEqual({});
  });

  it('an old open entry still counts as a claim: a duplicate of its notice under the new code is ignored', async () => {
    const inst = sim.region.instances.get(sim.asgsOf('nodes')[1].instanceIds[0])!;
    sim.tables.table(TABLE)!.items.set('nodes', {
      group: { S: 'nodes' },
      [`i_${inst.id}`]: {
        S: JSON.stringify({
          kind: 'spot-interruption',
          execution: OLD_EXECUTION,
          since: sim.now(),
          deadline: sim.now() + 105_000,
          node: sim.cluster.nodeOf(inst.id)!.name,
          detached: true,
        }),
      },
    });
    spotInterruption(sim, 'nodes', 'ap-northeast-1c', 1);
    const event = sim.bus.toEventBridge(sim.bus.events[sim.bus.events.length - 1]);
    expect(event.detail['instance-id']).toBe(inst.id);
    const validated = await dispatch(
      {
        step: 'validate',
        start: {
          input: event,
          executionArn: OLD_EXECUTION.replace('interruption-007', 'spot-dup'),
          startTime: new Date(sim.now()).toISOString(),
          stateMachineArn: 'sm',
        },
      },
      runner.deps,
    );
    const taken = await dispatch({ step: 'take', state: validated }, runner.deps);
    expect(taken).toMatchObject({
      act: false,
      did: { ignored: expect.stringContaining('a duplicate: spot-interruption') },
    });
    expect(sim.meter.audit.filter((a) => a.api === 'kube' || a.operation === 'DetachInstances')).toEqual([]);
  });

  it('a refresh the previous release was running when it was stopped: replenish takes its lease over, and the next refresh keeps its start', async () => {
    // The previous release's lease item: a refresh mid-way (surplus in place, two nodes replaced), its execution gone.
    const t0 = sim.now() - 600_000;
    const [a0] = asgs;
    sim.asgsOf('nodes')[0].desired = 3;
    sim.region.reconcile(sim.asgsOf('nodes')[0]);
    sim.advance(200);
    sim.tables.table(TABLE)!.items.set('nodes', {
      group: { S: 'nodes' },
      holder: { S: 'arn:aws:states:ap-northeast-1:123456789012:execution:node-manager-refresh:refresh-042' },
      kind: { S: 'refresh' },
      acquiredAt: { N: String(t0) },
      heartbeatAt: { N: String(t0) },
      journal: {
        S: JSON.stringify({
          execution: 'arn:aws:states:ap-northeast-1:123456789012:execution:node-manager-refresh:refresh-042',
          startedAt: t0,
          original: { [a0]: { desired: 2, max: 3 }, [asgs[1]]: { desired: 2, max: 3 } },
          surged: true,
          surgeTargets: { [a0]: { desired: 3 } },
          cordoned: [],
          terminated: ['i-0gone1', 'i-0gone2'],
          batch: [],
          phase: 'replace',
          replaced: 2,
          since: t0,
          deadline: t0 + 900_000,
        }),
      },
      memory: { S: JSON.stringify({ learned: { readySeconds: [151] }, added: {} }) },
    });
    const replenish = runner.start('replenish', { group: 'nodes' });
    await runner.scheduler.runUntil(sim.now() + 1800_000);
    expect(replenish.status).toBe('SUCCEEDED');
    const store = new LeaseStore(new DynamoDBClient({}), TABLE);
    const memory = (await store.get('nodes'))?.memory as { stoppedRefresh?: { startedAt: number; replaced: number } };
    expect(memory.stoppedRefresh).toMatchObject({ startedAt: t0, replaced: 2 });
    // Its surplus went back: the ASG is home.
    expect(sim.asgsOf('nodes')[0].desired).toBe(2);
    const refresh = runner.start('refresh', { group: 'nodes' });
    await runner.scheduler.runUntil(sim.now() + 3 * 3600_000);
    expect(refresh.status).toBe('SUCCEEDED');
    const out = refresh.output as { startedAt: number; did: { replaced: number } };
    expect(out.startedAt).toBe(t0);
    // The two it had replaced count, and only nodes older than its start were replaced now.
    expect(out.did.replaced).toBe(2 + 4);
    expect((await store.get('nodes'))?.memory).not.toHaveProperty('stoppedRefresh');
  });
});
