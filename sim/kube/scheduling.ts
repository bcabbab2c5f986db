import { placePods } from './placement';
import type { VirtualClock } from '../clock';
import type { SimTiming } from '../aws/model';
import type { ClusterEvent, SimNode, SimPod, WorkloadSpec } from './model';

/** What the controllers need of the cluster (cluster.ts). */
export interface SchedulingHost {
  readonly workloads: ReadonlyMap<string, WorkloadSpec>;
  readonly nodes: ReadonlyMap<string, SimNode>;
  readonly pods: ReadonlyMap<string, SimPod>;
  readonly clock: VirtualClock;
  readonly timing: SimTiming;
  workloadPods(key: string): SimPod[];
  newWorkloadPod(key: string, w: WorkloadSpec): SimPod;
  podsOn(nodeName: string): SimPod[];
  touch(pod: SimPod): void;
  indexOnNode(pod: SimPod): void;
  notify(e: ClusterEvent): void;
}

/**
 * The ReplicaSet controller and the scheduler in one: keep `replicas` live pods per workload
 * (terminating ones do not count), and bind pending pods to a node of the group that admits
 * them (Ready, schedulable, no taint they do not tolerate) and has room for their requests,
 * the one that runs the fewest of them; what fits nowhere stays Pending and says why. A bound
 * pod runs at once and is Ready once it has started, if its node still is.
 */
export function scheduleWorkloads(c: SchedulingHost): void {
  for (const [key, w] of c.workloads) {
    const live = c.workloadPods(key).filter((p) => p.deletionTimestamp === undefined);
    for (let i = live.length; w.kind !== 'Pod' && i < w.replicas; i += 1) live.push(c.newWorkloadPod(key, w));
    const pending = live.filter((p) => !p.nodeName);
    if (pending.length === 0) continue;
    const nodes = [...c.nodes.values()].filter((n) => n.nodeGroup === w.nodeGroup);
    const placed = placePods(live, pending, nodes, (n) => c.podsOn(n));
    for (const [pod, why] of placed.unschedulable) {
      if (pod.unschedulable === why) continue;
      pod.unschedulable = why;
      c.touch(pod);
    }
    for (const [pod, target] of placed.bound) {
      pod.nodeName = target.name;
      delete pod.unschedulable;
      c.indexOnNode(pod);
      // Bound, its images pulling and containers starting: Pending until they run, as the kubelet reports it.
      pod.phase = 'Pending';
      c.touch(pod);
      c.clock.after(c.timing.podStartSeconds, `${pod.name} Ready`, () => {
        if (
          c.pods.get(`${pod.namespace}/${pod.name}`) === pod &&
          pod.deletionTimestamp === undefined &&
          c.nodes.get(target.name)?.ready
        ) {
          pod.phase = 'Running';
          pod.startedAt = c.clock.now();
          pod.ready = true;
          c.notify({ type: 'MODIFIED', kind: 'Pod', pod });
        }
      });
    }
  }
}

/** The kubelet reports a master's static pods Ready, a little after the node itself, if it still is. */
export function mirrorPodsReady(c: SchedulingHost, node: SimNode): void {
  if (c.nodes.get(node.name) !== node || !node.ready) return;
  for (const p of c.podsOn(node.name)) {
    if (p.annotations['kubernetes.io/config.mirror'] === undefined || p.ready) continue;
    p.ready = true;
    c.touch(p);
  }
}
