/**
 * A stateful in-memory ACM Private CA behind aws-sdk-client-mock, shared by the PrivateCa and the
 * issued-certificate handler tests.
 *
 * How to use it:
 *
 * ```ts
 * const pca = new FakeAcmPca();
 * beforeEach(() => pca.install());   // every ACMPCAClient, module-scope ones included
 * afterEach(() => pca.restore());
 *
 * const root = await pca.addCa({ commonName: 'Root', status: 'ACTIVE' });          // real key + self-signed cert
 * const sub = await pca.addCa({ commonName: 'Issuing', parent: root.arn });        // signed by root, ACTIVE
 * const pending = await pca.addCa({ status: 'PENDING_CERTIFICATE', withKey: false }); // no crypto at all
 * ```
 *
 * What it models (the rules the real service enforces and handlers must live with):
 * - CAs: CreateCertificateAuthority (idempotency token: same token, same CA), Describe, Update
 *   (ACTIVE <-> DISABLED only from ACTIVE/DISABLED; revocation configuration), Delete (not while
 *   ACTIVE: InvalidStateException; a DELETED CA keeps answering Describe until purged, with
 *   `RestorableUntil`), Restore, List, Tag/Untag/ListTags, GetCertificateAuthorityCsr,
 *   GetCertificateAuthorityCertificate, ImportCertificateAuthorityCertificate.
 * - Policies (PutPolicy/GetPolicy/DeletePolicy: JSON checked, DeletePolicy of none succeeds) and
 *   permissions (CreatePermission/DeletePermission/ListPermissions; duplicates are
 *   PermissionAlreadyExistsException).
 * - Certificates with real signatures: IssueCertificate (CA must be ACTIVE, or PENDING_CERTIFICATE
 *   for its own RootCACertificate; signing family must match the CA key; CSR must verify; validity
 *   may not pass the CA's notAfter; idempotency token + same CSR = same certificate ARN), GetCertificate
 *   (RequestInProgressException for {@link FakeAcmPca.issueDelayPolls} polls, then the PEM and the
 *   chain: the CA certificate followed by the CA's own chain), RevokeCertificate (CA must be in
 *   {@link FakeAcmPca.revocableStatuses}; twice is RequestAlreadyProcessedException).
 * - Audit reports: CreateCertificateAuthorityAuditReport / DescribeCertificateAuthorityAuditReport.
 *
 * Hooks for tests: {@link makeTestCsr} (a CSR to issue from), {@link FakeAcmPca.failNext} (queue an error for an operation),
 * {@link FakeAcmPca.log} (every call in order), {@link FakeAcmPca.writeCalls},
 * {@link FakeAcmPca.purge} (end the restoration window). Key algorithms the test PKI cannot make
 * (EC_secp521r1, SM2, ML-DSA) are backed by P-256 keys; the declared algorithm still drives the
 * signing-family checks.
 *
 * Issued-certificate engineers: IssueCertificate, GetCertificate and RevokeCertificate are here
 * already; read {@link FakeAcmPca.certificates} to assert on what was issued and revoked, and use
 * `pca.getCa(arn).certificatePem` / `.certificateChainPem` to verify chains.
 */
import 'reflect-metadata';
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import {
  ACMPCAClient,
  CertificateMismatchException,
  CreateCertificateAuthorityAuditReportCommand,
  CreateCertificateAuthorityCommand,
  CreatePermissionCommand,
  DeleteCertificateAuthorityCommand,
  DeletePermissionCommand,
  DeletePolicyCommand,
  DescribeCertificateAuthorityAuditReportCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  GetPolicyCommand,
  ImportCertificateAuthorityCertificateCommand,
  InvalidArgsException,
  InvalidArnException,
  InvalidPolicyException,
  InvalidRequestException,
  InvalidStateException,
  IssueCertificateCommand,
  ListCertificateAuthoritiesCommand,
  ListPermissionsCommand,
  ListTagsCommand,
  MalformedCertificateException,
  MalformedCSRException,
  PermissionAlreadyExistsException,
  PutPolicyCommand,
  RequestAlreadyProcessedException,
  RequestInProgressException,
  ResourceNotFoundException,
  RestoreCertificateAuthorityCommand,
  RevokeCertificateCommand,
  TagCertificateAuthorityCommand,
  TooManyTagsException,
  UntagCertificateAuthorityCommand,
  UpdateCertificateAuthorityCommand,
} from '@aws-sdk/client-acm-pca';
import * as x509 from '@peculiar/x509';
import { generateKeyPair, makeCsr, signCsr, TestCertificate, TestKeyAlgorithm, TestKeyPair } from '../fixtures/pki';
import { FAKE_ACCOUNT, FAKE_REGION, LooseStub, looseMock } from '../harness/fake-material';

export { FAKE_ACCOUNT as PCA_ACCOUNT, FAKE_REGION as PCA_REGION };

const DAY_MS = 24 * 60 * 60 * 1000;

export type FakeCaStatus = 'CREATING' | 'PENDING_CERTIFICATE' | 'ACTIVE' | 'DISABLED' | 'DELETED' | 'EXPIRED' | 'FAILED';

