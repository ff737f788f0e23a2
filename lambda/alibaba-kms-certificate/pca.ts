/**
 * The ACM Private CA side: check the CA can sign the request, then IssueCertificate for the CSR
 * KMS generated and wait until the certificate is issued.
 */
import type { CertificateAuthority } from '@aws-sdk/client-acm-pca';
import { signingAlgorithmForCaKey } from '../../src/contract/issued-certificate';
import { ErrorExplainer, errorMessage, errorName, InputError, translateError } from '../shared/errors';
import { lazy } from '../shared/lazy';
import { log } from '../shared/log';
import { contentHash } from '../shared/physical-name';
import { isThrottlingOrTransient, retryWhile, withRetry } from '../shared/retry';

// Created once per container, on first use, as the Lambda runtime reuses it across invocations.
const pca = lazy(async () => {
  const sdk = await import('@aws-sdk/client-acm-pca');
  return { sdk, client: new sdk.ACMPCAClient({}) };
});

/**
 * How long to wait for ACM Private CA to issue (GetCertificate answers RequestInProgressException
 * meanwhile): the SDK waiter's 3 seconds x 60 polls. Overridable in tests.
 */
export const pcaSettings = {
  issueWaitDeadlineMs: 3 * 60_000,
  issueWaitIntervalMs: 3_000,
};

/** ACM Private CA caps certificates of a SHORT_LIVED_CERTIFICATE CA at seven days. */
const SHORT_LIVED_MAX_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;
/** IssueCertificate's IdempotencyToken is 1 to 36 characters. */
const TOKEN_LENGTH = 36;

const PCA_ERRORS: Record<string, ErrorExplainer> = {
  InvalidArgsException: (e) =>
    `ACM Private CA rejected the request (${errorMessage(e)}); check validity (a certificate cannot outlive its CA) and template`,
  InvalidStateException: (e) => `issuer is not in a state that allows issuing (${errorMessage(e)}); it must be ACTIVE`,
  LimitExceededException: (e) => `an ACM Private CA quota was reached (${errorMessage(e)}); ask for a higher quota or issue fewer certificates`,
  MalformedCSRException: (e) =>
    `ACM Private CA cannot sign the CSR KMS generated (${errorMessage(e)}); check subject and subjectAlternativeNames`,
  ResourceNotFoundException: () => 'issuer does not exist (or is in another account or region); check the CA',
  InvalidArnException: () => 'issuer or template is not a valid ARN; pass a PrivateCa and a CertificateTemplate',
  AccessDeniedException: () =>
    'the handler may not use issuer; a CA shared from another account must allow acm-pca:IssueCertificate, GetCertificate and DescribeCertificateAuthority in its resource policy',
  RequestFailedException: (e) => `ACM Private CA could not issue the certificate (${errorMessage(e)}); check template and validity`,
  RequestInProgressException: () =>
    `ACM Private CA is still issuing after ${Math.round(pcaSettings.issueWaitDeadlineMs / 1000)} seconds; deploy again`,
};

/** What to ask the CA for. */
export interface IssueRequest {
  readonly caArn: string;
  readonly templateArn: string;
  readonly validityDays: number;
}

/** The certificate the CA issued, with its chain (issuer first, root last). */
export interface IssuedCertificate {
  readonly certificateArn: string;
  readonly certificate: string;
  readonly chain: string;
}

type Pca = Awaited<ReturnType<typeof pca>>;

/** An ACM Private CA call with the client made on first use: retried when transient, its error explained. */
async function pcaCall<T>(operation: string, fn: (pcaApi: Pca) => Promise<T>): Promise<T> {
  try {
    const api = await pca();
    return await withRetry(operation, () => fn(api), { retryable: isThrottlingOrTransient });
  } catch (e) {
    throw translateError(e, PCA_ERRORS, `issuer (${operation})`);
  }
}

const STATUS_HINTS: Record<string, string> = {
  CREATING: 'wait until it is created',
  PENDING_CERTIFICATE: 'install its CA certificate first',
  DISABLED: 'enable it',
  DELETED: 'restore it (RestoreCertificateAuthority) or use another CA',
  EXPIRED: 'renew its CA certificate',
  FAILED: 'it failed to create; use another CA',
};

/**
 * Checks the CA can issue this request (ACTIVE, a key it can sign with, validity within its own,
 * short-lived cap) and returns the signing algorithm, which follows the CA's key, not the CSR's.
 * Read-only: runs before anything is created.
 */
