import type { MaterialSource } from './material-source';
import { refusedCharacters, valueProblem } from './problems';
import { tagProblem, TagRules } from './tags';
import {
  CertificateCheckError,
  CertificateSummary,
  CheckOptions,
  CheckResult,
  checkCertificateBody,
  parseCertificates,
  parsePemBlocks,
  summarizeCertificate,
  toPem,
} from './x509';

/** The custom resource type of `DmsCertificate`. */
export const DMS_CERTIFICATE_RESOURCE_TYPE = 'Custom::DmsCertificate';

/** DMS's limit on a certificate identifier. */
export const DMS_CERTIFICATE_IDENTIFIER_MAX_LENGTH = 255;

/** A DMS tag as CloudFormation hands it to the handler. */
export interface DmsCertificateTag {
  readonly Key: string;
  readonly Value: string;
}

/**
 * The properties of the `DmsCertificate` custom resource: the contract between the construct and
 * `lambda/dms-certificate`. Every value is a string (CloudFormation passes strings).
 *
 * Exactly one of `CertificatePem` and `CertificateWallet`; exactly one of `CertificateIdentifier`
 * and `NamePrefix`.
 */
export interface DmsCertificateResourceProperties {
  /** The user's identifier, used as is (it may be a token, so the handler checks it again). */
  readonly CertificateIdentifier?: string;
  /**
   * When the user gives no identifier: the handler appends `-<hash of content and key>` so new
   * content gets a new identifier.
   */
  readonly NamePrefix?: string;
  /** Where the PEM lives (inline, secret, SSM parameter). */
  readonly CertificatePem?: MaterialSource;
  /** Where the Oracle wallet lives (always an S3 object, read as bytes). */
  readonly CertificateWallet?: MaterialSource;
  /** ARN of the KMS key DMS encrypts the certificate with; absent means DMS's default key. */
  readonly KmsKeyId?: string;
  /** Tags from `Tags.of()`, rendered at synth. */
  readonly Tags?: DmsCertificateTag[];
  /** What Delete does: 'destroy' deletes the certificate, 'retain' leaves it. */
  readonly RemovalPolicy: 'retain' | 'destroy';
  /** Day counts of the expiry notices to time (`NotifyAt<days>` in Data); absent when none. */
  readonly NotifyDaysBefore?: string[];
}

/** The attributes the handler returns in `Data` (all strings; empty when DMS does not report one). */
export interface DmsCertificateResourceAttributes {
  readonly CertificateArn: string;
  readonly CertificateIdentifier: string;
  readonly ValidFromDate: string;
  readonly ValidToDate: string;
  readonly SigningAlgorithm: string;
  readonly KeyLength: string;
  readonly CertificateOwner: string;
}

/**
 * Returns every DMS identifier rule `identifier` breaks, in one message with the fix, or undefined
 * when DMS accepts it: 1 to 255 characters, ASCII letters, digits and hyphens only, starting with a
 * letter, not ending with a hyphen, no two consecutive hyphens. Shared by the construct and the handler.
 */
export function dmsCertificateIdentifierProblem(identifier: string): string | undefined {
  const rules: string[] = [];
  if (identifier.length < 1 || identifier.length > DMS_CERTIFICATE_IDENTIFIER_MAX_LENGTH) {
    rules.push(`must be 1 to ${DMS_CERTIFICATE_IDENTIFIER_MAX_LENGTH} characters long, got ${identifier.length}`);
  }
  if (identifier.length > 0) {
    if (!/^[A-Za-z]/.test(identifier)) {
      rules.push('must begin with an ASCII letter');
    }
    const bad = /[^A-Za-z0-9-]/.exec(identifier);
    if (bad) {
      rules.push(`may hold only ASCII letters, digits and hyphens, not ${refusedCharacters(identifier, /[A-Za-z0-9-]/)} (first at position ${bad.index + 1})`);
    }
    if (identifier.endsWith('-')) {
      rules.push('must not end with a hyphen');
    }
    if (identifier.includes('--')) {
      rules.push('must not contain two consecutive hyphens');
    }
  }
  return valueProblem(identifier, rules,
    `use 1 to ${DMS_CERTIFICATE_IDENTIFIER_MAX_LENGTH} ASCII letters, digits and single hyphens, starting with a letter and not ending with a hyphen (e.g. db-trust-1)`);
}

/** DMS's tag rules (AddTagsToResource, ImportCertificate). */
export const DMS_TAG_KEY_MAX_LENGTH = 128;
export const DMS_TAG_VALUE_MAX_LENGTH = 256;
export const DMS_TAG_RULES: TagRules = {
  service: 'DMS',
  resourceType: DMS_CERTIFICATE_RESOURCE_TYPE,
  keyMaxLength: DMS_TAG_KEY_MAX_LENGTH,
  valueMaxLength: DMS_TAG_VALUE_MAX_LENGTH,
  characters: { pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-]*$/u, text: 'may hold only letters, digits, spaces and _ . : / = + -' },
  reserved: { pattern: /^(aws|dms):/i, text: "must not begin with 'aws:' or 'dms:' (reserved by AWS)", valuesToo: true },
  ownershipTags: true,
};

/**
 * Returns every rule a tag breaks, in one message, or undefined when DMS accepts it: key 1 to 128 characters, value
 * at most 256, neither starting with `aws:` or `dms:`, only letters, digits, spaces and `_.:/=+-`.
 */
export function dmsTagProblem(key: string, value: string): string | undefined {
  return tagProblem(DMS_TAG_RULES, key, value);
}

/**
 * Checks a PEM for DMS: one or more certificates (a CA, a chain, or a bundle of trusted roots
 * such as the RDS bundle), each parseable and valid now. Unlike a server certificate's chain, a
 * trust bundle has no required order. Certificates expiring soon are warnings.
 */
export function checkDmsCertificatePem(pem: string, property: string, options: CheckOptions = {}): CheckResult {
  const blocks = parsePemBlocks(pem, property);
  const parsed = parseCertificates(pem, property);
  const certificates: CertificateSummary[] = [];
  const warnings: string[] = [];
  blocks.forEach((block, i) => {
    const where = blocks.length > 1 ? `certificate ${i + 1} of ${blocks.length} (${summarizeCertificate(parsed[i]).subject})` : undefined;
    try {
      const result = checkCertificateBody(toPem(block), property, options);
      certificates.push(...result.certificates);
      warnings.push(...result.warnings.map(w => where ? w.replace('the certificate', where) : w));
    } catch (e) {
      if (e instanceof CertificateCheckError && where) {
        throw new CertificateCheckError(property, e.rule.replace('the certificate', where));
      }
      throw e;
    }
  });
  return { certificates, warnings };
}
