import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cluster } from './cluster';
import type { ClusterEvent } from './model';
import { evict, nodeChange, patchNode } from './writes';
import { discovery } from './discovery';
import { serverKeyPair } from './tls';
import { asTable, renderBudget, renderNode, renderPod, wantsTable, type Json } from './objects';
import { EventStore, type EventRouteContext } from './events';
import { ownerRoute } from './owners';
import { accessReview } from './access-review';
import { randomUUID } from 'node:crypto';
import { Authorizer, type RequestAttributes, type UserInfo } from './rbac';
import {
  ApiError,
  ListSnapshots,
  NODE_FIELDS,
  parseFieldSelector,
  parseLabelSelector,
  POD_FIELDS,
  status,
} from './requests';

/** What the server needs from the simulator beyond the cluster's objects. */
export interface ApiServerHost {
  /** The RBAC manifests the cluster has applied (deploy/rbac.yaml and rbac-kops.yaml by default). */
  readonly rbacManifests?: readonly string[];
  readonly cluster: Cluster;
  now(): number;
  /** Counts a call (`list nodes`, `create pods/eviction`) and says whether a fault answers it instead. */
  kubeCall(
    operation: string,
    clientPort: number | undefined,
  ): { code: number; reason: string; message: string } | undefined;
  /** Records a mutating call (patch, delete, eviction) and how it ended. */
  audit(operation: string, target: string, clientPort: number | undefined, outcome: string, change?: string): void;
  /** Who the bearer token is (a static token, or a valid EKS token for this cluster), or undefined. */
  authenticate(token: string): Promise<UserInfo | undefined>;
}

/**
 * The Kubernetes API server as client-node and kubectl see it, where node-manager's paths go:
 * HTTPS on 127.0.0.1 with the simulator's CA, bearer tokens, RBAC from `deploy/rbac.yaml`,
 * discovery, Tables for `kubectl get`, lists paged over a consistent snapshot (410 once expired),
 * label and field selectors (400 for an unsupported field), watches, validated merge, strategic
 * and JSON patches with resourceVersion preconditions (409), policy/v1 budgets and the Eviction
 * subresource (429, and 500 for a pod under two budgets; dryRun changes nothing), and the owners
 * pods name (DaemonSets, ReplicaSets, Jobs).
 */
export class ApiServer {
  private server?: Server;
  private port = 0;
  private readonly lists = new ListSnapshots();
  /** The Events clients create (events.k8s.io/v1) and read (it, or core/v1). */
  readonly events = new EventStore();
  private readonly authorizer: Authorizer;
  private readonly audited = new WeakMap<
    ServerResponse,
    { operation: string; target: string; port: number | undefined; change?: string }
  >();
  private readonly watches = new Set<ServerResponse>();

