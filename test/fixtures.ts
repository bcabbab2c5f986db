import { parseScenario, type Scenario } from '../sim/scenario/run';

/** The three zones most scenario tests spread a group over. */
export const ZONES = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];

/**
 * A kops cluster on the simulator with the quick timing most scenario tests use (90 s boots, 60 s
 * joins) and one Spot worker group `nodes` across three zones; the group's fields and the rest of
 * the scenario (workloads, faults, runs, until) are the test's.
 */
export function workerScenario(
  name: string,
  group: Readonly<Record<string, unknown>>,
  rest: Readonly<Record<string, unknown>>,
): Scenario {
  return parseScenario({
    name,
    cluster: { name: 'example.k8s.local', kind: 'kops' },
    timing: { bootSeconds: 90, joinSeconds: 60 },
    groups: [{ name: 'nodes', role: 'worker', zones: ZONES, ...group }],
    ...rest,
  });
}
