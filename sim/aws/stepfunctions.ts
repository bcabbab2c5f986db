import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListStateMachinesCommand,
  StopExecutionCommand,
  type HistoryEvent,
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
import type { SimExecution } from './executions';

const invalidToken = () =>
  new SFNServiceException({ name: 'InvalidToken', $fault: 'client', message: 'Invalid Token', $metadata: meta(400) });

/** An execution's history as Step Functions writes it: started, each Task entered and ended, and the end. */
function historyOf(e: SimExecution): HistoryEvent[] {
  const events: Array<Omit<HistoryEvent, 'id'>> = [
    { timestamp: new Date(e.startDate), type: 'ExecutionStarted', executionStartedEventDetails: { input: e.input } },
  ];
  for (const s of e.steps) {
    const at = new Date(s.at);
    events.push({ timestamp: at, type: 'TaskStateEntered', stateEnteredEventDetails: { name: s.state } });
    if (s.outcome === 'ok') {
      events.push({
        timestamp: at,
        type: 'TaskSucceeded',
        taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke', output: s.result },
      });
      events.push({
        timestamp: at,
        type: 'TaskStateExited',
        stateExitedEventDetails: { name: s.state, output: s.result },
      });
    } else {
      const [error, ...rest] = s.result.split(': ');
      events.push({
        timestamp: at,
        type: 'TaskFailed',
        taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error, cause: rest.join(': ') },
      });
    }
  }
  if (e.stopDate !== undefined) {
    const at = new Date(e.stopDate);
    if (e.status === 'SUCCEEDED')
      events.push({ timestamp: at, type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: e.output } });
    else if (e.status === 'ABORTED')
      events.push({
        timestamp: at,
        type: 'ExecutionAborted',
        executionAbortedEventDetails: { error: e.error, cause: e.cause },
      });
    else if (e.status === 'TIMED_OUT')
      events.push({
        timestamp: at,
        type: 'ExecutionTimedOut',
        executionTimedOutEventDetails: { error: e.error, cause: e.cause },
      });
    else
      events.push({
        timestamp: at,
        type: 'ExecutionFailed',
        executionFailedEventDetails: { error: e.error, cause: e.cause },
      });
  }
  return events.map((ev, i) => ({ ...ev, id: i + 1, previousEventId: i }) as HistoryEvent);
}

/** Step Functions as node-manager calls it: start by name (90 days of names), describe, list. */
export function stepFunctionsOperations(host: AwsHost): Operation[] {
  const sf = host.stepFunctions;
  const execution = (arn: string | undefined) => {
    const e = arn ? sf.executions.get(arn) : undefined;
    if (!e) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${arn}'`, $metadata: meta(400) });
    return e;
  };
  const machine = (arn: string | undefined) => {
    if (!arn || !sf.stateMachines.has(arn))
      throw new StateMachineDoesNotExist({ message: `State Machine Does Not Exist: '${arn}'`, $metadata: meta(400) });
    return {
      stateMachineArn: arn,
      name: arn.split(':').pop()!,
      type: 'STANDARD' as const,
      creationDate: new Date(sf.createdAt),
    };
  };
  return [
    operation('DescribeExecution', DescribeExecutionCommand, (input) => {
      const e = execution(input.executionArn);
      return {
        output: e.output,
        error: e.error,
        cause: e.cause,
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
    operation(
      'StopExecution',
      StopExecutionCommand,
      (input) => {
        const e = execution(input.executionArn);
        if (e.status === 'RUNNING') sf.onStop?.(e.executionArn, input.error, input.cause);
        return { stopDate: new Date(e.stopDate ?? host.now()) };
      },
      (input) => `execution/${input.executionArn?.split(':').slice(-2).join(':')}`,
    ),
    operation('GetExecutionHistory', GetExecutionHistoryCommand, (input) => {
      const e = execution(input.executionArn);
      const all = historyOf(e);
      if (input.reverseOrder) all.reverse();
      const p = page(
        all,
        input.maxResults || 100,
        input.nextToken,
        { e: e.executionArn, r: !!input.reverseOrder },
        invalidToken,
      );
      return { events: p.items, nextToken: p.next };
    }),
    operation('ListStateMachines', ListStateMachinesCommand, (input) => {
      const all = [...sf.stateMachines].sort().map(machine);
      const p = page(all, input.maxResults || 100, input.nextToken, {}, invalidToken);
      return { stateMachines: p.items, nextToken: p.next };
    }),
    operation('DescribeStateMachine', DescribeStateMachineCommand, (input) => ({
      ...machine(input.stateMachineArn),
      status: 'ACTIVE',
      definition: sf.definitionOf?.(input.stateMachineArn!) ?? '{}',
      roleArn: `arn:aws:iam::${host.account}:role/node-manager-states`,
    })),
    operation('ListExecutions', ListExecutionsCommand, (input) => {
      machine(input.stateMachineArn);
      const list = [...host.stepFunctions.executions.values()]
        .filter(
          (e) =>
            e.stateMachineArn === input.stateMachineArn && (!input.statusFilter || e.status === input.statusFilter),
        )
        .sort((a, b) => b.startDate - a.startDate);
      const max = input.maxResults || 100;
      const p = page(list, max, input.nextToken, { sm: input.stateMachineArn, s: input.statusFilter }, invalidToken);
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
