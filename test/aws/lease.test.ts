import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { LeaseStore } from '../../lambdas/aws/lease-store';
import { acquireGroupLease } from '../../lambdas/lease';
import { StepFunctionsPort } from '../../lambdas/aws/stepfunctions';
import { AwsThrottledError, LeaseHeldError, LeaseLostError } from '../../lambdas/core';
import { Simulator } from '../../sim/simulator';

const SM = 'arn:aws:states:ap-northeast-1:123456789012:stateMachine:refresh';

describe('group lease on the simulated DynamoDB and Step Functions', () => {
  let sim: Simulator;
  let store: LeaseStore;
  let sfn: StepFunctionsPort;

  beforeEach(async () => {
    sim = await Simulator.start();
    sim.createTable('leases');
    store = new LeaseStore(new DynamoDBClient({}), 'leases');
    sfn = new StepFunctionsPort(new SFNClient({}));
  });
  afterEach(() => sim.stop());

  it('lets one holder in, names the holder to the next, and is re-entrant for the same holder', async () => {
    const a = sim.stepFunctions.start(SM, 'a').executionArn;
    const b = sim.stepFunctions.start(SM, 'b').executionArn;
    await expect(acquireGroupLease(store, sfn, 'nodes', a, 'refresh', sim.now())).resolves.toEqual({
      recoveredJournal: undefined,
      memory: {},
    });
    const held = await acquireGroupLease(store, sfn, 'nodes', b, 'replenish', sim.now()).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(LeaseHeldError);
    expect(held).toMatchObject({
      name: 'LeaseHeld',
      holder: a,
      holderKind: 'refresh',
      message: `group nodes is held by refresh ${a}`,
    });
    await store.writeJournal('nodes', a, { surged: ['asg-a'] }, sim.now());
    // A retried step of the same execution gets its own journal back.
    await expect(acquireGroupLease(store, sfn, 'nodes', a, 'refresh', sim.now())).resolves.toMatchObject({
      recoveredJournal: { surged: ['asg-a'] },
    });
    // Other groups are independent.
    await expect(acquireGroupLease(store, sfn, 'masters', b, 'replenish', sim.now())).resolves.toBeDefined();
  });

  it('takes over from a holder that is no longer running and hands its journal to the new holder', async () => {
    const dead = sim.stepFunctions.start(SM, 'dead').executionArn;
    await store.acquire('nodes', dead, 'refresh', sim.now());
    await store.writeJournal('nodes', dead, { maxSize: { 'asg-a': 1 } }, sim.now());
    await store.writeMemory('nodes', dead, { home: { 'asg-a': 1 } });
    sim.stepFunctions.stop(dead, 'ABORTED');
    const next = sim.stepFunctions.start(SM, 'next').executionArn;
    const got = await acquireGroupLease(store, sfn, 'nodes', next, 'refresh', sim.now());
    expect(got).toEqual({
      recoveredJournal: { maxSize: { 'asg-a': 1 } },
      recoveredFrom: dead,
      recoveredKind: 'refresh',
      memory: { home: { 'asg-a': 1 } },
    });
    // The dead holder can no longer write.
    await expect(store.writeJournal('nodes', dead, {}, sim.now())).rejects.toBeInstanceOf(LeaseLostError);
    // A holder Step Functions has forgotten entirely is dead too.
    await store.release('nodes', next);
    await store.acquire('nodes', `${SM.replace('stateMachine', 'execution')}:forgotten`, 'replenish', sim.now());
    await expect(acquireGroupLease(store, sfn, 'nodes', next, 'refresh', sim.now())).resolves.toMatchObject({
      recoveredFrom: expect.stringMatching(/forgotten$/),
    });
  });

  it('the interruption ledger: an item per instance with a time to live, written without the lease, one claim per entry, conditional on what was read', async () => {
    const a = sim.stepFunctions.start(SM, 'a').executionArn;
    await store.acquire('nodes', a, 'refresh', sim.now());
    expect(await store.writeLedger('nodes', 'i-0aaaaaaaaaaaaaaa1', '{"v":1}', 1000, undefined)).toBe(true);
    // A second claim of the same instance (a duplicate event) loses.
    expect(await store.writeLedger('nodes', 'i-0aaaaaaaaaaaaaaa1', '{"v":2}', 1000, undefined)).toBe(false);
    // An update names the text it replaces: a stale one loses.
    expect(await store.writeLedger('nodes', 'i-0aaaaaaaaaaaaaaa1', '{"v":3}', 2000, '{"v":0}')).toBe(false);
    expect(await store.writeLedger('nodes', 'i-0aaaaaaaaaaaaaaa1', '{"v":3}', 2000, '{"v":1}')).toBe(true);
    expect(await store.readLedger('nodes', 'i-0aaaaaaaaaaaaaaa1')).toEqual({ text: '{"v":3}', expiresAt: 2000 });
    expect(await store.readLedger('other', 'i-0aaaaaaaaaaaaaaa1')).toBeUndefined();
    // The lease item is untouched: no ledger in it, whatever the churn.
    expect(await store.get('nodes')).toMatchObject({ holder: a, legacyLedger: {} });
    expect(sim.tables.table('leases')!.items.get('nodes#i-0aaaaaaaaaaaaaaa1')).toEqual({
      group: { S: 'nodes#i-0aaaaaaaaaaaaaaa1' },
      entry: { S: '{"v":3}' },
      expiresAt: { N: '2000' },
      ledger: { S: 'nodes' },
      instance: { S: 'i-0aaaaaaaaaaaaaaa1' },
    });
  });

  it("an earlier release's ledger in the lease item is read, and dropped only as read", async () => {
    // As the previous release wrote it: attributes i_<instance id> beside the lease.
    sim.tables.table('leases')!.items.set('nodes', {
      group: { S: 'nodes' },
      memory: { S: '{"home":{}}' },
      'i_i-0aaaaaaaaaaaaaaa1': { S: '{"v":"closed"}' },
      'i_i-0bbbbbbbbbbbbbbb2': { S: '{"v":"open"}' },
    });
    expect((await store.get('nodes'))?.legacyLedger).toEqual({
      'i-0aaaaaaaaaaaaaaa1': '{"v":"closed"}',
      'i-0bbbbbbbbbbbbbbb2': '{"v":"open"}',
    });
    // A drop names the text it read: one that changed since is not dropped (nor anything else in that write).
    expect(
      await store.dropLegacyLedger('nodes', {
        'i-0aaaaaaaaaaaaaaa1': '{"v":"closed"}',
        'i-0bbbbbbbbbbbbbbb2': '{"v":"stale"}',
      }),
    ).toBe(false);
    expect(await store.dropLegacyLedger('nodes', { 'i-0aaaaaaaaaaaaaaa1': '{"v":"closed"}' })).toBe(true);
    expect(await store.get('nodes')).toMatchObject({
      memory: { home: {} },
      legacyLedger: { 'i-0bbbbbbbbbbbbbbb2': '{"v":"open"}' },
    });
  });

  it('releases idempotently and keeps memory across leases', async () => {
    const a = sim.stepFunctions.start(SM, 'a').executionArn;
    await store.acquire('nodes', a, 'replenish', sim.now());
    await store.writeMemory('nodes', a, { home: { x: 2 } });
    await store.writeJournal('nodes', a, { j: 1 }, sim.now());
    expect(await store.release('nodes', a)).toBe(true);
    expect(await store.release('nodes', a)).toBe(false);
    const rec = await store.get('nodes');
    expect(rec).toEqual({
      group: 'nodes',
      memory: { home: { x: 2 } },
      holder: undefined,
      kind: undefined,
      acquiredAt: undefined,
      heartbeatAt: undefined,
      journal: undefined,
      legacyLedger: {},
    });
    await expect(store.writeJournal('nodes', a, {}, sim.now())).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('maps DynamoDB throttling to AwsThrottled', async () => {
    sim.armFault({ kind: 'throttle', operation: 'UpdateItem', times: 1, from: sim.now() });
    await expect(store.acquire('nodes', 'x', 'refresh', sim.now())).rejects.toBeInstanceOf(AwsThrottledError);
  });
});

describe('LeaseStore call shape', () => {
  // Created here, not at load: the simulator above restores the client prototype when it stops.
  let mock: ReturnType<typeof mockClient>;
  beforeAll(() => (mock = mockClient(DynamoDBClient)));
  afterAll(() => mock.restore());

  it('acquires with one conditional update that returns the old item either way', async () => {
    mock.on(UpdateItemCommand).resolves({});
    await new LeaseStore(new DynamoDBClient({}), 't').acquire('g', 'me', 'refresh', 42);
    expect(mock.commandCalls(UpdateItemCommand)[0].args[0].input).toEqual({
      TableName: 't',
      Key: { group: { S: 'g' } },
      UpdateExpression:
        'SET #holder = :me, #kind = :kind, #acquiredAt = if_not_exists(#acquiredAt, :now), #heartbeatAt = :now REMOVE #handover',
      ConditionExpression: 'attribute_not_exists(#holder) OR #holder = :me',
      ExpressionAttributeNames: {
        '#holder': 'holder',
        '#kind': 'kind',
        '#acquiredAt': 'acquiredAt',
        '#heartbeatAt': 'heartbeatAt',
        '#handover': 'handover',
      },
      ExpressionAttributeValues: { ':me': { S: 'me' }, ':kind': { S: 'refresh' }, ':now': { N: '42' } },
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });
});

describe('lease hand-over on the simulated DynamoDB', () => {
  let sim: Simulator;
  beforeEach(async () => {
    sim = await Simulator.start();
    sim.createTable('leases');
  });
  afterEach(() => sim.stop());

  it('hands the lease only to the execution that presents the token its holder offered, once', async () => {
    const store = new LeaseStore(new DynamoDBClient({}), 'leases');
    await store.acquire('g', 'a', 'refresh', 1);
    await expect(store.acceptHandover('g', 'b', 'a', 'f'.repeat(32), 2)).rejects.toBeInstanceOf(LeaseHeldError);
    await store.offerHandover('g', 'a', 'e'.repeat(32));
    await expect(store.acceptHandover('g', 'b', 'a', 'f'.repeat(32), 2)).rejects.toBeInstanceOf(LeaseHeldError);
    await expect(store.acceptHandover('g', 'b', 'a', 'e'.repeat(32), 2)).resolves.toMatchObject({ holder: 'a' });
    // Re-entrant for the new holder (a retried step); the token is gone, so no third party can use it.
    await expect(store.acceptHandover('g', 'b', 'a', 'e'.repeat(32), 3)).resolves.toMatchObject({ holder: 'b' });
    await expect(store.acceptHandover('g', 'c', 'b', 'e'.repeat(32), 4)).rejects.toBeInstanceOf(LeaseHeldError);
    expect((await store.get('g'))?.holder).toBe('b');
  });
});
