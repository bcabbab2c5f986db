import { ApiError, parseFieldSelector } from './requests';
import { age, iso, tableWith, type Json } from './objects';
import type { RequestAttributes } from './rbac';

/** An Event as the API server stores it (events.k8s.io/v1's fields; core/v1 is a view of the same). */
interface SimEvent {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly createdAt: number;
  readonly body: Json;
}

/** What an event route needs of the server: authorization, counting and faults, the clock, its answer. */
export interface EventRouteContext {
  authorize(a: RequestAttributes): void;
  route(operation: string, target?: string): void;
  send(code: number, body: Json): void;
  readonly table: boolean;
  now(): number;
  nextResourceVersion(): number;
  uid(): string;
}

/** Kubernetes keeps Events an hour (the API server's --event-ttl). */
const EVENT_TTL_MS = 3600_000;
/** A field selector's getters: each field by its path in the object. */
const byPath = (paths: readonly string[]): Record<string, (o: Json) => string> =>
  Object.fromEntries(
    paths.map((p) => [
      p,
      (o: Json) => {
        const v = p.split('.').reduce<unknown>((x, k) => (x as Json | undefined)?.[k], o);
        return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      },
    ]),
  );
/** The fields a core/v1 Event list selects on (kubectl describe asks for involvedObject.*). */
const CORE_FIELDS = byPath([
  'metadata.name',
  'metadata.namespace',
  'involvedObject.kind',
  'involvedObject.name',
  'involvedObject.namespace',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
]);
const V1_FIELDS = byPath([
  'metadata.name',
  'metadata.namespace',
  'regarding.kind',
  'regarding.name',
  'regarding.namespace',
  'reason',
  'type',
]);

/** events.k8s.io/v1 validation, in the API server's words (what a create without them gets). */
function validate(body: Json, ns: string): void {
  const missing = ['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason'].filter(
    (f) => body[f] === undefined || body[f] === '',
  );
  const regarding = body.regarding as Json | undefined;
  const causes = [
    ...missing.map((f) => `${f}: Required value`),
    ...(!regarding?.kind || !regarding.name ? ['regarding: Required value'] : []),
    ...(body.type !== 'Normal' && body.type !== 'Warning' ? ['type: Unsupported value: "Normal", "Warning"'] : []),
    ...(typeof body.note === 'string' && body.note.length > 1024
      ? ['note: Too long: must have at most 1024 bytes']
      : []),
  ];
  const name = (body.metadata as Json | undefined)?.name ?? (body.metadata as Json | undefined)?.generateName;
  const all = [...(!name ? ['metadata.name: Required value'] : []), ...causes];
  if (all.length)
    throw new ApiError(422, 'Invalid', `Event.events.k8s.io "${String(name ?? '')}" is invalid: ${all.join(', ')}`);
  const bodyNs = (body.metadata as Json).namespace;
  if (bodyNs !== undefined && bodyNs !== ns)
    throw new ApiError(
      400,
      'BadRequest',
      'the namespace of the provided object does not match the namespace sent on the request',
    );
}

/** Node's `kubectl describe` and `kubectl get events` read the core/v1 view. */
function coreView(e: SimEvent): Json {
  const b = e.body;
  const regarding = (b.regarding ?? {}) as Json;
  const series = b.series as Json | undefined;
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: {
      name: e.name,
      namespace: e.namespace,
      uid: e.uid,
      resourceVersion: e.resourceVersion,
      creationTimestamp: iso(e.createdAt),
    },
    involvedObject: regarding,
    reason: b.reason,
    message: b.note ?? '',
    source: { component: b.reportingController },
    firstTimestamp: b.eventTime,
    lastTimestamp: (series?.lastObservedTime as string | undefined) ?? b.eventTime,
    count: (series?.count as number | undefined) ?? 1,
    type: b.type,
    eventTime: b.eventTime,
    action: b.action,
    reportingComponent: b.reportingController,
    reportingInstance: b.reportingInstance,
  };
}

function v1View(e: SimEvent): Json {
  return {
    ...e.body,
    kind: 'Event',
    apiVersion: 'events.k8s.io/v1',
    metadata: {
      ...(e.body.metadata as Json),
      name: e.name,
      namespace: e.namespace,
      uid: e.uid,
      resourceVersion: e.resourceVersion,
      creationTimestamp: iso(e.createdAt),
    },
  };
}

