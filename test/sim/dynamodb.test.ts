import { applyUpdate, evaluateCondition, ExpressionError, project, validateExpressions } from '../../sim/aws/tables';

const item = { group: { S: 'g' }, holder: { S: 'a' }, n: { N: '5' } };
const ctx = {
  names: { '#h': 'holder', '#n': 'n', '#x': 'missing' },
  values: { ':a': { S: 'a' }, ':b': { S: 'b' }, ':four': { N: '4' } },
};

describe('DynamoDB expression subset', () => {
  it.each([
    ['attribute_exists(#h)', true],
    ['attribute_not_exists(#x)', true],
    ['attribute_not_exists(#h) OR #h = :a', true],
    ['attribute_not_exists(#h) OR #h = :b', false],
    ['#h = :a AND #n > :four', true],
    ['NOT (#h = :a) OR #n <= :four', false],
    ['#h <> :b AND (#n >= :four)', true],
  ])('%s is %s', (expr, expected) => {
    expect(evaluateCondition(expr, item, ctx)).toBe(expected);
  });

  it('treats a missing item as having no attributes', () => {
    expect(evaluateCondition('attribute_not_exists(#h) OR #h = :a', undefined, ctx)).toBe(true);
    expect(evaluateCondition('#h = :a', undefined, ctx)).toBe(false);
  });

  it('rejects undefined names and values as DynamoDB does', () => {
    expect(() => evaluateCondition('#nope = :a', item, ctx)).toThrow(ExpressionError);
    expect(() => evaluateCondition('#h = :nope', item, ctx)).toThrow(/attribute value/);
  });

  it('applies SET, if_not_exists and REMOVE', () => {
    const out = applyUpdate(
      'SET #h = :b, #n = if_not_exists(#n, :four), #x = if_not_exists(#x, :four) REMOVE group',
      item,
      ctx,
    );
    expect(out).toEqual({ holder: { S: 'b' }, n: { N: '5' }, missing: { N: '4' } });
  });
});

describe('DynamoDB request validation', () => {
  it('refuses unused names and values, undefined ones, and unaliased reserved words, with DynamoDB words', () => {
    expect(() =>
      validateExpressions({
        UpdateExpression: 'SET #h = :a',
        ExpressionAttributeNames: { '#h': 'holder', '#k': 'kind' },
        ExpressionAttributeValues: { ':a': { S: 'a' } },
      }),
    ).toThrow('Value provided in ExpressionAttributeNames unused in expressions: keys: {#k}');
    expect(() =>
      validateExpressions(
        {
          ConditionExpression: '#h = :a',
          ExpressionAttributeNames: { '#h': 'holder' },
          ExpressionAttributeValues: { ':a': { S: 'a' }, ':b': { S: 'b' } },
        },
        '1 validation error detected: ',
      ),
    ).toThrow(
      '1 validation error detected: Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}',
    );
    expect(() =>
      validateExpressions({ UpdateExpression: 'SET #h = :a', ExpressionAttributeValues: { ':a': { S: 'a' } } }),
    ).toThrow(
      'Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #h',
    );
    expect(() => validateExpressions({ ConditionExpression: 'attribute_not_exists(group)' })).toThrow(
      'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: group',
    );
    expect(() =>
      validateExpressions({
        UpdateExpression: 'SET holder = :a REMOVE journal',
        ExpressionAttributeValues: { ':a': { S: 'a' } },
      }),
    ).not.toThrow();
  });

  it('keeps only the projected attributes', () => {
    expect(project(item, '#h, n', { '#h': 'holder' })).toEqual({ holder: { S: 'a' }, n: { N: '5' } });
  });
});
