import { createPrivateKey, createPublicKey, randomUUID, X509Certificate } from 'node:crypto';
import {
  ACMClient,
  AddTagsToCertificateCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  GetCertificateCommand,
  ImportCertificateCommand,
  ListCertificatesCommand,
  ListTagsForCertificateCommand,
  RemoveTagsFromCertificateCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TooManyTagsException,
  ValidationException,
} from '@aws-sdk/client-acm';
import { checkAcmCertificate, reimportProblems } from '../../src/contract/acm-certificate';
import { LooseStub, looseMock } from '../support/harness/fake-material';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export interface FakeAcmCertificate {
  arn: string;
  certificate: string;
  chain?: string;
  keyAlgorithm: string;
  notBefore: Date;
  notAfter: Date;
  tags: Map<string, string>;
  importedAt: Date;
  /** How many times it was imported (1 + re-imports). */
  imports: number;
}

const WRITES = new Set(['ImportCertificate', 'AddTagsToCertificate', 'RemoveTagsFromCertificate', 'DeleteCertificate']);
/** What ListCertificates returns without Includes.keyTypes (AWS's documented default). */
const DEFAULT_KEY_TYPES = ['RSA_1024', 'RSA_2048'];

const text = (value: Uint8Array | string | undefined): string | undefined =>
  value === undefined ? undefined : typeof value === 'string' ? value : Buffer.from(value).toString('utf8');

/**
 * A stateful in-memory ACM (imported certificates) behind aws-sdk-client-mock, as AWS documents
 * it: ARNs are random; the key must match; expired or not-yet-valid certificates are refused; a
 * re-import keeps the ARN and the tags, takes no tags, and follows the re-import rules (same key
 * algorithm, Key Usage / Extended Key Usage values kept); ListCertificates lists only RSA_1024 and
 * RSA_2048 unless asked for other key types; a certificate marked in use refuses deletion.
 */
export class FakeAcm {
  public readonly certificates = new Map<string, FakeAcmCertificate>();
  /** ARN -> what uses it (ResourceInUseException while present). */
  public readonly inUse = new Map<string, string[]>();
  public readonly log: string[] = [];
  private readonly faults = new Map<string, Error[]>();
  private stub?: LooseStub;

  public install(): this {
    const stub = looseMock(ACMClient);
    this.stub = stub;
    stub.on(ImportCertificateCommand).callsFake((input: ImportCertificateCommand['input']) => this.run('ImportCertificate', () => this.import(input)));
    stub.on(GetCertificateCommand).callsFake((input: GetCertificateCommand['input']) => this.run('GetCertificate', () => {
      const c = this.find(input.CertificateArn);
      return { Certificate: c.certificate, CertificateChain: c.chain };
    }));
    stub.on(DescribeCertificateCommand).callsFake((input: DescribeCertificateCommand['input']) => this.run('DescribeCertificate', () => {
      const c = this.find(input.CertificateArn);
      return { Certificate: { ...this.summary(c), InUseBy: this.inUse.get(c.arn) ?? [] } };
    }));
    stub.on(ListCertificatesCommand).callsFake((input: ListCertificatesCommand['input']) => this.run('ListCertificates', () => {
      const keyTypes: string[] = (input.Includes?.keyTypes as string[] | undefined) ?? DEFAULT_KEY_TYPES;
      return { CertificateSummaryList: [...this.certificates.values()].filter(c => keyTypes.includes(c.keyAlgorithm)).map(c => this.summary(c)) };
    }));
    stub.on(ListTagsForCertificateCommand).callsFake((input: ListTagsForCertificateCommand['input']) => this.run('ListTagsForCertificate', () => ({
      Tags: [...this.find(input.CertificateArn).tags].map(([Key, Value]) => ({ Key, Value })),
    })));
    stub.on(AddTagsToCertificateCommand).callsFake((input: AddTagsToCertificateCommand['input']) => this.run('AddTagsToCertificate', () => {
      const c = this.find(input.CertificateArn);
      const next = new Map(c.tags);
      for (const t of input.Tags ?? []) next.set(t.Key!, t.Value ?? '');
      if (next.size > 50) throw new TooManyTagsException({ message: 'the TagSet contains too many Tags', $metadata: {} });
      c.tags = next;
      return {};
    }));
    stub.on(RemoveTagsFromCertificateCommand).callsFake((input: RemoveTagsFromCertificateCommand['input']) => this.run('RemoveTagsFromCertificate', () => {
      const c = this.find(input.CertificateArn);
      for (const t of input.Tags ?? []) c.tags.delete(t.Key!);
      return {};
    }));
    stub.on(DeleteCertificateCommand).callsFake((input: DeleteCertificateCommand['input']) => this.run('DeleteCertificate', () => {
      const c = this.find(input.CertificateArn);
      if ((this.inUse.get(c.arn) ?? []).length > 0) {
        throw new ResourceInUseException({ message: `Certificate ${c.arn} in use.`, $metadata: {} });
      }
      this.certificates.delete(c.arn);
      return {};
    }));
    return this;
  }

