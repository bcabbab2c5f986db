import { AwsThrottledError, AwsUnavailableError, AwsValidationError, ResourceNotFoundError } from '../core/errors';

/** Error codes AWS services use for "slow down". */
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

/** Transient on AWS's side, or the resource is busy with another change. */
const UNAVAILABLE = new Set([
  'ResourceContentionFault',
  'ResourceContention',
  'ScalingActivityInProgressFault',
  'ScalingActivityInProgress',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NOT_FOUND = new Set([
  'ResourceNotFoundException',
  'ExecutionDoesNotExist',
  'InvalidInstanceID.NotFound',
  'StateMachineDoesNotExist',
]);

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

function shapeOf(e: unknown): SdkErrorShape | undefined {
  return typeof e === 'object' && e !== null ? (e as SdkErrorShape) : undefined;
}

/**
 * Turns an AWS SDK error into a domain error when it is one we act on (throttling, outage,
 * validation, not found); anything else is returned unchanged so that it is rethrown as is.
 */
export function toDomainError(e: unknown, operation: string): unknown {
  const s = shapeOf(e);
  if (!s) return e;
  const name = s.name ?? s.code ?? '';
  const msg = `${operation}: ${name}: ${s.message ?? ''}`.trim();
  if (THROTTLING.has(name)) return new AwsThrottledError(msg, { cause: e });
  if (UNAVAILABLE.has(name) || s.$fault === 'server' || (s.$metadata?.httpStatusCode ?? 0) >= 500) {
    return new AwsUnavailableError(msg, { cause: e });
  }
  if (['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'].includes(s.code ?? ''))
    return new AwsUnavailableError(msg, { cause: e });
  if (NOT_FOUND.has(name)) return new ResourceNotFoundError(operation, msg, { cause: e });
  if (name === 'ValidationError' || name === 'ValidationException') return new AwsValidationError(msg, { cause: e });
  return e;
}

/** Runs one SDK call and maps its failure (see {@link toDomainError}). */
export async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toDomainError(e, operation);
  }
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
