import { randomBytes } from 'node:crypto';
import {
  DatabaseMigrationServiceClient,
  ImportCertificateCommand,
  InvalidCertificateFault,
  ResourceQuotaExceededFault,
} from '@aws-sdk/client-database-migration-service';
import * as source from '../../lambda/dms-certificate';
import {
  DMS_CERTIFICATE_RESOURCE_TYPE,
  DmsCertificateResourceProperties,
  dmsCertificateIdentifierProblem,
} from '../../src/contract/dms-certificate';
import { FakeDms } from '../support/fakes/dms';
import { makeRootCa, makeTestPki, TestPki } from '../support/fixtures/pki';
import { handlerUnderTest } from '../support/handler-under-test';
import { FakeMaterialStore } from '../support/harness/fake-material';
import { LifecycleDriver, standardSequences, StepResult } from '../support/harness/lifecycle';

const handler = handlerUnderTest('dms-certificate', source);
const { onEvent, settings, retryConfig } = handler;

type Props = DmsCertificateResourceProperties;

const PREFIX = 'TestStack-DbTrust';
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const OTHER_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/66666666-7777-8888-9999-000000000000';
const WALLET_BUCKET = 'wallet-bucket';

let pki: TestPki;
let fake: FakeDms;
let store: FakeMaterialStore;
let driver: LifecycleDriver<Props>;
const originalSleep = retryConfig.sleep;
const originalSettings = { ...settings };

/** Bytes no text decoding survives: NUL, 0xff, an invalid UTF-8 sequence, a lone continuation byte. */
function binaryWallet(size = 512): Uint8Array {
  const bytes = new Uint8Array(randomBytes(size));
  bytes.set([0x00, 0xff, 0xc3, 0x28, 0x80, 0xfe, 0x0d, 0x0a, 0x00], 0);
  return bytes;
}

function pemProps(pem: string, extra: Partial<Props> = {}): Props {
  return { NamePrefix: PREFIX, CertificatePem: { kind: 'inline', value: pem }, RemovalPolicy: 'destroy', ...extra };
}

function walletProps(key: string, extra: Partial<Props> = {}): Props {
  return { NamePrefix: PREFIX, CertificateWallet: { kind: 's3', bucket: WALLET_BUCKET, key }, RemovalPolicy: 'destroy', ...extra };
}

function ok(step: StepResult): StepResult {
  if (step.error) {
    throw new Error(`${step.label} failed: ${step.error.message}`);
  }
  return step;
}

beforeAll(async () => {
  pki = await makeTestPki();
  retryConfig.sleep = async () => undefined;
});

afterAll(() => {
  retryConfig.sleep = originalSleep;
});

beforeEach(() => {
  fake = new FakeDms();
  fake.install();
  store = new FakeMaterialStore();
  store.install();
  driver = new LifecycleDriver<Props>({
    handler: { onEvent },
    resourceType: DMS_CERTIFICATE_RESOURCE_TYPE,
    countApiCalls: () => fake.calls() + store.calls(),
    stackId: STACK_ID,
  });
});

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Db/5d1c1e30-0000-4000-8000-00000000d0d0';
/** The ownership tags the handler adds to what it imports for `driver`'s resource. */
const OWNER_TAGS = { 'cdk-certificates:stack-id': STACK_ID, 'cdk-certificates:logical-id': 'Resource' };

afterEach(() => {
  fake.restore();
  store.restore();
  Object.assign(settings, originalSettings);
  jest.restoreAllMocks();
});

