import { errorName } from './errors';
import { log } from './log';

/** Replaceable in tests so that no retry actually waits. */
export const retryConfig = {
  sleep: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)),
};

// Error names/codes that mean "try again later" across the AWS services used here.
const TRANSIENT_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
  'ServiceFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'InternalServiceError',
  'InternalServerException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
]);

// HTTP statuses that are transient whatever the error body says (Alibaba errors carry `statusCode`).
const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

/**
 * Whether an error is throttling or a transient service fault worth retrying: the AWS names
 * (Throttling, ThrottlingException, TooManyRequestsException, RequestLimitExceeded, ServiceFailure,
 * ServiceUnavailable, InternalFailure, ...), errors the SDK marks `$retryable`, Alibaba
 * `Throttling*` codes, and HTTP 429/502/503/504.
 */
export function isThrottlingOrTransient(e: unknown): boolean {
  if (e === null || typeof e !== 'object') {
    return false;
  }
  const name = errorName(e);
  if (TRANSIENT_NAMES.has(name) || /^Throttling/.test(name)) {
    return true;
  }
  const err = e as { $retryable?: unknown; statusCode?: unknown; $metadata?: { httpStatusCode?: unknown }; code?: unknown };
  if (err.$retryable) {
    return true;
  }
  // Alibaba's codes come in `code` even when the name is something else.
  if (typeof err.code === 'string' && (/^Throttling/.test(err.code) || TRANSIENT_NAMES.has(err.code))) {
    return true;
  }
  const status = Number(err.statusCode ?? err.$metadata?.httpStatusCode);
  return TRANSIENT_STATUS.has(status);
}

/** Options of {@link withRetry}. */
export interface RetryOptions {
  /** Attempts in all, the first included. @default 6 */
  readonly maxAttempts?: number;
  /** Backoff base: attempt n waits a random time up to `baseDelayMs * 2^(n-1)`. @default 200 */
  readonly baseDelayMs?: number;
  /** Cap on any single wait. @default 10_000 */
  readonly maxDelayMs?: number;
  /** Which errors to retry. @default isThrottlingOrTransient */
  readonly retryable?: (e: unknown) => boolean;
  /** Total time budget in ms from the first attempt (measured with `Date.now()`): no retry starts past it. @default no limit */
  readonly deadlineMs?: number;
}

/**
 * Runs `fn`, retrying retryable errors with exponential backoff and full jitter. Rethrows the last
 * error unchanged when it is not retryable, attempts run out, or the next wait would pass the
 * deadline. Each retry is logged with the operation, attempt and error name (never the error).
 */
export async function withRetry<T>(operation: string, fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 6);
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const retryable = options.retryable ?? isThrottlingOrTransient;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= maxAttempts || !retryable(e)) {
        throw e;
      }
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.floor(Math.random() * ceiling);
      if (options.deadlineMs !== undefined && Date.now() - started + delayMs > options.deadlineMs) {
        log('warn', 'giving up: retry would pass the deadline', { operation, attempt, error: errorName(e), deadlineMs: options.deadlineMs });
        throw e;
      }
      log('warn', 'retrying', { operation, attempt, maxAttempts, error: errorName(e), delayMs });
      await retryConfig.sleep(delayMs);
    }
  }
}

/** Options of {@link retryWhile}. */
export interface RetryWhileOptions {
  /** Total time budget in ms (measured with `Date.now()`); after it the last error is rethrown. */
  readonly deadlineMs: number;
  /** Wait between attempts. */
  readonly intervalMs: number;
}

/**
 * Runs `fn` again every `intervalMs` while it fails with an error `isRetryable` accepts (e.g. IAM
 * `DeleteConflict` while a load balancer still uses a certificate), for at most `deadlineMs`; then
 * rethrows the last error so the caller can say what still holds the resource.
 */
export async function retryWhile<T>(
  operation: string,
  fn: () => Promise<T>,
  isRetryable: (e: unknown) => boolean,
  options: RetryWhileOptions,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isRetryable(e)) {
        throw e;
      }
      const elapsed = Date.now() - started;
      if (elapsed + options.intervalMs > options.deadlineMs) {
        log('warn', 'giving up: still failing at the deadline', { operation, attempt, error: errorName(e), elapsedMs: elapsed, deadlineMs: options.deadlineMs });
        throw e;
      }
      log('info', 'waiting before trying again', { operation, attempt, error: errorName(e), intervalMs: options.intervalMs });
      await retryConfig.sleep(options.intervalMs);
    }
  }
}
