import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { call, toDomainError } from './errors';
import { ALARM_AT_PREFIX, ALARM_STATE_PREFIX } from './lease-records';

/**
 * What operators and the circuit breaker write on a group's lease item, whoever holds the lease:
 * the pause (one attribute, JSON), and each watched alarm's last state (two attributes an alarm,
 * its state and the time of that state, so a late, older state change never undoes a newer one).
 * The holder reads both with the lease, at its next pass.
 */
export class PauseStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** Sets (or, with undefined, removes) the group's pause. Unconditional: the last operator's word stands. */
  async setPause(group: string, pause: unknown): Promise<void> {
    await call('UpdateItem', () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { group: { S: group } },
          UpdateExpression: pause === undefined ? 'REMOVE #pause' : 'SET #pause = :pause',
          ExpressionAttributeNames: { '#pause': 'pause' },
          ...(pause === undefined ? {} : { ExpressionAttributeValues: { ':pause': { S: JSON.stringify(pause) } } }),
        }),
      ),
    );
  }

  /**
   * Records an alarm's state as of `at` (epoch ms), unless a newer state is recorded already
   * (EventBridge may deliver state changes late or twice). Returns false when it was older.
   */
  async noteAlarm(group: string, alarm: string, state: string, at: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { group: { S: group } },
          UpdateExpression: 'SET #state = :state, #at = :at',
          ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
          ExpressionAttributeNames: { '#state': `${ALARM_STATE_PREFIX}${alarm}`, '#at': `${ALARM_AT_PREFIX}${alarm}` },
          ExpressionAttributeValues: { ':state': { S: state }, ':at': { N: String(at) } },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw toDomainError(e, 'UpdateItem');
    }
  }
}
