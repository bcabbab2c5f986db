import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { idOf, type WorkflowContext } from './context';

/**
 * The replenish workflow's part of the stack: its function and state machine, each group's
 * replenish schedule, and the rule that starts it when a group's ASG fails to launch or loses an
 * instance.
 */
export class ReplenishWorkflow {
  readonly fn: lambda.Function;
  readonly stateMachine: sfn.StateMachine;

  constructor(c: WorkflowContext) {
    this.fn = c.parts.fn('replenish');
    this.stateMachine = c.parts.machine('replenish', this.fn);
  }

  /**
   * Each group's schedule and Auto Scaling event rule. Added once the interruption drain's rules
   * are (the dead-letter queue's policy lists the rules in the order they were added).
   */
  addTriggers(c: WorkflowContext): void {
    for (const g of c.groups) {
      const id = idOf(g.name);
      if (g.replenishEverySeconds > 0) {
        new scheduler.Schedule(c.scope, `Replenish${id}`, {
          scheduleName: `node-manager-${c.slug}-replenish-${g.name}`.slice(0, 64),
          description: `Replenish node group ${g.name} of ${c.clusterName}`,
          schedule: scheduler.ScheduleExpression.rate(Duration.seconds(g.replenishEverySeconds)),
          target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
            input: scheduler.ScheduleTargetInput.fromObject({ group: g.name }),
            retryAttempts: 2,
            maxEventAge: Duration.minutes(5),
            deadLetterQueue: c.deadLetterQueue,
          }),
        });
      }
      if (g.asgNames) {
        new events.Rule(c.scope, `AutoScalingEvents${id}`, {
          description: `Replenish ${g.name} of ${c.clusterName} when its ASGs fail to launch or lose an instance`,
          eventPattern: {
            source: ['aws.autoscaling'],
            detailType: ['EC2 Instance Launch Unsuccessful', 'EC2 Instance Terminate Successful'],
            detail: { AutoScalingGroupName: [...g.asgNames] },
          },
          targets: [
            new eventTargets.SfnStateMachine(this.stateMachine, {
              input: events.RuleTargetInput.fromObject({ group: g.name }),
              deadLetterQueue: c.deadLetterQueue,
              retryAttempts: 2,
              maxEventAge: Duration.minutes(10),
            }),
          ],
        });
      }
    }
  }

  addOutputs(c: WorkflowContext): void {
    c.output('ReplenishStateMachineArn', { value: this.stateMachine.stateMachineArn });
  }
}
