/**
 * The shipped acm-certificate bundle, run as Lambda runs it, against moto's ACM, Secrets Manager,
 * SSM and S3 over HTTP with the real AWS SDK v3.
 *
 * moto deviations met here (the in-repo FakeAcm, test/acm/fake-acm.ts, keeps the AWS behaviour and
 * test/acm/acm-certificate-handler.test.ts drives it):
 * - A re-import (ImportCertificate with CertificateArn) replaces moto's whole record and drops the
 *   certificate's tags; AWS keeps them (and takes no tags on a re-import). The handler reads the
 *   tags after every re-import and writes back what is missing, so against moto a re-import is
 *   followed by AddTagsToCertificate with the ownership tags; against AWS nothing is written.
 * - moto's GetCertificate returns the imported chain with an Amazon certificate appended (issued by
 *   Amazon Root CA 1, so not a self-signed root the handler would pass over; that certificate
 *   alone when no chain was imported). The handler compares what ACM holds with the material
 *   before writing, so against moto it never finds its own import the same: a no-op update
 *   re-imports the same material and a redelivered Create imports a second certificate. So
 *   `standardSequences` cannot run here; the steps run one by one below.
 * - moto never answers ResourceInUseException (it does not track what uses a certificate), so
 *   the bounded retry and the failure naming DescribeCertificate's InUseBy run on FakeAcm only.
 * - moto enforces none of ACM's re-import rules (key algorithm, Key Usage, Extended Key Usage): it
 *   re-imports anything under an ARN. The handler decides before calling, so the replacement of
 *   an RSA certificate by an EC one is a new import here as on AWS.
 * - moto does not check that the private key matches the certificate, nor the key type or size;
 *   the handler refuses those before any call (deploy-time checks).
 * - moto's DescribeCertificate reports no KeyUsages and an empty ExtendedKeyUsages list; the
 *   handler reads both from the certificate GetCertificate returns, so this changes nothing here.
 */
import { ACMClient, GetCertificateCommand, ListCertificatesCommand, ListTagsForCertificateCommand } from '@aws-sdk/client-acm';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { KU, makeUsageLeaf } from './acm-fixtures';
import type { AcmImportedCertificateResourceProperties } from '../../src/contract/acm-certificate';
import { makeLeaf, makeTestPki, TestCertificate, TestPki } from '../support/fixtures/pki';
import { CREATE_FAILED_PHYSICAL_ID, LifecycleDriver, StepResult, stringifyProps } from '../support/harness/lifecycle';
import { awsEnvironment, LambdaRuntime } from '../support/lambda-runtime';
import { MOTO_CREDENTIALS, MOTO_REGION, MotoServer, motoClientConfig, processExists, startMoto } from '../support/moto';

let moto: MotoServer;
let runtime: LambdaRuntime<AcmImportedCertificateResourceProperties>;
let pki: TestPki;
let renewed: TestCertificate;
let ec: TestCertificate;
let acm: ACMClient;
let secrets: SecretsManagerClient;
let ssm: SSMClient;
let s3: S3Client;

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Stack/5d1c1e30-0000-4000-8000-00000000beef';
const OWNER_TAGS = { 'cdk-certificates:stack-id': STACK_ID, 'cdk-certificates:logical-id': 'Resource' };

