/**
 * The one way handlers reach AWS: a service client made once per container on first use, and every
 * call retried on throttling and transient faults, classified here and nowhere else.
 *
 * The SDK module is loaded with `await import('@aws-sdk/client-…')` written in the handler's own
 * service module (a literal specifier, so esbuild bundles it as a lazy `require`, which Node and
 * Lambda resolve through NODE_PATH); the factory only decides when it runs: on the first call.
 */
import { errorName } from './errors';
import { lazy } from './lazy';
import { isThrottlingOrTransient, RetryOptions, withRetry } from './retry';

/** The SDK module and a client of it, as a call receives them. */
export interface ServiceApi<S, C> {
  readonly sdk: S;
  readonly client: C;
}

/** How a service is reached. */
export interface ServiceSpec<S, C> {
  /** Loads the SDK module: `() => import('@aws-sdk/client-iam')`. Runs once, on the first call. */
  readonly load: () => Promise<S>;
  /** Makes a client; `region` is given only to calls that name one (undefined: the handler's region). */
  readonly client: (sdk: S, region: string | undefined) => C;
  /**
   * Error names this service uses for a fault worth retrying besides throttling and transient
   * errors (e.g. IAM `ServiceFailureException`).
   */
  readonly retryOn?: readonly string[];
}

/** Per call: where, and which further errors are worth retrying. */
export interface CallOptions {
  /** The region of the client (one client per region is kept). @default the handler's region */
  readonly region?: string;
  /** Error names worth retrying for this call, besides the service's own `retryOn`. */
  readonly retryOn?: readonly string[];
  /** Attempts in all. @default as withRetry */
  readonly maxAttempts?: number;
}

/** A service made once per container: its API on first use, and retried calls. */
export interface Service<S, C> {
  /** The SDK module and the client (of `region`), made on first use and kept. */
  api(region?: string): Promise<ServiceApi<S, C>>;
  /** Runs one call with the client made on first use, retrying throttling and transient faults. */
  call<T>(operation: string, fn: (api: ServiceApi<S, C>) => Promise<T>, options?: CallOptions): Promise<T>;
}

/**
 * Whether an error is worth retrying: throttling or a transient fault (see
 * `isThrottlingOrTransient`), or an error whose name is in `retryOn`.
 */
export function isRetryable(e: unknown, retryOn: readonly string[] = []): boolean {
  return isThrottlingOrTransient(e) || (retryOn.length > 0 && retryOn.includes(errorName(e)));
}

/** A service whose SDK and clients are made on first use and kept for the life of the container. */
export function service<S, C>(spec: ServiceSpec<S, C>): Service<S, C> {
  const sdk = lazy(spec.load);
  const clients = new Map<string, C>();
  const api = async (region?: string): Promise<ServiceApi<S, C>> => {
    const module = await sdk();
    const key = region ?? '';
    let client = clients.get(key);
    if (client === undefined) {
      client = spec.client(module, region);
      clients.set(key, client);
    }
    return { sdk: module, client };
  };
  return {
    api,
    async call<T>(operation: string, fn: (a: ServiceApi<S, C>) => Promise<T>, options: CallOptions = {}): Promise<T> {
      const resolved = await api(options.region);
      const retryOn = [...(spec.retryOn ?? []), ...(options.retryOn ?? [])];
      const retry: RetryOptions = { retryable: (e) => isRetryable(e, retryOn), maxAttempts: options.maxAttempts };
      return withRetry(operation, () => fn(resolved), retry);
    },
  };
}
