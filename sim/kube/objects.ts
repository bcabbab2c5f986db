import type { BudgetStatus } from './budgets';
import type { SimBudget, SimNode, SimPod } from './model';

/**
 * How the simulated API server renders its objects, as the real one does (v1 Node and Pod, apps/v1 and batch/v1
 * owners, policy/v1 budgets), and as meta.k8s.io Tables.
 */
export type Json = Record<string, unknown>;

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function renderNode(n: SimNode): Json {
  const taints = [
    ...n.taints,
    ...(n.unschedulable
      ? [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: iso(n.createdAt) }]
      : []),
  ];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      uid: n.uid,
      resourceVersion: String(n.resourceVersion),
      creationTimestamp: iso(n.createdAt),
      labels: { ...n.labels },
      annotations: { ...n.annotations },
    },
    spec: {
      providerID: n.providerID,
      ...(n.unschedulable ? { unschedulable: true } : {}),
      ...(taints.length ? { taints } : {}),
    },
    status: {
      // lastTransitionTime moves only when Ready changes: how long a node took to become Ready.
      conditions: [
        {
          type: 'Ready',
          status: n.ready ? 'True' : 'Unknown',
          lastTransitionTime: iso(n.readySince),
          reason: n.ready ? 'KubeletReady' : 'NodeStatusUnknown',
          message: n.ready ? 'kubelet is posting ready status' : 'Kubelet stopped posting node status.',
        },
      ],
      // Allocatable as the kubelet reports it; capacity the same here (no system reserve modelled).
      capacity: { ...n.allocatable },
      allocatable: { ...n.allocatable },
      addresses: [{ type: 'InternalDNS', address: n.name }],
      nodeInfo: {
        kubeletVersion: 'v1.32.4',
        kubeProxyVersion: 'v1.32.4',
        containerRuntimeVersion: 'containerd://1.7.27',
        osImage: 'Ubuntu 24.04 LTS',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

export function ownerApiVersion(kind: string): string {
  return kind === 'Node' ? 'v1' : kind === 'Job' ? 'batch/v1' : 'apps/v1';
}

export function renderPod(p: SimPod): Json {
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
      ...(p.owner
        ? {
            ownerReferences: [
              {
                apiVersion: ownerApiVersion(p.owner.kind),
                kind: p.owner.kind,
                name: p.owner.name,
                uid: `${p.owner.kind}-${p.owner.name}`,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
      ...(p.deletionTimestamp !== undefined
        ? { deletionTimestamp: iso(p.deletionTimestamp), deletionGracePeriodSeconds: p.stopSeconds }
        : {}),
    },
    spec: {
      ...(p.nodeName ? { nodeName: p.nodeName } : {}),
      containers: [
        {
          name: 'main',
          image: 'registry.k8s.io/pause:3.10',
          ...(p.requests ? { resources: { requests: { ...p.requests } } } : {}),
          ...(p.emptyDir ? { volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] } : {}),
        },
      ],
      ...(p.emptyDir ? { volumes: [{ name: 'scratch', emptyDir: {} }] } : {}),
      terminationGracePeriodSeconds: p.stopSeconds,
      restartPolicy: p.owner?.kind === 'Job' ? 'Never' : 'Always',
    },
    status: {
      phase: p.phase,
      ...(p.startedAt !== undefined ? { startTime: iso(p.startedAt) } : {}),
      conditions: [
        p.nodeName
          ? { type: 'PodScheduled', status: 'True' }
          : {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              ...(p.unschedulable ? { message: p.unschedulable } : {}),
            },
        { type: 'Ready', status: p.ready ? 'True' : 'False' },
      ],
      ...(p.nodeName ? { hostIP: '10.0.0.1' } : {}),
    },
  };
}

/** A controller object (ReplicaSet, DaemonSet, Job) that pods name as their owner: kubectl drain reads DaemonSets. */
export function renderOwner(kind: string, namespace: string, name: string, createdAt: number): Json {
  return {
    apiVersion: ownerApiVersion(kind),
    kind,
    metadata: { name, namespace, uid: `${kind}-${name}`, resourceVersion: '1', creationTimestamp: iso(createdAt) },
    spec: {},
    status: {},
  };
}

export function renderBudget(b: SimBudget, st: BudgetStatus): Json {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: {
      name: b.name,
      namespace: b.namespace,
      uid: b.uid,
      resourceVersion: String(b.resourceVersion),
      generation: 1,
      creationTimestamp: iso(b.createdAt),
    },
    spec: {
      selector: { matchLabels: { ...b.selector } },
      ...(b.minAvailable !== undefined ? { minAvailable: b.minAvailable } : {}),
      ...(b.maxUnavailable !== undefined ? { maxUnavailable: b.maxUnavailable } : {}),
    },
    status: {
      observedGeneration: 1,
      expectedPods: st.expectedPods,
      currentHealthy: st.currentHealthy,
      desiredHealthy: st.desiredHealthy,
      disruptionsAllowed: st.disruptionsAllowed,
      conditions: [
        st.disruptionsAllowed > 0
          ? {
              type: 'DisruptionAllowed',
              status: 'True',
              reason: 'SufficientPods',
              message: '',
              lastTransitionTime: iso(b.createdAt),
              observedGeneration: 1,
            }
          : {
              type: 'DisruptionAllowed',
              status: 'False',
              reason: 'InsufficientPods',
              message: '',
              lastTransitionTime: iso(b.createdAt),
              observedGeneration: 1,
            },
      ],
    },
  };
}

/** A Table's AGE cell, as kubectl prints it (`45s`, `3m`, `5h`, `2d`). */
export function age(fromMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - fromMs) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const col = (name: string, type = 'string', format = '', priority = 0) => ({
  name,
  type,
  format,
  description: name,
  priority,
});

/** The columns kubectl prints, as the server's table convertor gives them. */
function tableOf(
  kind: 'Node' | 'Pod' | 'PodDisruptionBudget',
  items: readonly Json[],
  now: number,
): { columnDefinitions: Json[]; rows: Array<{ cells: unknown[]; object: Json }> } {
  const created = (o: Json) => Date.parse(String((o.metadata as Json).creationTimestamp));
  const meta = (o: Json) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata });
  if (kind === 'Node') {
    return {
      columnDefinitions: [col('Name', 'string', 'name'), col('Status'), col('Roles'), col('Age'), col('Version')],
      rows: items.map((o) => {
        const spec = o.spec as { unschedulable?: boolean };
        const ready =
          ((o.status as Json).conditions as Array<{ type: string; status: string }>).find((c) => c.type === 'Ready')
            ?.status === 'True';
        const labels = (o.metadata as { labels: Record<string, string> }).labels;
        const roles = Object.keys(labels)
          .filter((k) => k.startsWith('node-role.kubernetes.io/'))
          .map((k) => k.slice('node-role.kubernetes.io/'.length));
        const status = `${ready ? 'Ready' : 'NotReady'}${spec.unschedulable ? ',SchedulingDisabled' : ''}`;
        return {
          cells: [(o.metadata as Json).name, status, roles.join(',') || '<none>', age(created(o), now), 'v1.32.4'],
          object: meta(o),
        };
      }),
    };
  }
  if (kind === 'Pod') {
    return {
      columnDefinitions: [
        col('Name', 'string', 'name'),
        col('Ready'),
        col('Status'),
        col('Restarts', 'integer'),
        col('Age'),
        col('Node', 'string', '', 1),
      ],
      rows: items.map((o) => {
        const st = o.status as { phase: string; conditions: Array<{ type: string; status: string }> };
        const m = o.metadata as Json;
        const ready = st.conditions.find((c) => c.type === 'Ready')?.status === 'True';
        const status = m.deletionTimestamp ? 'Terminating' : st.phase;
        return {
          cells: [
            m.name,
            ready ? '1/1' : '0/1',
            status,
            0,
            age(created(o), now),
            (o.spec as Json).nodeName ?? '<none>',
          ],
          object: meta(o),
        };
      }),
    };
  }
  return {
    columnDefinitions: [
      col('Name', 'string', 'name'),
      col('Min Available'),
      col('Max Unavailable'),
      col('Allowed Disruptions', 'integer'),
      col('Age'),
    ],
    rows: items.map((o) => {
      const spec = o.spec as { minAvailable?: unknown; maxUnavailable?: unknown };
      return {
        cells: [
          (o.metadata as Json).name,
          spec.minAvailable ?? 'N/A',
          spec.maxUnavailable ?? 'N/A',
          (o.status as Json).disruptionsAllowed,
          age(created(o), now),
        ],
        object: meta(o),
      };
    }),
  };
}

/** A meta.k8s.io/v1 Table of the objects, for clients that ask for one (kubectl get). */
export function asTable(
  kind: 'Node' | 'Pod' | 'PodDisruptionBudget',
  items: readonly Json[],
  now: number,
  listMeta: Json = {},
): Json {
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, ...tableOf(kind, items, now) };
}

/**
 * A Table of other kinds (Events, owners): the columns kubectl prints, a row per object with its
 * metadata, as the server's table convertor answers `Accept: …;as=Table`.
 */
export function tableWith(
  columns: ReadonlyArray<readonly [name: string, type?: string]>,
  rows: ReadonlyArray<{ readonly cells: unknown[]; readonly metadata: unknown }>,
  listMeta: Json,
): Json {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns.map(([name, type]) => col(name, type)),
    rows: rows.map((r) => ({
      cells: r.cells,
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: r.metadata },
    })),
  };
}

/** Whether the client asked for a Table (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`). */
export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '') && /g=meta\.k8s\.io/.test(accept ?? '');
}
