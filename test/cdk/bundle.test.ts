import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = join(__dirname, '..', '..');

/**
 * The Lambda bundles as NodejsFunction builds them (esbuild, CommonJS, minified, node22, the SDK
 * left to the runtime, the configuration inlined) load and answer: client-node is ESM-only and
 * must survive the conversion.
 */
const BAD_INPUT: Record<string, string> = {
  refresh: '"group" must be one of "master", "nodes"; got "nope"',
  replenish: '"group" must be one of "master", "nodes"; got "nope"',
  interruption: 'event.detail-type must be a non-empty string of at most 1600 characters; got null',
};

describe.each(['refresh', 'replenish', 'interruption'])('the %s function bundle', (name) => {
  const out = join(mkdtempSync(join(tmpdir(), 'nm-bundle-')), 'index.js');
  const config = JSON.parse(readFileSync(join(ROOT, 'examples', 'config', 'kops.json'), 'utf8'));
  const handlerConfig = { cluster: config.cluster, leaseTable: 'from-environment', groups: config.groups.map(({ refreshSchedule: _r, replenishEverySeconds: _e, ...g }: Record<string, unknown>) => g) };

  beforeAll(() => {
    buildSync({
      entryPoints: [join(ROOT, 'lambdas', `${name}-handler.ts`)],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      minify: true,
      external: ['@aws-sdk/*'],
      define: { 'process.env.NODE_MANAGER_CONFIG': JSON.stringify(JSON.stringify(handlerConfig)) },
      outfile: out,
      logLevel: 'silent',
    });
  });

  it('loads, reads its inlined configuration, and reports a named error for bad input', () => {
    expect(statSync(out).size).toBeGreaterThan(100_000);
    const script = `require(${JSON.stringify(out)}).handler({ step: 'validate', start: { input: { group: 'nope' }, executionArn: 'x', startTime: new Date().toISOString(), stateMachineArn: 'y' } }).then(() => console.log('{"name":"none"}'), (e) => console.log(JSON.stringify({ name: e.name, message: e.message })))`;
    const stdout = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), NODE_MANAGER_LEASE_TABLE: 'leases' }, encoding: 'utf8' });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ name: 'InvalidInput', message: BAD_INPUT[name] });
  });
});
