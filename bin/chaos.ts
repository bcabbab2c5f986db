/**
 * The randomized fault campaign: `npm run chaos -- [--runs N] [--seed S] [--out DIR]`.
 * Generates scenarios (sim/chaos/), runs each through the real ASL and handlers on the
 * simulator, and checks the invariants from the JSON report. On a break, fast-check shrinks the
 * scenario (bounded in time), writes the smallest one found as a scenario file, prints it, and
 * exits 1; `npm run simulate -- --scenario <that file>` replays it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { runChaos, scenarioArbitrary, type Break } from '../sim/chaos/campaign';
import { offlineEnvironment } from '../sim/offline';

offlineEnvironment();

const USAGE = 'usage: npm run chaos -- [--runs N] [--seed S] [--out DIR] [--shrink-seconds T]';

class InvariantBroken extends Error {
  readonly name = 'InvariantBroken';
  constructor(readonly breaks: readonly Break[]) {
    super(breaks.map((b) => `${b.invariant}: ${b.detail}`).join('\n'));
  }
}

function parseArgs(argv: string[]): { runs: number; seed: number; out: string; shrinkSeconds: number } | string {
  const opts = { runs: 100, seed: Date.now() % 2 ** 31, out: resolve('chaos-breaks'), shrinkSeconds: 300 };
  for (let i = 0; i < argv.length; i += 1) {
    const v = argv[i + 1];
    const int = (name: string, min: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`${name}: an integer >= ${min}, got ${v ?? 'nothing'}`);
      i += 1;
      return n;
    };
    try {
      if (argv[i] === '--runs') opts.runs = int('--runs', 1);
      else if (argv[i] === '--seed') opts.seed = int('--seed', 0);
      else if (argv[i] === '--shrink-seconds') opts.shrinkSeconds = int('--shrink-seconds', 0);
      else if (argv[i] === '--out' && v) opts.out = resolve(argv[++i]);
      else if (argv[i] === '--help' || argv[i] === '-h') return USAGE;
      else return `unknown argument ${argv[i]}\n${USAGE}`;
    } catch (e) {
      return `${(e as Error).message}\n${USAGE}`;
    }
  }
  return opts;
}

async function main(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (typeof opts === 'string') {
    console.log(opts);
    return opts === USAGE ? 0 : 2;
  }
  const t0 = performance.now();
  let done = 0;
  let simulatedMs = 0;
  const property = fc.asyncProperty(scenarioArbitrary, async (raw) => {
    const outcome = await runChaos(raw);
    simulatedMs += outcome.realMs;
    done += 1;
    if (done % 10 === 0)
      process.stderr.write(`  ${done} runs, ${(simulatedMs / done / 1000).toFixed(2)} s each on average\n`);
    if (outcome.breaks.length) throw new InvariantBroken(outcome.breaks);
  });
  console.log(`chaos: ${opts.runs} runs, seed ${opts.seed}`);
  // First find a break without shrinking, then shrink from it within a time budget.
  const found = await fc.check(property, { numRuns: opts.runs, seed: opts.seed, endOnFailure: true });
  const seconds = (performance.now() - t0) / 1000;
  if (!found.failed) {
    console.log(
      `0 breaks in ${found.numRuns} runs (${seconds.toFixed(0)} s, ${(seconds / Math.max(1, found.numRuns)).toFixed(2)} s a run)`,
    );
    return 0;
  }
  console.log(
    `a break after ${found.numRuns} run(s) (${seconds.toFixed(0)} s); shrinking for up to ${opts.shrinkSeconds} s`,
  );
  const shrunk = await fc.check(property, {
    seed: opts.seed,
    path: found.counterexamplePath ?? undefined,
    numRuns: opts.runs,
    skipAllAfterTimeLimit: opts.shrinkSeconds * 1000,
  });
  const example = (shrunk.counterexample ?? found.counterexample)?.[0] as Record<string, unknown>;
  const error = (shrunk.errorInstance ?? found.errorInstance) as Error | undefined;
  mkdirSync(opts.out, { recursive: true });
  const file = join(opts.out, `break-seed-${opts.seed}.json`);
  writeFileSync(file, `${JSON.stringify(example, null, 2)}\n`);
  console.log(
    `\nBROKEN: ${error?.message ?? 'unknown'}\n\nsmallest scenario found (${file}):\n${JSON.stringify(example)}`,
  );
  console.log(`replay: npm run simulate -- --scenario ${file}`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
    process.exit(2);
  },
);
