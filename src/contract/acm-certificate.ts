/**
 * `AcmImportedCertificate`: the contract between the construct and `lambda/acm-certificate`, and
 * ACM's import rules as data (ImportCertificate, "Prerequisites for importing ACM certificates",
 * "Reimport a certificate"). Node built-ins only, so the same rules run at synth and at deploy.
 */
import { X509Certificate } from 'node:crypto';
import type { MaterialSource } from './material-source';
import { joinRules } from './problems';
import { AWS_RESERVED_TAG_KEYS, AWS_TAG_CHARACTERS, TagRules } from './tags';
import { CertificateCheckError, CertificateSummary, loadPrivateKey, parseCertificates, summarizeCertificate } from './x509';

/** The CloudFormation type of `AcmImportedCertificate`'s custom resource. */
export const ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE = 'Custom::AcmImportedCertificate';

/** ACM's tag rules (ImportCertificate, AddTagsToCertificate): 50 tags, keys 1-128, values 0-256 characters. */
export const ACM_TAG_RULES: TagRules = {
  service: 'ACM',
  resourceType: ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE,
  maxTags: 50,
  keyMaxLength: 128,
  valueMaxLength: 256,
  characters: AWS_TAG_CHARACTERS,
  reserved: AWS_RESERVED_TAG_KEYS,
  ownershipTags: true,
};

/** `Custom::AcmImportedCertificate` properties. */
export interface AcmImportedCertificateResourceProperties {
  readonly Certificate: MaterialSource;
  readonly PrivateKey: MaterialSource;
  readonly CertificateChain?: MaterialSource;
  readonly Tags?: ReadonlyArray<{ readonly Key: string; readonly Value: string }>;
  /** What Delete does: 'destroy' deletes the certificate, 'retain' leaves it in ACM. */
  readonly RemovalPolicy: 'retain' | 'destroy';
  /** Day counts of the expiry notices timed at deploy (`NotifyAt<days>` in Data); absent when none. */
  readonly NotifyDaysBefore?: string[];
}

/**
 * `Custom::AcmImportedCertificate` attributes (response Data). The ARN is the physical ID (`Ref`),
 * so it is not repeated here.
 */
export interface AcmImportedCertificateResourceAttributes {
  /** ACM's key algorithm name, e.g. `RSA_2048`, `EC_prime256v1`. */
  readonly KeyAlgorithm: string;
  /** notAfter of the certificate ACM holds (ISO 8601). */
  readonly NotAfter: string;
  /** 'reimported' (same ARN), 'imported' (a new certificate) or 'unchanged'. */
  readonly Import: string;
  readonly [key: string]: string;
}

/** One key algorithm ACM imports. */
export interface AcmKeyAlgorithm {
  /** ACM's API name (`KeyAlgorithm`). */
  readonly name: string;
  /** node:crypto's `asymmetricKeyType` upper-cased, as `CertificateSummary.publicKeyAlgorithm`. */
  readonly type: 'RSA' | 'EC';
  /** RSA modulus length. */
  readonly bits?: number;
  /** NIST curve name. */
  readonly curve?: string;
}

/** The key algorithms and sizes ACM accepts for import, and only these. */
export const ACM_IMPORT_KEY_ALGORITHMS: readonly AcmKeyAlgorithm[] = [
  { name: 'RSA_1024', type: 'RSA', bits: 1024 },
  { name: 'RSA_2048', type: 'RSA', bits: 2048 },
  { name: 'RSA_3072', type: 'RSA', bits: 3072 },
  { name: 'RSA_4096', type: 'RSA', bits: 4096 },
  { name: 'EC_prime256v1', type: 'EC', curve: 'P-256' },
  { name: 'EC_secp384r1', type: 'EC', curve: 'P-384' },
  { name: 'EC_secp521r1', type: 'EC', curve: 'P-521' },
];

/** ImportCertificate's limits. */
export const ACM_CERTIFICATE_MAX_LENGTH = 32768;
export const ACM_PRIVATE_KEY_MAX_BYTES = 5120;
export const ACM_CERTIFICATE_CHAIN_MAX_LENGTH = 2097152;
export const ACM_OCSP_URL_MAX_LENGTH = 1000;

/** Warning id of the synth-time forecast of a re-import that will import a new certificate. */
export const ACM_REIMPORT_REPLACES_WARNING = 'cdk-certificates:acmReimportReplaces';

/** ACM's key algorithm name of a certificate's public key, or undefined when ACM imports none of it. */
export function acmKeyAlgorithm(summary: Pick<CertificateSummary, 'publicKeyAlgorithm' | 'publicKeyBits' | 'curve'>): string | undefined {
  return ACM_IMPORT_KEY_ALGORITHMS.find((a) => a.type === summary.publicKeyAlgorithm
    && (a.bits === undefined || a.bits === summary.publicKeyBits)
    && (a.curve === undefined || a.curve === summary.curve))?.name;
}

function describeKey(summary: CertificateSummary): string {
  if (summary.curve !== undefined) return `${summary.publicKeyAlgorithm} ${summary.curve}`;
  return summary.publicKeyBits !== undefined ? `${summary.publicKeyAlgorithm} ${summary.publicKeyBits}-bit` : summary.publicKeyAlgorithm;
}

