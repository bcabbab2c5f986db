import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { buildOptions } from '../lib/bundling';
import { handlerConfig, parseDeploymentConfig } from '../lib/config/deployment';

const ROOT = join(__dirname, '..');

/**
 * A function's bundle as the stack builds it, with the kops example's handler configuration
 * inlined (validated, defaults applied). Read by `npm run bundle-size` and the bundle test.
 */
export function exampleBuildOptions(entry: string, outfile: string): BuildOptions {
  const config = handlerConfig(
    parseDeploymentConfig(JSON.parse(readFileSync(join(ROOT, 'examples', 'config', 'kops.json'), 'utf8'))),
    'from-environment',
  );
  return buildOptions(entry, outfile, config, 'ap-northeast-1');
}
