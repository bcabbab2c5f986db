import { readFileSync, writeFileSync } from "node:fs";
import { parseScenario, runScenario } from '../test/sim/scenario';
import { checkInvariants } from '../test/sim/chaos';
import { offlineEnvironment } from '../test/sim/offline';
offlineEnvironment();
(async () => {
  const raw = JSON.parse(readFileSync(process.argv[2], 'utf8'));

  const s = parseScenario(raw);
  const { report, runner } = await runScenario(s);
  const out: string[] = [];
  out.push(JSON.stringify(checkInvariants(s, report), null, 1).slice(0, 3000));
  out.push(report.executions.map((e) => `${e.name} ${e.status} ${e.error ?? ''} ${(e.cause ?? '').slice(0, 300)}`).join('\n'));
  if (process.argv[3]) for (const t of runner.timeline.filter((t) => t.execution === process.argv[3])) out.push([(t.at - Date.parse(report.startedAt)) / 1000, t.state, t.outcome, JSON.stringify(t.summary).slice(0, 400)].join(" "));
  writeFileSync("/tmp/check-out.txt", out.join("\n"));
  process.exit(0);
})();
