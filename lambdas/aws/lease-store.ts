import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { LeaseHeldError, LeaseLostError } from '../core';
import { call, toDomainError } from './errors';
import {
  fromItem,
  LEGACY_LEDGER_PREFIX,
  ledgerKey,
  TTL_ATTRIBUTE,
  type LeaseKind,
  type LeaseRecord,
  type LedgerItem,
} from './lease-records';

export { TTL_ATTRIBUTE, type LeaseKind, type LeaseRecord, type LedgerItem } from './lease-records';

/**
 * The conditions the lease's writes are made on, by name: every write is conditional, so two
 * executions can never both hold one group, and no writer replaces what it did not read.
 */
const WHEN = {
  free: 'attribute_not_exists(#holder)',
  mine: '#holder = :me',
  stale: '#holder = :stale',
  offeredToMe: '(#holder = :from AND #handover = :token)',
  memoryAbsent: 'attribute_not_exists(#memory)',
  memoryAsRead: '#memory = :previous',
  entryAbsent: 'attribute_not_exists(#entry)',
  entryAsRead: '#entry = :previous',
} as const;

/**
 * The lease table as stored: one item per group (the lease, the holder's journal, the group's
 * memory) and one per interruption ledger entry. It stores and reads typed records and throws
 * the lease's own errors (LeaseHeld, LeaseLost) for the conditions it owns; anything else is
 * rethrown as the AWS error it is. What the records mean is lambdas/lease.ts's.
 */
