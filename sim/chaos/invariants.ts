import { surplusCount } from '../../lambdas/config';
import type { Report, Scenario } from '../scenario/run';

/** The invariants every run must keep, checked from the JSON report alone (what an auditor would have). */

/** Error names a failed execution may end with: ours, and Lambda's own when a crash outlives every retry. */
export const NAMED_ERRORS = new Set([
  'AwsThrottled',
  'AwsUnavailable',
  'AwsValidation',
  'ResourceNotFound',
  'KubeThrottled',
  'KubeUnavailable',
  'KubeForbidden',
  'KubeConflict',
  'EvictionBlocked',
  'LeaseHeld',
  'LeaseLost',
  'InvalidInput',
  'ReplenishRunning',
  'SurgeBlocked',
  'SurgeTimeout',
  'ReplacementTimeout',
  'DrainTimeout',
  'RefreshStuck',
  'SettleTimeout',
  'NoRoom',
  'Runtime.ExitError',
  'InterruptionDrainFailed',
]);

export interface Break {
  readonly invariant: string;
  readonly detail: string;
}

function hasFault(s: Scenario, kinds: readonly string[], group?: string): boolean {
  return s.faults.some((f) => kinds.includes(f.kind) && (!group || !('group' in f) || f.group === group));
}

/**
 * The invariants, from the report alone. Those that "because of us" qualifies are checked only
 * where the scenario injects nothing that takes capacity away by itself (outages, interruptions,
 * instances that never join).
 */
