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
 * - Delete never touches the secret (a replacement's delete of the old certificate runs after the
 *   new one is stored; when the construct goes, CloudFormation deletes the secret itself).
 */
import type { CertificateAuthority } from '@aws-sdk/client-acm-pca';
import { buildCsr, CsrRequest, GeneratedKey, generateKey, loadKey } from './csr';
import {
  DELETE_ONLY_PROPERTIES,
  RESPONSE_ONLY_PROPERTIES,
  dnsNameProblem,
  emailProblem,
  ipAddressProblem,
  ISSUED_KEY_ALGORITHMS,
  IssuedCertificateResourceAttributes,
  IssuedCertificateResourceProperties,
  ISSUED_CERTIFICATE_SUBJECT,
  IssuedCertificateSubject,
  IssuedKeyAlgorithmName,
  REVOCATION_REASONS,
  SHORT_LIVED_MAX_DAYS,
  signingAlgorithmForCaKey,
  uriProblem,
} from '../../src/contract/issued-certificate';
import {
  CertificateCheckError,
  checkPrivateKeyMatchesCertificate,
  parseCertificates,
  summarizeCertificate,
} from '../../src/contract/x509';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { ErrorExplainer, errorMessage, errorName, InputError, translateError } from '../shared/errors';
import { expiryNoticeData, parseNotifyDaysBefore } from '../shared/expiry';
import { lazy } from '../shared/lazy';
import { describeEvent, log } from '../shared/log';
import { canonicalJson, contentHash } from '../shared/physical-name';
import { isThrottlingOrTransient, retryWhile, withRetry } from '../shared/retry';

// Created once per container, on first use, as the Lambda runtime reuses them across invocations.
const pca = lazy(async () => {
  const sdk = await import('@aws-sdk/client-acm-pca');
  return { sdk, client: new sdk.ACMPCAClient({}) };
});
const secrets = lazy(async () => {
  const sdk = await import('@aws-sdk/client-secrets-manager');
  return { sdk, client: new sdk.SecretsManagerClient({}) };
});

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

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_ARN = /^arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]*:certificate-authority\/[\w-]+$/;
const CERTIFICATE_ARN = /^(arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]*:certificate-authority\/[\w-]+)\/certificate\/[0-9a-fA-F]+$/;
const TEMPLATE_ARN = /^arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]*:template\/[\w+=/,.@-]+$/;
/** IssueCertificate's IdempotencyToken is 1 to 36 characters. */
const TOKEN_LENGTH = 36;

/** A request, validated. */
interface Request {
  readonly caArn: string;
  readonly csr: CsrRequest;
  readonly keyAlgorithm: IssuedKeyAlgorithmName;
  readonly templateArn: string;
  readonly validity: { readonly Type: 'DAYS' | 'ABSOLUTE'; readonly Value: number };
  readonly secretArn: string;
  readonly revocationReason: string;
  readonly revokeOnDelete: boolean;
  readonly retain: boolean;
  /** Day counts of the expiry notices to time (notifyBeforeExpiry). */
  readonly notifyDaysBefore: number[];
}

/** The secret's JSON value. Only `privateKey`, `certificate` and `certificateChain` are for consumers. */
interface SecretDocument {
  privateKey?: string;
  certificate?: string;
  certificateChain?: string;
  certificateArn?: string;
  /** Which request the stored certificate answers (hash of stack, logical ID and inputs). */
  issuance?: string;
  /** A key generated for a request that has not completed yet, with its exact CSR. */
  pendingPrivateKey?: string;
  pendingCsr?: string;
  pendingIssuance?: string;
}

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

const SECRET_ERRORS: Record<string, ErrorExplainer> = {
  ResourceNotFoundException: () => 'the certificate\'s secret does not exist (was it deleted outside CloudFormation?)',
  AccessDeniedException: () => 'the handler may not write the certificate\'s secret; it needs secretsmanager:PutSecretValue on it (and kms:GenerateDataKey on secretEncryptionKey)',
  InvalidRequestException: (e) => `the certificate's secret cannot take a new value (${errorMessage(e)}); if it is scheduled for deletion, restore it`,
  EncryptionFailure: () => 'the certificate\'s secret cannot be encrypted with secretEncryptionKey; check the key is enabled and the handler may use it',
  DecryptionFailure: () => 'the certificate\'s secret cannot be decrypted with secretEncryptionKey; check the key is enabled and the handler may use it',
  LimitExceededException: () => 'the certificate\'s secret has too many versions; deploy again later',
};

