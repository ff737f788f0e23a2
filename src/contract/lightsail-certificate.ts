/**
 * The contract between `LightsailCertificate` and its handler (`lambda/lightsail-certificate`),
 * plus Lightsail's input rules, shared by the construct (synth) and the handler (deploy, for
 * values that were tokens at synth). No CDK import here: the handler bundle includes this file.
 *
 * One handler kind serves three custom resource types, told apart by `ResourceType`:
 * the certificate (returns its validation records without waiting), the wait for ISSUED (after
 * the DNS records exist), and the attachment to a Lightsail distribution.
 */
import { refusedCharacters, valueProblem } from './problems';
import { AWS_TAG_CHARACTERS, TagRules } from './tags';

/** The certificate: CreateCertificate, then its validation records as attributes. */
export const LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE = 'Custom::LightsailCertificate';

/** Lightsail's tag rules (CreateCertificate, TagResource): keys up to 128, values up to 256 characters. */
export const LIGHTSAIL_TAG_RULES: TagRules = {
  service: 'Lightsail',
  resourceType: LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE,
  keyMaxLength: 128,
  valueMaxLength: 256,
  characters: AWS_TAG_CHARACTERS,
  ownershipTags: true,
};
/** The wait until the certificate is ISSUED, polled through `isComplete`. */
export const LIGHTSAIL_VALIDATION_RESOURCE_TYPE = 'Custom::LightsailCertificateValidation';
/** AttachCertificateToDistribution, DetachCertificateFromDistribution on delete. */
export const LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE = 'Custom::LightsailCertificateAttachment';

/** Lightsail distributions live in us-east-1, and only certificates there can be attached to them. */
export const DISTRIBUTION_REGION = 'us-east-1';

/** The most subject alternative names besides the domain name (CreateCertificate). */
export const MAX_SUBJECT_ALTERNATIVE_NAMES = 9;
/** The first domain becomes the subject's common name, limited to 64 characters. */
export const DOMAIN_NAME_MAX_LENGTH = 64;
/** A DNS name in presentation form, without the trailing dot. */
export const SUBJECT_ALTERNATIVE_NAME_MAX_LENGTH = 253;
/** Lightsail resource names: 2 to 255 characters. */
export const CERTIFICATE_NAME_MIN_LENGTH = 2;
export const CERTIFICATE_NAME_MAX_LENGTH = 255;
/**
 * Letters, digits, hyphens and underscores, beginning and ending with a letter or digit: the
 * pattern Lightsail documents for certificate names (`\w[\w\-]*\w`) without a leading or trailing
 * underscore, which the console refuses.
 */
export const CERTIFICATE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*[A-Za-z0-9]$/;
/** Hex characters of the domain hash in a generated certificate name. */
export const CERTIFICATE_NAME_HASH_LENGTH = 10;
/** A generated name: the prefix plus `-<hash>` stays within this (well below Lightsail's 255). */
export const GENERATED_NAME_MAX_LENGTH = 80;

/** `Custom::LightsailCertificate` properties. */
export interface LightsailCertificateResourceProperties {
  /** The region whose Lightsail holds the certificate. */
  readonly Region: string;
  /** The primary domain (the subject's common name). */
  readonly DomainName: string;
  /** Further domains, without the primary one, in the order the construct indexed them. */
  readonly SubjectAlternativeNames?: string[];
  /** The name the user chose; absent when the handler generates one. */
  readonly CertificateName?: string;
  /** Prefix of a generated name; the handler appends a hash of the domains. */
  readonly NamePrefix?: string;
  readonly Tags?: ReadonlyArray<{ readonly Key: string; readonly Value: string }>;
  readonly RemovalPolicy: 'retain' | 'destroy';
  /**
   * How many distinct domains the construct indexed records for at synth; a token that resolves
   * to a repeat of another domain would leave an indexed record without a domain.
   */
  readonly RecordCount?: string;
}

/** The type of every Lightsail DNS validation record. */
export const VALIDATION_RECORD_TYPE = 'CNAME';

/**
 * `Custom::LightsailCertificate` attributes. Only what the construct cannot know at synth is
 * returned (CloudFormation accepts at most 4096 bytes of response): of the validation record of
 * the i-th distinct domain (the domain name first, then the subject alternative names in order,
 * `i` from 0 to the number of domains less one), `Record<i>Label` ({@link recordLabelAttribute}),
 * what precedes the domain in the record's name, and `Record<i>Value`
 * ({@link recordValueAttribute}). The record is the CNAME `<label>.<domain>.` to `<value>`.
 */
export interface LightsailCertificateResourceAttributes {
  readonly CertificateArn: string;
  readonly CertificateName: string;
  readonly Status: string;
  readonly [key: string]: string;
}

/** The attribute holding the label(s) before the i-th domain in its validation record's name. */
export function recordLabelAttribute(index: number): string {
  return `Record${index}Label`;
}

/** The attribute holding the value of the i-th domain's validation record. */
export function recordValueAttribute(index: number): string {
  return `Record${index}Value`;
}

/** `Custom::LightsailCertificateValidation` properties. */
export interface LightsailValidationResourceProperties {
  readonly Region: string;
  readonly CertificateName: string;
  /** The certificate waited for: a replacement certificate means a new wait. */
  readonly CertificateArn: string;
  /** How long to wait for ISSUED, in seconds, counted from the first onEvent. */
  readonly TimeoutSeconds: string;
}

