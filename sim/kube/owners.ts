import type { Cluster } from './cluster';
import type { EventRouteContext } from './events';
import { age, renderOwner, tableWith, type Json } from './objects';
import { ApiError } from './requests';

/** The controllers pods name, served read-only as discovery lists them (get and list). */
const OWNERS: Record<string, { group: string; kind: string }> = {
  daemonsets: { group: 'apps', kind: 'DaemonSet' },
  replicasets: { group: 'apps', kind: 'ReplicaSet' },
  jobs: { group: 'batch', kind: 'Job' },
};

/**
 * `/apis/{apps,batch}/v1[/namespaces/ns]/{daemonsets,replicasets,jobs}[/name]`: each owner the
 * pods name, with its pods' count (`kubectl get rs`, and kubectl drain's check of a pod's controller).
 */
export function ownerRoute(
  ctx: Pick<EventRouteContext, 'authorize' | 'route' | 'send' | 'table' | 'now' | 'nextResourceVersion'>,
  path: string,
  method: string,
  cluster: Cluster,
): boolean {
  const m = /^\/apis\/(apps|batch)\/v1(?:\/namespaces\/([^/]+))?\/(daemonsets|replicasets|jobs)(?:\/([^/]+))?$/.exec(
    path,
  );
  if (!m || method !== 'GET') return false;
  const [group, ns, resource, name] = [m[1], m[2] && decodeURIComponent(m[2]), m[3], m[4] && decodeURIComponent(m[4])];
  const o = OWNERS[resource];
  if (o.group !== group) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  ctx.authorize({
    verb: name ? 'get' : 'list',
    apiGroup: group,
    resource,
    ...(ns ? { namespace: ns } : {}),
    ...(name ? { name } : {}),
  });
  ctx.route(`${name ? 'get' : 'list'} ${resource}`);
  const owners = new Map<string, { ns: string; name: string; createdAt: number; pods: number }>();
  for (const p of cluster.pods.values()) {
    if (p.owner?.kind !== o.kind || (ns && p.namespace !== ns) || (name && p.owner.name !== name)) continue;
    const key = `${p.namespace}/${p.owner.name}`;
    const seen = owners.get(key);
    owners.set(key, {
      ns: p.namespace,
      name: p.owner.name,
      createdAt: Math.min(seen?.createdAt ?? p.createdAt, p.createdAt),
      pods: (seen?.pods ?? 0) + 1,
    });
  }
  const items = [...owners.values()]
    .sort((a, b) => (`${a.ns}/${a.name}` < `${b.ns}/${b.name}` ? -1 : 1))
    .map((x) => renderOwner(o.kind, x.ns, x.name, x.createdAt));
  if (name) {
    if (!items.length)
      throw new ApiError(404, 'NotFound', `${resource}.${group} "${name}" not found`, { name, group, kind: resource });
    if (!ctx.table) {
      ctx.send(200, items[0]);
      return true;
    }
  }
  const meta = { resourceVersion: String(ctx.nextResourceVersion()) };
  if (ctx.table) {
    const pods = [...owners.values()].sort((a, b) => (`${a.ns}/${a.name}` < `${b.ns}/${b.name}` ? -1 : 1));
    const rows = pods.map((x, i) => ({
      cells: [x.name, x.pods, age(x.createdAt, ctx.now())],
      metadata: (items[i] as Json).metadata,
    }));
    ctx.send(200, tableWith([['Name'], ['Pods', 'integer'], ['Age']], rows, meta));
    return true;
  }
  ctx.send(200, { kind: `${o.kind}List`, apiVersion: `${group}/v1`, metadata: meta, items });
  return true;
}
