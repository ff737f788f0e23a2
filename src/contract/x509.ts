/**
 * Pure X.509 / PEM checks shared by the constructs (at synth, when the PEM is known) and the
 * handlers (at deploy, when it was a token). Depends on node:crypto only, never on aws-cdk-lib,
 * so esbuild can bundle it into any handler.
 *
 * Every failure is a CertificateCheckError whose message is `<property>: <rule>`. Messages name
 * labels, positions, subjects and dates, and never echo input text: a private key pasted into
 * the wrong property must not end up in an error, a log or a template.
 */
import { X509Certificate, createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { CertificateCheckError, parsePemBlocks, PLAIN_KEY_LABELS, PRIVATE_KEY_LABEL, toPem } from './pem';

// PEM parsing lives in pem.ts; this module stays the one entry for importers.
export * from './pem';

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_EXPIRY_WARNING_DAYS = 30;

/** What a certificate says about itself, for errors, warnings, attributes and logs. */
export interface CertificateSummary {
  /** Subject DN, RDNs joined with `, ` (e.g. `C=US, O=Example, CN=www.example.com`). */
  readonly subject: string;
  readonly issuer: string;
  /** Subject CN, when the subject has one. */
  readonly commonName?: string;
  /** Upper-case hex, as node:crypto prints it. */
  readonly serialNumber: string;
  /** ISO 8601. */
  readonly notBefore: string;
  /** ISO 8601. */
  readonly notAfter: string;
  /** SHA-256 fingerprint, upper-case hex pairs joined by `:`. */
  readonly fingerprintSha256: string;
  /** Every SAN entry with its type, e.g. `DNS:www.example.com`, `IP Address:10.0.0.1`. */
  readonly subjectAlternativeNames: string[];
  /** The DNS names among the SANs, without the `DNS:` prefix. */
  readonly dnsNames: string[];
  /** basicConstraints CA:TRUE. */
  readonly isCa: boolean;
  /** Issued by itself (subject matches issuer and its own key verifies the signature). */
  readonly selfSigned: boolean;
  /** `RSA`, `RSA-PSS`, `EC`, `ED25519`, `DSA`, ... */
  readonly publicKeyAlgorithm: string;
  /** RSA modulus length, or the EC field size (256 for P-256). */
  readonly publicKeyBits?: number;
  /** EC curve, NIST name where there is one (`P-256`, `P-384`, `P-521`). */
  readonly curve?: string;
}

export interface CheckOptions {
  /** The instant to check validity against. @default new Date() */
  readonly now?: Date;
  /** Certificates expiring within this many days give a warning. @default 30 */
  readonly expiryWarningDays?: number;
  /** The property holding the leaf passed to checkCertificateChain, for messages. @default 'certificateBody' */
  readonly leafProperty?: string;
  /**
   * Check validity dates (expired, not yet valid, expiring soon). Handlers check dates only on
   * material they are about to upload or issue ({@link checkDates}): an update back to material
   * already in place, or of tags alone, must succeed even after it expired (a rollback).
   * @default true
   */
  readonly dates?: boolean;
}

export interface CheckResult {
  /** One summary per certificate, in input order. */
  readonly certificates: CertificateSummary[];
  /** Non-fatal findings (expiring soon), each `<property>: ...`. */
  readonly warnings: string[];
}

/** Days from `now` until `date` (fractional; negative when `date` is past). */
export function daysUntil(date: Date, now: Date = new Date()): number {
  return (date.getTime() - now.getTime()) / DAY_MS;
}

function privateKeyInCertificateRule(): string {
  return 'holds a private key; pass the certificate here and the key as privateKey';
}

/**
 * Parses every block as an X.509 certificate. Every block must be a CERTIFICATE; a private key
 * gets its own message (which never repeats the key).
 */
export function parseCertificates(pem: string, property: string): X509Certificate[] {
  return parsePemBlocks(pem, property).map((block, i) => {
    if (PRIVATE_KEY_LABEL.test(block.label)) {
      throw new CertificateCheckError(property, privateKeyInCertificateRule());
    }
    if (block.label !== 'CERTIFICATE') {
      throw new CertificateCheckError(property, `block ${i + 1} is a ${block.label}, expected CERTIFICATE`);
    }
    try {
      return new X509Certificate(Buffer.from(block.base64, 'base64'));
    } catch {
      throw new CertificateCheckError(property, `block ${i + 1} (CERTIFICATE) is not a valid X.509 certificate`);
    }
  });
}

/** Parses certificates and summarises each one. */
export function summarizeCertificates(pem: string, property: string): CertificateSummary[] {
  return parseCertificates(pem, property).map(summarizeCertificate);
}

/**
 * Checks a certificate body: exactly one certificate, valid now. A certificate expiring within
 * `expiryWarningDays` is a warning, not an error.
 */
export function checkCertificateBody(pem: string, property: string, options: CheckOptions = {}): CheckResult {
  const certs = parseCertificates(pem, property);
  if (certs.length !== 1) {
    throw new CertificateCheckError(property,
      `must contain exactly one certificate, found ${certs.length}; put the issuing CA certificates in the certificate chain`);
  }
  const summary = summarizeCertificate(certs[0]);
  const warnings: string[] = [];
  if (options.dates !== false) {
    checkValidity(summary, property, 'the certificate', options, warnings);
  }
  return { certificates: [summary], warnings };
}

/**
 * Checks a certificate chain: every block a certificate, ordered leaf-to-root (the first issued
 * the leaf, when the leaf is given; each is signed by the next), the leaf itself not included,
 * none expired or not yet valid. Expiring soon is a warning.
 */
export function checkCertificateChain(chainPem: string, property: string, leafPem?: string, options: CheckOptions = {}): CheckResult {
  const leafProperty = options.leafProperty ?? 'certificateBody';
  const chain = parseCertificates(chainPem, property);
  const summaries = chain.map(summarizeCertificate);
  const describe = (i: number) => `position ${i + 1} (${summaries[i].subject})`;
  const order = 'order the chain leaf-to-root: each certificate followed by the one that issued it, the root last';

  // The same certificate twice is never useful and confuses the ordering messages below.
  for (let i = 0; i < chain.length; i++) {
    const first = summaries.findIndex((s) => s.fingerprintSha256 === summaries[i].fingerprintSha256);
    if (first < i) {
      throw new CertificateCheckError(property, `${describe(i)} repeats position ${first + 1}; list each certificate once`);
    }
  }

  let leaf: X509Certificate | undefined;
  if (leafPem !== undefined) {
    const leafCerts = parseCertificates(leafPem, leafProperty);
    leaf = leafCerts[0];
    const leafFingerprint = leaf.fingerprint256;
    const inChain = summaries.findIndex((s) => s.fingerprintSha256 === leafFingerprint);
    if (inChain >= 0) {
      throw new CertificateCheckError(property,
        `${describe(inChain)} is the certificate in ${leafProperty} itself; the chain holds only its issuers, so remove it`);
    }
  }

  // A chain given root-first is the most common mistake: say so in one message.
  if (chain.length >= 2
    && chain.every((c, i) => i === chain.length - 1 || (!issuedBy(c, chain[i + 1]) && issuedBy(chain[i + 1], c)))) {
    throw new CertificateCheckError(property,
      `is in root-to-leaf order (position 1 is ${summaries[0].subject}); reverse it: ${order}`);
  }

  if (leaf !== undefined && !issuedBy(leaf, chain[0])) {
    const issuerAt = chain.findIndex((c) => issuedBy(leaf!, c));
    const leafIssuer = oneLineName(leaf.issuer);
    throw new CertificateCheckError(property, issuerAt >= 0
      ? `${describe(0)} did not issue the certificate in ${leafProperty}; its issuer (${leafIssuer}) is at position ${issuerAt + 1}. Expected it at position 1: ${order}`
      : `no certificate in the chain issued the certificate in ${leafProperty}; position 1 must be its issuer (${leafIssuer}): ${order}`);
  }

  for (let i = 0; i + 1 < chain.length; i++) {
    if (issuedBy(chain[i], chain[i + 1])) continue;
    if (summaries[i].selfSigned) {
      throw new CertificateCheckError(property,
        `${describe(i)} is a self-signed root, so it must be last, but ${chain.length - 1 - i} certificate(s) follow it: ${order}`);
    }
    const issuerAt = chain.findIndex((c, j) => j !== i && issuedBy(chain[i], c));
    throw new CertificateCheckError(property, issuerAt >= 0
      ? `${describe(i)} is not signed by position ${i + 2} (${summaries[i + 1].subject}); its issuer is at position ${issuerAt + 1}: ${order}`
      : `${describe(i)} is not signed by position ${i + 2} (${summaries[i + 1].subject}); expected its issuer (${summaries[i].issuer}) there: ${order}`);
  }

  const warnings: string[] = [];
  if (options.dates !== false) {
    summaries.forEach((s, i) => checkValidity(s, property, describe(i), options, warnings));
  }
  return { certificates: summaries, warnings };
}

/**
 * The date checks alone, for material about to be uploaded or issued: every certificate of `pem`
 * valid now (one certificate is "the certificate", several are named by position). Expiring soon
 * is a warning.
 */
export function checkDates(pem: string, property: string, options: CheckOptions = {}): string[] {
  const summaries = summarizeCertificates(pem, property);
  const warnings: string[] = [];
  summaries.forEach((s, i) => checkValidity(s, property,
    summaries.length === 1 ? 'the certificate' : `position ${i + 1} (${s.subject})`, options, warnings));
  return warnings;
}

/**
 * Checks private key PEM: exactly one key block, not encrypted, parses. Messages never include
 * key text.
 */
export function checkPrivateKey(keyPem: string, property: string): void {
  loadPrivateKey(keyPem, property);
}

/**
 * Loads private key PEM after the checkPrivateKey rules, for callers that need the key itself
 * (e.g. to compare it with a certificate).
 */
export function loadPrivateKey(keyPem: string, property: string): KeyObject {
  const fail = (rule: string): never => {
    throw new CertificateCheckError(property, rule);
  };
  const blocks = parsePemBlocks(keyPem, property);
  for (const block of blocks) {
    if (block.label === 'ENCRYPTED PRIVATE KEY' || /ENCRYPTED/i.test(block.headers['Proc-Type'] ?? '')) {
      fail('is encrypted; provide the key unencrypted (e.g. `openssl pkey -in encrypted.pem -out key.pem`) and keep it in a secret');
    }
    if (block.label === 'CERTIFICATE') {
      fail(blocks.some((b) => PRIVATE_KEY_LABEL.test(b.label))
        ? 'holds a certificate as well as a private key; pass only the private key here and the certificate as the certificate body'
        : 'holds a certificate, not a private key; pass the certificate as the certificate body and its private key here');
    }
    if (block.label === 'PUBLIC KEY' || block.label === 'RSA PUBLIC KEY') {
      fail(`holds a ${block.label}, not a private key`);
    }
    if (block.label === 'OPENSSH PRIVATE KEY') {
      fail('is an OpenSSH-format key; convert it to PEM (PKCS#8 PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)');
    }
  }
  // `openssl ecparam -genkey` writes an EC PARAMETERS block before the key; it adds nothing.
  const keys = blocks.filter((b) => b.label !== 'EC PARAMETERS');
  if (keys.length !== 1) {
    fail(`must contain exactly one private key, found ${keys.length} PEM blocks`);
  }
  const block = keys[0];
  if (!PLAIN_KEY_LABELS.has(block.label)) {
    fail(`block is a ${block.label}, expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY`);
  }
  try {
    return createPrivateKey({ key: toPem(block), format: 'pem' });
  } catch {
    // The underlying error is dropped on purpose: it could quote the input.
    return fail(`is not a valid ${block.label} (the key could not be parsed)`);
  }
}

/**
 * Checks that a private key belongs to a certificate (the first certificate of
 * `certificatePem`): the key's public half must equal the certificate's public key.
 */
export function checkPrivateKeyMatchesCertificate(
  keyPem: string,
  certificatePem: string,
  property: string,
  certificateProperty: string = 'certificateBody',
): void {
  const key = loadPrivateKey(keyPem, property);
  const cert = parseCertificates(certificatePem, certificateProperty)[0];
  const keyPublic = createPublicKey(key);
  if (samePublicKey(keyPublic, cert.publicKey)) return;
  const keyDesc = describeKey(keyPublic);
  const certDesc = describeKey(cert.publicKey);
  throw new CertificateCheckError(property, keyDesc === certDesc
    ? `does not match the certificate in ${certificateProperty} (both ${keyDesc}, but different keys); pass the key the certificate was issued for`
    : `does not match the certificate in ${certificateProperty}: the key is ${keyDesc}, the certificate's public key is ${certDesc}`);
}

/** Summarises one parsed certificate. */
export function summarizeCertificate(cert: X509Certificate): CertificateSummary {
  const san = parseSubjectAltName(cert.subjectAltName);
  const key = keyDetails(cert.publicKey);
  return {
    subject: oneLineName(cert.subject),
    issuer: oneLineName(cert.issuer),
    commonName: commonNameOf(cert),
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    fingerprintSha256: cert.fingerprint256,
    subjectAlternativeNames: san.map(([type, value]) => `${type}:${value}`),
    dnsNames: san.filter(([type]) => type === 'DNS').map(([, value]) => value),
    isCa: cert.ca,
    selfSigned: issuedBy(cert, cert),
    ...key,
  };
}

function checkValidity(s: CertificateSummary, property: string, what: string, options: CheckOptions, warnings: string[]): void {
  const now = options.now ?? new Date();
  const warningDays = options.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS;
  const notBefore = new Date(s.notBefore);
  const notAfter = new Date(s.notAfter);
  if (now.getTime() > notAfter.getTime()) {
    throw new CertificateCheckError(property, `${what} has expired: notAfter ${s.notAfter} is before ${now.toISOString()}; renew it`);
  }
  if (now.getTime() < notBefore.getTime()) {
    throw new CertificateCheckError(property, `${what} is not valid yet: notBefore ${s.notBefore} is after ${now.toISOString()}`);
  }
  const days = daysUntil(notAfter, now);
  if (days < warningDays) {
    warnings.push(`${property}: ${what} expires within ${Math.ceil(days)} day(s) (notAfter ${s.notAfter}), inside the ${warningDays}-day warning window`);
  }
}

/** `child` names `parent` as issuer and `parent`'s key verifies `child`'s signature. */
function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  if (a.asymmetricKeyType !== b.asymmetricKeyType) return false;
  try {
    // JWK compares key values regardless of encoding choices (e.g. compressed EC points).
    const ja = a.export({ format: 'jwk' });
    const jb = b.export({ format: 'jwk' });
    return ja.n === jb.n && ja.e === jb.e && ja.x === jb.x && ja.y === jb.y && ja.crv === jb.crv;
  } catch {
    return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
  }
}

