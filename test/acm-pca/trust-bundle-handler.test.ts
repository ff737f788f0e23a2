/**
 * `Custom::PrivateCaTrustBundle` (lambda/private-ca/trust-bundle.ts) through the lifecycle harness,
 * over an in-memory versioned S3 behind aws-sdk-client-mock. The same suite drives the shipped
 * bundle from trust-bundle-handler.bundle.test.ts.
 */
import { createHash, X509Certificate } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  NoSuchBucket,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import * as source from '../../lambda/private-ca';
import type { PrivateCaTrustBundleResourceProperties } from '../../src/contract/private-ca';
import { makeIntermediateCa, makeLeaf, makeRootCa, TestCertificate } from '../support/fixtures/pki';
import { handlerUnderTest } from '../support/handler-under-test';
import { looseMock, LooseStub } from '../support/harness/fake-material';
import { CREATE_FAILED_PHYSICAL_ID, LifecycleDriver, MAX_RESPONSE_BYTES, standardSequences, stringifyProps } from '../support/harness/lifecycle';

const handler = handlerUnderTest('private-ca', source);
const { retryConfig, clock } = handler;

const DAY_MS = 86_400_000;
const CA_ARN = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';
const CA2_ARN = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/66666666-2222-3333-4444-555555555555';

interface StoredVersion {
  readonly versionId: string;
  readonly body?: string;
  readonly metadata?: Record<string, string>;
  readonly deleteMarker?: boolean;
}

/** A small S3 with versioning, enough for the trust bundle handler. */
class FakeS3 {
  public readonly buckets = new Map<string, { versioning?: 'Enabled' | 'Suspended'; objects: Map<string, StoredVersion[]> }>();
  public readonly log: string[] = [];
  private stub?: LooseStub;
  private counter = 0;

  public install(): void {
    this.stub = looseMock(S3Client);
    const on = (command: unknown, op: string, fn: (input: any) => unknown) =>
      this.stub!.on(command).callsFake(async (input: never) => {
        this.log.push(op);
        return fn(input);
      });
    on(ListObjectsV2Command, 'ListObjectsV2', (i) => ({
      Contents: [...this.bucket(i.Bucket).objects.entries()]
        .filter(([key, versions]) => key.startsWith(i.Prefix ?? '') && !versions.at(-1)!.deleteMarker)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .slice(0, i.MaxKeys ?? 1000)
        .map(([Key]) => ({ Key })),
    }));
    on(GetObjectCommand, 'GetObject', (i) => {
      const latest = this.bucket(i.Bucket).objects.get(i.Key)?.at(-1);
      if (!latest || latest.deleteMarker) {
        throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      }
      return {
        Body: { transformToString: async () => latest.body },
        Metadata: { ...latest.metadata },
        VersionId: latest.versionId,
      };
    });
    on(PutObjectCommand, 'PutObject', (i) => {
      const bucket = this.bucket(i.Bucket);
      const versionId = bucket.versioning === 'Enabled' ? `v${++this.counter}` : 'null';
      const versions = bucket.versioning === 'Enabled' ? bucket.objects.get(i.Key) ?? [] : [];
      // S3 lower-cases user metadata names.
      const metadata = Object.fromEntries(Object.entries(i.Metadata ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
      versions.push({ versionId, body: String(i.Body), metadata });
      bucket.objects.set(i.Key, versions);
      return bucket.versioning === 'Enabled' ? { VersionId: versionId } : {};
    });
    on(GetBucketVersioningCommand, 'GetBucketVersioning', (i) => ({ Status: this.bucket(i.Bucket).versioning }));
    on(ListObjectVersionsCommand, 'ListObjectVersions', (i) => {
      const entries = [...this.bucket(i.Bucket).objects.entries()].filter(([key]) => key.startsWith(i.Prefix ?? ''));
      const all = entries.flatMap(([Key, versions]) => versions.map((v) => ({ Key, VersionId: v.versionId, marker: v.deleteMarker })));
      return {
        Versions: all.filter((v) => !v.marker).map(({ Key, VersionId }) => ({ Key, VersionId })),
        DeleteMarkers: all.filter((v) => v.marker).map(({ Key, VersionId }) => ({ Key, VersionId })),
        IsTruncated: false,
      };
    });
    on(DeleteObjectCommand, 'DeleteObject', (i) => {
      const bucket = this.bucket(i.Bucket);
      const versions = bucket.objects.get(i.Key) ?? [];
      if (i.VersionId) {
        const left = versions.filter((v) => v.versionId !== i.VersionId);
        if (left.length === 0) {
          bucket.objects.delete(i.Key);
        } else {
          bucket.objects.set(i.Key, left);
        }
      } else {
        versions.push({ versionId: `m${++this.counter}`, deleteMarker: true });
        bucket.objects.set(i.Key, versions);
      }
      return {};
    });
  }

  public restore(): void {
    this.stub?.restore();
    this.stub = undefined;
  }

  public reset(): void {
    this.buckets.clear();
    this.log.length = 0;
  }

  public createBucket(name: string, versioning: 'Enabled' | 'Suspended' | 'Never' = 'Enabled'): void {
    this.buckets.set(name, { versioning: versioning === 'Never' ? undefined : versioning, objects: new Map() });
  }

  public versions(bucket: string, key: string): StoredVersion[] {
    return this.buckets.get(bucket)?.objects.get(key) ?? [];
  }

  public latest(bucket: string, key: string): StoredVersion | undefined {
    return this.versions(bucket, key).at(-1);
  }

  public writes(): number {
    return this.log.filter((op) => op === 'PutObject' || op === 'DeleteObject').length;
  }

  private bucket(name: string) {
    const bucket = this.buckets.get(name);
    if (!bucket) {
      throw new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: {} });
    }
    return bucket;
  }
}

