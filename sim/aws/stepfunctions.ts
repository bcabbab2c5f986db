import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidName,
  ListExecutionsCommand,
  SFNServiceException,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { meta, operation, page, type AwsHost, type Operation } from './common';

/** Step Functions as node-manager calls it: start by name (90 days of names), describe, list. */
export function stepFunctionsOperations(host: AwsHost): Operation[] {
  return [
    operation('DescribeExecution', DescribeExecutionCommand, (input) => {
      const e = input.executionArn ? host.stepFunctions.executions.get(input.executionArn) : undefined;
      if (!e)
        throw new ExecutionDoesNotExist({
          message: `Execution Does Not Exist: '${input.executionArn}'`,
          $metadata: meta(400),
        });
      return {
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: new Date(e.startDate),
        stopDate: e.stopDate !== undefined ? new Date(e.stopDate) : undefined,
        input: e.input,
      };
    }),
    operation(
      'StartExecution',
      StartExecutionCommand,
      (input) => {
        const arn = input.stateMachineArn ?? '';
        const name = input.name ?? host.rng.uuid();
        // Step Functions refuses whitespace, brackets, wildcards, these specials, and control characters in a name.
        const refused = [...name].some(
          (c) =>
            c.charCodeAt(0) < 0x20 ||
            (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f) ||
            /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(c),
        );
        if (name.length < 1 || name.length > 80 || refused)
          throw new InvalidName({ message: `Invalid Name: '${name}'`, $metadata: meta(400) });
        const start = host.stepFunctions.onStart;
        if (!start || !host.stepFunctions.stateMachines.has(arn))
          throw new StateMachineDoesNotExist({
            message: `State Machine Does Not Exist: '${arn}'`,
            $metadata: meta(400),
          });
        const executionArn = `${arn.replace(':stateMachine:', ':execution:')}:${name}`;
        const existing = host.stepFunctions.executions.get(executionArn);
        if (existing) {
          // Step Functions: the same name and input of a running execution is the same call; anything else is refused.
          if (existing.status === 'RUNNING' && existing.input === (input.input ?? '{}'))
            return { executionArn, startDate: new Date(existing.startDate) };
          throw new ExecutionAlreadyExists({
            message: `Execution Already Exists: '${executionArn}'`,
            $metadata: meta(400),
          });
        }
        const e = start(arn, name, JSON.parse(input.input ?? '{}') as unknown);
        return { executionArn: e.executionArn, startDate: new Date(e.startDate) };
      },
      (input) => `execution/${input.stateMachineArn?.split(':').pop()}:${input.name ?? ''}`,
    ),
    operation('ListExecutions', ListExecutionsCommand, (input) => {
      const list = [...host.stepFunctions.executions.values()]
        .filter(
          (e) =>
            e.stateMachineArn === input.stateMachineArn && (!input.statusFilter || e.status === input.statusFilter),
        )
        .sort((a, b) => b.startDate - a.startDate);
      const max = input.maxResults || 100;
      const p = page(
        list,
        max,
        input.nextToken,
        { sm: input.stateMachineArn, s: input.statusFilter },
        () =>
          new SFNServiceException({
            name: 'InvalidToken',
            $fault: 'client',
            message: 'Invalid Token',
            $metadata: meta(400),
          }),
      );
      return {
        executions: p.items.map((e) => ({
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status as ExecutionStatus,
          startDate: new Date(e.startDate),
          stopDate: e.stopDate !== undefined ? new Date(e.stopDate) : undefined,
        })),
        nextToken: p.next,
      };
    }),
  ];
}
