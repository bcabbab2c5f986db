import type { Json } from './objects';

/** A request the server refuses, with the HTTP status and reason the real one uses. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Json,
  ) {
    super(message);
  }
}

export function status(code: number, reason: string, message: string, details?: Json): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 300 ? 'Success' : 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

/** RFC 7386 JSON merge patch (strategic merge behaves the same for the fields nodes carry: maps merge, lists replace). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Json =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [k, v] of Object.entries(patch as Json)) {
    if (k.startsWith('$')) continue; // strategic-merge directives ($patch, $retainKeys): none apply to what nodes carry
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch: add, replace, remove, test. */
export function jsonPatch(target: Json, ops: Array<{ op: string; path: string; value?: unknown }>): Json {
  if (!Array.isArray(ops))
    throw new ApiError(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  const doc = structuredClone(target);
  for (const op of ops) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    if (last === undefined) throw new ApiError(422, 'Invalid', `invalid path ${op.path}`);
    let parent = doc as Json;
    for (const p of parts) {
      if (typeof parent[p] !== 'object' || parent[p] === null) {
        if (op.op === 'add') parent[p] = {};
        else
          throw new ApiError(
            422,
            'Invalid',
            `the server rejected our request due to an error in our request: path ${op.path} does not exist`,
          );
      }
      parent = parent[p] as Json;
    }
    if (op.op === 'add' || op.op === 'replace') {
      if (op.op === 'replace' && !(last in parent))
        throw new ApiError(
          422,
          'Invalid',
          `the server rejected our request due to an error in our request: replace operation does not apply: doc ` +
            `is missing key: ${op.path}`,
        );
      parent[last] = op.value;
    } else if (op.op === 'remove') {
      if (!(last in parent))
        throw new ApiError(
          422,
          'Invalid',
          `the server rejected our request due to an error in our request: remove operation does not apply: doc ` +
            `is missing path: ${op.path}`,
        );
      delete parent[last];
    } else if (op.op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value))
        throw new ApiError(
          422,
          'Invalid',
          `the server rejected our request due to an error in our request: testing value ${op.path} failed`,
        );
    } else {
      throw new ApiError(422, 'Invalid', `Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** What a node may hold after a patch, checked as the API server decodes and validates it. */
export interface NodeFields {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly unschedulable: boolean;
  readonly taints: Array<{
    key: string;
    value?: string;
    effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
    timeAdded?: string;
  }>;
  readonly resourceVersion?: string;
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new ApiError(
      400,
      'BadRequest',
      `json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field ` +
        `ObjectMeta.metadata.${field} of type map[string]string`,
    );
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string')
      throw new ApiError(
        400,
        'BadRequest',
        `json: cannot unmarshal ${typeof x} into Go struct field ObjectMeta.metadata.${field} of type string (key ${k})`,
      );
  }
  return v as Record<string, string>;
}

export function nodeFields(name: string, patched: Json): NodeFields {
  const meta = (patched.metadata ?? {}) as Json;
  const spec = (patched.spec ?? {}) as Json;
  if (spec.unschedulable !== undefined && typeof spec.unschedulable !== 'boolean') {
    throw new ApiError(
      400,
      'BadRequest',
      `json: cannot unmarshal ${typeof spec.unschedulable} into Go struct field NodeSpec.spec.unschedulable of type bool`,
    );
  }
  const taints = spec.taints ?? [];
  if (!Array.isArray(taints))
    throw new ApiError(
      400,
      'BadRequest',
      `json: cannot unmarshal ${typeof taints} into Go struct field NodeSpec.spec.taints of type []v1.Taint`,
    );
  taints.forEach((t: { key?: unknown; effect?: unknown }, i) => {
    if (typeof t?.key !== 'string' || !t.key)
      throw new ApiError(422, 'Invalid', `Node "${name}" is invalid: spec.taints[${i}].key: Required value`);
    if (!EFFECTS.includes(String(t.effect)))
      throw new ApiError(
        422,
        'Invalid',
        `Node "${name}" is invalid: spec.taints[${i}].effect: Unsupported value: "${String(t.effect)}": supported ` +
          `values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
      );
  });
  if (typeof meta.name === 'string' && meta.name !== name)
    throw new ApiError(
      400,
      'BadRequest',
      `the name of the object (${meta.name}) does not match the name on the URL (${name})`,
    );
  return {
    labels: stringMap(meta.labels, 'labels'),
    annotations: stringMap(meta.annotations, 'annotations'),
    unschedulable: spec.unschedulable === true,
    // The unschedulable taint is the node controller's, derived from spec.unschedulable.
    taints: (taints as NodeFields['taints']).filter((t) => t.key !== 'node.kubernetes.io/unschedulable'),
    resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined,
  };
}

/** A selector's requirements: split at commas outside parentheses (`env in (a,b)` is one requirement). */
function requirementsOf(sel: string): string[] {
  return sel
    .split(/,(?![^(]*\))/)
    .map((r) => r.trim())
    .filter(Boolean);
}

