import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, NoSuchBucket, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';

/** Region and account the fake ARNs use. */
export const FAKE_REGION = 'us-east-1';
export const FAKE_ACCOUNT = '123456789012';

/** The reads the store serves, for {@link FakeMaterialStore.failNext}. */
export type MaterialOperation = 'GetSecretValue' | 'GetParameter' | 'GetObject';

interface StoredSecret {
  readonly arn: string;
  readonly name: string;
  readonly versionId: string;
  readonly text?: string;
  readonly binary?: Uint8Array;
}

interface StoredParameter {
  readonly name: string;
  readonly value: string;
  readonly secure: boolean;
}

const metadata = (httpStatusCode: number) => ({ httpStatusCode, requestId: randomBytes(8).toString('hex'), attempts: 1, totalRetryDelay: 0 });

/** The part of aws-sdk-client-mock's stub used here. */
export interface LooseStub {
  on(command: unknown): { callsFake(fn: (input: never) => unknown): unknown };
  calls(): unknown[];
  restore(): void;
}

/**
 * `mockClient` without its generic types. The hoisted `@smithy/types` that aws-sdk-client-mock
 * resolves (2.x, pulled in by client-acm-pca 3.523.0) differs from the one the newer clients use
 * (4.x), so the typed overloads reject the client classes although the runtime stub works.
 */
export function looseMock(client: unknown): LooseStub {
  return mockClient(client as never) as unknown as LooseStub;
}

/**
 * An in-memory Secrets Manager + SSM Parameter Store + S3 behind `aws-sdk-client-mock`, so handler
 * code reads material through the real SDK v3 clients and commands. Missing things fail as the
 * services do, with the SDK's own exception classes (ResourceNotFoundException, ParameterNotFound,
 * NoSuchKey, NoSuchBucket).
 */
export class FakeMaterialStore {
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly parameters = new Map<string, StoredParameter>();
  private readonly buckets = new Map<string, Map<string, Uint8Array>>();
  private readonly secretObjects = new Set<string>();
  private readonly failures: Array<{ operation: MaterialOperation; error: Error }> = [];
  private mocks: Array<{ calls(): unknown[]; restore(): void }> = [];

