import { Arn, ArnFormat, Duration, Fn, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { idOf, type WorkflowContext } from './context';

const pascal = (group: string) =>
  group
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

/**
 * The refresh workflow's part of the stack: its function and state machine (which may start
 * itself, to continue a long refresh), each group's refresh schedule, and the ad-hoc start
 * command of each group as an output.
 */
export class RefreshWorkflow {
  readonly fn: lambda.Function;
  readonly stateMachine: sfn.StateMachine;

  constructor(c: WorkflowContext) {
    const stack = Stack.of(c.scope);
    this.fn = c.parts.fn('refresh');
    this.stateMachine = c.parts.machine('refresh', this.fn);
    // A long refresh continues in a fresh execution of itself.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [
          Arn.format(
            {
              service: 'states',
              resource: 'stateMachine',
              resourceName: c.names.refresh,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            stack,
          ),
        ],
      }),
    );
    for (const g of c.groups) {
      if (!g.refreshSchedule) continue;
      new scheduler.Schedule(c.scope, `Refresh${idOf(g.name)}`, {
        scheduleName: `node-manager-${c.slug}-refresh-${g.name}`.slice(0, 64),
        description: `Refresh node group ${g.name} of ${c.clusterName}`,
        schedule: scheduler.ScheduleExpression.expression(
          `cron(${g.refreshSchedule.cron})`,
          TimeZone.of(g.refreshSchedule.timeZone),
        ),
        target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject({ group: g.name, trigger: 'schedule' }),
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
          deadLetterQueue: c.deadLetterQueue,
        }),
      });
    }
  }

  /** The state machine's ARN, and each group's ad-hoc start command. */
  addOutputs(c: WorkflowContext): void {
    const stack = Stack.of(c.scope);
    c.output('RefreshStateMachineArn', { value: this.stateMachine.stateMachineArn });
    for (const g of c.groups) {
      c.output(`StartRefresh${pascal(g.name)}`, {
        description:
          `An ad-hoc refresh of group ${g.name} (${g.role}); ` +
          'add "dryRun": true to the input to see the plan first',
        value: Fn.join('', [
          'aws stepfunctions start-execution --region ',
          stack.region,
          ' --state-machine-arn ',
          this.stateMachine.stateMachineArn,
          ` --input '{"group":"${g.name}"}'`,
        ]),
      });
    }
  }
}