/** One private CA as the fake holds it. Fields are mutable so tests can set up odd states. */
export interface FakeCa {
  arn: string;
  type: 'ROOT' | 'SUBORDINATE';
  status: FakeCaStatus;
  keyAlgorithm: string;
  signingAlgorithm: string;
  subject: Record<string, string>;
  usageMode: string;
  keyStorageSecurityStandard: string;
  revocationConfiguration?: unknown;
  tags: Map<string, string>;
  createdAt: Date;
  idempotencyToken?: string;
  /** The CA's key pair (undefined for CAs made with `withKey: false`). */
  key?: TestKeyPair;
  csrPem?: string;
  /** The installed CA certificate (absent while PENDING_CERTIFICATE). */
  certificatePem?: string;
  /** The chain above the CA certificate (absent for a root). */
  certificateChainPem?: string;
  notBefore?: Date;
  notAfter?: Date;
  policy?: string;
  permissions: FakePermission[];
  /** Status to go back to on RestoreCertificateAuthority. */
  statusBeforeDeletion?: FakeCaStatus;
  /** Window the CA was deleted with. */
  permanentDeletionTimeInDays?: number;
  restorableUntil?: Date;
}

export interface FakePermission {
  principal: string;
  actions: string[];
  sourceAccount?: string;
  createdAt: Date;
}

/** A certificate issued by a fake CA. */
export interface FakeIssuedCertificate {
  arn: string;
  caArn: string;
  /** Lower-case hex, no colons. */
  serialNumber: string;
  certificatePem: string;
  /** The CA certificate followed by the CA's own chain. */
  certificateChainPem: string;
  templateArn: string;
  signingAlgorithm: string;
  idempotencyToken?: string;
  csrPem: string;
  notAfter: Date;
  issuedAt: Date;
  /** GetCertificate polls left before the certificate is ready. */
  pendingPolls: number;
  revoked?: { reason: string; at: Date };
}

export interface FakeAuditReport {
  id: string;
  caArn: string;
  bucket: string;
  key: string;
  format: string;
  status: 'CREATING' | 'SUCCESS' | 'FAILED';
}

/** Options of {@link FakeAcmPca.addCa}. */
export interface AddCaOptions {
  /** @default 'Fake CA' */
  readonly commonName?: string;
  /** @default 'ROOT' (or 'SUBORDINATE' when `parent` is given) */
  readonly type?: 'ROOT' | 'SUBORDINATE';
  /** @default 'ACTIVE' */
  readonly status?: FakeCaStatus;
  /** @default 'EC_prime256v1' (fast); the signing algorithm follows it unless given */
  readonly keyAlgorithm?: string;
  readonly signingAlgorithm?: string;
  /** ARN of a fake CA that signs this one (it gets that CA's chain). */
  readonly parent?: string;
  /** Make a real key, CSR and (unless PENDING_CERTIFICATE) certificate. @default true */
  readonly withKey?: boolean;
  /** @default 3650 (root) / 1825 (subordinate) days from now */
  readonly validityDays?: number;
  /** basicConstraints pathLen of the CA certificate. */
  readonly pathLength?: number;
  readonly tags?: Record<string, string>;
  readonly policy?: string;
}

const RSA_SIGNING = new Set(['SHA256WITHRSA', 'SHA384WITHRSA', 'SHA512WITHRSA']);
const ECDSA_SIGNING = new Set(['SHA256WITHECDSA', 'SHA384WITHECDSA', 'SHA512WITHECDSA']);

/** The signing family a key algorithm accepts. */
export function signingFamilyOf(keyAlgorithm: string): Set<string> {
  if (keyAlgorithm.startsWith('RSA_')) return RSA_SIGNING;
  if (keyAlgorithm.startsWith('EC_')) return ECDSA_SIGNING;
  if (keyAlgorithm === 'SM2') return new Set(['SM3WITHSM2']);
  return new Set([keyAlgorithm]); // ML_DSA_* signs with itself
}

function defaultSigning(keyAlgorithm: string): string {
  if (keyAlgorithm.startsWith('RSA_')) return 'SHA256WITHRSA';
  if (keyAlgorithm === 'EC_secp384r1') return 'SHA384WITHECDSA';
  if (keyAlgorithm === 'EC_secp521r1') return 'SHA512WITHECDSA';
  if (keyAlgorithm.startsWith('EC_')) return 'SHA256WITHECDSA';
  if (keyAlgorithm === 'SM2') return 'SM3WITHSM2';
  return keyAlgorithm;
}

function testKeyAlgorithm(keyAlgorithm: string): TestKeyAlgorithm {
  switch (keyAlgorithm) {
    case 'RSA_2048':
    case 'RSA_3072':
    case 'RSA_4096':
      return keyAlgorithm;
    case 'EC_secp384r1':
      return 'EC_P384';
    default:
      return 'EC_P256';
  }
}

