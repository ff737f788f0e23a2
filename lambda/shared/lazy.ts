/**
 * A value made on first use and kept for the life of the container.
 *
 * The client factory (`service()` in ./clients) loads the AWS SDK this way, and handlers their
 * other heavy modules: a cold start pays for a module only when the handler first needs it (as
 * aws-cdk-lib's AwsCustomResource handler does), and every later invocation reuses it.
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
