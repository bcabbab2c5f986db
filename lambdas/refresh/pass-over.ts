import {
  DEFAULT_QUARANTINE_SECONDS,
  type BatchMember,
  type DrainPolicy,
  type NotReplaced,
  type RefreshJournal,
} from '../core';
import { executionName, uncordonAll, type DrainResult } from '../drain';
import type { Deps } from '../runtime';
import { leaseOf, saveJournal, type RefreshState } from './state';

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

/** What a refresh does with a batch whose drain outlived its timeout, as the group's `onTimeout` says. */
export type TimeoutOutcome =
  /** `fail`: the refresh fails (cleanup, give-back). */
  | { readonly kind: 'fail' }
  /** The stuck nodes are settled (skipped, or their pods deleted): go on with this journal. */
  | { readonly kind: 'goOn'; readonly journal: RefreshJournal; readonly did: Record<string, unknown> };

/**
 * The drain of part of the batch outlived `drainTimeoutSeconds`. `skip`: those nodes are uncordoned
 * and passed over (named, with the pods left), the rest of the batch goes on. `force`: the pods left
 * on them are deleted (each named), once; the drain then waits for them to stop. `quarantine`: they
 * stay in the batch marked for Standby (the termination puts them there instead, so their ASGs
 * launch replacements), stay cordoned (out of the journal's cordons, which failure paths undo), and
 * are remembered for replenish to reap. Journaled first: the memory, then the journal.
 */
export async function onDrainTimeout(
  deps: Deps,
  state: RefreshState,
  journal: RefreshJournal,
  pass: DrainResult,
  policy: DrainPolicy,
  timeoutSeconds: number,
): Promise<TimeoutOutcome> {
  const onTimeout = policy.onTimeout;
  const stuck = journal.batch.filter((b) => pass.remainingPods.some((p) => p.nodeName === b.node));
  const podsOn = (node: string) =>
    pass.remainingPods.filter((p) => p.nodeName === node).map((p) => `${p.namespace}/${p.name}`);
  if (onTimeout === 'skip') {
    const skipped = stuck.map((b): NotReplaced => ({
      node: b.node,
      instance: b.instanceId,
      asg: b.asg,
      reason: `its drain outlived ${timeoutSeconds}s (onTimeout: skip): uncordoned and left`,
      pods: podsOn(b.node),
    }));
    const names = new Set(stuck.map((b) => b.node));
    const after: RefreshJournal = {
      ...journal,
      batch: journal.batch.filter((b) => !names.has(b.node)),
      cordoned: journal.cordoned.filter((n) => !names.has(n)),
      passedOver: [...(journal.passedOver ?? []), ...skipped],
    };
    await saveJournal(deps, state, after);
    await uncordonAll(deps.kube, [...names], [executionName(state.execution)]);
    return { kind: 'goOn', journal: after, did: { skipped } };
  }
  if (onTimeout === 'quarantine') {
    const now = deps.now();
    const until = now + (policy.quarantineSeconds ?? DEFAULT_QUARANTINE_SECONDS) * 1000;
    const quarantined = stuck.map((b): NotReplaced => ({
      node: b.node,
      instance: b.instanceId,
      asg: b.asg,
      reason:
        `its drain outlived ${timeoutSeconds}s (onTimeout: quarantine): in Standby, cordoned, ` +
        `${journal.final ? 'the surplus stands in for it' : 'its ASG launches a replacement'}; replenish reaps it ` +
        `once its pods finish, at the latest ${new Date(until).toISOString()}`,
      pods: podsOn(b.node),
    }));
    const { memory } = await leaseOf(deps, state);
    const entries = { ...(memory.quarantined ?? {}) };
    for (const b of stuck) entries[b.instanceId] ??= { asg: b.asg, node: b.node, since: now, until, phase: 'standby' };
    await deps.lease.writeMemory(state.group, state.execution, { ...memory, quarantined: entries });
    const names = new Set(stuck.map((b) => b.node));
    const after: RefreshJournal = {
      ...journal,
      batch: journal.batch.map((b) => (names.has(b.node) ? { ...b, quarantine: true } : b)),
      cordoned: journal.cordoned.filter((n) => !names.has(n)),
      quarantined: [...(journal.quarantined ?? []).filter((q) => !names.has(q.node)), ...quarantined],
    };
    await saveJournal(deps, state, after);
    return { kind: 'goOn', journal: after, did: { quarantined } };
  }
  if (onTimeout === 'force' && !journal.forced) {
    const forced = stuck.flatMap((b) =>
      pass.remainingPods
        .filter((p) => p.nodeName === b.node && !p.deleting)
        .map((p) => `${p.namespace}/${p.name}: deleted after the drain timeout (onTimeout: force)`),
    );
    const after: RefreshJournal = {
      ...journal,
      forced: true,
      deadline: deps.now() + timeoutSeconds * 1000,
      podsLost: [...(journal.podsLost ?? []), ...forced],
    };
    await saveJournal(deps, state, after);
    const kube = await deps.kube();
    for (const b of stuck)
      for (const p of pass.remainingPods.filter((x) => x.nodeName === b.node && !x.deleting))
        await kube.deletePod(p.namespace, p.name);
    return { kind: 'goOn', journal: after, did: { forced } };
  }
  return { kind: 'fail' };
}
