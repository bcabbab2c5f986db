export interface SimExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  readonly startDate: number;
  stopDate?: number;
  readonly input: string;
  /** The final output (JSON), once SUCCEEDED. */
  output?: string;
  error?: string;
  cause?: string;
  /** Each Task's attempts as the history shows them: entered, then succeeded (its output) or failed. */
  readonly steps: SimStep[];
}

export interface SimStep {
  readonly at: number;
  readonly state: string;
  readonly outcome: 'ok' | 'retry' | 'error';
  /** The Task's output (JSON) when it succeeded; `Error: message` when it failed. */
  readonly result: string;
}

/** Step Functions' executions as the simulator keeps them: what DescribeExecution and StartExecution read and write. */
export class StepFunctionsModel {
  readonly executions = new Map<string, SimExecution>();
  /** The state machines StartExecution may name (the runner registers its workflows). */
  readonly stateMachines = new Set<string>();
  /** When each state machine was created (DescribeStateMachine, ListStateMachines). */
  readonly createdAt: number;
  /** How StartExecution starts an execution (the runner's): set once the runner is built. */
  onStart?: (stateMachineArn: string, name: string, input: unknown) => SimExecution;
  /** How StopExecution stops one (the runner's). */
  onStop?: (executionArn: string, error?: string, cause?: string) => void;
  /** Each state machine's definition (ASL JSON), for DescribeStateMachine. */
  definitionOf?: (stateMachineArn: string) => string;

  constructor(private readonly now: () => number) {
    this.createdAt = now();
  }

  /** Records a new execution (the runner runs it). */
  start(stateMachineArn: string, name: string, input: unknown = {}): SimExecution {
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const e: SimExecution = {
      executionArn,
      stateMachineArn,
      name,
      status: 'RUNNING',
      startDate: this.now(),
      input: JSON.stringify(input),
      steps: [],
    };
    this.executions.set(executionArn, e);
    return e;
  }

  /** A Task's attempt ended (the history's TaskStateEntered … TaskSucceeded/TaskFailed). */
  noteStep(executionArn: string, step: Omit<SimStep, 'at'>): void {
    this.executions.get(executionArn)?.steps.push({ at: this.now(), ...step });
  }

  stop(
    executionArn: string,
    status: SimExecution['status'] = 'ABORTED',
    end: { output?: unknown; error?: string | null; cause?: string | null } = {},
  ): void {
    const e = this.executions.get(executionArn);
    if (!e) throw new Error(`no execution ${executionArn}`);
    e.status = status;
    e.stopDate = this.now();
    if (end.output !== undefined) e.output = JSON.stringify(end.output);
    if (end.error) e.error = end.error;
    if (end.cause) e.cause = end.cause;
  }
}
