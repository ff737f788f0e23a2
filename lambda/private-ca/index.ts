import {
  caArnProblem,
  EXPIRY_NOTICES_PHYSICAL_ID_SUFFIX,
  permanentDeletionProblem,
  POLICY_PHYSICAL_ID_SUFFIX,
  policyProblem,
  PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE,
  PRIVATE_CA_POLICY_RESOURCE_TYPE,
  PRIVATE_CA_RESOURCE_TYPE,
  PrivateCaExpiryNoticesResourceProperties,
  PrivateCaResourceAttributes,
  PrivateCaResourceProperties,
  PrivateCaPolicyResourceProperties,
} from '../../src/contract/private-ca';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { errorMessage, errorName, InputError, translateError } from '../shared/errors';
import { earliestNotAfter, expiryNoticeData, parseNotifyDaysBefore } from '../shared/expiry';
import { lazy } from '../shared/lazy';
import { describeEvent, log } from '../shared/log';
import { isThrottlingOrTransient, retryWhile, withRetry } from '../shared/retry';

const pca = lazy(async () => {
  const sdk = await import('@aws-sdk/client-acm-pca');
  return { sdk, client: new sdk.ACMPCAClient({}) };
});

/** How long a change waits for a previous update of the CA to finish (ConcurrentModificationException). */
export const settings = {
  concurrentModificationDeadlineMs: 5 * 60_000,
  concurrentModificationIntervalMs: 10_000,
};

type CaEvent = OnEventRequest<PrivateCaResourceProperties>;
type PolicyEvent = OnEventRequest<PrivateCaPolicyResourceProperties>;
type ExpiryNoticesEvent = OnEventRequest<PrivateCaExpiryNoticesResourceProperties>;

const ERRORS = {
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

function isRetryable(e: unknown): boolean {
  return isThrottlingOrTransient(e) || errorName(e) === 'RequestFailedException';
}

type Pca = Awaited<ReturnType<typeof pca>>;

/**
 * Sends one ACM PCA call, with the client made on first use, retrying throttling, then waits out
 * concurrent updates.
 */
async function send<T>(operation: string, call: (pcaApi: Pca) => Promise<T>): Promise<T> {
  const api = await pca();
  return retryWhile(
    operation,
    () => withRetry(operation, () => call(api), { retryable: isRetryable }),
    (e) => errorName(e) === 'ConcurrentModificationException',
    { deadlineMs: settings.concurrentModificationDeadlineMs, intervalMs: settings.concurrentModificationIntervalMs },
  );
}

/** Entry point of the Provider framework: dispatches on the custom resource type. */
export async function onEvent(
  event: OnEventRequest<PrivateCaResourceProperties | PrivateCaPolicyResourceProperties | PrivateCaExpiryNoticesResourceProperties>,
): Promise<OnEventResponse> {
  log('info', 'event', { ...describeEvent(event) });
  switch (event.ResourceType) {
    case PRIVATE_CA_RESOURCE_TYPE:
      return onCaEvent(event as CaEvent);
    case PRIVATE_CA_POLICY_RESOURCE_TYPE:
      return onPolicyEvent(event as PolicyEvent);
    case PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE:
      return onExpiryNoticesEvent(event as ExpiryNoticesEvent);
    default:
      throw new Error(`private-ca handler: unexpected resource type ${event.ResourceType}`);
  }
}

// --- Custom::PrivateCa ----------------------------------------------------------------------------

interface CaDesired {
  readonly arn: string;
  readonly windowDays: number;
  readonly retain: boolean;
}

function parseCaProps(props: PrivateCaResourceProperties): CaDesired {
  const arn = String(props.CertificateAuthorityArn ?? '');
  const arnProblem = caArnProblem(arn);
  if (arnProblem) {
    throw new InputError('certificateAuthorityArn', arnProblem);
  }
  const windowDays = Number(props.PermanentDeletionTimeInDays);
  const windowProblem = permanentDeletionProblem(windowDays);
  if (windowProblem) {
    throw new InputError('permanentDeletionTimeInDays', windowProblem);
  }
  if (props.RemovalPolicy !== 'retain' && props.RemovalPolicy !== 'destroy') {
    throw new InputError('removalPolicy', `must be 'retain' or 'destroy', got ${JSON.stringify(props.RemovalPolicy)}`);
  }
  return { arn, windowDays, retain: props.RemovalPolicy === 'retain' };
}

function caResponse(arn: string): OnEventResponse {
  const data: PrivateCaResourceAttributes = { Arn: arn };
  return { PhysicalResourceId: arn, Data: data };
}

/**
 * Create and Update only record the CA (no API call, so they cannot fail after the CA exists and
 * leave it orphaned); a new CA ARN is a new physical ID, so CloudFormation deletes the old CA.
 */
export async function onCaEvent(event: CaEvent): Promise<OnEventResponse> {
  switch (event.RequestType) {
    case 'Create':
    case 'Update': {
      const desired = parseCaProps(event.ResourceProperties);
      if (event.RequestType === 'Update' && event.PhysicalResourceId !== desired.arn) {
        log('info', 'the CA was replaced; CloudFormation will delete the old one', { newArn: desired.arn, oldArn: event.PhysicalResourceId });
      }
      return caResponse(desired.arn);
    }
    case 'Delete':
      return deleteCa(event);
    default:
      throw new Error(`unexpected request type ${String(event.RequestType)}`);
  }
}

async function deleteCa(event: CaEvent): Promise<OnEventResponse> {
  const arn = event.PhysicalResourceId ?? '';
  if (caArnProblem(arn)) {
    log('info', 'nothing to delete: the physical ID is not a CA ARN', { physicalResourceId: arn });
    return { PhysicalResourceId: arn };
  }
  const props = event.ResourceProperties;
  if (props.RemovalPolicy === 'retain') {
    log('info', 'removal policy is retain: the CA is kept', { arn });
    return { PhysicalResourceId: arn };
  }
  const windowDays = permanentDeletionProblem(Number(props.PermanentDeletionTimeInDays)) === undefined
    ? Number(props.PermanentDeletionTimeInDays)
    : undefined; // Never block a delete on a bad window: the service default (30 days) applies.
  await disableAndDelete(arn, windowDays);
  return { PhysicalResourceId: arn };
}

/** The CA's status, or undefined when it is gone for good. */
async function caStatus(arn: string): Promise<string | undefined> {
  try {
    const out = await send('DescribeCertificateAuthority', ({ sdk, client }) => client.send(new sdk.DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: arn })));
    return out.CertificateAuthority?.Status;
  } catch (e) {
    if (errorName(e) === 'ResourceNotFoundException') {
      return undefined;
    }
    throw translateError(e, ERRORS, `removalPolicy (DescribeCertificateAuthority ${arn})`);
  }
}