describe('lifecycle through the Provider framework', () => {
  test('standard sequences with a PEM: one certificate per identifier, no-op updates write nothing', async () => {
    const props = pemProps(pki.root.certificatePem, { Tags: [{ Key: 'team', Value: 'db' }] });
    const inPlace = pemProps(pki.root.certificatePem, { Tags: [{ Key: 'team', Value: 'data' }, { Key: 'env', Value: 'prod' }] });
    const replacing = pemProps(pki.intermediate.certificatePem, { Tags: [{ Key: 'team', Value: 'data' }] });
    let firstArn = '';

    const steps = await standardSequences(driver, {
      props,
      changedInPlace: inPlace,
      replacing,
      failingCreate: {
        props: pemProps(pki.leaf.certificatePem),
        arrange: () => fake.failNext('ImportCertificate', new ResourceQuotaExceededFault({ message: 'quota', $metadata: {} })),
      },
      afterStep: (name, step) => {
        switch (name) {
          case 'create': {
            firstArn = step.physicalResourceId!;
            expect(fake.certificates.size).toBe(1);
            const stored = fake.certificates.get(firstArn)!;
            expect(stored.identifier).toMatch(new RegExp(`^${PREFIX}-[0-9a-f]{10}$`));
            expect(dmsCertificateIdentifierProblem(stored.identifier)).toBeUndefined();
            expect(Object.fromEntries(stored.tags)).toEqual({ team: 'db', ...OWNER_TAGS });
            expect(step.data).toEqual({
              CertificateArn: firstArn,
              CertificateIdentifier: stored.identifier,
              ValidFromDate: pki.root.certificate.notBefore.toISOString(),
              ValidToDate: pki.root.certificate.notAfter.toISOString(),
              SigningAlgorithm: 'SHA256withRSA',
              KeyLength: '2048',
              CertificateOwner: '123456789012',
            });
            break;
          }
          case 'retriedCreate': {
            expect(fake.certificates.size).toBe(1);
            // The earlier import is found before any import is tried: one import in all.
            expect(fake.writes('ImportCertificate')).toBe(1);
            // Found by identifier, then adopted after comparing the certificates.
            const lookups = fake.callsOf('DescribeCertificates');
            expect(lookups[lookups.length - 1]).toEqual({
              Filters: [{ Name: 'certificate-id', Values: [fake.certificates.get(firstArn)!.identifier] }],
            });
            break;
          }
          case 'updateNoChange':
            expect(step.apiCalls).toBeGreaterThan(0);
            // Still the one import: the retried create and the no-op update wrote nothing.
            expect(fake.writes()).toBe(1);
            break;
          case 'updateInPlace':
            expect(Object.fromEntries(fake.certificates.get(firstArn)!.tags)).toEqual({ team: 'data', env: 'prod', ...OWNER_TAGS });
            // The earlier import is found before any import is tried: one import in all.
            expect(fake.writes('ImportCertificate')).toBe(1);
            break;
          case 'updateReplace': {
            expect(fake.certificates.size).toBe(2);
            const replacement = fake.certificates.get(step.physicalResourceId!)!;
            expect(replacement.identifier).not.toBe(fake.certificates.get(firstArn)!.identifier);
            expect(replacement.identifier.startsWith(`${PREFIX}-`)).toBe(true);
            break;
          }
          case 'deleteOld':
            expect(fake.certificates.has(firstArn)).toBe(false);
            expect(fake.certificates.size).toBe(1);
            break;
          case 'delete':
          case 'deleteAgain':
            expect(fake.certificates.size).toBe(0);
            break;
          case 'failedCreate':
            expect(step.error!.message).toMatch(/quota of DMS certificates/);
            expect(fake.certificates.size).toBe(0);
            break;
          case 'rollbackDelete':
            expect(step.handlerInvoked).toBe(false);
            break;
        }
      },
    });
    expect(steps.updateNoChange!.physicalResourceId).toBe(firstArn);
    driver.assertNoLeak([pki.root.privateKeyPem, pki.intermediate.privateKeyPem, pki.leaf.privateKeyPem]);
  });

  test('standard sequences with a wallet from S3 (fixed identifier, replaced by a new identifier)', async () => {
    const first = binaryWallet();
    const second = binaryWallet();
    store.putObject(WALLET_BUCKET, 'v1/cwallet.sso', first, { secret: true });
    store.putObject(WALLET_BUCKET, 'v2/cwallet.sso', second, { secret: true });
    const props: Props = { ...walletProps('v1/cwallet.sso'), NamePrefix: undefined, CertificateIdentifier: 'oracle-wallet-1' };
    const steps = await standardSequences(driver, {
      props,
      changedInPlace: { ...props, Tags: [{ Key: 'owner', Value: 'dba' }] },
      replacing: { ...walletProps('v2/cwallet.sso'), NamePrefix: undefined, CertificateIdentifier: 'oracle-wallet-2' },
      afterStep: (name) => {
        if (name === 'retriedCreate') {
          expect(fake.certificates.size).toBe(1);
        }
        if (name === 'updateReplace') {
          expect([...fake.certificates.values()].map(c => c.identifier).sort()).toEqual(['oracle-wallet-1', 'oracle-wallet-2']);
        }
      },
    });
    expect(steps.create!.data!.CertificateIdentifier).toBe('oracle-wallet-1');
    expect(steps.updateNoChange!.apiCalls).toBeGreaterThan(0);
    expect(fake.certificates.size).toBe(0);
    driver.assertNoLeak(store.secretValues());
  });
});

