/**
 * The metrics node-manager publishes (CloudWatch embedded metric format, namespace
 * `NodeManager`, dimensions `Cluster` and `Group`): what each means and its unit. One list for
 * the functions that emit them, the dashboard and alarms that read them, and the README's table.
 */
export const METRIC_NAMESPACE = 'NodeManager';

export type MetricUnit = 'Count' | 'Seconds' | 'None';

export const METRICS = {
  ReadyNodes: { unit: 'Count', what: "the group's Ready nodes, at each replenish pass" },
  DesiredReady: { unit: 'Count', what: "the group's desiredReady, at each replenish pass (beside ReadyNodes)" },
  ReadyShortfall: {
    unit: 'Count',
    what: 'desiredReady minus Ready nodes when below (0 when whole), at each replenish pass; its alarm',
  },
  SecondsBelowDesired: {
    unit: 'Seconds',
    what:
      'per disruption: how long Ready stayed below desiredReady; one value per refresh batch (0 when the surplus ' +
      'covered it), per Spot reclaim (from the cordon until its replacement was Ready) and per other shortfall ' +
      'replenish saw end (a failed launch, an outage)',
  },

  NodesReplaced: { unit: 'Count', what: 'nodes a refresh terminated once their replacements were Ready' },
  RefreshSeconds: { unit: 'Seconds', what: 'a refresh that replaced nodes: from its start to its end' },
  RefreshBoundRatio: {
    unit: 'None',
    what: "a refresh's duration over the bound its group's learned waits give for its batches (1.0: as fast as it can be)",
  },
  PodsEvicted: { unit: 'Count', what: 'pods evicted by any drain (refresh, give-back, repair, interruption)' },
  EvictionsRefused: { unit: 'Count', what: 'evictions the API server refused (a PodDisruptionBudget); its alarm' },
  PodsLost: {
    unit: 'Count',
    what: 'pods evicted that do not come back as they were (no controller, emptyDir data), or left on a node that went',
  },
  DrainSeconds: { unit: 'Seconds', what: 'per drained node (or refresh batch): from the first eviction to empty' },
  SubstituteNodes: {
    unit: 'Count',
    what: 'capacity replenish raised above home (substitutes in place), at each replenish pass; its alarm',
  },
  NodesReaped: { unit: 'Count', what: 'instances reaped because their node never joined' },
  NodesRepaired: { unit: 'Count', what: 'NotReady nodes drained and replaced by replenish' },
  InterruptionsDrained: { unit: 'Count', what: 'Spot interruptions and terminate hooks whose node was drained' },
  NoticesRefused: {
    unit: 'Count',
    what: 'interruption notices refused as untrue (forged, stale, not marked by EC2) or not ours; its alarm',
  },
} as const satisfies Record<string, { readonly unit: MetricUnit; readonly what: string }>;

export type MetricName = keyof typeof METRICS;

/** Where a step records what it did, for the function to publish at the end of its invocation. */
export interface Measures {
  add(name: MetricName, value: number): void;
}

/** Records nothing (a dry run's look, a caller outside any invocation). */
export const NO_MEASURES: Measures = { add: () => undefined };

/**
 * Ready below desiredReady, followed between looks: `since` is when a look first saw it below;
 * a look that sees it whole again closes the disruption and says how long it lasted (to
 * `endedAt`, when the node that made it whole turned Ready, if known).
 */
export function followShortfall(
  since: number | undefined,
  ready: number,
  desiredReady: number,
  now: number,
  endedAt?: number,
): { readonly since?: number; readonly closedSeconds?: number } {
  if (ready < desiredReady) return { since: since ?? now };
  if (since === undefined) return {};
  // Whole again: it ended when the node that made it whole turned Ready (when known), not at this look.
  const end = endedAt !== undefined && endedAt > since && endedAt < now ? endedAt : now;
  return { closedSeconds: Math.max(0, Math.round((end - since) / 1000)) };
}

/** What a refresh watched as it went, for its per-batch metrics and its summary (kept in the execution's state). */
export interface RefreshWatch {
  /** When a look first saw Ready below desiredReady, while it is. */
  readonly shortSince?: number;
  /** Seconds below desiredReady in the batch in hand, closed spells only. */
  readonly batchShort: number;
  /** The fewest Ready nodes a look saw. */
  readonly minReady?: number;
  /** Evictions refused, and the budgets that refused them. */
  readonly refusals: number;
  readonly budgets: readonly string[];
  /** Batches whose seconds below desiredReady were published. */
  readonly batches: number;
  /** Nodes replaced when the last batch was closed: a batch is closed once. */
  readonly closedAt?: number;
  /** The old nodes the refresh set out to replace (replaced and remaining, at its picks). */
  readonly old?: number;
}

