import { createPublicKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import {
  InvalidArgsException,
  LimitExceededException,
  MalformedCSRException,
  RequestFailedException,
} from '@aws-sdk/client-acm-pca';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as x509 from '@peculiar/x509';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import * as source from '../../lambda/private-ca-issued-certificate';
import { IssuedCertificate, IssuedKeyAlgorithm } from '../../src/acm-pca/issued-certificate';
import type { IssuedCertificateResourceProperties } from '../../src/contract/issued-certificate';
import { checkCertificateChain, checkPrivateKeyMatchesCertificate } from '../../src/contract/x509';
import { FakeAcmPca, FakeCa } from '../support/fakes/acm-pca';
import { handlerUnderTest } from '../support/handler-under-test';
import { FAKE_ACCOUNT, FAKE_REGION, LooseStub, looseMock } from '../support/harness/fake-material';
import { CREATE_FAILED_PHYSICAL_ID, LifecycleDriver, standardSequences, stringifyProps } from '../support/harness/lifecycle';

const handler = handlerUnderTest('private-ca-issued-certificate', source);
const { retryConfig } = handler;

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const metadata = { $metadata: { httpStatusCode: 400 } };

/** Secrets Manager's AccessDeniedException has no modelled class: the SDK raises a named error. */
function accessDenied(): Error {
  return Object.assign(new Error('User is not authorized to perform secretsmanager:PutSecretValue'), { name: 'AccessDeniedException', ...metadata });
}

interface SecretVersion {
  readonly id: string;
  readonly text: string;
  stages: string[];
}

/**
 * Secrets Manager as the handler uses it: GetSecretValue (AWSCURRENT, or the VersionStage or
 * VersionId asked for) and PutSecretValue (a new AWSCURRENT version, the old one AWSPREVIOUS; a
 * ClientRequestToken is the new VersionId, and a repeat of a token with the same value is a retry
 * that changes nothing). A secret created without a value answers GetSecretValue with
 * ResourceNotFoundException, as the service does.
 */
class FakeSecrets {
  public readonly secrets = new Map<string, SecretVersion[]>();
  public readonly operations: string[] = [];
  private readonly failures: Array<{ operation: string; error: Error; skip: number }> = [];
  private stub?: LooseStub;

  public create(name: string): string {
    const arn = `arn:aws:secretsmanager:${FAKE_REGION}:${FAKE_ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`;
    this.secrets.set(arn, []);
    return arn;
  }

  public current(arn: string): Record<string, string> | undefined {
    const version = this.secrets.get(arn)?.find((v) => v.stages.includes('AWSCURRENT'));
    return version ? JSON.parse(version.text) : undefined;
  }

  public versions(arn: string): SecretVersion[] {
    return this.secrets.get(arn) ?? [];
  }

  /** Every private key ever written, for leak checks. */
  public privateKeys(): string[] {
    const keys = new Set<string>();
    for (const versions of this.secrets.values()) {
      for (const v of versions) {
        const doc = JSON.parse(v.text) as Record<string, string>;
        for (const field of ['privateKey', 'pendingPrivateKey']) {
          if (doc[field]) keys.add(doc[field]);
        }
        keys.add(v.text);
      }
    }
    return [...keys];
  }

  /** Makes a later call of `operation` fail: the next one, or the one after `skip` successful calls. */
  public failNext(operation: 'GetSecretValue' | 'PutSecretValue', error: Error, skip = 0): void {
    this.failures.push({ operation, error, skip });
  }

  public writes(): number {
    return this.operations.filter((o) => o === 'PutSecretValue').length;
  }

  public install(): this {
    this.stub?.restore();
    const stub = looseMock(SecretsManagerClient);
    stub.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string; VersionId?: string; VersionStage?: string }) => this.get(input));
    stub.on(PutSecretValueCommand).callsFake(async (input: { SecretId: string; SecretString: string; ClientRequestToken?: string }) =>
      this.put(input));
    this.stub = stub;
    return this;
  }

  public restore(): void {
    this.stub?.restore();
    this.stub = undefined;
  }

  private fail(operation: string): void {
    this.operations.push(operation);
    const i = this.failures.findIndex((f) => f.operation === operation);
    if (i >= 0 && this.failures[i].skip > 0) {
      this.failures[i].skip--;
    } else if (i >= 0) {
      throw this.failures.splice(i, 1)[0].error;
    }
  }

  private get(input: { SecretId: string; VersionId?: string; VersionStage?: string }) {
    this.fail('GetSecretValue');
    const versions = this.secrets.get(input.SecretId);
    const stage = input.VersionStage ?? (input.VersionId === undefined ? 'AWSCURRENT' : undefined);
    const current = versions?.find((v) =>
      (input.VersionId === undefined || v.id === input.VersionId) && (stage === undefined || v.stages.includes(stage)));
    if (!versions) {
      throw new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret.', ...metadata });
    }
    if (!current) {
      throw new ResourceNotFoundException({ message: `Secrets Manager can't find the specified secret value for ${stage ? `staging label: ${stage}` : `VersionId: ${input.VersionId}`}`, ...metadata });
    }
    return { ARN: input.SecretId, SecretString: current.text, VersionId: current.id, VersionStages: current.stages, $metadata: {} };
  }

  private put(input: { SecretId: string; SecretString: string; ClientRequestToken?: string }) {
    this.fail('PutSecretValue');
    const versions = this.secrets.get(input.SecretId);
    if (!versions) {
      throw new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret.', ...metadata });
    }
    const repeated = versions.find((v) => v.id === input.ClientRequestToken);
    if (repeated) {
      if (repeated.text !== input.SecretString) {
        throw Object.assign(new Error('You can\'t modify an existing version, you can only create new versions.'), { name: 'ResourceExistsException', ...metadata });
      }
      return { ARN: input.SecretId, VersionId: repeated.id, VersionStages: repeated.stages, $metadata: {} };
    }
    for (const v of versions) {
      v.stages = v.stages.includes('AWSCURRENT') ? ['AWSPREVIOUS'] : [];
    }
    const id = input.ClientRequestToken ?? randomBytes(16).toString('hex');
    versions.push({ id, text: input.SecretString, stages: ['AWSCURRENT'] });
    return { ARN: input.SecretId, VersionId: id, VersionStages: ['AWSCURRENT'], $metadata: {} };
  }
}

