/**
 * The shipped private-ca bundle serving `Custom::PrivateCaTrustBundle`, run as Lambda runs it,
 * against moto's S3 over HTTP with the real AWS SDK v3. The CA certificates are those of real moto
 * ACM Private CAs (the handler itself calls no ACM Private CA API: the chain comes from the template).
 *
 * moto deviation met here: moto does not enforce IAM, so the handler role's limits (this object
 * only, a listing limited to its key) are checked by the construct tests, not here.
 */
import { X509Certificate } from 'node:crypto';
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { PrivateCaTrustBundleResourceProperties } from '../../src/contract/private-ca';
import { LifecycleDriver, stringifyProps } from '../support/harness/lifecycle';
import { awsEnvironment, LambdaRuntime } from '../support/lambda-runtime';
import { MOTO_CREDENTIALS, MOTO_REGION, MotoServer, motoClientConfig, processExists, startMoto } from '../support/moto';
import { createRootCa, MotoCa } from '../support/moto-pca';

const DAY_MS = 86_400_000;

let moto: MotoServer;
let runtime: LambdaRuntime<PrivateCaTrustBundleResourceProperties>;
let pca: ACMPCAClient;
let s3: S3Client;
let caA: MotoCa;
let caB: MotoCa;

beforeAll(async () => {
  moto = await startMoto();
  const config = motoClientConfig(moto);
  pca = new ACMPCAClient(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  runtime = await LambdaRuntime.start<PrivateCaTrustBundleResourceProperties>({
    kind: 'private-ca',
    env: awsEnvironment(moto.url, MOTO_REGION, MOTO_CREDENTIALS),
  });
});

afterAll(async () => {
  const pids = [runtime?.pid, moto?.pid].filter((p): p is number => p !== undefined);
  await runtime?.stop();
  await moto?.stop();
  pca?.destroy();
  s3?.destroy();
  expect(pids.filter(processExists)).toEqual([]);
});

beforeEach(async () => {
  await moto.reset();
  await runtime.setSettings({ offsetMs: 0 }, 'clock');
  [caA, caB] = await Promise.all([createRootCa(pca, 'Root A'), createRootCa(pca, 'Root B')]);
  await s3.send(new CreateBucketCommand({ Bucket: 'bundles' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'bundles', VersioningConfiguration: { Status: 'Enabled' } }));
});

function driver(): LifecycleDriver<PrivateCaTrustBundleResourceProperties> {
  return new LifecycleDriver({ handler: runtime.handler, resourceType: 'Custom::PrivateCaTrustBundle', countApiCalls: () => runtime.calls.length });
}

function props(ca: MotoCa, overrides: Partial<PrivateCaTrustBundleResourceProperties> = {}): PrivateCaTrustBundleResourceProperties {
  return stringifyProps({
    CertificateAuthorityArn: ca.arn,
    // As CloudFormation hands over a root's certificate attribute: no final newline.
    CertificateChain: ca.certificatePem!.trim(),
    Bucket: 'bundles',
    Key: 'pki/bundle.pem',
    OverlapSeconds: String(30 * 86400),
    RemovalPolicy: 'destroy',
    ...overrides,
  } as PrivateCaTrustBundleResourceProperties);
}

async function published(): Promise<{ body: string; versionId?: string; metadata: Record<string, string> }> {
  const got = await s3.send(new GetObjectCommand({ Bucket: 'bundles', Key: 'pki/bundle.pem' }));
  return { body: await got.Body!.transformToString(), versionId: got.VersionId, metadata: got.Metadata ?? {} };
}

/** The certificates of a bundle body, as fingerprints. */
const fingerprints = (body: string) => body.split(/(?<=-----END CERTIFICATE-----\n)/).filter((b) => b.trim() !== '')
  .map((pem) => new X509Certificate(pem).fingerprint256);
const fingerprintOf = (ca: MotoCa) => new X509Certificate(ca.certificatePem!).fingerprint256;

async function versionsOf(key: string): Promise<string[]> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: 'bundles', Prefix: key }));
  return [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].filter((v) => v.Key === key).map((v) => v.VersionId!);
}

