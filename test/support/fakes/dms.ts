import { randomBytes, X509Certificate } from 'node:crypto';
import {
  AddTagsToResourceCommand,
  DatabaseMigrationServiceClient,
  DatabaseMigrationServiceServiceException,
  DeleteCertificateCommand,
  DescribeCertificatesCommand,
  DescribeEndpointsCommand,
  ImportCertificateCommand,
  InvalidCertificateFault,
  InvalidResourceStateFault,
  KMSKeyNotAccessibleFault,
  ListTagsForResourceCommand,
  RemoveTagsFromResourceCommand,
  ResourceAlreadyExistsFault,
  ResourceNotFoundFault,
  ResourceQuotaExceededFault,
} from '@aws-sdk/client-database-migration-service';
import { FAKE_ACCOUNT, FAKE_REGION, looseMock, LooseStub } from '../harness/fake-material';

/** The DMS operations the fake serves. */
export type DmsOperation =
  | 'ImportCertificate' | 'DescribeCertificates' | 'DeleteCertificate'
  | 'AddTagsToResource' | 'RemoveTagsFromResource' | 'ListTagsForResource' | 'DescribeEndpoints';

const WRITES: ReadonlySet<DmsOperation> = new Set<DmsOperation>(['ImportCertificate', 'DeleteCertificate', 'AddTagsToResource', 'RemoveTagsFromResource']);

/** A certificate as the fake holds it. */
export interface FakeDmsCertificate {
  readonly arn: string;
  readonly identifier: string;
  readonly pem?: string;
  /** A private copy of the bytes DMS received. */
  readonly wallet?: Uint8Array;
  readonly kmsKeyId?: string;
  readonly created: Date;
  readonly tags: Map<string, string>;
}

interface FakeEndpoint {
  readonly identifier: string;
  readonly arn: string;
  certificateArn?: string;
  /** Detach by itself after this many refused DeleteCertificate calls (an endpoint being modified). */
  releaseAfter?: number;
}

interface StoreInput {
  readonly CertificateIdentifier: string;
  readonly CertificatePem?: string;
  readonly CertificateWallet?: Uint8Array;
  readonly KmsKeyId?: string;
}

const metadata = (httpStatusCode: number) => ({ httpStatusCode, requestId: randomBytes(8).toString('hex'), attempts: 1, totalRetryDelay: 0 });

/**
 * A stateful in-memory AWS DMS (certificates, their tags, and endpoints that use them) behind
 * aws-sdk-client-mock, so the handler runs the real SDK command classes. Identifiers are unique,
 * a deleted certificate is gone, a certificate an endpoint uses refuses deletion
 * (InvalidResourceStateFault), a filter matching nothing is ResourceNotFoundFault (as DMS does),
 * and a wallet must arrive as bytes.
 */
export class FakeDms {
  /** Certificates by ARN. */
  public readonly certificates = new Map<string, FakeDmsCertificate>();
  /** Every call, in order, with its input. */
  public readonly log: Array<{ operation: DmsOperation; input: Record<string, unknown> }> = [];
  /** At most this many certificates (DMS's per-region quota). */
  public quota = 100;
  /** KMS key ids DMS cannot use. */
  public readonly inaccessibleKeys = new Set<string>();
  /** As an SDK that predates ImportCertificate's KmsKeyId: the key never reaches DMS. */
  public dropKmsKeyId = false;
  private readonly endpoints = new Map<string, FakeEndpoint>();
  private readonly failures: Array<{ operation: DmsOperation; error: Error }> = [];
  private mock?: LooseStub;

  /** Plugs the fake into every DatabaseMigrationServiceClient (including the handler's). */
  public install(): void {
    this.restore();
    const mock = looseMock(DatabaseMigrationServiceClient);
    const serve = (command: unknown, operation: DmsOperation, fn: (input: any) => unknown) => {
      mock.on(command).callsFake(async (input: Record<string, unknown>) => {
        this.log.push({ operation, input });
        const failure = this.failures.findIndex(f => f.operation === operation);
        if (failure >= 0) {
          throw this.failures.splice(failure, 1)[0].error;
        }
        return { ...(fn(input) as object), $metadata: metadata(200) };
      });
    };
    serve(ImportCertificateCommand, 'ImportCertificate', i => this.importCertificate(i));
    serve(DescribeCertificatesCommand, 'DescribeCertificates', i => this.describeCertificates(i));
    serve(DeleteCertificateCommand, 'DeleteCertificate', i => this.deleteCertificate(i));
    serve(AddTagsToResourceCommand, 'AddTagsToResource', i => this.addTags(i));
    serve(RemoveTagsFromResourceCommand, 'RemoveTagsFromResource', i => this.removeTags(i));
    serve(ListTagsForResourceCommand, 'ListTagsForResource', i => this.listTags(i));
    serve(DescribeEndpointsCommand, 'DescribeEndpoints', i => this.describeEndpoints(i));
    this.mock = mock;
  }

