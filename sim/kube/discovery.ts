import type { Json } from './objects';

/**
 * The discovery documents clients read before anything else: kubectl reads /api and /apis (and
 * falls back from aggregated discovery to these), then each group version's resource list, and
 * drain checks that pods/eviction is served. Only what the simulator serves is listed.
 */
const resource = (name: string, kind: string, namespaced: boolean, verbs: string[], shortNames?: string[]) => ({
  name,
  singularName: name.endsWith('s') && !name.includes('/') ? name.slice(0, -1) : '',
  namespaced,
  kind,
  verbs,
  ...(shortNames ? { shortNames } : {}),
});

const CORE_V1 = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    resource('nodes', 'Node', false, ['delete', 'get', 'list', 'patch', 'watch'], ['no']),
    resource('pods', 'Pod', true, ['delete', 'get', 'list', 'watch'], ['po']),
    resource('events', 'Event', true, ['get', 'list'], ['ev']),
    {
      name: 'pods/eviction',
      singularName: '',
      namespaced: true,
      group: 'policy',
      version: 'v1',
      kind: 'Eviction',
      verbs: ['create'],
    },
  ],
};

const GROUPS: Record<string, Json> = {
  'policy/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'policy/v1',
    resources: [resource('poddisruptionbudgets', 'PodDisruptionBudget', true, ['get', 'list'], ['pdb'])],
  },
  'apps/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'apps/v1',
    resources: [
      resource('daemonsets', 'DaemonSet', true, ['get', 'list'], ['ds']),
      resource('replicasets', 'ReplicaSet', true, ['get', 'list'], ['rs']),
    ],
  },
  'batch/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'batch/v1',
    resources: [resource('jobs', 'Job', true, ['get', 'list'])],
  },
  'authorization.k8s.io/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'authorization.k8s.io/v1',
    resources: [resource('selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, ['create'])],
  },
  'events.k8s.io/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'events.k8s.io/v1',
    resources: [resource('events', 'Event', true, ['create', 'get', 'list'], ['ev'])],
  },
};

export function discovery(path: string): Json | undefined {
  if (path === '/version') {
    return {
      major: '1',
      minor: '32',
      gitVersion: 'v1.32.4',
      gitCommit: 'simulator',
      gitTreeState: 'clean',
      buildDate: '2026-01-01T00:00:00Z',
      goVersion: 'go1.23.8',
      compiler: 'gc',
      platform: 'linux/amd64',
    };
  }
  if (path === '/api')
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:443' }],
    };
  if (path === '/api/v1') return CORE_V1;
  if (path === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: Object.keys(GROUPS).map((gv) => {
        const [group, version] = gv.split('/');
        return {
          name: group,
          versions: [{ groupVersion: gv, version }],
          preferredVersion: { groupVersion: gv, version },
        };
      }),
    };
  }
  const m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (m) return GROUPS[`${m[1]}/${m[2]}`];
  const g = /^\/apis\/([^/]+)$/.exec(path);
  if (g) {
    const gv = Object.keys(GROUPS).find((k) => k.startsWith(`${g[1]}/`));
    if (gv)
      return {
        kind: 'APIGroup',
        apiVersion: 'v1',
        name: g[1],
        versions: [{ groupVersion: gv, version: gv.split('/')[1] }],
        preferredVersion: { groupVersion: gv, version: gv.split('/')[1] },
      };
  }
  return undefined;
}
