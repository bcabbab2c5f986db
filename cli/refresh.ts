import {
  DescribeExecutionCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import type { OperatorGroup } from '../lambdas/config';
import { LeaseStore } from '../lambdas/aws/lease-store';
import { pauseOf } from '../lambdas/lease';
import { CliError, type Clients, type Io, type NodeManagerStack } from './context';
import { groupStatus, renderStatus, serviceNow, type GroupStatus } from './status';

export interface RefreshOptions {
  readonly dryRun?: boolean;
  readonly follow?: boolean;
  readonly surplus?: string;
  readonly outdated?: boolean;
  readonly ignoreWindow?: boolean;
  /** Seconds between polls while following. */
  readonly interval: number;
  readonly json?: boolean;
}

const BAR = 30;

/** `[##########....................] 3/9`: the progress bar a follow prints. */
export function progressBar(done: number, of: number): string {
  const filled = of > 0 ? Math.round((BAR * Math.min(done, of)) / of) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${done}/${of}`;
}

async function waitForEnd(
  c: Clients,
  arn: string,
  io: Io,
  intervalMs: number,
  onPoll: () => Promise<void> = async () => undefined,
): Promise<DescribeExecutionCommandOutput> {
  for (;;) {
    const d = await c.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    if (d.status !== 'RUNNING') return d;
    await onPoll();
    await io.sleep(intervalMs);
  }
}

/** Starts a refresh of the group (or its dry run), and with `follow` shows its progress until it ends. */
export async function refresh(
  c: Clients,
  stack: NodeManagerStack,
  g: OperatorGroup,
  o: RefreshOptions,
  io: Io,
): Promise<number> {
  const arn = stack.stateMachines.refresh;
  if (!arn) throw new CliError(`stack ${stack.name} has no RefreshStateMachineArn output: redeploy it`);
  const rec = await new LeaseStore(c.dynamodb, stack.leaseTable).get(g.name);
  const pause = pauseOf(rec, serviceNow(c, io.now()));
  if (pause && !o.dryRun)
    throw new CliError(
      `group ${g.name} is paused (${pause.reason}): a refresh would wait; resume it first with ` +
        `node-manager resume ${g.name}, or see the plan with --dry-run`,
    );
  const input = {
    group: g.name,
    ...(o.dryRun ? { dryRun: true } : {}),
    ...(o.surplus !== undefined ? { surplus: /^\d+$/.test(o.surplus) ? Number(o.surplus) : o.surplus } : {}),
    ...(o.outdated ? { replace: 'outdated' } : {}),
    ...(o.ignoreWindow ? { ignoreWindow: true } : {}),
  };
  const started = await c.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify(input) }));
  const execution = started.executionArn!;
  const say = (text: string) => {
    if (!o.json) io.out(text);
  };
  say(`started ${execution.split(':').pop()} (${o.dryRun ? 'dry run' : 'refresh'} of ${g.name})`);
  if (!o.dryRun && !o.follow) {
    if (o.json) io.out(JSON.stringify({ executionArn: execution, input }, null, 2));
    else say(`follow it with: node-manager refresh ${g.name} --follow, or node-manager status ${g.name}`);
    return 0;
  }
  let last = '';
  let lastStatus: GroupStatus | undefined;
  const end = await waitForEnd(c, execution, io, o.interval * 1000, async () => {
    if (o.dryRun) return;
    lastStatus = await groupStatus(c, stack, g, io.now());
    const r = lastStatus.refresh;
    const line = r
      ? `${progressBar(r.replaced, r.of)} replaced, ${r.phase}` +
        `${r.of > r.replaced ? `, about ${Math.round(r.estimatedSecondsLeft / 60)} min left` : ''}` +
        `${lastStatus.pause ? ` (paused: ${lastStatus.pause.reason})` : ''}`
      : 'waiting for the lease';
    if (line !== last) say(line);
    last = line;
  });
  const output = end.output ? (JSON.parse(end.output) as { did?: Record<string, unknown> }) : undefined;
  if (o.json)
    io.out(
      JSON.stringify(
        { executionArn: execution, status: end.status, output, error: end.error, cause: end.cause },
        null,
        2,
      ),
    );
  else if (o.dryRun) io.out(renderPlan(output?.did ?? {}));
  else {
    if (end.status === 'SUCCEEDED') {
      const did = output?.did ?? {};
      const replaced = Number(did.replaced ?? lastStatus?.refresh?.replaced ?? 0);
      say(`${progressBar(replaced, Math.max(replaced, lastStatus?.refresh?.of ?? replaced))} replaced`);
    }
    say(`${execution.split(':').pop()}: ${end.status}${end.error ? ` ${end.error}: ${end.cause ?? ''}` : ''}`);
    if (output?.did) say(`did: ${JSON.stringify(output.did)}`);
    say(renderStatus(await groupStatus(c, stack, g, io.now())));
  }
  return end.status === 'SUCCEEDED' ? 0 : 1;
}

/** A dry run's plan as a person reads it. */
export function renderPlan(did: Record<string, unknown>): string {
  const lines: string[] = [];
  const batches = (did.replaceInOrder as string[][] | undefined) ?? [];
  lines.push(`would replace ${batches.flat().length} node(s) in ${batches.length} batch(es):`);
  batches.forEach((b, i) => lines.push(`  ${i + 1}. ${b.join(', ')}`));
  for (const [key, title] of [
    ['wouldLeave', 'would leave'],
    ['wouldLose', 'would lose'],
    ['wouldWait', 'would wait'],
    ['cannotReplaceNow', 'cannot replace now'],
  ] as const) {
    const items = did[key] as unknown[] | undefined;
    if (items?.length) {
      lines.push(`${title}:`);
      for (const item of items) lines.push(`  ${typeof item === 'string' ? item : JSON.stringify(item)}`);
    }
  }
  if (did.window) lines.push(String(did.window));
  const estimate = did.estimate as { text?: string } | undefined;
  if (estimate?.text) lines.push(`estimate: ${estimate.text}`);
  return lines.join('\n');
}
