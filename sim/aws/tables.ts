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
    if (n === undefined)
      throw new ExpressionError(
        `Value provided in ExpressionAttributeNames unused in expressions or undefined: ${tok.v}`,
      );
    return n;
  }
  if (tok.t === 'ident') return tok.v;
  throw new ExpressionError(`Invalid expression: expected an attribute name, got ${tok.v}`);
}

function valueOf(tok: Token, ctx: Ctx): AttributeValue {
  const v = ctx.values[tok.v];
  if (v === undefined)
    throw new ExpressionError(
      `An expression attribute value used in expression is not defined; attribute value: ${tok.v}`,
    );
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

/** DynamoDB's item size limit (400 KB), and what it answers past it. */
export const MAX_ITEM_BYTES = 409_600;
export const ITEM_TOO_LARGE = 'Item size has exceeded the maximum allowed size';
export const UPDATE_TOO_LARGE = 'Item size to update has exceeded the maximum allowed size';

/**
 * An item's size as DynamoDB counts it: each attribute's name and value in bytes (strings as UTF-8,
 * numbers about one byte per two significant digits plus one, lists and maps 3 bytes plus one per
 * element), as the developer guide's "Item sizes and formats" describes.
 */
export function itemSize(item: Item): number {
  const value = (v: AttributeValue): number => {
    if (v.S !== undefined) return Buffer.byteLength(v.S);
    if (v.N !== undefined) return Math.ceil(v.N.replace(/^-/, '').replace('.', '').replace(/^0+/, '').length / 2) + 1;
    if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
    if (v.B !== undefined) return v.B.length;
    if (v.SS !== undefined) return v.SS.reduce((n, x) => n + Buffer.byteLength(x), 0);
    if (v.NS !== undefined) return v.NS.reduce((n, x) => n + Math.ceil(x.length / 2) + 1, 0);
    if (v.L !== undefined) return 3 + v.L.reduce((n, x) => n + 1 + value(x), 0);
    if (v.M !== undefined)
      return 3 + Object.entries(v.M).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + value(x), 0);
    return 0;
  };
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + value(v), 0);
}

interface Table {
  readonly key: string;
  readonly items: Map<string, Item>;
  /** The time-to-live attribute (epoch seconds), when TTL is on. */
  ttl?: string;
}

/**
 * Tables keyed by one string hash key, as the lease table is. With time to live on, an item whose
 * TTL attribute has passed is deleted later, not at once: DynamoDB deletes expired items "within a
 * few days", and until then they are read like any other (`ttlDelaySeconds` stands for that delay).
 */
export class Tables {
  private readonly tables = new Map<string, Table>();

  constructor(private readonly ttlDelaySeconds = 24 * 3600) {}

  create(name: string, hashKey: string, ttlAttribute?: string): void {
    this.tables.set(name, { key: hashKey, items: new Map(), ...(ttlAttribute ? { ttl: ttlAttribute } : {}) });
  }

  /** Deletes the items whose time to live passed more than the TTL delay ago (DynamoDB's background deletion). */
  sweep(now: number): void {
    for (const t of this.tables.values()) {
      if (!t.ttl) continue;
      for (const [k, item] of t.items) {
        const ttl = item[t.ttl]?.N;
        if (ttl !== undefined && (Number(ttl) + this.ttlDelaySeconds) * 1000 <= now) t.items.delete(k);
      }
    }
  }

  has(name: string): boolean {
    return this.tables.has(name);
  }

  table(name: string): Table | undefined {
    return this.tables.get(name);
  }

  keyOf(name: string, key: Item): string {
    const t = this.tables.get(name)!;
    const v = key[t.key]?.S;
    if (v === undefined || Object.keys(key).length !== 1)
      throw new ExpressionError('The provided key element does not match the schema');
    return v;
  }
}

/**
 * DynamoDB's reserved words (a subset of the published list: every word from ABORT to EXTENDED,
 * and the later ones an attribute of a lease or a node group is likely to be called). An
 * attribute named by one of them must go through ExpressionAttributeNames.
 */
