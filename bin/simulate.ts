/**
 * The local runner: `npm run simulate -- [--scenario <file.json>] [--json]`.
 * Runs a scenario (default: examples/scenarios/kops-weekly.json) on the embedded simulator: the
 * real ASL files executed by aws-local-stepfunctions, every Task routed to the real handler, on
 * virtual time. Prints a timeline like the execution history and a summary, or the JSON report.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseScenario, runScenario, type Report } from '../sim/scenario/run';
import type { TimelineEntry } from '../sim/workflows/runner';
import { offlineEnvironment } from '../sim/offline';

offlineEnvironment();

const USAGE =
  'usage: npm run simulate -- [--scenario <file.json>] [--json] [--serve [--speed N] [--port P] [--aws-port P]]';

/** The simulated AWS endpoint's port under `--serve` unless told (the README's commands name it). */
const AWS_PORT = 4566;

function hms(seconds: number): string {
  const s = Math.round(seconds);
  return [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, '0')).join(':');
}

function short(v: unknown, max = 150): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What a polling step said, without what changes on every poll (ages). */
function gist(summary: unknown): string {
  return JSON.stringify(summary, (k, v: unknown) => (k === 'ageSeconds' ? undefined : v));
}

/** The timeline, with consecutive identical polls of one step folded into one line. */
function printTimeline(timeline: readonly TimelineEntry[], start: number): void {
  for (let i = 0; i < timeline.length; i += 1) {
    const t = timeline[i];
    let j = i;
    while (
      j + 1 < timeline.length &&
      timeline[j + 1].execution === t.execution &&
      timeline[j + 1].state === t.state &&
      timeline[j + 1].outcome === t.outcome &&
      gist(timeline[j + 1].summary) === gist(t.summary)
    )
      j += 1;
    const mark = t.outcome === 'ok' ? ' ' : t.outcome === 'retry' ? '↻' : '✗';
    const times = j > i ? ` (×${j - i + 1} until ${hms((timeline[j].at - start) / 1000)})` : '';
    console.log(
      `${hms((t.at - start) / 1000)} ${mark} ${t.execution.padEnd(12)} ${t.state}${times}  ${short(t.summary)}`,
    );
    i = j;
  }
}

