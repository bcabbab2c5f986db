import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidScenarioError, parseScenario, scenarioJsonSchema } from '../../sim/scenario/run';

const DIR = join(__dirname, '..', '..', 'examples', 'scenarios');

describe('scenario format', () => {
  it('the committed JSON Schema is the parser’s own (run `npm run scenario-schema` after changing it)', () => {
    expect(JSON.parse(readFileSync(join(DIR, 'scenario.schema.json'), 'utf8'))).toEqual(
      JSON.parse(JSON.stringify(scenarioJsonSchema())),
    );
  });

  it.each(readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'scenario.schema.json'))(
    'shipped scenario %s parses',
    (file) => {
      expect(() => parseScenario(JSON.parse(readFileSync(join(DIR, file), 'utf8')))).not.toThrow();
    },
  );

  it('accepts the format as the issue wrote it, durations included', () => {
    const s = parseScenario({
      name: 'kops-weekly',
      region: 'ap-northeast-1',
      cluster: { name: 'example.k8s.local', kind: 'kops' },
      timing: { bootSeconds: 90, joinSeconds: 60 },
      groups: [
        {
          name: 'nodes',
          role: 'worker',
          zones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
          perZone: 1,
          maxPerZone: 1,
          desiredReady: 3,
          surplus: 1,
          instanceAgeDays: 10,
          drainTimeoutSeconds: 600,
          joinTimeoutSeconds: 900,
        },
      ],
      workloads: [{ name: 'web', namespace: 'default', group: 'nodes', replicas: 4, pdb: { maxUnavailable: 1 } }],
      faults: [
        { at: '30m', kind: 'zoneOutage', zone: 'ap-northeast-1a', for: '2h' },
        { at: '0s', kind: 'neverJoin', group: 'nodes', zone: 'ap-northeast-1c', count: 1 },
        { at: '0s', kind: 'throttle', operation: 'DescribeAutoScalingGroups', rate: 0.2 },
        { at: '0s', kind: 'stepCrash', state: 'Replace oldest nodes', times: 1 },
        { at: '10m', kind: 'pdbBlock', workload: 'web', for: '20m' },
      ],
      runs: [{ at: '0s', workflow: 'refresh', input: { group: 'nodes' } }],
      until: '6h',
    });
    expect(s.until).toBe(21_600);
    expect(s.faults[0]).toEqual({ at: 1800, kind: 'zoneOutage', zone: 'ap-northeast-1a', for: 7200 });
    expect(s.timing.shutdownSeconds).toBe(30);
  });

  it('says which field is wrong and what is allowed', () => {
    expect(() =>
      parseScenario({ name: 'x', cluster: { name: 'c', kind: 'gke' }, groups: [], runs: [], until: '6 hours' }),
    ).toThrow(InvalidScenarioError);
    const bad = () =>
      parseScenario({
        name: 'x',
        cluster: { name: 'c', kind: 'kops' },
        groups: [{ name: 'nodes', role: 'worker', zones: ['ap-northeast-1a'], perZone: 1, desiredReady: 1 }],
        workloads: [{ name: 'w', group: 'other', replicas: 1 }],
        runs: [{ workflow: 'refresh', input: {} }],
        until: '6 hours',
      });
    expect(bad).toThrow('until: a duration such as "90s", "30m", "6h" or "1d"');
    expect(bad).toThrow('workloads.0.group: unknown group other; groups: nodes');
  });
});
