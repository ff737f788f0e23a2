/**
 * `Custom::PrivateCaIssuedCertificate`: the contract between the `IssuedCertificate` construct
 * and its handler, plus the rules both check (the construct at synth, the handler at deploy for
 * values that were tokens). No CDK import: the handler imports this file too.
 */
import { createPublicKey, KeyObject, verify } from 'crypto';
import { isIPv4, isIPv6 } from 'net';
import { joinRules, valueProblem } from './problems';
import { PRINTABLE_STRING_ALPHABET, X500_NAME_ORDER, X500Subject, x500Subject } from './x500';

/** The subject of the CSR, named as ACM Private CA's `ASN1Subject` names it (the shared X.500 shape). */
export type IssuedCertificateSubject = X500Subject;

/** Key algorithms the handler generates (node:crypto, inside the Lambda). */
export type IssuedKeyAlgorithmName = 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'EC_P256' | 'EC_P384';

/** The CloudFormation type of an issued certificate's custom resource. */
export const ISSUED_CERTIFICATE_RESOURCE_TYPE = 'Custom::PrivateCaIssuedCertificate';

/** `Custom::PrivateCaIssuedCertificate` properties (CloudFormation hands every scalar over as a string). */
export interface IssuedCertificateResourceProperties {
  readonly CertificateAuthorityArn: string;
  readonly Subject: IssuedCertificateSubject;
  readonly DnsNames?: readonly string[];
  readonly IpAddresses?: readonly string[];
  readonly Emails?: readonly string[];
  readonly Uris?: readonly string[];
  readonly KeyAlgorithm: IssuedKeyAlgorithmName;
  readonly TemplateArn: string;
  /** DAYS (relative to issuance) or ABSOLUTE (seconds since the epoch). */
  readonly ValidityType: 'DAYS' | 'ABSOLUTE';
  /** An integer, as a string. */
  readonly ValidityValue: string;
  /** The secret the construct owns: the handler writes `{privateKey, certificate, certificateChain}` into it. */
  readonly SecretArn: string;
  /** Used on delete only: changing it never issues a new certificate. */
  readonly RevocationReason: string;
  /** Used on delete only. */
  readonly RevokeOnDelete: 'true' | 'false';
  /** Used on delete only. */
  readonly RemovalPolicy: 'retain' | 'destroy';
  /** Day counts of the expiry notices to time (`NotifyAt<days>` in Data); absent when none. */
  readonly NotifyDaysBefore?: readonly string[];
}

/** The properties that only matter on delete: changing them never issues a new certificate. */
export const DELETE_ONLY_PROPERTIES: ReadonlyArray<keyof IssuedCertificateResourceProperties> = [
  'RevocationReason',
  'RevokeOnDelete',
  'RemovalPolicy',
];

/**
 * The properties that only shape the response (the expiry notices' times): changing them never
 * issues a new certificate.
 */
export const RESPONSE_ONLY_PROPERTIES: ReadonlyArray<keyof IssuedCertificateResourceProperties> = ['NotifyDaysBefore'];

/** `Custom::PrivateCaIssuedCertificate` attributes (response Data): small, public, no PEM. */
export interface IssuedCertificateResourceAttributes {
  readonly CertificateArn: string;
  /** Upper-case hex without separators, as `openssl x509 -serial` prints it (revocation sends it lower-case and colon-separated). */
  readonly SerialNumber: string;
  /** ISO 8601. */
  readonly NotBefore: string;
  /** ISO 8601. */
  readonly NotAfter: string;
  readonly SecretArn: string;
  /**
   * The secret version that holds this certificate, its chain and its key. Consumers read exactly
   * this version, and a re-issue changes it, so CloudFormation updates every consumer.
   */
  readonly SecretVersionId: string;
  readonly [key: string]: string;
}

/** The JSON fields of the secret (the names `CertificatePem.fromSecret`/`PrivateKey.fromSecret` read). */
export const SECRET_FIELDS = {
  privateKey: 'privateKey',
  certificate: 'certificate',
  certificateChain: 'certificateChain',
} as const;

/** ACM Private CA's RevokeCertificate reasons. */
export const REVOCATION_REASONS = [
  'UNSPECIFIED',
  'KEY_COMPROMISE',
  'CERTIFICATE_AUTHORITY_COMPROMISE',
  'AFFILIATION_CHANGED',
  'SUPERSEDED',
  'CESSATION_OF_OPERATION',
  'PRIVILEGE_WITHDRAWN',
  'A_A_COMPROMISE',
] as const;

export const ISSUED_KEY_ALGORITHMS: readonly IssuedKeyAlgorithmName[] = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P384'];

/**
 * The CSR's subject: every `ASN1Subject` field, in the order the name is written (country first,
 * common name last); the construct calls the serial number `subjectSerialNumber`.
 */
