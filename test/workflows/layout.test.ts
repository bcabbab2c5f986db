import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as errors from '../../lambdas/core/errors';
import { NodeManagerError } from '../../lambdas/core/errors';
import { filesOf, WORKFLOWS } from '../../lambdas/workflows';

const ROOT = join(__dirname, '..', '..');

interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: { step?: string };
  Retry?: Array<{ ErrorEquals: string[] }>;
}
const states = (w: (typeof WORKFLOWS)[number]): Array<[string, AslState]> =>
  Object.entries(
    (JSON.parse(readFileSync(join(ROOT, filesOf(w).asl), 'utf8')) as { States: Record<string, AslState> }).States,
  );
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

describe('the layout a reader navigates by', () => {
  it.each(WORKFLOWS)(
    "finds each %s Task's code in one hop: lambdas/<workflow>/<step>.ts exports the step",
    async (w) => {
      const { handler: _h, ...handler } = await import(join(ROOT, filesOf(w).entry));
      expect(_h).toBeInstanceOf(Function);
      expect(handler.dispatch).toBeInstanceOf(Function);
      for (const [name, s] of states(w)) {
        const step = s.Parameters?.step;
        if (s.Type !== 'Task' || !step) continue;
        const file = join(ROOT, 'lambdas', w, `${kebab(step)}.ts`);
        expect({ task: name, file: existsSync(file) }).toEqual({ task: name, file: true });
        const mod = (await import(file)) as Record<string, unknown>;
        expect({ task: name, exports: typeof mod[step] }).toEqual({ task: name, exports: 'function' });
      }
    },
  );
});

/**
 * `retryable` says which errors the same call may get past later: every Lambda Task retries
 * exactly those (beside Lambda's own transient errors), and nothing else, so adding a retryable
 * error without its Retry entry (or the reverse) fails here.
 */
describe('the ASL Retry lists', () => {
  const named = Object.values(errors)
    .filter(
      (c): c is new (...a: string[]) => NodeManagerError =>
        typeof c === 'function' && c.prototype instanceof NodeManagerError,
    )
    .map((C) => new C('a', 'b', 'c'));
  const retryable = named.filter((e) => e.retryable).map((e) => e.name);
  // Retried where they can happen, not at every Task.
  const WHERE: Record<string, string> = {
    ReplenishRunning: 'a refresh taking the lease waits for a replenish to finish',
    EvictionBlocked: 'a refused eviction is the drain loop’s own business: it never leaves a step',
  };

  it('name the retryable errors and only those', () => {
    expect(retryable.sort()).toEqual(
      [
        'AwsThrottled',
        'AwsUnavailable',
        'EvictionBlocked',
        'KubeConflict',
        'KubeThrottled',
        'KubeUnavailable',
        'ReplenishRunning',
      ].sort(),
    );
    for (const w of WORKFLOWS)
      for (const [name, s] of states(w)) {
        if (s.Type !== 'Task') continue;
        const listed = (s.Retry ?? [])
          .flatMap((r) => r.ErrorEquals)
          .filter((n) => !/^(Lambda|States|Runtime)\./.test(n));
        const everywhere = retryable.filter((n) => !(n in WHERE));
        expect({ task: `${w}: ${name}`, missing: everywhere.filter((n) => !listed.includes(n)) }).toEqual({
          task: `${w}: ${name}`,
          missing: [],
        });
        expect({ task: `${w}: ${name}`, notRetryable: listed.filter((n) => !retryable.includes(n)) }).toEqual({
          task: `${w}: ${name}`,
          notRetryable: [],
        });
      }
  });

  it('retry ReplenishRunning where the refresh takes the lease', () => {
    const take = states('refresh').find(([, s]) => s.Parameters?.step === 'takeLease')![1];
    expect(take.Retry?.[0].ErrorEquals).toEqual(['ReplenishRunning']);
  });
});