/** `Custom::LightsailCertificateValidation` attributes (they are read after the certificate is issued). */
export interface LightsailValidationResourceAttributes {
  readonly CertificateArn: string;
  readonly CertificateName: string;
  readonly Status: string;
  /** When the wait began (ISO 8601); isComplete measures the timeout from it. */
  readonly WaitStartedAt: string;
  /** 'false' when the certificate needs no wait (an update that waited already). */
  readonly WaitRequired: 'true' | 'false';
  readonly [key: string]: string;
}

/** `Custom::LightsailCertificateAttachment` properties. */
export interface LightsailAttachmentResourceProperties {
  /** The certificate's region: must be us-east-1 for a distribution. */
  readonly Region: string;
  readonly CertificateName: string;
  readonly DistributionName: string;
  readonly RemovalPolicy: 'retain' | 'destroy';
}

/** The failure reasons Lightsail reports for a certificate request, and what to do about each. */
export const FAILURE_REASON_ADVICE: Readonly<Record<string, string>> = {
  NO_AVAILABLE_CONTACTS: 'this failure belongs to email validation, which Lightsail certificates do not use; request the certificate again (change a domain or certificateName so a new one is created), and contact AWS Support if it recurs',
  ADDITIONAL_VERIFICATION_REQUIRED: 'Lightsail needs more information before it issues a certificate for one of these domains (a fraud-protection measure, e.g. for very popular domains; Amazon-owned domains such as *.amazonaws.com or *.cloudfront.net are refused); contact AWS Support through the Support Center, then deploy again',
  DOMAIN_NOT_ALLOWED: 'one of the domains is reported as unsafe by VirusTotal; look the domain up on virustotal.com, clean the site or ask the reporting vendor to correct a false positive, then request a new certificate (contact AWS Support if the domain is not listed there)',
  INVALID_PUBLIC_DOMAIN: 'one of the domains is not a valid public domain name (typically its top-level domain does not exist); correct domainName or subjectAlternativeNames',
  OTHER: 'usually a typing error in one of the domain names; check domainName and subjectAlternativeNames and request the certificate again',
};

/** Returns every rule a certificate name breaks, in one message with the fix, or undefined when Lightsail accepts it. */
export function certificateNameProblem(name: string): string | undefined {
  const rules: string[] = [];
  if (name.length < CERTIFICATE_NAME_MIN_LENGTH || name.length > CERTIFICATE_NAME_MAX_LENGTH) {
    rules.push(`must be ${CERTIFICATE_NAME_MIN_LENGTH} to ${CERTIFICATE_NAME_MAX_LENGTH} characters long, got ${name.length}`);
  }
  if (/[^A-Za-z0-9_-]/.test(name)) {
    rules.push(`may hold only ASCII letters, digits, hyphens and underscores, not ${refusedCharacters(name, /[A-Za-z0-9_-]/)}`);
  }
  if (name.length > 0 && (/^[_-]/.test(name) || /[_-]$/.test(name))) {
    rules.push('must begin and end with a letter or digit');
  }
  return valueProblem(name, rules,
    `use ${CERTIFICATE_NAME_MIN_LENGTH} to ${CERTIFICATE_NAME_MAX_LENGTH} ASCII letters, digits, hyphens and underscores that begin and end with a letter or digit (e.g. www-example-com), or leave certificateName out to have one generated`);
}

// A DNS label: letters, digits and hyphens, 1-63 characters, no hyphen at either end.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Returns every rule a certificate domain breaks, in one message with the fix, or undefined when
 * it is a valid public DNS name Lightsail can validate: no wildcard, no trailing dot, at least two
 * labels, a non-numeric top-level domain. Case is ignored (DNS names are case-insensitive).
 */
export function domainNameProblem(domain: string, maxLength: number): string | undefined {
  const rules: string[] = [];
  const wildcard = domain.includes('*');
  if (wildcard) {
    rules.push('is a wildcard name, which Lightsail certificates do not support (list each name instead)');
  }
  if (domain.length < 1 || domain.length > maxLength) {
    rules.push(`must be 1 to ${maxLength} characters long, got ${domain.length}`);
  }
  if (domain.endsWith('.')) {
    rules.push('must be written without the trailing dot');
  }
  // The trailing dot is reported above; the labels are the ones before it.
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.');
  if (domain.length > 0 && labels.length < 2) {
    rules.push('is not a fully qualified domain name (it needs at least two labels, e.g. example.com)');
  }
  const bad = [...new Set(labels.filter((label) => !LABEL.test(label) && !(wildcard && label === '*')))];
  if (domain.length > 0 && bad.length > 0) {
    rules.push(`is not a valid DNS name: each label must be 1 to 63 letters, digits or hyphens, not beginning or ending with a hyphen (${bad.map((l) => `label '${l}'`).join(', ')})`);
  }
  if (labels.length >= 2 && /^[0-9]+$/.test(labels[labels.length - 1])) {
    rules.push('is not a valid public domain name (an IP address or a numeric top-level domain)');
  }
  return valueProblem(domain, rules, 'give a public DNS name such as www.example.com');
}

/** The form domains are compared, hashed and sent in: lower case. */
export function normalizeDomain(domain: string): string {
  return domain.toLowerCase();
}

/** The problem with a region name, or undefined when it looks like one. */
export function regionProblem(region: string): string | undefined {
  return /^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) ? undefined : `'${region}' is not an AWS region name (e.g. us-east-1)`;
}
