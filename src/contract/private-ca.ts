/**
 * The contract between the `PrivateCa` construct and its handler (`lambda/private-ca`), plus the
 * rules both check: the construct at synth, the handler at deploy for values that were tokens.
 * No CDK import: the handler imports this file too.
 */
import { AWS_RESERVED_TAG_KEYS, AWS_TAG_CHARACTERS, TagRules } from './tags';
import { ASN1_SUBJECT_ORDER, x500Subject } from './x500';

/**
 * `Custom::PrivateCa`: what CloudFormation lacks on the CA's lifecycle. On delete it disables the
 * CA (when ACTIVE), then deletes it with the chosen restoration window; the native
 * `AWS::ACMPCA::CertificateAuthority` is retained by CloudFormation so this is the only deletion.
 * Physical ID: the CA ARN (a new ARN means a replaced CA, and CloudFormation then deletes the old one).
 */
export interface PrivateCaResourceProperties {
  readonly CertificateAuthorityArn: string;
  /** An integer from 7 to 30, as a string. */
  readonly PermanentDeletionTimeInDays: string;
  readonly RemovalPolicy: 'retain' | 'destroy';
}

/** `Custom::PrivateCa` attributes. */
export interface PrivateCaResourceAttributes {
  readonly Arn: string;
  readonly [key: string]: string;
}

/**
 * `Custom::PrivateCaPolicy`: the CA's resource-based policy (PutPolicy / DeletePolicy), which
 * CloudFormation has no resource for. Physical ID: `<CA ARN>/policy`.
 */
export interface PrivateCaPolicyResourceProperties {
  readonly CertificateAuthorityArn: string;
  /** The policy document as JSON. */
  readonly Policy: string;
  readonly RemovalPolicy: 'retain' | 'destroy';
}

/**
 * `Custom::PrivateCaExpiryNotices`: times the CA's expiry notices (notifyBeforeExpiry) from its
 * certificate. Create and Update make no API call; Delete has nothing to delete. A resource of
 * its own rather than a property of `Custom::PrivateCa`: a root's certificate resource takes its
 * CA ARN from `Custom::PrivateCa`, so that resource cannot also take the certificate.
 * Physical ID: `<CA ARN>/expiry-notices`. Data: `NotifyNotAfter` and `NotifyAt<days>`.
 */
export interface PrivateCaExpiryNoticesResourceProperties {
  readonly CertificateAuthorityArn: string;
  /** The CA certificate (PEM), or its complete chain: the earliest notAfter counts. */
  readonly CaCertificate: string;
  /** Day counts of the notices (the resource exists only when there is at least one). */
  readonly NotifyDaysBefore?: string[];
}

export const PRIVATE_CA_RESOURCE_TYPE = 'Custom::PrivateCa';
export const PRIVATE_CA_POLICY_RESOURCE_TYPE = 'Custom::PrivateCaPolicy';
export const PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE = 'Custom::PrivateCaExpiryNotices';

/** ACM Private CA's tag rules (CreateCertificateAuthority, TagCertificateAuthority): up to 50 tags per CA. */
export const PRIVATE_CA_TAG_RULES: TagRules = {
  service: 'ACM Private CA',
  resource: 'a certificate authority',
  resourceType: 'AWS::ACMPCA::CertificateAuthority',
  maxTags: 50,
  keyMaxLength: 128,
  valueMaxLength: 256,
  characters: AWS_TAG_CHARACTERS,
  reserved: AWS_RESERVED_TAG_KEYS,
  // The construct adds the ownership tags (the handler roles' aws:ResourceTag condition).
  ownershipTags: true,
};

/** Suffix of the expiry notices resource's physical ID. */
export const EXPIRY_NOTICES_PHYSICAL_ID_SUFFIX = '/expiry-notices';

/** Suffix of the policy resource's physical ID. */
export const POLICY_PHYSICAL_ID_SUFFIX = '/policy';

/** DeleteCertificateAuthority's `PermanentDeletionTimeInDays` range, and the service default. */
export const PERMANENT_DELETION_MIN_DAYS = 7;
export const PERMANENT_DELETION_MAX_DAYS = 30;
export const PERMANENT_DELETION_DEFAULT_DAYS = 30;

/** PutPolicy's `Policy` limits. */
export const POLICY_MAX_LENGTH = 81920;
export const POLICY_PATTERN = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;