let pca: FakeAcmPca;
let secrets: FakeSecrets;
let ca: FakeCa;
let driver: LifecycleDriver<IssuedCertificateResourceProperties>;
let secretArn: string;
const realSleep = retryConfig.sleep;
const realSettings = { ...handler.settings };

// One EC CA for the whole file: making CAs costs key generation.
let sharedCa: FakeCa;
let sharedPca: FakeAcmPca;

beforeAll(async () => {
  sharedPca = new FakeAcmPca();
  sharedCa = await sharedPca.addCa({ commonName: 'Issuing CA', keyAlgorithm: 'EC_prime256v1' });
});

beforeEach(() => {
  pca = sharedPca;
  pca.certificates.clear();
  pca.log.length = 0;
  pca.calls.length = 0;
  pca.issueDelayPolls = 0;
  ca = sharedCa;
  ca.status = 'ACTIVE';
  ca.usageMode = 'GENERAL_PURPOSE';
  pca.install();
  secrets = new FakeSecrets().install();
  secretArn = secrets.create('issued');
  retryConfig.sleep = async () => undefined;
  handler.settings.issueWaitIntervalMs = 1;
  handler.settings.issueWaitDeadlineMs = 60_000;
  driver = new LifecycleDriver({
    handler,
    resourceType: 'Custom::PrivateCaIssuedCertificate',
    countApiCalls: () => pca.callCount() + secrets.operations.length,
    logicalResourceId: 'WebCertificate',
  });
});

afterEach(() => {
  pca.restore();
  secrets.restore();
  retryConfig.sleep = realSleep;
  Object.assign(handler.settings, realSettings);
});

function props(overrides: Partial<IssuedCertificateResourceProperties> = {}): IssuedCertificateResourceProperties {
  return stringifyProps({
    CertificateAuthorityArn: ca.arn,
    Subject: { CommonName: 'www.example.com', Organization: 'Example Corp', Country: 'US' },
    DnsNames: ['www.example.com', '*.api.example.com'],
    IpAddresses: ['10.0.0.1', '2001:db8::1'],
    Emails: ['ops@example.com'],
    Uris: ['spiffe://example.org/ns/web'],
    KeyAlgorithm: 'EC_P256',
    TemplateArn: 'arn:aws:acm-pca:::template/EndEntityServerAuthCertificate/V1',
    ValidityType: 'DAYS',
    ValidityValue: '90',
    SecretArn: secretArn,
    RevocationReason: 'SUPERSEDED',
    RevokeOnDelete: 'true',
    RemovalPolicy: 'destroy',
    ...overrides,
  } as IssuedCertificateResourceProperties);
}