export function parseLabelSelector(sel: string | null): (labels: Record<string, string>) => boolean {
  if (!sel) return () => true;
  const reqs = requirementsOf(sel).map((r) => {
    let m: RegExpExecArray | null;
    if ((m = /^!([\w./-]+)$/.exec(r))) return (l: Record<string, string>) => !(m![1] in l);
    if ((m = /^([\w./-]+)\s*!=\s*([\w./-]*)$/.exec(r))) return (l: Record<string, string>) => l[m![1]] !== m![2];
    if ((m = /^([\w./-]+)\s*==?\s*([\w./-]*)$/.exec(r))) return (l: Record<string, string>) => l[m![1]] === m![2];
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(r))) {
      const set = m[3].split(',').map((x) => x.trim());
      const negate = m[2] === 'notin';
      return (l: Record<string, string>) => (m![1] in l && set.includes(l[m![1]])) !== negate;
    }
    if ((m = /^([\w./-]+)$/.exec(r))) return (l: Record<string, string>) => m![1] in l;
    throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${r}`);
  });
  return (labels) => reqs.every((f) => f(labels));
}

/**
 * A field selector over the fields a resource supports (the API server's own table of them): any
 * other field is refused with 400, as the real server does.
 */
export function parseFieldSelector(
  sel: string | null,
  fields: Readonly<Record<string, (o: Json) => string>>,
): (o: Json) => boolean {
  if (!sel) return () => true;
  const reqs = requirementsOf(sel).map((r) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(r);
    if (!m) throw new ApiError(400, 'BadRequest', `invalid selector: '${sel}'; can't understand '${r}'`);
    const get = fields[m[1]];
    if (!get) throw new ApiError(400, 'BadRequest', `field label not supported: ${m[1]}`);
    return (o: Json) => (get(o) === m[3]) === (m[2] !== '!=');
  });
  return (o) => reqs.every((f) => f(o));
}

/** Consistent list snapshots behind continue tokens: a token older than this (virtual time) is expired, as etcd compaction makes it. */
export const CONTINUE_TTL_MS = 5 * 60_000;

export class ListSnapshots {
  private seq = 0;
  private readonly snaps = new Map<number, { at: number; items: Json[]; rv: string }>();

  constructor(private readonly max = 64) {}

  /** One page and the token for the rest, from a snapshot taken now or named by `cont`. */
  page(
    items: () => Json[],
    rv: string,
    limit: number,
    cont: string | null,
    now: number,
  ): { items: Json[]; rv: string; cont?: string; remaining?: number } {
    let snap: { at: number; items: Json[]; rv: string };
    let offset = 0;
    let id: number;
    if (cont) {
      let t: { id?: unknown; o?: unknown };
      try {
        t = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as typeof t;
      } catch {
        throw new ApiError(400, 'BadRequest', 'continue key is not valid: illegal base64 data at input byte 0');
      }
      if (typeof t.id !== 'number' || typeof t.o !== 'number')
        throw new ApiError(
          400,
          'BadRequest',
          'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
        );
      const found = this.snaps.get(t.id);
      if (!found || now - found.at > CONTINUE_TTL_MS) {
        this.snaps.delete(t.id);
        throw new ApiError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new ' +
            'list without the continue parameter, or use the continue token in this response to retrieve the ' +
            'remainder of the results. Continuing with the provided token results in an inconsistent list - ' +
            'objects that were created, modified, or deleted between the time the first chunk was returned ' +
            'and now may show up in the list.',
        );
      }
      snap = found;
      offset = t.o;
      id = t.id;
    } else {
      snap = { at: now, items: items(), rv };
      id = ++this.seq;
      if (limit > 0 && snap.items.length > limit) {
        this.snaps.set(id, snap);
        for (const old of this.snaps.keys()) if (this.snaps.size > this.max) this.snaps.delete(old);
      }
    }
    const end = limit > 0 ? offset + limit : snap.items.length;
    const pageItems = snap.items.slice(offset, end);
    if (end >= snap.items.length) {
      if (cont) this.snaps.delete(id);
      return { items: pageItems, rv: snap.rv };
    }
    return {
      items: pageItems,
      rv: snap.rv,
      cont: Buffer.from(JSON.stringify({ id, o: end })).toString('base64url'),
      remaining: snap.items.length - end,
    };
  }
}

/** The fields a field selector may name, per kind, as the real server supports them. */
export const NODE_FIELDS = {
  'metadata.name': (o: Json) => String((o.metadata as Json).name),
  'spec.unschedulable': (o: Json) => String((o.spec as Json).unschedulable === true),
};
export const POD_FIELDS = {
  'metadata.name': (o: Json) => String((o.metadata as Json).name),
  'metadata.namespace': (o: Json) => String((o.metadata as Json).namespace),
  'spec.nodeName': (o: Json) => String((o.spec as Json).nodeName ?? ''),
  'status.phase': (o: Json) => String((o.status as Json).phase),
};