function isRetryable(e: unknown): boolean {
  return isThrottlingOrTransient(e) || errorName(e) === 'ConcurrentModificationException';
}

type Pca = Awaited<ReturnType<typeof pca>>;

/** Calls a service with the client `load` makes on first use, retrying transient failures. */
async function call<C, T>(operation: string, load: () => Promise<C>, fn: (api: C) => Promise<T>): Promise<T> {
  const api = await load();
  return withRetry(operation, () => fn(api), { retryable: isRetryable });
}

/** An ACM Private CA call: retried when transient, its error explained (the name is kept). */
async function pcaCall<T>(operation: string, fn: (pcaApi: Pca) => Promise<T>): Promise<T> {
  try {
    return await call(operation, pca, fn);
  } catch (e) {
    throw translateError(e, PCA_ERRORS, operation);
  }
}

/** The Provider framework's onEvent entry point. */
export async function onEvent(event: Event): Promise<OnEventResponse> {
  log('info', 'request', { ...describeEvent(event) });
  try {
    switch (event.RequestType) {
      case 'Create':
        return await issue(event, parseRequest(event.ResourceProperties));
      case 'Update':
        return await update(event);
      case 'Delete':
        return await remove(event);
      default:
        throw new Error(`unknown request type ${String(event.RequestType)}`);
    }
  } catch (e) {
    // Service errors are explained where they happen (pcaCall, writeSecret, readSecret).
    const error = e instanceof Error ? e : new Error(errorMessage(e));
    log('error', 'request failed', { requestType: event.RequestType, error: error.message });
    throw error;
  }
}

/** Checks every property before anything is written (values that were tokens at synth included). */
export function parseRequest(props: IssuedCertificateResourceProperties): Request {
  const caArn = String(props.CertificateAuthorityArn ?? '');
  if (!CA_ARN.test(caArn)) {
    throw new InputError('certificateAuthority', `'${caArn}' is not an ACM Private CA ARN (arn:<partition>:acm-pca:<region>:<account>:certificate-authority/<id>)`);
  }

  const rawSubject = (props.Subject ?? {}) as Record<string, unknown>;
  const subject: Record<string, string> = {};
  for (const rule of ISSUED_CERTIFICATE_SUBJECT.fields) {
    const value = rawSubject[rule.field];
    if (value === undefined || value === '') {
      continue;
    }
    const text = String(value);
    const problem = ISSUED_CERTIFICATE_SUBJECT.problem(rule, text);
    if (problem) {
      throw new InputError(rule.property, problem);
    }
    subject[rule.field] = text;
  }
  const list = (value: unknown, property: string, check: (v: string) => string | undefined): string[] => {
    if (value === undefined || value === null || value === '') {
      return [];
    }
    if (!Array.isArray(value)) {
      throw new InputError(property, 'must be a list of strings');
    }
    const items = value.map(String);
    for (const item of items) {
      const problem = check(item);
      if (problem) {
        throw new InputError(property, problem);
      }
    }
    return items;
  };
  const csr: CsrRequest = {
    subject: subject as IssuedCertificateSubject,
    dnsNames: list(props.DnsNames, 'dnsNames', dnsNameProblem),
    ipAddresses: list(props.IpAddresses, 'ipAddresses', ipAddressProblem),
    emails: list(props.Emails, 'emails', emailProblem),
    uris: list(props.Uris, 'uris', uriProblem),
  };
  if (Object.keys(subject).length === 0 && csr.dnsNames.length + csr.ipAddresses.length + csr.emails.length + csr.uris.length === 0) {
    throw new InputError('commonName', 'a certificate needs a subject (commonName or another subject field) or at least one of dnsNames, ipAddresses, emails, uris');
  }

  const keyAlgorithm = props.KeyAlgorithm;
  if (!ISSUED_KEY_ALGORITHMS.includes(keyAlgorithm)) {
    throw new InputError('keyAlgorithm', `'${String(keyAlgorithm)}' is not one of ${ISSUED_KEY_ALGORITHMS.join(', ')}`);
  }
  const templateArn = String(props.TemplateArn ?? '');
  if (!TEMPLATE_ARN.test(templateArn)) {
    throw new InputError('template', `'${templateArn}' is not an ACM Private CA template ARN (arn:<partition>:acm-pca:::template/<name>/V<n>)`);
  }

  const validityValue = Number(props.ValidityValue);
  if (props.ValidityType !== 'DAYS' && props.ValidityType !== 'ABSOLUTE') {
    throw new InputError('validity', `type '${String(props.ValidityType)}' is not DAYS or ABSOLUTE`);
  }
  if (!Number.isSafeInteger(validityValue) || validityValue < 1) {
    throw new InputError(props.ValidityType === 'DAYS' ? 'validity' : 'validityEnd', `'${String(props.ValidityValue)}' is not a positive whole number`);
  }
  if (props.ValidityType === 'ABSOLUTE' && validityValue * 1000 <= Date.now()) {
    throw new InputError('validityEnd', `${new Date(validityValue * 1000).toISOString()} is in the past; choose a future date`);
  }

  const revocationReason = String(props.RevocationReason ?? 'SUPERSEDED');
  if (!(REVOCATION_REASONS as readonly string[]).includes(revocationReason)) {
    throw new InputError('revocationReason', `'${revocationReason}' is not one of ${REVOCATION_REASONS.join(', ')}`);
  }
  const secretArn = String(props.SecretArn ?? '');
  if (secretArn === '') {
    throw new InputError('secret', 'the certificate\'s secret ARN is missing');
  }
  return {
    caArn,
    csr,
    keyAlgorithm,
    templateArn,
    validity: { Type: props.ValidityType, Value: validityValue },
    secretArn,
    revocationReason,
    revokeOnDelete: props.RevokeOnDelete !== 'false',
    retain: props.RemovalPolicy === 'retain',
    notifyDaysBefore: parseNotifyDaysBefore(props.NotifyDaysBefore),
  };
}

