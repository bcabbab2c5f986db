import { readFileSync, writeFileSync } from 'node:fs';
import { runChaos } from '../test/sim/chaos';
import { offlineEnvironment } from '../test/sim/offline';
offlineEnvironment();
(async () => {
  const raw = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const out = await runChaos(raw);
  writeFileSync('/tmp/replay-out.txt', JSON.stringify(out, (k, v) => (k === 'report' ? undefined : v), 1).slice(0, 5000));
  process.exit(0);
})();
