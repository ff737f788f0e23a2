/**
 * `Custom::PrivateCaIssuedCertificate`: a key pair made here, a CSR, ACM Private CA's
 * IssueCertificate, and the key + certificate + chain stored in the construct's secret.
 *
 * Consistency rules (the secret must always hold a key that matches its certificate):
 * - The key is generated, then written to the secret as `pendingPrivateKey` (with the exact CSR)
 *   before IssueCertificate; the current `privateKey`/`certificate` pair stays untouched meanwhile.
 * - The idempotency token hashes the stack, the logical ID, every issuance input and the CSR's
 *   public key. A retried Create finds the pending key and CSR and sends the identical request, so
 *   ACM Private CA returns the same certificate; a request with any other key gets another token,
 *   so it can never be answered with a certificate for a different key.
 * - Only once the certificate is issued and its public key checked against the key are
 *   `privateKey`, `certificate` and `certificateChain` replaced, in one PutSecretValue.
 * - Each stored certificate is its own secret version, whose VersionId (derived from the request
 *   and the certificate, so a retried write is the same version) is returned as `SecretVersionId`.
 *   Consumers read that version: a re-issue changes their properties, so CloudFormation updates
 *   them all before its cleanup revokes the old certificate.
 * - Delete revokes; it touches the secret only when the secret still holds the certificate being
 *   revoked (the rollback of a re-issue): the previous certificate is written back first, so the
 *   secret never holds a revoked certificate while an older valid one exists.
 */
import { buildCsr, GeneratedKey, generateKey, loadKey } from './csr';
import { CERTIFICATE_ARN, idempotencyToken, issuanceInputs, parseRequest, Request } from './request';
import { readSecret, SecretDocument, withoutPending, writeSecret } from './secret';
import {
  IssuedCertificateResourceAttributes,
  IssuedCertificateResourceProperties,
  ISSUED_CERTIFICATE_SUBJECT,
  REVOCATION_REASONS,
} from '../../src/contract/issued-certificate';
import {
  CertificateCheckError,
  checkPrivateKeyMatchesCertificate,
  parseCertificates,
  summarizeCertificate,
} from '../../src/contract/x509';
import {
  checkIssuingCa,
  describeIssuingCa,
  getIssuedCertificate,
  IssuedPems,
  pcaCall,
  PcaCaller,
  requestCertificate,
  waitForCertificate,
} from '../shared/acm-pca';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { ErrorExplainer, errorMessage, errorName, InputError } from '../shared/errors';
import { expiryNoticeData } from '../shared/expiry';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';
import { contentHash } from '../shared/physical-name';
import { retryWhile } from '../shared/retry';

/**
 * How long the handler waits for ACM Private CA to finish issuing (GetCertificate answers
 * RequestInProgressException meanwhile): the SDK waiter's 3 seconds x 60 polls, well inside the
 * handler's 10-minute timeout. Overridable in tests.
 */
export const settings = {
  issueWaitDeadlineMs: 3 * 60_000,
  issueWaitIntervalMs: 3_000,
};

type Event = OnEventRequest<IssuedCertificateResourceProperties>;

/** The wait for an issuance or a revocation in progress, as `settings` says now. */
const issueWait = () => ({ deadlineMs: settings.issueWaitDeadlineMs, intervalMs: settings.issueWaitIntervalMs });

const DAY_MS = 24 * 60 * 60 * 1000;

const PCA_ERRORS: Record<string, ErrorExplainer> = {
  InvalidArgsException: (e) =>
    `ACM Private CA rejected the request (${errorMessage(e)}); check validity/validityEnd (a certificate cannot outlive its CA), template and keyAlgorithm`,
  InvalidStateException: (e) =>
    `certificateAuthority is not in a state that allows this (${errorMessage(e)}); it must be ACTIVE`,
  LimitExceededException: (e) =>
    `an ACM Private CA quota was reached (${errorMessage(e)}); revoke or stop issuing certificates you do not need, or ask for a higher quota`,
  MalformedCSRException: (e) =>
    `ACM Private CA rejected the request built from commonName, the other subject fields and dnsNames/ipAddresses/emails/uris (${errorMessage(e)}); check them`,
  ResourceNotFoundException: () =>
    'certificateAuthority does not exist (or is in another account or region); check the CA ARN',
  InvalidArnException: () =>
    'certificateAuthority or template is not a valid ARN; pass a PrivateCa (or its ARN) and a CertificateTemplate',
  AccessDeniedException: () =>
    'the handler may not use this CA; for a CA shared from another account, its resource policy must allow acm-pca:IssueCertificate, GetCertificate and RevokeCertificate for this account',
  RequestFailedException: (e) =>
    `ACM Private CA could not issue the certificate (${errorMessage(e)}); check template, validity and the subject fields`,
  RequestInProgressException: () =>
    `ACM Private CA is still processing the request after ${Math.round(settings.issueWaitDeadlineMs / 1000)} seconds; deploy again`,
  ConcurrentModificationException: () => 'the CA was being changed at the same time; deploy again',
};

