/**
 * `Custom::AlibabaKmsCertificate`: certificates in Alibaba Cloud KMS Certificates Manager.
 *
 * Mode `create` (KMS generates the key, an ACM Private CA signs it) is split over the Provider
 * framework's two entry points, because KMS has no idempotency token on CreateCertificate and no
 * ListCertificates, so a certificate whose ID is lost can never be found again:
 * - onEvent checks every input and the CA (read-only), calls CreateCertificate and returns the new
 *   certificate ID as the physical ID at once. From then on CloudFormation knows the ID: whatever
 *   fails later (an error, a Lambda timeout, the framework's total timeout) is reported FAILED with
 *   that ID, and the rollback Delete removes the certificate.
 * - isComplete reads the CSR, has the CA sign it, waits for issuance, uploads certificate and chain,
 *   sets the tags and reports the attributes. If it fails, it first deletes the certificate this
 *   request created (a certificate that never got its upload is useless), then fails.
 *
 * Residual risks, both inherent in the KMS API:
 * - A CreateCertificate whose reply is lost (connection reset, timeout, a 5xx after the service
 *   acted): KMS may hold a PENDING certificate whose ID nobody learned. The handler does not retry
 *   such a create; it fails naming the subject and the time, so the certificate can be found in
 *   the KMS console and deleted. Only throttling (which means "not processed") is retried.
 * - A Create redelivered after the first attempt's onEvent had already succeeded: this container
 *   remembers the ID it created for each request and returns it again, but a redelivery that lands
 *   on a fresh container would create a second certificate.
 *
 * Mode `upload` (an existing `CertificateId`) does all its work in onEvent: it creates nothing, and
 * a failure there never leads CloudFormation to delete the user's certificate.
 *
 * Credentials come from a Secrets Manager secret read at every invocation; they are never logged
 * and are scrubbed from error messages.
 */
import { createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import { connect, describe, Kms, kmsCall, settings } from './kms';
import { isKmsNetworkError, isKmsThrottling, isKmsTransient, KmsCertificateDescription, kmsErrorCode } from './kms-api';
import { explainKmsError, networkHint } from './kms-errors';
import { checkIssuer, issueCertificate } from './pca';
import { CreateRequest, parseRequest, Props, replaces, Request, UploadRequest } from './request';
import {
  AlibabaKmsCertificateResourceAttributes,
  CERTIFICATE_ID_PATTERN,
  TAG_VALUE_MAX_LENGTH,
} from '../../src/contract/alibaba-kms-certificate';
import { checkCertificateBody, checkCertificateChain, checkDates, parseCertificates } from '../../src/contract/x509';
import type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse } from '../shared/cfn';
import { isoDate } from '../shared/dates';
import { asInputError, errorMessage, errorName, InputError } from '../shared/errors';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';
import { readMaterial } from '../shared/material';
import { assertUpdatable, mayDelete, Owner, ownerTags, ownershipOf } from '../shared/ownership';
import { withRetry } from '../shared/retry';

type Event = OnEventRequest<Props>;

/**
 * The certificate each Create request of this container made (stack, logical ID and request ID
 * to certificate ID), so that a redelivered Create returns its own certificate instead of a second.
 */
const createdByRequest = new Map<string, string>();

/** `Custom::AlibabaKmsCertificate`. */
export const alibabaKmsCertificate: ResourceLifecycle<Props> = {
  create: async (event) => create(event, parseRequest(event.ResourceProperties)),
  update,
  delete: remove,
  /**
   * Signs and uploads a certificate onEvent created; otherwise only reports the attributes
   * (upload mode and Delete have nothing to wait for).
   */
  isComplete: async (event) => (event.RequestType === 'Delete' || event.ResourceProperties.Mode === 'upload'
    ? { IsComplete: true }
    : completeCreated(event)),
};

