import { writeFileSync } from 'node:fs';
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import {
  CoreV1Api,
  KubeConfig,
  PolicyV1Api,
  type V1Node,
  type V1Pod,
  type V1PodDisruptionBudget,
} from '@kubernetes/client-node';
import type { OperatorGroup } from '../lambdas/config';
import { LeaseStore } from '../lambdas/aws/lease-store';
import { memoryOf } from '../lambdas/lease';
import { parseScenario } from '../sim/scenario/format';
import { CliError, type Clients, type Io, type NodeManagerStack } from './context';
import { groupAsgs, serviceNow } from './status';

export interface SnapshotOptions {
  readonly output?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
}

/** The annotations that hold a pod (drain filters read them): the only ones a snapshot keeps. */
const HOLDING = ['node-manager.io/do-not-disrupt', 'karpenter.sh/do-not-disrupt'];
const PAGE = 500;

async function everyPage<T>(
  list: (token?: string) => Promise<{ items: T[]; metadata?: { _continue?: string } }>,
): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const page = await list(token);
    all.push(...page.items);
    token = page.metadata?._continue || undefined;
  } while (token);
  return all;
}

async function describeInstances(c: Clients, ids: readonly string[]): Promise<Map<string, Instance>> {
  const found = new Map<string, Instance>();
  for (let i = 0; i < ids.length; i += 100) {
    const out = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids.slice(i, i + 100) }));
    for (const r of out.Reservations ?? []) for (const inst of r.Instances ?? []) found.set(inst.InstanceId!, inst);
  }
  return found;
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : undefined);
const seconds = (from: Date | string | undefined, to: Date | string | undefined) =>
  from && to ? (new Date(to).getTime() - new Date(from).getTime()) / 1000 : undefined;

/** A pod's workload: its controller (a ReplicaSet named for its Deployment, a Job), or itself when bare. */
function workloadOf(p: V1Pod): { kind: 'ReplicaSet' | 'Job' | 'Pod'; name: string } | undefined {
  const owner = p.metadata?.ownerReferences?.find((o) => o.controller) ?? p.metadata?.ownerReferences?.[0];
  if (owner?.kind === 'DaemonSet' || owner?.kind === 'Node' || p.metadata?.annotations?.['kubernetes.io/config.mirror'])
    return undefined; // on every node, old and new alike: not the refresh's to move
  if (!owner) return { kind: 'Pod', name: p.metadata?.name ?? '' };
  const hash = p.metadata?.labels?.['pod-template-hash'];
  const name = hash && owner.name.endsWith(`-${hash}`) ? owner.name.slice(0, -hash.length - 1) : owner.name;
  return { kind: owner.kind === 'Job' ? 'Job' : 'ReplicaSet', name };
}

