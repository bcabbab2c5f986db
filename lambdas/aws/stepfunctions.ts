import type { ExecutionStatus, SFNClient } from '@aws-sdk/client-sfn';
import { ResourceNotFoundError } from '../core';
import { call } from './errors';
import { lazyClient, sdk, type ClientSource } from './lazy';

export interface ExecutionInfo {
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  readonly startDate: number;
  readonly stopDate?: number;
}

export class StepFunctionsPort {
  private readonly clientOf: () => SFNClient;

  constructor(source: ClientSource<SFNClient>) {
    this.clientOf = lazyClient(source);
  }

  private get client(): SFNClient {
    return this.clientOf();
  }

  /** The execution, or undefined when Step Functions no longer knows it (expired from history, or never existed). */
  async describeExecution(executionArn: string): Promise<ExecutionInfo | undefined> {
    try {
      const { DescribeExecutionCommand } = sdk.sfn();
      const e = await call('DescribeExecution', () => this.client.send(new DescribeExecutionCommand({ executionArn })));
      return {
        executionArn,
        status: e.status ?? 'RUNNING',
        startDate: e.startDate?.getTime() ?? 0,
        stopDate: e.stopDate?.getTime(),
      };
    } catch (e) {
      if (e instanceof ResourceNotFoundError) return undefined;
      throw e;
    }
  }

  /**
   * Starts an execution named `name`. Step Functions keeps a Standard execution's name for 90 days:
   * the same name again (a redelivered event) starts nothing, and says so (`started: false`).
   */
  async startExecution(
    stateMachineArn: string,
    name: string,
    input: string,
  ): Promise<{ readonly executionArn?: string; readonly started: boolean }> {
    let alreadyExists: (new (...args: never[]) => Error) | undefined;
    try {
      const { StartExecutionCommand, ExecutionAlreadyExists } = sdk.sfn();
      alreadyExists = ExecutionAlreadyExists;
      const out = await call('StartExecution', () =>
        this.client.send(new StartExecutionCommand({ stateMachineArn, name, input })),
      );
      return { executionArn: out.executionArn, started: true };
    } catch (e) {
      if (alreadyExists && e instanceof alreadyExists) return { started: false };
      throw e;
    }
  }
}