/** ACM Private CA calls of this handler: concurrent changes retried, errors named after the operation. */
const PCA: PcaCaller = {
  errors: PCA_ERRORS,
  context: (operation) => operation,
  retryOn: ['ConcurrentModificationException'],
};

/** `Custom::PrivateCaIssuedCertificate`. */
export const issuedCertificate: ResourceLifecycle<IssuedCertificateResourceProperties> = {
  create: async (event) => issue(event, parseRequest(event.ResourceProperties)),
  update,
  delete: remove,
};

async function update(event: Event): Promise<OnEventResponse> {
  const request = parseRequest(event.ResourceProperties);
  const physicalId = event.PhysicalResourceId!;
  const unchanged = event.OldResourceProperties !== undefined
    && issuanceInputs(event.OldResourceProperties) === issuanceInputs(event.ResourceProperties);
  if (unchanged && CERTIFICATE_ARN.test(physicalId)) {
    // Only delete-time settings changed (or nothing): they take effect from the properties
    // CloudFormation sends with the Delete. Read-only: report the same certificate again.
    const stored = await readSecret(request.secretArn);
    if (stored.doc.certificateArn === physicalId && stored.doc.certificate && stored.versionId) {
      log('info', 'no change to the certificate; nothing to issue', { certificateArn: physicalId });
      return respond(physicalId, stored.doc.certificate, request.secretArn, stored.versionId, request.notifyDaysBefore);
    }
    log('warn', 'the secret no longer holds this certificate; issuing it again', { certificateArn: physicalId });
  }
  // Any other change is a new certificate; CloudFormation then deletes (revokes) the old one.
  return issue(event, request);
}

async function issue(event: Event, request: Request): Promise<OnEventResponse> {
  const issuance = contentHash(event.StackId, event.LogicalResourceId, issuanceInputs(event.ResourceProperties));
  const current = await readSecret(request.secretArn);
  const stored = current.doc;

  // An earlier attempt of this very request completed (its response was lost): adopt it, with no
  // date check (an update back to a state that still exists). No other stack can be met here:
  // the secret is this construct's own, and `issuance` hashes the stack ID and logical ID.
  if (stored.issuance === issuance && stored.certificateArn && stored.certificate && stored.privateKey
    && CERTIFICATE_ARN.test(stored.certificateArn) && current.versionId) {
    log('info', 'adopting the certificate an earlier attempt stored', { certificateArn: stored.certificateArn });
    return respond(stored.certificateArn, stored.certificate, request.secretArn, current.versionId, request.notifyDaysBefore);
  }

  const ca = await describeCa(request.caArn);
  const signingAlgorithm = checkCa(ca, request);

  // Reuse the key (and the exact CSR) of an interrupted attempt of the same request.
  let key: GeneratedKey | undefined;
  let csrPem: string | undefined;
  if (stored.pendingIssuance === issuance && stored.pendingPrivateKey && stored.pendingCsr) {
    key = await loadKey(stored.pendingPrivateKey, request.keyAlgorithm);
    csrPem = key ? stored.pendingCsr : undefined;
  }
  const reused = key !== undefined;
  const previous: SecretDocument = withoutPending(stored);
  if (!key || !csrPem) {
    key = await generateKey(request.keyAlgorithm);
    csrPem = await buildCsr(key, request.keyAlgorithm, request.csr, ISSUED_CERTIFICATE_SUBJECT.fields);
    await writeSecret(request.secretArn, { ...previous, pendingPrivateKey: key.privateKeyPem, pendingCsr: csrPem, pendingIssuance: issuance });
  }

  let certificateArn: string | undefined;
  let issued: IssuedPems | undefined;
  let versionId: string;
  try {
    const token = idempotencyToken(issuance, key.publicKeyFingerprint);
    log('info', reused ? 'issuing the certificate again with the key of an interrupted attempt' : 'issuing a certificate', {
      certificateAuthorityArn: request.caArn,
      keyAlgorithm: request.keyAlgorithm,
      templateArn: request.templateArn,
      signingAlgorithm,
      validity: request.validity,
    });
    certificateArn = await requestCertificate(PCA, {
      caArn: request.caArn,
      csrPem,
      signingAlgorithm,
      templateArn: request.templateArn,
      validity: request.validity,
      idempotencyToken: token,
    });
    issued = await waitForCertificate(PCA, request.caArn, certificateArn, issueWait());
    try {
      checkPrivateKeyMatchesCertificate(key.privateKeyPem, issued.certificate, 'privateKey', 'certificate');
    } catch (e) {
      if (e instanceof CertificateCheckError) {
        throw new Error(`the certificate ACM Private CA returned (${certificateArn}) is not for the key generated for it: ${e.rule}; deploy again`);
      }
      throw e;
    }
    versionId = await writeSecret(request.secretArn, {
      privateKey: key.privateKeyPem,
      certificate: issued.certificate,
      certificateChain: issued.chain,
      certificateArn,
      issuance,
    }, secretVersionId(issuance, certificateArn));
  } catch (e) {
    await abandon(request, previous, certificateArn, issued !== undefined);
    throw e;
  }
  log('info', 'stored the certificate, its chain and its key in the secret', { certificateArn, secretArn: request.secretArn, versionId });
  return respond(certificateArn, issued.certificate, request.secretArn, versionId, request.notifyDaysBefore);
}

