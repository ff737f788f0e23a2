import { randomBytes, X509Certificate } from 'node:crypto';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as dmsHandler from '../../lambda/dms-certificate';
import * as pcaHandler from '../../lambda/private-ca';
import * as issuedHandler from '../../lambda/private-ca-issued-certificate';
import * as serverHandler from '../../lambda/server-certificate';
import { InputError } from '../../lambda/shared/errors';
import {
  atExpression,
  earliestNotAfter,
  expiryNoticeData,
  expiryNotices,
  parseNotifyDaysBefore,
  PAST_DUE_DELAY_MS,
} from '../../lambda/shared/expiry';
import { retryConfig } from '../../lambda/shared/retry';
import type { DmsCertificateResourceProperties } from '../../src/contract/dms-certificate';
import type { IssuedCertificateResourceProperties } from '../../src/contract/issued-certificate';
import { PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE, PrivateCaExpiryNoticesResourceProperties } from '../../src/contract/private-ca';
import type { ServerCertificateResourceProperties } from '../../src/contract/server-certificate';
import { FakeAcmPca, FakeCa } from '../support/fakes/acm-pca';
import { FakeDms } from '../support/fakes/dms';
import { FakeIam } from '../support/fakes/iam';
import { makeLeaf, makeTestPki, TestCertificate, TestPki } from '../support/fixtures/pki';
import { FAKE_ACCOUNT, FAKE_REGION, FakeMaterialStore, looseMock, LooseStub } from '../support/harness/fake-material';
import { LifecycleDriver, stringifyProps, StepResult } from '../support/harness/lifecycle';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The instant an `at(yyyy-mm-ddThh:mm:ss)` expression names (UTC). */
function atTime(expression: string): number {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  if (!match) {
    throw new Error(`not an at() expression: ${expression}`);
  }
  return Date.parse(`${match[1]}Z`);
}

function notAfterOf(pem: string): Date {
  return new Date(new X509Certificate(pem).validTo);
}

function ok(step: StepResult): StepResult {
  if (step.error) {
    throw new Error(`${step.label} failed: ${step.error.message}`);
  }
  return step;
}

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

let pki: TestPki;
const realSleep = retryConfig.sleep;

beforeAll(async () => {
  pki = await makeTestPki();
  retryConfig.sleep = async () => undefined;
});

afterAll(() => {
  retryConfig.sleep = realSleep;
});

