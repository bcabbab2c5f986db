import { applyUpdate, evaluateCondition, ExpressionError } from './dynamodb';

const item = { group: { S: 'g' }, holder: { S: 'a' }, n: { N: '5' } };
const ctx = { names: { '#h': 'holder', '#n': 'n', '#x': 'missing' }, values: { ':a': { S: 'a' }, ':b': { S: 'b' }, ':four': { N: '4' } } };

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
    const out = applyUpdate('SET #h = :b, #n = if_not_exists(#n, :four), #x = if_not_exists(#x, :four) REMOVE group', item, ctx);
    expect(out).toEqual({ holder: { S: 'b' }, n: { N: '5' }, missing: { N: '4' } });
  });
});