/** The VersionId of a stored certificate: Secrets Manager's ClientRequestToken is 32 to 64 characters. */
function secretVersionId(issuance: string, certificateArn: string): string {
  const hex = contentHash('secret-version', issuance, certificateArn);
  // A UUID's shape, as the SDK generates them, so the ID reads like any other VersionId.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Undoes a request that failed part-way, best effort (a Create that fails is never deleted by
 * CloudFormation: the Provider framework answers that Delete itself). The pending key is dropped
 * first; only if that worked is an issued certificate revoked, so a retry can never be answered
 * with a revoked certificate for a key it still holds.
 */
async function abandon(request: Request, previous: SecretDocument, certificateArn: string | undefined, issued: boolean): Promise<void> {
  try {
    await writeSecret(request.secretArn, previous);
  } catch (e) {
    log('warn', 'could not drop the pending key; a retry will reuse it', { error: errorName(e) });
    return;
  }
  if (certificateArn && issued) {
    try {
      const { certificate } = await getIssuedCertificate(PCA, request.caArn, certificateArn);
      await pcaCall(PCA, 'acm-pca:RevokeCertificate', ({ sdk, client }) => client.send(new sdk.RevokeCertificateCommand({
        CertificateAuthorityArn: request.caArn,
        CertificateSerial: revocationSerial(certificate),
        RevocationReason: 'CESSATION_OF_OPERATION',
      })));
      log('warn', 'revoked the certificate of the failed request (it was never stored)', { certificateArn });
    } catch (e) {
      log('warn', 'could not revoke the certificate of the failed request', { certificateArn, error: errorName(e) });
    }
  }
}

async function remove(event: Event): Promise<OnEventResponse> {
  const physicalId = event.PhysicalResourceId!;
  const props = event.ResourceProperties;
  const match = CERTIFICATE_ARN.exec(physicalId);
  if (!match) {
    log('info', 'nothing to revoke: no certificate was issued', { physicalResourceId: physicalId });
    return { PhysicalResourceId: physicalId };
  }
  // Whether or not it is revoked, a certificate CloudFormation deletes must not stay current.
  await restorePreviousIfCurrent(props.SecretArn, physicalId);
  if (props.RemovalPolicy === 'retain' || props.RevokeOnDelete === 'false') {
    log('info', 'leaving the certificate valid', {
      certificateArn: physicalId,
      reason: props.RemovalPolicy === 'retain' ? 'removalPolicy RETAIN' : 'revokeOnDelete false',
    });
    return { PhysicalResourceId: physicalId };
  }
  const revocationReason = (REVOCATION_REASONS as readonly string[]).includes(props.RevocationReason) ? props.RevocationReason : 'SUPERSEDED';
  // The CA is part of the certificate ARN: the certificate is revoked where it was issued, even
  // when the properties now name another CA.
  const caArn = match[1];
  try {
    const { certificate } = await getIssuedCertificate(PCA, caArn, physicalId);
    await retryWhile(
      'acm-pca:RevokeCertificate',
      () => pcaCall(PCA, 'acm-pca:RevokeCertificate', ({ sdk, client }) => client.send(new sdk.RevokeCertificateCommand({
        CertificateAuthorityArn: caArn,
        CertificateSerial: revocationSerial(certificate),
        RevocationReason: revocationReason as never,
      }))),
      (e) => errorName(e) === 'RequestInProgressException',
      issueWait(),
    );
    log('info', 'revoked the certificate', { certificateArn: physicalId, revocationReason });
  } catch (e) {
    const name = errorName(e);
    if (name === 'RequestAlreadyProcessedException') {
      log('info', 'the certificate was already revoked', { certificateArn: physicalId });
    } else if (name === 'ResourceNotFoundException') {
      log('info', 'the certificate (or its CA) is gone; nothing to revoke', { certificateArn: physicalId });
    } else if (name === 'InvalidStateException' && await caIsGone(caArn)) {
      log('warn', 'the CA is deleted; its certificates can no longer be revoked', { certificateArn: physicalId });
    } else if (name === 'InvalidStateException') {
      throw new InputError('revokeOnDelete',
        `cannot revoke ${physicalId}: its CA is not ACTIVE (${errorMessage(e)}); enable the CA and delete again, or set revokeOnDelete to false`);
    } else if (name === 'InvalidRequestException') {
      throw new InputError('revokeOnDelete',
        `ACM Private CA refused to revoke ${physicalId} (${errorMessage(e)}); when the CA writes a CRL, check its S3 bucket policy, or set revokeOnDelete to false`);
    } else {
      throw e;
    }
  }
  return { PhysicalResourceId: physicalId };
}