describe('lambda/shared/expiry', () => {
  const now = new Date('2030-01-01T00:00:00.250Z');

  test('at() is UTC to the second, without fractions or a zone suffix', () => {
    expect(atExpression(new Date('2031-02-03T04:05:06.789Z'))).toBe('at(2031-02-03T04:05:06)');
  });

  test('NotifyDaysBefore: absent or empty means no notices; values are parsed as whole days', () => {
    expect(parseNotifyDaysBefore(undefined)).toEqual([]);
    expect(parseNotifyDaysBefore('')).toEqual([]);
    expect(parseNotifyDaysBefore([])).toEqual([]);
    expect(parseNotifyDaysBefore(['30', '7', '1'])).toEqual([30, 7, 1]);
    expect(parseNotifyDaysBefore([3650])).toEqual([3650]);
  });

  test.each([
    ['zero', ['0'], "'0' is not a whole number of days from 1 to 3650"],
    ['negative', ['-1'], "'-1' is not a whole number of days"],
    ['a fraction', ['1.5'], "'1.5' is not a whole number of days"],
    ['text', ['soon'], "'soon' is not a whole number of days"],
    ['too many days', ['3651'], "'3651' is not a whole number of days from 1 to 3650"],
    ['a duplicate', ['30', '30'], 'lists 30 twice'],
    ['eleven day counts', ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11'], 'at most 10 distinct day counts, got 11'],
    ['not a list', '30', 'must be a list of day counts'],
  ])('NotifyDaysBefore with %s is an InputError naming daysBefore', (_name, value, message) => {
    const error = inputError(() => parseNotifyDaysBefore(value));
    expect(error.property).toBe('daysBefore');
    expect(error.message).toContain(message);
  });

  test('a future notice is sent exactly daysBefore days before notAfter', () => {
    const notAfter = new Date('2030-06-30T12:34:56Z');
    const [notice] = expiryNotices(notAfter, [30], now);
    expect(notice).toEqual({ daysBefore: 30, at: new Date('2030-05-31T12:34:56Z'), pastDue: false });
  });

  test('a notice whose time has passed is sent 5 minutes after now, rounded up to the second', () => {
    const notAfter = new Date('2030-01-20T00:00:00Z');
    const [late, onTime] = expiryNotices(notAfter, [30, 7], now);
    expect(late.pastDue).toBe(true);
    expect(late.at.toISOString()).toBe('2030-01-01T00:05:01.000Z');
    expect(onTime).toEqual({ daysBefore: 7, at: new Date('2030-01-13T00:00:00Z'), pastDue: false });
  });

  test('a notice due sooner than the delay counts as past due; one due just after it does not', () => {
    const at = (msAfterNow: number) => expiryNotices(new Date(now.getTime() + msAfterNow + DAY_MS), [1], now)[0];
    expect(at(PAST_DUE_DELAY_MS - 1000).pastDue).toBe(true);
    expect(at(PAST_DUE_DELAY_MS + 1000).pastDue).toBe(false);
  });

  test('Data: NotifyNotAfter and one short NotifyAt<days> entry per day count', () => {
    const data = expiryNoticeData('2030-06-30T12:34:56.000Z', [90, 30, 7], 'certificateBody', now);
    expect(data).toEqual({
      NotifyNotAfter: '2030-06-30T12:34:56.000Z',
      NotifyAt90: 'at(2030-04-01T12:34:56)',
      NotifyAt30: 'at(2030-05-31T12:34:56)',
      NotifyAt7: 'at(2030-06-23T12:34:56)',
    });
    // Ten day counts stay far inside CloudFormation's 4 KB response limit.
    const ten = expiryNoticeData(new Date('2039-12-31T00:00:00Z'), [3650, 1000, 365, 180, 90, 60, 30, 14, 7, 1], 'x', now);
    expect(Object.keys(ten)).toHaveLength(11);
    expect(JSON.stringify(ten).length).toBeLessThan(500);
  });

  test('Data is empty when no notice is asked for, whatever notAfter is', () => {
    expect(expiryNoticeData(undefined, [], 'certificateBody', now)).toEqual({});
  });

  test('an unknown notAfter is an InputError naming the input it comes from', () => {
    for (const notAfter of [undefined, '', 'not a date']) {
      const error = inputError(() => expiryNoticeData(notAfter, [30], 'certificateWallet', now));
      expect(error.property).toBe('certificateWallet');
      expect(error.message).toContain('notifyBeforeExpiry cannot schedule its notices');
    }
  });

  test('earliestNotAfter takes the first certificate of a chain or bundle to expire', async () => {
    const soon = await makeLeaf(pki.intermediate, { commonName: 'soon.example.com', notAfter: new Date(Date.now() + 20 * DAY_MS) });
    const bundle = `${pki.leaf.certificatePem}${soon.certificatePem}${pki.root.certificatePem}`;
    expect(earliestNotAfter(bundle, 'certificatePem').getTime()).toBe(notAfterOf(soon.certificatePem).getTime());
    const error = inputError(() => earliestNotAfter(pki.leaf.privateKeyPem, 'certificate'));
    expect(error.property).toBe('certificate');
    expect(error.message).not.toContain('BEGIN');
  });
});

describe('server-certificate handler', () => {
  let iam: FakeIam;
  let store: FakeMaterialStore;
  let driver: LifecycleDriver<ServerCertificateResourceProperties>;
  let other: TestCertificate;

  beforeAll(async () => {
    other = await makeLeaf(pki.intermediate, { commonName: 'other.example.com', notAfter: new Date(Date.now() + 200 * DAY_MS) });
  });

  beforeEach(() => {
    iam = new FakeIam().install();
    store = new FakeMaterialStore();
    store.install();
    driver = new LifecycleDriver({ handler: serverHandler, resourceType: 'Custom::ServerCertificate', countApiCalls: () => iam.calls() + store.calls() });
  });

  afterEach(() => {
    iam.restore();
    store.restore();
  });

  function props(cert: TestCertificate, notify?: string[]): ServerCertificateResourceProperties {
    const keyArn = store.putSecret(`key-${randomBytes(4).toString('hex')}`, { privateKey: cert.privateKeyPem });
    return stringifyProps({
      CertificateBody: { kind: 'inline', value: cert.certificatePem },
      CertificateChain: { kind: 'inline', value: pki.chainPem },
      PrivateKey: { kind: 'secret', secretId: keyArn, jsonField: 'privateKey' },
      NamePrefix: 'Stack-Web-3B3D323C',
      Path: '/',
      ForCloudFront: 'false',
      RemovalPolicy: 'destroy',
      NotifyDaysBefore: notify,
    } as ServerCertificateResourceProperties);
  }

  test('Create answers NotifyAt<days> from the certificate\'s notAfter (IAM Expiration)', async () => {
    const step = ok(await driver.create(props(pki.leaf, ['30', '7'])));
    const notAfter = notAfterOf(pki.leaf.certificatePem);
    expect(step.data!.NotifyNotAfter).toBe(notAfter.toISOString());
    expect(step.data!.NotifyAt30).toBe(atExpression(new Date(notAfter.getTime() - 30 * DAY_MS)));
    expect(step.data!.NotifyAt7).toBe(atExpression(new Date(notAfter.getTime() - 7 * DAY_MS)));
    expect(step.data!.Expiration).toBe(notAfter.toISOString());
  });

  test('without NotifyDaysBefore the Data is unchanged', async () => {
    const step = ok(await driver.create(props(pki.leaf)));
    expect(Object.keys(step.data!).filter(k => k.startsWith('Notify'))).toEqual([]);
  });

  test('a notice already due is sent 5 minutes after the deployment, and the log says so', async () => {
    const before = Date.now();
    const step = ok(await driver.create(props(pki.expiringLeaf, ['30', '3'])));
    const at30 = atTime(step.data!.NotifyAt30);
    expect(at30).toBeGreaterThanOrEqual(Math.floor((before + PAST_DUE_DELAY_MS) / 1000) * 1000);
    expect(at30).toBeLessThanOrEqual(Date.now() + PAST_DUE_DELAY_MS + 1000);
    expect(atTime(step.data!.NotifyAt3)).toBe(Math.floor((notAfterOf(pki.expiringLeaf.certificatePem).getTime() - 3 * DAY_MS) / 1000) * 1000);
    expect(step.logs.join('\n')).toMatch(/expiry notices whose time has passed.*"daysBefore":\[30\]/);
  });

  test('adding notices to an existing certificate writes nothing and answers the times', async () => {
    const first = props(pki.leaf);
    const created = ok(await driver.create(first));
    const updated = ok(await driver.update(created.physicalResourceId!, first, { ...first, NotifyDaysBefore: ['14'] }));
    expect(updated.physicalResourceId).toBe(created.physicalResourceId);
    expect(iam.writeCalls()).toBe(1);
    expect(updated.data!.NotifyAt14).toBe(atExpression(new Date(notAfterOf(pki.leaf.certificatePem).getTime() - 14 * DAY_MS)));
  });

  test('a new certificate moves the times (same keys, new values)', async () => {
    const first = props(pki.leaf, ['30']);
    const created = ok(await driver.create(first));
    const replaced = ok(await driver.update(created.physicalResourceId!, first, props(other, ['30'])));
    expect(replaced.physicalResourceId).not.toBe(created.physicalResourceId);
    expect(replaced.data!.NotifyAt30).not.toBe(created.data!.NotifyAt30);
    expect(replaced.data!.NotifyAt30).toBe(atExpression(new Date(notAfterOf(other.certificatePem).getTime() - 30 * DAY_MS)));
  });

  test('a bad NotifyDaysBefore fails before anything is uploaded', async () => {
    const step = await driver.create(props(pki.leaf, ['30', '0']));
    expect(step.error?.message).toContain('daysBefore');
    expect(iam.writeCalls()).toBe(0);
  });
});

describe('dms-certificate handler', () => {
  let fake: FakeDms;
  let store: FakeMaterialStore;
  let driver: LifecycleDriver<DmsCertificateResourceProperties>;

  beforeEach(() => {
    fake = new FakeDms();
    fake.install();
    store = new FakeMaterialStore();
    store.install();
    driver = new LifecycleDriver({ handler: dmsHandler, resourceType: 'Custom::DmsCertificate', countApiCalls: () => fake.calls() + store.calls() });
  });

  afterEach(() => {
    fake.restore();
    store.restore();
  });

  test('a bundle is timed from its first certificate to expire', async () => {
    const soon = await makeLeaf(pki.intermediate, { commonName: 'soon-ca.example.com', notAfter: new Date(Date.now() + 100 * DAY_MS) });
    const pem = `${pki.root.certificatePem}${soon.certificatePem}`;
    const step = ok(await driver.create({ NamePrefix: 'Stack-Db', CertificatePem: { kind: 'inline', value: pem }, RemovalPolicy: 'destroy', NotifyDaysBefore: ['60'] }));
    const notAfter = notAfterOf(soon.certificatePem);
    expect(step.data!.NotifyNotAfter).toBe(notAfter.toISOString());
    expect(step.data!.NotifyAt60).toBe(atExpression(new Date(notAfter.getTime() - 60 * DAY_MS)));
  });

  test('a wallet DMS reports no expiry date for fails clearly and leaves no certificate behind', async () => {
    store.putObject('wallets', 'cwallet.sso', new Uint8Array(randomBytes(256)));
    const step = await driver.create({
      NamePrefix: 'Stack-Wallet',
      CertificateWallet: { kind: 's3', bucket: 'wallets', key: 'cwallet.sso' },
      RemovalPolicy: 'destroy',
      NotifyDaysBefore: ['30'],
    });
    expect(step.error?.message).toContain('certificateWallet: the certificate\'s expiry date (notAfter) is not known');
    expect(fake.writes('ImportCertificate')).toBe(1);
    expect(fake.certificates.size).toBe(0);
  });
});

/**
 * Secrets Manager for the issuing handler: GetSecretValue (AWSCURRENT) and PutSecretValue, each
 * value a version with its VersionId (the ClientRequestToken when given), as the service answers.
 */
class MiniSecrets {
  public readonly values = new Map<string, { text: string; versionId: string } | undefined>();
  private stub?: LooseStub;

  public create(): string {
    const arn = `arn:aws:secretsmanager:${FAKE_REGION}:${FAKE_ACCOUNT}:secret:issued-${randomBytes(3).toString('hex')}`;
    this.values.set(arn, undefined);
    return arn;
  }

  public install(): this {
    const stub = looseMock(SecretsManagerClient);
    stub.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string }) => {
      const value = this.values.get(input.SecretId);
      if (value === undefined) {
        throw new ResourceNotFoundException({ message: 'no value', $metadata: {} });
      }
      return { ARN: input.SecretId, SecretString: value.text, VersionId: value.versionId, $metadata: {} };
    });
    stub.on(PutSecretValueCommand).callsFake(async (input: { SecretId: string; SecretString: string; ClientRequestToken?: string }) => {
      const versionId = input.ClientRequestToken ?? randomBytes(16).toString('hex');
      this.values.set(input.SecretId, { text: input.SecretString, versionId });
      return { ARN: input.SecretId, VersionId: versionId, $metadata: {} };
    });
    this.stub = stub;
    return this;
  }

  public restore(): void {
    this.stub?.restore();
  }
}