export const ISSUED_CERTIFICATE_SUBJECT = x500Subject({
  fields: X500_NAME_ORDER,
  properties: { SerialNumber: 'subjectSerialNumber' },
  lengthFirst: true,
  wording: {
    country: (value) => `'${value}' must be a two-letter ISO 3166 country code (e.g. US)`,
    printable: (value) => `'${value}' may hold only letters, digits, spaces and ${PRINTABLE_STRING_ALPHABET} (an X.680 PrintableString)`,
  },
});

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/**
 * Returns every rule a DNS SAN breaks, in one message with the fix, or undefined: LDH labels of 1
 * to 63 characters, at most 253 characters in all, a wildcard only as the whole first label
 * (`*.example.com`), at least two labels when a wildcard is used, no trailing dot.
 */
export function dnsNameProblem(name: string): string | undefined {
  return valueProblem(name, dnsNameRules(name),
    'use letters, digits and hyphens in dot-separated labels of 1 to 63 characters, a wildcard only as the whole first label (e.g. www.example.com, *.example.com)');
}

function dnsNameRules(name: string): string[] {
  const rules: string[] = [];
  if (name.length < 1 || name.length > 253) {
    rules.push(`must be 1 to 253 characters long, got ${name.length}`);
  }
  if (name.length === 0) {
    return rules;
  }
  if (name.endsWith('.')) {
    rules.push('must not end with a dot');
  }
  // The trailing dot is reported above; the labels are the ones before it.
  const labels = name.replace(/\.$/, '').split('.');
  let invalidLabel = false;
  labels.forEach((label, i) => {
    if (label === '*') {
      if (i !== 0) {
        rules.push('may hold a wildcard only as its first label (e.g. *.example.com)');
      } else if (labels.length < 3) {
        rules.push("is a wildcard over a top-level domain (name at least two labels after '*.')");
      }
    } else if (label.includes('*')) {
      rules.push("may hold a wildcard only as a whole first label ('*'), not inside a label");
    } else if (!DNS_LABEL.test(label)) {
      invalidLabel = true;
    }
  });
  if (invalidLabel) {
    rules.push('is not a valid DNS name: each label is 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen');
  }
  return [...new Set(rules)];
}

/** Returns the rule an IP SAN breaks, or undefined: a dotted-quad IPv4 or an RFC 4291 IPv6 address. */
export function ipAddressProblem(ip: string): string | undefined {
  // A zone index (fe80::1%eth0) is local to one host and has no encoding in a certificate.
  if (isIPv4(ip) || (isIPv6(ip) && !ip.includes('%'))) {
    return undefined;
  }
  return `'${ip}' is not an IPv4 address (e.g. 10.0.0.1) or an IPv6 address (e.g. 2001:db8::1); no prefix length, zone or port`;
}

/** Returns every rule an email SAN breaks, in one message, or undefined (an RFC 822 mailbox: local@domain, ASCII). */
export function emailProblem(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at < 1 || at === email.length - 1 || email.length > 254) {
    return `'${email}' is not an email address; write it as local@domain (e.g. ops@example.com)`;
  }
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const rules: string[] = [];
  if (local.length > 64 || !/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local)) {
    rules.push("the part before '@' holds characters an rfc822Name cannot carry (at most 64 ASCII letters, digits and !#$%&'*+/=?^_`{|}~- in dot-separated parts)");
  }
  if (domain.includes('*') || dnsNameProblem(domain) !== undefined) {
    rules.push(`'${domain}' is not a valid domain (no wildcard; labels of letters, digits and hyphens)`);
  }
  return rules.length === 0 ? undefined : `'${email}' is not an email address: ${joinRules(rules)}`;
}

/** Returns the rule a URI SAN breaks, or undefined: an absolute URI with a scheme (RFC 3986), no spaces. */
export function uriProblem(uri: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(uri) || /[^\x21-\x7e]/.test(uri)) {
    return `'${uri}' is not an absolute URI (scheme:rest, e.g. spiffe://example.org/web or https://example.com/), ASCII without spaces`;
  }
  try {
    new URL(uri);
  } catch {
    return `'${uri}' is not an absolute URI (it does not parse)`;
  }
  return undefined;
}

/**
 * The algorithm an ACM Private CA signs an issued certificate with. It is decided by the CA's key,
 * not by the CSR's: an RSA CA signs a P-256 CSR with SHA256WITHRSA. SHA-256 matches the strength of
 * both key specs (RSA 2048, P-256); an EC CA uses the hash that matches its own curve.
 */
export function signingAlgorithmForCaKey(caKeyAlgorithm: string): string | undefined {
  if (caKeyAlgorithm.startsWith('RSA_')) {
    return 'SHA256WITHRSA';
  }
  switch (caKeyAlgorithm) {
    case 'EC_prime256v1':
      return 'SHA256WITHECDSA';
    case 'EC_secp384r1':
      return 'SHA384WITHECDSA';
    case 'EC_secp521r1':
      return 'SHA512WITHECDSA';
    case 'SM2':
      return 'SM3WITHSM2';
    default:
      // ML-DSA CAs sign with their own parameter set.
      return /^ML_DSA_\d+$/.test(caKeyAlgorithm) ? caKeyAlgorithm : undefined;
  }
}

/** ACM Private CA's cap on a certificate issued by a CA in SHORT_LIVED_CERTIFICATE mode. */
export const SHORT_LIVED_MAX_DAYS = 7;

