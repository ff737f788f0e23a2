/**
 * A value made on first use and kept for the life of the container.
 *
 * Handlers load their AWS SDK clients this way: a cold start pays for a client only when the
 * handler first calls the service (as aws-cdk-lib's AwsCustomResource handler does), and every
 * later invocation reuses the same client.
 */
export function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    if (value === undefined) {
      value = make();
      // A failed load (e.g. a transient error) is retried on the next call.
      value.catch(() => {
        value = undefined;
      });
    }
    return value;
  };
}
