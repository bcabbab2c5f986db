import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Cluster, SimNode, SimPod } from './cluster';

const CERTS = join(__dirname, 'certs');
export const SIM_CA_PEM = readFileSync(join(CERTS, 'ca.crt'), 'utf8');

type Json = Record<string, unknown>;

/** What the server needs from the simulator beyond the cluster's objects. */
export interface ApiServerHost {
  readonly cluster: Cluster;
  now(): number;
  /** Counts a call (`list nodes`, `create pods/eviction`) and says whether a fault answers it instead. */
  kubeCall(operation: string, clientPort: number | undefined): { code: number; reason: string; message: string } | undefined;
  /** Records a mutating call (patch, delete, eviction) and how it ended. */
  audit(operation: string, target: string, clientPort: number | undefined, outcome: string): void;
  /** True when the bearer token is accepted (a static token, or a valid EKS token for this cluster). */
  authenticate(token: string): Promise<boolean>;
}

function status(code: number, reason: string, message: string, details?: Json): Json {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 300 ? 'Success' : 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function renderNode(n: SimNode): Json {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, uid: n.uid, resourceVersion: String(n.resourceVersion), creationTimestamp: iso(n.createdAt), labels: { ...n.labels }, annotations: { ...n.annotations } },
    spec: { providerID: n.providerID, ...(n.unschedulable ? { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: iso(n.createdAt) }] } : {}) },
    status: {
      conditions: [{ type: 'Ready', status: n.ready ? 'True' : 'Unknown', reason: n.ready ? 'KubeletReady' : 'NodeStatusUnknown', message: n.ready ? 'kubelet is posting ready status' : 'Kubelet stopped posting node status.' }],
      addresses: [{ type: 'InternalDNS', address: n.name }],
    },
  };
}