describe('Custom::PrivateCaTrustBundle against moto', () => {
  test('create writes the chain; a replaced CA stays beside the new one for the overlap, then goes', async () => {
    const d = driver();
    const created = await d.create(props(caA));
    expect(created.error).toBeUndefined();
    expect(created.physicalResourceId).toBe('s3://bundles/pki/bundle.pem');
    let object = await published();
    expect(created.data).toEqual({ VersionId: object.versionId });
    expect(fingerprints(object.body)).toEqual([fingerprintOf(caA)]);
    expect(object.metadata).toEqual({ 'cdk-certificates-stack-id': created.event.StackId, 'cdk-certificates-logical-id': 'Resource' });
    // The runtime names a bucket-level GET by its path: the listing of the key, then the versioning status.
    expect(callsSince(created)).toEqual(['GET /bundles/', 'GET /bundles/', 'PutObject']);

    // The CA is replaced: the new CA first, the old one kept.
    const rotated = await d.update(created.physicalResourceId!, props(caA), props(caB));
    expect(rotated.error).toBeUndefined();
    object = await published();
    expect(rotated.data).toEqual({ VersionId: object.versionId });
    expect(rotated.data!.VersionId).not.toBe(created.data!.VersionId);
    expect(fingerprints(object.body)).toEqual([fingerprintOf(caB), fingerprintOf(caA)]);
    expect(object.metadata['cdk-certificates-superseded']).toMatch(/^[0-9a-f]{32}:\d+$/);

    // Within the overlap an update writes nothing new.
    await runtime.setSettings({ offsetMs: 29 * DAY_MS }, 'clock');
    const within = await d.update(created.physicalResourceId!, props(caB), props(caB, { OverlapSeconds: String(31 * 86400) }));
    expect(within.data).toEqual(rotated.data);
    expect(callsSince(within)).toEqual(['GET /bundles/', 'GetObject']);

    // Past it, the next update drops the old CA.
    await runtime.setSettings({ offsetMs: 32 * DAY_MS }, 'clock');
    const after = await d.update(created.physicalResourceId!, props(caB, { OverlapSeconds: String(31 * 86400) }), props(caB));
    object = await published();
    expect(after.data).toEqual({ VersionId: object.versionId });
    expect(fingerprints(object.body)).toEqual([fingerprintOf(caB)]);
    expect(object.metadata['cdk-certificates-superseded']).toBeUndefined();
    expect(await versionsOf('pki/bundle.pem')).toHaveLength(3);

    // DESTROY: every version goes.
    const deleted = await d.delete(created.physicalResourceId!, props(caB));
    expect(deleted.error).toBeUndefined();
    expect(await versionsOf('pki/bundle.pem')).toEqual([]);
    const again = await d.delete(created.physicalResourceId!, props(caB));
    expect(again.error).toBeUndefined();
    d.assertNoLeak([]);
  });

  test('delete with RETAIN keeps the bundle', async () => {
    const d = driver();
    const created = await d.create(props(caA, { RemovalPolicy: 'retain' }));
    const deleted = await d.delete(created.physicalResourceId!, props(caA, { RemovalPolicy: 'retain' }));
    expect(deleted.error).toBeUndefined();
    expect(callsSince(deleted)).toEqual([]);
    expect(fingerprints((await published()).body)).toEqual([fingerprintOf(caA)]);
  });

  test('a bucket without versioning is refused before anything is written', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    const step = await driver().create(props(caA, { Bucket: 'plain' }));
    expect(step.error!.message).toMatch(/^bucket: versioning is not enabled on bucket plain; trust stores pin a version/);
    expect(callsSince(step)).toEqual(['GET /plain/', 'GET /plain/']);
  });
});

function callsSince(step: { apiCalls: number }): string[] {
  const end = runtime.calls.length;
  return runtime.calls.slice(end - step.apiCalls, end).map((c) => c.operation);
}
