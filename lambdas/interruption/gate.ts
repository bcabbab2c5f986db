import { createHash } from 'node:crypto';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { InvalidInputError, NOTICES, parseNotice, type Notice, type NoticeKind } from '../core';
import { AutoScalingPort } from '../aws/autoscaling';
import { StepFunctionsPort } from '../aws/stepfunctions';
import { sdk } from '../aws/lazy';
import { inlinedConfig, type Config } from '../config';
import { groupOfAsg } from './state';

/**
 * The gate in front of the interruption workflow: the EventBridge rules invoke it (a Lambda target)
 * rather than Step Functions. EC2's notices name only the instance, so their rules match every
 * instance of the account and region; the gate asks Auto Scaling which group the instance is in
 * (one DescribeAutoScalingInstances) and drops those of no managed group before any execution
 * starts: a foreign event costs one short invocation, not a Standard execution. What it lets
 * through starts an execution named after the event's id, so a redelivered event (EventBridge
 * delivers at least once) starts nothing twice. It checks nothing else: the workflow believes
 * nothing on the event's word, whoever started it.
 */

export interface GateDeps {
  readonly config: Pick<Config, 'groups'>;
  readonly autoscaling: AutoScalingPort;
  readonly sfn: StepFunctionsPort;
  readonly stateMachineArn: string;
}

export interface GateOutcome {
  /** The execution started for the event. */
  readonly started?: string;
  /** An execution of that name exists: the event was delivered before. */
  readonly duplicate?: string;
  /** Why the event starts nothing. */
  readonly dropped?: string;
}

const PREFIX: Readonly<Record<NoticeKind, string>> = {
  'spot-interruption': 'spot',
  rebalance: 'rebalance',
  'terminate-hook': 'terminate',
  unannounced: 'stop',
  'launch-hook': 'launch',
};

/**
 * The execution's name: the kind and the event's id (unique per event, kept by a redelivery).
 * Step Functions allows letters, digits, "-" and "_" safely, at most 80 characters; an event
 * without a usable id is named by a hash of its content, which a redelivery repeats too.
 */
export function executionNameFor(n: Notice, event: unknown): string {
  const id = /^[A-Za-z0-9-]{8,64}$/.test(n.eventId)
    ? n.eventId
    : createHash('sha256').update(JSON.stringify(event)).digest('hex').slice(0, 40);
  return `${PREFIX[n.kind]}-${id}`;
}

export async function gate(event: unknown, deps: GateDeps): Promise<GateOutcome> {
  let n: Notice;
  try {
    n = parseNotice(event);
  } catch (e) {
    if (e instanceof InvalidInputError) return { dropped: `not a notice the workflow takes: ${e.message}` };
    throw e;
  }
  // Lifecycle actions come from rules that name the groups' own ASGs; EC2's notices from rules that match every instance.
  if (NOTICES[n.kind].source === 'aws.ec2') {
    const [m] = await deps.autoscaling.describeInstances([n.instanceId]);
    if (!m)
      return {
        dropped: `${n.instanceId} is in no Auto Scaling group (another tool's instance, or one node-manager already detached)`,
      };
    if (!(await groupOfAsg(deps, m.asg)))
      return { dropped: `${n.instanceId} is in ${m.asg}, which belongs to no group node-manager manages` };
  }
  const name = executionNameFor(n, event);
  const r = await deps.sfn.startExecution(deps.stateMachineArn, name, JSON.stringify(event));
  return r.started ? { started: r.executionArn ?? name } : { duplicate: name };
}

let lambdaDeps: GateDeps | undefined;

/** The Lambda entry point: clients made once per container; the state machine's ARN from the environment. */
export async function handler(event: unknown): Promise<GateOutcome> {
  lambdaDeps ??= {
    config: inlinedConfig(),
    autoscaling: new AutoScalingPort(new AutoScalingClient({})),
    // Loaded only when a notice gets through.
    sfn: new StepFunctionsPort(() => new (sdk.sfn().SFNClient)({})),
    stateMachineArn: process.env.NODE_MANAGER_INTERRUPTION_STATE_MACHINE ?? '',
  };
  return gate(event, lambdaDeps);
}
