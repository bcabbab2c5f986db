import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type AttributeValue,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException as DynamoNotFound,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { dynamoValidation, meta, operation, type AwsHost, type Operation } from './common';
import {
  applyUpdate,
  ConditionFailed,
  evaluateCondition,
  ExpressionError,
  ITEM_TOO_LARGE,
  itemSize,
  MAX_ITEM_BYTES,
  project,
  UPDATE_TOO_LARGE,
  validateExpressions,
  type Item,
} from './tables';

/**
 * DynamoDB as the lease uses it, over the simulator's tables: conditional writes (the failed
 * condition's item returned when asked), the expression checks DynamoDB makes, the 400 KB item
 * limit in the service's words, and time to live (expired items swept later, as the service does).
 */
export function dynamoDbOperations(host: AwsHost): Operation[] {
  const table = (name: string | undefined) => {
    const t = name ? host.tables.table(name) : undefined;
    if (!t) throw new DynamoNotFound({ message: 'Requested resource not found', $metadata: meta(400) });
    return t;
  };
  const conditional = (
    input: {
      ConditionExpression?: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues?: Record<string, AttributeValue>;
      ReturnValuesOnConditionCheckFailure?: string;
    },
    item: Item | undefined,
  ) => {
    if (!input.ConditionExpression) return;
    const ctx = { names: input.ExpressionAttributeNames ?? {}, values: input.ExpressionAttributeValues ?? {} };
    if (!evaluateCondition(input.ConditionExpression, item, ctx))
      throw new ConditionFailed(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? item : undefined);
  };
  /** Expired items first (the service's background deletion), then the call, its refusals in DynamoDB's own errors. */
  const dynamo = <T>(fn: () => T): T => {
    host.tables.sweep(host.now());
    try {
      return fn();
    } catch (e) {
      if (e instanceof ConditionFailed) {
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: meta(400),
          ...(e.item ? { Item: e.item } : {}),
        });
      }
      throw e instanceof ExpressionError ? dynamoValidation(e.message) : e;
    }
  };

  return [
    operation('GetItem', GetItemCommand, (input) =>
      dynamo(() => {
        validateExpressions(input);
        const t = table(input.TableName);
        const item = t.items.get(host.tables.keyOf(input.TableName!, input.Key ?? {}));
        return item
          ? { Item: structuredClone(project(item, input.ProjectionExpression, input.ExpressionAttributeNames)) }
          : {};
      }),
    ),
    operation(
      'PutItem',
      PutItemCommand,
      (input) =>
        dynamo(() => {
          validateExpressions(input, '1 validation error detected: ');
          const t = table(input.TableName);
          const key = host.tables.keyOf(input.TableName!, { [t.key]: input.Item?.[t.key] ?? {} } as Item);
          const old = t.items.get(key);
          conditional(input, old);
          if (itemSize(input.Item ?? {}) > MAX_ITEM_BYTES) throw dynamoValidation(ITEM_TOO_LARGE);
          t.items.set(key, structuredClone(input.Item ?? {}));
          return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
        }),
      (input) => `item/${input.TableName}/${input.Item?.group?.S ?? '?'}`,
    ),
    operation(
      'UpdateItem',
      UpdateItemCommand,
      (input) =>
        dynamo(() => {
          validateExpressions(input);
          const t = table(input.TableName);
          const key = host.tables.keyOf(input.TableName!, input.Key ?? {});
          const old = t.items.get(key);
          conditional(input, old);
          const ctx = { names: input.ExpressionAttributeNames ?? {}, values: input.ExpressionAttributeValues ?? {} };
          const next = applyUpdate(input.UpdateExpression ?? '', old ?? { ...structuredClone(input.Key ?? {}) }, ctx);
          if (itemSize(next) > MAX_ITEM_BYTES) throw dynamoValidation(UPDATE_TOO_LARGE);
          t.items.set(key, next);
          if (input.ReturnValues === 'ALL_OLD') return old ? { Attributes: structuredClone(old) } : {};
          if (input.ReturnValues === 'ALL_NEW') return { Attributes: structuredClone(next) };
          return {};
        }),
      (input) => `item/${input.TableName}/${input.Key?.group?.S ?? '?'}`,
    ),
    operation(
      'DeleteItem',
      DeleteItemCommand,
      (input) =>
        dynamo(() => {
          validateExpressions(input, '1 validation error detected: ');
          const t = table(input.TableName);
          const key = host.tables.keyOf(input.TableName!, input.Key ?? {});
          const old = t.items.get(key);
          conditional(input, old);
          t.items.delete(key);
          return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
        }),
      (input) => `item/${input.TableName}/${input.Key?.group?.S ?? '?'}`,
    ),
  ];
}
