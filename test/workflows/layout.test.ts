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
  type Concrete = new (...args: string[]) => NodeManagerError;
  const named = Object.values(errors).flatMap((c) =>
    typeof c === 'function' && c.prototype instanceof NodeManagerError
      ? [new (c as unknown as Concrete)('a', 'b', 'c')]
      : [],
  );
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

/** The house rules of DESIGN.md, checked as the code grows. */
describe('the house rules', () => {
  const { readdirSync, statSync } = jest.requireActual<typeof import('node:fs')>('node:fs');
  const { dirname, relative, resolve } = jest.requireActual<typeof import('node:path')>('node:path');
  const FLOORS = ['lambdas', 'lib', 'sim', 'cli', 'bin'];
  const files = (dir: string): string[] =>
    readdirSync(join(ROOT, dir)).flatMap((f) => {
      const p = join(dir, f);
      return statSync(join(ROOT, p)).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });
  const product = FLOORS.flatMap(files);
  const importsOf = (file: string): string[] =>
    [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^(?:import|export)[^;]*?from '(\.[^']+)'/gms)].map((m) => {
      const target = relative(ROOT, resolve(ROOT, dirname(file), m[1]));
      return existsSync(join(ROOT, `${target}.ts`)) ? `${target}.ts` : `${target}/index.ts`;
    });
  const graph = new Map(product.map((f) => [f, importsOf(f)]));

  it('keep lambdas/ to at most 10 files at its top, and every product file to 400 lines', () => {
    expect(readdirSync(join(ROOT, 'lambdas')).filter((f) => f.endsWith('.ts')).length).toBeLessThanOrEqual(10);
    const long = product.filter((f) => readFileSync(join(ROOT, f), 'utf8').split('\n').length > 401);
    expect(long).toEqual([]);
  });

  it('import nothing from test/, nothing from a higher floor, and core nothing of ours outside it', () => {
    const floor = (f: string) => FLOORS.indexOf(f.split('/')[0]);
    const wrong = [...graph].flatMap(([f, deps]) =>
      deps
        .filter(
          (d) =>
            d.startsWith('test/') ||
            floor(d) > floor(f) ||
            (f.startsWith('lambdas/core/') && !d.startsWith('lambdas/core/')),
        )
        .map((d) => `${f} -> ${d}`),
    );
    expect(wrong).toEqual([]);
  });

  it('have no import circle', () => {
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        circles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(circles).toEqual([]);
  });
});