/** A private CA ARN: `arn:<partition>:acm-pca:<region>:<account>:certificate-authority/<id>`. */
export const CA_ARN_PATTERN = /^arn:[\w-]+:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority\/[0-9a-fA-F-]{1,200}$/;

/** Returns the rule a CA ARN breaks, or undefined. */
export function caArnProblem(arn: string): string | undefined {
  if (!CA_ARN_PATTERN.test(arn)) {
    return `'${arn}' is not a private CA ARN (arn:<partition>:acm-pca:<region>:<account>:certificate-authority/<id>)`;
  }
  return undefined;
}

/** Returns the rule a restoration window breaks, or undefined. */
export function permanentDeletionProblem(days: number): string | undefined {
  if (!Number.isInteger(days) || days < PERMANENT_DELETION_MIN_DAYS || days > PERMANENT_DELETION_MAX_DAYS) {
    return `must be a whole number of days from ${PERMANENT_DELETION_MIN_DAYS} to ${PERMANENT_DELETION_MAX_DAYS}, got ${days}`;
  }
  return undefined;
}

/** Returns the rule a resource policy document (JSON) breaks, or undefined. */
export function policyProblem(policy: string): string | undefined {
  if (policy.length < 1 || policy.length > POLICY_MAX_LENGTH) {
    return `the policy must be 1 to ${POLICY_MAX_LENGTH} characters of JSON, got ${policy.length}`;
  }
  if (!POLICY_PATTERN.test(policy)) {
    return 'the policy may hold only tab, newline, carriage return and characters U+0020 to U+00FF';
  }
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    return 'the policy is not valid JSON';
  }
  const statements = doc && typeof doc === 'object' ? (doc as { Statement?: unknown }).Statement : undefined;
  if (!Array.isArray(statements) || statements.length === 0) {
    return 'the policy has no Statement';
  }
  return undefined;
}

/**
 * A CA's subject (CreateCertificateAuthority's `ASN1Subject`): every field, in the API's order, the
 * country checked as two letters first.
 */
export const PRIVATE_CA_SUBJECT = x500Subject({
  fields: ASN1_SUBJECT_ORDER,
  wording: { country: (value) => `must be exactly two letters (an ISO 3166 country code such as 'US'), got '${value}'` },
});

/** CrlConfiguration's `ExpirationInDays` range. */
export const CRL_EXPIRATION_MIN_DAYS = 1;
export const CRL_EXPIRATION_MAX_DAYS = 5000;
/** The longest CNAME (CRL and OCSP) and CRL custom path. */
export const CNAME_MAX_LENGTH = 253;
export const CRL_CUSTOM_PATH_MAX_LENGTH = 253;

/** Returns the rule a CRL or OCSP custom CNAME breaks, or undefined. */
export function cnameProblem(cname: string): string | undefined {
  if (cname.length < 1 || cname.length > CNAME_MAX_LENGTH) {
    return `must be 1 to ${CNAME_MAX_LENGTH} characters long, got ${cname.length}`;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(cname)) {
    return `must be a host name without a protocol prefix such as http://, got '${cname}'`;
  }
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(cname)) {
    return `must be a DNS host name (letters, digits, hyphens and dots), got '${cname}'`;
  }
  return undefined;
}

/** Returns the rule a CRL custom path breaks, or undefined. */
export function crlCustomPathProblem(path: string): string | undefined {
  if (path.length < 1 || path.length > CRL_CUSTOM_PATH_MAX_LENGTH) {
    return `must be 1 to ${CRL_CUSTOM_PATH_MAX_LENGTH} characters long, got ${path.length}`;
  }
  if (!/^[A-Za-z0-9._~!$&'()*+,;=:@%-]+(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*$/.test(path)) {
    return 'must be a relative URI path (segments of letters, digits and ._~!$&\'()*+,;=:@%- separated by single slashes, '
      + `no leading or trailing slash), got '${path}'`;
  }
  return undefined;
}

/**
 * CrlDistributionPointExtensionConfiguration's rule: `OmitExtension` "cannot be enabled with a
 * custom CNAME set". Returns the rule broken, or undefined.
 */
export function omitExtensionProblem(omitExtension: boolean, customCname: string | undefined): string | undefined {
  if (omitExtension && customCname !== undefined) {
    return `false (OmitExtension) cannot be combined with crl.customCname ('${customCname}'): ACM Private CA refuses a custom CNAME `
      + 'when certificates carry no CRL Distribution Points; remove customCname, or keep the extension (includeDistributionPoint: true)';
  }
  return undefined;
}

/** CreateCertificateAuthorityAuditReport: at most one report per CA every 30 minutes. */
export const AUDIT_REPORT_MIN_INTERVAL_MINUTES = 30;

const MINUTES_PER_UNIT: Record<string, number> = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 };