function printSummary(r: Report): void {
  console.log(`\n== ${r.scenario}`);
  for (const e of r.executions) {
    console.log(
      `${e.name}: ${e.status}${e.error ? ` ${e.error}: ${short(e.cause ?? '', 300)}` : ''} — ${hms(e.startedAt)} ` +
        `→ ${e.stoppedAt === null ? 'still running' : hms(e.stoppedAt)}, ${e.transitions} transitions, ` +
        `${e.historyEvents} history events, ${e.lambdaInvocations} Lambda ` +
        `invocations${e.continuedAs.length ? `, continued as ${e.continuedAs.join(', ')}` : ''}`,
    );
  }
  const t = r.totals;
  const ratio = t.lowerBoundSeconds
    ? ` (lower bound ${hms(t.lowerBoundSeconds)}, ratio ${(t.simulatedSeconds / t.lowerBoundSeconds).toFixed(2)})`
    : '';
  console.log(
    `simulated ${hms(t.simulatedSeconds)}${ratio}; ${t.transitions} transitions, ${t.lambdaInvocations} Lambda ` +
      `invocations (${(t.lambdaBilledMs / 1000).toFixed(1)} s billed)`,
  );
  console.log(
    `AWS calls: ${Object.entries(t.awsCalls)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(
    `Kubernetes calls: ${Object.entries(t.kubeCalls)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(
    `pods: ${r.pods.evictions} evicted, ${r.pods.evictionsRefused} evictions refused, ` +
      `${r.pods.deletedWithoutEviction} deleted without eviction, ${r.pods.lostToInterruption} lost to Spot ` +
      `interruptions, ${r.pods.pending} pending`,
  );
  for (const g of r.groups) {
    console.log(
      `group ${g.name}: Ready ${g.readyAtEnd} at end, never below ${g.minReady} (desired ${g.desiredReady}); ` +
        `${g.asgModifications} ASG modification(s), ${g.reaps.length} reap(s)`,
    );
    for (const a of g.asgs)
      console.log(`  ${a.name}: desired ${a.desired} (home ${a.homeDesired}), min ${a.min}, max ${a.max}`);
    for (const m of g.members)
      console.log(
        `    ${m.instanceId} ${m.zone} launched ` +
          `${m.launchedAt < 0 ? `${Math.round(-m.launchedAt / 86400)}d before` : `at ${hms(m.launchedAt)}`} ` +
          `${m.node ?? '(no node)'} ${m.ready ? 'Ready' : 'not Ready'}${m.unschedulable ? ' cordoned' : ''}`,
      );
  }
}

/**
 * 0: every execution ended as the scenario meant (SUCCEEDED, or ABORTED by its own stop);
 * 1: one FAILED or TIMED_OUT; 3: one was still RUNNING when the scenario's time ran out.
 */
function exitCode(r: Report): number {
  if (r.executions.some((e) => e.status === 'FAILED' || e.status === 'TIMED_OUT')) return 1;
  if (r.executions.some((e) => e.status === 'RUNNING')) {
    if (!process.argv.includes('--json'))
      console.log(
        `still running at the scenario's end: ${r.executions
          .filter((e) => e.status === 'RUNNING')
          .map((e) => e.name)
          .join(', ')}`,
      );
    return 3;
  }
  return 0;
}

class UsageError extends Error {
  readonly name = 'UsageError';
}

/**
 * `--serve`: runs the scenario paced at `speed` times real time with the API server up, and keeps
 * it up (the cluster going on) after the scenario's end until Ctrl-C, so that kubectl can watch:
 * `kubectl --kubeconfig <printed path> get nodes -w`.
 */
async function serveScenario(
  scenario: Parameters<typeof runScenario>[0],
  serve: { speed: number; port?: number; awsPort?: number },
  json: boolean,
): Promise<number> {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'node-manager-sim-')), 'kubeconfig');
  const { report, runner, start, sim } = await runScenario(scenario, {
    aws: { port: serve.awsPort ?? AWS_PORT },
    serve: {
      ...serve,
      onStart: (s) => {
        writeFileSync(kubeconfig, s.adminKubeconfig(), { mode: 0o600 });
        console.log(`kubeconfig: ${kubeconfig}`);
        console.log(`AWS endpoint: ${s.awsServer!.url}`);
        console.log(
          `API server ${s.apiServer.url}, ${serve.speed}x real time; watch it with:\n` +
            `  kubectl --kubeconfig ${kubeconfig} get nodes -w\n` +
            `  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws --endpoint-url ${s.awsServer!.url} --region ${s.region.name} ` +
            `stepfunctions list-executions --state-machine-arn <arn>\n` +
            `  node-manager status --endpoint-url ${s.awsServer!.url} --region ${s.region.name} --kubeconfig ${kubeconfig}\n`,
        );
      },
    },
  });
  if (json) console.log(JSON.stringify(report, null, 2));
  else {
    printTimeline(runner.timeline, start);
    printSummary(report);
  }
  console.log(
    `\nthe scenario is over; the cluster goes on at ${serve.speed}x real time until Ctrl-C (kubeconfig: ${kubeconfig})`,
  );
  const ticker = setInterval(() => sim.advance(serve.speed / 10), 100);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  clearInterval(ticker);
  await sim.stop();
  return exitCode(report);
}

async function main(argv: string[]): Promise<number> {
  let file = join(__dirname, '..', 'examples', 'scenarios', 'kops-weekly.json');
  let json = false;
  let serve: { speed: number; port?: number; awsPort?: number } | undefined;
  const positive = (flag: string, v: string | undefined, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > max)
      throw new UsageError(`${flag}: a number above 0 and at most ${max}, got ${v ?? 'nothing'}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--json') json = true;
    else if (argv[i] === '--serve') serve = { ...(serve ?? {}), speed: serve?.speed ?? 1 };
    else if (argv[i] === '--speed') serve = { ...(serve ?? {}), speed: positive('--speed', argv[++i], 10_000) };
    else if (argv[i] === '--port')
      serve = { ...(serve ?? {}), speed: serve?.speed ?? 1, port: Math.floor(positive('--port', argv[++i], 65_535)) };
    else if (argv[i] === '--aws-port')
      serve = {
        ...(serve ?? {}),
        speed: serve?.speed ?? 1,
        awsPort: Math.floor(positive('--aws-port', argv[++i], 65_535)),
      };
    else if (argv[i] === '--scenario' && argv[i + 1]) file = resolve(argv[++i]);
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log(USAGE);
      return 0;
    } else {
      throw new UsageError(`unknown argument ${argv[i]}\n${USAGE}`);
    }
  }
  const scenario = parseScenario(JSON.parse(readFileSync(file, 'utf8')));
  if (serve) return serveScenario(scenario, serve, json);
  const { report, runner, start } = await runScenario(scenario);
  if (json) console.log(JSON.stringify(report, null, 2));
  else {
    printTimeline(runner.timeline, start);
    printSummary(report);
  }
  return exitCode(report);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof UsageError ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : e);
    process.exit(2);
  },
);
