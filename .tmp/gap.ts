import { readFileSync, writeFileSync } from 'node:fs';
import { parseScenario, runScenario } from '../test/sim/scenario';
import { offlineEnvironment } from '../test/sim/offline';
offlineEnvironment();
(async () => {
  const s = parseScenario(JSON.parse(readFileSync('examples/scenarios/kops-weekly.json', 'utf8')));
  const { report, runner } = await runScenario({ ...s, workloads: [{ ...s.workloads[0], replicas: 12 }] });
  const out = report.audit.filter((a) => a.operation === 'create pods/eviction').map((a) => `${a.at} ${a.outcome} ${a.target}`);
  out.push(...runner.timeline.filter((t) => t.state === 'Replace oldest nodes').map((t) => `${(t.at - Date.parse(report.startedAt)) / 1000} ${JSON.stringify(t.summary).slice(0, 300)}`));
  writeFileSync('/tmp/gap-out.txt', out.join('\n'));
  process.exit(0);
})();