  public restore(): void {
    this.mock?.restore();
    this.mock = undefined;
  }

  /** Calls made since install. */
  public calls(): number {
    return this.log.length;
  }

  /** Write calls (import, delete, tag changes) made since install, or of one operation. */
  public writes(operation?: DmsOperation): number {
    return this.log.filter(c => WRITES.has(c.operation) && (operation === undefined || c.operation === operation)).length;
  }

  /** Calls of one operation. */
  public callsOf(operation: DmsOperation): Array<Record<string, unknown>> {
    return this.log.filter(c => c.operation === operation).map(c => c.input);
  }

  /** Makes the next call of `operation` fail with `error` (queue several for several failures). */
  public failNext(operation: DmsOperation, error: Error): void {
    this.failures.push({ operation, error });
  }

  /** The certificate named `identifier`, if any. */
  public byIdentifier(identifier: string): FakeDmsCertificate | undefined {
    return [...this.certificates.values()].find(c => c.identifier === identifier);
  }

  /** An endpoint that uses `certificateArn`; `releaseAfter` refusals later it lets go by itself. */
  public attachEndpoint(identifier: string, certificateArn: string, releaseAfter?: number): void {
    this.endpoints.set(identifier, {
      identifier,
      arn: `arn:aws:dms:${FAKE_REGION}:${FAKE_ACCOUNT}:endpoint:${fakeId()}`,
      certificateArn,
      releaseAfter,
    });
  }

  public detachEndpoint(identifier: string): void {
    const endpoint = this.endpoints.get(identifier);
    if (endpoint) {
      endpoint.certificateArn = undefined;
    }
  }

  /** Imports a certificate behind the handler's back (someone else's). */
  public seed(identifier: string, content: { pem?: string; wallet?: Uint8Array }): FakeDmsCertificate {
    return this.store({ CertificateIdentifier: identifier, CertificatePem: content.pem, CertificateWallet: content.wallet });
  }