describe('Oracle wallets are bytes', () => {
  test('binary wallet bytes reach DMS intact, as a Uint8Array', async () => {
    const wallet = binaryWallet(4096);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(wallet)).toThrow();
    store.putObject(WALLET_BUCKET, 'cwallet.sso', wallet, { secret: true });

    const step = ok(await driver.create(walletProps('cwallet.sso')));

    const stored = fake.certificates.get(step.physicalResourceId!)!;
    expect(stored.pem).toBeUndefined();
    expect(Buffer.from(stored.wallet!).equals(Buffer.from(wallet))).toBe(true);
    const input = fake.callsOf('ImportCertificate')[0];
    expect(input.CertificateWallet).toBeInstanceOf(Uint8Array);
    expect(input.CertificatePem).toBeUndefined();
    driver.assertNoLeak(store.secretValues());
  });

  test('the SDK base64-encodes the wallet exactly once on the wire', async () => {
    const wallet = binaryWallet(1024);
    store.putObject(WALLET_BUCKET, 'cwallet.sso', wallet);
    ok(await driver.create(walletProps('cwallet.sso')));
    const input = fake.callsOf('ImportCertificate')[0];
    fake.restore();

    // Serialize the handler's exact input with a real client; stop before signing and sending.
    const client = new DatabaseMigrationServiceClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } });
    let body = '';
    client.middlewareStack.add((_next) => async (args) => {
      const raw = (args.request as { body?: unknown }).body;
      body = typeof raw === 'string' ? raw : new TextDecoder().decode(raw as Uint8Array);
      return { output: { $metadata: {} }, response: {} } as never;
    }, { step: 'build', name: 'captureBody' });
    await client.send(new ImportCertificateCommand(input as never));

    const sent = JSON.parse(body) as { CertificateWallet: string; CertificateIdentifier: string };
    expect(Buffer.from(sent.CertificateWallet, 'base64').equals(Buffer.from(wallet))).toBe(true);
    expect(sent.CertificateWallet).toBe(Buffer.from(wallet).toString('base64'));
    expect(sent.CertificateIdentifier).toMatch(new RegExp(`^${PREFIX}-[0-9a-f]{10}$`));
  });

  test('a retried create adopts its wallet import after comparing the bytes', async () => {
    const wallet = binaryWallet();
    store.putObject(WALLET_BUCKET, 'cwallet.sso', wallet);
    const first = ok(await driver.create(walletProps('cwallet.sso')));
    const again = ok(await driver.redeliver(first));
    expect(again.physicalResourceId).toBe(first.physicalResourceId);
    expect(fake.certificates.size).toBe(1);
  });

  test('a fixed identifier held by a different wallet is an error naming certificateIdentifier', async () => {
    fake.seed('shared-wallet', { wallet: binaryWallet() });
    store.putObject(WALLET_BUCKET, 'cwallet.sso', binaryWallet());
    const step = await driver.create({ ...walletProps('cwallet.sso'), NamePrefix: undefined, CertificateIdentifier: 'shared-wallet' });
    // Not this stack's: never adopted, whatever its content.
    expect(step.error!.message).toMatch(/certificateIdentifier: the DMS certificate 'shared-wallet' already exists and was not created by this stack/);
    expect(fake.certificates.size).toBe(1);
  });

  test('a new wallet under the same key gets a new generated identifier', async () => {
    store.putObject(WALLET_BUCKET, 'cwallet.sso', binaryWallet());
    const first = ok(await driver.create(walletProps('cwallet.sso')));
    store.putObject(WALLET_BUCKET, 'cwallet.sso', binaryWallet());
    const second = ok(await driver.update(first.physicalResourceId!, walletProps('cwallet.sso'), walletProps('cwallet.sso', { Tags: [{ Key: 'a', Value: 'b' }] })));
    expect(second.physicalResourceId).not.toBe(first.physicalResourceId);
    expect(second.data!.CertificateIdentifier).not.toBe(first.data!.CertificateIdentifier);
  });

  test('a missing wallet object is an input error before any DMS call', async () => {
    store.putBucket(WALLET_BUCKET);
    const step = await driver.create(walletProps('missing.sso'));
    expect(step.error!.message).toMatch(/^certificateWallet: s3:\/\/wallet-bucket\/missing\.sso does not exist/);
    expect(fake.calls()).toBe(0);
  });
});