async function create(event: Event, request: Request): Promise<OnEventResponse> {
  if (request.mode === 'upload') {
    return upload(request, undefined, event);
  }
  const kms = await connect(request.connection, 'create');
  const requestKey = `${event.StackId}|${event.LogicalResourceId}|${event.RequestId}`;
  const earlier = createdByRequest.get(requestKey);
  if (earlier !== undefined && await describe(kms, earlier) !== undefined) {
    log('info', 'redelivered request: returning the certificate this request already created', { certificateId: earlier });
    return { PhysicalResourceId: earlier };
  }
  // Everything that can be checked is checked before the one write that cannot be undone by ID.
  await checkIssuer(request.issue);

  let certificateId: string;
  try {
    // Only throttling is retried: any other failure may have created a certificate.
    const created = await withRetry('kms:CreateCertificate', () => kms.api.createCertificate({
      subject: request.subject,
      subjectAlternativeNames: request.subjectAlternativeNames,
      keySpec: request.keySpec,
      exportablePrivateKey: request.exportablePrivateKey,
    }), { retryable: isKmsThrottling, maxAttempts: settings.kmsMaxAttempts });
    certificateId = created.certificateId;
  } catch (e) {
    if (isKmsNetworkError(e) || (isKmsTransient(e) && !isKmsThrottling(e))) {
      const at = new Date().toISOString();
      log('warn', 'CreateCertificate got no usable reply; KMS may hold a PENDING certificate nobody knows the ID of', {
        subject: request.subject,
        at,
        error: kmsErrorCode(e) ?? errorName(e),
      });
      const error = new Error(`CreateCertificate in ${request.connection.regionId} failed without a usable reply `
        + `(${kmsErrorCode(e) ?? errorName(e)}: ${errorMessage(e)}). KMS may have created a PENDING certificate for "${request.subject}" at about ${at}, `
        + 'and KMS offers no way to find it by API: look for it in the KMS console (Certificates, status PENDING) and delete it, then deploy again'
        + (isKmsNetworkError(e) ? `. If this repeats, ${networkHint(kms.context)}` : ''));
      error.name = kmsErrorCode(e) ?? errorName(e);
      throw error;
    }
    throw explainKmsError(e, 'CreateCertificate', kms.context);
  }
  createdByRequest.set(requestKey, certificateId);
  log('info', 'created a KMS certificate (PENDING); isComplete has it signed and uploads it', {
    certificateId,
    keySpec: request.keySpec,
    exportablePrivateKey: request.exportablePrivateKey,
  });
  return { PhysicalResourceId: certificateId };
}

async function update(event: Event): Promise<OnEventResponse> {
  const request = parseRequest(event.ResourceProperties);
  if (replaces(event)) {
    log('info', 'an input that identifies the certificate changed: a new certificate replaces the old one', { oldCertificateId: event.PhysicalResourceId });
    return create(event, request);
  }
  if (request.mode === 'upload') {
    return upload(request, event.OldResourceProperties, event);
  }
  // Tags and delete-time settings only: isComplete reconciles the tags (writing only differences).
  return { PhysicalResourceId: event.PhysicalResourceId! };
}

/**
 * The tags a certificate should carry: the user's and the ownership tags (hashed where a stack ID
 * is longer than KMS's 128-character tag values).
 */
function desiredTags(request: Request, owner: Owner): Map<string, string> {
  return new Map([...request.tags, ...ownerTags(owner, TAG_VALUE_MAX_LENGTH).map((t) => [t.Key, t.Value] as [string, string])]);
}

/**
 * Upload mode: checks the PEMs, uploads them unless KMS holds them already, sets the tags. Dates
 * are checked only when something is uploaded: an update of tags, or back to what KMS holds (a
 * rollback), succeeds even after the certificate expired.
 */