  private importCertificate(input: {
    CertificateIdentifier?: string;
    CertificatePem?: string;
    CertificateWallet?: unknown;
    KmsKeyId?: string;
    Tags?: Array<{ Key?: string; Value?: string }>;
  }) {
    const id = input.CertificateIdentifier ?? '';
    if (!/^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}$/.test(id) || id.endsWith('-')) {
      throw serviceError('InvalidParameterValueException', `Invalid certificate identifier: ${id}`);
    }
    if ((input.CertificatePem === undefined) === (input.CertificateWallet === undefined)) {
      throw serviceError('InvalidParameterCombinationException', 'Exactly one of CertificatePem and CertificateWallet must be given');
    }
    if (input.CertificateWallet !== undefined && !(input.CertificateWallet instanceof Uint8Array)) {
      // The SDK types a blob as bytes; a string here would be base64-encoded a second time.
      throw new InvalidCertificateFault({ message: 'CertificateWallet must be binary', $metadata: metadata(400) });
    }
    if (input.CertificatePem !== undefined) {
      try {
        new X509Certificate(input.CertificatePem);
      } catch {
        throw new InvalidCertificateFault({ message: 'The certificate is not valid', $metadata: metadata(400) });
      }
    }
    if (this.byIdentifier(id)) {
      throw new ResourceAlreadyExistsFault({ message: `Certificate with identifier ${id} already exists`, $metadata: metadata(400) });
    }
    if (this.certificates.size >= this.quota) {
      throw new ResourceQuotaExceededFault({ message: 'Certificate quota exceeded', $metadata: metadata(400) });
    }
    if (input.KmsKeyId !== undefined && this.inaccessibleKeys.has(input.KmsKeyId)) {
      throw new KMSKeyNotAccessibleFault({ message: 'The specified KMS key is not accessible', $metadata: metadata(400) });
    }
    const stored = this.store(input as StoreInput);
    for (const tag of input.Tags ?? []) {
      stored.tags.set(tag.Key ?? '', tag.Value ?? '');
    }
    return { Certificate: this.describe(stored) };
  }

  private store(input: StoreInput): FakeDmsCertificate {
    const certificate: FakeDmsCertificate = {
      arn: `arn:aws:dms:${FAKE_REGION}:${FAKE_ACCOUNT}:cert:${fakeId()}`,
      identifier: input.CertificateIdentifier,
      pem: input.CertificatePem,
      wallet: input.CertificateWallet ? new Uint8Array(input.CertificateWallet) : undefined,
      kmsKeyId: this.dropKmsKeyId ? undefined : input.KmsKeyId,
      created: new Date(),
      tags: new Map(),
    };
    this.certificates.set(certificate.arn, certificate);
    return certificate;
  }

  private describe(c: FakeDmsCertificate) {
    const x509 = c.pem ? new X509Certificate(c.pem) : undefined;
    return {
      CertificateIdentifier: c.identifier,
      CertificateArn: c.arn,
      CertificateCreationDate: c.created,
      CertificatePem: c.pem,
      CertificateWallet: c.wallet ? new Uint8Array(c.wallet) : undefined,
      CertificateOwner: FAKE_ACCOUNT,
      ValidFromDate: x509 ? new Date(x509.validFrom) : undefined,
      ValidToDate: x509 ? new Date(x509.validTo) : undefined,
      SigningAlgorithm: x509 ? (x509.publicKey.asymmetricKeyType === 'ec' ? 'SHA256withECDSA' : 'SHA256withRSA') : undefined,
      KeyLength: x509?.publicKey.asymmetricKeyDetails?.modulusLength ?? (x509 ? 256 : undefined),
      KmsKeyId: c.kmsKeyId ?? `arn:aws:kms:${FAKE_REGION}:${FAKE_ACCOUNT}:key/default-dms`,
    };
  }

  private describeCertificates(input: { Filters?: Array<{ Name?: string; Values?: string[] }> }) {
    let found = [...this.certificates.values()];
    for (const filter of input.Filters ?? []) {
      const values = new Set(filter.Values ?? []);
      if (filter.Name === 'certificate-id') {
        found = found.filter(c => values.has(c.identifier));
      } else if (filter.Name === 'certificate-arn') {
        found = found.filter(c => values.has(c.arn));
      } else {
        throw serviceError('InvalidParameterValueException', `Unknown filter ${filter.Name}`);
      }
    }
    if (found.length === 0 && (input.Filters ?? []).length > 0) {
      throw new ResourceNotFoundFault({ message: 'No certificates found', $metadata: metadata(400) });
    }
    return { Certificates: found.map(c => this.describe(c)) };
  }

  private deleteCertificate(input: { CertificateArn?: string }) {
    const certificate = this.certificates.get(input.CertificateArn ?? '');
    if (!certificate) {
      throw new ResourceNotFoundFault({ message: 'Certificate not found', $metadata: metadata(400) });
    }
    const users = [...this.endpoints.values()].filter(e => e.certificateArn === certificate.arn);
    if (users.length > 0) {
      for (const user of users) {
        if (user.releaseAfter !== undefined && --user.releaseAfter <= 0) {
          user.certificateArn = undefined;
        }
      }
      throw new InvalidResourceStateFault({ message: 'Certificate is in use', $metadata: metadata(400) });
    }
    this.certificates.delete(certificate.arn);
    return { Certificate: this.describe(certificate) };
  }

  private tagsOf(arn: string | undefined): Map<string, string> {
    const certificate = this.certificates.get(arn ?? '');
    if (!certificate) {
      throw new ResourceNotFoundFault({ message: `Resource ${arn} not found`, $metadata: metadata(400) });
    }
    return certificate.tags;
  }

  private addTags(input: { ResourceArn?: string; Tags?: Array<{ Key?: string; Value?: string }> }) {
    const tags = this.tagsOf(input.ResourceArn);
    for (const tag of input.Tags ?? []) {
      tags.set(tag.Key ?? '', tag.Value ?? '');
    }
    return {};
  }

  private removeTags(input: { ResourceArn?: string; TagKeys?: string[] }) {
    const tags = this.tagsOf(input.ResourceArn);
    for (const key of input.TagKeys ?? []) {
      tags.delete(key);
    }
    return {};
  }

  private listTags(input: { ResourceArn?: string }) {
    const tags = this.tagsOf(input.ResourceArn);
    return { TagList: [...tags.entries()].map(([Key, Value]) => ({ Key, Value, ResourceArn: input.ResourceArn })) };
  }

  private describeEndpoints(input: { Marker?: string; MaxRecords?: number }) {
    const all = [...this.endpoints.values()];
    const start = input.Marker ? Number(input.Marker) : 0;
    const size = input.MaxRecords ?? 100;
    const page = all.slice(start, start + size);
    return {
      Endpoints: page.map(e => ({ EndpointIdentifier: e.identifier, EndpointArn: e.arn, CertificateArn: e.certificateArn })),
      Marker: start + size < all.length ? String(start + size) : undefined,
    };
  }
}

function fakeId(): string {
  // DMS resource IDs are upper-case letters and digits.
  return randomBytes(16).toString('hex').toUpperCase().slice(0, 26);
}

function serviceError(name: string, message: string): Error {
  return new DatabaseMigrationServiceServiceException({ name, $fault: 'client', message, $metadata: metadata(400) });
}
