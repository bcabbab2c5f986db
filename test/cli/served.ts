import { runCli } from '../../cli/program';
import type { Simulator } from '../../sim/simulator';
import type { WorkflowRunner } from '../../sim/workflows/runner';

export interface CliRun {
  readonly at: number;
  readonly args: readonly string[];
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/**
 * Runs the CLI in this process against the served simulator (its SDK clients go over the wire),
 * with virtual time held while it runs, as an operator's commands take no simulated time.
 */
export function cliAt(
  sim: Simulator,
  runner: WorkflowRunner,
  seconds: number,
  args: readonly string[],
  runs: CliRun[],
  env: Record<string, string | undefined> = process.env,
): void {
  sim.clock.at(sim.now() + seconds * 1000, 'cli', () => {
    void runner.external('cli', () => invoke(sim, args, runs, env));
  });
}

export async function invoke(
  sim: Simulator,
  args: readonly string[],
  runs: CliRun[],
  env: Record<string, string | undefined> = process.env,
  sleepMs?: number,
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const at = sim.now();
  const code = await runCli(['--endpoint-url', sim.awsServer!.url, ...args], {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env,
    sleep: (ms) => new Promise((r) => setTimeout(r, sleepMs ?? ms)),
    now: () => Date.now(),
  });
  const run = { at, args, code, out: out.join('\n'), err: err.join('\n') };
  runs.push(run);
  return run;
}

export const find = (runs: readonly CliRun[], ...args: string[]) => {
  const r = runs.find((x) => x.args.join(' ') === args.join(' '));
  if (!r) throw new Error(`no CLI run of ${args.join(' ')}: ${runs.map((x) => x.args.join(' ')).join('; ')}`);
  return r;
};
