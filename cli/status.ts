import { DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import type { OperatorGroup } from '../lambdas/config';
import { refreshEstimateSeconds, windowState, type GroupMemory, type RefreshJournal } from '../lambdas/core';
import { LeaseStore, type LeaseRecord } from '../lambdas/aws/lease-store';
import { memoryOf, pauseOf } from '../lambdas/lease';
import type { Clients, NodeManagerStack } from './context';

/** What `status` says of a group. */
export interface GroupStatus {
  readonly group: string;
  readonly holder?: { readonly execution: string; readonly kind?: string; readonly status?: string };
  readonly refresh?: {
    readonly phase: string;
    readonly replaced: number;
    readonly of: number;
    readonly startedAt: string;
    readonly estimatedSecondsLeft: number;
  };
  readonly asgs: ReadonlyArray<{
    readonly name: string;
    readonly desired: number;
    readonly home: number;
    readonly inService: number;
  }>;
  readonly pause?: { readonly reason: string; readonly since: string; readonly until?: string; readonly by?: string };
  readonly window?: { readonly open: boolean; readonly closesAt?: string; readonly opensAt?: string };
}

/** The service's time: the client's clock corrected by the skew the SDK saw in AWS's answers (the simulator's virtual time). */
export const serviceNow = (c: Clients, now: number) =>
  now +
  ([c.cloudformation, c.dynamodb, c.sfn, c.autoscaling, c.ec2]
    .map((x) => x.config.systemClockOffset ?? 0)
    .find((o) => o !== 0) ?? 0);

/** The group's ASGs, by name or by tags, as its configuration finds them. */
export async function groupAsgs(c: Clients, g: OperatorGroup): Promise<AutoScalingGroup[]> {
  const found: AutoScalingGroup[] = [];
  let token: string | undefined;
  do {
    const page = await c.autoscaling.send(
      new DescribeAutoScalingGroupsCommand({
        ...(g.asgNames ? { AutoScalingGroupNames: g.asgNames } : {}),
        ...(g.asgTags
          ? { Filters: Object.entries(g.asgTags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })) }
          : {}),
        NextToken: token,
      }),
    );
    found.push(...(page.AutoScalingGroups ?? []));
    token = page.NextToken;
  } while (token);
  return found.sort((a, b) => (a.AutoScalingGroupName ?? '').localeCompare(b.AutoScalingGroupName ?? ''));
}

/** Launch times of instances (EC2 DescribeInstances, 100 ids a call). */
export async function launchTimes(c: Clients, ids: readonly string[]): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 100) {
    const out = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids.slice(i, i + 100) }));
    for (const r of out.Reservations ?? [])
      for (const inst of r.Instances ?? [])
        if (inst.InstanceId && inst.LaunchTime) times.set(inst.InstanceId, inst.LaunchTime.getTime());
  }
  return times;
}

export async function groupStatus(
  c: Clients,
  stack: NodeManagerStack,
  g: OperatorGroup,
  realNow: number,
): Promise<GroupStatus> {
  const rec: LeaseRecord | undefined = await new LeaseStore(c.dynamodb, stack.leaseTable).get(g.name);
  const now = serviceNow(c, realNow);
  const memory: GroupMemory = memoryOf(rec);
  const asgs = await groupAsgs(c, g);
  const journal = rec?.kind === 'refresh' ? (rec.journal as RefreshJournal | undefined) : undefined;
  let holder: GroupStatus['holder'];
  if (rec?.holder) {
    let status: string | undefined;
    try {
      status = (await c.sfn.send(new DescribeExecutionCommand({ executionArn: rec.holder }))).status;
    } catch {
      status = 'unknown (the execution cannot be described)';
    }
    holder = { execution: rec.holder, kind: rec.kind, status };
  }
  let refresh: GroupStatus['refresh'];
  if (journal?.startedAt) {
    const members = asgs.flatMap((a) => (a.Instances ?? []).map((i) => i.InstanceId!));
    const launched = await launchTimes(c, members);
    const done = new Set([...journal.terminated, ...(journal.passedOver ?? []).map((p) => p.instance)]);
    const old = members.filter((id) => (launched.get(id) ?? Infinity) < journal.startedAt && !done.has(id)).length;
    const batch = Math.max(1, journal.batch.length);
    refresh = {
      phase: journal.phase,
      replaced: journal.replaced,
      of: journal.replaced + old,
      startedAt: new Date(journal.startedAt).toISOString(),
      estimatedSecondsLeft: refreshEstimateSeconds(journal.learned ?? memory.learned, Math.ceil(old / batch), false),
    };
  }
  const home = (asg: string) => memory.home?.[asg]?.desired ?? journal?.original?.[asg]?.desired;
  const pause = pauseOf(rec, now);
  const w = g.maintenanceWindows?.length ? windowState(g.maintenanceWindows, now) : undefined;
  const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
  return {
    group: g.name,
    ...(holder ? { holder } : {}),
    ...(refresh ? { refresh } : {}),
    asgs: asgs.map((a) => ({
      name: a.AutoScalingGroupName ?? '',
      desired: a.DesiredCapacity ?? 0,
      home: home(a.AutoScalingGroupName ?? '') ?? a.DesiredCapacity ?? 0,
      inService: (a.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length,
    })),
    ...(pause
      ? {
          pause: {
            reason: pause.reason,
            since: iso(pause.from)!,
            ...(pause.until ? { until: iso(pause.until) } : {}),
            ...(pause.by ? { by: pause.by } : {}),
          },
        }
      : {}),
    ...(w
      ? {
          window: {
            open: w.open,
            ...(w.closesAt ? { closesAt: iso(w.closesAt) } : {}),
            ...(w.opensAt ? { opensAt: iso(w.opensAt) } : {}),
          },
        }
      : {}),
  };
}

const minutes = (s: number) => (s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

/** A group's status as a person reads it. */
export function renderStatus(s: GroupStatus): string {
  const lines = [`group ${s.group}`];
  if (s.holder)
    lines.push(`  lease: ${s.holder.kind ?? '?'} ${s.holder.execution.split(':').pop()} (${s.holder.status ?? '?'})`);
  else lines.push('  lease: free (nothing running)');
  if (s.refresh)
    lines.push(
      `  refresh: ${s.refresh.phase}, replaced ${s.refresh.replaced} of ${s.refresh.of}` +
        `${s.refresh.of > s.refresh.replaced ? `, about ${minutes(s.refresh.estimatedSecondsLeft)} left` : ''}` +
        ` (started ${s.refresh.startedAt})`,
    );
  for (const a of s.asgs)
    lines.push(
      `  ${a.name}: desired ${a.desired}${a.desired !== a.home ? ` (home ${a.home})` : ' (home)'}, ${a.inService} InService`,
    );
  lines.push(
    s.pause
      ? `  paused since ${s.pause.since}${s.pause.until ? ` until ${s.pause.until}` : ' until resumed'}` +
          `${s.pause.by ? ` by ${s.pause.by}` : ''}: ${s.pause.reason}`
      : '  not paused',
  );
  if (s.window)
    lines.push(
      s.window.open
        ? `  maintenance window open, closes ${s.window.closesAt}`
        : `  outside its maintenance windows; the next opens ${s.window.opensAt ?? 'not within 8 days'}`,
    );
  return lines.join('\n');
}
