/**
 * The contract between `AlibabaKmsCertificate` and its handler (`lambda/alibaba-kms-certificate`),
 * plus the rules both check: the construct at synth, the handler at deploy for values that were
 * tokens. No CDK import: the handler imports this file too.
 */
import type { MaterialSource } from './material-source';
import { joinProblems, valueProblem } from './problems';
import { KeyValueTag, tagProblems, TagRules } from './tags';
import { X500Subject, x500Subject } from './x500';

/** The custom resource type. */
export const ALIBABA_KMS_CERTIFICATE_RESOURCE_TYPE = 'Custom::AlibabaKmsCertificate';

/** Key types CreateCertificate accepts. */
export const ALIBABA_KEY_SPECS = ['RSA_2048', 'EC_P256', 'EC_SM2'] as const;
export type AlibabaKeySpecName = typeof ALIBABA_KEY_SPECS[number];

/** The subject as the handler receives it: the shared X.500 shape, CN, C, O and OU required. */
export type AlibabaSubjectProps = Pick<X500Subject, 'State' | 'Locality'>
  & Required<Pick<X500Subject, 'CommonName' | 'Country' | 'Organization' | 'OrganizationalUnit'>>;

/**
 * `Custom::AlibabaKmsCertificate` properties.
 *
 * Mode `create`: KMS generates the key (CreateCertificate), the ACM Private CA signs its CSR, the
 * certificate and chain are uploaded. Mode `upload`: a given certificate (and chain) is uploaded to
 * an existing KMS certificate (`CertificateId`).
 *
 * Credentials never travel here: only the ARN of the secret holding them.
 */
export interface AlibabaKmsCertificateResourceProperties {
  readonly Mode: 'create' | 'upload';
  readonly RegionId: string;
  /** Host and optional port, no scheme. Absent: `kms.<RegionId>.aliyuncs.com`. */
  readonly Endpoint?: string;
  readonly Protocol: 'https' | 'http';
  /** Secret with JSON `accessKeyId`, `accessKeySecret` and optional `securityToken`. */
  readonly CredentialsSecretArn: string;

  // Mode create
  readonly Subject?: AlibabaSubjectProps;
  readonly SubjectAlternativeNames?: readonly string[];
  readonly KeySpec?: AlibabaKeySpecName;
  readonly ExportablePrivateKey?: 'true' | 'false';
  readonly CertificateAuthorityArn?: string;
  readonly TemplateArn?: string;
  /** Whole days, as a string. */
  readonly ValidityDays?: string;

  // Mode upload
  readonly CertificateId?: string;
  readonly Certificate?: MaterialSource;
  readonly CertificateChain?: MaterialSource;

  readonly Tags?: ReadonlyArray<{ readonly Key: string; readonly Value: string }>;
  readonly RemovalPolicy: 'retain' | 'destroy';
  /** 'true': on delete, set the certificate INACTIVE instead of deleting it. */
  readonly DeactivateOnDelete: 'true' | 'false';
}

/** `Custom::AlibabaKmsCertificate` attributes (response Data). */
export interface AlibabaKmsCertificateResourceAttributes {
  readonly CertificateId: string;
  readonly Arn: string;
  /** As KMS reports it (hex). */
  readonly SerialNumber: string;
  /** ISO 8601. */
  readonly NotAfter: string;
  readonly [key: string]: string;
}

/**
 * Properties that only matter on delete or for reaching KMS: changing them never replaces the
 * certificate (a rotated AccessKey or a new VPC endpoint must not mint a new key).
 */
export const IN_PLACE_PROPERTIES = [
  'CredentialsSecretArn', 'Endpoint', 'Protocol', 'Tags', 'RemovalPolicy', 'DeactivateOnDelete',
] as const;

/** CreateCertificate takes at most ten SANs; a certificate holds at most ten tags. */
export const MAX_SUBJECT_ALTERNATIVE_NAMES = 10;
export const MAX_TAGS = 10;
export const TAG_KEY_MAX_LENGTH = 128;
export const TAG_VALUE_MAX_LENGTH = 128;

/**
 * KMS's subject: CN, C, O and OU required, ST and L optional, checked in RFC 4514 order (most
 * specific first); the country in upper case; no leading or trailing space; '' counts as absent.
 */
export const ALIBABA_SUBJECT = x500Subject({
  fields: ['CommonName', 'OrganizationalUnit', 'Organization', 'Locality', 'State', 'Country'],
  required: ['CommonName', 'Country', 'Organization', 'OrganizationalUnit'],
  propertyPrefix: 'subject.',
  upperCaseCountry: true,
  trimmed: true,
  emptyIsAbsent: true,
  wording: {
    length: (max, length) => `must be at most ${max} characters, got ${length}`,
    required: (type) => `is required: KMS needs CN, C, O and OU in the subject (${type})`,
  },
});