/**
 * The properties that decide which certificate is issued, canonically (sorted keys): everything
 * but the delete-time settings, so changing only those is an update in place.
 */
export function issuanceInputs(props: IssuedCertificateResourceProperties): string {
  const relevant: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) {
    if (key !== 'ServiceToken' && !(DELETE_ONLY_PROPERTIES as readonly string[]).includes(key)
      && !(RESPONSE_ONLY_PROPERTIES as readonly string[]).includes(key)) {
      relevant[key] = value;
    }
  }
  return canonicalJson(relevant);
}


/** The idempotency token: stack, logical ID, inputs and the CSR's public key, hashed to 36 hex characters. */
export function idempotencyToken(issuance: string, publicKeyFingerprint: string): string {
  return contentHash('IssueCertificate', issuance, publicKeyFingerprint).slice(0, TOKEN_LENGTH);
}

async function update(event: Event): Promise<OnEventResponse> {
  const request = parseRequest(event.ResourceProperties);
  const physicalId = event.PhysicalResourceId!;
  const unchanged = event.OldResourceProperties !== undefined
    && issuanceInputs(event.OldResourceProperties) === issuanceInputs(event.ResourceProperties);
  if (unchanged && CERTIFICATE_ARN.test(physicalId)) {
    // Only delete-time settings changed (or nothing): they take effect from the properties
    // CloudFormation sends with the Delete. Read-only: report the same certificate again.
    log('info', 'no change to the certificate; nothing to issue', { certificateArn: physicalId });
    const stored = await readSecret(request.secretArn);
    const pem = stored.certificateArn === physicalId && stored.certificate
      ? stored.certificate
      : (await getIssuedCertificate(request.caArn, physicalId)).certificate;
    return respond(physicalId, pem, request.secretArn, request.notifyDaysBefore);
  }
  // Any other change is a new certificate; CloudFormation then deletes (revokes) the old one.
  return issue(event, request);
}