const WRITES = new Set([
  'CreateCertificateAuthority', 'UpdateCertificateAuthority', 'DeleteCertificateAuthority', 'RestoreCertificateAuthority',
  'ImportCertificateAuthorityCertificate', 'PutPolicy', 'DeletePolicy', 'CreatePermission', 'DeletePermission',
  'IssueCertificate', 'RevokeCertificate', 'TagCertificateAuthority', 'UntagCertificateAuthority',
  'CreateCertificateAuthorityAuditReport',
]);

const meta = { $metadata: {} };

/** A stateful in-memory ACM Private CA; see the file comment. */
export class FakeAcmPca {
  public readonly cas = new Map<string, FakeCa>();
  /** Issued certificates by ARN. */
  public readonly certificates = new Map<string, FakeIssuedCertificate>();
  public readonly auditReports = new Map<string, FakeAuditReport>();
  /** Every call, in order, by operation name. */
  public readonly log: string[] = [];
  /** Every call with its input, in order. */
  public readonly calls: Array<{ operation: string; input: Record<string, unknown> }> = [];
  /** GetCertificate answers RequestInProgressException this many times per new certificate. */
  public issueDelayPolls = 0;
  /** CA states in which RevokeCertificate is accepted. */
  public revocableStatuses = new Set<FakeCaStatus>(['ACTIVE']);
  private readonly faults = new Map<string, Array<Error | ((input: Record<string, unknown>) => Error)>>();
  private readonly idempotency = new Map<string, string>();
  private stub?: LooseStub;

  /** Plugs the fake into every ACMPCAClient (module-scope ones too). */
  public install(): this {
    this.restore();
    const stub = looseMock(ACMPCAClient);
    this.stub = stub;
    const on = (command: unknown, operation: string, fn: (input: any) => unknown) => {
      stub.on(command).callsFake((input: never) => this.run(operation, input, () => fn(input)));
    };
    on(CreateCertificateAuthorityCommand, 'CreateCertificateAuthority', (i) => this.createCa(i));
    on(DescribeCertificateAuthorityCommand, 'DescribeCertificateAuthority', (i) => ({ CertificateAuthority: this.describe(this.find(i.CertificateAuthorityArn)), ...meta }));
    on(ListCertificateAuthoritiesCommand, 'ListCertificateAuthorities', () => ({ CertificateAuthorities: [...this.cas.values()].map((ca) => this.describe(ca)), ...meta }));
    on(UpdateCertificateAuthorityCommand, 'UpdateCertificateAuthority', (i) => this.updateCa(i));
    on(DeleteCertificateAuthorityCommand, 'DeleteCertificateAuthority', (i) => this.deleteCa(i));
    on(RestoreCertificateAuthorityCommand, 'RestoreCertificateAuthority', (i) => this.restoreCa(i));
    on(GetCertificateAuthorityCsrCommand, 'GetCertificateAuthorityCsr', (i) => this.getCsr(i));
    on(GetCertificateAuthorityCertificateCommand, 'GetCertificateAuthorityCertificate', (i) => this.getCaCertificate(i));
    on(ImportCertificateAuthorityCertificateCommand, 'ImportCertificateAuthorityCertificate', (i) => this.importCaCertificate(i));
    on(PutPolicyCommand, 'PutPolicy', (i) => this.putPolicy(i));
    on(GetPolicyCommand, 'GetPolicy', (i) => this.getPolicy(i));
    on(DeletePolicyCommand, 'DeletePolicy', (i) => this.deletePolicy(i));
    on(CreatePermissionCommand, 'CreatePermission', (i) => this.createPermission(i));
    on(DeletePermissionCommand, 'DeletePermission', (i) => this.deletePermission(i));
    on(ListPermissionsCommand, 'ListPermissions', (i) => this.listPermissions(i));
    on(TagCertificateAuthorityCommand, 'TagCertificateAuthority', (i) => this.tag(i));
    on(UntagCertificateAuthorityCommand, 'UntagCertificateAuthority', (i) => this.untag(i));
    on(ListTagsCommand, 'ListTags', (i) => ({ Tags: [...this.find(i.CertificateAuthorityArn).tags].map(([Key, Value]) => ({ Key, Value })), ...meta }));
    on(IssueCertificateCommand, 'IssueCertificate', (i) => this.issue(i));
    on(GetCertificateCommand, 'GetCertificate', (i) => this.getCertificate(i));
    on(RevokeCertificateCommand, 'RevokeCertificate', (i) => this.revoke(i));
    on(CreateCertificateAuthorityAuditReportCommand, 'CreateCertificateAuthorityAuditReport', (i) => this.createAuditReport(i));
    on(DescribeCertificateAuthorityAuditReportCommand, 'DescribeCertificateAuthorityAuditReport', (i) => this.describeAuditReport(i));
    return this;
  }

  /** Restores the real client. State is kept (call {@link reset} to clear it). */
  public restore(): void {
    this.stub?.restore();
    this.stub = undefined;
  }

  /** Forgets every CA, certificate, report, call and queued fault. */
  public reset(): void {
    this.cas.clear();
    this.certificates.clear();
    this.auditReports.clear();
    this.log.length = 0;
    this.calls.length = 0;
    this.faults.clear();
    this.idempotency.clear();
    this.issueDelayPolls = 0;
    this.revocableStatuses = new Set<FakeCaStatus>(['ACTIVE']);
  }

