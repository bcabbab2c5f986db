import { DescribeExecutionCommand, ListExecutionsCommand, type ExecutionListItem } from '@aws-sdk/client-sfn';
import type { Clients, Io, NodeManagerStack } from './context';

export interface HistoryEntry {
  readonly execution: string;
  readonly workflow: string;
  readonly status: string;
  readonly startedAt: string;
  readonly seconds?: number;
  readonly dryRun?: boolean;
  readonly did?: unknown;
  readonly error?: string;
}

/** The group's recent refresh and replenish executions (newest first), each with what it did. */
export async function history(
  c: Clients,
  stack: NodeManagerStack,
  group: string,
  o: { readonly limit: number; readonly json?: boolean },
  io: Io,
): Promise<number> {
  const entries: HistoryEntry[] = [];
  for (const workflow of ['refresh', 'replenish'] as const) {
    const arn = stack.stateMachines[workflow];
    if (!arn) continue;
    const listed: ExecutionListItem[] = [];
    let token: string | undefined;
    // Executions name no group in the list: each is described (input, output), the newest first, until enough are the group's.
    do {
      const page = await c.sfn.send(
        new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 50, nextToken: token }),
      );
      listed.push(...(page.executions ?? []));
      token = page.nextToken;
    } while (token && listed.length < 200);
    let mine = 0;
    for (const e of listed) {
      if (mine >= o.limit) break;
      const d = await c.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
      const input = JSON.parse(d.input ?? '{}') as { group?: string; dryRun?: boolean };
      // A replenish pass without a group looks at every group.
      if (input.group !== undefined ? input.group !== group : workflow === 'refresh') continue;
      mine += 1;
      const output = d.output ? (JSON.parse(d.output) as { did?: unknown }) : undefined;
      entries.push({
        execution: e.name ?? '',
        workflow,
        status: e.status ?? '',
        startedAt: e.startDate?.toISOString() ?? '',
        ...(e.stopDate && e.startDate
          ? { seconds: Math.round((e.stopDate.getTime() - e.startDate.getTime()) / 1000) }
          : {}),
        ...(input.dryRun ? { dryRun: true } : {}),
        ...(output?.did !== undefined ? { did: output.did } : {}),
        ...(d.error ? { error: `${d.error}: ${d.cause ?? ''}` } : {}),
      });
    }
  }
  entries.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const shown = entries.slice(0, o.limit);
  if (o.json) io.out(JSON.stringify(shown, null, 2));
  else if (shown.length === 0) io.out(`no refresh or replenish execution of ${group} yet`);
  else
    for (const h of shown)
      io.out(
        `${h.startedAt} ${h.workflow}${h.dryRun ? ' (dry run)' : ''} ${h.execution}: ${h.status}` +
          `${h.seconds !== undefined ? ` in ${Math.round(h.seconds / 60)} min` : ''}` +
          `${h.error ? ` — ${h.error}` : h.did !== undefined ? ` — ${JSON.stringify(h.did)}` : ''}`,
      );
  return 0;
}
