/**
 * ACM Private CA for every handler that uses it: one client per container, and the one
 * issue-and-wait that both the issued-certificate and the Alibaba handlers use (check the CA can
 * sign the request, IssueCertificate, wait out RequestInProgressException, return the PEMs).
 *
 * What differs between callers is only what their messages name (the construct properties) and
 * the waits they were given; the steps are the same.
 */
import type { CertificateAuthority } from '@aws-sdk/client-acm-pca';
import { service } from './clients';
import { ErrorExplainer, errorName, InputError, translateError } from './errors';
import { contentHash } from './physical-name';
import { retryWhile } from './retry';
import { SHORT_LIVED_MAX_DAYS, signingAlgorithmForCaKey } from '../../src/contract/issued-certificate';

export { SHORT_LIVED_MAX_DAYS };

/** ACM Private CA, made on first use and kept for the life of the container. */
export const acmPca = service({
  load: () => import('@aws-sdk/client-acm-pca'),
  client: (sdk) => new sdk.ACMPCAClient({}),
});

const DAY_MS = 24 * 60 * 60 * 1000;
/** IssueCertificate's IdempotencyToken is 1 to 36 characters. */
const TOKEN_LENGTH = 36;

/** How one caller's calls are retried and its errors explained. */
export interface PcaCaller {
  /** The explanations of service errors, naming the caller's construct properties. */
  readonly errors: Record<string, ErrorExplainer>;
  /** The context of a message, from the operation (e.g. `issuer (acm-pca:IssueCertificate)`). */
  readonly context: (operation: string) => string;
  /** Error names this caller retries besides throttling and transient faults. */
  readonly retryOn?: readonly string[];
}

type AcmPcaApi = Parameters<Parameters<typeof acmPca.call>[1]>[0];

/** An ACM Private CA call: retried when transient, its error explained for the caller. */
export async function pcaCall<T>(caller: PcaCaller, operation: string, fn: (api: AcmPcaApi) => Promise<T>): Promise<T> {
  try {
    return await acmPca.call(operation, fn, { retryOn: caller.retryOn });
  } catch (e) {
    throw translateError(e, caller.errors, caller.context(operation));
  }
}

/** A PEM with its final newline (ACM Private CA returns PEMs without one). */
export function ensureNewline(pem: string): string {
  return pem === '' || pem.endsWith('\n') ? pem : `${pem}\n`;
}

/** An IssueCertificate idempotency token: the parts hashed to 36 hex characters. */
export function pcaIdempotencyToken(...parts: string[]): string {
  return contentHash(...parts).slice(0, TOKEN_LENGTH);
}

/** What the caller asks for, and the construct properties its messages name. */
export interface IssuerCheck {
  readonly caArn: string;
  /** The property that names the CA (`certificateAuthority`, `issuer`). */
  readonly caProperty: string;
  /** The property that sets the validity (`validity`, `validityEnd`). */
  readonly validityProperty: string;
  /** When the certificate would expire (ms since the epoch), measured from `now`. */
  readonly endMs: number;
  readonly now: number;
  /** What to say when the certificate would outlive its CA's certificate. */
  readonly outlivesCa: (caNotAfter: Date, maxDays: number) => string;
}

const STATUS_HINTS: Record<string, string> = {
  CREATING: 'wait until it is created',
  PENDING_CERTIFICATE: 'install its CA certificate first (a subordinate with an external parent needs its signed certificate)',
  DISABLED: 'enable it (PrivateCa enabled: true)',
  DELETED: 'restore it (RestoreCertificateAuthority) or use another CA',
  EXPIRED: 'renew its CA certificate',
  FAILED: 'it failed to create; use another CA',
};

/** The CA, or an InputError naming `caProperty` when there is none. */
export async function describeIssuingCa(caller: PcaCaller, caArn: string, caProperty: string): Promise<CertificateAuthority> {
  try {
    const response = await pcaCall(caller, 'acm-pca:DescribeCertificateAuthority',
      ({ sdk, client }) => client.send(new sdk.DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn })));
    return response.CertificateAuthority!;
  } catch (e) {
    const name = errorName(e);
    if (name === 'ResourceNotFoundException' || name === 'InvalidArnException') {
      throw new InputError(caProperty, `no ACM Private CA ${caArn} in this account and region; check the CA ARN`);
    }
    throw e;
  }
}