describe('private-ca-issued-certificate handler', () => {
  let pca: FakeAcmPca;
  let ca: FakeCa;
  let secrets: MiniSecrets;
  let driver: LifecycleDriver<IssuedCertificateResourceProperties>;

  beforeAll(async () => {
    pca = new FakeAcmPca();
    ca = await pca.addCa({ commonName: 'Issuing CA', keyAlgorithm: 'EC_prime256v1' });
  });

  beforeEach(() => {
    pca.install();
    secrets = new MiniSecrets().install();
    issuedHandler.settings.issueWaitIntervalMs = 1;
    driver = new LifecycleDriver({
      handler: issuedHandler,
      resourceType: 'Custom::PrivateCaIssuedCertificate',
      countApiCalls: () => pca.callCount(),
      logicalResourceId: 'Web',
    });
  });

  afterEach(() => {
    pca.restore();
    secrets.restore();
  });

  function props(secretArn: string, notify?: string[]): IssuedCertificateResourceProperties {
    return stringifyProps({
      CertificateAuthorityArn: ca.arn,
      Subject: { CommonName: 'www.example.com' },
      DnsNames: ['www.example.com'],
      KeyAlgorithm: 'EC_P256',
      TemplateArn: 'arn:aws:acm-pca:::template/EndEntityServerAuthCertificate/V1',
      ValidityType: 'DAYS',
      ValidityValue: '90',
      SecretArn: secretArn,
      RevocationReason: 'SUPERSEDED',
      RevokeOnDelete: 'true',
      RemovalPolicy: 'destroy',
      NotifyDaysBefore: notify,
    } as IssuedCertificateResourceProperties);
  }

  test('Create times the notices from the issued certificate', async () => {
    const step = ok(await driver.create(props(secrets.create(), ['30', '100'])));
    const issued = pca.certificates.get(step.physicalResourceId!)!;
    const notAfter = notAfterOf(issued.certificatePem);
    expect(step.data!.NotAfter).toBe(notAfter.toISOString());
    expect(step.data!.NotifyAt30).toBe(atExpression(new Date(notAfter.getTime() - 30 * DAY_MS)));
    // 100 days before a 90-day certificate's end is before it was issued: sent shortly after.
    expect(atTime(step.data!.NotifyAt100)).toBeLessThanOrEqual(Date.now() + PAST_DUE_DELAY_MS + 1000);
  });

  test('changing only the notices issues nothing new: same certificate, new times', async () => {
    const secretArn = secrets.create();
    const first = props(secretArn, ['30']);
    const created = ok(await driver.create(first));
    const issuedBefore = pca.inputsOf('IssueCertificate').length;
    const updated = ok(await driver.update(created.physicalResourceId!, first, props(secretArn, ['30', '7'])));
    expect(updated.physicalResourceId).toBe(created.physicalResourceId);
    expect(pca.inputsOf('IssueCertificate')).toHaveLength(issuedBefore);
    expect(updated.data!.NotifyAt30).toBe(created.data!.NotifyAt30);
    expect(updated.data!.NotifyAt7).toBeDefined();
  });
});

