import type { Workflow } from '../../lambdas/workflows';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface TimelineEntry {
  readonly at: number;
  readonly execution: string;
  readonly state: string;
  readonly outcome: 'ok' | 'error' | 'retry';
  readonly summary: unknown;
}

export interface ExecutionRecord {
  readonly workflow: Workflow;
  readonly name: string;
  readonly arn: string;
  readonly input: unknown;
  status: ExecutionStatus;
  error: string | null;
  cause: string | null;
  readonly startedAt: number;
  stoppedAt: number | null;
  transitions: number;
  /** Transitions by state name (the bench shows where they go). */
  readonly stateCounts: Record<string, number>;
  historyEvents: number;
  lambdaInvocations: number;
  lambdaBilledMs: number;
  readonly continuedAs: string[];
  output?: unknown;
  abort?: () => void;
  done: Promise<void>;
}

/** A step that crashes after doing its work (the Lambda runtime dies before it answers). */
export interface StepCrash {
  readonly state: string;
  times: number;
  readonly from: number;
}

/** A new execution's record: running, nothing counted yet. */
export function newRecord(workflow: Workflow, name: string, arn: string, input: unknown, now: number): ExecutionRecord {
  return {
    workflow,
    name,
    arn,
    input,
    status: 'RUNNING',
    error: null,
    cause: null,
    startedAt: now,
    stoppedAt: null,
    transitions: 0,
    stateCounts: {},
    historyEvents: 0,
    lambdaInvocations: 0,
    lambdaBilledMs: 0,
    continuedAs: [],
    done: Promise.resolve(),
  };
}
