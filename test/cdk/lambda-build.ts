import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { handlerConfig, parseDeploymentConfig } from '../../lib/deployment-config';
import { LAMBDA_ALIASES } from '../../lib/workflow';

const ROOT = join(__dirname, '..', '..');

/**
 * A function's bundle as NodejsFunction builds it in the stack (esbuild, CommonJS, minified,
 * node22, the SDK left to the runtime), with the kops example's handler configuration inlined.
 * Shared by the bundle test and `npm run bundle-size`.
 */
export function lambdaBuildOptions(workflow: string, outfile: string, entry = `${workflow}-handler.ts`): BuildOptions {
  // As the stack inlines it: validated, defaults applied.
  const config = handlerConfig(
    parseDeploymentConfig(JSON.parse(readFileSync(join(ROOT, 'examples', 'config', 'kops.json'), 'utf8'))),
    'from-environment',
  );
  return {
    entryPoints: [join(ROOT, 'lambdas', entry)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    external: ['@aws-sdk/*'],
    define: {
      'process.env.NODE_MANAGER_CONFIG': JSON.stringify(
        JSON.stringify({ ...config, cluster: { ...config.cluster, region: 'ap-northeast-1' } }),
      ),
    },
    alias: Object.fromEntries(Object.entries(LAMBDA_ALIASES).map(([from, to]) => [from, join(ROOT, to)])),
    outfile,
    logLevel: 'silent',
  };
}