function renderPod(p: SimPod): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.namespace,
      uid: p.uid,
      resourceVersion: String(p.resourceVersion),
      creationTimestamp: iso(p.createdAt),
      labels: { ...p.labels },
      annotations: { ...p.annotations },
      ownerReferences: [{ apiVersion: p.owner.kind === 'Node' ? 'v1' : 'apps/v1', kind: p.owner.kind, name: p.owner.name, uid: `${p.owner.kind}-${p.owner.name}`, controller: true }],
      ...(p.deletionTimestamp !== undefined ? { deletionTimestamp: iso(p.deletionTimestamp), deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: { ...(p.nodeName ? { nodeName: p.nodeName } : {}), containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
    status: { phase: p.phase, conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False' }] },
  };
}

/** RFC 7386 JSON merge patch (also serves strategic merge for the scalar and map fields we patch). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Json = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [k, v] of Object.entries(patch as Json)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch: add, replace, remove, test. */
function jsonPatch(target: Json, ops: Array<{ op: string; path: string; value?: unknown }>): Json {
  const doc = structuredClone(target);
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    if (last === undefined) throw new Error(`invalid path ${op.path}`);
    let parent = doc as Json;
    for (const p of parts) {
      if (typeof parent[p] !== 'object' || parent[p] === null) {
        if (op.op === 'add') parent[p] = {};
        else throw new Error(`path ${op.path} does not exist`);
      }
      parent = parent[p] as Json;
    }
    if (op.op === 'add' || op.op === 'replace') {
      if (op.op === 'replace' && !(last in parent)) throw new Error(`replace operation does not apply: doc is missing key: ${op.path}`);
      parent[last] = op.value;
    } else if (op.op === 'remove') {
      if (!(last in parent)) throw new Error(`remove operation does not apply: doc is missing path: ${op.path}`);
      delete parent[last];
    } else if (op.op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new Error(`testing value ${op.path} failed`);
    } else {
      throw new Error(`unsupported op ${op.op}`);
    }
  }
  return doc;
}

function parseLabelSelector(sel: string | null): (labels: Record<string, string>) => boolean {
  if (!sel) return () => true;
  const reqs = sel.split(',').map((r) => r.trim()).filter(Boolean).map((r) => {
    let m: RegExpExecArray | null;
    if ((m = /^!([\w./-]+)$/.exec(r))) return (l: Record<string, string>) => !(m![1] in l);
    if ((m = /^([\w./-]+)\s*!=\s*([\w./-]*)$/.exec(r))) return (l: Record<string, string>) => l[m![1]] !== m![2];
    if ((m = /^([\w./-]+)\s*==?\s*([\w./-]*)$/.exec(r))) return (l: Record<string, string>) => l[m![1]] === m![2];
    if ((m = /^([\w./-]+)$/.exec(r))) return (l: Record<string, string>) => m![1] in l;
    throw new Error(`unable to parse requirement: ${r}`);
  });
  return (labels) => reqs.every((f) => f(labels));
}

/**
 * The Kubernetes API server as client-node sees it: HTTPS on 127.0.0.1 with the simulator's CA,
 * bearer-token authentication, JSON lists with `limit`/`continue`, label and field selectors,
 * merge and JSON patches, and the policy/v1 Eviction subresource.
 */
export class ApiServer {
  private server?: Server;
  private port = 0;

  constructor(private readonly host: ApiServerHost) {}

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer({ key: readFileSync(join(CERTS, 'server.key')), cert: readFileSync(join(CERTS, 'server.crt')) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.handle(req, Buffer.concat(chunks).toString('utf8'), res).catch((e: unknown) => {
          this.send(res, 500, status(500, 'InternalError', `simulator: ${(e as Error).message}`));
        });
      });
    });
    // Loopback keep-alive sockets must not hold the process (or jest) open after stop().
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Mutating requests in flight: their answer is written to the audit. */
  private readonly audited = new WeakMap<ServerResponse, { operation: string; target: string; port: number | undefined }>();

  private send(res: ServerResponse, code: number, body: Json, headers: Record<string, string> = {}): void {
    const a = this.audited.get(res);
    if (a) this.host.audit(a.operation, a.target, a.port, code < 300 ? 'ok' : `${code} ${String(body.reason ?? '')}`.trim());
    res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private list(res: ServerResponse, kind: string, items: Json[], url: URL): void {
    const limit = Number(url.searchParams.get('limit') ?? '0');
    const cont = url.searchParams.get('continue');
    let offset = 0;
    if (cont) {
      const parsed = Number(Buffer.from(cont, 'base64url').toString('utf8').replace(/^o:/, ''));
      if (!Number.isInteger(parsed) || parsed < 0) return this.send(res, 400, status(400, 'BadRequest', 'continue key is not valid'));
      offset = parsed;
    }
    const pageItems = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
    const more = limit > 0 && offset + limit < items.length;
    this.send(res, 200, {
      kind,
      apiVersion: 'v1',
      metadata: { resourceVersion: String(this.host.cluster.nextResourceVersion()), ...(more ? { continue: Buffer.from(`o:${offset + limit}`).toString('base64url'), remainingItemCount: items.length - offset - limit } : {}) },
      items: pageItems,
    });
  }

  private async handle(req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = req.method ?? 'GET';
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !(await this.host.authenticate(auth.slice(7)))) {
      return this.send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    const cluster = this.host.cluster;
    const path = url.pathname;
    let m: RegExpExecArray | null;

    const port = req.socket.remotePort;
    const route = (operation: string, target?: string): boolean => {
      if (target !== undefined) this.audited.set(res, { operation, target, port });
      const fault = this.host.kubeCall(operation, port);
      if (!fault) return true;
      this.send(res, fault.code, status(fault.code, fault.reason, fault.message, fault.code === 429 ? { retryAfterSeconds: 1 } : undefined), fault.code === 429 ? { 'Retry-After': '1' } : {});
      return false;
    };

    if (path === '/api/v1/nodes' && method === 'GET') {
      if (!route('list nodes')) return;
      let match: (l: Record<string, string>) => boolean;
      try {
        match = parseLabelSelector(url.searchParams.get('labelSelector'));
      } catch (e) {
        return this.send(res, 400, status(400, 'BadRequest', (e as Error).message));
      }
      const nodes = [...cluster.nodes.values()].filter((n) => match(n.labels)).sort((a, b) => (a.name < b.name ? -1 : 1));
      return this.list(res, 'NodeList', nodes.map(renderNode), url);
    }
    if ((m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path))) {
      const name = decodeURIComponent(m[1]);
      const verb = method === 'GET' ? 'get' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : method.toLowerCase();
      if (!route(`${verb} nodes`, verb === 'get' ? undefined : `node/${name}`)) return;
      const node = cluster.nodes.get(name);
      if (!node) return this.send(res, 404, status(404, 'NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' }));
      if (method === 'GET') return this.send(res, 200, renderNode(node));
      if (method === 'DELETE') {
        cluster.removeNode(name);
        return this.send(res, 200, status(200, '', '', { name, kind: 'nodes', uid: node.uid }));
      }
      if (method === 'PATCH') {
        const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
        let patched: Json;
        try {
          const parsed = JSON.parse(body) as unknown;
          if (type === 'application/json-patch+json') patched = jsonPatch(renderNode(node), parsed as Array<{ op: string; path: string; value?: unknown }>);
          else if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') patched = mergePatch(renderNode(node), parsed) as Json;
          else return this.send(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`));
        } catch (e) {
          return this.send(res, 422, status(422, 'Invalid', `the server rejected our request due to an error in our request: ${(e as Error).message}`));
        }
        const meta = (patched.metadata ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
        const spec = (patched.spec ?? {}) as { unschedulable?: boolean };
        node.unschedulable = spec.unschedulable === true;
        node.annotations = { ...(meta.annotations ?? {}) };
        Object.keys(node.labels).forEach((k) => delete node.labels[k]);
        Object.assign(node.labels, meta.labels ?? {});
        node.resourceVersion = cluster.nextResourceVersion();
        cluster.reconcileWorkloads();
        return this.send(res, 200, renderNode(node));
      }
      return this.send(res, 405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
    }
    if ((m = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/pods$/.exec(path)) && method === 'GET') {
      if (!route('list pods')) return;
      const ns = m[1] ? decodeURIComponent(m[1]) : undefined;
      const field = url.searchParams.get('fieldSelector');
      let nodeName: string | undefined;
      if (field) {
        const fm = /^spec\.nodeName=(.*)$/.exec(field);
        if (!fm) return this.send(res, 400, status(400, 'BadRequest', `field label not supported: ${field.split('=')[0]}`));
        nodeName = fm[1];
      }
      let match: (l: Record<string, string>) => boolean;
      try {
        match = parseLabelSelector(url.searchParams.get('labelSelector'));
      } catch (e) {
        return this.send(res, 400, status(400, 'BadRequest', (e as Error).message));
      }
      const pods = (nodeName !== undefined && nodeName !== '' ? cluster.podsOn(nodeName) : [...cluster.pods.values()])
        .filter((p) => (!ns || p.namespace === ns) && (nodeName === undefined || (p.nodeName ?? '') === nodeName) && match(p.labels))
        .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
      return this.list(res, 'PodList', pods.map(renderPod), url);
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(path)) && method === 'POST') {
      const ns = decodeURIComponent(m[1]);
      const name = decodeURIComponent(m[2]);
      if (!route('create pods/eviction', `pod/${ns}/${name}`)) return;
      let eviction: { kind?: string; metadata?: { name?: string } };
      try {
        eviction = JSON.parse(body) as typeof eviction;
      } catch {
        return this.send(res, 400, status(400, 'BadRequest', 'the body of the request could not be decoded'));
      }
      if (eviction.kind !== 'Eviction' || (eviction.metadata?.name && eviction.metadata.name !== name)) {
        return this.send(res, 400, status(400, 'BadRequest', `name in URL does not match name in Eviction object`));
      }
      const out = cluster.evict(ns, name);
      if (out.ok) return this.send(res, 201, status(201, '', ''));
      if (out.code === 404) return this.send(res, 404, status(404, 'NotFound', out.message, { name, kind: 'pods' }));
      return this.send(res, 429, status(429, 'TooManyRequests', out.message, { causes: (out.causes ?? []).map((c) => ({ reason: c.reason, message: c.message })) }));
    }
    return this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
  }
}
