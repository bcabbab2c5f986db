import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, type ExecutionStatus } from '@aws-sdk/client-sfn';
import { ResourceNotFoundError } from '../core';
import { call } from './errors';

export interface ExecutionInfo {
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  readonly startDate: number;
  readonly stopDate?: number;
}

export class StepFunctionsPort {
  constructor(private readonly client: SFNClient) {}

  /** The execution, or undefined when Step Functions no longer knows it (expired from history, or never existed). */
  async describeExecution(executionArn: string): Promise<ExecutionInfo | undefined> {
    try {
      const e = await call('DescribeExecution', () => this.client.send(new DescribeExecutionCommand({ executionArn })));
      return { executionArn, status: e.status ?? 'RUNNING', startDate: e.startDate?.getTime() ?? 0, stopDate: e.stopDate?.getTime() };
    } catch (e) {
      if (e instanceof ResourceNotFoundError) return undefined;
      throw e;
    }
  }

  async listExecutions(stateMachineArn: string, statusFilter?: ExecutionStatus): Promise<ExecutionInfo[]> {
    const out: ExecutionInfo[] = [];
    let nextToken: string | undefined;
    do {
      const page = await call('ListExecutions', () =>
        this.client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter, maxResults: 100, nextToken })),
      );
      for (const e of page.executions ?? []) {
        out.push({ executionArn: e.executionArn ?? '', status: e.status ?? 'RUNNING', startDate: e.startDate?.getTime() ?? 0, stopDate: e.stopDate?.getTime() });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }
}