async function upload(request: UploadRequest, oldProps: Props | undefined, owner: Owner): Promise<OnEventResponse> {
  const certificate = await readMaterial(request.certificate, 'certificate');
  const chainText = request.certificateChain ? await readMaterial(request.certificateChain, 'certificateChain') : undefined;
  const chain = chainText !== undefined && chainText.trim().length > 0 ? chainText : undefined;
  asInputError(() => {
    checkCertificateBody(certificate, 'certificate', { dates: false });
    if (chain !== undefined) {
      checkCertificateChain(chain, 'certificateChain', certificate, { leafProperty: 'certificate', dates: false });
    }
  });

  const id = request.certificateId;
  const kms = await connect(request.connection, 'upload', id);
  const description = await describe(kms, id);
  if (!description) {
    throw new InputError('certificateId',
      `KMS has no certificate ${id} in ${request.connection.regionId}; check certificateId and regionId, and that the AccessKey in credentials belongs to the account that owns it`);
  }
  if (description.status === 'REVOKED') {
    throw new InputError('certificateId', `KMS certificate ${id} is REVOKED and takes no new certificate; create a new KMS certificate and use its ID`);
  }
  // The user's certificate: this resource claims it with the ownership tags, unless another
  // stack (or another resource) already did.
  assertUpdatable(ownershipOf(Object.entries(description.tags).map(([Key, Value]) => ({ Key, Value })), owner), `the KMS certificate ${id}`);
  const mismatch = keyMismatch(certificate, description.subjectPublicKey);
  if (mismatch) {
    throw new InputError('certificate',
      `is not issued for the key of KMS certificate ${id}: ${mismatch}; sign that KMS certificate's CSR (GetCertificate returns it) and upload the result`);
  }

  const stored = await kmsCall(kms, 'GetCertificate', () => kms.api.getCertificate(id));
  const unchanged = sameCertificates(stored?.certificate, certificate) && sameCertificates(stored?.certificateChain, chain);
  if (unchanged) {
    log('info', 'KMS already holds this certificate and chain; nothing to upload', { certificateId: id });
  } else {
    asInputError(() => {
      const warnings = checkDates(certificate, 'certificate');
      if (chain !== undefined) {
        warnings.push(...checkDates(chain, 'certificateChain'));
      }
      for (const warning of warnings) {
        log('warn', warning);
      }
    });
    await kmsCall(kms, 'UploadCertificate', () => kms.api.uploadCertificate({ certificateId: id, certificate, certificateChain: chain }));
    log('info', 'uploaded the certificate to KMS', { certificateId: id, previousStatus: description.status });
  }
  const previousTags = new Map((oldProps?.Tags ?? []).map((t) => [String(t.Key), String(t.Value ?? '')]));
  const tagged = await reconcileTags(kms, id, description.tags, desiredTags(request, owner), previousTags);
  const final = !unchanged || tagged ? await describe(kms, id) ?? description : description;
  return { PhysicalResourceId: id, Data: await attributes(kms, final) };
}

/** Create mode, isComplete: sign and upload a PENDING certificate, set tags, report attributes. */
async function completeCreated(event: IsCompleteRequest<Props>): Promise<IsCompleteResponse> {
  const request = parseRequest(event.ResourceProperties);
  if (request.mode !== 'create') {
    return { IsComplete: true };
  }
  const id = event.PhysicalResourceId;
  // Only a certificate this request created may be deleted when completing it fails.
  const createdHere = replaces(event);
  const kms = await connect(request.connection, 'create', id);
  try {
    let description = await describe(kms, id);
    if (!description) {
      throw new Error(`the KMS certificate ${id} of this resource no longer exists in ${request.connection.regionId} (deleted outside CloudFormation?); `
        + 'change an input (e.g. a tag-free property such as validity) to create a new one');
    }
    if (description.status === 'PENDING') {
      await signAndUpload(kms, request, id, description);
      description = await describe(kms, id) ?? description;
    }
    const previousTags = new Map((event.OldResourceProperties?.Tags ?? []).map((t) => [String(t.Key), String(t.Value ?? '')]));
    if (await reconcileTags(kms, id, description.tags, desiredTags(request, event), previousTags)) {
      description = await describe(kms, id) ?? description;
    }
    return { IsComplete: true, Data: await attributes(kms, description) };
  } catch (e) {
    if (createdHere) {
      await discard(kms, id);
    }
    throw e;
  }
}

