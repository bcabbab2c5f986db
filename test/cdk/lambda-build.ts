import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';

const ROOT = join(__dirname, '..', '..');

/**
 * A function's bundle as NodejsFunction builds it in the stack (esbuild, CommonJS, minified,
 * node22, the SDK left to the runtime), with the kops example's handler configuration inlined.
 * Shared by the bundle test and `npm run bundle-size`.
 */
export function lambdaBuildOptions(workflow: string, outfile: string): BuildOptions {
  const config = JSON.parse(readFileSync(join(ROOT, 'examples', 'config', 'kops.json'), 'utf8')) as { cluster: unknown; groups: Array<Record<string, unknown>> };
  const handlerConfig = { cluster: config.cluster, leaseTable: 'from-environment', groups: config.groups.map(({ refreshSchedule: _r, replenishEverySeconds: _e, ...g }) => g) };
  return {
    entryPoints: [join(ROOT, 'lambdas', `${workflow}-handler.ts`)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    external: ['@aws-sdk/*'],
    define: { 'process.env.NODE_MANAGER_CONFIG': JSON.stringify(JSON.stringify(handlerConfig)) },
    outfile,
    logLevel: 'silent',
  };
}