  /**
   * Queues an error for the next call of `operation` (e.g. 'DeleteCertificateAuthority'). A
   * function is called with the input when the call arrives, so it can change the state first
   * (a CA deleted by someone else while the handler works).
   */
  public failNext(operation: string, error: Error | ((input: Record<string, unknown>) => Error)): void {
    const list = this.faults.get(operation) ?? [];
    list.push(error);
    this.faults.set(operation, list);
  }

  /** Calls made so far (for LifecycleDriver's countApiCalls). */
  public callCount(): number {
    return this.log.length;
  }

  /** Write calls made so far. */
  public writeCalls(): number {
    return this.log.filter((op) => WRITES.has(op)).length;
  }

  /** Inputs of every call of `operation`. */
  public inputsOf(operation: string): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.operation === operation).map((c) => c.input);
  }

  /** The CA with this ARN (throws if unknown). */
  public getCa(arn: string): FakeCa {
    const ca = this.cas.get(arn);
    if (!ca) throw new Error(`FakeAcmPca: no CA ${arn}`);
    return ca;
  }

  /** Ends the restoration window of a DELETED CA: it is gone for good. */
  public purge(arn: string): void {
    const ca = this.getCa(arn);
    if (ca.status !== 'DELETED') throw new Error(`FakeAcmPca: ${arn} is ${ca.status}, not DELETED`);
    this.cas.delete(arn);
  }

  /**
   * Adds a CA directly (no API call is logged). By default it has a real key and an installed
   * certificate (self-signed for a root, signed by `parent` for a subordinate) and is ACTIVE.
   */
  public async addCa(options: AddCaOptions = {}): Promise<FakeCa> {
    const keyAlgorithm = options.keyAlgorithm ?? 'EC_prime256v1';
    const type = options.type ?? (options.parent ? 'SUBORDINATE' : 'ROOT');
    const ca = this.newCa({
      type,
      keyAlgorithm,
      signingAlgorithm: options.signingAlgorithm ?? defaultSigning(keyAlgorithm),
      subject: { CommonName: options.commonName ?? 'Fake CA' },
      status: options.status ?? 'ACTIVE',
    });
    for (const [k, v] of Object.entries(options.tags ?? {})) ca.tags.set(k, v);
    ca.policy = options.policy;
    if (options.withKey !== false) {
      await this.ensureKey(ca);
      if (ca.status !== 'PENDING_CERTIFICATE' && ca.status !== 'CREATING') {
        const days = options.validityDays ?? (type === 'ROOT' ? 3650 : 1825);
        const notAfter = new Date(Date.now() + days * DAY_MS);
        if (options.parent) {
          const parent = this.getCa(options.parent);
          const pem = await signCsr(this.issuerOf(parent), ca.csrPem!, { isCa: true, pathLength: options.pathLength, notAfter });
          this.install_(ca, pem, chainOf(parent));
        } else {
          const pem = await signCsr(selfIssuer(ca, options.commonName ?? 'Fake CA'), ca.csrPem!, { isCa: true, pathLength: options.pathLength, notAfter });
          this.install_(ca, pem, undefined);
        }
      }
    }
    return ca;
  }

  // ---------------------------------------------------------------------------------------------

  private async run(operation: string, input: Record<string, unknown>, fn: () => unknown): Promise<unknown> {
    this.log.push(operation);
    this.calls.push({ operation, input });
    const queued = this.faults.get(operation);
    if (queued && queued.length > 0) {
      const fault = queued.shift()!;
      throw typeof fault === 'function' ? fault(input) : fault;
    }
    return fn();
  }

  private newCa(init: Pick<FakeCa, 'type' | 'keyAlgorithm' | 'signingAlgorithm' | 'subject' | 'status'> & Partial<FakeCa>): FakeCa {
    const arn = `arn:aws:acm-pca:${FAKE_REGION}:${FAKE_ACCOUNT}:certificate-authority/${randomUUID()}`;
    const ca: FakeCa = {
      usageMode: 'GENERAL_PURPOSE',
      keyStorageSecurityStandard: 'FIPS_140_2_LEVEL_3_OR_HIGHER',
      tags: new Map(),
      createdAt: new Date(),
      permissions: [],
      ...init,
      arn,
    };
    this.cas.set(arn, ca);
    return ca;
  }

  private async ensureKey(ca: FakeCa): Promise<void> {
    if (ca.key) return;
    ca.key = await generateKeyPair(testKeyAlgorithm(ca.keyAlgorithm));
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: subjectName(ca.subject),
      keys: ca.key.keys,
      signingAlgorithm: webSigning(ca.key.keys.privateKey),
    });
    ca.csrPem = csr.toString('pem') + '\n';
  }

  private install_(ca: FakeCa, certificatePem: string, chainPem: string | undefined): void {
    const cert = new X509Certificate(certificatePem);
    ca.certificatePem = certificatePem;
    ca.certificateChainPem = chainPem;
    ca.notBefore = new Date(cert.validFrom);
    ca.notAfter = new Date(cert.validTo);
    ca.status = 'ACTIVE';
  }

  /** The CA as an issuer for the test PKI's signCsr. */
  private issuerOf(ca: FakeCa): TestCertificate {
    if (!ca.key || !ca.certificatePem) {
      throw new InvalidStateException({ message: `The certificate authority ${ca.arn} has no certificate installed.`, ...meta });
    }
    return { ...ca.key, certificatePem: ca.certificatePem, certificate: new x509.X509Certificate(ca.certificatePem) };
  }

  private find(arn: unknown): FakeCa {
    if (typeof arn !== 'string' || !/^arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]*:certificate-authority\/[0-9a-f-]+$/.test(arn)) {
      throw new InvalidArnException({ message: `The ARN ${String(arn)} is not valid.`, ...meta });
    }
    const ca = this.cas.get(arn);
    if (!ca) {
      throw new ResourceNotFoundException({ message: `Could not find certificate authority ${arn}.`, ...meta });
    }
    return ca;
  }

  private describe(ca: FakeCa) {
    return {
      Arn: ca.arn,
      OwnerAccount: FAKE_ACCOUNT,
      CreatedAt: ca.createdAt,
      LastStateChangeAt: new Date(),
      Type: ca.type,
      Status: ca.status,
      NotBefore: ca.notBefore,
      NotAfter: ca.notAfter,
      CertificateAuthorityConfiguration: { KeyAlgorithm: ca.keyAlgorithm, SigningAlgorithm: ca.signingAlgorithm, Subject: ca.subject },
      RevocationConfiguration: ca.revocationConfiguration,
      RestorableUntil: ca.restorableUntil,
      KeyStorageSecurityStandard: ca.keyStorageSecurityStandard,
      UsageMode: ca.usageMode,
    };
  }

  private async createCa(input: any) {
    const token = input.IdempotencyToken as string | undefined;
    if (token && this.idempotency.has(`ca:${token}`)) {
      return { CertificateAuthorityArn: this.idempotency.get(`ca:${token}`), ...meta };
    }
    const config = input.CertificateAuthorityConfiguration ?? {};
    if (!signingFamilyOf(config.KeyAlgorithm ?? '').has(config.SigningAlgorithm)) {
      throw new InvalidArgsException({ message: `Signing algorithm ${config.SigningAlgorithm} is not compatible with key algorithm ${config.KeyAlgorithm}.`, ...meta });
    }
    if ((input.Tags ?? []).length > 50) {
      throw new TooManyTagsException({ message: 'A certificate authority can have at most 50 tags.', ...meta });
    }
    const ca = this.newCa({
      type: input.CertificateAuthorityType,
      keyAlgorithm: config.KeyAlgorithm,
      signingAlgorithm: config.SigningAlgorithm,
      subject: { ...(config.Subject ?? {}) },
      status: 'PENDING_CERTIFICATE',
      usageMode: input.UsageMode ?? 'GENERAL_PURPOSE',
      keyStorageSecurityStandard: input.KeyStorageSecurityStandard ?? 'FIPS_140_2_LEVEL_3_OR_HIGHER',
      revocationConfiguration: input.RevocationConfiguration,
      idempotencyToken: token,
    });
    for (const t of input.Tags ?? []) ca.tags.set(t.Key, t.Value);
    await this.ensureKey(ca);
    if (token) this.idempotency.set(`ca:${token}`, ca.arn);
    return { CertificateAuthorityArn: ca.arn, ...meta };
  }

  private updateCa(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    if (ca.status !== 'ACTIVE' && ca.status !== 'DISABLED') {
      throw new InvalidStateException({ message: `The certificate authority is in the ${ca.status} state; it must be ACTIVE or DISABLED to be updated.`, ...meta });
    }
    if (input.Status !== undefined) {
      if (input.Status !== 'ACTIVE' && input.Status !== 'DISABLED') {
        throw new InvalidArgsException({ message: `Status ${input.Status} cannot be set with UpdateCertificateAuthority.`, ...meta });
      }
      ca.status = input.Status;
    }
    if (input.RevocationConfiguration !== undefined) {
      ca.revocationConfiguration = input.RevocationConfiguration;
    }
    return meta;
  }

  private deleteCa(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    if (ca.status === 'ACTIVE') {
      throw new InvalidStateException({ message: 'The certificate authority is not in a valid state for deletion.', ...meta });
    }
    if (ca.status === 'DELETED') {
      throw new InvalidStateException({ message: 'The certificate authority is already deleted.', ...meta });
    }
    const days = input.PermanentDeletionTimeInDays ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 30) {
      throw new InvalidArgsException({ message: 'PermanentDeletionTimeInDays must be between 7 and 30.', ...meta });
    }
    ca.statusBeforeDeletion = ca.status;
    ca.status = 'DELETED';
    ca.permanentDeletionTimeInDays = days;
    ca.restorableUntil = new Date(Date.now() + days * DAY_MS);
    return meta;
  }

  private restoreCa(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    if (ca.status !== 'DELETED') {
      throw new InvalidStateException({ message: `The certificate authority is ${ca.status}, not DELETED.`, ...meta });
    }
    // The service restores to the pre-deletion state, except that an ACTIVE CA comes back DISABLED.
    ca.status = ca.statusBeforeDeletion === 'PENDING_CERTIFICATE' ? 'PENDING_CERTIFICATE' : 'DISABLED';
    ca.restorableUntil = undefined;
    ca.permanentDeletionTimeInDays = undefined;
    return meta;
  }

  private getCsr(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    if (!ca.csrPem) {
      throw new RequestInProgressException({ message: 'The CSR is being created.', ...meta });
    }
    return { Csr: ca.csrPem, ...meta };
  }

  private getCaCertificate(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    if (!ca.certificatePem) {
      throw new InvalidStateException({ message: 'The certificate authority has no certificate installed.', ...meta });
    }
    return { Certificate: ca.certificatePem, CertificateChain: ca.certificateChainPem, ...meta };
  }

  private importCaCertificate(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    if (ca.status !== 'PENDING_CERTIFICATE' && ca.status !== 'ACTIVE' && ca.status !== 'DISABLED' && ca.status !== 'EXPIRED') {
      throw new InvalidStateException({ message: `A certificate cannot be imported into a ${ca.status} CA.`, ...meta });
    }
    const pem = Buffer.from(input.Certificate ?? []).toString('utf8');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch {
      throw new MalformedCertificateException({ message: 'The certificate is not a valid PEM certificate.', ...meta });
    }
    if (ca.key && !cert.publicKey.export({ type: 'spki', format: 'der' }).equals(Buffer.from(x509PublicKeyDer(ca.key.publicKeyPem)))) {
      throw new CertificateMismatchException({ message: 'The certificate does not match the CA\'s key.', ...meta });
    }
    const chain = input.CertificateChain ? Buffer.from(input.CertificateChain).toString('utf8') : undefined;
    if (ca.type === 'SUBORDINATE' && !chain) {
      throw new InvalidRequestException({ message: 'A subordinate CA certificate needs its chain.', ...meta });
    }
    this.install_(ca, pem, chain);
    return meta;
  }

  private putPolicy(input: any) {
    const ca = this.find(input.ResourceArn);
    if (ca.status === 'DELETED') {
      throw new InvalidStateException({ message: 'The certificate authority is deleted.', ...meta });
    }
    let doc: any;
    try {
      doc = JSON.parse(input.Policy);
    } catch {
      throw new InvalidPolicyException({ message: 'The policy is not valid JSON.', ...meta });
    }
    if (!doc || !Array.isArray(doc.Statement) || doc.Statement.length === 0) {
      throw new InvalidPolicyException({ message: 'The policy has no statements.', ...meta });
    }
    for (const s of doc.Statement) {
      const resources = [s.Resource].flat();
      if (!resources.every((r: string) => r === ca.arn)) {
        throw new InvalidPolicyException({ message: `Every statement's Resource must be the CA ARN ${ca.arn}.`, ...meta });
      }
    }
    ca.policy = input.Policy;
    return meta;
  }

  private getPolicy(input: any) {
    const ca = this.find(input.ResourceArn);
    if (ca.policy === undefined) {
      throw new ResourceNotFoundException({ message: 'The certificate authority has no policy.', ...meta });
    }
    return { Policy: ca.policy, ...meta };
  }

  private deletePolicy(input: any) {
    const ca = this.find(input.ResourceArn);
    ca.policy = undefined;
    return meta;
  }

  private createPermission(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    if (input.Principal !== 'acm.amazonaws.com') {
      throw new InvalidArgsException({ message: 'The only valid principal is acm.amazonaws.com.', ...meta });
    }
    if (ca.permissions.some((p) => p.principal === input.Principal)) {
      throw new PermissionAlreadyExistsException({ message: 'The permission already exists.', ...meta });
    }
    ca.permissions.push({ principal: input.Principal, actions: [...input.Actions], sourceAccount: input.SourceAccount, createdAt: new Date() });
    return meta;
  }

  private deletePermission(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    const before = ca.permissions.length;
    ca.permissions = ca.permissions.filter((p) => p.principal !== input.Principal);
    if (ca.permissions.length === before) {
      throw new ResourceNotFoundException({ message: 'No such permission.', ...meta });
    }
    return meta;
  }

  private listPermissions(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    return {
      Permissions: ca.permissions.map((p) => ({
        CertificateAuthorityArn: ca.arn,
        Principal: p.principal,
        Actions: p.actions,
        SourceAccount: p.sourceAccount ?? FAKE_ACCOUNT,
        CreatedAt: p.createdAt,
      })),
      ...meta,
    };
  }

  private tag(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    for (const t of input.Tags ?? []) ca.tags.set(t.Key, t.Value);
    if (ca.tags.size > 50) {
      throw new TooManyTagsException({ message: 'A certificate authority can have at most 50 tags.', ...meta });
    }
    return meta;
  }

  private untag(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    for (const t of input.Tags ?? []) ca.tags.delete(t.Key);
    return meta;
  }

  private async issue(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    const templateArn: string = input.TemplateArn ?? 'arn:aws:acm-pca:::template/EndEntityCertificate/V1';
    const template = /template\/([^/]+)\/V\d+$/.exec(templateArn)?.[1] ?? '';
    const selfSign = template.startsWith('RootCACertificate');
    if (selfSign ? ca.status !== 'PENDING_CERTIFICATE' && ca.status !== 'ACTIVE' : ca.status !== 'ACTIVE') {
      throw new InvalidStateException({ message: `The certificate authority is ${ca.status}; it must be ACTIVE to issue certificates.`, ...meta });
    }
    if (!signingFamilyOf(ca.keyAlgorithm).has(input.SigningAlgorithm)) {
      throw new InvalidArgsException({ message: `The signing algorithm ${input.SigningAlgorithm} does not match the CA key algorithm ${ca.keyAlgorithm}.`, ...meta });
    }
    const csrPem = Buffer.from(input.Csr ?? []).toString('utf8');
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch {
      throw new MalformedCSRException({ message: 'The CSR could not be parsed.', ...meta });
    }
    if (!(await csr.verify())) {
      throw new MalformedCSRException({ message: 'The CSR signature does not verify.', ...meta });
    }
    const token = input.IdempotencyToken as string | undefined;
    const idemKey = token ? `cert:${ca.arn}:${token}:${csrPem}` : undefined;
    if (idemKey && this.idempotency.has(idemKey)) {
      return { CertificateArn: this.idempotency.get(idemKey), ...meta };
    }
    const notAfter = validityEnd(input.Validity);
    await this.ensureKey(ca);
    if (!selfSign && ca.notAfter && notAfter.getTime() > ca.notAfter.getTime()) {
      throw new InvalidArgsException({ message: 'The certificate validity specified exceeds the certificate authority validity.', ...meta });
    }
    let pem: string;
    let chainPem: string;
    if (selfSign) {
      if (ca.type !== 'ROOT' || csrPem.trim() !== (ca.csrPem ?? '').trim()) {
        throw new InvalidRequestException({ message: 'RootCACertificate templates sign only the root CA\'s own CSR.', ...meta });
      }
      pem = await signCsr(selfIssuer(ca, ca.subject.CommonName ?? 'Fake CA'), csrPem, { isCa: true, notAfter });
      chainPem = '';
    } else {
      const pathLen = /PathLen(\d)/.exec(template)?.[1];
      const isCa = template.startsWith('SubordinateCACertificate');
      pem = await signCsr(this.issuerOf(ca), csrPem, { isCa, pathLength: pathLen === undefined ? undefined : Number(pathLen), notAfter });
      chainPem = chainOf(ca);
    }
    const serialNumber = new X509Certificate(pem).serialNumber.toLowerCase();
    const arn = `${ca.arn}/certificate/${randomBytes(16).toString('hex')}`;
    this.certificates.set(arn, {
      arn,
      caArn: ca.arn,
      serialNumber,
      certificatePem: pem,
      certificateChainPem: chainPem,
      templateArn,
      signingAlgorithm: input.SigningAlgorithm,
      idempotencyToken: token,
      csrPem,
      notAfter,
      issuedAt: new Date(),
      pendingPolls: this.issueDelayPolls,
    });
    if (idemKey) this.idempotency.set(idemKey, arn);
    return { CertificateArn: arn, ...meta };
  }

  private getCertificate(input: any) {
    this.find(input.CertificateAuthorityArn);
    const cert = this.certificates.get(input.CertificateArn);
    if (!cert || cert.caArn !== input.CertificateAuthorityArn) {
      throw new ResourceNotFoundException({ message: `Could not find certificate ${String(input.CertificateArn)}.`, ...meta });
    }
    if (cert.pendingPolls > 0) {
      cert.pendingPolls--;
      throw new RequestInProgressException({ message: 'The certificate is being issued.', ...meta });
    }
    return { Certificate: cert.certificatePem, CertificateChain: cert.certificateChainPem || undefined, ...meta };
  }

  private revoke(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    if (!this.revocableStatuses.has(ca.status)) {
      throw new InvalidStateException({ message: `The certificate authority is ${ca.status}; it cannot revoke certificates.`, ...meta });
    }
    const serial = String(input.CertificateSerial ?? '').replace(/:/g, '').toLowerCase().replace(/^0+/, '');
    const cert = [...this.certificates.values()].find((c) => c.caArn === ca.arn && c.serialNumber.replace(/^0+/, '') === serial);
    if (!cert) {
      throw new ResourceNotFoundException({ message: `No certificate with serial ${String(input.CertificateSerial)} was issued by this CA.`, ...meta });
    }
    if (cert.revoked) {
      throw new RequestAlreadyProcessedException({ message: 'The certificate is already revoked.', ...meta });
    }
    cert.revoked = { reason: input.RevocationReason, at: new Date() };
    return meta;
  }

  private createAuditReport(input: any) {
    const ca = this.find(input.CertificateAuthorityArn);
    if (ca.status !== 'ACTIVE' && ca.status !== 'DISABLED') {
      throw new InvalidStateException({ message: `The certificate authority is ${ca.status}.`, ...meta });
    }
    if (input.AuditReportResponseFormat !== 'JSON' && input.AuditReportResponseFormat !== 'CSV') {
      throw new InvalidArgsException({ message: 'AuditReportResponseFormat must be JSON or CSV.', ...meta });
    }
    const id = randomUUID();
    const key = `audit-report/${ca.arn.split('/').pop()}/${id}.${input.AuditReportResponseFormat.toLowerCase()}`;
    this.auditReports.set(id, { id, caArn: ca.arn, bucket: input.S3BucketName, key, format: input.AuditReportResponseFormat, status: 'SUCCESS' });
    return { AuditReportId: id, S3Key: key, ...meta };
  }

  private describeAuditReport(input: any) {
    this.find(input.CertificateAuthorityArn);
    const report = this.auditReports.get(input.AuditReportId);
    if (!report) {
      throw new ResourceNotFoundException({ message: 'No such audit report.', ...meta });
    }
    return { AuditReportStatus: report.status, S3BucketName: report.bucket, S3Key: report.key, CreatedAt: new Date(), ...meta };
  }
}