describe('identifiers', () => {
  test('the generated identifier is deterministic and changes with the content and the KMS key', async () => {
    const a = ok(await driver.create(pemProps(pki.root.certificatePem)));
    const idA = a.data!.CertificateIdentifier;
    // The same certificate with other line wrapping is the same content.
    const rewrapped = pki.root.certificatePem.replace(/\n/g, '\r\n');
    const aAgain = ok(await driver.update(a.physicalResourceId!, pemProps(pki.root.certificatePem), pemProps(rewrapped)));
    expect(aAgain.physicalResourceId).toBe(a.physicalResourceId);

    const keyed = pemProps(pki.root.certificatePem, { KmsKeyId: KEY_ARN });
    const withKey = ok(await driver.update(a.physicalResourceId!, pemProps(pki.root.certificatePem), keyed));
    expect(withKey.data!.CertificateIdentifier).not.toBe(idA);
    expect(fake.certificates.get(withKey.physicalResourceId!)!.kmsKeyId).toBe(KEY_ARN);

    const other = ok(await driver.create(pemProps(pki.intermediate.certificatePem)));
    for (const id of [idA, withKey.data!.CertificateIdentifier, other.data!.CertificateIdentifier]) {
      expect(id).toMatch(new RegExp(`^${PREFIX}-[0-9a-f]{10}$`));
      expect(dmsCertificateIdentifierProblem(id)).toBeUndefined();
    }
    expect(new Set([idA, withKey.data!.CertificateIdentifier, other.data!.CertificateIdentifier]).size).toBe(3);
  });

  test.each([
    ['1cert', /must begin with an ASCII letter/],
    ['cert_1', /may hold only ASCII letters, digits and hyphens/],
    ['cert-', /must not end with a hyphen/],
    ['cert--1', /must not contain two consecutive hyphens/],
    ['c'.repeat(256), /must be 1 to 255 characters long, got 256/],
  ])('an identifier resolved at deploy (%s) is checked before any write', async (identifier, rule) => {
    const step = await driver.create(pemProps(pki.root.certificatePem, { NamePrefix: undefined, CertificateIdentifier: identifier }));
    expect(step.error!.message).toMatch(/^certificateIdentifier: /);
    expect(step.error!.message).toMatch(rule);
    expect(fake.writes()).toBe(0);
  });

  test('new content under a fixed identifier is refused with what to do, and nothing is written', async () => {
    const props = pemProps(pki.root.certificatePem, { NamePrefix: undefined, CertificateIdentifier: 'db-trust' });
    const created = ok(await driver.create(props));
    const step = await driver.update(created.physicalResourceId!, props, { ...props, CertificatePem: { kind: 'inline', value: pki.intermediate.certificatePem } });
    expect(step.error!.message).toMatch(/^certificateIdentifier: is fixed to 'db-trust', and DMS cannot change the content or KMS key/);
    expect(step.error!.message).toMatch(/give a new certificateIdentifier with the new certificatePem or kmsKey, or omit it/);
    expect(fake.writes()).toBe(1);
  });

  test('a new KMS key under a fixed identifier is refused too', async () => {
    const props = pemProps(pki.root.certificatePem, { NamePrefix: undefined, CertificateIdentifier: 'db-trust', KmsKeyId: KEY_ARN });
    const created = ok(await driver.create(props));
    const step = await driver.update(created.physicalResourceId!, props, { ...props, KmsKeyId: OTHER_KEY_ARN });
    expect(step.error!.message).toMatch(/^certificateIdentifier: is fixed to 'db-trust'/);
    expect(fake.writes()).toBe(1);
  });

  test('a changed fixed identifier imports a new certificate', async () => {
    const props = pemProps(pki.root.certificatePem, { NamePrefix: undefined, CertificateIdentifier: 'db-trust-a' });
    const created = ok(await driver.create(props));
    const step = ok(await driver.update(created.physicalResourceId!, props, { ...props, CertificateIdentifier: 'db-trust-b' }));
    expect(step.physicalResourceId).not.toBe(created.physicalResourceId);
    expect(fake.byIdentifier('db-trust-b')).toBeDefined();
  });

  test('an update whose certificate vanished imports it again', async () => {
    const created = ok(await driver.create(pemProps(pki.root.certificatePem)));
    fake.certificates.clear();
    const step = ok(await driver.update(created.physicalResourceId!, pemProps(pki.root.certificatePem), pemProps(pki.root.certificatePem)));
    expect(step.physicalResourceId).not.toBe(created.physicalResourceId);
    expect(fake.certificates.size).toBe(1);
  });
});