/** What ACM reads of a certificate to import it, and to decide whether a re-import is allowed. */
export interface AcmCertificateFacts {
  readonly summary: CertificateSummary;
  /** ACM's key algorithm name. */
  readonly keyAlgorithm: string;
  /** Key Usage names (RFC 5280), or undefined when the certificate has no Key Usage extension. */
  readonly keyUsage?: string[];
  /** Extended Key Usage OIDs, or undefined when the certificate has no Extended Key Usage extension. */
  readonly extendedKeyUsage?: string[];
  /** True when the extensions could not be read (a re-import then imports a new certificate). */
  readonly extensionsUnread?: boolean;
}

/**
 * Checks a certificate body against ACM's import rules, all problems in one error naming
 * `property`: exactly one certificate (the caller's body check), X.509 version 3, a key type and
 * size ACM imports, a non-empty issuer, a domain name or IP address, an OCSP URL of at most 1000
 * characters. Dates are not checked here (see `checkDates`: only before an import).
 */
export function checkAcmCertificate(pem: string, property: string): AcmCertificateFacts {
  const certificates = parseCertificates(pem, property);
  if (certificates.length !== 1) {
    throw new CertificateCheckError(property,
      `must contain exactly one certificate, found ${certificates.length}; put the issuing CA certificates in certificateChain`);
  }
  const cert = certificates[0];
  const summary = summarizeCertificate(cert);
  const extensions = readExtensions(cert);
  const rules: string[] = [];
  if (extensions.version !== 3) {
    rules.push(`must be an X.509 version 3 certificate (ACM imports no other), got version ${extensions.version}`);
  }
  const keyAlgorithm = acmKeyAlgorithm(summary);
  if (keyAlgorithm === undefined) {
    rules.push(`has a ${describeKey(summary)} key, which ACM does not import; ACM imports RSA 1024, 2048, 3072 and 4096-bit keys and EC keys on P-256, P-384 and P-521 `
      + '(CloudFront uses RSA and EC P-256 only): issue the certificate for one of those keys');
  }
  if (summary.issuer.trim() === '') {
    rules.push('has an empty Issuer field, which ACM refuses');
  }
  if (summary.commonName === undefined && summary.subjectAlternativeNames.length === 0) {
    rules.push('names no domain (no subject CN and no subject alternative name); ACM needs the domain name or IP address it serves');
  }
  for (const url of ocspUrls(cert)) {
    if (url.length > ACM_OCSP_URL_MAX_LENGTH) {
      rules.push(`has an OCSP URL of ${url.length} characters; ACM accepts at most ${ACM_OCSP_URL_MAX_LENGTH}`);
    }
  }
  if (rules.length > 0) {
    throw new CertificateCheckError(property, joinRules(rules));
  }
  return {
    summary,
    keyAlgorithm: keyAlgorithm!,
    keyUsage: extensions.keyUsage,
    extendedKeyUsage: extensions.extendedKeyUsage,
    extensionsUnread: extensions.unread,
  };
}

/**
 * Checks a private key against ACM's rules: one unencrypted PEM key (as `loadPrivateKey`), at most
 * 5,120 bytes. Never echoes the key.
 */
export function checkAcmPrivateKey(keyPem: string, property: string): void {
  const bytes = Buffer.byteLength(keyPem, 'utf8');
  if (bytes > ACM_PRIVATE_KEY_MAX_BYTES) {
    throw new CertificateCheckError(property, `is ${bytes} bytes; ACM imports private keys of at most ${ACM_PRIVATE_KEY_MAX_BYTES} bytes (5 KB)`);
  }
  loadPrivateKey(keyPem, property);
}

/** Extended Key Usage OIDs by name, for messages. */
const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** An EKU OID as people say it. */
export function extendedKeyUsageName(oid: string): string {
  return EKU_NAMES[oid] ?? oid;
}

/**
 * Why ACM would refuse to re-import `next` over `current` (ImportCertificate with the same ARN), or
 * an empty list when it may:
 * - the key type and size must stay the same;
 * - Key Usage: no extension where the first had none; where it had one, every value kept, except
 *   that keyEncipherment may go from an ECDSA certificate (RFC 5480);
 * - Extended Key Usage: no extension where the first had none; where it had one, every value kept,
 *   except clientAuth (which public CAs no longer issue).
 * A certificate that breaks them is imported as a new certificate (a new ARN) instead.
 */
export function reimportProblems(current: AcmCertificateFacts, next: AcmCertificateFacts): string[] {
  const problems: string[] = [];
  if (current.extensionsUnread || next.extensionsUnread) {
    problems.push('the Key Usage extensions of the certificates could not be read, so a re-import is not known to be allowed');
  }
  if (current.keyAlgorithm !== next.keyAlgorithm) {
    problems.push(`the key algorithm changes from ${current.keyAlgorithm} to ${next.keyAlgorithm}, which a re-import cannot change`);
  }
  const ku = usageProblems('Key Usage', current.keyUsage, next.keyUsage,
    (value) => value === 'keyEncipherment' && next.keyAlgorithm.startsWith('EC_'), (v) => v);
  const eku = usageProblems('Extended Key Usage', current.extendedKeyUsage, next.extendedKeyUsage,
    (value) => value === CLIENT_AUTH, extendedKeyUsageName);
  return [...problems, ...ku, ...eku];
}