/** A CSR for IssueCertificate tests (its key stays with the test). */
export async function makeTestCsr(
  commonName = 'leaf.example.com',
  keyAlgorithm: TestKeyAlgorithm = 'EC_P256',
): Promise<{ csrPem: string; privateKeyPem: string }> {
  const csr = await makeCsr({ commonName, dnsNames: [commonName], keyAlgorithm });
  return { csrPem: csr.csrPem, privateKeyPem: csr.privateKeyPem };
}

/** The chain a consumer of `ca`'s certificates needs: the CA certificate, then its own chain. */
function chainOf(ca: FakeCa): string {
  return `${ca.certificatePem ?? ''}${ca.certificateChainPem ?? ''}`;
}

/** A self-issuer for a root: the CA key, with a throwaway certificate carrying only its name. */
function selfIssuer(ca: FakeCa, commonName: string): TestCertificate {
  const name = new x509.Name(subjectName(ca.subject.CommonName ? ca.subject : { CommonName: commonName }));
  // signCsr only reads issuer.certificate.subjectName and issuer.keys.
  return { ...ca.key!, certificatePem: '', certificate: { subjectName: name } as unknown as x509.X509Certificate };
}

const SUBJECT_KEYS: Array<[string, string]> = [
  ['Country', 'C'], ['State', 'ST'], ['Locality', 'L'], ['Organization', 'O'], ['OrganizationalUnit', 'OU'],
  ['CommonName', 'CN'], ['SerialNumber', '2.5.4.5'], ['Title', '2.5.4.12'], ['Surname', '2.5.4.4'],
  ['GivenName', '2.5.4.42'], ['Initials', '2.5.4.43'], ['Pseudonym', '2.5.4.65'], ['GenerationQualifier', '2.5.4.44'],
  ['DistinguishedNameQualifier', '2.5.4.46'],
];