const RESERVED = new Set(
  `ABORT ABSOLUTE ACTION ADD AFTER AGENT AGGREGATE ALL ALLOCATE ALTER ANALYZE AND ANY ARCHIVE ARE ARRAY AS ASC ASCII ASENSITIVE
  ASSERTION ASYMMETRIC AT ATOMIC ATTACH ATTRIBUTE AUTH AUTHORIZATION AUTHORIZE AUTO AVG BACK BACKUP BASE BATCH BEFORE BEGIN
  BETWEEN BIGINT BINARY BIT BLOB BLOCK BOOLEAN BOTH BREADTH BUCKET BULK BY BYTE CALL CALLED CALLING CAPACITY CASCADE CASCADED
  CASE CAST CATALOG CHAR CHARACTER CHECK CLASS CLOB CLOSE CLUSTER CLUSTERED CLUSTERING CLUSTERS COALESCE COLLATE COLLATION
  COLLECTION COLUMN COLUMNS COMBINE COMMENT COMMIT COMPACT COMPILE COMPRESS CONDITION CONFLICT CONNECT CONNECTION CONSISTENCY
  CONSISTENT CONSTRAINT CONSTRAINTS CONSTRUCTOR CONSUMED CONTINUE CONVERT COPY CORRESPONDING COUNT COUNTER CREATE CROSS CUBE
  CURRENT CURSOR CYCLE DATA DATABASE DATE DATETIME DAY DEALLOCATE DEC DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DEFINE
  DEFINED DEFINITION DELETE DELIMITED DEPTH DEREF DESC DESCRIBE DESCRIPTOR DETACH DETERMINISTIC DIAGNOSTICS DIRECTORIES DISABLE
  DISCONNECT DISTINCT DISTRIBUTE DO DOMAIN DOUBLE DROP DUMP DURATION DYNAMIC EACH ELEMENT ELSE ELSEIF EMPTY ENABLE END EQUAL
  EQUALS ERROR ESCAPE ESCAPED EVAL EVALUATE EXCEEDED EXCEPT EXCEPTION EXCEPTIONS EXCLUSIVE EXEC EXECUTE EXISTS EXIT EXPLAIN
  EXPLODE EXPORT EXPRESSION EXTENDED EXTERNAL EXTRACT FAIL FALSE FAMILY FETCH FIELDS FILE FILTER FILTERING FINAL FINISH FIRST
  FIXED FLATTERN FLOAT FOR FORCE FOREIGN FORMAT FORWARD FOUND FREE FROM FULL FUNCTION FUNCTIONS GENERAL GROUP HASH HOUR IF
  IN INDEX INTO IS ITEM ITEMS JOIN KEY KEYS LAST LEVEL LIMIT LIST LOCK MAP MAX MEMORY MIN MONTH NAME NAMES NOT NULL NUMBER OR
  ORDER OWNER PARTITION PATH PERCENT QUERY RANGE READ REGION REMOVE ROLE ROW SCHEMA SECOND SELECT SESSION SET SIZE SOURCE
  START STATE STATUS STRING SUM SYSTEM TABLE TIME TIMESTAMP TO TOKEN TOTAL TRUE TTL TYPE UPDATE USER USERS VALUE VALUES
  WHERE YEAR ZONE`.split(/\s+/),
);

/** Words of the expression grammar itself, never attribute names. */
const GRAMMAR = new Set(['SET', 'REMOVE', 'ADD', 'DELETE', 'AND', 'OR', 'NOT', 'BETWEEN', 'IN']);
const FUNCTIONS = new Set([
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
  'size',
  'if_not_exists',
  'list_append',
]);

export interface ExpressionInput {
  readonly UpdateExpression?: string;
  readonly ConditionExpression?: string;
  readonly ProjectionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/**
 * What DynamoDB checks of a request's expressions before it touches the item: every `#name` and
 * `:value` used is defined, every one defined is used, and no attribute is named by a reserved word.
 * `prefix` is the "1 validation error detected: " that PutItem and DeleteItem put before the unused-key message.
 */
export function validateExpressions(input: ExpressionInput, prefix = ''): void {
  const used = { names: new Set<string>(), values: new Set<string>() };
  const kinds: Array<[string, string | undefined]> = [
    ['UpdateExpression', input.UpdateExpression],
    ['ConditionExpression', input.ConditionExpression],
    ['ProjectionExpression', input.ProjectionExpression],
  ];
  for (const [kind, expr] of kinds) {
    if (expr === undefined) continue;
    for (const tok of tokenize(expr)) {
      if (tok.t === 'name') {
        if (!input.ExpressionAttributeNames?.[tok.v])
          throw new ExpressionError(
            `Invalid ${kind}: An expression attribute name used in the document path is not defined; attribute name: ${tok.v}`,
          );
        used.names.add(tok.v);
      } else if (tok.t === 'value') {
        if (!input.ExpressionAttributeValues?.[tok.v])
          throw new ExpressionError(
            `Invalid ${kind}: An expression attribute value used in expression is not defined; attribute value: ${tok.v}`,
          );
        used.values.add(tok.v);
      } else if (tok.t === 'ident' && !FUNCTIONS.has(tok.v)) {
        const word = tok.v.split('.')[0].toUpperCase();
        if (GRAMMAR.has(word) && kind !== 'ProjectionExpression') continue;
        if (RESERVED.has(word))
          throw new ExpressionError(
            `Invalid ${kind}: Attribute name is a reserved keyword; reserved keyword: ${tok.v.split('.')[0]}`,
          );
      }
    }
  }
  const unusedNames = Object.keys(input.ExpressionAttributeNames ?? {}).filter((k) => !used.names.has(k));
  if (unusedNames.length)
    throw new ExpressionError(
      `${prefix}Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
    );
  const unusedValues = Object.keys(input.ExpressionAttributeValues ?? {}).filter((k) => !used.values.has(k));
  if (unusedValues.length)
    throw new ExpressionError(
      `${prefix}Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
    );
}

/** The attributes a ProjectionExpression keeps (top-level names; `#alias` resolved). */
export function project(item: Item, expr: string | undefined, names: Record<string, string> = {}): Item {
  if (!expr) return item;
  const keep = expr
    .split(',')
    .map((p) => p.trim().split('.')[0])
    .map((p) => (p.startsWith('#') ? names[p] : p));
  return Object.fromEntries(Object.entries(item).filter(([k]) => keep.includes(k)));
}
