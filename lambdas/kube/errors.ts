import {
  EvictionBlockedError,
  KubeConflictError,
  KubeForbiddenError,
  KubeThrottledError,
  KubeUnavailableError,
  ResourceNotFoundError,
} from '../core/errors';

/** What client-node's ApiException carries: the HTTP code and the body (a JSON string in 1.x). */
interface ApiExceptionShape {
  code: number;
  body: unknown;
}

function isApiException(e: unknown): e is ApiExceptionShape & Error {
  return e instanceof Error && typeof (e as Partial<ApiExceptionShape>).code === 'number' && 'body' in e;
}

export interface KubeStatus {
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ reason?: string; type?: string; message?: string }> };
}

/** The Status object of a failed call, whether client-node handed it over parsed or as a string. */
export function statusOf(body: unknown): KubeStatus {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as KubeStatus;
    } catch {
      return { message: body };
    }
  }
  return typeof body === 'object' && body !== null ? (body as KubeStatus) : {};
}

/** Turns a client-node failure into a domain error; anything unrecognised is returned unchanged. */
export function toKubeError(e: unknown, what: string): unknown {
  if (isApiException(e)) {
    const status = statusOf(e.body);
    const msg = `${what}: HTTP ${e.code}: ${status.message ?? status.reason ?? ''}`.trim();
    if (e.code === 404) return new ResourceNotFoundError(what, msg, { cause: e });
    if (e.code === 409) return new KubeConflictError(msg, { cause: e });
    if (e.code === 401 || e.code === 403) return new KubeForbiddenError(msg, { cause: e });
    if (e.code === 429) return new KubeThrottledError(msg, { cause: e });
    if (e.code >= 500) return new KubeUnavailableError(msg, { cause: e });
    return e;
  }
  // node-fetch's FetchError (connection refused, reset, DNS, a body cut short) carries the system error's code.
  if (
    e instanceof Error &&
    (isSystemError(e) ||
      /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|Premature close|Invalid response body/.test(e.message))
  ) {
    return new KubeUnavailableError(`${what}: ${e.message}`, { cause: e });
  }
  return e;
}

/**
 * An eviction refused with 429 is a PodDisruptionBudget saying "not now"; its Status names the
 * budget in `details.causes` (reason `DisruptionBudget`).
 */
export function toEvictionError(e: unknown, pod: string): unknown {
  if (isApiException(e) && e.code === 429) {
    const status = statusOf(e.body);
    const causes = (status.details?.causes ?? []).map((c) => c.message).filter((m): m is string => !!m);
    const reason = [status.message, ...causes].filter(Boolean).join(' ');
    return new EvictionBlockedError(pod, reason || 'the API server refused the eviction (429)', { cause: e });
  }
  return toKubeError(e, `evict ${pod}`);
}

/** An error carrying a system error code (ECONNREFUSED, ENOTFOUND, ...), as Node's and node-fetch's do. */
function isSystemError(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}