const s3 = new FakeS3();
const realSleep = retryConfig.sleep;

let rootA: TestCertificate;
let subA: TestCertificate;
let rootB: TestCertificate;
let leaf: TestCertificate;

beforeAll(async () => {
  rootA = await makeRootCa({ commonName: 'Root A', keyAlgorithm: 'EC_P256' });
  subA = await makeIntermediateCa(rootA, { commonName: 'Issuing A', keyAlgorithm: 'EC_P256' });
  rootB = await makeRootCa({ commonName: 'Root B', keyAlgorithm: 'EC_P256' });
  leaf = await makeLeaf(subA, { keyAlgorithm: 'EC_P256' });
});

beforeEach(() => {
  s3.reset();
  s3.install();
  s3.createBucket('bundles');
  clock.offsetMs = 0;
  retryConfig.sleep = async () => undefined;
});

afterEach(() => {
  s3.restore();
  clock.offsetMs = 0;
  retryConfig.sleep = realSleep;
});

function driver(options: { stackId?: string; logicalResourceId?: string } = {}): LifecycleDriver<PrivateCaTrustBundleResourceProperties> {
  return new LifecycleDriver<PrivateCaTrustBundleResourceProperties>({
    handler,
    resourceType: 'Custom::PrivateCaTrustBundle',
    countApiCalls: () => s3.log.length,
    ...options,
  });
}

function props(chain: string, overrides: Partial<PrivateCaTrustBundleResourceProperties> = {}): PrivateCaTrustBundleResourceProperties {
  return stringifyProps({
    CertificateAuthorityArn: CA_ARN,
    CertificateChain: chain,
    Bucket: 'bundles',
    Key: 'bundle.pem',
    OverlapSeconds: String(30 * 86400),
    RemovalPolicy: 'destroy',
    ...overrides,
  } as PrivateCaTrustBundleResourceProperties);
}

/** The subjects' CNs of the certificates of a bundle body, in order. */
function namesIn(body: string | undefined): string[] {
  return (body ?? '').split(/(?<=-----END CERTIFICATE-----\n)/).filter((b) => b.trim() !== '')
    .map((pem) => /CN=([^,\n]+)/.exec(new X509Certificate(pem).subject)![1]);
}

const fingerprint = (cert: TestCertificate) => createHash('sha256').update(new X509Certificate(cert.certificatePem).raw).digest('hex');

// CloudFormation hands over the activation's chain as one string; ACM Private CA leaves out the final newline.
const chainOf = (...certs: TestCertificate[]) => certs.map((c) => c.certificatePem.trim()).join('\n');