  public restore(): void {
    this.stub?.restore();
  }

  public failNext(operation: string, error: Error): void {
    const list = this.faults.get(operation) ?? [];
    list.push(error);
    this.faults.set(operation, list);
  }

  public calls(): number {
    return this.log.length;
  }

  public writeCalls(): number {
    return this.log.filter(op => WRITES.has(op)).length;
  }

  private run<T>(operation: string, fn: () => T): T {
    this.log.push(operation);
    const queued = this.faults.get(operation);
    if (queued && queued.length > 0) {
      throw queued.shift();
    }
    return fn();
  }

  private find(arn: string | undefined): FakeAcmCertificate {
    const c = arn === undefined ? undefined : this.certificates.get(arn);
    if (!c) {
      throw new ResourceNotFoundException({ message: `Could not find certificate ${arn}.`, $metadata: {} });
    }
    return c;
  }

  private summary(c: FakeAcmCertificate) {
    const cert = new X509Certificate(c.certificate);
    return {
      CertificateArn: c.arn,
      DomainName: /CN=([^\n]+)/.exec(cert.subject)?.[1],
      Type: 'IMPORTED' as const,
      Status: 'ISSUED' as const,
      KeyAlgorithm: c.keyAlgorithm as never,
      NotBefore: c.notBefore,
      NotAfter: c.notAfter,
      ImportedAt: c.importedAt,
      InUse: (this.inUse.get(c.arn) ?? []).length > 0,
    };
  }

  private invalid(message: string): never {
    throw new ValidationException({ message, $metadata: {} });
  }

  private import(input: ImportCertificateCommand['input']) {
    const pem = text(input.Certificate) ?? this.invalid('Certificate is required');
    const keyPem = text(input.PrivateKey) ?? this.invalid('PrivateKey is required');
    const chain = text(input.CertificateChain);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch {
      return this.invalid('The certificate field contains more than one certificate or is not a valid certificate.');
    }
    let facts;
    try {
      facts = checkAcmCertificate(pem, 'certificate');
    } catch {
      return this.invalid('The certificate is not supported by ACM.');
    }
    if (Buffer.byteLength(keyPem) > 5120) this.invalid('The private key is larger than 5 KB.');
    let keySpki: Buffer;
    try {
      keySpki = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    } catch {
      return this.invalid('The private key is not supported.');
    }
    if (!keySpki.equals(cert.publicKey.export({ type: 'spki', format: 'der' }))) {
      this.invalid('The private key does not match the certificate.');
    }
    const now = Date.now();
    if (new Date(cert.validTo).getTime() < now) this.invalid('The certificate has expired.');
    if (new Date(cert.validFrom).getTime() > now) this.invalid('The certificate is not yet valid.');

    if (input.CertificateArn !== undefined) {
      const existing = this.find(input.CertificateArn);
      if (input.Tags !== undefined && input.Tags.length > 0) {
        this.invalid('Tags cannot be specified when reimporting a certificate.');
      }
      const problems = reimportProblems(checkAcmCertificate(existing.certificate, 'certificate'), facts);
      if (problems.length > 0) {
        this.invalid(`The certificate cannot be reimported: ${problems.join('; ')}`);
      }
      Object.assign(existing, {
        certificate: pem,
        chain,
        keyAlgorithm: facts.keyAlgorithm,
        notBefore: new Date(cert.validFrom),
        notAfter: new Date(cert.validTo),
        importedAt: new Date(),
        imports: existing.imports + 1,
      });
      return { CertificateArn: existing.arn };
    }
    if ((input.Tags ?? []).length > 50) {
      throw new TooManyTagsException({ message: 'the TagSet contains too many Tags', $metadata: {} });
    }
    const arn = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/${randomUUID()}`;
    this.certificates.set(arn, {
      arn,
      certificate: pem,
      chain,
      keyAlgorithm: facts.keyAlgorithm,
      notBefore: new Date(cert.validFrom),
      notAfter: new Date(cert.validTo),
      tags: new Map((input.Tags ?? []).map(t => [t.Key!, t.Value ?? ''])),
      importedAt: new Date(),
      imports: 1,
    });
    return { CertificateArn: arn };
  }
}