export class LeaseStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(group: string): Promise<LeaseRecord | undefined> {
    const out = await call('GetItem', () =>
      this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { group: { S: group } }, ConsistentRead: true }),
      ),
    );
    return fromItem(out.Item);
  }

  /**
   * Takes the lease when nobody holds it, or when `staleHolder` (a holder found dead) still does.
   * Taking it again as the same holder succeeds (a retried step). Returns the record as it was
   * before, so that a journal left by a dead holder can be restored.
   */
  async acquire(
    group: string,
    holder: string,
    kind: LeaseKind,
    now: number,
    staleHolder?: string,
  ): Promise<LeaseRecord | undefined> {
    const condition = staleHolder ? `${WHEN.stale} OR ${WHEN.mine}` : `${WHEN.free} OR ${WHEN.mine}`;
    return this.take(group, {
      // A hand-over offered by a dead holder dies with it.
      UpdateExpression:
        'SET #holder = :me, #kind = :kind, #acquiredAt = if_not_exists(#acquiredAt, :now), #heartbeatAt = :now REMOVE #handover',
      ConditionExpression: condition,
      ExpressionAttributeNames: {
        '#holder': 'holder',
        '#kind': 'kind',
        '#acquiredAt': 'acquiredAt',
        '#heartbeatAt': 'heartbeatAt',
        '#handover': 'handover',
      },
      ExpressionAttributeValues: {
        ':me': { S: holder },
        ':kind': { S: kind },
        ':now': { N: String(now) },
        ...(staleHolder ? { ':stale': { S: staleHolder } } : {}),
      },
    });
  }

  /**
   * One conditional write that takes the lease, returning the item as it was before either way: a
   * refusal names the holder (from the item DynamoDB returns on the failed condition) without a second read.
   */
  private async take(
    group: string,
    update: Pick<
      UpdateItemCommandInput,
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<LeaseRecord | undefined> {
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { group: { S: group } },
          ...update,
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return fromItem(out.Attributes);
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) {
        const current = fromItem(e.Item);
        throw new LeaseHeldError(group, current?.holder ?? '(unknown)', current?.kind ?? 'unknown', { cause: e });
      }
      throw toDomainError(e, 'UpdateItem');
    }
  }

  /**
   * The holder offers its lease to the execution it is about to start (continue-as-new): only an
   * execution that presents this token can take the lease over from it.
   */
  async offerHandover(group: string, holder: string, token: string): Promise<void> {
    await this.updateAsHolder(
      group,
      holder,
      'SET #handover = :token',
      { '#handover': 'handover' },
      { ':token': { S: token } },
    );
  }

  /**
   * Takes the lease handed over by `from`, in one conditional write: `from` must still hold it
   * and must have offered it with this token (a forged continuation cannot steal a running
   * refresh's lease). Taking it again as the same holder succeeds (a retried step). Returns the
   * record as it was before.
   */
  async acceptHandover(
    group: string,
    holder: string,
    from: string,
    token: string,
    now: number,
  ): Promise<LeaseRecord | undefined> {
    return this.take(group, {
      UpdateExpression: 'SET #holder = :me, #kind = :kind, #acquiredAt = :now, #heartbeatAt = :now REMOVE #handover',
      ConditionExpression: `${WHEN.offeredToMe} OR ${WHEN.mine}`,
      ExpressionAttributeNames: {
        '#holder': 'holder',
        '#kind': 'kind',
        '#acquiredAt': 'acquiredAt',
        '#heartbeatAt': 'heartbeatAt',
        '#handover': 'handover',
      },
      ExpressionAttributeValues: {
        ':me': { S: holder },
        ':kind': { S: 'refresh' },
        ':now': { N: String(now) },
        ':from': { S: from },
        ':token': { S: token },
      },
    });
  }

  async writeJournal(group: string, holder: string, journal: unknown, now: number): Promise<void> {
    await this.updateAsHolder(
      group,
      holder,
      'SET #journal = :journal, #heartbeatAt = :now',
      { '#journal': 'journal', '#heartbeatAt': 'heartbeatAt' },
      { ':journal': { S: JSON.stringify(journal) }, ':now': { N: String(now) } },
    );
  }

  /**
   * Writes the group's memory without holding the lease, on condition that nobody holds it and
   * the memory is still what the caller read (`previous`, or absent): bookkeeping a look without
   * the lease may keep (a launch failure seen) without taking the lease for it. False when the
   * condition failed: someone else is at work on the group, and will see the same.
   */
  async writeMemoryUnheld(group: string, memory: unknown, previous: unknown): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { group: { S: group } },
          UpdateExpression: 'SET #memory = :memory',
          ConditionExpression: `${WHEN.free} AND ${previous === undefined ? WHEN.memoryAbsent : WHEN.memoryAsRead}`,
          ExpressionAttributeNames: { '#memory': 'memory', '#holder': 'holder' },
          ExpressionAttributeValues: {
            ':memory': { S: JSON.stringify(memory) },
            ...(previous === undefined ? {} : { ':previous': { S: JSON.stringify(previous) } }),
          },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw toDomainError(e, 'UpdateItem');
    }
  }

  async writeMemory(group: string, holder: string, memory: unknown): Promise<void> {
    await this.updateAsHolder(
      group,
      holder,
      'SET #memory = :memory',
      { '#memory': 'memory' },
      { ':memory': { S: JSON.stringify(memory) } },
    );
  }

  /**
   * Gives the lease up and drops the journal (the holder restored what it says). Releasing a
   * lease we no longer hold is a no-op that returns false, so a retried release does no harm.
   */
  async release(group: string, holder: string, summary?: Readonly<Record<string, unknown>>): Promise<boolean> {
    try {
      await this.updateAsHolder(
        group,
        holder,
        'REMOVE #holder, #kind, #acquiredAt, #heartbeatAt, #journal, #handover' +
          (summary ? ' SET #released = :released' : ''),
        {
          '#kind': 'kind',
          '#acquiredAt': 'acquiredAt',
          '#heartbeatAt': 'heartbeatAt',
          '#journal': 'journal',
          '#handover': 'handover',
          ...(summary ? { '#released': 'released' } : {}),
        },
        summary ? { ':released': { S: JSON.stringify({ holder, ...summary }) } } : {},
      );
      return true;
    } catch (e) {
      if (e instanceof LeaseLostError) return false;
      throw e;
    }
  }

  /** The ledger entry of one instance, read consistently (a claim is conditional on it). */
  async readLedger(group: string, instanceId: string): Promise<LedgerItem | undefined> {
    const out = await call('GetItem', () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { group: { S: ledgerKey(group, instanceId) } },
          ConsistentRead: true,
        }),
      ),
    );
    const text = out.Item?.entry?.S;
    if (text === undefined) return undefined;
    const ttl = out.Item?.[TTL_ATTRIBUTE]?.N;
    return { text, ...(ttl !== undefined ? { expiresAt: Number(ttl) } : {}) };
  }

  /**
   * Writes one instance's ledger entry without holding the lease (an interruption never waits for
   * it), on condition that the entry is still what the caller read (`previous`, or absent): two
   * notices for one instance cannot both claim it. False when the condition failed: someone else
   * wrote the entry first.
   */
  async writeLedger(
    group: string,
    instanceId: string,
    entry: string,
    expiresAt: number,
    previous: string | undefined,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { group: { S: ledgerKey(group, instanceId) } },
          UpdateExpression: 'SET #entry = :entry, #ttl = :ttl, #ledger = :ledger, #instance = :instance',
          ConditionExpression: previous === undefined ? WHEN.entryAbsent : WHEN.entryAsRead,
          ExpressionAttributeNames: {
            '#entry': 'entry',
            '#ttl': TTL_ATTRIBUTE,
            '#ledger': 'ledger',
            '#instance': 'instance',
          },
          ExpressionAttributeValues: {
            ':entry': { S: entry },
            ':ttl': { N: String(expiresAt) },
            ':ledger': { S: group },
            ':instance': { S: instanceId },
            ...(previous === undefined ? {} : { ':previous': { S: previous } }),
          },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw toDomainError(e, 'UpdateItem');
    }
  }

  /**
   * Drops ledger entries an earlier release kept in the lease item, each on condition that it is
   * still the text the caller read (closed, or dead): nobody's live entry is ever removed. False
   * when one of them changed meanwhile (nothing was removed; the next caller tries again).
   */
  async dropLegacyLedger(group: string, read: Readonly<Record<string, string>>): Promise<boolean> {
    const ids = Object.keys(read);
    if (ids.length === 0) return true;
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    ids.forEach((id, i) => {
      names[`#p${i}`] = `${LEGACY_LEDGER_PREFIX}${id}`;
      values[`:p${i}`] = { S: read[id] };
    });
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { group: { S: group } },
          UpdateExpression: `REMOVE ${ids.map((_, i) => `#p${i}`).join(', ')}`,
          ConditionExpression: ids.map((_, i) => `#p${i} = :p${i}`).join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw toDomainError(e, 'UpdateItem');
    }
  }

  private async updateAsHolder(
    group: string,
    holder: string,
    update: string,
    names: Record<string, string>,
    values: Record<string, AttributeValue> = {},
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { group: { S: group } },
          UpdateExpression: update,
          ConditionExpression: WHEN.mine,
          ExpressionAttributeNames: { ...names, '#holder': 'holder' },
          ExpressionAttributeValues: { ...values, ':me': { S: holder } },
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) {
        throw new LeaseLostError(`lease of group ${group} is no longer held by ${holder}`, { cause: e });
      }
      throw toDomainError(e, 'UpdateItem');
    }
  }
}