  /**
   * Stores a secret (an object is stored as its JSON; a Uint8Array as SecretBinary) and returns its
   * ARN. The secret can then be read by name or ARN.
   */
  public putSecret(id: string, value: string | object): string {
    const suffix = randomBytes(3).toString('hex');
    const arn = id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${FAKE_REGION}:${FAKE_ACCOUNT}:secret:${id}-${suffix}`;
    const name = id.startsWith('arn:') ? id.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, '') ?? id : id;
    const stored: StoredSecret = value instanceof Uint8Array
      ? { arn, name, versionId: randomBytes(16).toString('hex'), binary: new Uint8Array(value) }
      : { arn, name, versionId: randomBytes(16).toString('hex'), text: typeof value === 'string' ? value : JSON.stringify(value) };
    this.secrets.set(name, stored);
    return arn;
  }

  /** Stores an SSM parameter; `secure` makes it a SecureString (only readable with decryption). */
  public putParameter(name: string, value: string, secure = false): void {
    this.parameters.set(name, { name, value, secure });
  }

  /** Stores an S3 object (the bucket is created if new); `secret` adds it to {@link secretValues} as base64. */
  public putObject(bucket: string, key: string, bytes: Uint8Array, options: { secret?: boolean } = {}): void {
    if (!this.buckets.has(bucket)) {
      this.buckets.set(bucket, new Map());
    }
    this.buckets.get(bucket)!.set(key, new Uint8Array(bytes));
    if (options.secret) {
      this.secretObjects.add(`${bucket}/${key}`);
    }
  }

  /** Creates an empty bucket (so a missing key is NoSuchKey rather than NoSuchBucket). */
  public putBucket(bucket: string): void {
    if (!this.buckets.has(bucket)) {
      this.buckets.set(bucket, new Map());
    }
  }

  /** Makes the next call of `operation` fail with `error` (queue several for several failures). */
  public failNext(operation: MaterialOperation, error: Error): void {
    this.failures.push({ operation, error });
  }

  /** Plugs the store into the SDK clients (every instance, including ones made at module scope). */
  public install(): void {
    this.restore();
    const sm = looseMock(SecretsManagerClient);
    sm.on(GetSecretValueCommand).callsFake(async (input: { SecretId?: string }) => this.getSecretValue(input));
    const ssm = looseMock(SSMClient);
    ssm.on(GetParameterCommand).callsFake(async (input: { Name?: string; WithDecryption?: boolean }) => this.getParameter(input));
    const s3 = looseMock(S3Client);
    s3.on(GetObjectCommand).callsFake(async (input: { Bucket?: string; Key?: string }) => this.getObject(input));
    this.mocks = [sm, ssm, s3];
  }

  /** Restores the real SDK clients. */
  public restore(): void {
    for (const mock of this.mocks) {
      mock.restore();
    }
    this.mocks = [];
  }

  /** Calls the handler made to the three services since {@link install}. */
  public calls(): number {
    return this.mocks.reduce((n, mock) => n + mock.calls().length, 0);
  }

  /**
   * Every secret value held, for leak assertions: whole secret strings, each string field of a JSON
   * secret, SecureString values and secret objects (base64). Values that are only PEM certificates
   * (public, and legitimately returned or logged by handlers) are left out.
   */
  public secretValues(): string[] {
    const values = new Set<string>();
    for (const secret of this.secrets.values()) {
      if (secret.text !== undefined) {
        values.add(secret.text);
        for (const field of jsonStringFields(secret.text)) {
          values.add(field);
        }
      }
      if (secret.binary !== undefined) {
        values.add(Buffer.from(secret.binary).toString('base64'));
      }
    }
    for (const parameter of this.parameters.values()) {
      if (parameter.secure) {
        values.add(parameter.value);
      }
    }
    for (const path of this.secretObjects) {
      const [bucket, ...key] = path.split('/');
      const bytes = this.buckets.get(bucket)?.get(key.join('/'));
      if (bytes) {
        values.add(Buffer.from(bytes).toString('base64'));
      }
    }
    return [...values].filter((v) => !isOnlyCertificates(v));
  }

  private takeFailure(operation: MaterialOperation): void {
    const index = this.failures.findIndex((f) => f.operation === operation);
    if (index >= 0) {
      const [failure] = this.failures.splice(index, 1);
      throw failure.error;
    }
  }

  private findSecret(id: string): StoredSecret | undefined {
    for (const secret of this.secrets.values()) {
      // Secrets Manager accepts the name, the full ARN, or the ARN without its random suffix.
      if (id === secret.name || id === secret.arn || secret.arn.startsWith(`${id}-`)) {
        return secret;
      }
    }
    return undefined;
  }

  private getSecretValue(input: { SecretId?: string }) {
    this.takeFailure('GetSecretValue');
    const secret = input.SecretId ? this.findSecret(input.SecretId) : undefined;
    if (!secret) {
      throw new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret.', $metadata: metadata(400) });
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: secret.versionId,
      VersionStages: ['AWSCURRENT'],
      SecretString: secret.text,
      SecretBinary: secret.binary ? new Uint8Array(secret.binary) : undefined,
      CreatedDate: new Date(0),
      $metadata: metadata(200),
    };
  }

  private getParameter(input: { Name?: string; WithDecryption?: boolean }) {
    this.takeFailure('GetParameter');
    const parameter = parameterNames(input.Name ?? '').map((n) => this.parameters.get(n)).find((p) => p !== undefined);
    if (!parameter) {
      throw new ParameterNotFound({ message: '', $metadata: metadata(400) });
    }
    const decrypt = parameter.secure && input.WithDecryption === true;
    return {
      Parameter: {
        Name: parameter.name,
        Type: parameter.secure ? 'SecureString' : 'String',
        // Without decryption SSM returns the ciphertext of a SecureString.
        Value: parameter.secure && !decrypt ? fakeCiphertext(parameter.value) : parameter.value,
        Version: 1,
        ARN: `arn:aws:ssm:${FAKE_REGION}:${FAKE_ACCOUNT}:parameter/${parameter.name.replace(/^\//, '')}`,
        DataType: 'text',
        LastModifiedDate: new Date(0),
      },
      $metadata: metadata(200),
    };
  }

  private getObject(input: { Bucket?: string; Key?: string }) {
    this.takeFailure('GetObject');
    const bucket = this.buckets.get(input.Bucket ?? '');
    if (!bucket) {
      throw new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: metadata(404) });
    }
    const bytes = bucket.get(input.Key ?? '');
    if (!bytes) {
      throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: metadata(404) });
    }
    return { Body: fakeBody(bytes), ContentLength: bytes.byteLength, $metadata: metadata(200) };
  }
}

// SSM accepts a parameter's name or its ARN (which shows a hierarchical name's leading slash
// once: `parameter/a/b` for `/a/b`, `parameter/ab` for `ab`).
function parameterNames(nameOrArn: string): string[] {
  const match = /^arn:[^:]+:ssm:[^:]*:[^:]*:parameter(\/.*)$/.exec(nameOrArn);
  return match ? [match[1], match[1].slice(1)] : [nameOrArn];
}

function isOnlyCertificates(value: string): boolean {
  const withoutCerts = value.replace(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g, '');
  return withoutCerts !== value && withoutCerts.trim().length === 0;
}

function fakeCiphertext(value: string): string {
  return `AQICAH${createHash('sha256').update(value).digest('base64')}`;
}

function jsonStringFields(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.values(parsed as Record<string, unknown>).filter((v): v is string => typeof v === 'string' && v.length > 0);
    }
  } catch {
    // Not JSON: the whole string is the value.
  }
  return [];
}

// The parts of the SDK's streaming body that handlers use; each read returns a fresh copy.
function fakeBody(bytes: Uint8Array) {
  const copy = () => new Uint8Array(bytes);
  return {
    transformToByteArray: async () => copy(),
    transformToString: async (encoding = 'utf-8') => new TextDecoder(encoding).decode(copy()),
    transformToWebStream: () => new Blob([copy()]).stream(),
  };
}