async function signAndUpload(kms: Kms, request: CreateRequest, id: string, description: KmsCertificateDescription): Promise<void> {
  const stored = await kmsCall(kms, 'GetCertificate', () => kms.api.getCertificate(id));
  const csr = stored?.csr;
  if (!csr) {
    throw new Error(`KMS returned no CSR for the PENDING certificate ${id}; deploy again`);
  }
  const signingAlgorithm = await checkIssuer(request.issue);
  const issued = await issueCertificate(request.issue, signingAlgorithm, id, csr);
  const mismatch = keyMismatch(issued.certificate, description.subjectPublicKey);
  if (mismatch) {
    throw new InputError('template', `the certificate the CA issued (${issued.certificateArn}) is not for the KMS key: ${mismatch}; use a template that keeps the CSR's public key`);
  }
  await kmsCall(kms, 'UploadCertificate', () => kms.api.uploadCertificate({
    certificateId: id,
    certificate: issued.certificate,
    certificateChain: issued.chain.trim().length > 0 ? issued.chain : undefined,
  }));
  log('info', 'uploaded the CA-signed certificate and its chain to KMS', { certificateId: id, certificateArn: issued.certificateArn });
}

/** Best effort: deletes a certificate this request created and could not complete. */
async function discard(kms: Kms, id: string): Promise<void> {
  try {
    await kmsCall(kms, 'DeleteCertificate', () => kms.api.deleteCertificate(id));
    log('warn', 'deleted the certificate this request created, as completing it failed', { certificateId: id });
  } catch (e) {
    // The FAILED response still carries the ID, so CloudFormation's rollback Delete tries again.
    log('warn', 'could not delete the certificate this request created; the rollback Delete will try again', {
      certificateId: id,
      error: kmsErrorCode(e) ?? errorName(e),
    });
  }
}

async function remove(event: Event): Promise<OnEventResponse> {
  const id = event.PhysicalResourceId!;
  const props = event.ResourceProperties;
  if (!CERTIFICATE_ID_PATTERN.test(id)) {
    log('info', 'nothing to delete: no certificate was created', { physicalResourceId: id });
    return { PhysicalResourceId: id };
  }
  const retain = props.RemovalPolicy === 'retain';
  if (retain && props.Mode === 'upload') {
    log('info', 'keeping the KMS certificate (removalPolicy RETAIN)', { certificateId: id });
    return { PhysicalResourceId: id };
  }
  let request: Request;
  let kms: Kms;
  let description: KmsCertificateDescription | undefined;
  try {
    request = parseRequest(props);
    kms = await connect(request.connection, request.mode, id);
    description = await describe(kms, id);
  } catch (e) {
    if (retain) {
      // Keeping the certificate needs no call: do not fail a delete over it.
      log('warn', 'keeping the KMS certificate (removalPolicy RETAIN); could not check whether it was ever completed', { certificateId: id, error: errorName(e) });
      return { PhysicalResourceId: id };
    }
    throw e;
  }
  if (!description) {
    log('info', 'the KMS certificate is already gone', { certificateId: id });
    return { PhysicalResourceId: id };
  }
  if (!mayDelete(ownershipOf(Object.entries(description.tags).map(([Key, Value]) => ({ Key, Value })), event), `the KMS certificate ${id}`)) {
    return { PhysicalResourceId: id };
  }
  if (request.mode === 'create' && description.status === 'PENDING') {
    // Never completed (a create that failed part-way): useless whatever the removal policy.
    await kmsCall(kms, 'DeleteCertificate', () => kms.api.deleteCertificate(id));
    log('info', 'deleted a KMS certificate that was never completed', { certificateId: id });
  } else if (retain) {
    log('info', 'keeping the KMS certificate (removalPolicy RETAIN)', { certificateId: id });
  } else if (request.deactivate) {
    if (description.status === 'ACTIVE') {
      await kmsCall(kms, 'UpdateCertificateStatus', () => kms.api.updateCertificateStatus(id, 'INACTIVE'));
      log('info', 'set the KMS certificate INACTIVE (deactivateOnDelete)', { certificateId: id });
    } else {
      log('info', 'the KMS certificate is not ACTIVE; leaving it as it is (deactivateOnDelete)', { certificateId: id, status: description.status });
    }
  } else {
    await kmsCall(kms, 'DeleteCertificate', () => kms.api.deleteCertificate(id));
    log('info', 'deleted the KMS certificate and its private key', { certificateId: id });
  }
  return { PhysicalResourceId: id };
}

