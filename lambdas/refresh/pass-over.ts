import type { BatchMember, NotReplaced, RefreshJournal } from '../core';
import { executionName, uncordonAll, type DrainResult } from '../drain';
import type { Deps } from '../runtime';
import { saveJournal, type RefreshState } from './state';

/**
 * What a drain pass left for the refresh to note: nodes a pod holds (do-not-disrupt, or a bare or
 * emptyDir pod the group's policy keeps) leave the batch and are passed over for good, uncordoned
 * when a later pass found them held after the cordon; pods evicted that will not come back are
 * named. Journaled, so the final output lists them; the rest of the batch goes on.
 */
export async function noteDrainPass(
  deps: Deps,
  state: RefreshState,
  journal: RefreshJournal,
  pass: DrainResult,
  cordonedBefore: boolean,
): Promise<{
  readonly journal: RefreshJournal;
  readonly passedOver: readonly NotReplaced[];
  readonly drained: boolean;
}> {
  const heldNodes = new Set(pass.held.map((h) => h.node));
  const held = journal.batch.filter((b) => heldNodes.has(b.node));
  if (held.length === 0 && pass.lost.length === 0) return { journal, passedOver: [], drained: pass.drained };
  const passedOver = held.map((b: BatchMember): NotReplaced => ({
    node: b.node,
    instance: b.instanceId,
    asg: b.asg,
    reason: 'a pod holds it',
    pods: pass.held.find((h) => h.node === b.node)?.pods ?? [],
  }));
  const after: RefreshJournal = {
    ...journal,
    batch: journal.batch.filter((b) => !heldNodes.has(b.node)),
    cordoned: journal.cordoned.filter((n) => !heldNodes.has(n)),
    passedOver: [...(journal.passedOver ?? []), ...passedOver],
    podsLost: [...(journal.podsLost ?? []), ...pass.lost],
  };
  await saveJournal(deps, state, after);
  // Cordoned by an earlier pass: given back as it was (a first pass never cordons a held node).
  const cordoned = cordonedBefore ? held.map((b) => b.node).filter((n) => journal.cordoned.includes(n)) : [];
  if (cordoned.length) await uncordonAll(deps.kube, cordoned, [executionName(state.execution)]);
  // The pods left on held nodes do not keep the rest of the batch from draining.
  const drained = pass.remainingPods.every((p) => p.nodeName !== undefined && heldNodes.has(p.nodeName));
  return { journal: after, passedOver, drained };
}
