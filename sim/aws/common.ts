import { SNSServiceException } from '@aws-sdk/client-sns';
import { AutoScalingServiceException, InvalidNextToken } from '@aws-sdk/client-auto-scaling';
import { DynamoDBServiceException, ThrottlingException as DynamoThrottling } from '@aws-sdk/client-dynamodb';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { EKSServiceException } from '@aws-sdk/client-eks';
import { SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { SFNServiceException } from '@aws-sdk/client-sfn';
import type { Random } from '../clock';
import type { Region } from './region';
import type { StepFunctionsModel } from './executions';
import type { Tables } from './tables';
import type { SimStack } from './model';
import { CloudFormationServiceException } from '@aws-sdk/client-cloudformation';

/** The AWS services the simulator answers. */
export type Service = 'autoscaling' | 'ec2' | 'dynamodb' | 'sfn' | 'eks' | 'secretsmanager' | 'cloudformation' | 'sns';

/** A message published to a topic, as a subscriber would receive it. */
export interface SnsMessage {
  readonly at: number;
  readonly subject?: string;
  readonly message: string;
}

/** What the simulated services read and change: the world, and nothing of the simulator's bookkeeping. */
export interface AwsHost {
  readonly region: Region;
  readonly tables: Tables;
  readonly stepFunctions: StepFunctionsModel;
  readonly eksClusters: ReadonlyMap<string, { readonly endpoint: () => string; readonly caData: string }>;
  readonly secrets: ReadonlyMap<string, () => string>;
  /** The SNS topics and what was published to each. */
  readonly topics: ReadonlyMap<string, SnsMessage[]>;
  /** The deployed stacks, by name (DescribeStacks). */
  readonly stacks: ReadonlyMap<string, SimStack>;
  readonly rng: Random;
  /** The simulated account. */
  readonly account: string;
  now(): number;
  /** A change of desired, min or max, or a termination with decrement, on an ASG (the report counts them). */
  noteAsgChange(
    asg: string,
    what: 'desired' | 'min' | 'max' | 'terminateWithDecrement',
    from: number,
    to: number,
  ): void;
}

/** An SDK command class: `new DescribeInstancesCommand(input)`. */
export type CommandClass<I> = new (input: I) => { readonly input: I };

/**
 * One API operation as the simulator answers it: the SDK command it stands for, the answer, and
 * for a mutating call what it acts on (the audit's target). The same operation answers the
 * in-process route (every SDK client routed to it) and, later, the wire.
 */
export interface Operation {
  readonly name: string;
  readonly command: CommandClass<never>;
  readonly handle: (input: unknown) => unknown;
  readonly target?: (input: unknown) => string;
}

export function operation<I>(
  name: string,
  command: CommandClass<I>,
  handle: (input: I) => unknown,
  target?: (input: I) => string,
): Operation {
  return {
    name,
    command: command as unknown as CommandClass<never>,
    handle: handle as (input: unknown) => unknown,
    ...(target ? { target: target as (input: unknown) => string } : {}),
  };
}

export const meta = (status: number) => ({ httpStatusCode: status, requestId: 'sim', attempts: 1, totalRetryDelay: 0 });

export function asgError(name: string, message: string, status = 400): AutoScalingServiceException {
  return new AutoScalingServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    message,
    $metadata: meta(status),
  });
}

export function ec2Error(name: string, message: string, status = 400): EC2ServiceException {
  return new EC2ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    message,
    $metadata: meta(status),
  });
}

export function dynamoValidation(message: string): DynamoDBServiceException {
  return new DynamoDBServiceException({ name: 'ValidationException', $fault: 'client', message, $metadata: meta(400) });
}

/** What an Auto Scaling MaxRecords outside 1..max answers. */
export function maxRecordsError(max: number, limit: number): AutoScalingServiceException {
  return asgError(
    'ValidationError',
    `1 validation error detected: Value '${max}' at 'maxRecords' failed to satisfy constraint: ` +
      `Member must have value less than or equal to ${limit}`,
  );
}

export const invalidAsgToken = () => new InvalidNextToken({ message: 'The token is invalid.', $metadata: meta(400) });

/** Error each service answers with when throttled, or when a callFailure fault fires. */
export const SERVICE_ERRORS: Readonly<Record<Service, { throttle: () => Error; failure: () => Error }>> = {
  sns: {
    throttle: () =>
      new SNSServiceException({ name: 'Throttled', $fault: 'client', message: 'Rate exceeded', $metadata: meta(429) }),
    failure: () =>
      new SNSServiceException({
        name: 'InternalError',
        $fault: 'server',
        message: 'Internal error',
        $metadata: meta(500),
      }),
  },
  autoscaling: {
    throttle: () => asgError('Throttling', 'Rate exceeded'),
    failure: () => asgError('InternalFailure', 'An internal error occurred.', 500),
  },
  ec2: {
    throttle: () => ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503),
    failure: () => ec2Error('InternalError', 'An internal error has occurred', 500),
  },
  dynamodb: {
    throttle: () =>
      new DynamoThrottling({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: meta(400) }),
    failure: () =>
      new DynamoDBServiceException({
        name: 'InternalServerError',
        $fault: 'server',
        message: 'Internal server error',
        $metadata: meta(500),
      }),
  },
  sfn: {
    throttle: () =>
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: meta(400),
      }),
    failure: () =>
      new SFNServiceException({
        name: 'InternalFailure',
        $fault: 'server',
        message: 'Internal failure',
        $metadata: meta(500),
      }),
  },
  eks: {
    throttle: () =>
      new EKSServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: meta(429),
      }),
    failure: () =>
      new EKSServiceException({
        name: 'ServerException',
        $fault: 'server',
        message: 'Server exception',
        $metadata: meta(500),
      }),
  },
  cloudformation: {
    throttle: () =>
      new CloudFormationServiceException({
        name: 'Throttling',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: meta(400),
      }),
    failure: () =>
      new CloudFormationServiceException({
        name: 'InternalFailure',
        $fault: 'server',
        message: 'An internal error occurred.',
        $metadata: meta(500),
      }),
  },
  secretsmanager: {
    throttle: () =>
      new SecretsManagerServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: meta(400),
      }),
    failure: () =>
      new SecretsManagerServiceException({
        name: 'InternalServiceError',
        $fault: 'server',
        message: 'Internal service error',
        $metadata: meta(500),
      }),
  },
};

/** An opaque page token bound to the query it continues, as AWS's are. */
function pageToken(query: unknown, offset: number): string {
  return Buffer.from(JSON.stringify({ q: JSON.stringify(query), o: offset })).toString('base64');
}

function readToken(token: string | undefined, query: unknown, invalid: () => Error): number {
  if (!token) return 0;
  try {
    const t = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { q: string; o: number };
    if (t.q === JSON.stringify(query) && Number.isInteger(t.o)) return t.o;
  } catch {
    // fall through: malformed
  }
  throw invalid();
}

/** One page of `items`, `max` at a time, from the offset its token names (a token of another query is refused). */
export function page<T>(
  items: T[],
  max: number,
  token: string | undefined,
  query: unknown,
  invalid: () => Error,
): { items: T[]; next?: string } {
  const offset = readToken(token, query, invalid);
  const slice = items.slice(offset, offset + max);
  return { items: slice, next: offset + max < items.length ? pageToken(query, offset + max) : undefined };
}
