/**
 * `cdk-certificates check --live --stack <name>`: what is deployed, not only what was synthesized.
 *
 * It lists a deployed stack's resources through CloudFormation, asks each service for the real
 * certificate of every certificate resource (IAM, DMS, Lightsail, ACM, ACM Private CA), and reports
 * every certificate that is expired, not yet valid, expires within the minimum number of days,
 * fails the library's X.509 checks (certificate and chain, ./x509.ts), is gone, or is not in a
 * healthy state at its service (ACM `REVOKED`, Lightsail `EXPIRED`, ...). Where the service says,
 * it lists what uses each certificate.
 *
 * Revocation: from the service's own state (ACM `Status`/`RevokedAt`, Lightsail `status`), and, for
 * every certificate read as PEM, from the CRL of its CRL Distribution Points extension where the check
 * can reach it over http (fetched once per URL per run; signature verified with the issuer from the
 * chain where it is known; a stale CRL is a note). An unreachable CRL, or no CRL distribution point,
 * is a note ("revocation not checked: ..."), not a failure.
 *
 * This file holds no AWS SDK: the services come in as {@link LiveServices} (./live.ts binds them to
 * the AWS SDK v3; tests bind them to moto or fakes). The live CLI ships as its own bundle
 * (assets/manifest/cli/live/index.js, SDK clients bundled in), so the self-contained `check` CLI stays
 * small; main.ts hands `check --live` to it.
 */
import { verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { CliIo, DEFAULT_MIN_DAYS, EXIT_HEALTHY, EXIT_OFFENDERS, EXIT_USAGE, forEachArg, parseFormat, parseMinDays, table, UsageError } from './check';
import {
  CertificateCheckError,
  CertificateSummary,
  checkCertificateBody,
  checkCertificateChain,
  daysUntil,
  parseCertificates,
  summarizeCertificate,
} from '../../contract/x509';

/** The version of the live JSON report (`check --live --format json`). */
export const LIVE_REPORT_VERSION = 1;

/** One resource of a deployed stack, as CloudFormation lists it. */
export interface StackResource {
  readonly logicalId: string;
  readonly physicalId?: string;
  readonly type: string;
  /** CloudFormation's status of the resource (`CREATE_COMPLETE`, ...). */
  readonly status?: string;
}

/** A certificate and its chain as a service returns them (PEM), with what the service says of it. */
export interface ServiceCertificate {
  /** The certificate (PEM); absent where the service returns no PEM (Lightsail, a DMS Oracle wallet). */
  readonly certificatePem?: string;
  /** The issuers of the certificate, leaf-to-root (PEM). */
  readonly chainPem?: string;
  /** Validity from the service, used when there is no PEM. */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly subject?: string;
  readonly serialNumber?: string;
  /** The service's status of the certificate (ACM, Lightsail, ACM Private CA). */
  readonly status?: string;
  /** Statuses of that service that are healthy. */
  readonly healthyStatuses?: readonly string[];
  /** When the service says the certificate was revoked. */
  readonly revokedAt?: Date;
  /** What uses the certificate, where the service says (undefined: the service does not say). */
  readonly usedBy?: readonly string[];
}

/**
 * The read-only calls the live check makes. Each returns undefined when the certificate does not
 * exist (the service's not-found error); any other error propagates.
 */
export interface LiveServices {
  /** CloudFormation DescribeStackResources. */
  stackResources(stackName: string): Promise<StackResource[]>;
  /** IAM GetServerCertificate (by name). IAM does not say what uses a server certificate. */
  iamServerCertificate(name: string): Promise<ServiceCertificate | undefined>;
  /** DMS DescribeCertificates (by ARN), and DescribeEndpoints for its users. */
  dmsCertificate(arn: string): Promise<ServiceCertificate | undefined>;
  /** Lightsail GetCertificates (with details), matched by ARN. */
  lightsailCertificate(arn: string): Promise<ServiceCertificate | undefined>;
  /** ACM DescribeCertificate (status, InUseBy) and GetCertificate (PEM, once issued). */
  acmCertificate(arn: string): Promise<ServiceCertificate | undefined>;
  /** ACM Private CA GetCertificateAuthorityCertificate. */
  privateCaCertificate(caArn: string): Promise<ServiceCertificate | undefined>;
  /** ACM Private CA GetCertificate: the public certificate of an issued certificate (never its key). */
  privateCaIssuedCertificate(caArn: string, certificateArn: string): Promise<ServiceCertificate | undefined>;
  /**
   * Fetches a CRL (DER or PEM) from an `http://` URL; rejects when it cannot be read. Absent: CRLs
   * are not fetched, and revocation from a CRL is not checked.
   */
  fetchCrl?(url: string): Promise<Uint8Array>;
}

/** How each resource type is read, by its physical ID. */
interface Reader {
  readonly service: string;
  readonly read: (services: LiveServices, physicalId: string) => Promise<ServiceCertificate | undefined>;
}

/** The CA ARN an issued certificate's ARN starts with (`<ca-arn>/certificate/<id>`). */
export function caArnOfIssuedCertificate(certificateArn: string): string {
  const at = certificateArn.indexOf('/certificate/');
  return at > 0 ? certificateArn.slice(0, at) : certificateArn;
}

const issued: Reader = {
  service: 'ACM Private CA',
  read: (s, id) => s.privateCaIssuedCertificate(caArnOfIssuedCertificate(id), id),
};
const acm: Reader = { service: 'ACM', read: (s, id) => s.acmCertificate(id) };
const ca: Reader = { service: 'ACM Private CA', read: (s, id) => s.privateCaCertificate(id) };

/** The certificate resource types the live check reads, and how. */
export const LIVE_RESOURCE_TYPES: Readonly<Record<string, Reader>> = {
  'Custom::ServerCertificate': { service: 'IAM', read: (s, id) => s.iamServerCertificate(id) },
  'AWS::IAM::ServerCertificate': { service: 'IAM', read: (s, id) => s.iamServerCertificate(id) },
  'Custom::DmsCertificate': { service: 'DMS', read: (s, id) => s.dmsCertificate(id) },
  'AWS::DMS::Certificate': { service: 'DMS', read: (s, id) => s.dmsCertificate(id) },
  'Custom::LightsailCertificate': { service: 'Lightsail', read: (s, id) => s.lightsailCertificate(id) },
  'Custom::AcmImportedCertificate': acm,
  'AWS::CertificateManager::Certificate': acm,
  'Custom::PrivateCa': ca,
  'AWS::ACMPCA::CertificateAuthority': ca,
  'Custom::PrivateCaIssuedCertificate': issued,
  'AWS::ACMPCA::Certificate': issued,
};

export type LiveProblemCode = 'missing' | 'unhealthy' | 'revoked' | 'invalid' | 'expired' | 'not-yet-valid' | 'expiring';
/** Worst first: a certificate's status is its worst problem. */
const LIVE_PROBLEM_CODES: readonly LiveProblemCode[] = ['missing', 'revoked', 'unhealthy', 'invalid', 'expired', 'not-yet-valid', 'expiring'];

export interface LiveProblem {
  readonly code: LiveProblemCode;
  readonly message: string;
}

/** One deployed certificate resource and what the check found. */
export interface LiveCertificateResult {
  readonly logicalId: string;
  readonly physicalId: string;
  readonly resourceType: string;
  readonly service: string;
  readonly subject?: string;
  readonly issuer?: string;
  readonly serialNumber?: string;
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly fingerprintSha256?: string;
  /** Whole days left until notAfter (negative once expired); undefined when unknown. */
  readonly daysLeft?: number;
  /** The number of certificates in the chain the service returned. */
  readonly chainLength: number;
  /** The service's own status of the certificate, where it has one. */
  readonly serviceStatus?: string;
  /** What uses the certificate, where the service says; undefined when it does not say (IAM). */
  readonly usedBy?: readonly string[];
  readonly status: LiveProblemCode | 'ok';
  readonly problems: LiveProblem[];
  /** What the check could not establish or warns of, not failures (revocation from the CRL, ...). */
  readonly notes?: string[];
}

export interface LiveCheckReport {
  readonly version: number;
  readonly mode: 'live';
  readonly checkedAt: string;
  readonly minDays: number;
  readonly stack: string;
  readonly region?: string;
  readonly certificates: LiveCertificateResult[];
  readonly offenders: LiveCertificateResult[];
  /** Certificate resources with no physical ID yet (being created, or failed to create). */
  readonly notDeployed: Array<{ logicalId: string; resourceType: string; status?: string }>;
  /** What the check does not cover, said once. */
  readonly notChecked: string[];
}

export interface LiveCheckOptions {
  readonly stackName: string;
  readonly region?: string;
  readonly minDays: number;
  readonly now: Date;
  readonly services: LiveServices;
  /**
   * The stack's resources, instead of CloudFormation DescribeStackResources (a test seam).
   *
   * @default - `services.stackResources(stackName)`
   */
  readonly resources?: StackResource[];
}

/** Notes on what the live check cannot see, in every report. */
export const LIVE_NOT_CHECKED = [
  'revocation where there is no CRL distribution point or the CRL cannot be reached over http (each certificate says so); ACM and Lightsail revocation also comes from their status; ACM Private CA audit reports are not read',
  'what uses an IAM server certificate (IAM does not say)',
];

/** Reads every certificate resource of the stack from its service and checks it. */
export async function checkLiveStack(options: LiveCheckOptions): Promise<LiveCheckReport> {
  const resources = options.resources ?? await options.services.stackResources(options.stackName);
  const certificateResources = resources.filter((r) => LIVE_RESOURCE_TYPES[r.type] !== undefined);
  const deployed = certificateResources.filter((r) => r.physicalId);
  const notDeployed = certificateResources.filter((r) => !r.physicalId)
    .map((r) => ({ logicalId: r.logicalId, resourceType: r.type, status: r.status }));

  // A few resources per stack: read them a few at a time, in order.
  const certificates: LiveCertificateResult[] = [];
  const CONCURRENCY = 4;
  const crls: CrlCache = new Map();
  for (let i = 0; i < deployed.length; i += CONCURRENCY) {
    certificates.push(...await Promise.all(deployed.slice(i, i + CONCURRENCY).map((r) => checkResource(r, options, crls))));
  }
  return {
    version: LIVE_REPORT_VERSION,
    mode: 'live',
    checkedAt: options.now.toISOString(),
    minDays: options.minDays,
    stack: options.stackName,
    region: options.region,
    certificates,
    offenders: certificates.filter((c) => c.status !== 'ok'),
    notDeployed,
    notChecked: LIVE_NOT_CHECKED,
  };
}

async function checkResource(resource: StackResource, options: LiveCheckOptions, crls: CrlCache): Promise<LiveCertificateResult> {
  const reader = LIVE_RESOURCE_TYPES[resource.type];
  const physicalId = resource.physicalId!;
  const base = { logicalId: resource.logicalId, physicalId, resourceType: resource.type, service: reader.service };
  const found = await reader.read(options.services, physicalId);
  if (!found) {
    const problem: LiveProblem = { code: 'missing', message: `${reader.service} has no certificate ${physicalId}, which the stack says it holds; it was deleted outside CloudFormation: update the stack to recreate it` };
    return { ...base, chainLength: 0, status: 'missing', problems: [problem] };
  }

  const problems: LiveProblem[] = [];
  let summary: CertificateSummary | undefined;
  let chainLength = 0;
  if (found.certificatePem !== undefined) {
    try {
      const certs = parseCertificates(found.certificatePem, 'certificate');
      summary = summarizeCertificate(certs[0]);
      checkCertificateBody(found.certificatePem, 'certificate', { dates: false });
    } catch (e) {
      problems.push(checkProblem(e, 'the certificate'));
    }
  }
  if (found.chainPem !== undefined && found.chainPem.trim() !== '') {
    try {
      const chain = parseCertificates(found.chainPem, 'certificateChain').map(summarizeCertificate);
      chainLength = chain.length;
      checkCertificateChain(found.chainPem, 'certificateChain', found.certificatePem, { dates: false, leafProperty: 'certificate' });
      chain.forEach((c, i) => problems.push(...validityProblems(
        `chain position ${i + 1} (${c.subject})`, new Date(c.notBefore), new Date(c.notAfter), options)));
    } catch (e) {
      problems.push(checkProblem(e, 'the chain'));
    }
  }

  const notBefore = summary ? new Date(summary.notBefore) : found.notBefore;
  const notAfter = summary ? new Date(summary.notAfter) : found.notAfter;
  if (notBefore && notAfter) {
    problems.unshift(...validityProblems('the certificate', notBefore, notAfter, options));
  }
  if (found.revokedAt) {
    problems.unshift({ code: 'revoked', message: `${reader.service} says it was revoked on ${found.revokedAt.toISOString()}; replace it` });
  } else if (found.status !== undefined && found.healthyStatuses && !found.healthyStatuses.includes(found.status)) {
    const code: LiveProblemCode = found.status === 'REVOKED' ? 'revoked' : 'unhealthy';
    // An expired certificate is reported from its dates; do not say it twice.
    if (!(found.status === 'EXPIRED' && problems.some((p) => p.code === 'expired'))) {
      problems.unshift({ code, message: `${reader.service} status ${found.status} (healthy: ${found.healthyStatuses.join(', ')})` });
    }
  }

  const notes: string[] = [];
  // Revocation from the CRL, unless the service already says the certificate is revoked.
  if (summary && found.certificatePem !== undefined && !problems.some((p) => p.code === 'revoked')) {
    const crl = await crlRevocation(found.certificatePem, found.chainPem, options, crls);
    notes.push(...crl.notes);
    if (crl.revoked) {
      problems.unshift(crl.revoked);
    }
  }

  const status = LIVE_PROBLEM_CODES.find((code) => problems.some((p) => p.code === code)) ?? 'ok';
  return {
    ...base,
    subject: summary?.subject ?? found.subject,
    issuer: summary?.issuer,
    serialNumber: summary?.serialNumber ?? found.serialNumber,
    notBefore: notBefore?.toISOString(),
    notAfter: notAfter?.toISOString(),
    fingerprintSha256: summary?.fingerprintSha256,
    daysLeft: notAfter ? Math.floor(daysUntil(notAfter, options.now)) : undefined,
    chainLength,
    serviceStatus: found.status,
    usedBy: found.usedBy,
    status,
    problems,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** CRLs fetched in one run, by URL: each URL is fetched once. */
type CrlCache = Map<string, Promise<Uint8Array>>;

const CRL_REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded',
  'cessationOfOperation', 'certificateHold', '(7)', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];

/** The hash of each signature algorithm a CRL may be signed with (PKCS#1 v1.5 RSA, ECDSA); Ed25519: null. */
const CRL_SIGNATURE_HASHES: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
};

/** One DER element: its tag, where it starts, its header length and where it ends. */
interface Der {
  readonly buf: Buffer;
  readonly tag: number;
  readonly start: number;
  readonly body: number;
  readonly end: number;
}

function der(buf: Buffer, at: number): Der {
  if (at + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[at];
  let length = buf[at + 1];
  let body = at + 2;
  if (length >= 0x80) {
    const n = length - 0x80;
    if (n < 1 || n > 4) throw new Error('bad DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[at + 2 + i];
    body += n;
  }
  if (body + length > buf.length) throw new Error('truncated DER');
  return { buf, tag, start: at, body, end: body + length };
}

function derChildren(d: Der): Der[] {
  const out: Der[] = [];
  for (let at = d.body; at < d.end;) {
    const c = der(d.buf, at);
    if (c.end > d.end) throw new Error('bad DER nesting');
    out.push(c);
    at = c.end;
  }
  return out;
}

const derContent = (d: Der): Buffer => d.buf.subarray(d.body, d.end);
const derRaw = (d: Der): Buffer => d.buf.subarray(d.start, d.end);

function derOid(d: Der): string {
  const bytes = derContent(d);
  const parts: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b % 128);
    if (b < 0x80) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

function derTime(d: Der): Date {
  const t = derContent(d).toString('latin1');
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(t);
  if (!m) throw new Error(`unsupported time ${t}`);
  const year = m[1].length === 2 ? (Number(m[1]) < 50 ? 2000 : 1900) + Number(m[1]) : Number(m[1]);
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

const isTime = (d: Der | undefined): boolean => d !== undefined && (d.tag === 0x17 || d.tag === 0x18);

/** An INTEGER as lower-case hex, with no leading zero bytes. */
function derSerial(d: Der): string {
  return derContent(d).toString('hex').replace(/^(00)+(?=.)/, '');
}

/** The issuer (DER), serial and CRL distribution point URLs of a certificate (DER). */
function certificateFields(raw: Buffer): { issuer: Buffer; serial: string; crlUrls: string[] } {
  const tbs = derChildren(der(raw, 0))[0];
  const fields = derChildren(tbs);
  const i = fields[0].tag === 0xa0 ? 1 : 0;
  const serial = derSerial(fields[i]);
  const issuer = derRaw(fields[i + 2]);
  const crlUrls: string[] = [];
  const extensions = fields.find((f) => f.tag === 0xa3);
  for (const ext of extensions ? derChildren(derChildren(extensions)[0]) : []) {
    const parts = derChildren(ext);
    if (derOid(parts[0]) !== '2.5.29.31') continue;
    const value = parts[parts.length - 1];
    for (const point of derChildren(der(derContent(value), 0))) {
      const name = derChildren(point).find((c) => c.tag === 0xa0);
      const fullName = name ? derChildren(name).find((c) => c.tag === 0xa0) : undefined;
      for (const general of fullName ? derChildren(fullName) : []) {
        if (general.tag === 0x86) crlUrls.push(derContent(general).toString('latin1'));
      }
    }
  }
  return { issuer, serial, crlUrls };
}

interface ParsedCrl {
  readonly tbs: Buffer;
  readonly issuer: Buffer;
  readonly nextUpdate?: Date;
  readonly signatureAlgorithm: string;
  readonly signature: Buffer;
  readonly revoked: Map<string, { date: Date; reason?: number }>;
}

function parseCrl(bytes: Uint8Array): ParsedCrl {
  let buf = Buffer.from(bytes);
  const text = buf.subarray(0, 64).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const b64 = /-----BEGIN (?:X509 )?CRL-----([\s\S]*?)-----END (?:X509 )?CRL-----/.exec(buf.toString('latin1'));
    if (!b64) throw new Error('not a PEM CRL');
    buf = Buffer.from(b64[1].replace(/\s+/g, ''), 'base64');
  }
  const top = derChildren(der(buf, 0));
  if (top.length !== 3) throw new Error('not a CRL');
  const fields = derChildren(top[0]);
  let i = fields[0].tag === 0x02 ? 1 : 0;
  const issuer = derRaw(fields[i + 1]);
  i += 3; // signature, issuer, thisUpdate
  let nextUpdate: Date | undefined;
  if (isTime(fields[i])) {
    nextUpdate = derTime(fields[i]);
    i++;
  }
  const revoked = new Map<string, { date: Date; reason?: number }>();
  if (fields[i]?.tag === 0x30) {
    for (const entry of derChildren(fields[i])) {
      const parts = derChildren(entry);
      let reason: number | undefined;
      for (const ext of parts[2] ? derChildren(parts[2]) : []) {
        const e = derChildren(ext);
        if (derOid(e[0]) === '2.5.29.21') {
          const enumerated = derContent(der(derContent(e[e.length - 1]), 0));
          reason = enumerated[enumerated.length - 1];
        }
      }
      revoked.set(derSerial(parts[0]), { date: derTime(parts[1]), reason });
    }
  }
  return {
    tbs: derRaw(top[0]),
    issuer,
    nextUpdate,
    signatureAlgorithm: derOid(derChildren(top[1])[0]),
    signature: derContent(top[2]).subarray(1),
    revoked,
  };
}

/**
 * The certificate's revocation from the CRL of its CRL Distribution Points extension (2.5.29.31):
 * a `revoked` problem when the CRL lists its serial, and notes for what could not be established.
 */
async function crlRevocation(certificatePem: string, chainPem: string | undefined, options: LiveCheckOptions, crls: CrlCache):
Promise<{ revoked?: LiveProblem; notes: string[] }> {
  let cert: X509Certificate;
  let fields: ReturnType<typeof certificateFields>;
  let chain: X509Certificate[];
  try {
    cert = parseCertificates(certificatePem, 'certificate')[0];
    fields = certificateFields(cert.raw);
    chain = chainPem && chainPem.trim() !== '' ? parseCertificates(chainPem, 'certificateChain') : [];
  } catch (e) {
    return { notes: [`revocation not checked: the certificate could not be read (${(e as Error).message})`] };
  }
  const urls = fields.crlUrls;
  if (urls.length === 0) {
    return { notes: ['revocation not checked: no CRL distribution point'] };
  }
  const httpUrls = urls.filter((u) => u.toLowerCase().startsWith('http://'));
  if (httpUrls.length === 0) {
    return { notes: [`revocation not checked: no http CRL distribution point (${urls.join(', ')})`] };
  }
  const services = options.services;
  if (!services.fetchCrl) {
    return { notes: [`revocation not checked: CRLs are not fetched here (${httpUrls[0]})`] };
  }

  const failures: string[] = [];
  for (const url of httpUrls) {
    let crl: ParsedCrl;
    let bytes: Uint8Array;
    try {
      let body = crls.get(url);
      if (!body) {
        body = services.fetchCrl(url);
        crls.set(url, body);
      }
      bytes = await body;
    } catch (e) {
      failures.push(`revocation not checked: CRL ${url} unreachable (${(e as Error).message})`);
      continue;
    }
    try {
      crl = parseCrl(bytes);
    } catch (e) {
      failures.push(`revocation not checked: CRL ${url} unreadable (${(e as Error).message})`);
      continue;
    }
    if (!crl.issuer.equals(fields.issuer)) {
      return { notes: [`revocation not checked: CRL ${url} is not issued by the certificate's issuer (${oneLine(cert.issuer)})`] };
    }
    const notes: string[] = [];
    const issuer = chain.find((c) => cert.checkIssued(c)) ?? (cert.checkIssued(cert) ? cert : undefined);
    const hash = CRL_SIGNATURE_HASHES[crl.signatureAlgorithm];
    if (!issuer) {
      notes.push(`CRL signature not verified: the issuer ${oneLine(cert.issuer)} is not in the chain (CRL ${url})`);
    } else if (hash === undefined) {
      notes.push(`CRL signature not verified: signature algorithm ${crl.signatureAlgorithm} is not supported (CRL ${url})`);
    } else {
      let valid: boolean;
      try {
        valid = cryptoVerify(hash, crl.tbs, issuer.publicKey, crl.signature);
      } catch {
        valid = false;
      }
      if (!valid) {
        return { notes: [`revocation not checked: CRL ${url} is invalid: its signature does not verify with the issuer ${oneLine(issuer.subject)}`] };
      }
    }
    if (crl.nextUpdate && crl.nextUpdate.getTime() < options.now.getTime()) {
      notes.push(`warning: CRL ${url} is stale (its nextUpdate was ${crl.nextUpdate.toISOString()})`);
    }
    const entry = crl.revoked.get(fields.serial);
    if (entry && entry.reason !== 8) {
      const reason = entry.reason === undefined ? '' : `, reason ${CRL_REASONS[entry.reason] ?? entry.reason}`;
      return {
        revoked: { code: 'revoked', message: `the CRL ${url} lists it as revoked on ${entry.date.toISOString()}${reason}; replace it` },
        notes,
      };
    }
    return { notes };
  }
  return { notes: failures };
}

function oneLine(name: string): string {
  return name.split('\n').filter((l) => l !== '').join(', ');
}

function checkProblem(e: unknown, what: string): LiveProblem {
  if (e instanceof CertificateCheckError) {
    return { code: 'invalid', message: `${what}: ${e.message}` };
  }
  throw e;
}

function validityProblems(what: string, notBefore: Date, notAfter: Date, options: LiveCheckOptions): LiveProblem[] {
  const now = options.now;
  if (now.getTime() > notAfter.getTime()) {
    return [{ code: 'expired', message: `${what} expired on ${notAfter.toISOString()}; renew it` }];
  }
  if (now.getTime() < notBefore.getTime()) {
    return [{ code: 'not-yet-valid', message: `${what} is not valid until ${notBefore.toISOString()}` }];
  }
  const days = daysUntil(notAfter, now);
  if (days < options.minDays) {
    return [{ code: 'expiring', message: `${what} expires in ${Math.floor(days)} day(s), on ${notAfter.toISOString()}, within the ${options.minDays}-day minimum; renew it` }];
  }
  return [];
}

/** Renders the live report as text: a summary line, the offenders, then every certificate and its users. */
export function renderLiveTable(report: LiveCheckReport): string {
  const lines: string[] = [];
  const where = `stack ${report.stack}${report.region ? ` (${report.region})` : ''}`;
  const total = report.certificates.length;
  if (report.offenders.length > 0) {
    lines.push(`FAILED: ${report.offenders.length} of ${total} deployed certificate(s) in ${where} are missing, revoked, unhealthy, `
      + `expired, expire within ${report.minDays} day(s), or fail the X.509 checks:`);
    lines.push('');
    lines.push(...table(['STATUS', 'DAYS LEFT', 'NOT AFTER', 'LOGICAL ID', 'SERVICE', 'SUBJECT', 'PROBLEM'],
      report.offenders.flatMap((c) => c.problems.map((p) => [
        p.code, c.daysLeft === undefined ? '-' : String(c.daysLeft), c.notAfter ?? '-', c.logicalId, c.service, c.subject ?? '-', p.message,
      ]))));
  } else if (total === 0) {
    lines.push(`No deployed certificate in ${where}: nothing to check.`);
  } else {
    const known = report.certificates.filter((c) => c.daysLeft !== undefined).sort((a, b) => a.daysLeft! - b.daysLeft!);
    lines.push(`OK: ${total} deployed certificate(s) in ${where} are valid for at least ${report.minDays} more day(s)`
      + (known.length > 0 ? `; the first to expire is ${known[0].subject ?? known[0].physicalId} (${known[0].logicalId}) on ${known[0].notAfter}.` : '.'));
  }
  if (total > 0) {
    lines.push('');
    lines.push(...table(['LOGICAL ID', 'SERVICE', 'DAYS LEFT', 'CHAIN', 'USED BY', 'PHYSICAL ID'],
      report.certificates.map((c) => [
        c.logicalId,
        c.service,
        c.daysLeft === undefined ? '-' : String(c.daysLeft),
        String(c.chainLength),
        c.usedBy === undefined ? '(not said)' : c.usedBy.length === 0 ? '(nothing)' : c.usedBy.join(', '),
        c.physicalId,
      ])));
    const notes = report.certificates.flatMap((c) => (c.notes ?? []).map((n) => `  ${c.logicalId}: ${n}`));
    if (notes.length > 0) {
      lines.push('');
      lines.push('Notes:');
      lines.push(...notes);
    }
  }
  if (report.notDeployed.length > 0) {
    lines.push('');
    lines.push(`Not deployed (no physical ID): ${report.notDeployed.map((r) => `${r.logicalId} (${r.resourceType}${r.status ? `, ${r.status}` : ''})`).join(', ')}`);
  }
  lines.push('');
  lines.push(`Not checked: ${report.notChecked.join('; ')}.`);
  return lines.join('\n') + '\n';
}

export const LIVE_USAGE = `Usage: cdk-certificates check --live --stack NAME [--region REGION] [--min-days N] [--format table|json]

Checks the certificates of a deployed stack: lists its resources through CloudFormation and reads
each certificate from its service (IAM, DMS, Lightsail, ACM, ACM Private CA). Fails when a
certificate is gone, revoked or unhealthy at its service, expired, not yet valid, expires within N
days, or fails the cdk-certificates X.509 checks (certificate and chain). Lists what uses each
certificate where the service says. Read-only; uses the AWS SDK's usual credentials and region.

Options:
  --stack NAME         the deployed stack (name or ID)
  --region REGION      its region (default: the SDK's, e.g. AWS_REGION)
  --min-days N         minimum days of validity left (default ${DEFAULT_MIN_DAYS})
  --format FORMAT      table (default) or json
  --endpoint-url URL   send every call to this endpoint (a local emulator)
  -h, --help           show this help

Exit codes: 0 all healthy, 1 offenders found, 2 usage, input or AWS error.
`;

export interface LiveArgs {
  readonly stackName: string;
  readonly region?: string;
  readonly endpointUrl?: string;
  readonly minDays: number;
  readonly format: 'table' | 'json';
}

/** Parses `check --live ...` arguments (`check` already removed). */
export function parseLiveArgs(args: string[]): LiveArgs {
  let stackName: string | undefined;
  let region: string | undefined;
  let endpointUrl: string | undefined;
  let minDays = DEFAULT_MIN_DAYS;
  let format: 'table' | 'json' = 'table';
  forEachArg(args, (arg, name, value) => {
    if (arg === '--live') {
      return;
    } else if (name === '--stack') {
      stackName = value();
    } else if (name === '--region') {
      region = value();
    } else if (name === '--endpoint-url') {
      endpointUrl = value();
    } else if (name === '--min-days') {
      minDays = parseMinDays(value());
    } else if (name === '--format') {
      format = parseFormat(value());
    } else if (name === '--require-all') {
      throw new UsageError('--require-all applies to a cloud assembly; --live reads every certificate it finds');
    } else {
      throw new UsageError(arg.startsWith('-') ? `unknown option ${name}` : `--live reads a deployed stack, not a directory ('${arg}'); give --stack NAME`);
    }
  });
  if (!stackName) {
    throw new UsageError('give the deployed stack to check: --stack NAME');
  }
  return { stackName, region, endpointUrl, minDays, format };
}

/** Where the live CLI gets its services (the SDK binding, or a test's). */
export type LiveServicesFactory = (args: LiveArgs) => LiveServices;

/** Runs `check --live ...` (argv without `check`) and resolves with the exit code. */
export async function runLiveCli(argv: string[], io: CliIo, services: LiveServicesFactory): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout(LIVE_USAGE);
    return EXIT_HEALTHY;
  }
  let args: LiveArgs;
  try {
    args = parseLiveArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`cdk-certificates check --live: ${e.message}\n\n${LIVE_USAGE}`);
      return EXIT_USAGE;
    }
    throw e;
  }
  let report: LiveCheckReport;
  try {
    const now = io.now?.() ?? new Date();
    report = await checkLiveStack({ stackName: args.stackName, region: args.region, minDays: args.minDays, now, services: services(args) });
  } catch (e) {
    const name = e instanceof Error ? e.name : 'Error';
    io.stderr(`cdk-certificates check --live: ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_USAGE;
  }
  io.stdout(args.format === 'json' ? `${JSON.stringify(report, undefined, 2)}\n` : renderLiveTable(report));
  return report.offenders.length > 0 ? EXIT_OFFENDERS : EXIT_HEALTHY;
}
