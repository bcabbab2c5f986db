import { build } from '/work/main/node_modules/esbuild';
import { lambdaBuildOptions } from '/work/main/test/cdk/lambda-build';
(async () => {
  const r = await build({ ...lambdaBuildOptions('refresh', '/tmp/meta-out.js'), metafile: true });
  const out = Object.values(r.metafile!.outputs)[0];
  const rows = Object.entries(out.inputs).map(([f, v]) => [f, v.bytesInOutput] as [string, number]);
  const byDir = new Map<string, number>();
  for (const [f, b] of rows) { const m = f.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)/); const k = m ? `${m[1]}/${m[2].split('/').slice(0, m[1].includes('client-node') ? 3 : 1).join('/')}` : f.split('/').slice(0,2).join('/'); byDir.set(k, (byDir.get(k) ?? 0) + b); }
  for (const [k, b] of [...byDir].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log((b / 1024).toFixed(0).padStart(6), 'KiB', k);
})();
