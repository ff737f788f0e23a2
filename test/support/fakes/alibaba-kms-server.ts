/**
 * A local stand-in for Alibaba Cloud KMS Certificates Manager (API version 2016-01-20) that speaks
 * the RPC protocol the way `@alicloud/openapi-client` sends it, for tests only.
 *
 * - Listens on 127.0.0.1 only, on an ephemeral port; `start()` / `stop()`.
 * - Reads the action from `x-acs-action`, the version from `x-acs-version`, parameters from the
 *   query string and from an `application/x-www-form-urlencoded` body.
 * - Verifies the ACS3-HMAC-SHA256 `Authorization` header from scratch, as Alibaba documents it
 *   (canonical request = method, canonical URI, canonical query, canonical headers of host,
 *   content-type and every x-acs-* header, signed header list, hex SHA-256 of the body; string to
 *   sign = `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request), plus the body hash in
 *   `x-acs-content-sha256`, the 15-minute `x-acs-date` window and nonce reuse.
 * - Keeps state: certificates by ID with a real key pair generated per certificate (RSA_2048 and
 *   EC_P256 through WebCrypto + @peculiar/x509's CSR generator; EC_SM2 through node's SM2/SM3), a
 *   real CSR for the subject and SANs, status PENDING -> ACTIVE on upload, INACTIVE/REVOKED by
 *   UpdateCertificateStatus, gone after DeleteCertificate, and tags.
 * - Replies like Alibaba: JSON with `RequestId`; errors as `{ RequestId, HostId, Code, Message,
 *   Recommend }` with the HTTP status.
 *
 * Where the documentation is silent the fake picks the conservative reading and says so in a
 * comment (marked "assumption").
 *
 * Test hooks: `failNext` (inject an error reply, before or after the action takes effect),
 * `dropNext` (close the connection without a reply), `certificates()`, `certificate(id)`,
 * `callCount(action?)`, `requests` (every request: action, parameters, raw query and body).
 */
import 'reflect-metadata';
import {
  KeyObject,
  createHash,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign as nodeSign,
  timingSafeEqual,
  webcrypto,
} from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import * as x509 from '@peculiar/x509';
import type { KmsClientOptions, KmsCredentials } from '../../../lambda/alibaba-kms-certificate/kms-api';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const API_VERSION = '2016-01-20';
const SIGNATURE_ALGORITHM = 'ACS3-HMAC-SHA256';
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const MAX_SANS = 10;
const MAX_TAGS = 10;
const KEY_SPECS = ['RSA_2048', 'EC_P256', 'EC_SM2'] as const;
type KeySpec = typeof KEY_SPECS[number];
type Status = 'PENDING' | 'ACTIVE' | 'INACTIVE' | 'REVOKED';

/** Documented subject attributes and their upper length bounds (X.520). */
const SUBJECT_ATTRIBUTES: Record<string, number> = { CN: 64, C: 2, O: 64, OU: 64, ST: 128, L: 128 };
const REQUIRED_SUBJECT_ATTRIBUTES = ['CN', 'C', 'O', 'OU'];

const SIGNATURE_ALGORITHM_BY_SPEC: Record<KeySpec, string> = {
  RSA_2048: 'RSA2048-SHA256',
  EC_P256: 'ECDSA-SHA256',
  EC_SM2: 'SM2-SM3',
};

/** Credentials the fake accepts. */
export interface FakeKmsCredential extends KmsCredentials {}

/** Options of the fake server. */
export interface FakeKmsServerOptions {
  /** @default 'cn-hangzhou' */
  readonly regionId?: string;
  /** Account ID in ARNs. @default '1234567890123456' */
  readonly accountId?: string;
  /** Accepted credentials. @default one generated AccessKey pair (see `credentials`) */
  readonly credentials?: FakeKmsCredential[];
  /** Safety bound on stored certificates. @default 200 */
  readonly maxCertificates?: number;
  /** Safety bound on a request body. @default 256 KiB */
  readonly maxBodyBytes?: number;
  /** Safety bound on the request log. @default 2000 */
  readonly maxLoggedRequests?: number;
}

/** What the fake logs about each request. */
export interface FakeKmsRequest {
  readonly action: string;
  /** Query and form parameters merged (form wins). */
  readonly params: Record<string, string>;
  readonly queryParams: Record<string, string>;
  readonly bodyParams: Record<string, string>;
  readonly method: string;
  /** The raw request target (path and query string) as received. */
  readonly rawUrl: string;
  readonly rawBody: string;
  /** Request headers as received (lower-case names). */
  readonly headers: Record<string, string>;
  /** HTTP status sent, or 0 when the connection was dropped. */
  status: number;
  /** Error code sent, if any. */
  code?: string;
}

