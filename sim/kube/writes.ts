import type { Cluster } from './cluster';
import type { SimNode } from './model';
import { renderNode, type Json } from './objects';
import { ApiError, jsonPatch, mergePatch, nodeFields, status } from './requests';
import type { EventRouteContext } from './events';

/**
 * The API server's writes: a node patch or update (JSON patch, merge patch, conflicts on a stale
 * resourceVersion, dry run), what it changed for the audit, and an Eviction's body.
 */

/** A node patch (merge, strategic merge, JSON patch), decoded and validated as the real server does; a stale resourceVersion is a 409. */
export function patchNode(
  cluster: Cluster,
  node: SimNode,
  contentType: string | undefined,
  body: string,
  verb: string,
  dryRun: boolean,
): Json {
  const type = (contentType ?? '').split(';')[0].trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw new ApiError(400, 'BadRequest', `error decoding patch: ${(e as Error).message}`);
  }
  let patched: Json;
  if (verb === 'update') patched = parsed as Json;
  else if (type === 'application/json-patch+json')
    patched = jsonPatch(renderNode(node), parsed as Array<{ op: string; path: string; value?: unknown }>);
  else if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json')
    patched = mergePatch(renderNode(node), parsed) as Json;
  else
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ` +
        `application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, ` +
        `application/strategic-merge-patch+json`,
    );
  const f = nodeFields(node.name, patched);
  if (f.resourceVersion !== undefined && f.resourceVersion !== String(node.resourceVersion)) {
    throw new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on nodes "${node.name}": the object has been modified; please apply your ` +
        `changes to the latest version and try again`,
      { name: node.name, kind: 'nodes' },
    );
  }
  if (dryRun)
    return renderNode({
      ...node,
      labels: f.labels,
      annotations: f.annotations,
      unschedulable: f.unschedulable,
      taints: f.taints,
    });
  node.unschedulable = f.unschedulable;
  node.annotations = { ...f.annotations };
  node.taints = f.taints;
  Object.keys(node.labels).forEach((k) => delete node.labels[k]);
  Object.assign(node.labels, f.labels);
  node.resourceVersion = cluster.nextResourceVersion();
  cluster.notify({ type: 'MODIFIED', kind: 'Node', node });
  cluster.reconcileWorkloads();
  return renderNode(node);
}

/** An Eviction's body as the API server reads it (policy/v1): dry run and grace period, or the server's refusal. */
export function readEviction(body: string, name: string, url: URL): { dryRun: boolean; grace?: number } {
  let eviction: {
    kind?: string;
    metadata?: { name?: string };
    deleteOptions?: { dryRun?: string[]; gracePeriodSeconds?: unknown };
  };
  try {
    eviction = JSON.parse(body) as typeof eviction;
  } catch {
    throw new ApiError(400, 'BadRequest', 'the body of the request could not be decoded');
  }
  if (eviction.kind !== 'Eviction' || (eviction.metadata?.name && eviction.metadata.name !== name))
    throw new ApiError(400, 'BadRequest', 'name in URL does not match name in Eviction object');
  const dryRun = url.searchParams.get('dryRun') === 'All' || (eviction.deleteOptions?.dryRun ?? []).includes('All');
  const grace = eviction.deleteOptions?.gracePeriodSeconds;
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0))
    throw new ApiError(
      400,
      'BadRequest',
      `json: cannot unmarshal ${typeof grace} into Go struct field DeleteOptions.deleteOptions.gracePeriodSeconds of type int64`,
    );
  return { dryRun, grace: grace as number | undefined };
}

/** What a node patch changed that an auditor reads a drain by: the cordon, and taints added or removed. */
export function nodeChange(
  before: { unschedulable: boolean; taints: readonly string[] },
  after: SimNode,
): string | undefined {
  const parts: string[] = [];
  if (before.unschedulable !== after.unschedulable) parts.push(after.unschedulable ? 'cordon' : 'uncordon');
  const now = after.taints.map((t) => t.key);
  for (const k of now) if (!before.taints.includes(k)) parts.push(`taint ${k}`);
  for (const k of before.taints) if (!now.includes(k)) parts.push(`untaint ${k}`);
  return parts.length ? parts.join(', ') : undefined;
}

/** The Eviction subresource: 201 when the pod goes, 429 with the budget's words, 404, or 500 for a pod under two budgets. */
export function evict(
  ctx: Pick<EventRouteContext, 'authorize' | 'route' | 'send'>,
  cluster: Cluster,
  ns: string,
  name: string,
  body: string,
  url: URL,
): void {
  ctx.authorize({ verb: 'create', apiGroup: '', resource: 'pods', subresource: 'eviction', namespace: ns, name });
  ctx.route('create pods/eviction', `pod/${ns}/${name}`);
  const { dryRun, grace } = readEviction(body, name, url);
  const out = cluster.evict(ns, name, dryRun, grace);
  if (out.ok) return ctx.send(201, status(201, '', ''));
  if (out.code === 404) throw new ApiError(404, 'NotFound', out.message, { name, kind: 'pods' });
  if (out.code === 500) throw new ApiError(500, 'InternalError', out.message);
  throw new ApiError(429, 'TooManyRequests', out.message, {
    causes: (out.causes ?? []).map((c) => ({ reason: c.reason, message: c.message })),
  });
}