/** The minutes of an hour a cron minute field selects, or undefined when it cannot be read. */
function cronMinutes(field: string): number[] | undefined {
  const minutes = new Set<number>();
  for (const part of field.split(',')) {
    const match = /^(\*|\d{1,2})(?:-(\d{1,2}))?(?:\/(\d{1,2}))?$/.exec(part.trim());
    if (!match) {
      return undefined;
    }
    const start = match[1] === '*' ? 0 : Number(match[1]);
    const end = match[2] !== undefined ? Number(match[2]) : (match[1] === '*' || match[3] !== undefined ? 59 : start);
    const step = match[3] !== undefined ? Number(match[3]) : 1;
    if (step < 1 || start > 59 || end > 59) {
      return undefined;
    }
    for (let m = start; m <= end; m += step) {
      minutes.add(m);
    }
  }
  return [...minutes].sort((a, b) => a - b);
}

/**
 * Returns the rule an EventBridge Scheduler expression breaks for audit reports (one report every
 * 30 minutes at most), or undefined. `rate(...)`, `cron(...)` and the one-time `at(...)` are read;
 * anything else is left to EventBridge Scheduler.
 */
export function auditScheduleProblem(expression: string): string | undefined {
  const fix = `ACM Private CA creates at most one audit report per CA every ${AUDIT_REPORT_MIN_INTERVAL_MINUTES} minutes; `
    + `schedule reports ${AUDIT_REPORT_MIN_INTERVAL_MINUTES} minutes or more apart, e.g. ScheduleExpression.rate(Duration.hours(1))`;
  const rate = /^rate\((\d+)\s+([a-z]+)\)$/.exec(expression.trim());
  if (rate) {
    const minutes = Number(rate[1]) * (MINUTES_PER_UNIT[rate[2]] ?? Number.POSITIVE_INFINITY);
    return minutes < AUDIT_REPORT_MIN_INTERVAL_MINUTES ? `'${expression}' runs every ${minutes} minute(s): ${fix}` : undefined;
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (!cron) {
    return undefined;
  }
  const [minuteField, hourField] = cron[1].trim().split(/\s+/);
  const minutes = minuteField === undefined ? undefined : cronMinutes(minuteField);
  if (!minutes || minutes.length === 0) {
    return undefined;
  }
  const gaps = minutes.slice(1).map((m, i) => m - minutes[i]);
  // The last run of one hour and the first of the next, when consecutive hours are selected.
  const consecutiveHours = hourField === undefined || /[*\-/,]/.test(hourField);
  if (consecutiveHours) {
    gaps.push(60 - minutes[minutes.length - 1] + minutes[0]);
  }
  const shortest = Math.min(...gaps);
  return shortest < AUDIT_REPORT_MIN_INTERVAL_MINUTES ? `'${expression}' runs ${shortest} minute(s) apart: ${fix}` : undefined;
}

/**
 * The templates ACM Private CA lets another account issue with (cross-account issuers are
 * "constrained by a resource-based policy and have access only to" these; AWS Private CA User
 * Guide, Resource-based policies and Understanding certificate templates).
 */
export const CROSS_ACCOUNT_TEMPLATES: readonly string[] = [
  'EndEntityCertificate/V1',
  'EndEntityClientAuthCertificate/V1',
  'EndEntityServerAuthCertificate/V1',
  'BlankEndEntityCertificate_APIPassthrough/V1',
  'BlankEndEntityCertificate_APICSRPassthrough/V1',
  'SubordinateCACertificate_PathLen0/V1',
];

/**
 * The `<name>/V<n>` of a template ARN (`arn:<partition>:acm-pca:::template/<name>/V<n>`), read from
 * its text even when the partition is a placeholder; undefined when the name itself is not known.
 */
export function templateNameOf(templateArn: string): string | undefined {
  const match = /:acm-pca:[\w-]*:\d*:template\/([A-Za-z0-9_+=,.@-]+\/V\d+)$/.exec(templateArn);
  return match ? match[1] : undefined;
}

/**
 * Returns the rule a template used across accounts breaks, or undefined. `across` says which
 * accounts, e.g. `the CA is in account 111111111111`.
 */
export function crossAccountTemplateProblem(template: string, across: string): string | undefined {
  if (CROSS_ACCOUNT_TEMPLATES.includes(template)) {
    return undefined;
  }
  return `${template} is used across accounts (${across}), and ACM Private CA lets another account issue only with `
    + `${CROSS_ACCOUNT_TEMPLATES.join(', ')}; use one of these templates, or issue from a CA in the same account`;
}

/** The account of a private CA ARN, or undefined. */
export function caArnAccount(arn: string): string | undefined {
  return /^arn:[\w-]+:acm-pca:[a-z0-9-]+:(\d{12}):certificate-authority\//.exec(arn)?.[1];
}

/**
 * `Custom::PrivateCaTrustBundle`: a CA's trust bundle, the PEM chain from the CA to its root
 * written at deploy as one S3 object (`<prefix>bundle.pem`) for mutual-TLS trust stores. When the
 * chain changes (a replaced CA, a renewed CA certificate), the certificates it no longer holds
 * stay in the object for the overlap, counted from when each was first superseded (kept in the
 * object's metadata); they are dropped at the first update of the bundle after the overlap.
 * Physical ID: `s3://<bucket>/<key>`. Data: the `VersionId` of the object written.
 */
export interface PrivateCaTrustBundleResourceProperties {
  readonly CertificateAuthorityArn: string;
  /** The CA's complete chain (PEM), from the CA to its root, as CloudFormation installed it. */
  readonly CertificateChain: string;
  readonly Bucket: string;
  /** The object key (`<prefix>bundle.pem`). */
  readonly Key: string;
  /** Whole seconds a superseded certificate stays, as a string. */
  readonly OverlapSeconds: string;
  readonly RemovalPolicy: 'retain' | 'destroy';
}

/** `Custom::PrivateCaTrustBundle` attributes: only what is not known at synth. */
export interface PrivateCaTrustBundleResourceAttributes {
  /** The S3 version of the bundle now in force (a new one whenever the content changes). */
  readonly VersionId: string;
}

export const PRIVATE_CA_TRUST_BUNDLE_RESOURCE_TYPE = 'Custom::PrivateCaTrustBundle';

/** The name of the bundle object under its key prefix. */
export const TRUST_BUNDLE_OBJECT_NAME = 'bundle.pem';
/** The default overlap of a replaced CA's certificates, and the longest allowed. */
export const TRUST_BUNDLE_DEFAULT_OVERLAP_DAYS = 30;
export const TRUST_BUNDLE_MAX_OVERLAP_DAYS = 3650;
/**
 * The longest bundle key, in UTF-8 bytes: S3 takes 1024, but the physical ID
 * `s3://<bucket>/<key>` must stay within CloudFormation's 1024 characters with a 63-character bucket name.
 */
export const TRUST_BUNDLE_KEY_MAX_BYTES = 950;

/** Returns the rule a trust bundle's overlap (in seconds) breaks, or undefined. */
export function trustBundleOverlapProblem(seconds: number): string | undefined {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > TRUST_BUNDLE_MAX_OVERLAP_DAYS * 86400) {
    return `must be whole seconds from 0 to ${TRUST_BUNDLE_MAX_OVERLAP_DAYS} days, got ${seconds} seconds`;
  }
  return undefined;
}

/** Returns the rule a trust bundle's key prefix breaks, or undefined. */
export function trustBundleKeyPrefixProblem(prefix: string): string | undefined {
  const bytes = Buffer.byteLength(prefix + TRUST_BUNDLE_OBJECT_NAME, 'utf8');
  if (bytes > TRUST_BUNDLE_KEY_MAX_BYTES) {
    return `makes an object key of ${bytes} bytes (with '${TRUST_BUNDLE_OBJECT_NAME}'); at most ${TRUST_BUNDLE_KEY_MAX_BYTES} are allowed `
      + '(the physical ID s3://<bucket>/<key> must fit in CloudFormation\'s 1024 characters)';
  }
  if (prefix.startsWith('/')) {
    return `must not begin with '/' (an S3 key has no leading slash), got '${prefix}'`;
  }
  if (prefix !== '' && !prefix.endsWith('/')) {
    return `must end with '/' (the bundle is '<prefix>${TRUST_BUNDLE_OBJECT_NAME}'), got '${prefix}'`;
  }
  if ([...prefix].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    return 'must not contain control characters';
  }
  return undefined;
}