/** A snapshot of a stored certificate. The private key never leaves the fake. */
export interface FakeKmsCertificate {
  readonly certificateId: string;
  readonly arn: string;
  readonly status: Status;
  readonly keySpec: KeySpec;
  readonly subject: string;
  readonly subjectAlternativeNames: string[];
  readonly exportablePrivateKey: boolean;
  readonly csrPem: string;
  readonly publicKeyPem: string;
  readonly certificatePem?: string;
  readonly certificateChainPem?: string;
  readonly serial?: string;
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly tags: Record<string, string>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface StoredCertificate {
  certificateId: string;
  arn: string;
  status: Status;
  keySpec: KeySpec;
  subject: string;
  subjectAlternativeNames: string[];
  exportablePrivateKey: boolean;
  csrPem: string;
  publicKey: KeyObject;
  // Kept as the service keeps it; nothing reads it back out.
  privateKey: KeyObject;
  certificatePem?: string;
  certificateChainPem?: string;
  certificate?: x509.X509Certificate;
  tags: Map<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

interface GeneratedCsr {
  readonly csrPem: string;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

interface Fault {
  readonly action: string;
  readonly kind: 'error' | 'drop';
  readonly code?: string;
  readonly status?: number;
  readonly message?: string;
  readonly afterProcessing: boolean;
  remaining: number;
}

/** An Alibaba-style error reply. */
class KmsFault extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

function invalidParameter(message: string): KmsFault {
  return new KmsFault(400, 'InvalidParameter', message);
}

function notFound(): KmsFault {
  return new KmsFault(404, 'Forbidden.ResourceNotFound', 'Resource not found');
}

/** RFC 3986 percent-encoding as Alibaba's canonical request requires (`~` kept, `*` encoded). */
export function acsPercentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function pem(label: string, der: Buffer | ArrayBuffer): string {
  const b64 = Buffer.from(der as ArrayBuffer).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** PEM blocks of a text; a malformed or empty text gives an error. */
function pemBlocks(text: string, label: string, parameter: string): Buffer[] {
  const blocks: Buffer[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/g;
  const normalized = text.replace(/\r\n/g, '\n').trim();
  let match: RegExpExecArray | null;
  while ((match = re.exec(normalized)) !== null) {
    if (match[1] !== label) {
      throw invalidParameter(`The specified parameter ${parameter} is not valid: expected ${label} PEM blocks, found ${match[1]}.`);
    }
    blocks.push(Buffer.from(match[2].replace(/\s+/g, ''), 'base64'));
  }
  // Anything but whitespace between or around the blocks is malformed.
  const leftover = normalized.replace(re, '').trim();
  if (blocks.length === 0 || leftover.length > 0) {
    throw invalidParameter(`The specified parameter ${parameter} is not valid: not a PEM encoded ${label}.`);
  }
  return blocks;
}

function parseCertificates(text: string, parameter: string): x509.X509Certificate[] {
  return pemBlocks(text, 'CERTIFICATE', parameter).map((der) => {
    try {
      return new x509.X509Certificate(toArrayBuffer(der));
    } catch {
      throw invalidParameter(`The specified parameter ${parameter} is not valid: the certificate cannot be parsed.`);
    }
  });
}

/** Splits an RFC 2253 DN into (type, value) pairs in string order, honouring escapes. */
function parseDn(dn: string): Array<[string, string]> {
  const rdns: Array<[string, string]> = [];
  let current = '';
  const parts: string[] = [];
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i];
    if (c === '\\' && i + 1 < dn.length) {
      current += c + dn[i + 1];
      i++;
    } else if (c === ',') {
      parts.push(current);
      current = '';
    } else if (c === '+') {
      throw invalidParameter('The specified parameter Subject is not valid: multi-valued RDNs are not supported.');
    } else {
      current += c;
    }
  }
  parts.push(current);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw invalidParameter(`The specified parameter Subject is not valid: "${part.trim()}" is not attribute=value.`);
    }
    const type = part.slice(0, eq).trim().toUpperCase();
    const value = unescapeDnValue(part.slice(eq + 1).trim());
    rdns.push([type, value]);
  }
  return rdns;
}

function unescapeDnValue(value: string): string {
  return value.replace(/\\([0-9a-fA-F]{2}|.)/g, (_m, esc: string) => (esc.length === 2 ? String.fromCharCode(parseInt(esc, 16)) : esc));
}

function validateSubject(subject: string): Array<[string, string]> {
  const rdns = parseDn(subject);
  for (const [type, value] of rdns) {
    const max = SUBJECT_ATTRIBUTES[type];
    if (max === undefined) {
      throw invalidParameter(`The specified parameter Subject is not valid: unsupported attribute ${type} (allowed: CN, C, O, OU, ST, L).`);
    }
    if (value.length === 0 || value.length > max) {
      throw invalidParameter(`The specified parameter Subject is not valid: ${type} must be 1 to ${max} characters.`);
    }
    if (type === 'C' && !/^[A-Z]{2}$/.test(value)) {
      throw invalidParameter('The specified parameter Subject is not valid: C must be a two-letter ISO 3166-1 country code.');
    }
  }
  for (const attribute of REQUIRED_SUBJECT_ATTRIBUTES) {
    if (!rdns.some(([type]) => type === attribute)) {
      throw invalidParameter(`The specified parameter Subject is not valid: ${attribute} is required.`);
    }
  }
  return rdns;
}

const DNS_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?(?:${DNS_LABEL}\\.)*${DNS_LABEL}$`);

function validateSans(raw: string | undefined): string[] {
  if (raw === undefined || raw === '') {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidParameter('The specified parameter SubjectAlternativeNames is not valid: expected a JSON array of domain names.');
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) {
    throw invalidParameter('The specified parameter SubjectAlternativeNames is not valid: expected a JSON array of domain names.');
  }
  if (parsed.length > MAX_SANS) {
    throw invalidParameter(`The specified parameter SubjectAlternativeNames is not valid: at most ${MAX_SANS} domain names are supported.`);
  }
  for (const name of parsed as string[]) {
    if (name.length > 253 || !DNS_NAME.test(name)) {
      throw invalidParameter(`The specified parameter SubjectAlternativeNames is not valid: "${name}" is not a domain name.`);
    }
  }
  return parsed as string[];
}

// ---- minimal DER writer, for the SM2 CSR WebCrypto cannot make ----

function derLength(length: number): Buffer {
  if (length < 0x80) {
    return Buffer.from([length]);
  }
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) {
    bytes.unshift(n % 256);
  }
  return Buffer.from([0x80 + bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

function derOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  const bytes: number[] = [arcs[0] * 40 + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc % 128];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) {
      chunk.unshift((n % 128) + 128);
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SM2_WITH_SM3 = '1.2.156.10197.1.501';

/** A PKCS#10 CSR signed SM2-with-SM3 by node's crypto (WebCrypto has no SM2). */
function sm2Csr(name: x509.Name, sans: string[], publicKey: KeyObject, privateKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const attributes = sans.length > 0
    ? tlv(0x30, derOid(OID_EXTENSION_REQUEST), tlv(0x31, tlv(0x30,
      Buffer.from(new x509.SubjectAlternativeNameExtension(sans.map((value) => ({ type: 'dns' as const, value }))).rawData))))
    : Buffer.alloc(0);
  const info = tlv(0x30, tlv(0x02, Buffer.from([0])), Buffer.from(name.toArrayBuffer()), spki, tlv(0xa0, attributes));
  const signature = nodeSign('SM3', info, privateKey);
  const csr = tlv(0x30, info, tlv(0x30, derOid(OID_SM2_WITH_SM3)), tlv(0x03, Buffer.from([0]), signature));
  return pem('CERTIFICATE REQUEST', csr);
}

/** Whether two public keys are the same key (JWK comparison; DER for curves JWK cannot express). */
function sameKey(a: KeyObject, b: KeyObject): boolean {
  try {
    const ja = a.export({ format: 'jwk' });
    const jb = b.export({ format: 'jwk' });
    return JSON.stringify(ja, Object.keys(ja).sort()) === JSON.stringify(jb, Object.keys(jb).sort());
  } catch {
    return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
  }
}

function formatKeyIdentifier(hex: string): string {
  return (hex.toUpperCase().match(/.{2}/g) ?? []).join(' ');
}

/** The fake KMS server. */
export class FakeAlibabaKmsServer {
  /** The region the fake pretends to be. */
  readonly regionId: string;
  readonly accountId: string;
  /** The first accepted credential (generated unless given). */
  readonly credentials: FakeKmsCredential;
  /** Every request received, oldest first (bounded). */
  readonly requests: FakeKmsRequest[] = [];

  private readonly accepted = new Map<string, FakeKmsCredential>();
  private readonly store = new Map<string, StoredCertificate>();
  private readonly faults: Fault[] = [];
  private readonly counts = new Map<string, number>();
  private readonly nonces = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly maxCertificates: number;
  private readonly maxBodyBytes: number;
  private readonly maxLoggedRequests: number;
  private server?: http.Server;
  private listeningPort?: number;

  private readonly operations: Record<string, (p: Record<string, string>) => Promise<Record<string, unknown>>> = {
    CreateCertificate: (p) => this.createCertificate(p),
    UploadCertificate: async (p) => this.uploadCertificate(p),
    DescribeCertificate: async (p) => this.describeCertificate(p),
    GetCertificate: async (p) => this.getCertificate(p),
    UpdateCertificateStatus: async (p) => this.updateCertificateStatus(p),
    DeleteCertificate: async (p) => this.deleteCertificate(p),
    TagResource: async (p) => this.tagResource(p),
    UntagResource: async (p) => this.untagResource(p),
  };

  constructor(options: FakeKmsServerOptions = {}) {
    this.regionId = options.regionId ?? 'cn-hangzhou';
    this.accountId = options.accountId ?? '1234567890123456';
    const creds = options.credentials && options.credentials.length > 0
      ? options.credentials
      : [{ accessKeyId: `LTAI${randomBytes(10).toString('hex')}`, accessKeySecret: randomBytes(15).toString('base64url') }];
    for (const c of creds) {
      this.accepted.set(c.accessKeyId, c);
    }
    this.credentials = creds[0];
    this.maxCertificates = options.maxCertificates ?? 200;
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
    this.maxLoggedRequests = options.maxLoggedRequests ?? 2000;
  }

  /** Starts listening on 127.0.0.1 (ephemeral port). */
  async start(): Promise<void> {
    if (this.server) {
      return;
    }
    const server = http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        // A bug in the fake itself: answer like a service fault rather than hang.
        if (!res.headersSent) {
          this.sendError(res, undefined, new KmsFault(500, 'InternalError', `fake KMS failure: ${String(e)}`));
        }
      });
    });
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 1_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.listeningPort = (server.address() as AddressInfo).port;
  }

  /** Stops listening and closes every connection. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) {
      return;
    }
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) {
      socket.destroy();
    }
    this.sockets.clear();
    await closed;
  }

  /** The listening port. */
  get port(): number {
    if (this.listeningPort === undefined) {
      throw new Error('FakeAlibabaKmsServer is not started');
    }
    return this.listeningPort;
  }

  /** `127.0.0.1:<port>`, the endpoint to give the client (with protocol http). */
  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Client options for this server; `overrides` replace fields (e.g. wrong credentials). */
  clientOptions(overrides: Partial<KmsClientOptions> = {}): KmsClientOptions {
    return {
      regionId: this.regionId,
      endpoint: this.endpoint,
      protocol: 'http',
      credentials: this.credentials,
      ...overrides,
    };
  }

  /** Accepts another credential (e.g. an STS triple). */
  addCredential(credential: FakeKmsCredential): void {
    this.accepted.set(credential.accessKeyId, credential);
  }

  /**
   * Makes the next `times` requests for `action` fail with `code` / `status`. With
   * `afterProcessing`, the action takes effect first and only the reply is the error (a lost
   * success).
   */
  failNext(action: string, code: string, status = 400, options: { message?: string; times?: number; afterProcessing?: boolean } = {}): void {
    this.faults.push({
      action,
      kind: 'error',
      code,
      status,
      message: options.message ?? defaultFaultMessage(code),
      afterProcessing: options.afterProcessing ?? false,
      remaining: options.times ?? 1,
    });
  }

  /**
   * Closes the connection of the next request for `action` without replying. With
   * `afterProcessing` (the default) the action takes effect first, like a reply lost on the way.
   */
  dropNext(action: string, options: { afterProcessing?: boolean; times?: number } = {}): void {
    this.faults.push({ action, kind: 'drop', afterProcessing: options.afterProcessing ?? true, remaining: options.times ?? 1 });
  }

  /** Snapshots of every stored certificate, in creation order. */
  certificates(): FakeKmsCertificate[] {
    return [...this.store.values()].map((c) => this.snapshot(c));
  }

  /** Snapshot of one certificate, or `undefined`. */
  certificate(certificateId: string): FakeKmsCertificate | undefined {
    const c = this.store.get(certificateId);
    return c ? this.snapshot(c) : undefined;
  }

  /** Requests received for `action` (all actions when omitted), whatever their outcome. */
  callCount(action?: string): number {
    if (action === undefined) {
      let total = 0;
      this.counts.forEach((n) => { total += n; });
      return total;
    }
    return this.counts.get(action) ?? 0;
  }

  // ---- protocol ----

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawBody = await this.readBody(req);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) {
        headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
    }
    const rawUrl = req.url ?? '/';
    const queryIndex = rawUrl.indexOf('?');
    const rawQuery = queryIndex >= 0 ? rawUrl.slice(queryIndex + 1) : '';
    const pathname = queryIndex >= 0 ? rawUrl.slice(0, queryIndex) : rawUrl;
    const queryPairs = parseForm(rawQuery);
    const queryParams = Object.fromEntries(queryPairs);
    const isForm = (headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
    const bodyParams = rawBody !== undefined && isForm ? Object.fromEntries(parseForm(rawBody.toString('utf8'))) : {};
    const action = headers['x-acs-action'] ?? '';
    const entry: FakeKmsRequest = {
      action,
      params: { ...queryParams, ...bodyParams },
      queryParams,
      bodyParams,
      method: req.method ?? 'GET',
      rawUrl,
      rawBody: rawBody?.toString('utf8') ?? '',
      headers,
      status: 0,
    };
    this.log(entry);
    if (action) {
      this.counts.set(action, (this.counts.get(action) ?? 0) + 1);
    }
    if (rawBody === undefined) {
      this.sendError(res, entry, invalidParameter(`The request body exceeds ${this.maxBodyBytes} bytes.`));
      return;
    }
    try {
      this.authenticate(req.method ?? 'GET', pathname, queryPairs, headers, rawBody);
      if (!action) {
        throw new KmsFault(400, 'MissingAction', 'Action is mandatory for this request.');
      }
      const version = headers['x-acs-version'];
      if (!version) {
        throw new KmsFault(400, 'MissingVersion', 'Version is mandatory for this request.');
      }
      if (version !== API_VERSION) {
        throw new KmsFault(400, 'InvalidVersion', `Specified parameter Version is not valid. Version: ${version}`);
      }
      const operation = this.operations[action];
      if (!operation) {
        throw new KmsFault(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method. Action: ${action}`);
      }
      const fault = this.takeFault(action);
      if (fault && !fault.afterProcessing) {
        this.applyFault(res, entry, fault);
        return;
      }
      const result = await operation(entry.params);
      if (fault) {
        this.applyFault(res, entry, fault);
        return;
      }
      this.sendJson(res, entry, 200, { RequestId: randomUUID(), ...result });
    } catch (e) {
      if (e instanceof KmsFault) {
        this.sendError(res, entry, e);
      } else {
        throw e;
      }
    }
  }

  private readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          tooLarge = true;
        } else {
          chunks.push(chunk);
        }
      });
      req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  /** Checks the ACS3-HMAC-SHA256 signature; throws the error the gateway would send. */
  private authenticate(method: string, pathname: string, query: Array<[string, string]>, headers: Record<string, string>, body: Buffer): void {
    const authorization = headers.authorization;
    if (!authorization) {
      throw new KmsFault(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards. Authorization header is missing.');
    }
    const match = /^(\S+) Credential=([^,]*),SignedHeaders=([^,]*),Signature=([0-9a-fA-F]*)$/.exec(authorization.trim());
    if (!match) {
      throw new KmsFault(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards. Malformed Authorization header.');
    }
    const [, algorithm, accessKeyId, signedHeaderList, signature] = match;
    if (algorithm !== SIGNATURE_ALGORITHM) {
      throw new KmsFault(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards. Unsupported signature algorithm ${algorithm}.`);
    }
    const credential = this.accepted.get(accessKeyId);
    if (!credential) {
      throw new KmsFault(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    }
    if (credential.securityToken !== undefined || headers['x-acs-security-token'] !== undefined) {
      if (headers['x-acs-security-token'] !== credential.securityToken) {
        throw new KmsFault(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'Specified SecurityToken mismatch with the AccessKey.');
      }
    }
    for (const [name, code] of [['x-acs-date', 'MissingTimestamp'], ['x-acs-signature-nonce', 'MissingSignatureNonce']] as const) {
      if (!headers[name]) {
        throw new KmsFault(400, code, `${name} is mandatory for this request.`);
      }
    }
    const signedHeaders = signedHeaderList.split(';').map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0);
    const mustSign = Object.keys(headers).filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-'));
    const unsigned = mustSign.filter((h) => !signedHeaders.includes(h));
    if (unsigned.length > 0) {
      throw new KmsFault(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards. Unsigned headers: ${unsigned.join(', ')}.`);
    }
    const payloadHash = sha256Hex(body);
    if ((headers['x-acs-content-sha256'] ?? '').toLowerCase() !== payloadHash) {
      throw new KmsFault(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards. x-acs-content-sha256 does not match the request body.');
    }
    const canonicalUri = pathname.split('/').map((segment) => acsPercentEncode(decodeURIComponent(segment))).join('/') || '/';
    const canonicalQuery = query
      .map(([k, v]) => [acsPercentEncode(k), acsPercentEncode(v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const sortedSigned = [...signedHeaders].sort();
    const canonicalHeaders = sortedSigned.map((h) => `${h}:${(headers[h] ?? '').trim()}\n`).join('');
    const canonicalRequest = [method, canonicalUri, canonicalQuery, canonicalHeaders, sortedSigned.join(';'), payloadHash].join('\n');
    const stringToSign = `${SIGNATURE_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
    const expected = createHmac('sha256', credential.accessKeySecret).update(stringToSign).digest('hex');
    const given = Buffer.from(signature.toLowerCase());
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
      throw new KmsFault(400, 'SignatureDoesNotMatch', `Specified signature does not match our calculation. server string to sign is:${stringToSign}`);
    }
    const date = headers['x-acs-date'];
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(date)) {
      throw new KmsFault(400, 'InvalidTimeStamp.Format', `Specified time stamp or date value is not well formatted. x-acs-date: ${date}`);
    }
    const now = Date.now();
    if (Math.abs(now - Date.parse(date)) > MAX_CLOCK_SKEW_MS) {
      throw new KmsFault(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    }
    const nonce = headers['x-acs-signature-nonce'];
    this.pruneNonces(now);
    if (this.nonces.has(nonce)) {
      throw new KmsFault(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    }
    this.nonces.set(nonce, now);
  }

  private pruneNonces(now: number): void {
    for (const [nonce, at] of this.nonces) {
      if (now - at > MAX_CLOCK_SKEW_MS || this.nonces.size > 10_000) {
        this.nonces.delete(nonce);
      } else {
        break;
      }
    }
  }

  private takeFault(action: string): Fault | undefined {
    const index = this.faults.findIndex((f) => f.action === action);
    if (index < 0) {
      return undefined;
    }
    const fault = this.faults[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) {
      this.faults.splice(index, 1);
    }
    return fault;
  }

  private applyFault(res: http.ServerResponse, entry: FakeKmsRequest, fault: Fault): void {
    if (fault.kind === 'drop') {
      entry.status = 0;
      res.socket?.destroy();
      return;
    }
    this.sendError(res, entry, new KmsFault(fault.status ?? 400, fault.code ?? 'InternalError', fault.message ?? ''));
  }

  private sendJson(res: http.ServerResponse, entry: FakeKmsRequest | undefined, status: number, body: Record<string, unknown>): void {
    const text = JSON.stringify(body);
    if (entry) {
      entry.status = status;
    }
    res.writeHead(status, {
      'content-type': 'application/json;charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-acs-request-id': String(body.RequestId ?? ''),
    });
    res.end(text);
  }

  private sendError(res: http.ServerResponse, entry: FakeKmsRequest | undefined, fault: KmsFault): void {
    const requestId = randomUUID();
    if (entry) {
      entry.code = fault.code;
    }
    this.sendJson(res, entry, fault.status, {
      RequestId: requestId,
      HostId: `kms.${this.regionId}.aliyuncs.com`,
      Code: fault.code,
      Message: fault.message,
      Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(fault.code)}&product=Kms&requestId=${requestId}`,
    });
  }

  private log(entry: FakeKmsRequest): void {
    this.requests.push(entry);
    if (this.requests.length > this.maxLoggedRequests) {
      this.requests.shift();
    }
  }

  // ---- operations ----


  private async createCertificate(p: Record<string, string>): Promise<Record<string, unknown>> {
    const subject = required(p, 'Subject');
    const keySpecParam = required(p, 'KeySpec');
    if (!(KEY_SPECS as readonly string[]).includes(keySpecParam)) {
      throw invalidParameter(`The specified parameter KeySpec is not valid: ${keySpecParam} (allowed: ${KEY_SPECS.join(', ')}).`);
    }
    const keySpec = keySpecParam as KeySpec;
    const rdns = validateSubject(subject);
    const sans = validateSans(p.SubjectAlternativeNames);
    const exportable = p.ExportablePrivateKey;
    if (exportable !== undefined && exportable !== 'true' && exportable !== 'false') {
      throw invalidParameter('The specified parameter ExportablePrivateKey is not valid: expected true or false.');
    }
    if (this.store.size >= this.maxCertificates) {
      // Assumption: a safety bound of the fake, not a documented quota.
      throw new KmsFault(400, 'LimitExceeded.Certificate', `The fake holds at most ${this.maxCertificates} certificates.`);
    }
    // RFC 2253 lists the most specific RDN first; the ASN.1 sequence starts with the least specific.
    const name = new x509.Name(rdns.slice().reverse().map(([type, value]) => ({ [type]: [value] })));
    const { csrPem, publicKey, privateKey } = await this.generateCsr(keySpec, name, sans);
    const certificateId = randomUUID();
    const now = new Date();
    const stored: StoredCertificate = {
      certificateId,
      arn: `acs:kms:${this.regionId}:${this.accountId}:certificate/${certificateId}`,
      status: 'PENDING',
      keySpec,
      subject,
      subjectAlternativeNames: sans,
      // The service default is true.
      exportablePrivateKey: exportable !== 'false',
      csrPem,
      publicKey,
      privateKey,
      tags: new Map(),
      createdAt: now,
      updatedAt: now,
    };
    this.store.set(certificateId, stored);
    return { CertificateId: certificateId, Arn: stored.arn, Csr: csrPem };
  }

  private async generateCsr(keySpec: KeySpec, name: x509.Name, sans: string[]): Promise<GeneratedCsr> {
    if (keySpec === 'EC_SM2') {
      const pair = generateKeyPairSync('ec', { namedCurve: 'SM2' });
      return { csrPem: sm2Csr(name, sans, pair.publicKey, pair.privateKey), publicKey: pair.publicKey, privateKey: pair.privateKey };
    }
    const algorithm: RsaHashedKeyGenParams | EcKeyGenParams = keySpec === 'RSA_2048'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }
      : { name: 'ECDSA', namedCurve: 'P-256' };
    const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as unknown as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name,
      keys,
      signingAlgorithm: keySpec === 'RSA_2048'
        ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm
        : { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      extensions: sans.length > 0
        ? [new x509.SubjectAlternativeNameExtension(sans.map((value) => ({ type: 'dns' as const, value })))]
        : [],
    });
    return {
      csrPem: csr.toString('pem') + '\n',
      publicKey: KeyObject.from(keys.publicKey as unknown as webcrypto.CryptoKey),
      privateKey: KeyObject.from(keys.privateKey as unknown as webcrypto.CryptoKey),
    };
  }

  private uploadCertificate(p: Record<string, string>): Record<string, unknown> {
    const stored = this.find(required(p, 'CertificateId'));
    const certificatePem = required(p, 'Certificate');
    const certs = parseCertificates(certificatePem, 'Certificate');
    if (certs.length !== 1) {
      throw invalidParameter('The specified parameter Certificate is not valid: expected exactly one certificate.');
    }
    const chainPem = p.CertificateChain;
    if (chainPem !== undefined && chainPem !== '') {
      parseCertificates(chainPem, 'CertificateChain');
    }
    const cert = certs[0];
    let certKey: KeyObject;
    try {
      certKey = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
    } catch {
      throw invalidParameter('The specified parameter Certificate is not valid: its public key cannot be read.');
    }
    if (!sameKey(certKey, stored.publicKey)) {
      throw invalidParameter('The specified parameter Certificate is not valid: the public key of the certificate does not match the key of the certificate signing request.');
    }
    if (stored.status === 'REVOKED') {
      // Assumption: a revoked certificate takes no new upload.
      throw invalidParameter('The certificate is revoked and cannot be updated.');
    }
    stored.certificatePem = certificatePem;
    stored.certificateChainPem = chainPem || undefined;
    stored.certificate = cert;
    if (stored.status === 'PENDING') {
      stored.status = 'ACTIVE';
    }
    stored.updatedAt = new Date();
    return {};
  }

  private describeCertificate(p: Record<string, string>): Record<string, unknown> {
    const c = this.find(required(p, 'CertificateId'));
    const body: Record<string, unknown> = {
      CertificateId: c.certificateId,
      Arn: c.arn,
      Status: c.status,
      KeySpec: c.keySpec,
      Subject: c.subject,
      SubjectAlternativeNames: c.subjectAlternativeNames,
      ExportablePrivateKey: c.exportablePrivateKey,
      SignatureAlgorithm: SIGNATURE_ALGORITHM_BY_SPEC[c.keySpec],
      SubjectPublicKey: c.publicKey.export({ type: 'spki', format: 'pem' }),
      CreatedAt: isoSeconds(c.createdAt),
      UpdatedAt: isoSeconds(c.updatedAt),
      // Assumption: the KMS `{ Tag: [{ TagKey, TagValue }] }` shape DescribeSecret uses.
      Tags: { Tag: [...c.tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
    };
    if (c.certificate) {
      body.Serial = c.certificate.serialNumber.toLowerCase();
      body.Issuer = c.certificate.issuer;
      body.NotBefore = isoSeconds(c.certificate.notBefore);
      body.NotAfter = isoSeconds(c.certificate.notAfter);
      const ski = c.certificate.getExtension(x509.SubjectKeyIdentifierExtension);
      if (ski) {
        body.SubjectKeyIdentifier = formatKeyIdentifier(ski.keyId);
      }
    }
    return body;
  }

  private getCertificate(p: Record<string, string>): Record<string, unknown> {
    const c = this.find(required(p, 'CertificateId'));
    const body: Record<string, unknown> = { CertificateId: c.certificateId, Csr: c.csrPem };
    if (c.certificatePem) {
      body.Certificate = c.certificatePem;
    }
    if (c.certificateChainPem) {
      body.CertificateChain = c.certificateChainPem;
    }
    return body;
  }

  private updateCertificateStatus(p: Record<string, string>): Record<string, unknown> {
    const c = this.find(required(p, 'CertificateId'));
    const status = required(p, 'Status');
    if (status !== 'ACTIVE' && status !== 'INACTIVE' && status !== 'REVOKED') {
      throw invalidParameter(`The specified parameter Status is not valid: ${status} (allowed: ACTIVE, INACTIVE, REVOKED).`);
    }
    // Assumptions: a PENDING certificate only becomes ACTIVE by UploadCertificate; REVOKED is final.
    if (c.status === 'PENDING') {
      throw invalidParameter('The certificate is PENDING: upload a certificate before changing its status.');
    }
    if (c.status === 'REVOKED' && status !== 'REVOKED') {
      throw invalidParameter('The certificate is revoked and cannot be updated.');
    }
    c.status = status;
    c.updatedAt = new Date();
    return {};
  }

  private deleteCertificate(p: Record<string, string>): Record<string, unknown> {
    const c = this.find(required(p, 'CertificateId'));
    this.store.delete(c.certificateId);
    return {};
  }

  private tagResource(p: Record<string, string>): Record<string, unknown> {
    const c = this.taggable(p);
    let tags: unknown;
    try {
      tags = JSON.parse(required(p, 'Tags'));
    } catch (e) {
      if (e instanceof KmsFault) {
        throw e;
      }
      throw invalidParameter('The specified parameter Tags is not valid: expected a JSON array of {TagKey, TagValue}.');
    }
    if (!Array.isArray(tags) || tags.length === 0) {
      throw invalidParameter('The specified parameter Tags is not valid: expected a JSON array of {TagKey, TagValue}.');
    }
    const next = new Map(c.tags);
    for (const tag of tags as Array<{ TagKey?: unknown; TagValue?: unknown }>) {
      const key = tag?.TagKey;
      const value = tag?.TagValue ?? '';
      if (typeof key !== 'string' || key.length === 0 || key.length > 128 || /^(aliyun|acs:)/i.test(key)) {
        throw invalidParameter(`The specified parameter Tags is not valid: TagKey ${JSON.stringify(key)} (1 to 128 characters, not starting with aliyun or acs:).`);
      }
      if (typeof value !== 'string' || value.length > 128) {
        throw invalidParameter(`The specified parameter Tags is not valid: TagValue of ${key} (at most 128 characters).`);
      }
      next.set(key, value);
    }
    if (next.size > MAX_TAGS) {
      throw invalidParameter(`The specified parameter Tags is not valid: a certificate has at most ${MAX_TAGS} tags.`);
    }
    c.tags = next;
    return {};
  }

  private untagResource(p: Record<string, string>): Record<string, unknown> {
    const c = this.taggable(p);
    let keys: unknown;
    try {
      keys = JSON.parse(required(p, 'TagKeys'));
    } catch (e) {
      if (e instanceof KmsFault) {
        throw e;
      }
      throw invalidParameter('The specified parameter TagKeys is not valid: expected a JSON array of tag keys.');
    }
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
      throw invalidParameter('The specified parameter TagKeys is not valid: expected a JSON array of tag keys.');
    }
    for (const key of keys as string[]) {
      c.tags.delete(key);
    }
    return {};
  }

  /** TagResource/UntagResource target: exactly one of KeyId, SecretName, CertificateId. */
  private taggable(p: Record<string, string>): StoredCertificate {
    const targets = ['KeyId', 'SecretName', 'CertificateId'].filter((name) => p[name] !== undefined && p[name] !== '');
    if (targets.length !== 1) {
      throw invalidParameter('Specify exactly one of KeyId, SecretName and CertificateId.');
    }
    if (targets[0] !== 'CertificateId') {
      // The fake holds certificates only.
      throw notFound();
    }
    return this.find(p.CertificateId);
  }

  private find(certificateId: string): StoredCertificate {
    const c = this.store.get(certificateId);
    if (!c) {
      throw notFound();
    }
    return c;
  }

  private snapshot(c: StoredCertificate): FakeKmsCertificate {
    return {
      certificateId: c.certificateId,
      arn: c.arn,
      status: c.status,
      keySpec: c.keySpec,
      subject: c.subject,
      subjectAlternativeNames: [...c.subjectAlternativeNames],
      exportablePrivateKey: c.exportablePrivateKey,
      csrPem: c.csrPem,
      publicKeyPem: c.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      certificatePem: c.certificatePem,
      certificateChainPem: c.certificateChainPem,
      serial: c.certificate?.serialNumber.toLowerCase(),
      notBefore: c.certificate ? isoSeconds(c.certificate.notBefore) : undefined,
      notAfter: c.certificate ? isoSeconds(c.certificate.notAfter) : undefined,
      tags: Object.fromEntries(c.tags),
      createdAt: isoSeconds(c.createdAt),
      updatedAt: isoSeconds(c.updatedAt),
    };
  }
}

function required(p: Record<string, string>, name: string): string {
  const value = p[name];
  if (value === undefined || value === '') {
    throw new KmsFault(400, `Missing${name}`, `${name} is mandatory for this action.`);
  }
  return value;
}

/** `a=b&c=d` pairs, percent-decoded (`+` is a space, as in HTML forms). */
function parseForm(text: string): Array<[string, string]> {
  if (!text) {
    return [];
  }
  return text.split('&').filter((part) => part.length > 0).map((part) => {
    const eq = part.indexOf('=');
    const rawKey = eq >= 0 ? part.slice(0, eq) : part;
    const rawValue = eq >= 0 ? part.slice(eq + 1) : '';
    // Malformed escapes are kept verbatim; the signature check then rejects the request.
    const decode = (s: string): string => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return s;
      }
    };
    return [decode(rawKey), decode(rawValue)];
  });
}

function defaultFaultMessage(code: string): string {
  if (/^Throttling/.test(code)) {
    return 'Request was denied due to user flow control.';
  }
  if (code === 'ServiceUnavailable') {
    return 'The request has failed due to a temporary failure of the server.';
  }
  if (code === 'InternalError' || code === 'InternalFailure') {
    return 'The request processing has failed due to some unknown error, exception or failure.';
  }
  return `Injected fault ${code}.`;
}
