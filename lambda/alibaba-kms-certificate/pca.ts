/**
 * The ACM Private CA side: check the CA can sign the request, then IssueCertificate for the CSR
 * KMS generated and wait until the certificate is issued (the shared issue-and-wait, with this
 * construct's property names in its messages).
 */
import {
  checkIssuingCa,
  describeIssuingCa,
  issueAndWait,
  IssuedPems,
  PcaCaller,
  pcaIdempotencyToken,
} from '../shared/acm-pca';
import { ErrorExplainer, errorMessage } from '../shared/errors';
import { log } from '../shared/log';

/**
 * How long to wait for ACM Private CA to issue (GetCertificate answers RequestInProgressException
 * meanwhile): the SDK waiter's 3 seconds x 60 polls. Overridable in tests.
 */
export const pcaSettings = {
  issueWaitDeadlineMs: 3 * 60_000,
  issueWaitIntervalMs: 3_000,
};

const DAY_MS = 24 * 60 * 60 * 1000;

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

/** This handler's ACM Private CA calls: errors explained for `issuer`. */
const PCA: PcaCaller = { errors: PCA_ERRORS, context: (operation) => `issuer (${operation})` };

/** What to ask the CA for. */
export interface IssueRequest {
  readonly caArn: string;
  readonly templateArn: string;
  readonly validityDays: number;
}

/** The certificate the CA issued, with its chain (issuer first, root last). */
export interface IssuedCertificate extends IssuedPems {
  readonly certificateArn: string;
}

/**
 * Checks the CA can issue this request (ACTIVE, a key it can sign with, validity within its own,
 * short-lived cap) and returns the signing algorithm, which follows the CA's key, not the CSR's.
 * Read-only: runs before anything is created.
 */
export async function checkIssuer(request: IssueRequest): Promise<string> {
  const ca = await describeIssuingCa(PCA, request.caArn, 'issuer');
  const now = Date.now();
  return checkIssuingCa(ca, {
    caArn: request.caArn,
    caProperty: 'issuer',
    validityProperty: 'validity',
    endMs: now + request.validityDays * DAY_MS,
    now,
    outlivesCa: (caNotAfter, maxDays) =>
      `${request.validityDays} days would end after the CA's own certificate (notAfter ${caNotAfter.toISOString()}); `
      + `a certificate cannot outlive its issuer: use at most ${maxDays} days, or renew the CA`,
  });
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
  log('info', 'asking ACM Private CA to sign the KMS CSR', {
    certificateAuthorityArn: request.caArn,
    templateArn: request.templateArn,
    signingAlgorithm,
    validityDays: request.validityDays,
    certificateId: kmsCertificateId,
  });
  return issueAndWait(PCA, {
    caArn: request.caArn,
    csrPem,
    signingAlgorithm,
    templateArn: request.templateArn,
    validity: { Type: 'DAYS', Value: request.validityDays },
    idempotencyToken: pcaIdempotencyToken('AlibabaKmsCertificate', kmsCertificateId, request.caArn, request.templateArn, String(request.validityDays), csrPem),
  }, { deadlineMs: pcaSettings.issueWaitDeadlineMs, intervalMs: pcaSettings.issueWaitIntervalMs });
}