/**
 * Checks the CA can issue the request (ACTIVE, a key it can sign with, a validity within its own
 * and within the short-lived cap) and returns the signing algorithm, which follows the CA's key.
 */
export function checkIssuingCa(ca: CertificateAuthority, check: IssuerCheck): string {
  const status = ca.Status ?? 'UNKNOWN';
  if (status !== 'ACTIVE') {
    throw new InputError(check.caProperty,
      `the CA ${check.caArn} is ${status}; it issues certificates only when ACTIVE: ${STATUS_HINTS[status] ?? 'make it ACTIVE'}`);
  }
  const config = ca.CertificateAuthorityConfiguration;
  const signingAlgorithm = signingAlgorithmForCaKey(config?.KeyAlgorithm ?? '') ?? config?.SigningAlgorithm;
  if (!signingAlgorithm) {
    throw new InputError(check.caProperty, `the CA ${check.caArn} reports no key algorithm this handler can sign with`);
  }
  const caEnd = ca.NotAfter ? new Date(ca.NotAfter).getTime() : undefined;
  if (caEnd !== undefined && check.endMs > caEnd) {
    throw new InputError(check.validityProperty, check.outlivesCa(new Date(caEnd), Math.max(0, Math.floor((caEnd - check.now) / DAY_MS))));
  }
  if (ca.UsageMode === 'SHORT_LIVED_CERTIFICATE' && check.endMs - check.now > SHORT_LIVED_MAX_DAYS * DAY_MS) {
    throw new InputError(check.validityProperty,
      `the CA is in SHORT_LIVED_CERTIFICATE mode, which issues certificates valid for at most ${SHORT_LIVED_MAX_DAYS} days; shorten it`);
  }
  return signingAlgorithm;
}

/** What to issue. */
export interface IssueInput {
  readonly caArn: string;
  readonly csrPem: string;
  readonly signingAlgorithm: string;
  readonly templateArn: string;
  readonly validity: { readonly Type: 'DAYS' | 'ABSOLUTE'; readonly Value: number };
  readonly idempotencyToken: string;
}

/** The bounded wait for issuance (GetCertificate answers RequestInProgressException meanwhile). */
export interface IssueWait {
  readonly deadlineMs: number;
  readonly intervalMs: number;
}

/** A certificate and its chain (issuer first, root last), each ending in a newline. */
export interface IssuedPems {
  readonly certificate: string;
  readonly chain: string;
}

/** IssueCertificate; returns the new certificate's ARN. */
export async function requestCertificate(caller: PcaCaller, input: IssueInput): Promise<string> {
  const response = await pcaCall(caller, 'acm-pca:IssueCertificate', ({ sdk, client }) => client.send(new sdk.IssueCertificateCommand({
    CertificateAuthorityArn: input.caArn,
    Csr: new TextEncoder().encode(input.csrPem),
    SigningAlgorithm: input.signingAlgorithm as never,
    TemplateArn: input.templateArn,
    Validity: input.validity,
    IdempotencyToken: input.idempotencyToken,
  })));
  return response.CertificateArn!;
}

/** GetCertificate, once. */
export async function getIssuedCertificate(caller: PcaCaller, caArn: string, certificateArn: string): Promise<IssuedPems> {
  const response = await pcaCall(caller, 'acm-pca:GetCertificate', ({ sdk, client }) => client.send(new sdk.GetCertificateCommand({
    CertificateAuthorityArn: caArn,
    CertificateArn: certificateArn,
  })));
  return { certificate: ensureNewline(response.Certificate ?? ''), chain: ensureNewline(response.CertificateChain ?? '') };
}

/** GetCertificate until the certificate is issued, for at most `wait.deadlineMs`. */
export async function waitForCertificate(caller: PcaCaller, caArn: string, certificateArn: string, wait: IssueWait): Promise<IssuedPems> {
  return retryWhile(
    'acm-pca:GetCertificate',
    () => getIssuedCertificate(caller, caArn, certificateArn),
    (e) => errorName(e) === 'RequestInProgressException',
    wait,
  );
}

/** IssueCertificate, then the bounded wait for it: the certificate's ARN and PEMs. */
export async function issueAndWait(caller: PcaCaller, input: IssueInput, wait: IssueWait): Promise<IssuedPems & { readonly certificateArn: string }> {
  const certificateArn = await requestCertificate(caller, input);
  const issued = await waitForCertificate(caller, input.caArn, certificateArn, wait);
  return { certificateArn, ...issued };
}