/**
 * Disables an ACTIVE CA, then deletes it with the restoration window. A CA already DELETED or gone
 * is success (delete twice, or deleted by hand). Issued certificates stay valid until they expire,
 * but the CA stops issuing and stops refreshing its CRL once the window ends.
 */
async function disableAndDelete(arn: string, windowDays: number | undefined): Promise<void> {
  const status = await caStatus(arn);
  if (status === undefined || status === 'DELETED') {
    log('info', 'the CA is already deleted', { arn, status: status ?? 'gone' });
    return;
  }
  if (status === 'ACTIVE') {
    try {
      await send('UpdateCertificateAuthority', ({ sdk, client }) => client.send(new sdk.UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: arn, Status: 'DISABLED' })));
      log('info', 'disabled the CA before deleting it', { arn });
    } catch (e) {
      // It may have changed state meanwhile (deleted by hand, or disabled): look again.
      const now = await caStatus(arn);
      if (now === undefined || now === 'DELETED') {
        return;
      }
      if (now === 'ACTIVE') {
        throw translateError(e, ERRORS, `removalPolicy (UpdateCertificateAuthority ${arn} to DISABLED)`);
      }
    }
  }
  try {
    await send('DeleteCertificateAuthority', ({ sdk, client }) => client.send(new sdk.DeleteCertificateAuthorityCommand({
      CertificateAuthorityArn: arn,
      PermanentDeletionTimeInDays: windowDays,
    })));
  } catch (e) {
    const name = errorName(e);
    if (name === 'ResourceNotFoundException') {
      return;
    }
    if (name === 'InvalidStateException' && (await caStatus(arn) ?? 'DELETED') === 'DELETED') {
      return;
    }
    throw translateError(e, ERRORS, `permanentDeletionTimeInDays (DeleteCertificateAuthority ${arn})`);
  }
  log('info', 'deleted the CA; it can be restored with RestoreCertificateAuthority until its restoration window ends', {
    arn,
    permanentDeletionTimeInDays: windowDays ?? 'service default',
  });
}

// --- Custom::PrivateCaPolicy ----------------------------------------------------------------------

interface PolicyDesired {
  readonly arn: string;
  readonly policy: string;
  readonly retain: boolean;
}

function parsePolicyProps(props: PrivateCaPolicyResourceProperties): PolicyDesired {
  const arn = String(props.CertificateAuthorityArn ?? '');
  const arnProblem = caArnProblem(arn);
  if (arnProblem) {
    throw new InputError('certificateAuthorityArn', arnProblem);
  }
  const policy = typeof props.Policy === 'string' ? props.Policy : JSON.stringify(props.Policy);
  const problem = policyProblem(policy);
  if (problem) {
    throw new InputError('addToResourcePolicy', problem);
  }
  return { arn, policy, retain: props.RemovalPolicy === 'retain' };
}