export async function checkIssuer(request: IssueRequest): Promise<string> {
  let ca: CertificateAuthority;
  try {
    const response = await pcaCall('acm-pca:DescribeCertificateAuthority',
      ({ sdk, client }) => client.send(new sdk.DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: request.caArn })));
    ca = response.CertificateAuthority!;
  } catch (e) {
    const name = errorName(e);
    if (name === 'ResourceNotFoundException' || name === 'InvalidArnException') {
      throw new InputError('issuer', `no ACM Private CA ${request.caArn} in this account and region; check the CA`);
    }
    throw e;
  }
  const status = ca.Status ?? 'UNKNOWN';
  if (status !== 'ACTIVE') {
    throw new InputError('issuer', `the CA ${request.caArn} is ${status}; it issues certificates only when ACTIVE: ${STATUS_HINTS[status] ?? 'make it ACTIVE'}`);
  }
  const config = ca.CertificateAuthorityConfiguration;
  const signingAlgorithm = signingAlgorithmForCaKey(config?.KeyAlgorithm ?? '') ?? config?.SigningAlgorithm;
  if (!signingAlgorithm) {
    throw new InputError('issuer', `the CA ${request.caArn} reports no key algorithm this handler can sign with`);
  }
  const now = Date.now();
  const end = now + request.validityDays * DAY_MS;
  const caEnd = ca.NotAfter ? new Date(ca.NotAfter).getTime() : undefined;
  if (caEnd !== undefined && end > caEnd) {
    throw new InputError('validity',
      `${request.validityDays} days would end after the CA's own certificate (notAfter ${new Date(caEnd).toISOString()}); `
      + `a certificate cannot outlive its issuer: use at most ${Math.max(0, Math.floor((caEnd - now) / DAY_MS))} days, or renew the CA`);
  }
  if (ca.UsageMode === 'SHORT_LIVED_CERTIFICATE' && request.validityDays > SHORT_LIVED_MAX_DAYS) {
    throw new InputError('validity', `the CA is in SHORT_LIVED_CERTIFICATE mode, which issues certificates valid for at most ${SHORT_LIVED_MAX_DAYS} days; shorten it`);
  }
  return signingAlgorithm;
}

/**
 * IssueCertificate for `csrPem`, then waits (bounded) for the certificate. The idempotency token
 * hashes the KMS certificate ID, the request and the CSR, so a repeated attempt for the same KMS
 * certificate within ACM Private CA's five-minute window gets the same certificate.
 */
export async function issueCertificate(
  request: IssueRequest,
  signingAlgorithm: string,
  kmsCertificateId: string,
  csrPem: string,
): Promise<IssuedCertificate> {
  const token = contentHash('AlibabaKmsCertificate', kmsCertificateId, request.caArn, request.templateArn, String(request.validityDays), csrPem)
    .slice(0, TOKEN_LENGTH);
  log('info', 'asking ACM Private CA to sign the KMS CSR', {
    certificateAuthorityArn: request.caArn,
    templateArn: request.templateArn,
    signingAlgorithm,
    validityDays: request.validityDays,
    certificateId: kmsCertificateId,
  });
  const response = await pcaCall('acm-pca:IssueCertificate', ({ sdk, client }) => client.send(new sdk.IssueCertificateCommand({
    CertificateAuthorityArn: request.caArn,
    Csr: new TextEncoder().encode(csrPem),
    SigningAlgorithm: signingAlgorithm as never,
    TemplateArn: request.templateArn,
    Validity: { Type: 'DAYS', Value: request.validityDays },
    IdempotencyToken: token,
  })));
  const certificateArn = response.CertificateArn!;
  const issued = await retryWhile(
    'acm-pca:GetCertificate',
    () => pcaCall('acm-pca:GetCertificate', ({ sdk, client }) => client.send(new sdk.GetCertificateCommand({
      CertificateAuthorityArn: request.caArn,
      CertificateArn: certificateArn,
    }))),
    (e) => errorName(e) === 'RequestInProgressException',
    { deadlineMs: pcaSettings.issueWaitDeadlineMs, intervalMs: pcaSettings.issueWaitIntervalMs },
  );
  return {
    certificateArn,
    certificate: ensureNewline(issued.Certificate ?? ''),
    chain: ensureNewline(issued.CertificateChain ?? ''),
  };
}

function ensureNewline(pem: string): string {
  return pem === '' || pem.endsWith('\n') ? pem : `${pem}\n`;
}
