export interface SimExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  readonly startDate: number;
  stopDate?: number;
  readonly input: string;
}

/** Step Functions' executions as the simulator keeps them: what DescribeExecution and StartExecution read and write. */
export class StepFunctionsModel {
  readonly executions = new Map<string, SimExecution>();
  /** The state machines StartExecution may name (the runner registers its workflows). */
  readonly stateMachines = new Set<string>();
  /** How StartExecution starts an execution (the runner's): set once the runner is built. */
  onStart?: (stateMachineArn: string, name: string, input: unknown) => SimExecution;

  constructor(private readonly now: () => number) {}

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
    };
    this.executions.set(executionArn, e);
    return e;
  }

  stop(executionArn: string, status: SimExecution['status'] = 'ABORTED'): void {
    const e = this.executions.get(executionArn);
    if (!e) throw new Error(`no execution ${executionArn}`);
    e.status = status;
    e.stopDate = this.now();
  }
}
