import {
  needsRoom,
  planGate,
  type BatchMember,
  type Classification,
  type GateCommand,
  type GroupSettings,
} from '../core';
import type { RefreshJournal } from '../core';
import type { PodInfo } from '../kube/port';
import type { Deps } from '../runtime';

/**
 * The health gate before a batch is cordoned (core/gate.ts decides). It reads the batch's pods and
 * the cluster's Pending ones (and a control plane's pods); only when the batch's pods request
 * resources does it read every unfinished pod of the cluster, to know what the nodes that stay
 * already carry: one list, in pages, per batch.
 */
export async function healthGate(
  deps: Deps,
  journal: RefreshJournal,
  batch: readonly BatchMember[],
  c: Classification,
  settings: GroupSettings,
  now: number,
): Promise<GateCommand> {
  const kube = await deps.kube();
  const onNodes = async (nodes: readonly string[]) => {
    const out: PodInfo[] = [];
    for (const n of nodes) out.push(...(await kube.listPodsOnNode(n)));
    return out;
  };
  const batchPods = await onNodes(batch.map((b) => b.node));
  if (needsRoom(batchPods, settings, now))
    return planGate(journal, batch, { c, pods: await kube.listActivePods() }, settings, now);
  const masters =
    settings.role === 'control-plane'
      ? c.members.flatMap((m) => (m.node?.ready && !batch.some((b) => b.node === m.node!.name) ? [m.node.name] : []))
      : [];
  const others = await onNodes(masters);
  // A pod bound to a batch node but not started yet is in both lists: once.
  const pods = new Map(
    [...batchPods, ...others, ...(await kube.listPendingPods())].map((p) => [`${p.namespace}/${p.name}`, p]),
  );
  return planGate(journal, batch, { c, pods: [...pods.values()] }, settings, now);
}

/** The picked journal once the gate let the batch go: the owners to settle next, no wait for room. */
export function passedGate(journal: RefreshJournal, settleOwners: Readonly<Record<string, number>>): RefreshJournal {
  const { roomSince: _room, settleSince: _settle, ...rest } = journal;
  return { ...rest, settleOwners };
}