async function issue(event: Event, request: Request): Promise<OnEventResponse> {
  const issuance = contentHash(event.StackId, event.LogicalResourceId, issuanceInputs(event.ResourceProperties));
  const stored = await readSecret(request.secretArn);

  // An earlier attempt of this very request completed (its response was lost): adopt it. This
  // also answers the rollback of a failed replacement, whose secret still holds this certificate.
  if (stored.issuance === issuance && stored.certificateArn && stored.certificate && stored.privateKey
    && CERTIFICATE_ARN.test(stored.certificateArn)) {
    log('info', 'adopting the certificate an earlier attempt stored', { certificateArn: stored.certificateArn });
    return respond(stored.certificateArn, stored.certificate, request.secretArn, request.notifyDaysBefore);
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
  let issued: { certificate: string; chain: string } | undefined;
  try {
    const token = idempotencyToken(issuance, key.publicKeyFingerprint);
    log('info', reused ? 'issuing the certificate again with the key of an interrupted attempt' : 'issuing a certificate', {
      certificateAuthorityArn: request.caArn,
      keyAlgorithm: request.keyAlgorithm,
      templateArn: request.templateArn,
      signingAlgorithm,
      validity: request.validity,
    });
    const response = await pcaCall('acm-pca:IssueCertificate', ({ sdk, client }) => client.send(new sdk.IssueCertificateCommand({
      CertificateAuthorityArn: request.caArn,
      Csr: new TextEncoder().encode(csrPem),
      SigningAlgorithm: signingAlgorithm as never,
      TemplateArn: request.templateArn,
      Validity: request.validity,
      IdempotencyToken: token,
    })));
    certificateArn = response.CertificateArn!;
    issued = await waitForCertificate(request.caArn, certificateArn);
    try {
      checkPrivateKeyMatchesCertificate(key.privateKeyPem, issued.certificate, 'privateKey', 'certificate');
    } catch (e) {
      if (e instanceof CertificateCheckError) {
        throw new Error(`the certificate ACM Private CA returned (${certificateArn}) is not for the key generated for it: ${e.rule}; deploy again`);
      }
      throw e;
    }
    await writeSecret(request.secretArn, {
      privateKey: key.privateKeyPem,
      certificate: issued.certificate,
      certificateChain: issued.chain,
      certificateArn,
      issuance,
    });
  } catch (e) {
    await abandon(request, previous, certificateArn, issued !== undefined);
    throw e;
  }
  log('info', 'stored the certificate, its chain and its key in the secret', { certificateArn, secretArn: request.secretArn });
  return respond(certificateArn, issued.certificate, request.secretArn, request.notifyDaysBefore);
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
      const { certificate } = await getIssuedCertificate(request.caArn, certificateArn);
      await pcaCall('acm-pca:RevokeCertificate', ({ sdk, client }) => client.send(new sdk.RevokeCertificateCommand({
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
    const { certificate } = await getIssuedCertificate(caArn, physicalId);
    await retryWhile(
      'acm-pca:RevokeCertificate',
      () => pcaCall('acm-pca:RevokeCertificate', ({ sdk, client }) => client.send(new sdk.RevokeCertificateCommand({
        CertificateAuthorityArn: caArn,
        CertificateSerial: revocationSerial(certificate),
        RevocationReason: revocationReason as never,
      }))),
      (e) => errorName(e) === 'RequestInProgressException',
      { deadlineMs: settings.issueWaitDeadlineMs, intervalMs: settings.issueWaitIntervalMs },
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

async function caIsGone(caArn: string): Promise<boolean> {
  try {
    const ca = await describeCa(caArn);
    return ca.Status === 'DELETED';
  } catch (e) {
    return e instanceof InputError;
  }
}

async function describeCa(caArn: string): Promise<CertificateAuthority> {
  try {
    const response = await pcaCall('acm-pca:DescribeCertificateAuthority', ({ sdk, client }) => client.send(new sdk.DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn })));
    return response.CertificateAuthority!;
  } catch (e) {
    const name = errorName(e);
    if (name === 'ResourceNotFoundException' || name === 'InvalidArnException') {
      throw new InputError('certificateAuthority', `no ACM Private CA ${caArn} in this account and region; check the CA ARN`);
    }
    throw e;
  }
}

const STATUS_HINTS: Record<string, string> = {
  CREATING: 'wait until it is created',
  PENDING_CERTIFICATE: 'install its CA certificate first (a subordinate with an external parent needs its signed certificate)',
  DISABLED: 'enable it (PrivateCa enabled: true)',
  DELETED: 'restore it (RestoreCertificateAuthority) or use another CA',
  EXPIRED: 'renew its CA certificate',
  FAILED: 'it failed to create; use another CA',
};

/** Checks the CA can issue this request; returns the signing algorithm that fits its key. */
function checkCa(ca: CertificateAuthority, request: Request): string {
  const status = ca.Status ?? 'UNKNOWN';
  if (status !== 'ACTIVE') {
    throw new InputError('certificateAuthority',
      `the CA ${request.caArn} is ${status}; it issues certificates only when ACTIVE: ${STATUS_HINTS[status] ?? 'make it ACTIVE'}`);
  }
  const config = ca.CertificateAuthorityConfiguration;
  const signingAlgorithm = signingAlgorithmForCaKey(config?.KeyAlgorithm ?? '') ?? config?.SigningAlgorithm;
  if (!signingAlgorithm) {
    throw new InputError('certificateAuthority', `the CA ${request.caArn} reports no key algorithm this handler can sign with`);
  }

  const now = Date.now();
  const end = request.validity.Type === 'DAYS' ? now + request.validity.Value * DAY_MS : request.validity.Value * 1000;
  const property = request.validity.Type === 'DAYS' ? 'validity' : 'validityEnd';
  const caEnd = ca.NotAfter ? new Date(ca.NotAfter).getTime() : undefined;
  if (caEnd !== undefined && end > caEnd) {
    const maxDays = Math.floor((caEnd - now) / DAY_MS);
    throw new InputError(property,
      `the certificate would expire at ${new Date(end).toISOString()}, after its CA's certificate (notAfter ${new Date(caEnd).toISOString()}); `
      + `a certificate cannot outlive its issuer: ${property === 'validity' ? `use at most ${maxDays} days` : 'choose an earlier date'}, or renew the CA`);
  }
  if (ca.UsageMode === 'SHORT_LIVED_CERTIFICATE' && end - now > SHORT_LIVED_MAX_DAYS * DAY_MS) {
    throw new InputError(property,
      `the CA is in SHORT_LIVED_CERTIFICATE mode, which issues certificates valid for at most ${SHORT_LIVED_MAX_DAYS} days; shorten it`);
  }
  return signingAlgorithm;
}

async function waitForCertificate(caArn: string, certificateArn: string): Promise<{ certificate: string; chain: string }> {
  return retryWhile(
    'acm-pca:GetCertificate',
    () => getIssuedCertificate(caArn, certificateArn),
    (e) => errorName(e) === 'RequestInProgressException',
    { deadlineMs: settings.issueWaitDeadlineMs, intervalMs: settings.issueWaitIntervalMs },
  );
}

async function getIssuedCertificate(caArn: string, certificateArn: string): Promise<{ certificate: string; chain: string }> {
  const response = await pcaCall('acm-pca:GetCertificate', ({ sdk, client }) => client.send(new sdk.GetCertificateCommand({
    CertificateAuthorityArn: caArn,
    CertificateArn: certificateArn,
  })));
  return { certificate: ensureNewline(response.Certificate ?? ''), chain: ensureNewline(response.CertificateChain ?? '') };
}

async function readSecret(secretArn: string): Promise<SecretDocument> {
  let text: string | undefined;
  try {
    const response = await call('secretsmanager:GetSecretValue', secrets, ({ sdk, client }) => client.send(new sdk.GetSecretValueCommand({ SecretId: secretArn })));
    text = response.SecretString;
  } catch (e) {
    // A new secret has no value (no AWSCURRENT version) until the first write.
    if (errorName(e) === 'ResourceNotFoundException') {
      return {};
    }
    throw translateError(e, SECRET_ERRORS, 'secret');
  }
  if (text === undefined || text.trim() === '') {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed as SecretDocument : {};
  } catch {
    // Not ours (someone wrote another value): it holds nothing to keep.
    log('warn', 'the certificate\'s secret does not hold JSON; it will be overwritten', { secretArn });
    return {};
  }
}

async function writeSecret(secretArn: string, doc: SecretDocument): Promise<void> {
  try {
    await call('secretsmanager:PutSecretValue', secrets, ({ sdk, client }) => client.send(new sdk.PutSecretValueCommand({
      SecretId: secretArn,
      SecretString: JSON.stringify(doc),
    })));
  } catch (e) {
    throw translateError(e, SECRET_ERRORS, 'secret');
  }
}

function withoutPending(doc: SecretDocument): SecretDocument {
  const { pendingPrivateKey: _key, pendingCsr: _csr, pendingIssuance: _issuance, ...rest } = doc;
  return rest;
}

function respond(certificateArn: string, certificatePem: string, secretArn: string, notifyDaysBefore: number[]): OnEventResponse {
  const summary = summarizeCertificate(parseCertificates(certificatePem, 'certificate')[0]);
  const data: IssuedCertificateResourceAttributes = {
    ...expiryNoticeData(summary.notAfter, notifyDaysBefore, 'certificate'),
    CertificateArn: certificateArn,
    SerialNumber: summary.serialNumber,
    NotBefore: summary.notBefore,
    NotAfter: summary.notAfter,
    SecretArn: secretArn,
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

function ensureNewline(pem: string): string {
  return pem === '' || pem.endsWith('\n') ? pem : `${pem}\n`;
}

// The knobs the test tiers turn on the shipped bundle (no real backoff waits), as on the sources.
export { retryConfig } from '../shared/retry';