describe('private-ca handler: Custom::PrivateCaExpiryNotices', () => {
  let pca: FakeAcmPca;
  let driver: LifecycleDriver<PrivateCaExpiryNoticesResourceProperties>;
  const caArn = `arn:aws:acm-pca:${FAKE_REGION}:${FAKE_ACCOUNT}:certificate-authority/11111111-2222-3333-4444-555555555555`;

  beforeEach(() => {
    pca = new FakeAcmPca().install();
    driver = new LifecycleDriver<PrivateCaExpiryNoticesResourceProperties>({
      handler: pcaHandler,
      resourceType: PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE,
      countApiCalls: () => pca.callCount(),
    });
  });

  afterEach(() => pca.restore());

  test('Create, Update and Delete make no API call; the earliest notAfter of the PEM counts', async () => {
    const props: PrivateCaExpiryNoticesResourceProperties = { CertificateAuthorityArn: caArn, CaCertificate: pki.intermediate.certificatePem, NotifyDaysBefore: ['100', '30'] };
    const created = ok(await driver.create(props));
    expect(created.physicalResourceId).toBe(`${caArn}/expiry-notices`);
    expect(created.apiCalls).toBe(0);
    const notAfter = notAfterOf(pki.intermediate.certificatePem);
    expect(created.data!.NotifyAt100).toBe(atExpression(new Date(notAfter.getTime() - 100 * DAY_MS)));

    // A complete chain (external parent): the leafmost CA and the root; the earlier one counts.
    const chain = { ...props, CaCertificate: `${pki.expiringLeaf.certificatePem}${pki.root.certificatePem}` };
    const updated = ok(await driver.update(created.physicalResourceId!, props, chain));
    expect(updated.apiCalls).toBe(0);
    expect(updated.data!.NotifyNotAfter).toBe(notAfterOf(pki.expiringLeaf.certificatePem).toISOString());

    const deleted = ok(await driver.delete(updated.physicalResourceId!, chain));
    expect(deleted.apiCalls).toBe(0);
    expect(pca.log).toEqual([]);
  });

  test('a CaCertificate that is not a certificate fails naming certificate', async () => {
    const step = await driver.create({ CertificateAuthorityArn: caArn, CaCertificate: 'not a pem', NotifyDaysBefore: ['30'] });
    expect(step.error?.message).toMatch(/^certificate: /);
  });
});