/** The stored key matches the stored certificate, which the fake issued and chains to the CA. */
function expectConsistentSecret(arn: string, certificateArn: string): Record<string, string> {
  const doc = secrets.current(arn)!;
  expect(doc.certificateArn).toBe(certificateArn);
  expect(doc.pendingPrivateKey).toBeUndefined();
  expect(() => checkPrivateKeyMatchesCertificate(doc.privateKey, doc.certificate, 'privateKey', 'certificate')).not.toThrow();
  const issued = pca.certificates.get(certificateArn)!;
  expect(new X509Certificate(doc.certificate).fingerprint256).toBe(new X509Certificate(issued.certificatePem).fingerprint256);
  return doc;
}

function issueInputs(): Array<Record<string, any>> {
  return pca.inputsOf('IssueCertificate');
}

describe('create', () => {
  test('issues a certificate for a key made in the handler and stores key, certificate and chain', async () => {
    const step = await driver.create(props());
    expect(step.error).toBeUndefined();
    const arn = step.physicalResourceId!;
    expect(arn).toMatch(new RegExp(`^${ca.arn}/certificate/[0-9a-f]+$`));
    expect(pca.certificates.size).toBe(1);

    const doc = expectConsistentSecret(secretArn, arn);
    // The chain is the CA certificate (then the CA's own chain), and it issued the certificate.
    expect(doc.certificateChain).toBe(`${ca.certificatePem}${ca.certificateChainPem ?? ''}`);
    expect(() => checkCertificateChain(doc.certificateChain, 'certificateChain', doc.certificate, { leafProperty: 'certificate' })).not.toThrow();
    const leaf = new X509Certificate(doc.certificate);
    expect(leaf.verify(new X509Certificate(ca.certificatePem!).publicKey)).toBe(true);
    expect(leaf.checkIssued(new X509Certificate(ca.certificatePem!))).toBe(true);

    const issued = pca.certificates.get(arn)!;
    expect(step.data).toEqual({
      CertificateArn: arn,
      SerialNumber: issued.serialNumber.toUpperCase(),
      NotBefore: new Date(leaf.validFrom).toISOString(),
      NotAfter: new Date(leaf.validTo).toISOString(),
      SecretArn: secretArn,
      // The version holding this certificate: consumers read exactly it.
      SecretVersionId: secrets.versions(secretArn).find((v) => v.stages.includes('AWSCURRENT'))!.id,
    });
    const days = (new Date(leaf.validTo).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
  });

  test('sends the CA-matched signing algorithm, the template, the validity and a short idempotency token', async () => {
    await driver.create(props({ ValidityType: 'ABSOLUTE', ValidityValue: String(Math.floor(Date.now() / 1000) + 30 * 86_400) }));
    const [input] = issueInputs();
    expect(input.CertificateAuthorityArn).toBe(ca.arn);
    expect(input.SigningAlgorithm).toBe('SHA256WITHECDSA');
    expect(input.TemplateArn).toBe('arn:aws:acm-pca:::template/EndEntityServerAuthCertificate/V1');
    expect(input.Validity.Type).toBe('ABSOLUTE');
    expect(typeof input.Validity.Value).toBe('number');
    expect(input.IdempotencyToken).toMatch(/^[0-9a-f]{36}$/);
  });

  test('the generated CSR verifies, carries the subject and every SAN, and is for the stored key', async () => {
    const step = await driver.create(props({
      Subject: { CommonName: 'www.example.com', Organization: '#Example "Corp"', Country: 'US', SerialNumber: 'A-1' },
    } as Partial<IssuedCertificateResourceProperties>));
    const csr = new x509.Pkcs10CertificateRequest(Buffer.from(issueInputs()[0].Csr).toString('utf8'));
    expect(await csr.verify()).toBe(true);
    // A leading '#' and quotes are text, not hex or quoting.
    expect(csr.subjectName.getField('O')).toEqual(['#Example "Corp"']);
    expect(csr.subjectName.getField('CN')).toEqual(['www.example.com']);
    expect(csr.subjectName.getField('C')).toEqual(['US']);
    expect(csr.subjectName.getField('2.5.4.5')).toEqual(['A-1']);
    const san = new x509.SubjectAlternativeNameExtension(csr.getExtension('2.5.29.17')!.rawData);
    expect(san.names.toJSON()).toEqual([
      { type: 'dns', value: 'www.example.com' },
      { type: 'dns', value: '*.api.example.com' },
      { type: 'ip', value: '10.0.0.1' },
      { type: 'ip', value: '2001:db8::1' },
      { type: 'email', value: 'ops@example.com' },
      { type: 'url', value: 'spiffe://example.org/ns/web' },
    ]);
    const doc = secrets.current(secretArn)!;
    const csrKey = Buffer.from(csr.publicKey.rawData);
    const storedKey = createPublicKey(doc.privateKey).export({ type: 'spki', format: 'der' });
    expect(csrKey.equals(storedKey)).toBe(true);
    expect(step.error).toBeUndefined();
  });

  test.each([
    ['RSA_2048', 'rsa', 2048],
    ['EC_P384', 'ec', 'secp384r1'],
  ])('generates %s keys', async (alg, type, detail) => {
    const step = await driver.create(props({ KeyAlgorithm: alg as IssuedCertificateResourceProperties['KeyAlgorithm'] }));
    expect(step.error).toBeUndefined();
    const key = createPublicKey(secrets.current(secretArn)!.privateKey);
    expect(key.asymmetricKeyType).toBe(type);
    expect(key.asymmetricKeyDetails?.modulusLength ?? key.asymmetricKeyDetails?.namedCurve).toBe(detail);
    expectConsistentSecret(secretArn, step.physicalResourceId!);
  });

  test('signs with SHA256WITHRSA under an RSA CA and SHA384WITHECDSA under a P-384 CA', async () => {
    const rsaCa = await pca.addCa({ commonName: 'RSA CA', keyAlgorithm: 'RSA_2048' });
    const p384Ca = await pca.addCa({ commonName: 'P384 CA', keyAlgorithm: 'EC_secp384r1' });
    const a = await driver.create(props({ CertificateAuthorityArn: rsaCa.arn }));
    const otherSecret = secrets.create('other');
    const b = await driver.create(props({ CertificateAuthorityArn: p384Ca.arn, SecretArn: otherSecret }));
    expect([a.error, b.error]).toEqual([undefined, undefined]);
    expect(issueInputs().map((i) => i.SigningAlgorithm)).toEqual(['SHA256WITHRSA', 'SHA384WITHECDSA']);
    expectConsistentSecret(otherSecret, b.physicalResourceId!);
  });

  test('waits while the certificate is being issued', async () => {
    pca.issueDelayPolls = 3;
    const step = await driver.create(props());
    expect(step.error).toBeUndefined();
    expect(pca.log.filter((op) => op === 'GetCertificate')).toHaveLength(4);
    expectConsistentSecret(secretArn, step.physicalResourceId!);
  });

  test('never leaks a private key into logs, responses, Data or errors', async () => {
    const created = await driver.create(props());
    await driver.update(created.physicalResourceId!, props(), props({ DnsNames: ['new.example.com'] }));
    pca.failNext('IssueCertificate', new MalformedCSRException({ message: 'The CSR is malformed.', ...metadata }));
    await driver.create(props({ SecretArn: secrets.create('failed') }));
    await driver.delete(created.physicalResourceId!, props());
    expect(secrets.privateKeys().length).toBeGreaterThanOrEqual(3);
    driver.assertNoLeak(secrets.privateKeys());
    // Properties carry no key either: only the secret's ARN.
    expect(JSON.stringify(driver.steps.map((s) => s.event.ResourceProperties))).not.toMatch(/PRIVATE KEY/);
  });
});

describe('lifecycle', () => {
  test('standard sequences: one certificate per request, no-op updates write nothing, the old certificate is revoked after a replacement', async () => {
    const failingSecret = secrets.create('failing');
    let issuedBefore = 0;
    let writesBefore = 0;
    let firstArn = '';
    const results = await standardSequences(driver, {
      props: props(),
      changedInPlace: props({ RevocationReason: 'CESSATION_OF_OPERATION' }),
      replacing: props({ DnsNames: ['www.example.com', 'example.com'] }),
      failingCreate: {
        props: props({ SecretArn: failingSecret }),
        arrange: () => pca.failNext('IssueCertificate', new LimitExceededException({ message: 'Certificate quota exceeded.', ...metadata })),
      },
      afterStep: (name, step) => {
        switch (name) {
          case 'create':
            firstArn = step.physicalResourceId!;
            expectConsistentSecret(secretArn, firstArn);
            break;
          case 'retriedCreate':
            // Adopted from the secret: nothing issued, nothing written.
            expect(pca.certificates.size).toBe(1);
            expect(pca.writeCalls()).toBe(1);
            expect(secrets.writes()).toBe(2);
            break;
          case 'updateNoChange':
          case 'updateInPlace':
            expect(step.physicalResourceId).toBe(firstArn);
            expect(pca.writeCalls()).toBe(1);
            expect(secrets.writes()).toBe(2);
            expect(step.data?.CertificateArn).toBe(firstArn);
            issuedBefore = pca.certificates.size;
            writesBefore = secrets.writes();
            break;
          case 'updateReplace':
            expect(pca.certificates.size).toBe(issuedBefore + 1);
            expect(secrets.writes()).toBe(writesBefore + 2);
            // The new key and certificate are current; nothing is revoked yet.
            expectConsistentSecret(secretArn, step.physicalResourceId!);
            expect(pca.certificates.get(firstArn)!.revoked).toBeUndefined();
            break;
          case 'deleteOld': {
            // The old certificate is revoked with the reason its (in-place updated) properties gave...
            expect(pca.certificates.get(firstArn)!.revoked?.reason).toBe('CESSATION_OF_OPERATION');
            // ...and the secret keeps the new key and certificate.
            const current = secrets.current(secretArn)!;
            expect(current.certificateArn).not.toBe(firstArn);
            expectConsistentSecret(secretArn, current.certificateArn);
            break;
          }
          case 'delete':
            expect(pca.certificates.get(step.physicalResourceId!)!.revoked?.reason).toBe('SUPERSEDED');
            break;
          case 'deleteAgain':
            expect(step.error).toBeUndefined();
            break;
          case 'failedCreate':
            expect(step.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
            expect(step.error?.message).toMatch(/quota/);
            // Nothing half-created: no certificate, no key left behind.
            expect(secrets.current(failingSecret)).toEqual({});
            break;
          case 'rollbackDelete':
            expect(step.handlerInvoked).toBe(false);
            break;
        }
      },
    });
    expect(Object.keys(results)).toHaveLength(10);
    expect(pca.certificates.size).toBe(2);
  });

  test('a retried create after an interrupted attempt reuses the key and CSR and gets the same certificate', async () => {
    pca.issueDelayPolls = 1_000;
    handler.settings.issueWaitDeadlineMs = 0;
    // The attempt gives up waiting, and dropping its pending key fails too: as when the Lambda is
    // killed mid-wait, the pending key stays in the secret.
    secrets.failNext('PutSecretValue', accessDenied(), 1);
    const first = await driver.create(props());
    expect(first.error?.message).toMatch(/still processing the request/);
    expect(issueInputs()).toHaveLength(1);
    expect(secrets.current(secretArn)?.pendingPrivateKey).toMatch(/PRIVATE KEY/);
    expect(secrets.current(secretArn)?.privateKey).toBeUndefined();

    for (const cert of pca.certificates.values()) {
      cert.pendingPolls = 0;
    }
    handler.settings.issueWaitDeadlineMs = 60_000;
    const second = await driver.redeliver(first);
    expect(second.error).toBeUndefined();
    const inputs = issueInputs();
    expect(inputs).toHaveLength(2);
    expect(inputs[1].IdempotencyToken).toBe(inputs[0].IdempotencyToken);
    expect(Buffer.from(inputs[1].Csr).equals(Buffer.from(inputs[0].Csr))).toBe(true);
    expect(pca.certificates.size).toBe(1);
    expectConsistentSecret(secretArn, second.physicalResourceId!);
  });

  test('an interrupted attempt whose pending key was dropped starts afresh on retry', async () => {
    pca.issueDelayPolls = 1_000;
    handler.settings.issueWaitDeadlineMs = 0;
    const first = await driver.create(props());
    expect(first.error?.message).toMatch(/still processing the request/);
    expect(secrets.current(secretArn)).toEqual({});
    pca.issueDelayPolls = 0;
    handler.settings.issueWaitDeadlineMs = 60_000;
    const second = await driver.redeliver(first);
    expect(second.error).toBeUndefined();
    const inputs = issueInputs();
    expect(inputs[1].IdempotencyToken).not.toBe(inputs[0].IdempotencyToken);
    expectConsistentSecret(secretArn, second.physicalResourceId!);
  });

  test('a request with another key can never be answered with the certificate of an earlier key', async () => {
    const created = await driver.create(props());
    const firstToken = issueInputs()[0].IdempotencyToken;
    // The same request again after its secret lost everything: a new key, so a new token.
    secrets.secrets.set(secretArn, []);
    const again = await driver.create(props());
    expect(again.error).toBeUndefined();
    expect(issueInputs()[1].IdempotencyToken).not.toBe(firstToken);
    expect(again.physicalResourceId).not.toBe(created.physicalResourceId);
    expectConsistentSecret(secretArn, again.physicalResourceId!);
  });

  test('the rollback of a failed replacement adopts the certificate the secret still holds', async () => {
    const created = await driver.create(props());
    const arn = created.physicalResourceId!;
    const newProps = props({ DnsNames: ['changed.example.com'] });
    pca.failNext('IssueCertificate', new InvalidArgsException({ message: 'Validity exceeds the CA.', ...metadata }));
    const failed = await driver.update(arn, props(), newProps);
    expect(failed.error?.message).toMatch(/validity/);
    expect(failed.physicalResourceId).toBe(arn);
    // The pending key was dropped: the secret is as before.
    expectConsistentSecret(secretArn, arn);

    const issuedBefore = pca.writeCalls();
    const rollback = await driver.update(arn, newProps, props());
    expect(rollback.error).toBeUndefined();
    expect(rollback.physicalResourceId).toBe(arn);
    expect(pca.writeCalls()).toBe(issuedBefore);
  });

  test('a re-issue stores a new secret version and reports it; the old version still reads the old certificate', async () => {
    const created = await driver.create(props());
    const reissued = await driver.update(created.physicalResourceId!, props(), props({ ValidityValue: '60' }));
    expect(reissued.error).toBeUndefined();
    const [before, after] = [created.data!.SecretVersionId, reissued.data!.SecretVersionId];
    expect(after).not.toBe(before);
    // Consumers pinned to the old version keep reading the old certificate until they move.
    const pinned = secrets.versions(secretArn).find((v) => v.id === before)!;
    expect(JSON.parse(pinned.text).certificateArn).toBe(created.physicalResourceId);
    expect(secrets.current(secretArn)!.certificateArn).toBe(reissued.physicalResourceId);
    // A no-op update reports the same version again, and writes nothing.
    const writes = secrets.writes();
    const same = await driver.update(reissued.physicalResourceId!, props({ ValidityValue: '60' }), props({ ValidityValue: '60' }));
    expect(same.data!.SecretVersionId).toBe(after);
    expect(secrets.writes()).toBe(writes);
  });

  test('the rollback of a re-issue puts the previous certificate back in the secret before revoking the new one', async () => {
    const created = await driver.create(props());
    const reissued = await driver.update(created.physicalResourceId!, props(), props({ ValidityValue: '60' }));
    // A later resource failed: CloudFormation keeps the old certificate and deletes the new one.
    const rollbackCleanup = await driver.delete(reissued.physicalResourceId!, props({ ValidityValue: '60' }));
    expect(rollbackCleanup.error).toBeUndefined();
    expect(pca.certificates.get(reissued.physicalResourceId!)!.revoked).toBeDefined();
    expect(pca.certificates.get(created.physicalResourceId!)!.revoked).toBeUndefined();
    expectConsistentSecret(secretArn, created.physicalResourceId!);
    // The normal cleanup (the old certificate deleted after a re-issue) leaves the secret alone.
    const again = await driver.update(created.physicalResourceId!, props(), props({ ValidityValue: '30' }));
    const writes = secrets.writes();
    await driver.delete(created.physicalResourceId!, props());
    expect(secrets.writes()).toBe(writes);
    expectConsistentSecret(secretArn, again.physicalResourceId!);
  });

  test('a certificate issued but not stored is revoked, and its key dropped', async () => {
    // The pending write succeeds, the final write is refused, the restore succeeds.
    secrets.failNext('PutSecretValue', accessDenied(), 1);
    const step = await driver.create(props());
    expect(step.error?.message).toMatch(/^secret: the handler may not write the certificate's secret/);
    expect(step.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
    const [cert] = [...pca.certificates.values()];
    expect(cert.revoked?.reason).toBe('CESSATION_OF_OPERATION');
    expect(secrets.current(secretArn)).toEqual({});
  });

  test('a failed issuance (RequestFailedException) leaves no key behind', async () => {
    pca.failNext('GetCertificate', new RequestFailedException({ message: 'Request failed.', ...metadata }));
    const step = await driver.create(props());
    expect(step.error?.message).toMatch(/could not issue the certificate/);
    expect(secrets.current(secretArn)).toEqual({});
  });
});

describe('refusals before any write', () => {
  test.each([
    ['DISABLED', /certificateAuthority: the CA .* is DISABLED; it issues certificates only when ACTIVE: enable it/],
    ['PENDING_CERTIFICATE', /is PENDING_CERTIFICATE; .*install its CA certificate/],
    ['DELETED', /is DELETED; .*restore it/],
  ])('a %s CA', async (status, message) => {
    ca.status = status as FakeCa['status'];
    const step = await driver.create(props());
    expect(step.error?.message).toMatch(message);
    expect(pca.writeCalls()).toBe(0);
    expect(secrets.writes()).toBe(0);
  });

  test('validity beyond the CA certificate', async () => {
    const step = await driver.create(props({ ValidityValue: '20000' }));
    expect(step.error?.message).toMatch(/^validity: the certificate would expire at .* after its CA's certificate .* use at most \d+ days/);
    expect(pca.writeCalls()).toBe(0);
    expect(secrets.writes()).toBe(0);
  });

  test('more than 7 days from a short-lived CA', async () => {
    ca.usageMode = 'SHORT_LIVED_CERTIFICATE';
    const step = await driver.create(props({ ValidityValue: '8' }));
    expect(step.error?.message).toMatch(/^validity: the CA is in SHORT_LIVED_CERTIFICATE mode/);
  });

  test.each([
    [{ DnsNames: ['bad_name.example.com'] }, /^dnsNames: 'bad_name.example.com' is not a valid DNS name/],
    [{ DnsNames: ['bad_name.example.com', 'www.example.com', 'w*.example.com'] }, /^dnsNames: 'bad_name\.example\.com' is not a valid DNS name.*; and 'w\*\.example\.com' may hold a wildcard only as a whole first label/],
    [{ IpAddresses: ['10.0.0.256'] }, /^ipAddresses: '10.0.0.256' is not an IPv4 address/],
    [{ Emails: ['nobody'] }, /^emails: 'nobody' is not an email address/],
    [{ Uris: ['not a uri'] }, /^uris: 'not a uri' is not an absolute URI/],
    [{ Subject: { Country: 'USA' } }, /^country: must be 1 to 2 characters long/],
    [{ Subject: {}, DnsNames: [], IpAddresses: [], Emails: [], Uris: [] }, /^commonName: a certificate needs a subject/],
    [{ KeyAlgorithm: 'DSA_1024' }, /^keyAlgorithm: 'DSA_1024' is not one of/],
    [{ CertificateAuthorityArn: 'arn:aws:s3:::bucket' }, /^certificateAuthority: 'arn:aws:s3:::bucket' is not an ACM Private CA ARN/],
    [{ ValidityType: 'ABSOLUTE', ValidityValue: '1000' }, /^validityEnd: .* is in the past/],
    [{ RevocationReason: 'BORED' }, /^revocationReason: 'BORED' is not one of/],
  ])('%j (a value that was a token at synth)', async (overrides, message) => {
    const step = await driver.create(props(overrides as Partial<IssuedCertificateResourceProperties>));
    expect(step.error?.message).toMatch(message);
    expect(pca.log).toHaveLength(0);
    expect(secrets.operations).toHaveLength(0);
  });

  test('an unknown CA', async () => {
    const step = await driver.create(props({ CertificateAuthorityArn: `${ca.arn.slice(0, -4)}ffff` }));
    expect(step.error?.message).toMatch(/^certificateAuthority: no ACM Private CA .* in this account and region/);
    expect(secrets.writes()).toBe(0);
  });
});

describe('delete', () => {
  test.each([
    [{ RevokeOnDelete: 'false' }],
    [{ RemovalPolicy: 'retain' }],
  ])('%j leaves the certificate valid', async (overrides) => {
    const created = await driver.create(props());
    const step = await driver.delete(created.physicalResourceId!, props(overrides as Partial<IssuedCertificateResourceProperties>));
    expect(step.error).toBeUndefined();
    expect(pca.log).not.toContain('RevokeCertificate');
    expect(pca.certificates.get(created.physicalResourceId!)!.revoked).toBeUndefined();
  });

  test('revokes at the CA named in the certificate ARN, whatever the properties say', async () => {
    const created = await driver.create(props());
    const step = await driver.delete(created.physicalResourceId!, props({ CertificateAuthorityArn: `${ca.arn.slice(0, -4)}ffff`, RevocationReason: 'KEY_COMPROMISE' }));
    expect(step.error).toBeUndefined();
    expect(pca.certificates.get(created.physicalResourceId!)!.revoked?.reason).toBe('KEY_COMPROMISE');
    const [revoke] = pca.inputsOf('RevokeCertificate');
    expect(revoke.CertificateSerial).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
  });

  test('a deleted CA: nothing can be revoked, the delete succeeds', async () => {
    const created = await driver.create(props());
    ca.status = 'DELETED';
    const step = await driver.delete(created.physicalResourceId!, props());
    expect(step.error).toBeUndefined();
    expect(step.logs.join('\n')).toMatch(/the CA is deleted/);
  });

  test('a disabled CA: the delete fails, naming revokeOnDelete', async () => {
    const created = await driver.create(props());
    ca.status = 'DISABLED';
    const step = await driver.delete(created.physicalResourceId!, props());
    expect(step.error?.message).toMatch(/^revokeOnDelete: cannot revoke .* its CA is not ACTIVE .* set revokeOnDelete to false/);
  });

  test('a certificate that no longer exists', async () => {
    const step = await driver.delete(`${ca.arn}/certificate/${'ab'.repeat(16)}`, props());
    expect(step.error).toBeUndefined();
    expect(pca.log).toEqual(['GetCertificate']);
  });

  test('a physical ID that is not a certificate (nothing was issued) makes no call', async () => {
    const step = await driver.delete('c0ffee00-0000-4000-8000-000000000000', props());
    expect(step.error).toBeUndefined();
    expect(pca.log).toHaveLength(0);
    expect(secrets.operations).toHaveLength(0);
  });

  test('never touches the secret', async () => {
    const created = await driver.create(props());
    const writes = secrets.writes();
    await driver.delete(created.physicalResourceId!, props());
    expect(secrets.writes()).toBe(writes);
    expectConsistentSecret(secretArn, created.physicalResourceId!);
  });
});

describe('the construct\'s properties are what the handler reads', () => {
  /** Resolves the few intrinsics the construct's properties use: Ref of the secret, the partition. */
  function resolveIntrinsics(value: unknown, refs: Record<string, string>): unknown {
    if (Array.isArray(value)) {
      return value.map((v) => resolveIntrinsics(v, refs));
    }
    if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      if (typeof obj.Ref === 'string') {
        return obj.Ref === 'AWS::Partition' ? 'aws' : refs[obj.Ref];
      }
      if (Array.isArray(obj['Fn::Join'])) {
        const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
        return parts.map((p) => resolveIntrinsics(p, refs)).join(sep);
      }
      return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolveIntrinsics(v, refs)]));
    }
    return value;
  }

  test('a synthesized IssuedCertificate issues through the handler', async () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: FAKE_ACCOUNT, region: FAKE_REGION } });
    const authority = Object.assign(new Construct(stack, 'Ca'), { certificateAuthorityArn: ca.arn, certificateValidity: Duration.days(3650) });
    const web = new IssuedCertificate(stack, 'Web', {
      certificateAuthority: authority,
      commonName: 'www.example.com',
      country: 'US',
      dnsNames: ['www.example.com'],
      ipAddresses: ['10.1.2.3'],
      keyAlgorithm: IssuedKeyAlgorithm.EC_P256,
      validity: Duration.days(30),
    });
    const secretLogicalId = stack.getLogicalId(web.node.findChild('Secret').node.defaultChild as never);
    const [resource] = Object.values(Template.fromStack(stack).findResources('Custom::PrivateCaIssuedCertificate')) as any[];
    const { ServiceToken: _token, ...properties } = resource.Properties;
    const resolved = resolveIntrinsics(properties, { [secretLogicalId]: secretArn }) as IssuedCertificateResourceProperties;

    const step = await driver.create(stringifyProps(resolved));
    expect(step.error).toBeUndefined();
    const doc = expectConsistentSecret(secretArn, step.physicalResourceId!);
    const leaf = new X509Certificate(doc.certificate);
    expect(leaf.subjectAltName).toContain('DNS:www.example.com');
    expect(issueInputs()[0].TemplateArn).toBe('arn:aws:acm-pca:::template/EndEntityCertificate/V1');
    expect(issueInputs()[0].Validity).toEqual({ Type: 'DAYS', Value: 30 });
    // The attributes the construct reads are in Data.
    for (const attribute of ['CertificateArn', 'SerialNumber', 'NotBefore', 'NotAfter', 'SecretArn']) {
      expect(step.data?.[attribute]).toBeTruthy();
    }
  });
});