function usageProblems(
  extension: string,
  current: string[] | undefined,
  next: string[] | undefined,
  mayDrop: (value: string) => boolean,
  name: (value: string) => string,
): string[] {
  if (current === undefined) {
    return next === undefined ? [] : [`the new certificate adds a ${extension} extension (${next.map(name).join(', ')}) that the imported one lacks`];
  }
  if (next === undefined) {
    return [`the new certificate has no ${extension} extension where the imported one has ${current.map(name).join(', ')}`];
  }
  const dropped = current.filter((v) => !next.includes(v) && !mayDrop(v));
  return dropped.length === 0 ? [] : [`the new certificate drops ${extension} ${dropped.map(name).join(', ')}`];
}

/**
 * What a synth-time look at the new certificate alone can foresee about later re-imports: an
 * extension it lacks (Key Usage, Extended Key Usage) cannot be added by a re-import, so a later
 * certificate that has it is imported as a new certificate, with a new ARN.
 */
export function reimportForecast(facts: AcmCertificateFacts): string | undefined {
  if (facts.extensionsUnread) {
    return undefined;
  }
  const missing = [
    facts.keyUsage === undefined ? 'Key Usage' : undefined,
    facts.extendedKeyUsage === undefined ? 'Extended Key Usage' : undefined,
  ].filter((m): m is string => m !== undefined);
  if (missing.length === 0) {
    return undefined;
  }
  return `the certificate has no ${missing.join(' and no ')} extension; ACM never lets a re-import add one, so a later certificate `
    + 'that has it (as certificates from public CAs do) is imported as a new ACM certificate with a new ARN instead of in place';
}

// -- DER, only as far as the version and the extensions of a certificate ---------------------------

interface Tlv {
  readonly tag: number;
  /** Start of the value. */
  readonly start: number;
  /** End of the value (exclusive). */
  readonly end: number;
}

function readTlv(der: Buffer, offset: number): Tlv {
  const tag = der[offset];
  let length = der[offset + 1];
  let start = offset + 2;
  if (length >= 0x80) {
    const count = length - 0x80;
    length = 0;
    for (let i = 0; i < count; i++) {
      length = length * 256 + der[start + i];
    }
    start += count;
  }
  if (tag === undefined || start + length > der.length) {
    throw new Error('truncated DER');
  }
  return { tag, start, end: start + length };
}

function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = parent.start; offset < parent.end;) {
    const child = readTlv(der, offset);
    out.push(child);
    offset = child.end;
  }
  return out;
}

function oidText(der: Buffer, tlv: Tlv): string {
  const bytes = der.subarray(tlv.start, tlv.end);
  const parts: number[] = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    value = value * 128 + (bytes[i] % 128);
    if (bytes[i] < 128) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

const KEY_USAGE_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement',
  'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

/** The version, Key Usage names and Extended Key Usage OIDs of a certificate. */
function readExtensions(cert: X509Certificate): { version: number; keyUsage?: string[]; extendedKeyUsage?: string[]; unread?: boolean } {
  const der = cert.raw;
  try {
    const certificate = readTlv(der, 0);
    const tbs = children(der, certificate)[0];
    const fields = children(der, tbs);
    let version = 1;
    if (fields[0]?.tag === 0xa0) {
      const v = children(der, fields[0])[0];
      version = der[v.end - 1] + 1;
    }
    let keyUsage: string[] | undefined;
    let extendedKeyUsage: string[] | undefined;
    const extensions = fields.find((f) => f.tag === 0xa3);
    if (extensions) {
      for (const extension of children(der, children(der, extensions)[0])) {
        const parts = children(der, extension);
        const oid = oidText(der, parts[0]);
        const value = parts[parts.length - 1];
        const inner = readTlv(der, value.start);
        if (oid === '2.5.29.15') {
          // BIT STRING: first byte is the count of unused bits.
          const bits = der.subarray(inner.start + 1, inner.end);
          // Bit 0 is the most significant bit of the first byte.
          keyUsage = KEY_USAGE_BITS.filter((_, i) => i < bits.length * 8 && Math.floor(bits[Math.floor(i / 8)] / 2 ** (7 - (i % 8))) % 2 === 1);
        } else if (oid === '2.5.29.37') {
          extendedKeyUsage = children(der, inner).map((o) => oidText(der, o));
        }
      }
    }
    return { version, keyUsage, extendedKeyUsage };
  } catch {
    // node:crypto parsed it, so this is a structure the reader above does not follow: say so (a
    // re-import then imports a new certificate, the safe side).
    return { version: 3, unread: true };
  }
}

function ocspUrls(cert: X509Certificate): string[] {
  const info = cert.infoAccess;
  if (!info) {
    return [];
  }
  return info.split('\n').filter((l) => l.startsWith('OCSP - URI:')).map((l) => l.slice('OCSP - URI:'.length));
}
