import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { exampleBuildOptions } from '../../bin/example-bundle';

const ROOT = join(__dirname, '..', '..');

/**
 * The Lambda bundles as NodejsFunction builds them (esbuild, CommonJS, minified, node22, the SDK
 * left to the runtime, the configuration inlined) load and answer: client-node is ESM-only and
 * must survive the conversion.
 */
const START = {
  step: 'validate',
  start: {
    input: { group: 'nope' },
    executionArn: 'arn:aws:states:ap-northeast-1:123456789012:execution:x:y',
    startTime: new Date().toISOString(),
    stateMachineArn: 'y',
  },
};
/**
 * What each bundle's handler answers to that input: refresh and replenish refuse it with a named
 * error; the interruption drain refuses it too, succeeding (a refusal is not an outage); the gate
 * starts nothing; the breaker notes nothing.
 */
const ANSWER: Record<string, [unknown, unknown]> = {
  refresh: [
    START,
    { error: { name: 'InvalidInput', message: '"group" must be one of "master", "nodes"; got "nope"' } },
  ],
  replenish: [
    START,
    { error: { name: 'InvalidInput', message: '"group" must be one of "master", "nodes"; got "nope"' } },
  ],
  interruption: [
    START,
    {
      act: false,
      refused: true,
      ignored: 'event.detail-type must be a non-empty string of at most 1600 characters; got null',
    },
  ],
  breaker: [
    { group: 'nope' },
    { noted: [], ignored: 'not a CloudWatch Alarm State Change event (no detail.alarmName or state.value)' },
  ],
  'interruption-gate': [
    { group: 'nope' },
    {
      dropped:
        'not a notice the workflow takes: event.detail-type must be a non-empty string of at most 1600 characters; got null',
    },
  ],
};

const ENTRY: Record<string, string> = { 'interruption-gate': 'interruption/gate.ts', breaker: 'operator/breaker.ts' };

describe.each(['refresh', 'replenish', 'interruption', 'interruption-gate', 'breaker'])(
  'the %s function bundle',
  (name) => {
    const out = join(mkdtempSync(join(tmpdir(), 'nm-bundle-')), 'index.js');

    beforeAll(() => {
      buildSync(exampleBuildOptions(ENTRY[name] ?? `${name}/handler.ts`, out));
    });

    it('loads, reads its inlined configuration, and answers bad input', () => {
      expect(statSync(out).size).toBeGreaterThan(ENTRY[name] ? 3_000 : 100_000);
      const [input] = ANSWER[name];
      const script = `require(${JSON.stringify(out)}).handler(${JSON.stringify(input)}).then((o) => console.log(JSON.stringify(o.did ? { act: o.act, refused: o.did.refused, ignored: o.did.ignored } : o)), (e) => console.log(JSON.stringify({ error: { name: e.name, message: e.message } })))`;
      const stdout = execFileSync(process.execPath, ['-e', script], {
        env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), NODE_MANAGER_LEASE_TABLE: 'leases' },
        encoding: 'utf8',
      });
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual(ANSWER[name][1]);
    });
  },
);