describe('ownership', () => {
  const otherStack = () => new LifecycleDriver<Props>({
    handler: { onEvent },
    resourceType: DMS_CERTIFICATE_RESOURCE_TYPE,
    countApiCalls: () => fake.calls() + store.calls(),
    stackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Db/0f9e8d7c-6b5a-4321-8765-43210fedcba9',
  });

  test('the same app in another stack or region imports its own certificate; deleting one leaves the other', async () => {
    const mine = ok(await driver.create(pemProps(pki.root.certificatePem)));
    const theirs = ok(await otherStack().create(pemProps(pki.root.certificatePem)));
    expect(theirs.data!.CertificateIdentifier).not.toBe(mine.data!.CertificateIdentifier);
    ok(await driver.delete(mine.physicalResourceId!, pemProps(pki.root.certificatePem)));
    expect([...fake.certificates.keys()]).toEqual([theirs.physicalResourceId]);
  });

  test('a retried create never adopts what another stack imported under the same identifier', async () => {
    ok(await otherStack().create(pemProps(pki.root.certificatePem, { NamePrefix: undefined, CertificateIdentifier: 'db-trust' })));
    const writes = fake.writes();
    const step = await driver.create(pemProps(pki.root.certificatePem, { NamePrefix: undefined, CertificateIdentifier: 'db-trust' }));
    expect(step.error!.message).toMatch(/^certificateIdentifier: the DMS certificate 'db-trust' already exists and belongs to stack Db \(arn:aws:cloudformation:eu-west-1:/);
    expect(fake.writes()).toBe(writes);
  });

  test('an update or a delete never touches what another stack owns', async () => {
    const theirs = ok(await otherStack().create(pemProps(pki.root.certificatePem, { NamePrefix: undefined, CertificateIdentifier: 'db-trust' })));
    const writes = fake.writes();
    const props = pemProps(pki.root.certificatePem, { NamePrefix: undefined, CertificateIdentifier: 'db-trust' });
    const update = await driver.update(theirs.physicalResourceId!, props, { ...props, Tags: [{ Key: 'team', Value: 'x' }] });
    expect(update.error!.message).toMatch(/the DMS certificate 'db-trust' belongs to stack Db .*will not change it/);
    ok(await driver.delete(theirs.physicalResourceId!, props));
    expect(fake.writes()).toBe(writes);
    expect(fake.certificates.has(theirs.physicalResourceId!)).toBe(true);
  });
});

describe('rollback and updates of expired material', () => {
  /** An expired certificate this resource imported while it was valid. */
  async function expiredInDms(): Promise<{ arn: string; props: Props }> {
    const props = { ...pemProps(''), CertificatePem: { kind: 'secret' as const, secretId: store.putSecret('db/expired', pki.expiredLeaf.certificatePem) } };
    const { identifier } = await handler.desiredState(props, { StackId: STACK_ID, LogicalResourceId: 'Resource' });
    const seeded = fake.seed(identifier, { pem: pki.expiredLeaf.certificatePem });
    for (const [k, v] of Object.entries(OWNER_TAGS)) {
      seeded.tags.set(k, v);
    }
    return { arn: seeded.arn, props };
  }

  test('an in-place update (tags) of an expired certificate succeeds without re-validating dates', async () => {
    const { arn, props } = await expiredInDms();
    const step = await driver.update(arn, props, { ...props, Tags: [{ Key: 'cost-center', Value: '42' }] });
    expect(step.error).toBeUndefined();
    expect(step.physicalResourceId).toBe(arn);
    expect(fake.certificates.get(arn)!.tags.get('cost-center')).toBe('42');
  });

  test('an update back to an expired certificate DMS still holds (a rollback) adopts it and imports nothing', async () => {
    const { arn, props } = await expiredInDms();
    const newer = ok(await driver.create(pemProps(pki.root.certificatePem)));
    const imports = fake.writes('ImportCertificate');
    const step = await driver.update(newer.physicalResourceId!, pemProps(pki.root.certificatePem), props);
    expect(step.error).toBeUndefined();
    expect(step.physicalResourceId).toBe(arn);
    expect(fake.writes('ImportCertificate')).toBe(imports);
  });
});

describe('tags', () => {
  test('tags go with the import and change in place with add/remove calls only for what differs', async () => {
    const props = pemProps(pki.root.certificatePem, { Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] });
    const created = ok(await driver.create(props));
    expect(fake.callsOf('ImportCertificate')[0].Tags).toEqual([{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' },
      ...Object.entries(OWNER_TAGS).map(([Key, Value]) => ({ Key, Value }))]);
    const next = pemProps(pki.root.certificatePem, { Tags: [{ Key: 'a', Value: '1' }, { Key: 'c', Value: '3' }] });
    const step = ok(await driver.update(created.physicalResourceId!, props, next));
    expect(step.physicalResourceId).toBe(created.physicalResourceId);
    expect(fake.callsOf('RemoveTagsFromResource')).toEqual([{ ResourceArn: created.physicalResourceId, TagKeys: ['b'] }]);
    expect(fake.callsOf('AddTagsToResource')).toEqual([{ ResourceArn: created.physicalResourceId, Tags: [{ Key: 'c', Value: '3' }] }]);
    expect(Object.fromEntries(fake.certificates.get(created.physicalResourceId!)!.tags)).toEqual({ a: '1', c: '3', ...OWNER_TAGS });
  });

  test('a tag DMS reserves is an input error before any write', async () => {
    const step = await driver.create(pemProps(pki.root.certificatePem, { Tags: [{ Key: 'aws:owner', Value: 'x' }] }));
    expect(step.error!.message).toMatch(/^tags: tag key 'aws:owner' must not begin with 'aws:' or 'dms:'/);
    expect(fake.calls()).toBe(0);
  });

  test('every bad tag is named in one input error', async () => {
    const step = await driver.create(pemProps(pki.root.certificatePem, { Tags: [{ Key: 'aws:owner', Value: 'x' }, { Key: 'ok', Value: 'v' }, { Key: 'team', Value: 'a#b' }] }));
    expect(step.error!.message).toMatch(/^tags: tag key 'aws:owner' must not begin with 'aws:' or 'dms:' .*; and tag value 'a#b' may hold only letters/);
    expect(fake.calls()).toBe(0);
  });
});

describe('PEM material', () => {
  test('a PEM from a secret is read at deploy; an expired one fails before any DMS call', async () => {
    const secretArn = store.putSecret('db/ca', pki.expiredLeaf.certificatePem);
    const step = await driver.create({ ...pemProps(''), CertificatePem: { kind: 'secret', secretId: secretArn } });
    expect(step.error!.message).toMatch(/^certificatePem: the certificate has expired/);
    // Only the look-up of an earlier import of this identifier: nothing is written.
    expect(fake.writes()).toBe(0);

    const good = store.putSecret('db/ca2', pki.chainPem);
    const created = ok(await driver.create({ ...pemProps(''), CertificatePem: { kind: 'secret', secretId: good } }));
    expect(fake.certificates.get(created.physicalResourceId!)!.pem).toBe(pki.chainPem);
  });

  test('a bundle of unrelated trusted roots is accepted; a private key is refused without echoing it', async () => {
    const other = await makeRootCa({ commonName: 'Other Root' });
    ok(await driver.create(pemProps(pki.root.certificatePem + other.certificatePem)));
    const step = await driver.create(pemProps(pki.root.privateKeyPem));
    expect(step.error!.message).toMatch(/^certificatePem: holds a private key/);
    driver.assertNoLeak([pki.root.privateKeyPem, other.privateKeyPem]);
  });

  test('neither or both materials is an input error', async () => {
    const neither = await driver.create({ NamePrefix: PREFIX, RemovalPolicy: 'destroy' });
    expect(neither.error!.message).toMatch(/^certificatePem: give exactly one of certificatePem or certificateWallet; got neither/);
    const both = await driver.create({ ...pemProps(pki.root.certificatePem), CertificateWallet: { kind: 's3', bucket: WALLET_BUCKET, key: 'x' } });
    expect(both.error!.message).toMatch(/got both/);
    expect(fake.calls()).toBe(0);
  });
});

describe('service errors become messages naming the property and the fix', () => {
  test('ResourceAlreadyExistsFault: another certificate holds the identifier', async () => {
    fake.seed('db-trust', { pem: pki.intermediate.certificatePem });
    const step = await driver.create(pemProps(pki.root.certificatePem, { NamePrefix: undefined, CertificateIdentifier: 'db-trust' }));
    expect(step.error!.message).toMatch(/certificateIdentifier: the DMS certificate 'db-trust' already exists and was not created by this stack .*choose another name, or omit it/);
  });

  test('a failure while looking for an earlier import is reported, not hidden', async () => {
    const error = Object.assign(new Error('exists'), { name: 'ResourceAlreadyExistsFault' });
    fake.failNext('ImportCertificate', error);
    fake.failNext('DescribeCertificates', Object.assign(new Error('denied'), { name: 'AccessDeniedFault' }));
    const step = await driver.create(pemProps(pki.root.certificatePem));
    expect(step.error!.message).toMatch(/^DmsCertificate: DMS denied the request/);
  });

  test('InvalidCertificateFault names certificatePem and certificateWallet', async () => {
    fake.failNext('ImportCertificate', new InvalidCertificateFault({ message: 'Unsupported key', $metadata: {} }));
    const step = await driver.create(pemProps(pki.root.certificatePem));
    expect(step.error!.message).toBe('DmsCertificate: DMS rejected the certificate (Unsupported key); pass PEM X.509 certificates in certificatePem, or a valid Oracle auto-login wallet (.sso) in certificateWallet (InvalidCertificateFault)');
  });

  test('ResourceQuotaExceededFault says how to get room', async () => {
    fake.quota = 1;
    ok(await driver.create(pemProps(pki.root.certificatePem)));
    const step = await driver.create(pemProps(pki.intermediate.certificatePem));
    expect(step.error!.message).toMatch(/reached its quota of DMS certificates in this region; delete unused certificates .* or ask for a higher quota \(ResourceQuotaExceededFault\)$/);
  });

  test('a key DMS did not apply (an SDK that drops KmsKeyId) fails the deploy and leaves nothing behind', async () => {
    fake.dropKmsKeyId = true;
    const step = await driver.create(pemProps(pki.root.certificatePem, { KmsKeyId: KEY_ARN }));
    expect(step.error!.message).toMatch(new RegExp(`^kmsKey: DMS encrypted the certificate with arn:aws:kms:\\S+:key/default-dms, not the requested key ${KEY_ARN}.*the certificate was removed`));
    expect(fake.certificates.size).toBe(0);
    // The key given as an ID matches the ARN DMS reports.
    fake.dropKmsKeyId = false;
    const keyId = KEY_ARN.split('/').pop()!;
    ok(await driver.create(pemProps(pki.root.certificatePem, { KmsKeyId: keyId })));
  });

  test('KMSKeyNotAccessibleFault names kmsKey and the key policy', async () => {
    fake.inaccessibleKeys.add(KEY_ARN);
    const step = await driver.create(pemProps(pki.root.certificatePem, { KmsKeyId: KEY_ARN }));
    expect(step.error!.message).toMatch(/kmsKey cannot be used by DMS .*key policy lets the handler role use it through DMS .*\(KMSKeyNotAccessibleFault\)$/);
    expect(fake.certificates.size).toBe(0);
  });

  test('throttling is retried', async () => {
    fake.failNext('ImportCertificate', Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    fake.failNext('ImportCertificate', Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    ok(await driver.create(pemProps(pki.root.certificatePem)));
    expect(fake.callsOf('ImportCertificate')).toHaveLength(3);
    expect(fake.certificates.size).toBe(1);
  });
});

describe('delete', () => {
  /** Makes retryWhile's clock advance by each wait instead of sleeping. */
  function virtualClock(): void {
    let now = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    retryConfig.sleep = async (ms: number) => {
      now += ms;
    };
  }

  afterEach(() => {
    retryConfig.sleep = async () => undefined;
  });

  test('a certificate still used by an endpoint is retried, then fails naming the endpoint', async () => {
    virtualClock();
    const created = ok(await driver.create(pemProps(pki.root.certificatePem)));
    fake.attachEndpoint('oracle-source', created.physicalResourceId!);
    const step = await driver.delete(created.physicalResourceId!, pemProps(pki.root.certificatePem));
    expect(step.error!.message).toMatch(/is still in use after 10 minutes/);
    expect(step.error!.message).toMatch(/used by DMS endpoint\(s\) oracle-source/);
    expect(step.error!.message).toMatch(/or set removalPolicy to RETAIN/);
    // 10 minutes at 15 s intervals: the first try and 40 more.
    expect(fake.callsOf('DeleteCertificate')).toHaveLength(41);
    expect(fake.certificates.has(created.physicalResourceId!)).toBe(true);

    fake.detachEndpoint('oracle-source');
    ok(await driver.delete(created.physicalResourceId!, pemProps(pki.root.certificatePem)));
    expect(fake.certificates.size).toBe(0);
  });

  test('an endpoint that lets go within the deadline: the delete succeeds', async () => {
    virtualClock();
    const created = ok(await driver.create(pemProps(pki.root.certificatePem)));
    fake.attachEndpoint('oracle-source', created.physicalResourceId!, 3);
    ok(await driver.delete(created.physicalResourceId!, pemProps(pki.root.certificatePem)));
    expect(fake.callsOf('DeleteCertificate')).toHaveLength(4);
    expect(fake.certificates.size).toBe(0);
  });

  test('RETAIN leaves the certificate and calls nothing', async () => {
    const props = pemProps(pki.root.certificatePem, { RemovalPolicy: 'retain' });
    const created = ok(await driver.create(props));
    const step = ok(await driver.delete(created.physicalResourceId!, props));
    expect(step.apiCalls).toBe(0);
    expect(fake.certificates.size).toBe(1);
  });

  test('a physical ID that is no DMS ARN (a create that failed before import) deletes nothing', async () => {
    const step = ok(await driver.delete('some-request-id', pemProps(pki.root.certificatePem)));
    expect(step.apiCalls).toBe(0);
  });

  test('a certificate already gone: the delete succeeds', async () => {
    const created = ok(await driver.create(pemProps(pki.root.certificatePem)));
    fake.certificates.clear();
    const step = ok(await driver.delete(created.physicalResourceId!, pemProps(pki.root.certificatePem)));
    expect(step.physicalResourceId).toBe(created.physicalResourceId);
  });
});