const NO_WATCH: RefreshWatch = { batchShort: 0, refusals: 0, budgets: [], batches: 0 };

/** A look at the group: Ready against desiredReady. */
export function watchReady(
  w: RefreshWatch | undefined,
  ready: number,
  desiredReady: number,
  now: number,
): RefreshWatch {
  const was = w ?? NO_WATCH;
  const f = followShortfall(was.shortSince, ready, desiredReady, now);
  const { shortSince: _s, ...rest } = was;
  return {
    ...rest,
    ...(f.since !== undefined ? { shortSince: f.since } : {}),
    batchShort: was.batchShort + (f.closedSeconds ?? 0),
    minReady: Math.min(ready, was.minReady ?? ready),
  };
}

/** A pick: the old nodes the refresh has replaced and has still to replace. */
export function watchOld(w: RefreshWatch | undefined, old: number): RefreshWatch {
  const was = w ?? NO_WATCH;
  return { ...was, old: Math.max(was.old ?? 0, old) };
}

/** Refusals a drain pass met: the budget named in each (the API server's words name it). */
export function watchRefusals(w: RefreshWatch | undefined, refusals: number, reasons: readonly string[]): RefreshWatch {
  const was = w ?? NO_WATCH;
  const named = reasons.map((r) => /disruption budget (\S+)/.exec(r)?.[1]).filter((b): b is string => !!b);
  return { ...was, refusals: was.refusals + refusals, budgets: [...new Set([...was.budgets, ...named])] };
}

/**
 * A batch is done (`replaced` nodes so far): its seconds below desiredReady (a spell still open
 * counts to now), and the watch for the next; no seconds when that batch was closed already.
 */
export function closeBatch(
  w: RefreshWatch | undefined,
  replaced: number,
  now: number,
): { readonly watch: RefreshWatch; readonly seconds?: number } {
  const was = w ?? NO_WATCH;
  if (replaced === 0 || was.closedAt === replaced) return { watch: was };
  const open = was.shortSince !== undefined ? Math.max(0, Math.round((now - was.shortSince) / 1000)) : 0;
  return {
    watch: {
      ...was,
      batchShort: 0,
      batches: was.batches + 1,
      closedAt: replaced,
      ...(was.shortSince !== undefined ? { shortSince: now } : {}),
    },
    seconds: was.batchShort + open,
  };
}

/** A Ready member as a shortfall's end reads it: when it launched, and when its node last turned Ready. */
export interface ReadyMember {
  readonly launchedAt?: number;
  readonly readySince?: number;
}

/**
 * A reclaim's seconds below desiredReady: from the cordon (its pods had to go elsewhere) until
 * enough replacements (members launched since) were Ready to make the group whole again, read from
 * their nodes' Ready transition times. Whole without them (the surplus covered it): 0. Not whole
 * yet: the seconds so far.
 */
export function reclaimShortfall(p: {
  readonly cordonAt: number;
  readonly desiredReady: number;
  readonly ready: readonly ReadyMember[];
  readonly now: number;
}): { readonly whole: boolean; readonly seconds: number } {
  const since = (t: number) => Math.max(0, Math.round((Math.min(t, p.now) - p.cordonAt) / 1000));
  const replacements = p.ready.filter((m) => (m.launchedAt ?? Number.NEGATIVE_INFINITY) >= p.cordonAt);
  const need = p.desiredReady - (p.ready.length - replacements.length);
  if (need <= 0) return { whole: true, seconds: 0 };
  if (replacements.length < need) return { whole: false, seconds: since(p.now) };
  const readyAt = replacements.map((m) => m.readySince ?? p.now).sort((a, b) => a - b);
  return { whole: true, seconds: since(readyAt[need - 1]) };
}

/** When the last node that turned Ready after `since` did (the end of a shortfall seen whole again), if any did. */
export function lastReadyAfter(ready: readonly ReadyMember[], since: number): number | undefined {
  const after = ready.map((m) => m.readySince).filter((t): t is number => t !== undefined && t > since);
  return after.length ? Math.max(...after) : undefined;
}
