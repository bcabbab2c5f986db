import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

/** Thrown for a condition that does not hold; the AWS layer turns it into ConditionalCheckFailedException. */
export class ConditionFailed extends Error {
  constructor(readonly item: Item | undefined) {
    super('The conditional request failed');
  }
}

/** Thrown for an expression this subset (or DynamoDB) does not accept: becomes a ValidationException. */
export class ExpressionError extends Error {}

type Token = { t: 'name' | 'value' | 'ident' | 'op' | 'punct'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_.]*)|(<>|<=|>=|=|<|>)|([(),]))/y;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new ExpressionError(`Invalid expression: unexpected text at ${pos}: "${src.slice(pos, pos + 10)}"`);
    pos = re.lastIndex;
    if (m[1]) out.push({ t: 'name', v: m[1] });
    else if (m[2]) out.push({ t: 'value', v: m[2] });
    else if (m[3]) out.push({ t: 'ident', v: m[3] });
    else if (m[4]) out.push({ t: 'op', v: m[4] });
    else out.push({ t: 'punct', v: m[5] });
  }
  return out;
}

interface Ctx {
  names: Record<string, string>;
  values: Record<string, AttributeValue>;
}

function attrName(tok: Token, ctx: Ctx): string {
  if (tok.t === 'name') {
    const n = ctx.names[tok.v];
    if (n === undefined) throw new ExpressionError(`Value provided in ExpressionAttributeNames unused in expressions or undefined: ${tok.v}`);
    return n;
  }
  if (tok.t === 'ident') return tok.v;
  throw new ExpressionError(`Invalid expression: expected an attribute name, got ${tok.v}`);
}

function valueOf(tok: Token, ctx: Ctx): AttributeValue {
  const v = ctx.values[tok.v];
  if (v === undefined) throw new ExpressionError(`An expression attribute value used in expression is not defined; attribute value: ${tok.v}`);
  return v;
}

function compare(a: AttributeValue | undefined, b: AttributeValue | undefined, op: string): boolean {
  if (a === undefined || b === undefined) return op === '<>' ? a !== b : false;
  const av = a.S ?? (a.N !== undefined ? Number(a.N) : a.BOOL);
  const bv = b.S ?? (b.N !== undefined ? Number(b.N) : b.BOOL);
  if (typeof av !== typeof bv) return op === '<>';
  switch (op) {
    case '=':
      return av === bv;
    case '<>':
      return av !== bv;
    case '<':
      return (av as number) < (bv as number);
    case '<=':
      return (av as number) <= (bv as number);
    case '>':
      return (av as number) > (bv as number);
    default:
      return (av as number) >= (bv as number);
  }
}

/** Evaluates the ConditionExpression subset the lease uses: comparisons, attribute_(not_)exists, AND, OR, NOT, parentheses. */
export function evaluateCondition(expr: string, item: Item | undefined, ctx: Ctx): boolean {
  const toks = tokenize(expr);
  let i = 0;
  const peek = () => toks[i];
  const take = () => toks[i++];
  const operand = (): AttributeValue | undefined => {
    const tok = take();
    if (!tok) throw new ExpressionError('Invalid expression: unexpected end');
    return tok.t === 'value' ? valueOf(tok, ctx) : item?.[attrName(tok, ctx)];
  };
  const primary = (): boolean => {
    const tok = peek();
    if (!tok) throw new ExpressionError('Invalid ConditionExpression: unexpected end');
    if (tok.t === 'ident' && tok.v.toUpperCase() === 'NOT') {
      take();
      return !primary();
    }
    if (tok.t === 'punct' && tok.v === '(') {
      take();
      const v = or();
      if (take()?.v !== ')') throw new ExpressionError('Invalid ConditionExpression: missing )');
      return v;
    }
    if (tok.t === 'ident' && (tok.v === 'attribute_exists' || tok.v === 'attribute_not_exists')) {
      take();
      if (take()?.v !== '(') throw new ExpressionError(`Invalid ConditionExpression: ${tok.v} needs (`);
      const name = attrName(take(), ctx);
      if (take()?.v !== ')') throw new ExpressionError(`Invalid ConditionExpression: ${tok.v} needs )`);
      const exists = item !== undefined && item[name] !== undefined;
      return tok.v === 'attribute_exists' ? exists : !exists;
    }
    const left = operand();
    const op = take();
    if (op?.t !== 'op') throw new ExpressionError('Invalid ConditionExpression: expected a comparator');
    return compare(left, operand(), op.v);
  };
  const and = (): boolean => {
    let v = primary();
    while (peek()?.t === 'ident' && peek().v.toUpperCase() === 'AND') {
      take();
      const r = primary();
      v = v && r;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (peek()?.t === 'ident' && peek().v.toUpperCase() === 'OR') {
      take();
      const r = and();
      v = v || r;
    }
    return v;
  };
  const result = or();
  if (i !== toks.length) throw new ExpressionError(`Invalid ConditionExpression: unexpected ${toks[i].v}`);
  return result;
}

/** Applies the UpdateExpression subset: `SET a = :v, b = if_not_exists(b, :v)` and `REMOVE a, b`. */
export function applyUpdate(expr: string, item: Item, ctx: Ctx): Item {
  const next: Item = { ...item };
  const toks = tokenize(expr);
  let i = 0;
  let clause: 'SET' | 'REMOVE' | undefined;
  while (i < toks.length) {
    const tok = toks[i];
    if (tok.t === 'ident' && (tok.v.toUpperCase() === 'SET' || tok.v.toUpperCase() === 'REMOVE')) {
      clause = tok.v.toUpperCase() as 'SET' | 'REMOVE';
      i += 1;
      continue;
    }
    if (tok.t === 'punct' && tok.v === ',') {
      i += 1;
      continue;
    }
    if (!clause) throw new ExpressionError('Invalid UpdateExpression: expected SET or REMOVE');
    const name = attrName(toks[i++], ctx);
    if (clause === 'REMOVE') {
      delete next[name];
      continue;
    }
    if (toks[i++]?.v !== '=') throw new ExpressionError('Invalid UpdateExpression: expected =');
    const rhs = toks[i++];
    if (rhs?.t === 'ident' && rhs.v === 'if_not_exists') {
      if (toks[i++]?.v !== '(') throw new ExpressionError('Invalid UpdateExpression: if_not_exists needs (');
      const path = attrName(toks[i++], ctx);
      if (toks[i++]?.v !== ',') throw new ExpressionError('Invalid UpdateExpression: if_not_exists needs two operands');
      const fallback = valueOf(toks[i++], ctx);
      if (toks[i++]?.v !== ')') throw new ExpressionError('Invalid UpdateExpression: if_not_exists needs )');
      next[name] = item[path] ?? fallback;
    } else if (rhs?.t === 'value') {
      next[name] = valueOf(rhs, ctx);
    } else {
      throw new ExpressionError('Invalid UpdateExpression: unsupported operand');
    }
  }
  return next;
}

/** Tables keyed by one string hash key, as the lease table is. */
export class Tables {
  private readonly tables = new Map<string, { key: string; items: Map<string, Item> }>();

  create(name: string, hashKey: string): void {
    this.tables.set(name, { key: hashKey, items: new Map() });
  }

  has(name: string): boolean {
    return this.tables.has(name);
  }

  table(name: string): { key: string; items: Map<string, Item> } | undefined {
    return this.tables.get(name);
  }

  keyOf(name: string, key: Item): string {
    const t = this.tables.get(name)!;
    const v = key[t.key]?.S;
    if (v === undefined || Object.keys(key).length !== 1) throw new ExpressionError('The provided key element does not match the schema');
    return v;
  }
}
