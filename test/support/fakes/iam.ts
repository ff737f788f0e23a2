import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import {
  DeleteConflictException,
  DeleteServerCertificateCommand,
  EntityAlreadyExistsException,
  GetServerCertificateCommand,
  IAMClient,
  KeyPairMismatchException,
  ListServerCertificateTagsCommand,
  MalformedCertificateException,
  NoSuchEntityException,
  TagServerCertificateCommand,
  UntagServerCertificateCommand,
  UpdateServerCertificateCommand,
  UploadServerCertificateCommand,
} from '@aws-sdk/client-iam';
import { LooseStub, looseMock } from '../harness/fake-material';

export const ACCOUNT = '123456789012';

export interface FakeServerCertificate {
  name: string;
  path: string;
  id: string;
  body: string;
  chain?: string;
  tags: Map<string, string>;
  uploadDate: Date;
  expiration: Date;
}

const WRITES = new Set(['UploadServerCertificate', 'UpdateServerCertificate', 'DeleteServerCertificate', 'TagServerCertificate', 'UntagServerCertificate']);

/**
 * A stateful in-memory IAM (server certificates only) behind aws-sdk-client-mock: names are
 * unique, the key must match the certificate, deleted means gone, and a certificate marked in
 * use refuses deletion with DeleteConflict.
 */
export class FakeIam {
  public readonly certificates = new Map<string, FakeServerCertificate>();
  /** Certificate name -> what uses it (DeleteConflict while present). */
  public readonly inUse = new Map<string, string>();
  /** Every call, in order, by operation name. */
  public readonly log: string[] = [];
  /** Errors to throw on the next calls of an operation, in order. */
  private readonly faults = new Map<string, Error[]>();
  private stub?: LooseStub;

  public install(): this {
    const stub = looseMock(IAMClient);
    this.stub = stub;
    stub.on(UploadServerCertificateCommand).callsFake((input: UploadServerCertificateCommand['input']) => this.run('UploadServerCertificate', () => this.upload(input)));
    stub.on(GetServerCertificateCommand).callsFake((input: GetServerCertificateCommand['input']) => this.run('GetServerCertificate', () => {
      const c = this.find(input.ServerCertificateName);
      return {
        ServerCertificate: {
          ServerCertificateMetadata: this.metadata(c),
          CertificateBody: c.body,
          CertificateChain: c.chain,
          Tags: [...c.tags].map(([Key, Value]) => ({ Key, Value })),
        },
      };
    }));
    stub.on(ListServerCertificateTagsCommand).callsFake((input: ListServerCertificateTagsCommand['input']) => this.run('ListServerCertificateTags', () => ({
      Tags: [...this.find(input.ServerCertificateName).tags].map(([Key, Value]) => ({ Key, Value })),
    })));
    stub.on(UpdateServerCertificateCommand).callsFake((input: UpdateServerCertificateCommand['input']) => this.run('UpdateServerCertificate', () => {
      const c = this.find(input.ServerCertificateName);
      if (input.NewPath) c.path = input.NewPath;
      if (input.NewServerCertificateName) {
        this.certificates.delete(c.name);
        c.name = input.NewServerCertificateName;
        this.certificates.set(c.name, c);
      }
      return {};
    }));
    stub.on(TagServerCertificateCommand).callsFake((input: TagServerCertificateCommand['input']) => this.run('TagServerCertificate', () => {
      const c = this.find(input.ServerCertificateName);
      for (const t of input.Tags ?? []) c.tags.set(t.Key!, t.Value!);
      return {};
    }));
    stub.on(UntagServerCertificateCommand).callsFake((input: UntagServerCertificateCommand['input']) => this.run('UntagServerCertificate', () => {
      const c = this.find(input.ServerCertificateName);
      for (const k of input.TagKeys ?? []) c.tags.delete(k);
      return {};
    }));
    stub.on(DeleteServerCertificateCommand).callsFake((input: DeleteServerCertificateCommand['input']) => this.run('DeleteServerCertificate', () => {
      const c = this.find(input.ServerCertificateName);
      const user = this.inUse.get(c.name);
      if (user) {
        throw new DeleteConflictException({ message: `Certificate: ${c.id} is currently in use by ${user}. Please remove it first before deleting it.`, $metadata: {} });
      }
      this.certificates.delete(c.name);
      return {};
    }));
    return this;
  }

  public restore(): void {
    this.stub?.restore();
  }

  /** Queues an error for the next call(s) of `operation`. */
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

  public arn(c: FakeServerCertificate): string {
    return `arn:aws:iam::${ACCOUNT}:server-certificate${c.path}${c.name}`;
  }

  private run<T>(operation: string, fn: () => T): T {
    this.log.push(operation);
    const queued = this.faults.get(operation);
    if (queued && queued.length > 0) {
      throw queued.shift();
    }
    return fn();
  }

  private find(name: string | undefined): FakeServerCertificate {
    const c = name === undefined ? undefined : this.certificates.get(name);
    if (!c) {
      throw new NoSuchEntityException({ message: `The Server Certificate with name ${name} cannot be found.`, $metadata: {} });
    }
    return c;
  }

  private upload(input: UploadServerCertificateCommand['input']) {
    const name = input.ServerCertificateName!;
    if (this.certificates.has(name)) {
      throw new EntityAlreadyExistsException({ message: `The Server Certificate with name ${name} already exists.`, $metadata: {} });
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(input.CertificateBody!);
    } catch {
      throw new MalformedCertificateException({ message: 'Unable to parse certificate. Please ensure the certificate is in PEM format.', $metadata: {} });
    }
    const keySpki = createPublicKey(createPrivateKey(input.PrivateKey!)).export({ type: 'spki', format: 'der' });
    if (!keySpki.equals(cert.publicKey.export({ type: 'spki', format: 'der' }))) {
      throw new KeyPairMismatchException({ message: 'The public key in the certificate does not match the private key.', $metadata: {} });
    }
    const c: FakeServerCertificate = {
      name,
      path: input.Path ?? '/',
      id: `ASCA${randomBytes(9).toString('hex').toUpperCase().slice(0, 17)}`,
      body: input.CertificateBody!,
      chain: input.CertificateChain,
      tags: new Map((input.Tags ?? []).map(t => [t.Key!, t.Value!])),
      uploadDate: new Date(),
      expiration: new Date(cert.validTo),
    };
    this.certificates.set(name, c);
    return { ServerCertificateMetadata: this.metadata(c), Tags: input.Tags };
  }

  private metadata(c: FakeServerCertificate) {
    return {
      Path: c.path,
      ServerCertificateName: c.name,
      ServerCertificateId: c.id,
      Arn: this.arn(c),
      UploadDate: c.uploadDate,
      Expiration: c.expiration,
    };
  }
}