/** `kubectl get events`: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, as the real server's Table. */
function table(items: readonly Json[], now: number, meta: Json): Json {
  const columns = [['Last Seen'], ['Type'], ['Reason'], ['Object'], ['Message']] as const;
  const rows = items.map((o) => {
    const io = (o.involvedObject ?? o.regarding ?? {}) as Json;
    const last = Date.parse(String(o.lastTimestamp ?? o.eventTime ?? ''));
    const object = `${String(io.kind).toLowerCase()}/${String(io.name)}`;
    return { cells: [age(last, now), o.type, o.reason, object, o.message ?? o.note ?? ''], metadata: o.metadata };
  });
  return tableWith(columns, rows, meta);
}

/** The Events the cluster keeps: created through events.k8s.io/v1, read through it or core/v1. */
export class EventStore {
  private readonly events = new Map<string, SimEvent>();

  /** The Events of the last hour about an object (the simulator's report and tests read them). */
  about(kind: string, name: string, now: number): Json[] {
    return this.live(now)
      .map(coreView)
      .filter((e) => (e.involvedObject as Json).kind === kind && (e.involvedObject as Json).name === name);
  }

  private live(now: number): SimEvent[] {
    for (const [k, e] of this.events) if (now - e.createdAt > EVENT_TTL_MS) this.events.delete(k);
    return [...this.events.values()].sort((a, b) => a.createdAt - b.createdAt || (a.name < b.name ? -1 : 1));
  }

  /** Serves `/api/v1[/namespaces/ns]/events` (read) and `/apis/events.k8s.io/v1[/namespaces/ns]/events` (read, create). */
  handle(ctx: EventRouteContext, path: string, method: string, url: URL, body: string): boolean {
    const m = /^\/(api\/v1|apis\/events\.k8s\.io\/v1)(?:\/namespaces\/([^/]+))?\/events(?:\/([^/]+))?$/.exec(path);
    if (!m) return false;
    const core = m[1] === 'api/v1';
    const apiGroup = core ? '' : 'events.k8s.io';
    const ns = m[2] ? decodeURIComponent(m[2]) : undefined;
    const name = m[3] ? decodeURIComponent(m[3]) : undefined;
    if (method === 'POST' && !core && ns && !name) {
      ctx.authorize({ verb: 'create', apiGroup, resource: 'events', namespace: ns });
      let parsed: Json;
      try {
        parsed = JSON.parse(body) as Json;
      } catch {
        throw new ApiError(400, 'BadRequest', 'the body of the request was in an unknown format');
      }
      validate(parsed, ns);
      const meta = parsed.metadata as Json;
      const eventName = String(meta.name ?? `${String(meta.generateName)}${ctx.uid().slice(0, 5)}`);
      // Audited by what it is about (an interruption drain may tell of its own node only).
      const about = parsed.regarding as Json;
      ctx.route('create events', `event/${String(about.kind).toLowerCase()}/${String(about.name)}`);
      if (this.events.has(`${ns}/${eventName}`))
        throw new ApiError(409, 'AlreadyExists', `events.events.k8s.io "${eventName}" already exists`, {
          name: eventName,
          group: 'events.k8s.io',
          kind: 'events',
        });
      const e: SimEvent = {
        name: eventName,
        namespace: ns,
        uid: ctx.uid(),
        resourceVersion: String(ctx.nextResourceVersion()),
        createdAt: ctx.now(),
        body: parsed,
      };
      this.events.set(`${ns}/${eventName}`, e);
      ctx.send(201, v1View(e));
      return true;
    }
    if (method !== 'GET')
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    ctx.authorize({
      verb: name ? 'get' : 'list',
      apiGroup,
      resource: 'events',
      namespace: ns,
      ...(name ? { name } : {}),
    });
    ctx.route(name ? 'get events' : 'list events');
    const view = core ? coreView : v1View;
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector'), core ? CORE_FIELDS : V1_FIELDS);
    const items = this.live(ctx.now())
      .filter((e) => (!ns || e.namespace === ns) && (!name || e.name === name))
      .map(view)
      .filter(fields);
    if (name) {
      if (!items.length)
        throw new ApiError(404, 'NotFound', `events${core ? '' : '.events.k8s.io'} "${name}" not found`, {
          name,
          kind: 'events',
        });
      ctx.send(200, items[0]);
      return true;
    }
    const meta = { resourceVersion: String(ctx.nextResourceVersion()) };
    ctx.send(
      200,
      ctx.table
        ? table(items, ctx.now(), meta)
        : { kind: 'EventList', apiVersion: core ? 'v1' : 'events.k8s.io/v1', metadata: meta, items },
    );
    return true;
  }
}
