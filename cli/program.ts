import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CliError, clientsFor, explainAwsError, findStack, groupOf, type GlobalOptions, type Io } from './context';
import { history } from './history';
import { pause, resume } from './pause';
import { refresh } from './refresh';
import { snapshot } from './snapshot';
import { groupStatus, renderStatus } from './status';

const positive = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag}: a number above 0, got ${v}`);
  return n;
};

/**
 * The `node-manager` CLI: status, refresh (dry run, follow), pause, resume, history and snapshot of
 * a deployed node-manager, found by its stack's outputs. Returns the exit code: 0 done, 1 a failure
 * or a refusal the message explains, 2 a usage mistake.
 */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  let code = 0;
  const program = new Command('node-manager')
    .description(
      'Operate node-manager: see where it is, refresh, pause and resume, look back, preview on the simulator',
    )
    .option('--stack <name>', 'the node-manager stack (default: the only one in the region)')
    .option('--region <region>', 'AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, or the profile)')
    .option('--profile <profile>', 'AWS profile of the shared config and credentials files')
    .option('--endpoint-url <url>', 'AWS endpoint (the simulator: npm run simulate -- --serve prints it)')
    .option('--json', 'print JSON, for scripts')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError('(node-manager --help lists the commands)');

  const context = async (cmd: Command) => {
    const o = cmd.optsWithGlobals<GlobalOptions>();
    const c = clientsFor(o, io.env);
    try {
      return { o, c, stack: await findStack(c, o) };
    } catch (e) {
      throw explainAwsError(e, o);
    }
  };
  const guarded =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A) => {
      const cmd = args[args.length - 1] as Command;
      try {
        code = await fn(...args);
      } catch (e) {
        throw explainAwsError(e, cmd.optsWithGlobals<GlobalOptions>());
      }
    };

  program
    .command('status [group]')
    .description('lease holder, refresh progress and time left, ASG desired vs home, pause, next window')
    .action(
      guarded(async (group: string | undefined, _o: unknown, cmd: Command) => {
        const { o, c, stack } = await context(cmd);
        const groups = group ? [groupOf(stack, group)] : stack.groups;
        const all = [];
        for (const g of groups) all.push(await groupStatus(c, stack, g, io.now()));
        io.out(
          o.json
            ? JSON.stringify(all, null, 2)
            : `stack ${stack.name} (${stack.cluster}, ${stack.region})\n${all.map(renderStatus).join('\n')}`,
        );
        return 0;
      }),
    );

  program
    .command('refresh <group>')
    .description('start a refresh of the group (a new node for each old one, the oldest first)')
    .option('--dry-run', 'only plan it: the nodes in order, what would hold them, an estimate')
    .option('--follow', 'show its progress until it ends (exit 0 when it succeeded)')
    .option('--surplus <n|percent>', 'this refresh only: the surplus (and batch size)')
    .option('--outdated', 'this refresh only: replace only nodes of an older launch template or past the maximum age')
    .option('--ignore-window', 'this refresh only: drain outside the maintenance windows')
    .option('--interval <seconds>', 'seconds between looks while following', positive('--interval'), 10)
    .action(
      guarded(
        async (
          group: string,
          opts: {
            dryRun?: boolean;
            follow?: boolean;
            surplus?: string;
            outdated?: boolean;
            ignoreWindow?: boolean;
            interval: number;
          },
          cmd: Command,
        ) => {
          const { o, c, stack } = await context(cmd);
          return refresh(c, stack, groupOf(stack, group), { ...opts, json: o.json }, io);
        },
      ),
    );

  const targets = (
    stackGroups: readonly { name: string }[],
    group: string | undefined,
    all: boolean | undefined,
    verb: string,
  ) => {
    if (all && group) throw new CliError(`${verb}: name a group or --all, not both`, 2);
    if (!all && !group) throw new CliError(`${verb}: name a group, or --all for every group`, 2);
    return all ? stackGroups.map((g) => g.name) : [group!];
  };
  program
    .command('pause [group]')
    .description(
      'pause voluntary disruption of a group (refresh batches, give-backs, repairs); interruption drains go on',
    )
    .option('--all', 'every group of the stack')
    .option('--reason <text>', 'why (the workflows\u2019 outputs show it)')
    .option('--until <time|duration>', 'when it ends by itself: 2026-12-07T18:00:00Z, or 2h, 90m')
    .action(
      guarded(
        async (group: string | undefined, opts: { all?: boolean; reason?: string; until?: string }, cmd: Command) => {
          const { o, c, stack } = await context(cmd);
          const groups = targets(stack.groups, group, opts.all, 'pause');
          groups.forEach((g) => groupOf(stack, g));
          return pause(c, stack, groups, { ...opts, json: o.json }, io);
        },
      ),
    );
  program
    .command('resume [group]')
    .description('resume a paused group')
    .option('--all', 'every group of the stack')
    .action(
      guarded(async (group: string | undefined, opts: { all?: boolean }, cmd: Command) => {
        const { o, c, stack } = await context(cmd);
        const groups = targets(stack.groups, group, opts.all, 'resume');
        groups.forEach((g) => groupOf(stack, g));
        return resume(c, stack, groups, { json: o.json }, io);
      }),
    );
  program
    .command('history <group>')
    .description('recent refresh and replenish executions of the group, and what each did')
    .option('--limit <n>', 'how many', positive('--limit'), 10)
    .action(
      guarded(async (group: string, opts: { limit: number }, cmd: Command) => {
        const { o, c, stack } = await context(cmd);
        groupOf(stack, group);
        return history(c, stack, group, { limit: opts.limit, json: o.json }, io);
      }),
    );
  program
    .command('snapshot <group>')
    .description(
      'read the group\u2019s ASGs, instances, nodes, pods and budgets (read-only) into a scenario for npm run simulate',
    )
    .option('-o, --output <file>', 'write the scenario here (default: print it)')
    .option('--kubeconfig <file>', 'the cluster\u2019s kubeconfig (default: KUBECONFIG, or ~/.kube/config)')
    .option('--context <name>', 'the kubeconfig context (default: its current one)')
    .action(
      guarded(async (group: string, opts: { output?: string; kubeconfig?: string; context?: string }, cmd: Command) => {
        const { c, stack } = await context(cmd);
        return snapshot(c, stack, groupOf(stack, group), opts, io);
      }),
    );

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof CliError) {
      io.err(`node-manager: ${e.message}`);
      return e.exitCode;
    }
    io.err(`node-manager: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return 1;
  }
}
