import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runScenario, type Report } from '../../sim/scenario/run';
import { storyLines } from '../../sim/scenario/story';
import { workerScenario } from '../fixtures';

const ROOT = join(__dirname, '..', '..');

describe('the simulator tells its story', () => {
  let report: Report;
  beforeAll(async () => {
    ({ report } = await runScenario(
      workerScenario(
        'story',
        { perZone: 1, maxPerZone: 2, desiredReady: 3, surplus: 1 },
        {
          faults: [{ kind: 'spotInterruption', at: '40m', group: 'nodes', zone: 'ap-northeast-1a', count: 1 }],
          runs: [
            { at: '1m', workflow: 'refresh', input: { group: 'nodes' } },
            { every: '5m', at: '30m', workflow: 'replenish', input: { group: 'nodes' } },
          ],
          until: '3h',
        },
      ),
    ));
  });

  it('the report carries every step with its whole output, and the faults as they fired', () => {
    expect(report.faults).toEqual([
      { at: 2400, kind: 'spotInterruption', fault: expect.objectContaining({ zone: 'ap-northeast-1a', count: 1 }) },
    ]);
    const refreshSteps = report.timeline.filter((t) => t.execution === 'refresh-001');
    expect(refreshSteps[0]).toMatchObject({ at: 60, state: 'Validate input', outcome: 'ok' });
    expect(refreshSteps.at(-1)).toMatchObject({
      state: 'Release the lease',
      output: expect.objectContaining({ replaced: 3 }),
    });
  });

  it('prints faults where they fired, whole outputs, and folds idle passes with a count', () => {
    const lines = storyLines(report);
    expect(lines).toContainEqual(
      '00:40:00 ⚡ fault spotInterruption {"group":"nodes","zone":"ap-northeast-1a","count":1}',
    );
    const folds = lines.filter((l) => / … \d+ more replenish execution\(s\) doing what one shown above did/.test(l));
    expect(folds.length).toBeGreaterThan(0);
    const foldedCount = folds.reduce((n, l) => n + Number(/… (\d+) more/.exec(l)![1]), 0);
    const shown = new Set(lines.flatMap((l) => /^\S+ . (replenish-\d+)/.exec(l)?.[1] ?? []));
    // Every replenish pass is either shown or counted in a fold.
    expect(shown.size + foldedCount).toBe(report.executions.filter((e) => e.workflow === 'replenish').length);
    // No output is cut: the longest line holds a whole JSON output.
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a));
    expect(() => JSON.parse(longest.slice(longest.indexOf('  {') + 2))).not.toThrow();
  });

  it('`npm run -s simulate -- --json` writes the whole report to a pipe (past 64 KB)', async () => {
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', 'bin/simulate.ts', '--scenario', 'examples/scenarios/spot-outage-replenish.json', '--json'],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
    ).catch((e: { stdout: string }) => e);
    expect(stdout.length).toBeGreaterThan(65_536);
    const r = JSON.parse(stdout) as Report;
    expect(r.timeline.length).toBeGreaterThan(100);
  });
});
