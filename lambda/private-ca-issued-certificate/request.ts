/** The properties of `Custom::PrivateCaIssuedCertificate`, checked, and what identifies an issuance. */
import type { CsrRequest } from './csr';
import {
  DELETE_ONLY_PROPERTIES,
  RESPONSE_ONLY_PROPERTIES,
  dnsNameProblem,
  emailProblem,
  ipAddressProblem,
  ISSUED_KEY_ALGORITHMS,
  IssuedCertificateResourceProperties,
  ISSUED_CERTIFICATE_SUBJECT,
  IssuedCertificateSubject,
  IssuedKeyAlgorithmName,
  REVOCATION_REASONS,
  uriProblem,
} from '../../src/contract/issued-certificate';
import { joinProblems } from '../../src/contract/problems';
import { pcaIdempotencyToken } from '../shared/acm-pca';
import { InputError } from '../shared/errors';
import { parseNotifyDaysBefore } from '../shared/expiry';
import { canonicalJson } from '../shared/physical-name';

const CA_ARN = /^arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]*:certificate-authority\/[\w-]+$/;
/** An issued certificate's ARN; group 1 is its CA's ARN. */
export const CERTIFICATE_ARN = /^(arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]*:certificate-authority\/[\w-]+)\/certificate\/[0-9a-fA-F]+$/;
const TEMPLATE_ARN = /^arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]*:template\/[\w+=/,.@-]+$/;

export /** A request, validated. */
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
    // Every problem of the list in one error.
    const problem = joinProblems(items.map(check));
    if (problem) {
      throw new InputError(property, problem);
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
  return pcaIdempotencyToken('IssueCertificate', issuance, publicKeyFingerprint);
}
