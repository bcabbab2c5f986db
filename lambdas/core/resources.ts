/**
 * Kubernetes resource quantities and what fits where: the room a drain needs before it starts.
 * Pure: quantities arrive as the API server writes them ("500m", "1.5Gi", "2", "1e3").
 */

/** CPU in millicores and memory in bytes. */
export interface Resources {
  readonly cpu: number;
  readonly memory: number;
}

export const NO_RESOURCES: Resources = { cpu: 0, memory: 0 };

export class QuantityError extends Error {
  override readonly name = 'QuantityError';
}

const SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * A quantity's value in base units (cores, bytes), as resource.Quantity reads it: a signed decimal
 * number, then a binary (Ki..Ei) or decimal (n..E) suffix or a decimal exponent (e3, E-2).
 */
export function parseQuantity(text: string): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/.exec(text.trim());
  if (!m) {
    throw new QuantityError(
      `quantity "${text}" is not a Kubernetes quantity: a number, then one of Ki Mi Gi Ti Pi Ei n u m k M G T P E ` +
        'or an exponent (e.g. 500m, 1.5Gi, 2)',
    );
  }
  const n = Number(m[1] + (m[2] ?? ''));
  return n * SUFFIX[m[3] ?? ''];
}

/** CPU and memory from a `{cpu, memory}` map of quantities; what is not given is zero. */
export function resourcesOf(q: Readonly<Record<string, string>> | undefined): Resources {
  return {
    cpu: q?.cpu !== undefined ? Math.round(parseQuantity(q.cpu) * 1000) : 0,
    memory: q?.memory !== undefined ? Math.round(parseQuantity(q.memory)) : 0,
  };
}

export const addResources = (a: Resources, b: Resources): Resources => ({
  cpu: a.cpu + b.cpu,
  memory: a.memory + b.memory,
});

export const subtractResources = (a: Resources, b: Resources): Resources => ({
  cpu: a.cpu - b.cpu,
  memory: a.memory - b.memory,
});

const fits = (need: Resources, free: Resources) => need.cpu <= free.cpu && need.memory <= free.memory;

/** "1500m CPU, 2.0Gi memory": how a person reads an amount. */
export function formatResources(r: Resources): string {
  const gi = r.memory / 2 ** 30;
  const mem = Math.abs(gi) >= 1 ? `${gi.toFixed(1)}Gi` : `${Math.round(r.memory / 2 ** 20)}Mi`;
  return `${r.cpu}m CPU, ${mem} memory`;
}

/** A pod to be placed: its name and what it requests. */
export interface PodNeed {
  readonly namespace: string;
  readonly name: string;
  readonly requests: Resources;
}

/** A node that stays, with what its pods already request out of its allocatable. */
export interface NodeRoom {
  readonly name: string;
  readonly allocatable: Resources;
  readonly requested: Resources;
}

export interface RoomVerdict {
  readonly fits: boolean;
  /** Pods that found no node, largest first. */
  readonly homeless: readonly PodNeed[];
  readonly need: Resources;
  readonly free: Resources;
}

/**
 * Whether the pods of a batch fit the free allocatable of the nodes that stay: first-fit by size,
 * largest first, as close as a planner can come to the scheduler without its plugins. Pods that
 * request nothing always fit (the scheduler places them anywhere); it errs on the safe side where
 * fragmentation would split a pod across nodes (it cannot).
 */
export function checkRoom(pods: readonly PodNeed[], nodes: readonly NodeRoom[]): RoomVerdict {
  const free = nodes.map((n) => ({ name: n.name, left: subtractResources(n.allocatable, n.requested) }));
  const size = (p: PodNeed) => p.requests.cpu / 1000 + p.requests.memory / 2 ** 30;
  const homeless: PodNeed[] = [];
  for (const p of [...pods].sort((a, b) => size(b) - size(a) || a.name.localeCompare(b.name))) {
    if (p.requests.cpu === 0 && p.requests.memory === 0) continue;
    const slot = free.find((f) => fits(p.requests, f.left));
    if (slot) slot.left = subtractResources(slot.left, p.requests);
    else homeless.push(p);
  }
  return {
    fits: homeless.length === 0,
    homeless,
    need: pods.reduce((s, p) => addResources(s, p.requests), NO_RESOURCES),
    free: nodes.reduce((s, n) => addResources(s, subtractResources(n.allocatable, n.requested)), NO_RESOURCES),
  };
}