export function checkInvariants(s: Scenario, r: Report): Break[] {
  const out: Break[] = [];
  const add = (invariant: string, detail: string) => out.push({ invariant, detail });
  const capacityFaults = hasFault(s, ['zoneOutage', 'instanceTypeOutage']);

  for (const e of r.executions) {
    if (e.status === 'RUNNING') add('every execution ends', `${e.name} is still running after ${s.until}s`);
    if (e.status === 'FAILED' && !NAMED_ERRORS.has(e.error ?? ''))
      add('failures are named', `${e.name} failed with ${e.error}: ${e.cause}`);
    if (e.status === 'TIMED_OUT') add('no execution times out', `${e.name} timed out`);
  }
  // onTimeout: force deletes what a drain left past its timeout, by design, and names each pod; a
  // person's scale-in (scaleAsg below the ASG's desired) lets the ASG terminate without a drain; a
  // NotReady node's pods are the node controller's to delete (taint-based eviction), not modelled.
  // A quarantined node reaped at its deadline takes the pods still on it, each named in podsLost.
  const forced = s.groups.some((g) => g.drain.onTimeout === 'force');
  const endedWithQuarantine = r.executions
    .flatMap(
      (e) => ((e.output as { did?: { podsLost?: unknown } } | null)?.did?.podsLost as string[] | undefined) ?? [],
    )
    .filter((p) => p.endsWith(': ended with its quarantined node')).length;
  const unnamed = r.pods.deletedWithoutEviction - endedWithQuarantine;
  if (unnamed > 0 && !forced && !hasFault(s, ['scaleAsg', 'nodeNotReady']))
    add('no pod deleted without eviction', `${unnamed} pod(s)`);
  if (r.outsideAsgs.length) add('no instance of ours outside an ASG', JSON.stringify(r.outsideAsgs));
  // A pause holds every new batch of its group (a pass that read the lease just before may finish: a minute's grace).
  // The last operator's word stands: a later pause or a resume of the group replaces the one before.
  const operatorActs = s.faults.filter((f) => f.kind === 'pause' || f.kind === 'resume').sort((a, b) => a.at - b.at);
  for (const f of s.faults) {
    if (f.kind !== 'pause') continue;
    const next = operatorActs.find((x) => x !== f && x.group === f.group && x.at > f.at);
    const until = Math.min(f.for !== undefined ? f.at + f.for : s.until, next?.at ?? Number.POSITIVE_INFINITY);
    const started = r.audit.filter(
      (a) =>
        a.group === f.group &&
        a.outcome === 'ok' &&
        a.step === 'Replace oldest nodes' &&
        a.operation === 'patch nodes' &&
        a.change?.startsWith('cordon') &&
        a.at > f.at + 60 &&
        a.at < until,
    );
    if (started.length)
      add(
        'no batch starts while its group is paused',
        `${f.group}: ${started.map((a) => `${a.target} at ${a.at}s`).join(', ')}`,
      );
  }
  const ended = r.executions.every((e) => e.status !== 'RUNNING');

  for (const g of r.groups) {
    const spec = s.groups.find((x) => x.name === g.name)!;
    const takenByFaults =
      capacityFaults ||
      hasFault(
        s,
        ['spotInterruption', 'rebalanceRecommendation', 'neverJoin', 'instanceStop', 'nodeNotReady', 'scaleAsg'],
        g.name,
      );
    if (ended) {
      // A stopped (or timed-out) execution runs no cleanup: its lease and journal wait for the next
      // run of the group, which restores them. Left so, with no run after it, the report says why.
      const holder = g.lease?.holder ? r.executions.find((e) => g.lease!.holder!.endsWith(`:${e.name}`)) : undefined;
      // A dry run reads and changes nothing, so it takes no lease over: only a real run recovers one.
      const recovers = (e: Report['executions'][number]) => {
        const input = e.input as { group?: string; dryRun?: boolean } | null;
        return e.workflow !== 'interruption' && input?.group === g.name && input.dryRun !== true;
      };
      const abandoned =
        !!holder &&
        (holder.status === 'ABORTED' || holder.status === 'TIMED_OUT') &&
        !r.executions.some((e) => recovers(e) && e.startedAt >= (holder.stoppedAt ?? Infinity));
      const journal = abandoned
        ? (g.lease?.journal as {
            cordoned?: string[];
            original?: Record<string, { desired: number; max: number }>;
          } | null)
        : null;
      if (g.lease?.holder && !abandoned)
        add('no lease held at the end', `${g.name} held by ${g.lease.holder}${holder ? ` (${holder.status})` : ''}`);
      // A node a refresh quarantined stays cordoned, in Standby, until replenish reaps it (by its deadline, below).
      const quarantined =
        (g.lease?.memory as { quarantined?: Record<string, { until: number }> } | null)?.quarantined ?? {};
      const startMs = Date.parse(r.startedAt);
      const endMs = startMs + s.until * 1000;
      // Replenish reaps at its passes after the deadline once no refresh holds the group: an hour of slack.
      const lastRun = Math.max(
        0,
        ...r.executions
          .filter((e) => e.workflow === 'refresh' && (e.input as { group?: string } | null)?.group === g.name)
          .map((e) => startMs + (e.stoppedAt ?? s.until) * 1000),
      );
      for (const [id, q] of Object.entries(quarantined))
        if (Math.max(q.until, lastRun) + 3600 * 1000 < endMs)
          add(
            'a quarantined node is reaped by its deadline',
            `${g.name}: ${id} due ${new Date(q.until).toISOString()}`,
          );
      for (const m of g.members)
        if ((m.lifecycleState === 'Standby' || m.lifecycleState === 'EnteringStandby') && !quarantined[m.instanceId])
          add('no instance in Standby but a quarantined one', `${g.name}: ${m.instanceId} (${m.lifecycleState})`);
      const cordoned = g.members.filter(
        (m) => m.cordonedBy && !(journal?.cordoned ?? []).includes(m.node ?? '') && !quarantined[m.instanceId],
      );
      if (cordoned.length)
        add(
          'nothing cordoned by us at the end',
          `${g.name}: ${cordoned.map((m) => `${m.node} (${m.cordonedBy})`).join(', ')}`,
        );
      const memoryHome = {
        ...((g.lease?.memory as { home?: Record<string, { desired: number; max: number }> } | null)?.home ?? {}),
        ...(journal?.original ?? {}),
      };
      for (const a of g.asgs) {
        const homeMax = spec.maxPerZone ?? spec.perZone ?? 0;
        const homeMin = spec.minPerZone ?? spec.perZone ?? 0;
        if (a.desired === a.homeDesired && a.max === homeMax && a.min === homeMin) continue;
        // What a person set (scaleAsg) is that ASG's floor at the end: kept, not given back.
        // What a person set last is the floor (a raise kept; a scale-in the ASG carried out itself).
        const person = s.faults
          .filter((f) => f.kind === 'scaleAsg' && f.group === g.name && f.zone === a.zone)
          .sort((x, y) => x.at - y.at)
          .pop() as { desired: number } | undefined;
        if (person && a.desired === person.desired && a.max === Math.max(homeMax, person.desired) && a.min === homeMin)
          continue;
        // Away from home is allowed only where node-manager knows it (the home layout in its memory, to give back).
        // (A person's raise moved that home: it is known at the raised size.)
        const remembered = memoryHome[a.name];
        const known =
          !!remembered &&
          (remembered.desired === a.homeDesired || remembered.desired === person?.desired) &&
          (remembered.max === homeMax || remembered.max === Math.max(homeMax, person?.desired ?? 0));
        if (!known || a.min !== homeMin)
          add(
            'every ASG at home, or the report says why',
            `${a.name}: desired ${a.desired}/${a.homeDesired}, max ${a.max}/${homeMax}, min ${a.min}/${homeMin}; ` +
              `memory home ${JSON.stringify(memoryHome[a.name] ?? null)}`,
          );
      }
    }
    if (!takenByFaults && spec.role === 'worker' && surplusCount(spec) >= 1 && g.minReady < g.desiredReady)
      add(
        'Ready never below desiredReady because of us (surplus >= 1)',
        `${g.name}: ${g.minReady} < ${g.desiredReady}`,
      );
    if (!takenByFaults && spec.role === 'control-plane' && g.minReady < g.desiredReady - 1)
      add('never more than one master down', `${g.name}: ${g.minReady} Ready of ${g.desiredReady}`);
    const batch = spec.role === 'control-plane' ? 1 : Math.max(1, surplusCount(spec));
    if (!takenByFaults && g.maxLeaving > batch)
      add('never more nodes leaving than the batch', `${g.name}: ${g.maxLeaving} > ${batch}`);
  }

  // Never two executions mutating one group at once: each execution's span of successful mutations on a group.
  const spans = new Map<string, Map<string, [number, number]>>();
  // Interruption drains never wait for the lease, by design: they touch their own instance and
  // node only (checked below), so they are left out of this rule.
  const drains = new Set(r.executions.filter((e) => e.workflow === 'interruption').map((e) => e.name));
  for (const a of r.audit) {
    if (!a.group || !a.execution || a.outcome !== 'ok' || a.target.startsWith('item/') || drains.has(a.execution))
      continue;
    const byExec = spans.get(a.group) ?? new Map<string, [number, number]>();
    const span = byExec.get(a.execution) ?? [a.at, a.at];
    byExec.set(a.execution, [Math.min(span[0], a.at), Math.max(span[1], a.at)]);
    spans.set(a.group, byExec);
  }
  for (const [group, byExec] of spans) {
    const list = [...byExec.entries()].sort((x, y) => x[1][0] - y[1][0]);
    for (let i = 1; i < list.length; i += 1) {
      if (list[i][1][0] < list[i - 1][1][1])
        add(
          'never two executions mutating one group at once',
          `${group}: ${list[i - 1][0]} ${JSON.stringify(list[i - 1][1])} and ${list[i][0]} ${JSON.stringify(list[i][1])}`,
        );
    }
  }

  // An interruption drain changes its own instance and node, and nothing else in the group.
  for (const e of r.executions.filter((x) => x.workflow === 'interruption')) {
    const detail = ((e.input as { detail?: Record<string, string> } | null)?.detail ?? {}) as Record<string, string>;
    const instance = detail['instance-id'] ?? detail.EC2InstanceId;
    const node = (e.output as { node?: string } | null)?.node;
    // Calls the server refused (throttled, failed) changed nothing: only those that went through count.
    for (const a of r.audit.filter(
      (x) => x.execution === e.name && x.outcome === 'ok' && !x.target.startsWith('item/'),
    )) {
      const own =
        a.target.includes(instance) ||
        (node !== undefined && (a.target === `node/${node}` || a.target === `event/node/${node}`)) ||
        a.target.startsWith('pod/') ||
        // Its summary, to the stack's topic: a message, no change to the cluster.
        a.operation === 'Publish';
      if (!own)
        add(
          'an interruption drain changes only its own instance and node',
          `${e.name} (${instance}): ${a.operation} ${a.target}`,
        );
    }
  }

  // Forged starts: refused, succeeded, and nothing changed by them.
  for (const e of r.executions.filter((x) => x.workflow === 'interruption' && x.name.startsWith('crafted-'))) {
    const did = (e.output as { did?: { refused?: boolean } } | null)?.did;
    if (e.status !== 'SUCCEEDED' || did?.refused !== true)
      add('a forged start is refused, and succeeds', `${e.name}: ${e.status} ${JSON.stringify(did ?? e.error)}`);
    const changed = r.audit.filter((a) => a.execution === e.name);
    if (changed.length)
      add(
        'a forged start changes nothing',
        `${e.name}: ${changed.map((a) => `${a.operation} ${a.target}`).join(', ')}`,
      );
  }

  // Every ended drain closed its ledger entry.
  if (ended) {
    for (const g of r.groups) {
      for (const [id, raw] of Object.entries(g.lease?.interruptions ?? {})) {
        const entry = raw as { execution?: string; doneAt?: number } | null;
        const owner = entry?.execution ? r.executions.find((e) => entry.execution!.endsWith(`:${e.name}`)) : undefined;
        if (owner && owner.status !== 'RUNNING' && owner.status !== 'ABORTED' && entry?.doneAt === undefined)
          add('every path of the drain closes its entry', `${g.name}: ${id} by ${owner.name} (${owner.status})`);
      }
    }
  }

  // A node an interruption drain marked is the drain's: no other execution uncordons it until the drain has ended.
  for (const mark of r.audit.filter(
    (a) =>
      a.outcome === 'ok' && a.change?.includes('taint node-manager.io/interruption') && !a.change.includes('untaint'),
  )) {
    const drain = r.executions.find((e) => e.name === mark.execution);
    const until = drain?.stoppedAt ?? Number.POSITIVE_INFINITY;
    for (const a of r.audit) {
      if (
        a.target !== mark.target ||
        a.outcome !== 'ok' ||
        a.execution === mark.execution ||
        !a.change?.includes('uncordon') ||
        a.at < mark.at ||
        a.at > until
      )
        continue;
      add(
        "an interruption drain's node is never uncordoned by another execution while it drains",
        `${mark.target}: marked by ${mark.execution} at ${mark.at}s, uncordoned by ${a.execution} (${a.step}) at ${a.at}s`,
      );
    }
  }

  // A SUCCEEDED refresh (the last of its chain) left no node older than the start it kept.
  for (const e of r.executions) {
    if (e.workflow !== 'refresh' || e.status !== 'SUCCEEDED' || e.continuedAs.length) continue;
    const out = e.output as {
      group?: string;
      startedAt?: number;
      dryRun?: boolean;
      did?: { skipped?: unknown; notReplaced?: Array<{ node: string }> };
    } | null;
    if (!out || out.dryRun || typeof out.startedAt !== 'number') continue;
    const startSeconds = (out.startedAt - Date.parse(r.startedAt)) / 1000;
    const g = r.groups.find((x) => x.name === out.group);
    // Nodes it left (a pod holds them, or a skipped drain) are named in its output: those may stay.
    const named = new Set((out.did?.notReplaced ?? []).map((n) => n.node));
    const old = (g?.members ?? []).filter(
      (m) => m.nodeCreatedAt !== null && m.nodeCreatedAt < startSeconds && !named.has(m.node ?? ''),
    );
    if (old.length)
      add(
        'a SUCCEEDED refresh leaves no node older than its start, but those it names',
        `${e.name}: ${old.map((m) => m.node).join(', ')}`,
      );
  }
  return out;
}