/** The same document, whatever its whitespace. */
function samePolicy(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

export async function onPolicyEvent(event: PolicyEvent): Promise<OnEventResponse> {
  switch (event.RequestType) {
    case 'Create': {
      const desired = parsePolicyProps(event.ResourceProperties);
      await putPolicy(desired);
      return { PhysicalResourceId: desired.arn + POLICY_PHYSICAL_ID_SUFFIX };
    }
    case 'Update': {
      const desired = parsePolicyProps(event.ResourceProperties);
      const physicalId = desired.arn + POLICY_PHYSICAL_ID_SUFFIX;
      const old = event.OldResourceProperties;
      const moved = physicalId !== event.PhysicalResourceId;
      // PutPolicy replaces the whole policy: skipping it when nothing changed keeps updates write-free.
      if (moved || old === undefined || !samePolicy(String(old.Policy), desired.policy)) {
        await putPolicy(desired);
      } else {
        log('info', 'the resource policy is unchanged', { arn: desired.arn });
      }
      return { PhysicalResourceId: physicalId };
    }
    case 'Delete':
      return deletePolicy(event);
    default:
      throw new Error(`unexpected request type ${String(event.RequestType)}`);
  }
}

async function putPolicy(desired: PolicyDesired): Promise<void> {
  try {
    await send('PutPolicy', ({ sdk, client }) => client.send(new sdk.PutPolicyCommand({ ResourceArn: desired.arn, Policy: desired.policy })));
  } catch (e) {
    throw translateError(e, ERRORS, `addToResourcePolicy (PutPolicy on ${desired.arn})`);
  }
  log('info', 'put the resource policy', { arn: desired.arn, length: desired.policy.length });
}

async function deletePolicy(event: PolicyEvent): Promise<OnEventResponse> {
  const physicalId = event.PhysicalResourceId ?? '';
  const arn = physicalId.endsWith(POLICY_PHYSICAL_ID_SUFFIX) ? physicalId.slice(0, -POLICY_PHYSICAL_ID_SUFFIX.length) : '';
  if (caArnProblem(arn)) {
    log('info', 'nothing to delete: the physical ID is not a CA policy', { physicalResourceId: physicalId });
    return { PhysicalResourceId: physicalId };
  }
  if (event.ResourceProperties.RemovalPolicy === 'retain') {
    log('info', 'removal policy is retain: the resource policy is kept', { arn });
    return { PhysicalResourceId: physicalId };
  }
  try {
    await send('DeletePolicy', ({ sdk, client }) => client.send(new sdk.DeletePolicyCommand({ ResourceArn: arn })));
    log('info', 'deleted the resource policy', { arn });
  } catch (e) {
    const name = errorName(e);
    // A CA that is gone or deleted has no policy left to remove.
    if (name === 'ResourceNotFoundException' || name === 'InvalidStateException') {
      log('info', 'no resource policy to delete', { arn, error: name });
    } else {
      throw translateError(e, ERRORS, `addToResourcePolicy (DeletePolicy on ${arn})`);
    }
  }
  return { PhysicalResourceId: physicalId };
}

// --- Custom::PrivateCaExpiryNotices ---------------------------------------------------------------

/**
 * Times the CA's expiry notices from its certificate: no API call, so Create and Update cannot
 * fail part-way; Delete has nothing to remove (the schedules are CloudFormation's).
 */
export async function onExpiryNoticesEvent(event: ExpiryNoticesEvent): Promise<OnEventResponse> {
  const props = event.ResourceProperties;
  const arn = String(props.CertificateAuthorityArn ?? '');
  const physicalId = arn + EXPIRY_NOTICES_PHYSICAL_ID_SUFFIX;
  switch (event.RequestType) {
    case 'Create':
    case 'Update': {
      const arnProblem = caArnProblem(arn);
      if (arnProblem) {
        throw new InputError('certificateAuthorityArn', arnProblem);
      }
      const days = parseNotifyDaysBefore(props.NotifyDaysBefore);
      const notAfter = earliestNotAfter(String(props.CaCertificate ?? ''), 'certificate');
      log('info', 'timed the expiry notices of the CA', { arn, notAfter: notAfter.toISOString(), daysBefore: days });
      return { PhysicalResourceId: physicalId, Data: expiryNoticeData(notAfter, days, 'certificate') };
    }
    case 'Delete':
      return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };
    default:
      throw new Error(`unexpected request type ${String(event.RequestType)}`);
  }
}

// The knobs the test tiers turn on the shipped bundle (no real backoff waits), as on the sources.
export { retryConfig } from '../shared/retry';
