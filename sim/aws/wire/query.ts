import { XmlShapeSerializer } from '@aws-sdk/core/protocols';
import { NormalizedSchema } from '@smithy/core/schema';
import type { $Schema as Schema } from '@smithy/types';

/**
 * The Query protocols (awsQuery: Auto Scaling, CloudFormation; ec2Query: EC2) read and written by
 * the models' own schemas, the reverse of the SDK's QueryShapeSerializer and XmlShapeDeserializer:
 * the same keys (`AutoScalingGroupNames.member.1`, EC2's flattened `InstanceId.1`, capitalized
 * `Filter.1.Name`), the same list and timestamp encodings, so any client that speaks the protocol
 * (the SDK, the AWS CLI) reads what it would read from AWS.
 */
interface Traits {
  readonly xmlName?: string;
  readonly ec2QueryName?: string;
  readonly xmlFlattened?: unknown;
}

function keyOf(name: string, traits: Traits, ec2: boolean, struct: boolean): string {
  if (ec2 && traits.ec2QueryName) return traits.ec2QueryName;
  const key = traits.xmlName ?? name;
  return ec2 && struct ? key[0].toUpperCase() + key.slice(1) : key;
}

function read(ns: NormalizedSchema, prefix: string, params: Map<string, string>, ec2: boolean): unknown {
  const present = (p: string) => params.has(p) || [...params.keys()].some((k) => k.startsWith(`${p}.`));
  if (ns.isStructSchema()) {
    if (prefix && !present(prefix)) return undefined;
    const out: Record<string, unknown> = {};
    for (const [name, member] of ns.structIterator()) {
      const key = keyOf(name, member.getMergedTraits() as Traits, ec2, true);
      const v = read(member, prefix ? `${prefix}.${key}` : key, params, ec2);
      if (v !== undefined) out[name] = v;
    }
    return out;
  }
  if (ns.isListSchema()) {
    if (params.get(prefix) === '') return []; // awsQuery's empty list: the key with no value
    if (!present(prefix)) return undefined;
    const member = ns.getValueSchema();
    const flat = ec2 || !!(ns.getMergedTraits() as Traits).xmlFlattened;
    const base = flat ? prefix : `${prefix}.${keyOf('member', member.getMergedTraits() as Traits, ec2, false)}`;
    const items: unknown[] = [];
    for (let i = 1; present(`${base}.${i}`); i += 1) items.push(read(member, `${base}.${i}`, params, ec2));
    return items;
  }
  if (ns.isMapSchema()) {
    if (!present(prefix)) return undefined;
    const flat = !!(ns.getMergedTraits() as Traits).xmlFlattened;
    const base = flat ? prefix : `${prefix}.entry`;
    const k = keyOf('key', ns.getKeySchema().getMergedTraits() as Traits, ec2, false);
    const v = keyOf('value', ns.getValueSchema().getMergedTraits() as Traits, ec2, false);
    const out: Record<string, unknown> = {};
    for (let i = 1; params.has(`${base}.${i}.${k}`); i += 1)
      out[params.get(`${base}.${i}.${k}`)!] = read(ns.getValueSchema(), `${base}.${i}.${v}`, params, ec2);
    return out;
  }
  const raw = params.get(prefix);
  if (raw === undefined) return undefined;
  if (ns.isBooleanSchema()) return raw === 'true';
  if (ns.isNumericSchema()) return Number(raw);
  if (ns.isTimestampSchema()) return new Date(/^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : raw);
  if (ns.isBlobSchema()) return Buffer.from(raw, 'base64');
  return raw;
}

/** A Query request's parameters (Action and Version aside) as the operation's SDK input. */
export function readQuery(input: Schema, params: URLSearchParams, ec2: boolean): unknown {
  const map = new Map([...params].filter(([k]) => k !== 'Action' && k !== 'Version'));
  return read(NormalizedSchema.of(input), '', map, ec2);
}

export const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The members of an SDK output as the elements of its XML (no root element). */
function members(output: Schema, value: unknown): string {
  const ns = NormalizedSchema.of(output);
  if (ns.isUnitSchema() || !ns.isStructSchema()) return '';
  const serializer = new XmlShapeSerializer({
    timestampFormat: { useTrait: true, default: 5 },
    httpBindings: false,
  } as ConstructorParameters<typeof XmlShapeSerializer>[0]);
  serializer.write(output, value ?? {});
  const xml = String(serializer.flush());
  const m = /^<([^\s>/]+)[^>]*?(\/>|>([\s\S]*)<\/\1>)$/.exec(xml.trim());
  return m?.[3] ?? '';
}

/** A Query response: awsQuery wraps the members in `<Action>Result` and ResponseMetadata, ec2Query does not. */
export function queryResponse(
  action: string,
  output: Schema,
  value: unknown,
  p: { readonly ec2: boolean; readonly xmlns: string; readonly requestId: string },
): string {
  const body = members(output, value);
  const inner = p.ec2
    ? `<requestId>${p.requestId}</requestId>${body}`
    : `<${action}Result>${body}</${action}Result><ResponseMetadata><RequestId>${p.requestId}</RequestId></ResponseMetadata>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${p.xmlns}">${inner}</${action}Response>`;
}

/** A Query error: awsQuery's ErrorResponse, ec2Query's Response/Errors. */
export function queryError(
  code: string,
  message: string,
  p: { readonly ec2: boolean; readonly xmlns: string; readonly requestId: string; readonly sender: boolean },
): string {
  const error = `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>`;
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
  if (p.ec2)
    return `${head}<Response><Errors><Error>${error}</Error></Errors><RequestID>${p.requestId}</RequestID></Response>`;
  const type = `<Type>${p.sender ? 'Sender' : 'Receiver'}</Type>`;
  return `${head}<ErrorResponse xmlns="${p.xmlns}"><Error>${type}${error}</Error><RequestId>${p.requestId}</RequestId></ErrorResponse>`;
}