beforeAll(async () => {
  moto = await startMoto();
  const config = motoClientConfig(moto);
  acm = new ACMClient(config);
  secrets = new SecretsManagerClient(config);
  ssm = new SSMClient(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  [runtime, pki] = await Promise.all([
    LambdaRuntime.start<AcmImportedCertificateResourceProperties>({ kind: 'acm-certificate', env: awsEnvironment(moto.url, MOTO_REGION, MOTO_CREDENTIALS) }),
    makeTestPki(),
  ]);
  renewed = await makeLeaf(pki.intermediate, { commonName: 'www.example.com', dnsNames: ['www.example.com', 'example.com'] });
  ec = await makeUsageLeaf(pki.intermediate, { key: 'EC_P256', keyUsage: KU.digitalSignature });
  // moto never answers ResourceInUse; a short deadline keeps any surprise quick.
  await runtime.setSettings({ inUseDeadlineMs: 2_000, inUseIntervalMs: 100 });
});

afterAll(async () => {
  const pids = [runtime?.pid, moto?.pid].filter((p): p is number => p !== undefined);
  await runtime?.stop();
  await moto?.stop();
  for (const client of [acm, secrets, ssm, s3]) {
    client?.destroy();
  }
  expect(pids.filter(processExists)).toEqual([]);
});

beforeEach(async () => {
  await moto.reset();
});

function driver(): LifecycleDriver<AcmImportedCertificateResourceProperties> {
  return new LifecycleDriver({ handler: runtime.handler, resourceType: 'Custom::AcmImportedCertificate', countApiCalls: () => runtime.calls.length, stackId: STACK_ID });
}

function operations(step: StepResult): string[] {
  const end = runtime.calls.length;
  return runtime.calls.slice(end - step.apiCalls, end).map((c) => c.operation);
}

let stored = 0;

/**
 * Stores the certificate in SSM (String), the key in Secrets Manager (a JSON field) or SSM
 * (SecureString), the chain in S3 or inline, and returns the handler properties that read them.
 */
async function storeMaterial(cert: TestCertificate, options: { keyIn: 'secret' | 'ssm'; chainIn: 's3' | 'inline' }, overrides: Partial<AcmImportedCertificateResourceProperties> = {}) {
  const n = ++stored;
  const secret = await secrets.send(new CreateSecretCommand({ Name: `acm/key-${n}`, SecretString: JSON.stringify({ privateKey: cert.privateKeyPem }) }));
  await ssm.send(new PutParameterCommand({ Name: `/acm/${n}/certificate`, Type: 'String', Value: cert.certificatePem }));
  await ssm.send(new PutParameterCommand({ Name: `/acm/${n}/key`, Type: 'SecureString', Value: cert.privateKeyPem }));
  await s3.send(new CreateBucketCommand({ Bucket: `material-${n}` }));
  await s3.send(new PutObjectCommand({ Bucket: `material-${n}`, Key: 'chain.pem', Body: pki.chainPem }));
  return stringifyProps({
    Certificate: { kind: 'ssm', parameterName: `/acm/${n}/certificate`, withDecryption: 'false' },
    PrivateKey: options.keyIn === 'secret'
      ? { kind: 'secret', secretId: secret.ARN!, jsonField: 'privateKey' }
      : { kind: 'ssm', parameterName: `/acm/${n}/key`, withDecryption: 'true' },
    CertificateChain: options.chainIn === 's3' ? { kind: 's3', bucket: `material-${n}`, key: 'chain.pem' } : { kind: 'inline', value: pki.chainPem },
    Tags: [{ Key: 'team', Value: 'platform' }],
    RemovalPolicy: 'destroy',
    ...overrides,
  } as AcmImportedCertificateResourceProperties);
}

async function arnsInAcm(): Promise<string[]> {
  const out = await acm.send(new ListCertificatesCommand({ Includes: { keyTypes: ['RSA_2048', 'EC_prime256v1'] } }));
  return (out.CertificateSummaryList ?? []).map((c) => c.CertificateArn!).sort();
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const out = await acm.send(new ListTagsForCertificateCommand({ CertificateArn: arn }));
  return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key!, t.Value ?? '']));
}

const isWrite = (operation: string) => /^(Import|AddTags|RemoveTags|Delete)/.test(operation);
const secretValues = () => [pki.leaf.privateKeyPem, renewed.privateKeyPem, ec.privateKeyPem];

describe('moto deviations (FakeAcm keeps the AWS behaviour)', () => {
  test('moto appends an Amazon certificate to the chain it returns, so the handler does not recognise its own import', async () => {
    const d = driver();
    const props = await storeMaterial(pki.leaf, { keyIn: 'secret', chainIn: 'inline' });
    const created = await d.create(props);
    const held = await acm.send(new GetCertificateCommand({ CertificateArn: created.physicalResourceId! }));
    expect((held.CertificateChain!.match(/BEGIN CERTIFICATE/g) ?? []).length).toBe(3);
    // AWS: the same content, nothing written (FakeAcm checks that). moto: a re-import of the same
    // material, and a redelivered Create imports a second certificate. When moto returns the chain
    // as imported these fail: then run standardSequences here.
    const noChange = await d.update(created.physicalResourceId!, props, props);
    expect(noChange.physicalResourceId).toBe(created.physicalResourceId);
    expect(operations(noChange)).toContain('ImportCertificate');
    const redelivered = await d.redeliver(created);
    expect(redelivered.physicalResourceId).not.toBe(created.physicalResourceId);
    expect((await arnsInAcm()).length).toBe(2);
    d.assertNoLeak(secretValues());
  });
});

