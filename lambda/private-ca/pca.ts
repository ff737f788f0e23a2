/** ACM Private CA calls of the private-ca handler: retries, waits and error explanations. */
import { caArnProblem } from '../../src/contract/private-ca';
import { acmPca } from '../shared/acm-pca';
import { errorMessage, errorName, InputError } from '../shared/errors';
import { retryWhile } from '../shared/retry';

/** How long a change waits for a previous update of the CA to finish (ConcurrentModificationException). */
export const settings = {
  concurrentModificationDeadlineMs: 5 * 60_000,
  concurrentModificationIntervalMs: 10_000,
};

export const ERRORS = {
  InvalidPolicyException: (e: unknown) =>
    `ACM Private CA refused the resource policy (${errorMessage(e)}); a CA policy may grant only the actions and principals `
    + 'shown in "Resource-based policies" of the ACM Private CA guide, with the CA ARN as Resource; fix the statements given to addToResourcePolicy',
  LockoutPreventedException: () =>
    'the resource policy would lock the caller out of the CA; do not deny acm-pca actions to the deploying account in addToResourcePolicy',
  ResourceNotFoundException: () => 'the CA does not exist (it may have been deleted outside CloudFormation)',
  InvalidArnException: () => 'the CA ARN is not valid',
  InvalidStateException: (e: unknown) => `the CA is not in a state that allows this change (${errorMessage(e)})`,
  InvalidArgsException: (e: unknown) => `ACM Private CA rejected an argument: ${errorMessage(e)}`,
  ConcurrentModificationException: () => 'another update of the CA was still running; deploy again',
  RequestFailedException: (e: unknown) => `ACM Private CA failed the request: ${errorMessage(e)}; deploy again`,
  AccessDeniedException: () => 'the handler role may not call ACM Private CA on this CA; check permission boundaries and SCPs',
};

type AcmPcaApi = Parameters<Parameters<typeof acmPca.call>[1]>[0];

/**
 * Sends one ACM PCA call, with the client made on first use, retrying throttling and
 * RequestFailedException, then waits out concurrent updates.
 */
export async function send<T>(operation: string, call: (pcaApi: AcmPcaApi) => Promise<T>): Promise<T> {
  return retryWhile(
    operation,
    () => acmPca.call(operation, call, { retryOn: ['RequestFailedException'] }),
    (e) => errorName(e) === 'ConcurrentModificationException',
    { deadlineMs: settings.concurrentModificationDeadlineMs, intervalMs: settings.concurrentModificationIntervalMs },
  );
}

/** The CA ARN a resource's properties name, or an InputError naming `certificateAuthorityArn`. */
export function checkedCaArn(value: unknown): string {
  const arn = String(value ?? '');
  const problem = caArnProblem(arn);
  if (problem) {
    throw new InputError('certificateAuthorityArn', problem);
  }
  return arn;
}