const CURVES: Record<string, { name: string; bits: number }> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp256r1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
};

function keyDetails(key: KeyObject): { publicKeyAlgorithm: string; publicKeyBits?: number; curve?: string } {
  const publicKeyAlgorithm = (key.asymmetricKeyType ?? 'unknown').toUpperCase();
  const details = key.asymmetricKeyDetails ?? {};
  if (details.namedCurve !== undefined) {
    const known = CURVES[details.namedCurve];
    return { publicKeyAlgorithm, curve: known?.name ?? details.namedCurve, publicKeyBits: known?.bits };
  }
  return { publicKeyAlgorithm, publicKeyBits: details.modulusLength };
}

function describeKey(key: KeyObject): string {
  const d = keyDetails(key);
  if (d.curve !== undefined) return `${d.publicKeyAlgorithm} ${d.curve}`;
  return d.publicKeyBits !== undefined ? `${d.publicKeyAlgorithm} ${d.publicKeyBits}-bit` : d.publicKeyAlgorithm;
}

/** node prints a DN one attribute per line, values RFC 2253-escaped (e.g. `CN=Example\, Inc`). */
function oneLineName(name: string): string {
  return name.split('\n').filter((l) => l !== '').join(', ');
}

/** The subject CN, unescaped (node's legacy object holds raw values; an array when repeated). */
function commonNameOf(cert: X509Certificate): string | undefined {
  const cn: unknown = (cert.toLegacyObject().subject as unknown as Record<string, unknown> | undefined)?.CN;
  if (Array.isArray(cn)) return cn.length > 0 ? String(cn[cn.length - 1]) : undefined;
  return typeof cn === 'string' ? cn : undefined;
}

function unquote(value: string): string {
  if (value.startsWith('"')) {
    try {
      return JSON.parse(value) as string;
    } catch {
      return value;
    }
  }
  return value;
}

/** Parses node's `subjectAltName` (`DNS:a, DNS:"b,c", IP Address:10.0.0.1`) into [type, value]. */
function parseSubjectAltName(text: string | undefined): Array<[string, string]> {
  if (!text) return [];
  const entries: Array<[string, string]> = [];
  const entry = /([^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;
  let m: RegExpExecArray | null;
  while (entry.lastIndex < text.length && (m = entry.exec(text)) !== null) {
    entries.push([m[1].trim(), unquote(m[2])]);
  }
  return entries;
}
