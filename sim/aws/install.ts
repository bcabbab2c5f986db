import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { createSandbox } from 'sinon';
import type { Meter } from '../meter';
import { eksOperations, secretsOperations } from './access';
import { autoScalingOperations } from './autoscaling';
import { cloudFormationOperations } from './cloudformation';
import { SERVICE_ERRORS, type AwsHost, type Operation, type Service } from './common';
import { dynamoDbOperations } from './dynamodb';
import { ec2Operations } from './ec2';
import { snsOperations } from './sns';
import { standbyOperations } from './standby';
import { stepFunctionsOperations } from './stepfunctions';

/** The SDK client class each service's commands go through. */
type ClientClass = Parameters<typeof mockClient>[0];

const SERVICES: ReadonlyArray<{
  service: Service;
  client: ClientClass;
  operations: (host: AwsHost) => Operation[];
}> = [
  {
    service: 'autoscaling',
    client: AutoScalingClient,
    operations: (h) => [...autoScalingOperations(h), ...standbyOperations(h)],
  },
  { service: 'ec2', client: EC2Client, operations: ec2Operations },
  { service: 'dynamodb', client: DynamoDBClient, operations: dynamoDbOperations },
  { service: 'sfn', client: SFNClient, operations: stepFunctionsOperations },
  { service: 'eks', client: EKSClient, operations: eksOperations },
  { service: 'secretsmanager', client: SecretsManagerClient, operations: secretsOperations },
  { service: 'cloudformation', client: CloudFormationClient, operations: cloudFormationOperations },
  { service: 'sns', client: SNSClient, operations: snsOperations },
];

/**
 * The simulated services' one entrance, whichever route a call takes (an SDK client of this
 * process, or a request on the wire): each call is counted, meets the armed faults in its service's
 * own error, and a mutating call goes to the audit with its outcome.
 */
export class AwsDispatch {
  private readonly operations = new Map<Service, Operation[]>();

  constructor(
    host: AwsHost,
    private readonly meter: Meter,
  ) {
    for (const s of SERVICES) this.operations.set(s.service, s.operations(host));
  }

  /** The operation of `service` named `action` (`DescribeAutoScalingGroups`), if the simulator models it. */
  find(service: Service, action: string): Operation | undefined {
    return this.operations.get(service)?.find((op) => op.name === action);
  }

  call(service: Service, op: Operation, input: unknown): unknown {
    const inv = this.meter.context.current();
    this.meter.count('aws', op.name, inv);
    const target = op.target?.(input);
    try {
      this.meter.checkFault(op.name, SERVICE_ERRORS[service]);
      const out = op.handle(input);
      if (target !== undefined) this.meter.recordMutation('aws', op.name, target, inv, 'ok');
      return out;
    } catch (e) {
      if (target !== undefined)
        this.meter.recordMutation('aws', op.name, target, inv, e instanceof Error ? e.name : 'error');
      throw e;
    }
  }

  /** Every service's operations. */
  entries(): Array<[Service, readonly Operation[]]> {
    return [...this.operations];
  }
}

/**
 * Routes every AWS SDK v3 client of the process to the simulated services, so node-manager's own
 * adapters run unchanged. A command the simulator does not model fails loudly rather than
 * answering an empty success. `except`: services whose clients keep their own route (the wire).
 * Returns the uninstaller.
 */
export function installAws(dispatch: AwsDispatch, except: readonly Service[] = []): () => void {
  // A sandbox of our own: sinon's default one keeps every stub (and the calls that threw) for the
  // life of the process, so every simulator would stay in memory after it stopped.
  const sandbox = createSandbox();
  const mocks: Array<ReturnType<typeof mockClient>> = [];
  let callsSinceReset = 0;

  const run = async (service: Service, op: Operation, input: unknown): Promise<unknown> => {
    // The mocks' own call history is dropped as it goes: nothing reads it, and a long run must
    // not keep every request. Not from inside a mocked call: sinon refuses to reset a stub while it runs.
    if (++callsSinceReset >= 256) {
      callsSinceReset = 0;
      setImmediate(() => mocks.forEach((m) => m.resetHistory()));
    }
    return dispatch.call(service, op, input);
  };

  for (const { service, client } of SERVICES) {
    if (except.includes(service)) continue;
    const mock = mockClient(client, { sandbox });
    mocks.push(mock);
    // A command the simulator does not model must not answer an empty success: node-manager would
    // take that for AWS's word. It fails, naming the command, so a new call cannot go unmodelled.
    mock.send.callsFake((command: { constructor: { name: string } }) => {
      throw new Error(
        `simulator: ${command.constructor.name} is not modelled; model it in sim/aws/ before node-manager calls it`,
      );
    });
    for (const op of dispatch.entries().find(([s]) => s === service)?.[1] ?? []) {
      // Each operation names the SDK's own command class; the mock's typing wants the client's union.
      const command = op.command as unknown as Parameters<typeof mock.on>[0];
      mock.on(command).callsFake((input: unknown) => run(service, op, input));
    }
  }
  return () => {
    mocks.forEach((m) => m.restore());
    sandbox.restore();
  };
}