/**
 * Sets the desired tags and removes the ones this construct set before and no longer wants, leaving
 * tags added outside alone. Writes only differences. Returns whether anything was written.
 */
async function reconcileTags(
  kms: Kms,
  id: string,
  current: Record<string, string>,
  desired: Map<string, string>,
  previous: Map<string, string>,
): Promise<boolean> {
  const removed = [...previous.keys()].filter((k) => !desired.has(k) && k in current);
  const changed = [...desired].filter(([k, v]) => current[k] !== v);
  if (removed.length > 0) {
    await kmsCall(kms, 'UntagResource', () => kms.api.untagCertificate(id, removed));
  }
  if (changed.length > 0) {
    await kmsCall(kms, 'TagResource', () => kms.api.tagCertificate(id, Object.fromEntries(changed)));
  }
  if (removed.length + changed.length > 0) {
    log('info', 'updated tags', { certificateId: id, removed: removed.length, set: changed.length });
  }
  return removed.length + changed.length > 0;
}

async function attributes(kms: Kms, description: KmsCertificateDescription): Promise<AlibabaKmsCertificateResourceAttributes> {
  let serialNumber = description.serialNumber;
  let notAfter = description.notAfter;
  if (serialNumber === undefined || notAfter === undefined) {
    // Not every rendering of DescribeCertificate carries them: read the certificate itself.
    const stored = await kmsCall(kms, 'GetCertificate', () => kms.api.getCertificate(description.certificateId));
    if (stored?.certificate) {
      const cert = parseCertificates(stored.certificate, 'certificate')[0];
      serialNumber = serialNumber ?? cert.serialNumber.toLowerCase();
      notAfter = notAfter ?? cert.validTo;
    }
  }
  return {
    CertificateId: description.certificateId,
    Arn: description.arn,
    SerialNumber: serialNumber ?? '',
    NotAfter: isoDate(notAfter),
  };
}

/** Why `certificatePem` is not for the KMS key `publicKeyPem`, or undefined (also when unknown). */
function keyMismatch(certificatePem: string, publicKeyPem: string | undefined): string | undefined {
  if (!publicKeyPem) {
    return undefined;
  }
  let certKey: KeyObject;
  let kmsKey: KeyObject;
  try {
    certKey = new X509Certificate(certificatePem).publicKey;
    kmsKey = createPublicKey(publicKeyPem);
  } catch {
    // A key node cannot read (e.g. SM2): KMS itself checks on upload.
    return undefined;
  }
  const der = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (der(certKey).equals(der(kmsKey))) {
    return undefined;
  }
  const describeKey = (k: KeyObject) => `${k.asymmetricKeyType?.toUpperCase()}${k.asymmetricKeyDetails?.modulusLength ? ` ${k.asymmetricKeyDetails.modulusLength}` : ''}${k.asymmetricKeyDetails?.namedCurve ? ` ${k.asymmetricKeyDetails.namedCurve}` : ''}`;
  return `the certificate's public key (${describeKey(certKey)}) differs from the KMS key (${describeKey(kmsKey)})`;
}

/** Same certificates (by fingerprint), whatever the PEM's wrapping or line endings. */
function sameCertificates(a: string | undefined, b: string | undefined): boolean {
  const fingerprints = (pem: string | undefined): string => {
    if (pem === undefined || pem.trim().length === 0) {
      return '';
    }
    try {
      return parseCertificates(pem, 'certificate').map((c) => c.fingerprint256).join();
    } catch {
      return `unparsable:${pem}`;
    }
  };
  return fingerprints(a) === fingerprints(b);
}
