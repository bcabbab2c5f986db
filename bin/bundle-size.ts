/**
 * `npm run bundle-size`: builds each Lambda function as the stack does (esbuild, CommonJS,
 * minified, node22, the AWS SDK left to the runtime, the kops example configuration inlined) and
 * prints its size, the inputs that weigh most (from the esbuild metafile), and its cold init: the
 * time a fresh Node process takes to load it. Figures only, never a verdict.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import { exampleBuildOptions } from './example-bundle';

const ROOT = join(__dirname, '..');
/** Each function and its entry: the three workflows, and the gate in front of the interruption drain. */
const FUNCTIONS = [
  ['refresh', 'refresh/handler.ts'],
  ['replenish', 'replenish/handler.ts'],
  ['interruption', 'interruption/handler.ts'],
  ['gate', 'interruption/gate.ts'],
] as const;

/** The package (or our own top folder) an input file belongs to. */
function owner(path: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return m ? m[1] : path.split('/')[0];
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'nm-bundles-'));
  for (const [name, entry] of FUNCTIONS) {
    const out = join(dir, `${name}.js`);
    const result = buildSync({ ...exampleBuildOptions(entry, out), metafile: true });
    const meta = result.metafile as Metafile;
    const bytes = new Map<string, number>();
    for (const [path, info] of Object.entries(
      meta.outputs[Object.keys(meta.outputs).find((k) => k.endsWith('.js'))!].inputs,
    ))
      bytes.set(owner(path), (bytes.get(owner(path)) ?? 0) + info.bytesInOutput);
    const size = statSync(out).size;
    const top = [...bytes]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([k, v]) => `${k} ${((100 * v) / size).toFixed(0)}%`);
    // Cold init: a fresh process loads the bundle (the SDK from node_modules, as the runtime provides it).
    const script = `const t=process.hrtime.bigint();require(${JSON.stringify(out)});console.log(Number(process.hrtime.bigint()-t)/1e6)`;
    const runs = [0, 1, 2].map(() =>
      Number(
        execFileSync(process.execPath, ['-e', script], {
          env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), NODE_MANAGER_LEASE_TABLE: 'leases' },
          encoding: 'utf8',
        }).trim(),
      ),
    );
    console.log(
      `${name.padEnd(12)} ${(size / 1024 / 1024).toFixed(2)} MiB minified; cold init ` +
        `${Math.min(...runs).toFixed(0)} ms (best of 3); ${top.join(', ')}`,
    );
  }
}

main();
