import type { Classification } from './classify';
import { judgePod, type DrainPod } from './drain';
import { NoRoomError, SettleTimeoutError } from './errors';
import type { BatchMember, RefreshJournal } from './journal';
import { addResources, checkRoom, formatResources, NO_RESOURCES, type NodeRoom, type Resources } from './resources';
import type { GroupSettings, NodeTaint } from './types';

/**
 * The health gate between batches: before the next batch of a refresh is cordoned, the pods the
 * last batch evicted run again (none Pending past `settleSeconds`), a new master's static pods are
 * Ready, and the pods the batch would evict fit the free allocatable of the nodes that stay.
 * Decided here from one list of the cluster's pods; the step performs it.
 */

/** A pod as the gate reads it: what the drain filters read, and where it runs, since when, what it asks. */
export interface GatePod extends DrainPod {
  readonly nodeName?: string;
  readonly ownerName?: string;
  readonly ready?: boolean;
  readonly createdAt?: number;
  readonly requests?: Resources;
  /** Why the scheduler left it Pending (its PodScheduled condition), when it says. */
  readonly unschedulable?: string;
}

/** The controller a pod belongs to, `namespace/Kind/name`: its replacements share it. */
export function ownerKey(p: Pick<GatePod, 'namespace' | 'ownerKind' | 'ownerName'>): string | undefined {
  return p.ownerKind && p.ownerName ? `${p.namespace}/${p.ownerKind}/${p.ownerName}` : undefined;
}

export type GateCommand =
  /**
   * The batch may go: the controllers whose pods it evicts, each with how many of its pods are
   * Pending now; before the next batch, no more of them may be.
   */
  | { readonly kind: 'go'; readonly settleOwners: Readonly<Record<string, number>> }
  | {
      readonly kind: 'wait';
      readonly seconds: number;
      readonly did: Record<string, unknown>;
      /** Journaled before the wait (when the wait for room began). */
      readonly journal?: RefreshJournal;
    }
  | { readonly kind: 'fail'; readonly error: SettleTimeoutError | NoRoomError };

/**
 * Whether the batch's pods ask for room at all: only then does the gate need every pod of the
 * cluster (what the nodes that stay already carry); pods that request nothing fit anywhere.
 */
export function needsRoom(batchPods: readonly GatePod[], settings: GroupSettings, now: number): boolean {
  const ctx = { policy: settings.drain, voluntary: true, now };
  return batchPods.some(
    (p) => (p.requests?.cpu ?? 0) + (p.requests?.memory ?? 0) > 0 && judgePod(p, ctx).verdict === 'evict',
  );
}

/** How often the gate looks again while it waits. */
export const GATE_POLL_SECONDS = 15;
const SHOWN = 10;

const key = (p: GatePod) => `${p.namespace}/${p.name}`;
const taintKey = (t: NodeTaint) => `${t.key}=${t.value ?? ''}:${t.effect}`;
const ageSeconds = (p: GatePod, now: number) => Math.max(0, Math.round((now - (p.createdAt ?? now)) / 1000));

export function planGate(
  journal: RefreshJournal,
  batch: readonly BatchMember[],
  view: { readonly c: Classification; readonly pods: readonly GatePod[] },
  settings: GroupSettings,
  now: number,
): GateCommand {
  const settling = settle(journal, view.pods, settings, now);
  if (settling) return settling;
  const masters = settings.role === 'control-plane' ? staticPods(view, settings, now) : undefined;
  if (masters) return masters;
  return room(journal, batch, view, settings, now);
}

/** The last batch's evicted pods: their controllers' pods Running again, none Pending past settleSeconds. */
function settle(
  journal: RefreshJournal,
  pods: readonly GatePod[],
  settings: GroupSettings,
  now: number,
): GateCommand | undefined {
  const baseline = journal.settleOwners ?? {};
  if (Object.keys(baseline).length === 0) return undefined;
  // Per controller, the Pending pods beyond those it had when the batch was picked, newest first:
  // which of its pods is the evicted one's replacement is arbitrary, how many more are Pending is not.
  const pending: GatePod[] = [];
  for (const [owner, before] of Object.entries(baseline)) {
    const theirs = pods
      .filter((p) => p.phase === 'Pending' && ownerKey(p) === owner)
      .sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
    pending.push(...theirs.slice(0, Math.max(0, theirs.length - before)));
  }
  if (pending.length === 0) return undefined;
  const named = pending
    .slice(0, SHOWN)
    .map((p) => `${key(p)} (Pending ${ageSeconds(p, now)}s${p.unschedulable ? `: ${p.unschedulable}` : ''})`);
  const more = pending.length > SHOWN ? ` and ${pending.length - SHOWN} more` : '';
  // The wait is counted from the first look that found them (a pod may have been Pending since the
  // eviction, long before: the replacement node's boot is not the pod's fault).
  const since = journal.settleSince ?? now;
  if (now - since > settings.settleSeconds * 1000) {
    return {
      kind: 'fail',
      error: new SettleTimeoutError(
        `${pending.length} pod(s) evicted from the last batch of group ${settings.name} are still Pending ` +
          `${settings.settleSeconds}s (settleSeconds) after the next batch was due; no further node is drained: ` +
          `${named.join(', ')}${more}`,
      ),
    };
  }
  return {
    kind: 'wait',
    seconds: GATE_POLL_SECONDS,
    did: { settling: `${pending.length} evicted pod(s) not Running yet: ${named.join(', ')}${more}` },
    ...(journal.settleSince === undefined ? { journal: { ...journal, settleSince: now } } : {}),
  };
}