describe('pure helpers', () => {
  test('the idempotency token depends on the request and the key, and fits 36 characters', () => {
    const a = handler.idempotencyToken('issuance-a', 'key-1');
    expect(a).toHaveLength(36);
    expect(handler.idempotencyToken('issuance-a', 'key-1')).toBe(a);
    expect(handler.idempotencyToken('issuance-a', 'key-2')).not.toBe(a);
    expect(handler.idempotencyToken('issuance-b', 'key-1')).not.toBe(a);
  });

  test('delete-time settings are not issuance inputs; everything else is', () => {
    const base = props();
    expect(handler.issuanceInputs(props({ RevocationReason: 'KEY_COMPROMISE', RevokeOnDelete: 'false', RemovalPolicy: 'retain' })))
      .toBe(handler.issuanceInputs(base));
    expect(handler.issuanceInputs({ ...base, Subject: { Country: 'US', CommonName: 'www.example.com', Organization: 'Example Corp' } }))
      .toBe(handler.issuanceInputs(base));
    expect(handler.issuanceInputs(props({ ValidityValue: '91' }))).not.toBe(handler.issuanceInputs(base));
    expect(handler.issuanceInputs(props({ KeyAlgorithm: 'RSA_2048' }))).not.toBe(handler.issuanceInputs(base));
  });
});