describe('acm-certificate bundle against moto', () => {
  test('create, rotation in place, replacement, delete of the old, delete, delete twice, failed create and its rollback', async () => {
    const d = driver();
    const base = await storeMaterial(pki.leaf, { keyIn: 'secret', chainIn: 's3' });
    const inPlace = await storeMaterial(renewed, { keyIn: 'ssm', chainIn: 'inline' }, { Tags: [{ Key: 'team', Value: 'edge' }] });
    const replacing = await storeMaterial(ec, { keyIn: 'secret', chainIn: 'inline' }, { Tags: [{ Key: 'team', Value: 'edge' }] });

    // Create: reads the certificate from SSM, the chain from S3, the key from a secret's field,
    // looks for its own earlier import, then imports with the tags.
    const created = await d.create(base);
    expect(created.error).toBeUndefined();
    const arn = created.physicalResourceId!;
    expect(arn).toMatch(/^arn:aws:acm:us-east-1:123456789012:certificate\//);
    expect(operations(created)).toEqual(['GetParameter', 'GetObject', 'GetSecretValue', 'ListCertificates', 'ImportCertificate']);
    expect(await tagsOf(arn)).toEqual({ team: 'platform', ...OWNER_TAGS });

    // Rotation: re-imported under the same ARN. moto dropped the tags, so the handler wrote them back.
    const rotated = await d.update(arn, base, inPlace);
    expect(rotated.error).toBeUndefined();
    expect(rotated.physicalResourceId).toBe(arn);
    expect(rotated.data!.Import).toBe('reimported');
    expect(operations(rotated).filter(isWrite)).toEqual(['ImportCertificate', 'AddTagsToCertificate']);
    expect(await tagsOf(arn)).toEqual({ team: 'edge', ...OWNER_TAGS });
    expect((await acm.send(new GetCertificateCommand({ CertificateArn: arn }))).Certificate!.trim()).toBe(renewed.certificatePem.trim());

    // RSA to EC: ACM cannot re-import across key types, so a new certificate with a new ARN.
    const replaced = await d.update(arn, inPlace, replacing);
    expect(replaced.error).toBeUndefined();
    const newArn = replaced.physicalResourceId!;
    expect(newArn).not.toBe(arn);
    expect(replaced.data).toMatchObject({ Import: 'imported', KeyAlgorithm: 'EC_prime256v1' });
    expect(await arnsInAcm()).toEqual([arn, newArn].sort());

    // CloudFormation's cleanup deletes the old one: tags read first (never another stack's).
    const deletedOld = await d.delete(arn, inPlace);
    expect(deletedOld.error).toBeUndefined();
    expect(operations(deletedOld)).toEqual(['ListTagsForCertificate', 'DeleteCertificate']);
    expect(await arnsInAcm()).toEqual([newArn]);
    const deleted = await d.delete(newArn, replacing);
    expect(deleted.error).toBeUndefined();
    // Delete twice: ACM's ResourceNotFoundException, over HTTP, is success.
    const again = await d.delete(newArn, replacing);
    expect(again.error).toBeUndefined();
    expect(operations(again)).toEqual(['ListTagsForCertificate']);
    expect(await arnsInAcm()).toEqual([]);

    // A create that fails (the key's secret does not exist) imports nothing; its rollback is answered by the framework.
    const missingKey = stringifyProps({
      ...base,
      PrivateKey: { kind: 'secret', secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:acm/missing-AbCdEf' },
    } as AcmImportedCertificateResourceProperties);
    const failed = await d.create(missingKey);
    expect(failed.error!.message).toMatch(/^privateKey: secret \S+ does not exist/);
    expect(failed.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
    expect(operations(failed)).not.toContain('ImportCertificate');
    const rollback = await d.delete(failed.physicalResourceId!, missingKey);
    expect(rollback.handlerInvoked).toBe(false);
    expect(await arnsInAcm()).toEqual([]);
    d.assertNoLeak(secretValues());
    expect(runtime.coldStarts).toBe(1);
  });

  test('what ACM holds after a rotation: the new certificate, the ARN, the tags', async () => {
    const d = driver();
    const first = await storeMaterial(pki.leaf, { keyIn: 'secret', chainIn: 'inline' });
    const second = await storeMaterial(renewed, { keyIn: 'secret', chainIn: 'inline' });
    const created = await d.create(first);
    const arn = created.physicalResourceId!;
    expect(await tagsOf(arn)).toEqual({ team: 'platform', ...OWNER_TAGS });
    const rotated = await d.update(arn, first, second);
    expect(rotated.error).toBeUndefined();
    const held = await acm.send(new GetCertificateCommand({ CertificateArn: arn }));
    expect(held.Certificate!.trim()).toBe(renewed.certificatePem.trim());
    expect(await tagsOf(arn)).toEqual({ team: 'platform', ...OWNER_TAGS });
    expect(rotated.data).toMatchObject({ KeyAlgorithm: 'RSA_2048', NotAfter: new Date(renewed.certificate.notAfter).toISOString() });
    expect(await arnsInAcm()).toEqual([arn]);
    d.assertNoLeak(secretValues());
  });

  test('a pinned secret version is what is read, whatever is current', async () => {
    const d = driver();
    const v1 = 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa';
    const secret = await secrets.send(new CreateSecretCommand({
      Name: 'acm/pinned',
      ClientRequestToken: v1,
      SecretString: JSON.stringify({ certificate: pki.leaf.certificatePem, privateKey: pki.leaf.privateKeyPem }),
    }));
    await secrets.send(new PutSecretValueCommand({
      SecretId: secret.ARN!,
      ClientRequestToken: 'bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb',
      SecretString: JSON.stringify({ certificate: renewed.certificatePem, privateKey: renewed.privateKeyPem }),
    }));
    const created = await d.create(stringifyProps({
      Certificate: { kind: 'secret', secretId: secret.ARN!, jsonField: 'certificate', versionId: v1 },
      PrivateKey: { kind: 'secret', secretId: secret.ARN!, jsonField: 'privateKey', versionId: v1 },
      RemovalPolicy: 'destroy',
    } as AcmImportedCertificateResourceProperties));
    expect(created.error).toBeUndefined();
    const held = await acm.send(new GetCertificateCommand({ CertificateArn: created.physicalResourceId! }));
    expect(held.Certificate!.trim()).toBe(pki.leaf.certificatePem.trim());
    d.assertNoLeak(secretValues());
  });

  test('retain leaves the certificate in ACM', async () => {
    const d = driver();
    const retained = await storeMaterial(pki.leaf, { keyIn: 'secret', chainIn: 'inline' }, { RemovalPolicy: 'retain' });
    const created = await d.create(retained);
    const deleted = await d.delete(created.physicalResourceId!, retained);
    expect(deleted.error).toBeUndefined();
    expect(operations(deleted)).toEqual([]);
    expect(await arnsInAcm()).toEqual([created.physicalResourceId]);
  });

  test('a key that does not match is refused before anything is imported (moto would import it)', async () => {
    const d = driver();
    const props = await storeMaterial(pki.leaf, { keyIn: 'secret', chainIn: 'inline' });
    const wrong = await secrets.send(new CreateSecretCommand({ Name: 'acm/wrong', SecretString: pki.unrelatedKey.privateKeyPem }));
    const step = await d.create(stringifyProps({ ...props, PrivateKey: { kind: 'secret', secretId: wrong.ARN! } } as AcmImportedCertificateResourceProperties));
    expect(step.error!.message).toMatch(/^privateKey: does not match the certificate in certificate/);
    expect(operations(step)).not.toContain('ImportCertificate');
    expect(await arnsInAcm()).toEqual([]);
    d.assertNoLeak([...secretValues(), pki.unrelatedKey.privateKeyPem]);
  });
});
