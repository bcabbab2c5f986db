import { planGate, type BatchMember, type Classification, type GateCommand, type GroupSettings } from '../core';
import type { RefreshJournal } from '../core';
import type { Deps } from '../runtime';

/**
 * The health gate before a batch is cordoned (core/gate.ts decides): one list of the cluster's
 * unfinished pods shows whether the last batch's pods run again, the masters' static pods are
 * Ready, and the batch's pods fit the nodes that stay.
 */
export async function healthGate(
  deps: Deps,
  journal: RefreshJournal,
  batch: readonly BatchMember[],
  c: Classification,
  settings: GroupSettings,
  now: number,
): Promise<GateCommand> {
  const pods = await (await deps.kube()).listActivePods();
  return planGate(journal, batch, { c, pods }, settings, now);
}

/** The picked journal once the gate let the batch go: the owners to settle next, no wait for room. */
export function passedGate(journal: RefreshJournal, settleOwners: Readonly<Record<string, number>>): RefreshJournal {
  const { roomSince: _room, settleSince: _settle, ...rest } = journal;
  return { ...rest, settleOwners };
}