/** kops masters: the static pods (etcd, API server, controller manager, scheduler) of every master Ready. */
function staticPods(
  view: { readonly c: Classification; readonly pods: readonly GatePod[] },
  settings: GroupSettings,
  now: number,
): GateCommand | undefined {
  const masters = new Map(
    view.c.members.filter((m) => m.node?.ready).map((m) => [m.node!.name, m.node!.readySince ?? now]),
  );
  const notReady = view.pods.filter(
    (p) => p.isMirror && p.nodeName !== undefined && masters.has(p.nodeName) && p.ready === false,
  );
  if (notReady.length === 0) return undefined;
  const named = notReady.slice(0, SHOWN).map((p) => `${key(p)} on ${p.nodeName}`);
  const late = notReady.filter((p) => now - masters.get(p.nodeName!)! > settings.joinTimeoutSeconds * 1000);
  if (late.length) {
    return {
      kind: 'fail',
      error: new SettleTimeoutError(
        `${late.length} static pod(s) of group ${settings.name} not Ready ${settings.joinTimeoutSeconds}s after ` +
          `their master became Ready; no further master is replaced: ${named.join(', ')}`,
      ),
    };
  }
  return {
    kind: 'wait',
    seconds: GATE_POLL_SECONDS,
    did: { settling: `${notReady.length} static pod(s) of the masters not Ready yet: ${named.join(', ')}` },
  };
}

/** The pods the batch would evict fit the free allocatable of the schedulable Ready nodes that stay. */
function room(
  journal: RefreshJournal,
  batch: readonly BatchMember[],
  view: { readonly c: Classification; readonly pods: readonly GatePod[] },
  settings: GroupSettings,
  now: number,
): GateCommand {
  const leaving = new Set(batch.map((b) => b.node));
  const ctx = { policy: settings.drain, voluntary: true, now };
  const toPlace = view.pods.filter(
    (p) => p.nodeName !== undefined && leaving.has(p.nodeName) && judgePod(p, ctx).verdict === 'evict',
  );
  const settleOwners: Record<string, number> = {};
  for (const owner of toPlace.map(ownerKey)) if (owner !== undefined) settleOwners[owner] = 0;
  for (const p of view.pods) {
    const owner = ownerKey(p);
    if (p.phase === 'Pending' && owner !== undefined && owner in settleOwners) settleOwners[owner] += 1;
  }
  // A taint the batch's own nodes carry is one their pods tolerate; any other keeps them off a node.
  const tolerated = new Set(
    view.c.members
      .filter((m) => m.node && leaving.has(m.node.name))
      .flatMap((m) => (m.node!.taints ?? []).map(taintKey)),
  );
  const staying = view.c.members
    .map((m) => m.node)
    .filter(
      (n) =>
        n !== undefined &&
        n.ready &&
        !n.unschedulable &&
        !n.interruption &&
        !leaving.has(n.name) &&
        (n.taints ?? []).every((t) => t.effect === 'PreferNoSchedule' || tolerated.has(taintKey(t))),
    );
  // A node that reports no allocatable (an API server that omits it) cannot be judged: the check is skipped.
  if (toPlace.length === 0 || staying.some((n) => n!.allocatable === undefined)) return { kind: 'go', settleOwners };
  const requested = new Map<string, Resources>();
  for (const p of view.pods) {
    if (p.nodeName === undefined || p.phase === 'Succeeded' || p.phase === 'Failed') continue;
    requested.set(p.nodeName, addResources(requested.get(p.nodeName) ?? NO_RESOURCES, p.requests ?? NO_RESOURCES));
  }
  const nodes: NodeRoom[] = staying.map((n) => ({
    name: n!.name,
    allocatable: n!.allocatable!,
    requested: requested.get(n!.name) ?? NO_RESOURCES,
  }));
  const verdict = checkRoom(
    toPlace.map((p) => ({ namespace: p.namespace, name: p.name, requests: p.requests ?? NO_RESOURCES })),
    nodes,
  );
  if (verdict.fits) return { kind: 'go', settleOwners };
  const since = journal.roomSince ?? now;
  const homeless = verdict.homeless
    .slice(0, SHOWN)
    .map((p) => `${p.namespace}/${p.name} (${formatResources(p.requests)})`);
  const short =
    `the batch's ${toPlace.length} pod(s) need ${formatResources(verdict.need)}; the ${nodes.length} node(s) ` +
    `that stay have ${formatResources(verdict.free)} free; no room for ${homeless.join(', ')}` +
    (verdict.homeless.length > SHOWN ? ` and ${verdict.homeless.length - SHOWN} more` : '');
  if (now - since > settings.drainTimeoutSeconds * 1000) {
    return {
      kind: 'fail',
      error: new NoRoomError(
        `group ${settings.name}: no room for the next batch (${batch.map((b) => b.node).join(', ')}) after ` +
          `${settings.drainTimeoutSeconds}s: ${short}`,
      ),
    };
  }
  return {
    kind: 'wait',
    seconds: GATE_POLL_SECONDS,
    did: { waitingForRoom: short },
    ...(journal.roomSince === undefined ? { journal: { ...journal, roomSince: now } } : {}),
  };
}
