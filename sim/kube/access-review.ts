import { ApiError } from './requests';
import type { Json } from './objects';
import type { RequestAttributes } from './rbac';

/** Protobuf fields of one message: field number to its values (varints as numbers, the rest as bytes). */
function fields(buf: Buffer): Map<number, Array<number | Buffer>> {
  const out = new Map<number, Array<number | Buffer>>();
  let i = 0;
  const varint = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated');
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const wire = key & 7;
    let value: number | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const length = varint();
      value = buf.subarray(i, i + length);
      i += length;
    } else throw new Error(`wire type ${wire}`);
    out.set(key >>> 3, [...(out.get(key >>> 3) ?? []), value]);
  }
  return out;
}

/**
 * A SelfSubjectAccessReview as kubectl sends it (`application/vnd.kubernetes.protobuf`): the `k8s\0`
 * envelope (runtime.Unknown, field 2 the object), then spec (2) → resourceAttributes (1): namespace 1,
 * verb 2, group 3, version 4, resource 5, subresource 6, name 7.
 */
function fromProtobuf(buf: Buffer): Json {
  if (buf.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new Error('no envelope');
  const raw = fields(buf.subarray(4)).get(2)?.[0];
  const spec = Buffer.isBuffer(raw) ? fields(raw).get(2)?.[0] : undefined;
  const attrs = Buffer.isBuffer(spec) ? fields(spec).get(1)?.[0] : undefined;
  if (!Buffer.isBuffer(attrs)) return { spec: {} };
  const f = fields(attrs);
  const str = (n: number) => {
    const v = f.get(n)?.[0];
    return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
  };
  const names = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
  return {
    spec: {
      resourceAttributes: Object.fromEntries(
        names.flatMap((k, n) => (str(n + 1) !== undefined ? [[k, str(n + 1)]] : [])),
      ),
    },
  };
}

/**
 * `kubectl auth can-i`: a SelfSubjectAccessReview (authorization.k8s.io/v1) answered from the RBAC
 * the server enforces, so what it says is what a request would meet.
 */
export function accessReview(
  ctx: { allows(a: RequestAttributes): boolean; send(code: number, body: Json): void; route(operation: string): void },
  path: string,
  method: string,
  body: string,
  contentType: string | undefined,
): boolean {
  if (path !== '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews' || method !== 'POST') return false;
  ctx.route('create selfsubjectaccessreviews');
  let review: Json;
  try {
    review = /protobuf/.test(contentType ?? '')
      ? fromProtobuf(Buffer.from(body, 'latin1'))
      : (JSON.parse(body) as Json);
  } catch {
    throw new ApiError(400, 'BadRequest', 'the body of the request was in an unknown format');
  }
  const spec = (review.spec ?? {}) as Json;
  const r = spec.resourceAttributes as Json | undefined;
  if (!r)
    throw new ApiError(
      422,
      'Invalid',
      'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: ' +
        '"null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  const verb = String(r.verb ?? '');
  const allowed = ctx.allows({
    verb,
    apiGroup: String(r.group ?? ''),
    resource: String(r.resource ?? ''),
    ...(r.subresource ? { subresource: String(r.subresource) } : {}),
    ...(r.namespace ? { namespace: String(r.namespace) } : {}),
    ...(r.name ? { name: String(r.name) } : {}),
  });
  ctx.send(201, {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec,
    status: { allowed, ...(allowed ? { reason: "RBAC: allowed by the simulated cluster's roles" } : {}) },
  });
  return true;
}