function budgetOf(p: V1Pod, budgets: readonly V1PodDisruptionBudget[]) {
  const labels = p.metadata?.labels ?? {};
  const b = budgets.find(
    (x) =>
      x.metadata?.namespace === p.metadata?.namespace &&
      Object.keys(x.spec?.selector?.matchLabels ?? {}).length > 0 &&
      Object.entries(x.spec?.selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
  );
  if (!b?.spec) return undefined;
  return b.spec.maxUnavailable !== undefined
    ? { maxUnavailable: b.spec.maxUnavailable }
    : b.spec.minAvailable !== undefined
      ? { minAvailable: b.spec.minAvailable }
      : undefined;
}

/**
 * Reads a group as it is (its ASGs and members, their nodes, the pods on them and their budgets,
 * the learned waits), read-only, into a scenario whose refresh `npm run simulate` previews.
 */
export async function snapshot(
  c: Clients,
  stack: NodeManagerStack,
  g: OperatorGroup,
  o: SnapshotOptions,
  io: Io,
): Promise<number> {
  const kc = new KubeConfig();
  try {
    if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
    else kc.loadFromDefault();
    if (o.context) kc.setCurrentContext(o.context);
  } catch (e) {
    throw new CliError(`cannot read the kubeconfig${o.kubeconfig ? ` ${o.kubeconfig}` : ''}: ${(e as Error).message}`);
  }
  if (!kc.getCurrentCluster()) throw new CliError('no cluster in the kubeconfig: pass --kubeconfig (and --context)');
  const core = kc.makeApiClient(CoreV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);

  const asgs: AutoScalingGroup[] = await groupAsgs(c, g);
  if (asgs.length === 0) throw new CliError(`group ${g.name} has no ASG (${JSON.stringify(g.asgNames ?? g.asgTags)})`);
  const inService = asgs.flatMap((a) => (a.Instances ?? []).filter((i) => i.LifecycleState === 'InService'));
  const instances = await describeInstances(
    c,
    inService.map((i) => i.InstanceId!),
  );
  const rec = await new LeaseStore(c.dynamodb, stack.leaseTable).get(g.name);
  const learned = memoryOf(rec).learned;
  let nodes: V1Node[];
  let pods: V1Pod[];
  let budgets: V1PodDisruptionBudget[];
  try {
    nodes = await everyPage((t) => core.listNode({ limit: PAGE, _continue: t }));
    pods = await everyPage((t) => core.listPodForAllNamespaces({ limit: PAGE, _continue: t }));
    budgets = await everyPage((t) => policy.listPodDisruptionBudgetForAllNamespaces({ limit: PAGE, _continue: t }));
  } catch (e) {
    throw new CliError(`cannot read the cluster (nodes, pods, poddisruptionbudgets): ${(e as Error).message}`);
  }
  const byInstance = new Map(nodes.map((n) => [n.spec?.providerID?.split('/').pop() ?? '', n]));
  const mine = new Map(
    [...instances.keys()].flatMap((id) => (byInstance.has(id) ? [[byInstance.get(id)!.metadata!.name!, id]] : [])),
  );

  // Boot: a member's launch to its Node; join: the Node to Ready (the newest nodes show it), or what refreshes learned.
  const boot = median(
    [...mine].flatMap(([node, id]) => {
      const s = seconds(instances.get(id)?.LaunchTime, byInstance.get(id)?.metadata?.creationTimestamp);
      return s !== undefined && s >= 0 && node ? [s] : [];
    }),
  );
  const joins = nodes
    .filter((n) => mine.has(n.metadata?.name ?? ''))
    .flatMap((n) => {
      const ready = n.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
      const s = seconds(n.metadata?.creationTimestamp, ready?.lastTransitionTime);
      return s !== undefined && s > 0 ? [s] : [];
    });
  const learnedReady = learned?.readySeconds?.length ? Math.max(...learned.readySeconds) : undefined;
  const bootSeconds = Math.round(boot ?? 90);
  const joinSeconds = Math.round(
    learnedReady !== undefined ? Math.max(0, learnedReady - bootSeconds) : joins.length ? Math.max(...joins) : 60,
  );

  const workloads = new Map<string, Record<string, unknown> & { replicas: number }>();
  for (const p of pods) {
    if (!p.spec?.nodeName || !mine.has(p.spec.nodeName) || p.metadata?.deletionTimestamp) continue;
    const w = workloadOf(p);
    if (!w) continue;
    const key = `${p.metadata?.namespace}/${w.kind}/${w.name}`;
    const seen = workloads.get(key);
    if (seen) {
      seen.replicas += 1;
      continue;
    }
    const requests = Object.fromEntries(
      ['cpu', 'memory'].flatMap((r) => {
        const v = p.spec?.containers?.[0]?.resources?.requests?.[r];
        return v ? [[r, String(v)]] : [];
      }),
    );
    const holding = Object.fromEntries(
      Object.entries(p.metadata?.annotations ?? {}).filter(([k]) => HOLDING.includes(k)),
    );
    const pdb = budgetOf(p, budgets);
    workloads.set(key, {
      name: w.name,
      namespace: p.metadata?.namespace ?? 'default',
      group: g.name,
      replicas: 1,
      kind: w.kind,
      ...(pdb ? { pdb } : {}),
      ...((p.spec.volumes ?? []).some((v) => v.emptyDir) ? { emptyDir: true } : {}),
      ...(p.spec.terminationGracePeriodSeconds !== undefined
        ? { terminationGracePeriodSeconds: p.spec.terminationGracePeriodSeconds }
        : {}),
      ...(Object.keys(holding).length ? { annotations: holding } : {}),
      ...(Object.keys(requests).length ? { requests } : {}),
    });
  }
  const allocatable = nodes.find((n) => mine.has(n.metadata?.name ?? ''))?.status?.allocatable;
  const now = new Date(Math.floor(serviceNow(c, io.now()) / 1000) * 1000);
  const zones = [...new Set(asgs.flatMap((a) => a.AvailabilityZones ?? []))].sort();
  const spot = [...instances.values()].some((i) => i.InstanceLifecycle === 'spot');
  const raw = {
    name: `snapshot of ${g.name} (${stack.cluster}) at ${now.toISOString()}`,
    description: `node-manager snapshot of stack ${stack.name}: a refresh of ${g.name} from its state at ${now.toISOString()}`,
    region: stack.region,
    start: now.toISOString(),
    cluster: {
      name: stack.cluster,
      kind: nodes.some((n) => Object.keys(n.metadata?.labels ?? {}).some((k) => k.startsWith('eks.amazonaws.com/')))
        ? 'eks'
        : 'kops',
    },
    timing: { bootSeconds, joinSeconds },
    groups: [
      {
        name: g.name,
        role: g.role,
        zones,
        asgs: asgs.map((a) => ({
          name: a.AutoScalingGroupName!,
          zones: a.AvailabilityZones ?? [],
          desired: a.DesiredCapacity ?? 0,
          min: a.MinSize ?? 0,
          max: a.MaxSize ?? 0,
          members: (a.Instances ?? [])
            .filter((i) => i.LifecycleState === 'InService' && instances.has(i.InstanceId!))
            .map((i) => {
              const inst = instances.get(i.InstanceId!)!;
              return {
                instanceId: i.InstanceId!,
                zone: i.AvailabilityZone!,
                instanceType: inst.InstanceType ?? i.InstanceType ?? 'm5.large',
                launchedAt: inst.LaunchTime!.toISOString(),
                ...(inst.PrivateIpAddress ? { privateIp: inst.PrivateIpAddress } : {}),
              };
            }),
        })),
        desiredReady: g.desiredReady,
        surplus: g.surplus,
        lifecycle: spot ? 'spot' : 'on-demand',
        ...(allocatable
          ? { allocatable: { cpu: allocatable.cpu, memory: allocatable.memory, pods: allocatable.pods } }
          : {}),
        ...(g.maintenanceWindows ? { maintenanceWindows: g.maintenanceWindows } : {}),
        ...(learned ? { memory: { learned } } : {}),
      },
    ],
    workloads: [...workloads.values()],
    runs: [{ at: '1m', workflow: 'refresh', input: { group: g.name } }],
    until: '24h',
  };
  // What this release's simulator accepts: a snapshot that does not parse is a bug here, said now.
  parseScenario(raw);
  const text = `${JSON.stringify(raw, null, 2)}\n`;
  if (o.output) {
    writeFileSync(o.output, text);
    io.out(
      `wrote ${o.output}: ${raw.groups[0].asgs.reduce((n, a) => n + a.members.length, 0)} member(s) in ${asgs.length} ASG(s), ` +
        `${workloads.size} workload(s), boot ${bootSeconds} s + join ${joinSeconds} s; preview the refresh with:\n` +
        `  npm run simulate -- --scenario ${o.output}`,
    );
  } else io.out(text.trimEnd());
  return 0;
}
