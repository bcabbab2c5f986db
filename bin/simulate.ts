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
import type { WorkflowRunner } from '../sim/workflows/runner';
import type { Simulator } from '../sim/simulator';
import { hms, stepLine, storyLines } from '../sim/scenario/story';
import { timelineHtml, timelineSvg } from '../sim/scenario/picture';
import { offlineEnvironment } from '../sim/offline';

offlineEnvironment();

const USAGE =
  'usage: npm run simulate -- [--scenario <file.json>] [--json] [--timeline <out.svg|out.html>] ' +
  '[--serve [--speed N] [--port P] [--aws-port P]]';

/** The simulated AWS endpoint's port under `--serve` unless told (the README's commands name it). */
const AWS_PORT = 4566;

/** A long report must reach a pipe whole before the process exits (`| jq`). */
function write(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(`${text}\n`, () => resolve()));
}

/**
 * Progress on stderr while a long run goes (every few seconds of real time): simulated time,
 * executions done and running, and what each running one is doing.
 */
function progress(sim: Simulator, runner: WorkflowRunner, start: number, until: number): () => void {
  const timer = setInterval(() => {
    const running = runner.executions.filter((e) => e.status === 'RUNNING');
    const lastStep = (name: string) =>
      [...runner.timeline].reverse().find((t) => t.execution === name)?.state ?? 'starting';
    process.stderr.write(
      `simulate: ${hms((sim.now() - start) / 1000)} of ${hms(until)} simulated; ` +
        `${runner.executions.length - running.length} execution(s) ended, ${running.length} running` +
        `${running.length ? `: ${running.map((e) => `${e.name} (${lastStep(e.name)})`).join(', ')}` : ''}\n`,
    );
  }, 5000);
  timer.unref();
  return () => clearInterval(timer);
}

function printSummary(r: Report): void {
  console.log(`\n== ${r.scenario}`);
  for (const e of r.executions) {
    console.log(
      `${e.name}: ${e.status}${e.error ? ` ${e.error}: ${e.cause ?? ''}` : ''} — ${hms(e.startedAt)} ` +
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
  drawn: (report: Report) => void,
): Promise<number> {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'node-manager-sim-')), 'kubeconfig');
  // Each step as it happens (to stderr with --json, whose stdout is the report alone).
  const say = (line: string) => (json ? process.stderr.write(`${line}\n`) : console.log(line));
  let live: NodeJS.Timeout | undefined;
  const { report, sim } = await runScenario(scenario, {
    aws: { port: serve.awsPort ?? AWS_PORT },
    onReady: (s, runner) => {
      const start = s.now();
      let shown = 0;
      live = setInterval(() => {
        for (const t of runner.timeline.slice(shown))
          say(stepLine({ ...t, at: (t.at - start) / 1000, output: t.summary }));
        shown = runner.timeline.length;
      }, 200);
    },
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
  clearInterval(live);
  drawn(report);
  if (json) await write(JSON.stringify(report, null, 2));
  else printSummary(report);
  say(
    `\nthe scenario is over; the cluster goes on at ${serve.speed}x real time until Ctrl-C (kubeconfig: ${kubeconfig})`,
  );
  const ticker = setInterval(() => sim.advance(serve.speed / 10), 100);
  // Ctrl-C, or a supervisor's SIGTERM: the servers close and the ports are free again.
  await new Promise<void>((resolve) => ['SIGINT', 'SIGTERM'].forEach((s) => process.once(s, () => resolve())));
  clearInterval(ticker);
  await sim.stop();
  return exitCode(report);
}

async function main(argv: string[]): Promise<number> {
  let file = join(__dirname, '..', 'examples', 'scenarios', 'kops-weekly.json');
  let json = false;
  let picture: string | undefined;
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
    else if (argv[i] === '--timeline') {
      const out = argv[++i];
      if (!out || !/\.(svg|html)$/.test(out))
        throw new UsageError(`--timeline takes a file ending in .svg or .html (got ${out ?? 'nothing'})\n${USAGE}`);
      picture = resolve(out);
    } else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log(USAGE);
      return 0;
    } else {
      throw new UsageError(`unknown argument ${argv[i]}\n${USAGE}`);
    }
  }
  const scenario = parseScenario(JSON.parse(readFileSync(file, 'utf8')));
  const drawn = (report: Report) => {
    if (!picture) return;
    writeFileSync(picture, picture.endsWith('.html') ? timelineHtml(report) : timelineSvg(report));
    process.stderr.write(`timeline: ${picture}\n`);
  };
  if (serve) return serveScenario(scenario, serve, json, drawn);
  let stopProgress = () => undefined as void;
  const { report } = await runScenario(scenario, {
    onReady: (sim, runner) => {
      stopProgress = progress(sim, runner, sim.now(), scenario.until);
    },
  });
  stopProgress();
  drawn(report);
  if (json) await write(JSON.stringify(report, null, 2));
  else {
    await write(storyLines(report).join('\n'));
    printSummary(report);
  }
  return exitCode(report);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(
      e instanceof UsageError
        ? e.message
        : e instanceof Error
          ? `${e.name}: ${e.message}${/choose another port/.test(e.message) ? ' (--aws-port P, --port P)' : ''}`
          : e,
    );
    process.exit(2);
  },
);