  constructor(private readonly host: ApiServerHost) {
    this.authorizer = new Authorizer(host.rbacManifests);
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer(serverKeyPair(), (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // A protobuf body (kubectl's for built-in kinds) keeps its bytes one to one.
        const binary = /protobuf/.test(req.headers['content-type'] ?? '');
        this.handle(req, Buffer.concat(chunks).toString(binary ? 'latin1' : 'utf8'), res).catch((e: unknown) => {
          if (e instanceof ApiError)
            this.send(
              res,
              e.code,
              status(e.code, e.reason, e.message, e.details),
              e.details?.retryAfterSeconds ? { 'Retry-After': String(e.details.retryAfterSeconds) } : {},
            );
          else this.send(res, 500, status(500, 'InternalError', `simulator: ${(e as Error).message}`));
        });
      });
    });
    // Node clients keep a socket only when the server's Keep-Alive hint exceeds their 1 s buffer; stop() closes them all.
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    for (const w of this.watches) w.end();
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private send(res: ServerResponse, code: number, body: Json, headers: Record<string, string> = {}): void {
    const a = this.audited.get(res);
    if (a)
      this.host.audit(
        a.operation,
        a.target,
        a.port,
        code < 300 ? 'ok' : `${code} ${String(body.reason ?? '')}`.trim(),
        code < 300 ? a.change : undefined,
      );
    if (res.headersSent) return;
    res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private authorize(user: UserInfo, a: RequestAttributes): void {
    if (!this.authorizer.allows(user, a))
      throw new ApiError(403, 'Forbidden', Authorizer.forbidden(user, a), {
        ...(a.name ? { name: a.name } : {}),
        kind: a.resource,
        ...(a.apiGroup ? { group: a.apiGroup } : {}),
      });
  }

  /** Counts the call and applies a fault armed for it; a mutating call is audited with its answer. */
  private route(req: IncomingMessage, res: ServerResponse, operation: string, target?: string): void {
    const port = req.socket.remotePort;
    if (target !== undefined) this.audited.set(res, { operation, target, port });
    const fault = this.host.kubeCall(operation, port);
    if (fault)
      throw new ApiError(
        fault.code,
        fault.reason,
        fault.message,
        fault.code === 429 ? { retryAfterSeconds: 1 } : undefined,
      );
  }

  /** A list: paged over a consistent snapshot, a Table when asked, or a watch stream. */
  private list(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    kind: 'Node' | 'Pod' | 'PodDisruptionBudget',
    items: () => Json[],
    watchKind?: 'Node' | 'Pod',
    filter: (o: Json) => boolean = () => true,
  ): void {
    const rv = String(this.host.cluster.nextResourceVersion());
    if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
      if (!watchKind)
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      return this.watch(req, res, url, watchKind, filter);
    }
    const limit = Number(url.searchParams.get('limit') ?? '0');
    const p = this.lists.page(
      items,
      rv,
      Number.isInteger(limit) && limit > 0 ? limit : 0,
      url.searchParams.get('continue'),
      this.host.now(),
    );
    const meta = { resourceVersion: p.rv, ...(p.cont ? { continue: p.cont, remainingItemCount: p.remaining } : {}) };
    if (wantsTable(req.headers.accept)) return this.send(res, 200, asTable(kind, p.items, this.host.now(), meta));
    const apiVersion = kind === 'PodDisruptionBudget' ? 'policy/v1' : 'v1';
    this.send(res, 200, { kind: `${kind}List`, apiVersion, metadata: meta, items: p.items });
  }

  /** One object, or a one-row Table when the client asks for one (kubectl get KIND NAME). */
  private one(req: IncomingMessage, kind: 'Node' | 'Pod' | 'PodDisruptionBudget', obj: Json): Json {
    return wantsTable(req.headers.accept)
      ? asTable(kind, [obj], this.host.now(), { resourceVersion: String((obj.metadata as Json).resourceVersion) })
      : obj;
  }

  /** A watch: one JSON event a line for every later change of the kind, until the client goes or its timeout. */
  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    kind: 'Node' | 'Pod',
    filter: (o: Json) => boolean,
  ): void {
    const table = wantsTable(req.headers.accept);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    const listener = (e: ClusterEvent) => {
      if (e.kind !== kind) return;
      const obj = kind === 'Node' ? renderNode(e.node!) : renderPod(e.pod!);
      if (!filter(obj)) return;
      res.write(`${JSON.stringify({ type: e.type, object: table ? asTable(kind, [obj], this.host.now()) : obj })}\n`);
    };
    this.host.cluster.watchers.add(listener);
    this.watches.add(res);
    const end = () => {
      this.host.cluster.watchers.delete(listener);
      this.watches.delete(res);
      if (!res.writableEnded) res.end();
    };
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '1800');
    setTimeout(end, Math.max(1, timeout) * 1000).unref();
    req.on('close', end);
  }

  private async handle(req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = req.method ?? 'GET';
    const auth = req.headers.authorization ?? '';
    const user = auth.startsWith('Bearer ') ? await this.host.authenticate(auth.slice(7)) : undefined;
    if (!user) return this.send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    const cluster = this.host.cluster;
    const path = url.pathname.replace(/\/$/, '') || '/';
    let m: RegExpExecArray | null;

    const doc = method === 'GET' ? discovery(path) : undefined;
    if (doc) return this.send(res, 200, doc);

    if (path === '/api/v1/nodes' && method === 'GET') {
      this.authorize(user, { verb: url.searchParams.get('watch') ? 'watch' : 'list', apiGroup: '', resource: 'nodes' });
      this.route(req, res, 'list nodes');
      const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
      const fields = parseFieldSelector(url.searchParams.get('fieldSelector'), NODE_FIELDS);
      const keep = (o: Json) => labels(((o.metadata as Json).labels ?? {}) as Record<string, string>) && fields(o);
      return this.list(
        req,
        res,
        url,
        'Node',
        () =>
          [...cluster.nodes.values()]
            .sort((a, b) => (a.name < b.name ? -1 : 1))
            .map(renderNode)
            .filter(keep),
        'Node',
        keep,
      );
    }
    if ((m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path))) {
      const name = decodeURIComponent(m[1]);
      const verb = { GET: 'get', PATCH: 'patch', DELETE: 'delete', PUT: 'update' }[method];
      if (!verb)
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      this.authorize(user, { verb, apiGroup: '', resource: 'nodes', name });
      this.route(req, res, `${verb} nodes`, verb === 'get' ? undefined : `node/${name}`);
      const node = cluster.nodes.get(name);
      if (!node) throw new ApiError(404, 'NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' });
      if (verb === 'get') return this.send(res, 200, this.one(req, 'Node', renderNode(node)));
      if (verb === 'delete') {
        if (url.searchParams.get('dryRun') !== 'All') cluster.removeNode(name);
        return this.send(res, 200, status(200, '', '', { name, kind: 'nodes', uid: node.uid }));
      }
      const before = { unschedulable: node.unschedulable, taints: node.taints.map((t) => t.key) };
      const out = patchNode(
        this.host.cluster,
        node,
        req.headers['content-type'],
        body,
        verb,
        url.searchParams.get('dryRun') === 'All',
      );
      const a = this.audited.get(res);
      if (a) a.change = nodeChange(before, node);
      return this.send(res, 200, out);
    }
    if ((m = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/pods$/.exec(path)) && method === 'GET') {
      const ns = m[1] ? decodeURIComponent(m[1]) : undefined;
      this.authorize(user, {
        verb: url.searchParams.get('watch') ? 'watch' : 'list',
        apiGroup: '',
        resource: 'pods',
        namespace: ns,
      });
      this.route(req, res, 'list pods');
      const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
      const fieldSel = url.searchParams.get('fieldSelector');
      const fields = parseFieldSelector(fieldSel, POD_FIELDS);
      const onNode = /^spec\.nodeName=([^,]*)$/.exec(fieldSel ?? '')?.[1];
      const keep = (o: Json) =>
        (!ns || (o.metadata as Json).namespace === ns) &&
        labels(((o.metadata as Json).labels ?? {}) as Record<string, string>) &&
        fields(o);
      const source = () => (onNode ? cluster.podsOn(onNode) : [...cluster.pods.values()]);
      return this.list(
        req,
        res,
        url,
        'Pod',
        () =>
          source()
            .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1))
            .map(renderPod)
            .filter(keep),
        'Pod',
        keep,
      );
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path))) {
      const ns = decodeURIComponent(m[1]);
      const name = decodeURIComponent(m[2]);
      const verb = { GET: 'get', DELETE: 'delete' }[method];
      if (!verb)
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      this.authorize(user, { verb, apiGroup: '', resource: 'pods', namespace: ns, name });
      this.route(req, res, `${verb} pods`, verb === 'get' ? undefined : `pod/${ns}/${name}`);
      const pod = cluster.pods.get(`${ns}/${name}`);
      if (!pod) throw new ApiError(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
      if (verb === 'delete' && url.searchParams.get('dryRun') !== 'All') cluster.terminatePod(pod);
      return this.send(res, 200, verb === 'get' ? this.one(req, 'Pod', renderPod(pod)) : renderPod(pod));
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(path)) && method === 'POST') {
      return evict(
        this.context(req, res, user),
        this.host.cluster,
        decodeURIComponent(m[1]),
        decodeURIComponent(m[2]),
        body,
        url,
      );
    }
    if (
      (m = /^\/apis\/policy\/v1(?:\/namespaces\/([^/]+))?\/poddisruptionbudgets(?:\/([^/]+))?$/.exec(path)) &&
      method === 'GET'
    ) {
      const ns = m[1] ? decodeURIComponent(m[1]) : undefined;
      const name = m[2] ? decodeURIComponent(m[2]) : undefined;
      this.authorize(user, {
        verb: name ? 'get' : 'list',
        apiGroup: 'policy',
        resource: 'poddisruptionbudgets',
        namespace: ns,
        name,
      });
      this.route(req, res, name ? 'get poddisruptionbudgets' : 'list poddisruptionbudgets');
      const all = [...cluster.budgets.values()]
        .filter((b) => !ns || b.namespace === ns)
        .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
      if (name) {
        const b = all.find((x) => x.name === name);
        if (!b)
          throw new ApiError(404, 'NotFound', `poddisruptionbudgets.policy "${name}" not found`, {
            name,
            group: 'policy',
            kind: 'poddisruptionbudgets',
          });
        return this.send(res, 200, this.one(req, 'PodDisruptionBudget', renderBudget(b, cluster.budgetStatus(b))));
      }
      return this.list(req, res, url, 'PodDisruptionBudget', () =>
        all.map((b) => renderBudget(b, cluster.budgetStatus(b))),
      );
    }
    const ctx = this.context(req, res, user);
    if (
      this.events.handle(ctx, path, method, url, body) ||
      ownerRoute(ctx, path, method, cluster) ||
      accessReview(
        { ...ctx, allows: (a) => this.authorizer.allows(user, a) },
        path,
        method,
        body,
        req.headers['content-type'],
      )
    )
      return;
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }

  /** What a route module needs of this server for one request. */
  private context(req: IncomingMessage, res: ServerResponse, user: UserInfo): EventRouteContext {
    return {
      authorize: (a) => this.authorize(user, a),
      route: (operation, target) => this.route(req, res, operation, target),
      send: (code, body) => this.send(res, code, body),
      table: wantsTable(req.headers.accept),
      now: () => this.host.now(),
      nextResourceVersion: () => this.host.cluster.nextResourceVersion(),
      uid: () => randomUUID(),
    };
  }
}
