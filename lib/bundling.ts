import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import type { Config } from '../lambdas/config';

const ROOT = join(__dirname, '..');

/**
 * Packages the functions' bundles replace with a smaller stand-in (see each stand-in for why it is
 * safe): whatwg-url, which node-fetch loads and never uses on Node, and its Unicode tables.
 */
export const LAMBDA_ALIASES: Readonly<Record<string, string>> = { 'whatwg-url': './lambdas/shims/whatwg-url.ts' };

/** How every function is bundled: CommonJS, minified, for the Node 22 syntax level; the SDK comes with the runtime. */
export const BUNDLE = { minify: true, target: 'node22', format: 'cjs', external: ['@aws-sdk/*'] } as const;

/**
 * The configuration inlined into a bundle (esbuild `define`): validated, defaults applied, with the
 * stack's region. No 4 KB environment ceiling, and no read at cold start.
 */
export function inlinedConfigDefine(config: Config, region: string): Record<string, string> {
  return {
    'process.env.NODE_MANAGER_CONFIG': JSON.stringify(
      JSON.stringify({ ...config, cluster: { ...config.cluster, region } }),
    ),
  };
}

/**
 * A function's bundle as NodejsFunction builds it in the stack, for esbuild run directly (the
 * bundle test, `npm run bundle-size`). `entry` is relative to `lambdas/`.
 */
export function buildOptions(entry: string, outfile: string, config: Config, region: string): BuildOptions {
  return {
    entryPoints: [join(ROOT, 'lambdas', entry)],
    bundle: true,
    platform: 'node',
    ...BUNDLE,
    external: [...BUNDLE.external],
    define: inlinedConfigDefine(config, region),
    alias: Object.fromEntries(Object.entries(LAMBDA_ALIASES).map(([from, to]) => [from, join(ROOT, to)])),
    outfile,
    logLevel: 'silent',
  };
}
