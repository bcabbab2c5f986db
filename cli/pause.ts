import { userInfo } from 'node:os';
import { PauseStore } from '../lambdas/aws/pause-store';
import { activePause, windowSeconds, type Pause } from '../lambdas/core';
import { LeaseStore } from '../lambdas/aws/lease-store';
import { pauseGroup, resumeGroup } from '../lambdas/lease';
import { CliError, type Clients, type Io, type NodeManagerStack } from './context';
import { serviceNow } from './status';

/** `--until`: an ISO 8601 time, or a duration from now ("2h", "90m", "1h30m"). */
export function parseUntil(text: string, now: number): number {
  const seconds = windowSeconds(text);
  if (seconds !== undefined) return now + seconds * 1000;
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new CliError(`--until: a time (2026-12-07T18:00:00Z) or a duration (2h, 90m, 1h30m); got ${text}`, 2);
  return t;
}

function who(io: Io): string {
  try {
    return `${io.env.USER ?? userInfo().username} (node-manager CLI)`;
  } catch {
    return 'node-manager CLI';
  }
}

export async function pause(
  c: Clients,
  stack: NodeManagerStack,
  groups: readonly string[],
  o: { readonly reason?: string; readonly until?: string; readonly json?: boolean },
  io: Io,
): Promise<number> {
  const store = new PauseStore(c.dynamodb, stack.leaseTable);
  const leases = new LeaseStore(c.dynamodb, stack.leaseTable);
  const results = [];
  for (const group of groups) {
    // The service's clock: a pause's times are the ones the workflows compare with theirs.
    const now = serviceNow(c, io.now());
    // The last word stands: a pause in force is replaced, and the operator is told which.
    const before = activePause((await leases.get(group))?.pause as Pause | undefined, now);
    const p = await pauseGroup(
      store,
      group,
      {
        reason: o.reason ?? `paused by ${who(io)}`,
        ...(o.until ? { until: parseUntil(o.until, now) } : {}),
        by: who(io),
      },
      now,
    ).catch((e: unknown) => {
      throw e instanceof Error && e.name === 'InvalidInput' ? new CliError(e.message, 2) : e;
    });
    const iso = (t: number) => new Date(t).toISOString();
    const replaced = before
      ? `${before.reason} (since ${iso(before.from)}${before.until ? `, until ${iso(before.until)}` : ''})`
      : undefined;
    results.push({
      group,
      reason: p.reason,
      since: iso(p.from),
      ...(p.until ? { until: iso(p.until) } : {}),
      ...(replaced ? { replaced } : {}),
    });
    if (!o.json)
      io.out(
        `paused ${group}${p.until ? ` until ${new Date(p.until).toISOString()}` : ' until resumed'}: ${p.reason} ` +
          '(the step in hand finishes; no new batch, give-back or repair; interruption drains go on)' +
          (replaced ? `; it replaces the pause ${replaced}` : ''),
      );
  }
  if (o.json) io.out(JSON.stringify(results, null, 2));
  return 0;
}

export async function resume(
  c: Clients,
  stack: NodeManagerStack,
  groups: readonly string[],
  o: { readonly json?: boolean },
  io: Io,
): Promise<number> {
  const store = new PauseStore(c.dynamodb, stack.leaseTable);
  for (const group of groups) {
    await resumeGroup(store, group);
    if (!o.json) io.out(`resumed ${group} (its refresh goes on at its next look, within 5 minutes)`);
  }
  if (o.json)
    io.out(
      JSON.stringify(
        groups.map((group) => ({ group, resumed: true })),
        null,
        2,
      ),
    );
  return 0;
}
