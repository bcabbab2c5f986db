/**
 * Named errors. Lambda reports `name` as the error type, so ASL `Retry`/`Catch` match on it:
 * names are string literals (a minifier would mangle class names) and never change lightly.
 */

export abstract class NodeManagerError extends Error {
  abstract override readonly name: string;
  /** True when the same call may succeed if tried again later (ASL retries these). */
  readonly retryable: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** AWS said slow down (Throttling, RequestLimitExceeded, TooManyRequestsException, ...). */
export class AwsThrottledError extends NodeManagerError {
  readonly name = 'AwsThrottled';
  override readonly retryable = true;
}

/** AWS failed on its side (HTTP 5xx) or a resource is busy (ResourceContention, ScalingActivityInProgress). */
export class AwsUnavailableError extends NodeManagerError {
  readonly name = 'AwsUnavailable';
  override readonly retryable = true;
}

/** AWS refused the request as invalid, e.g. a desired capacity outside MinSize/MaxSize. */
export class AwsValidationError extends NodeManagerError {
  readonly name = 'AwsValidation';
}

/** A named AWS or Kubernetes resource does not exist (any more). */
export class ResourceNotFoundError extends NodeManagerError {
  readonly name = 'ResourceNotFound';
  constructor(
    readonly resource: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The API server answered 429 to something other than an eviction (API Priority and Fairness). */
export class KubeThrottledError extends NodeManagerError {
  readonly name = 'KubeThrottled';
  override readonly retryable = true;
}

/** The API server failed (5xx) or could not be reached. */
export class KubeUnavailableError extends NodeManagerError {
  readonly name = 'KubeUnavailable';
  override readonly retryable = true;
}

/** The API server refused our credentials (401/403): RBAC or the access entry is missing. */
export class KubeForbiddenError extends NodeManagerError {
  readonly name = 'KubeForbidden';
}

/** A write lost a race (409 Conflict). */
export class KubeConflictError extends NodeManagerError {
  readonly name = 'KubeConflict';
  override readonly retryable = true;
}

/** An eviction was refused because a PodDisruptionBudget forbids it now (HTTP 429 on pods/eviction). */
export class EvictionBlockedError extends NodeManagerError {
  readonly name = 'EvictionBlocked';
  override readonly retryable = true;
  constructor(
    readonly pod: string,
    /** The API server's own words, naming the budget ("The disruption budget web needs ..."). */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`eviction of ${pod} refused: ${reason}`, options);
  }
}

/** Another execution holds the group's lease. */
export class LeaseHeldError extends NodeManagerError {
  readonly name = 'LeaseHeld';
  constructor(
    readonly group: string,
    readonly holder: string,
    readonly holderKind: string,
    options?: { cause?: unknown },
  ) {
    super(`group ${group} is held by ${holderKind} ${holder}`, options);
  }
}

/** We no longer hold the lease we thought we held (taken over, or released by someone else). */
export class LeaseLostError extends NodeManagerError {
  readonly name = 'LeaseLost';
}

/** The execution input is not what the workflow accepts; nothing was changed. */
export class InvalidInputError extends NodeManagerError {
  readonly name = 'InvalidInput';
}

/** A replenish holds the group's lease: the refresh waits (ASL retries this). */
export class ReplenishRunningError extends NodeManagerError {
  readonly name = 'ReplenishRunning';
  override readonly retryable = true;
}

/** The surplus cannot be placed (every ASG failing to launch or at its ceiling); nothing was changed. */
export class SurgeBlockedError extends NodeManagerError {
  readonly name = 'SurgeBlocked';
}

/** Surplus nodes did not become Ready within the join timeout. */
export class SurgeTimeoutError extends NodeManagerError {
  readonly name = 'SurgeTimeout';
}

/** A replacement did not come back Ready within the join timeout: no further old node is touched. */
export class ReplacementTimeoutError extends NodeManagerError {
  readonly name = 'ReplacementTimeout';
}

/** Pods would not leave a node within the drain timeout (a PodDisruptionBudget, usually). */
export class DrainTimeoutError extends NodeManagerError {
  readonly name = 'DrainTimeout';
}

/**
 * Pods the last batch evicted are still Pending past settleSeconds (or a new master's static pods
 * are not Ready): no further node is drained.
 */
export class SettleTimeoutError extends NodeManagerError {
  readonly name = 'SettleTimeout';
}

/** The pods of the next batch did not fit the nodes that stay within the drain timeout: nothing of it was touched. */
export class NoRoomError extends NodeManagerError {
  readonly name = 'NoRoom';
}

/** Old nodes remain but none can be replaced (their ASGs cannot launch) within the join timeout. */
export class RefreshStuckError extends NodeManagerError {
  readonly name = 'RefreshStuck';
}