describe('Custom::PrivateCaTrustBundle', () => {
  test('standard sequences: writes the chain, keeps a replaced CA in place, moves with its key, deletes every version', async () => {
    const d = driver();
    const steps = await standardSequences(d, {
      props: props(chainOf(subA, rootA)),
      changedInPlace: props(chainOf(rootB), { CertificateAuthorityArn: CA2_ARN }),
      replacing: props(chainOf(rootB), { CertificateAuthorityArn: CA2_ARN, Key: 'moved/bundle.pem' }),
      failingCreate: { props: props(chainOf(rootA), { Bucket: 'unversioned' }), arrange: () => s3.createBucket('unversioned', 'Never') },
      afterStep: (name, step) => {
        switch (name) {
          case 'create':
            expect(namesIn(s3.latest('bundles', 'bundle.pem')!.body)).toEqual(['Issuing A', 'Root A']);
            expect(s3.latest('bundles', 'bundle.pem')!.metadata).toEqual({
              'cdk-certificates-stack-id': step.event.StackId,
              'cdk-certificates-logical-id': 'Resource',
            });
            break;
          case 'retriedCreate':
          case 'updateNoChange':
            // What is there already: no second version.
            expect(s3.versions('bundles', 'bundle.pem')).toHaveLength(1);
            expect(s3.writes()).toBe(1);
            break;
          case 'updateInPlace':
            // The CA was replaced: the new one first, the old chain kept for the overlap.
            expect(s3.versions('bundles', 'bundle.pem')).toHaveLength(2);
            expect(namesIn(s3.latest('bundles', 'bundle.pem')!.body)).toEqual(['Root B', 'Issuing A', 'Root A']);
            break;
          case 'updateReplace':
            expect(namesIn(s3.latest('bundles', 'moved/bundle.pem')!.body)).toEqual(['Root B']);
            break;
          case 'deleteOld':
            expect(s3.versions('bundles', 'bundle.pem')).toEqual([]);
            expect(s3.versions('bundles', 'moved/bundle.pem')).toHaveLength(1);
            break;
          case 'delete':
            expect(s3.versions('bundles', 'moved/bundle.pem')).toEqual([]);
            break;
          case 'deleteAgain':
            // 3 puts, then 2 + 1 version deletes; nothing left to delete the second time.
            expect(s3.writes()).toBe(6);
            break;
          case 'failedCreate':
            // Refused before writing: nothing to clean up.
            expect(s3.versions('unversioned', 'bundle.pem')).toEqual([]);
            break;
        }
      },
    });
    expect(steps.create!.physicalResourceId).toBe('s3://bundles/bundle.pem');
    expect(steps.create!.data).toEqual({ VersionId: 'v1' });
    expect(steps.retriedCreate!.data).toEqual({ VersionId: 'v1' });
    expect(steps.updateNoChange!.data).toEqual({ VersionId: 'v1' });
    expect(steps.updateInPlace!.physicalResourceId).toBe('s3://bundles/bundle.pem');
    expect(steps.updateInPlace!.data).toEqual({ VersionId: 'v2' });
    expect(steps.updateReplace!.physicalResourceId).toBe('s3://bundles/moved/bundle.pem');
    expect(steps.failedCreate!.error!.message).toMatch(/^bucket: versioning is not enabled on bucket unversioned; trust stores pin a version/);
    expect(steps.rollbackDelete!.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
    d.assertNoLeak([]);
  });

  test('rotation: the old CA stays for the overlap, counted from its first supersession, then goes at the next update', async () => {
    const d = driver();
    const created = await d.create(props(chainOf(rootA)));
    const id = created.physicalResourceId!;
    const rotated = await d.update(id, props(chainOf(rootA)), props(chainOf(rootB)));
    expect(namesIn(s3.latest('bundles', 'bundle.pem')!.body)).toEqual(['Root B', 'Root A']);
    const supersededAt = Math.floor(Date.now() / 1000);
    const meta = s3.latest('bundles', 'bundle.pem')!.metadata!['cdk-certificates-superseded'];
    const [fp, since] = meta.split(':');
    expect(fp).toBe(fingerprint(rootA).slice(0, 32));
    expect(Math.abs(Number(since) - supersededAt)).toBeLessThanOrEqual(2);

    // 29 days on, an update (here, a longer overlap) keeps it, with its first supersession time.
    clock.offsetMs = 29 * DAY_MS;
    const later = await d.update(id, props(chainOf(rootB)), props(chainOf(rootB), { OverlapSeconds: String(30 * 86400 + 60) }));
    expect(later.error).toBeUndefined();
    expect(later.data).toEqual(rotated.data); // nothing changed: no new version
    expect(s3.latest('bundles', 'bundle.pem')!.metadata!['cdk-certificates-superseded']).toBe(meta);

    // Past the overlap, the next update drops it; the current CA stays.
    clock.offsetMs = 31 * DAY_MS;
    const dropped = await d.update(id, props(chainOf(rootB), { OverlapSeconds: String(30 * 86400 + 60) }), props(chainOf(rootB)));
    expect(dropped.data!.VersionId).not.toBe(rotated.data!.VersionId);
    expect(namesIn(s3.latest('bundles', 'bundle.pem')!.body)).toEqual(['Root B']);
    expect(s3.latest('bundles', 'bundle.pem')!.metadata!['cdk-certificates-superseded']).toBeUndefined();
    expect(s3.versions('bundles', 'bundle.pem')).toHaveLength(3);
  });

  test('a rollback to the old CA makes it current again and keeps the new one for the overlap', async () => {
    const d = driver();
    const id = (await d.create(props(chainOf(rootA)))).physicalResourceId!;
    await d.update(id, props(chainOf(rootA)), props(chainOf(rootB)));
    await d.update(id, props(chainOf(rootB)), props(chainOf(rootA)));
    expect(namesIn(s3.latest('bundles', 'bundle.pem')!.body)).toEqual(['Root A', 'Root B']);
    expect(s3.latest('bundles', 'bundle.pem')!.metadata!['cdk-certificates-superseded']).toMatch(new RegExp(`^${fingerprint(rootB).slice(0, 32)}:\\d+$`));
    // A zero overlap drops superseded certificates at once; never the current chain.
    await d.update(id, props(chainOf(rootA)), props(chainOf(rootA), { OverlapSeconds: '0' }));
    expect(namesIn(s3.latest('bundles', 'bundle.pem')!.body)).toEqual(['Root A']);
  });

  test('PEM text with CRLF, extra blank lines and repeated certificates is written canonical', async () => {
    const messy = `\r\n${rootA.certificatePem.replace(/\n/g, '\r\n')}\r\n\r\n${rootA.certificatePem}`;
    await driver().create(props(messy));
    expect(s3.latest('bundles', 'bundle.pem')!.body).toBe(new X509Certificate(rootA.certificatePem).toString().trim() + '\n');
  });

  test('a removal policy of retain keeps the bundle', async () => {
    const d = driver();
    const created = await d.create(props(chainOf(rootA), { RemovalPolicy: 'retain' }));
    const deleted = await d.delete(created.physicalResourceId!, props(chainOf(rootA), { RemovalPolicy: 'retain' }));
    expect(deleted.error).toBeUndefined();
    expect(s3.versions('bundles', 'bundle.pem')).toHaveLength(1);
  });

  test('an object another stack wrote is neither adopted, updated nor deleted', async () => {
    const other = driver({ stackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Other/0b1c2d3e-0000-0000-0000-000000000000' });
    await other.create(props(chainOf(rootA)));
    const d = driver();
    const create = await d.create(props(chainOf(rootB)));
    expect(create.error!.message).toMatch(/^keyPrefix: the object s3:\/\/bundles\/bundle.pem already exists and belongs to stack Other/);
    const update = await d.update('s3://bundles/bundle.pem', props(chainOf(rootA)), props(chainOf(rootB)));
    expect(update.error!.message).toMatch(/belongs to stack Other .* the handler will not change it/);
    const deleted = await d.delete('s3://bundles/bundle.pem', props(chainOf(rootA)));
    expect(deleted.error).toBeUndefined();
    expect(namesIn(s3.latest('bundles', 'bundle.pem')!.body)).toEqual(['Root A']);
    expect(s3.versions('bundles', 'bundle.pem')).toHaveLength(1);
  });

  test('an object deleted by hand is written again on update, with the chain it replaces; a bucket gone is a successful delete', async () => {
    const d = driver();
    const id = (await d.create(props(chainOf(rootA)))).physicalResourceId!;
    s3.buckets.get('bundles')!.objects.delete('bundle.pem');
    const updated = await d.update(id, props(chainOf(rootA)), props(chainOf(rootB)));
    expect(updated.error).toBeUndefined();
    expect(namesIn(s3.latest('bundles', 'bundle.pem')!.body)).toEqual(['Root B', 'Root A']);
    s3.buckets.delete('bundles');
    const deleted = await d.delete(id, props(chainOf(rootB)));
    expect(deleted.error).toBeUndefined();
  });

  test('a bundle changed by hand into something else is replaced by the chain', async () => {
    const d = driver();
    const id = (await d.create(props(chainOf(rootA)))).physicalResourceId!;
    s3.versions('bundles', 'bundle.pem').push({ versionId: 'hand', body: 'not a pem', metadata: {} });
    const updated = await d.update(id, props(chainOf(rootA)), props(chainOf(rootB)));
    expect(updated.error).toBeUndefined();
    expect(namesIn(s3.latest('bundles', 'bundle.pem')!.body)).toEqual(['Root B', 'Root A']);
  });

  test('a bundle that moves while its CA is replaced takes the chain it replaces along for the overlap', async () => {
    const d = driver();
    const id = (await d.create(props(chainOf(subA, rootA)))).physicalResourceId!;
    const moved = await d.update(id, props(chainOf(subA, rootA)), props(chainOf(rootB), { Key: 'next/bundle.pem' }));
    expect(moved.physicalResourceId).toBe('s3://bundles/next/bundle.pem');
    expect(namesIn(s3.latest('bundles', 'next/bundle.pem')!.body)).toEqual(['Root B', 'Issuing A', 'Root A']);
    // The old object is CloudFormation's to delete, in the cleanup.
    expect(s3.versions('bundles', 'bundle.pem')).toHaveLength(1);
  });

  test('bad input names the property and writes nothing', async () => {
    const d = driver();
    const cases: Array<[Partial<PrivateCaTrustBundleResourceProperties>, RegExp]> = [
      [{ CertificateChain: 'junk' }, /^certificateChain: is not PEM text/],
      [{ CertificateChain: chainOf(leaf, subA) }, /^certificateChain: certificate 1 \(CN=www.example.com\) is not a CA certificate/],
      [{ OverlapSeconds: '-1' }, /^overlap: must be whole seconds from 0 to 3650 days, got -1 seconds/],
      [{ Key: 'x.pem' }, /^keyPrefix: the object key must end with 'bundle.pem'/],
      [{ Key: '/abs/bundle.pem' }, /^keyPrefix: must not begin with '\/'/],
      [{ Bucket: 'Bad_Bucket' }, /^bucket: 'Bad_Bucket' is not an S3 bucket name/],
      [{ Bucket: 'missing' }, /^bucket \(s3:\/\/missing\/bundle.pem\) \(ListObjectsV2\): the bucket does not exist/],
      [{ RemovalPolicy: 'keep' as never }, /^removalPolicy: must be 'retain' or 'destroy'/],
      [{ CertificateAuthorityArn: 'arn:nope' }, /^certificateAuthorityArn: 'arn:nope' is not a private CA ARN/],
    ];
    for (const [overrides, message] of cases) {
      const step = await d.create(props(chainOf(rootA), overrides));
      expect(step.error?.message).toMatch(message);
    }
    expect(s3.writes()).toBe(0);
  });

  test('the response is the version only, far under 4096 bytes with the longest key', async () => {
    const key = `${'k/'.repeat(470)}bundle.pem`;
    expect(Buffer.byteLength(key)).toBe(950);
    const d = driver({ logicalResourceId: 'L'.repeat(255) });
    const bucket = 'b'.repeat(63);
    s3.createBucket(bucket);
    const step = await d.create(props(chainOf(subA, rootA), { Bucket: bucket, Key: key }));
    expect(step.error).toBeUndefined();
    expect(Object.keys(step.data!)).toEqual(['VersionId']);
    expect(step.physicalResourceId!.length).toBeLessThanOrEqual(1024);
    const body = JSON.stringify({
      Status: 'SUCCESS',
      Reason: 'SUCCESS',
      StackId: step.event.StackId,
      RequestId: step.requestId,
      PhysicalResourceId: step.physicalResourceId,
      LogicalResourceId: step.event.LogicalResourceId,
      Data: step.data,
    });
    // Measured: the largest response (longest key and logical ID) stays far below the limit.
    expect(Buffer.byteLength(body)).toBeLessThan(MAX_RESPONSE_BYTES / 2);
  });
});