const DNS_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?(?:${DNS_LABEL}\\.)*${DNS_LABEL}$`);

/** Every rule a SAN (a DNS name; a wildcard only as the whole first label) breaks, in one message, or undefined. */
export function subjectAlternativeNameProblem(name: string): string | undefined {
  const rules: string[] = [];
  if (name.length < 1 || name.length > 253) {
    rules.push(`must be 1 to 253 characters long, got ${name.length}`);
  }
  if (!DNS_NAME.test(name)) {
    rules.push('is not a DNS name');
  }
  return valueProblem(name, rules, 'use letters, digits and hyphens in dot-separated labels of 1 to 63 characters, a wildcard only as the whole first label (e.g. www.example.com, *.example.com)');
}

/** Every rule a SAN list breaks (count, duplicates, each name), in one message, or undefined. */
export function subjectAlternativeNamesProblem(names: readonly string[]): string | undefined {
  const problems: Array<string | undefined> = [];
  if (names.length > MAX_SUBJECT_ALTERNATIVE_NAMES) {
    problems.push(`KMS accepts at most ${MAX_SUBJECT_ALTERNATIVE_NAMES} names, got ${names.length}; split them over several certificates`);
  }
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const name of names) {
    problems.push(subjectAlternativeNameProblem(name));
    const key = name.toLowerCase();
    if (seen.has(key) && !repeated.has(key)) {
      repeated.add(key);
      problems.push(`lists '${name}' twice; list each name once`);
    }
    seen.add(key);
  }
  return joinProblems(problems);
}

/** Alibaba Cloud region IDs: `cn-hangzhou`, `ap-southeast-1`, `cn-north-2-gov-1`, ... */
export const REGION_ID_PATTERN = /^[a-z]{2,4}(?:-[a-z0-9]+){1,4}$/;

/** The rule a region ID breaks, or undefined. */
export function regionIdProblem(regionId: string | undefined): string | undefined {
  if (regionId === undefined || regionId === '') {
    return 'is required: the Alibaba Cloud region of the KMS instance, e.g. cn-hangzhou';
  }
  if (!REGION_ID_PATTERN.test(regionId)) {
    return `'${regionId}' is not an Alibaba Cloud region ID (lower-case, e.g. cn-hangzhou, ap-southeast-1)`;
  }
  return undefined;
}

/** An endpoint split into what the client takes. */
export interface ParsedEndpoint {
  /** Host and optional port. */
  readonly host: string;
  readonly protocol: 'https' | 'http';
}

const ENDPOINT_PATTERN = /^(?:(https?):\/\/)?((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?::\d{1,5})?)\/?$/;
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3})(?::\d{1,5})?$/;

/**
 * Parses `endpoint` (`kms-vpc.cn-hangzhou.aliyuncs.com`, `https://host:443`, or for tests
 * `http://127.0.0.1:8080`). Plain HTTP is allowed only to a loopback address: KMS serves HTTPS.
 * Returns the rule broken as a string, or the parsed endpoint.
 */
export function parseEndpoint(endpoint: string): ParsedEndpoint | string {
  const match = ENDPOINT_PATTERN.exec(endpoint);
  if (!match) {
    return `'${endpoint}' is not a host name with an optional port and scheme (e.g. kms-vpc.cn-hangzhou.aliyuncs.com or https://host:443), without a path`;
  }
  const protocol = (match[1] ?? 'https') as 'https' | 'http';
  const host = match[2];
  if (protocol === 'http' && !LOOPBACK_HOST.test(host)) {
    return `'${endpoint}' uses plain http; KMS endpoints serve HTTPS (http is accepted only for a loopback test server)`;
  }
  return { host, protocol };
}

/** KMS certificate IDs are UUIDs. */
export const CERTIFICATE_ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The rule a certificate ID breaks, or undefined. */
export function certificateIdProblem(certificateId: string): string | undefined {
  if (!CERTIFICATE_ID_PATTERN.test(certificateId)) {
    return `'${certificateId}' is not a KMS certificate ID (a UUID such as 12345678-1234-1234-1234-123456789012)`;
  }
  return undefined;
}

/** KMS's tag rules (CreateCertificate, TagResource): ten tags, keys and values up to 128 characters. */
export const ALIBABA_TAG_RULES: TagRules = {
  service: 'KMS',
  resourceType: ALIBABA_KMS_CERTIFICATE_RESOURCE_TYPE,
  maxTags: MAX_TAGS,
  keyMaxLength: TAG_KEY_MAX_LENGTH,
  valueMaxLength: TAG_VALUE_MAX_LENGTH,
  reserved: { pattern: /^(aliyun|acs:)/i, text: "may not start with 'aliyun' or 'acs:' (reserved by Alibaba Cloud)", valuesToo: false },
  ownershipTags: true,
};

/** Every rule a tag set breaks (count, key prefix, lengths), in one message, or undefined. */
export function tagsProblem(tags: readonly KeyValueTag[]): string | undefined {
  return joinProblems(tagProblems(ALIBABA_TAG_RULES, tags));
}