/**
 * Before a certificate is revoked: if the secret still holds it as AWSCURRENT (a re-issue that
 * rolled back, so CloudFormation deletes the new certificate and keeps the old one), write the
 * previous certificate back when it is still valid, so readers of AWSCURRENT never get a revoked
 * one. Consumers that pinned the old version read it anyway. Best effort: the revocation goes on.
 * A Delete does not say whether it is a rollback's or the stack's: on a stack delete after a
 * re-issue the same rule writes the earlier certificate back just before the secret goes.
 */
async function restorePreviousIfCurrent(secretArn: string | undefined, certificateArn: string): Promise<void> {
  if (!secretArn) {
    return;
  }
  try {
    const current = await readSecret(secretArn);
    if (current.doc.certificateArn !== certificateArn) {
      return;
    }
    const previous = await readSecret(secretArn, 'AWSPREVIOUS');
    const doc = withoutPending(previous.doc);
    if (!doc.certificateArn || doc.certificateArn === certificateArn || !doc.certificate || !doc.privateKey || !doc.issuance) {
      return;
    }
    const notAfter = Date.parse(summarizeCertificate(parseCertificates(doc.certificate, 'certificate')[0]).notAfter);
    if (!(notAfter > Date.now())) {
      return;
    }
    // A token of its own: the original version may still exist with this very document, and
    // Secrets Manager would take a repeated token as a retry and move no label.
    await writeSecret(secretArn, doc, secretVersionId(`restored ${current.versionId ?? ''}`, doc.certificateArn));
    log('info', 'the secret holds the previous certificate again', { certificateArn: doc.certificateArn });
  } catch (e) {
    log('warn', 'could not put the previous certificate back in the secret', { error: errorName(e) });
  }
}

async function caIsGone(caArn: string): Promise<boolean> {
  try {
    const ca = await describeCa(caArn);
    return ca.Status === 'DELETED';
  } catch (e) {
    return e instanceof InputError;
  }
}

async function describeCa(caArn: string) {
  return describeIssuingCa(PCA, caArn, 'certificateAuthority');
}

/** Checks the CA can issue this request; returns the signing algorithm that fits its key. */
function checkCa(ca: Awaited<ReturnType<typeof describeCa>>, request: Request): string {
  const now = Date.now();
  const end = request.validity.Type === 'DAYS' ? now + request.validity.Value * DAY_MS : request.validity.Value * 1000;
  const property = request.validity.Type === 'DAYS' ? 'validity' : 'validityEnd';
  return checkIssuingCa(ca, {
    caArn: request.caArn,
    caProperty: 'certificateAuthority',
    validityProperty: property,
    endMs: end,
    now,
    outlivesCa: (caNotAfter, maxDays) =>
      `the certificate would expire at ${new Date(end).toISOString()}, after its CA's certificate (notAfter ${caNotAfter.toISOString()}); `
      + `a certificate cannot outlive its issuer: ${property === 'validity' ? `use at most ${maxDays} days` : 'choose an earlier date'}, or renew the CA`,
  });
}

function respond(
  certificateArn: string,
  certificatePem: string,
  secretArn: string,
  secretVersion: string,
  notifyDaysBefore: number[],
): OnEventResponse {
  const summary = summarizeCertificate(parseCertificates(certificatePem, 'certificate')[0]);
  const data: IssuedCertificateResourceAttributes = {
    ...expiryNoticeData(summary.notAfter, notifyDaysBefore, 'certificate'),
    CertificateArn: certificateArn,
    SerialNumber: summary.serialNumber,
    NotBefore: summary.notBefore,
    NotAfter: summary.notAfter,
    SecretArn: secretArn,
    SecretVersionId: secretVersion,
  };
  return { PhysicalResourceId: certificateArn, Data: data };
}

/** The serial as RevokeCertificate documents it: lower-case hex octets joined by ':'. */
export function revocationSerial(certificatePem: string): string {
  let hex = parseCertificates(certificatePem, 'certificate')[0].serialNumber.toLowerCase();
  if (hex.length % 2 === 1) {
    hex = `0${hex}`;
  }
  return hex.match(/../g)!.join(':');
}