function subjectName(subject: Record<string, string>): x509.JsonName {
  const name: x509.JsonName = [];
  for (const [field, attr] of SUBJECT_KEYS) {
    if (subject[field]) name.push({ [attr]: [subject[field]] });
  }
  return name.length > 0 ? name : [{ CN: ['Fake CA'] }];
}

function webSigning(key: CryptoKey): Algorithm | EcdsaParams {
  const alg = key.algorithm as EcKeyAlgorithm;
  if (alg.name === 'ECDSA') {
    return { name: 'ECDSA', hash: alg.namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' } as EcdsaParams;
  }
  return { name: alg.name, hash: 'SHA-256' } as Algorithm;
}

function x509PublicKeyDer(publicKeyPem: string): Uint8Array {
  const body = publicKeyPem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

/** The end of a Validity (DAYS, MONTHS, YEARS, ABSOLUTE seconds, END_DATE YYYYMMDDHHMMSS). */
export function validityEnd(validity: { Type?: string; Value?: number } | undefined): Date {
  if (!validity || validity.Value === undefined) {
    throw new InvalidArgsException({ message: 'Validity is required.', ...meta });
  }
  const now = new Date();
  const value = Number(validity.Value);
  switch (validity.Type) {
    case 'DAYS':
      return new Date(now.getTime() + value * DAY_MS);
    case 'MONTHS': {
      const d = new Date(now);
      d.setUTCMonth(d.getUTCMonth() + value);
      return d;
    }
    case 'YEARS': {
      const d = new Date(now);
      d.setUTCFullYear(d.getUTCFullYear() + value);
      return d;
    }
    case 'ABSOLUTE':
      return new Date(value * 1000);
    case 'END_DATE': {
      const s = String(value).padStart(14, '0');
      const n = (from: number, to: number) => Number(s.slice(from, to));
      return new Date(Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14)));
    }
    default:
      throw new InvalidArgsException({ message: `Validity type ${String(validity.Type)} is not valid.`, ...meta });
  }
}
