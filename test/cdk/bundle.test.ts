import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { lambdaBuildOptions } from './lambda-build';

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

  beforeAll(() => {
    buildSync(lambdaBuildOptions(name, out));
  });

  it('loads, reads its inlined configuration, and reports a named error for bad input', () => {
    expect(statSync(out).size).toBeGreaterThan(100_000);
    const script = `require(${JSON.stringify(out)}).handler({ step: 'validate', start: { input: { group: 'nope' }, executionArn: 'x', startTime: new Date().toISOString(), stateMachineArn: 'y' } }).then(() => console.log('{"name":"none"}'), (e) => console.log(JSON.stringify({ name: e.name, message: e.message })))`;
    const stdout = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), NODE_MANAGER_LEASE_TABLE: 'leases' }, encoding: 'utf8' });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ name: 'InvalidInput', message: BAD_INPUT[name] });
  });
});
