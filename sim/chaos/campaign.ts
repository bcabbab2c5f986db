import { parseScenario, runScenario } from '../scenario/run';
import { checkInvariants, type Break } from './invariants';

/**
 * The randomized fault campaign: generated scenarios (arbitrary.ts) run through the real ASL and
 * handlers, and checked against the invariants (invariants.ts). `npm run chaos` runs many; a
 * fixed-seed slice runs in `npm test`.
 */
export { scenarioArbitrary } from './arbitrary';
export { checkInvariants, NAMED_ERRORS, type Break } from './invariants';

export interface ChaosOutcome {
  readonly scenario: Record<string, unknown>;
  readonly breaks: readonly Break[];
  readonly realMs: number;
}

/** Runs one generated scenario through the real ASL and handlers and checks it. */
export async function runChaos(raw: Record<string, unknown>): Promise<ChaosOutcome> {
  const t0 = performance.now();
  const s = parseScenario(raw);
  const { report } = await runScenario(s);
  return { scenario: raw, breaks: checkInvariants(s, report), realMs: performance.now() - t0 };
}