/** What {@link checkCsr} learned from a CSR. */
export interface CsrSummary {
  /** `RSA` or `EC` (or node's name for other key types). */
  readonly keyType: string;
  /** RSA modulus length. */
  readonly rsaBits?: number;
  /** EC curve (OpenSSL name, e.g. prime256v1). */
  readonly curve?: string;
}

interface DerNode {
  readonly tag: number;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset just past the content. */
  readonly end: number;
  /** Offset of the tag byte. */
  readonly headerStart: number;
}

function readDer(der: Buffer, offset: number, limit: number): DerNode {
  if (offset + 2 > limit) {
    throw new Error('truncated');
  }
  const tag = der[offset];
  let length = der[offset + 1];
  let start = offset + 2;
  // Long form: the low seven bits count the length octets that follow.
  if (length >= 0x80) {
    const count = length - 0x80;
    if (count < 1 || count > 4 || start + count > limit) {
      throw new Error('bad length');
    }
    length = 0;
    for (let i = 0; i < count; i++) {
      length = length * 256 + der[start + i];
    }
    start += count;
  }
  if (start + length > limit) {
    throw new Error('truncated');
  }
  return { tag, start, end: start + length, headerStart: offset };
}

function children(der: Buffer, node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  for (let offset = node.start; offset < node.end;) {
    const child = readDer(der, offset, node.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

function oidOf(der: Buffer, node: DerNode): string {
  const bytes = der.subarray(node.start, node.end);
  const parts = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    // Base-128 digits; a set high bit means more digits follow.
    value = value * 128 + (bytes[i] % 0x80);
    if (bytes[i] < 0x80) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

// The signature algorithms ACM Private CA accepts on a CSR, by OID, with node's hash name.
const CSR_SIGNATURE_HASHES: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

/**
 * Checks a PKCS#10 CSR in PEM: exactly one `CERTIFICATE REQUEST` block, well-formed DER, a
 * signature that verifies with the request's own public key (RSA PKCS#1 v1.5 or ECDSA, SHA-1/2),
 * and a key ACM Private CA accepts (RSA of at least 2048 bits, or ECDSA). Returns a summary, or
 * throws an Error whose message is the rule broken (never the CSR itself).
 */
export function checkCsr(pem: string): CsrSummary {
  const blocks = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)];
  if (/PRIVATE KEY-----/.test(pem)) {
    throw new Error('holds a private key; pass only the certificate signing request (-----BEGIN CERTIFICATE REQUEST-----) and keep the key to yourself');
  }
  if (blocks.length !== 1 || (blocks[0][1] !== 'CERTIFICATE REQUEST' && blocks[0][1] !== 'NEW CERTIFICATE REQUEST')) {
    throw new Error(`must be exactly one PEM block -----BEGIN CERTIFICATE REQUEST----- (found ${blocks.map((b) => b[1]).join(', ') || 'none'})`);
  }
  const der = Buffer.from(blocks[0][2].replace(/\s+/g, ''), 'base64');
  let info: DerNode;
  let algorithm: string;
  let signature: Buffer;
  let spki: Buffer;
  try {
    const outer = readDer(der, 0, der.length);
    const [infoNode, algNode, sigNode] = children(der, outer);
    if (outer.tag !== 0x30 || !infoNode || infoNode.tag !== 0x30 || !algNode || algNode.tag !== 0x30 || !sigNode || sigNode.tag !== 0x03) {
      throw new Error('not a CertificationRequest');
    }
    info = infoNode;
    const [, , spkiNode] = children(der, infoNode);
    if (!spkiNode || spkiNode.tag !== 0x30) {
      throw new Error('no subjectPKInfo');
    }
    spki = der.subarray(spkiNode.headerStart, spkiNode.end);
    algorithm = oidOf(der, children(der, algNode)[0]);
    // A BIT STRING starts with the count of unused bits (0 for signatures).
    signature = der.subarray(sigNode.start + 1, sigNode.end);
  } catch {
    throw new Error('is not a valid PKCS#10 certificate signing request (its DER structure does not parse)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    throw new Error('holds a public key that cannot be read');
  }
  const hash = CSR_SIGNATURE_HASHES[algorithm];
  if (!hash) {
    throw new Error(`is signed with an algorithm ACM Private CA does not accept (OID ${algorithm}); sign it with RSA (PKCS#1 v1.5) or ECDSA and SHA-256`);
  }
  const signed = der.subarray(info.headerStart, info.end);
  let valid: boolean;
  try {
    valid = verify(hash, signed, key, signature);
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new Error('has a signature that does not verify with its own public key (was it edited after signing?)');
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) < 2048) {
    throw new Error(`holds a ${details.modulusLength}-bit RSA key; ACM Private CA needs at least 2048 bits`);
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') {
    throw new Error(`holds a ${key.asymmetricKeyType} key; ACM Private CA issues certificates for RSA and ECDSA keys`);
  }
  return { keyType: key.asymmetricKeyType === 'rsa' ? 'RSA' : 'EC', rsaBits: details.modulusLength, curve: details.namedCurve };
}
