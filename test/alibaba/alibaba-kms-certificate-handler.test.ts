/**
 * The AlibabaKmsCertificate handler through the Provider-framework lifecycle driver, against the
 * signature-verifying fake KMS server (through Alibaba's own OpenAPI client) and the fake ACM
 * Private CA (which really signs the CSRs KMS generated).
 */
import { X509Certificate } from 'node:crypto';
import { InvalidArgsException, InvalidStateException } from '@aws-sdk/client-acm-pca';
import * as x509 from '@peculiar/x509';
import * as source from '../../lambda/alibaba-kms-certificate';
import { KmsCertificatesApi, KmsCredentials } from '../../lambda/alibaba-kms-certificate/kms-api';
import type { AlibabaKmsCertificateResourceProperties } from '../../src/contract/alibaba-kms-certificate';
import { FakeAcmPca, FakeCa } from '../support/fakes/acm-pca';
import { FakeAlibabaKmsServer } from '../support/fakes/alibaba-kms-server';
import { makeTestPki, signCsr, TestPki } from '../support/fixtures/pki';
import { handlerUnderTest } from '../support/handler-under-test';
import { FakeMaterialStore } from '../support/harness/fake-material';
import { CREATE_FAILED_PHYSICAL_ID, LifecycleDriver, standardSequences, StepResult, stringifyProps } from '../support/harness/lifecycle';

const handler = handlerUnderTest('alibaba-kms-certificate', source);
const { retryConfig } = handler;

type Props = AlibabaKmsCertificateResourceProperties;

const TEMPLATE_ARN = 'arn:aws:acm-pca:::template/EndEntityCertificate/V1';
const SUBJECT = { CommonName: 'www.example.com', Country: 'CN', Organization: 'Example, Inc.', OrganizationalUnit: 'Platform', State: 'Zhejiang' };
const KMS_WRITES = ['CreateCertificate', 'UploadCertificate', 'UpdateCertificateStatus', 'DeleteCertificate', 'TagResource', 'UntagResource'];

let server: FakeAlibabaKmsServer;
let api: KmsCertificatesApi;
let pca: FakeAcmPca;
let rsaCa: FakeCa;
let ecCa: FakeCa;
let pki: TestPki;
let store: FakeMaterialStore;
let driver: LifecycleDriver<Props>;
let credentialsArn: string;
const sts: KmsCredentials = { accessKeyId: 'STS.NUk8exampleKey', accessKeySecret: 'sts-secret-value-123456', securityToken: 'CAIS-sts-token-value-abcdef0123456789' };
const realSleep = retryConfig.sleep;
const sleeps: number[] = [];
const realPcaSettings = { ...handler.pcaSettings };

beforeAll(async () => {
  server = new FakeAlibabaKmsServer({ regionId: 'cn-hangzhou', accountId: '5555666677778888' });
  await server.start();
  server.addCredential(sts);
  api = new KmsCertificatesApi(server.clientOptions());
  pca = new FakeAcmPca();
  [rsaCa, ecCa, pki] = await Promise.all([
    pca.addCa({ commonName: 'Test RSA Root CA', keyAlgorithm: 'RSA_2048' }),
    pca.addCa({ commonName: 'Test EC Root CA', keyAlgorithm: 'EC_prime256v1' }),
    makeTestPki(),
  ]);
});

afterAll(async () => {
  await server.stop();
});

beforeEach(() => {
  pca.install();
  store = new FakeMaterialStore();
  store.install();
  credentialsArn = store.putSecret('alibaba/kms', { accessKeyId: server.credentials.accessKeyId, accessKeySecret: server.credentials.accessKeySecret });
  sleeps.length = 0;
  retryConfig.sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  handler.pcaSettings.issueWaitIntervalMs = 0;
  driver = newDriver();
});

afterEach(() => {
  pca.restore();
  store.restore();
  retryConfig.sleep = realSleep;
  Object.assign(handler.pcaSettings, realPcaSettings);
  jest.restoreAllMocks();
});

/** The ownership tags of the resource a step acted for (its stack ID fits KMS's 128 characters here). */
function ownerTagsOf(step: { readonly event?: { StackId: string; LogicalResourceId: string } }): Record<string, string> {
  const event = step.event ?? { StackId: '', LogicalResourceId: '' };
  return { 'cdk-certificates:stack-id': event.StackId, 'cdk-certificates:logical-id': event.LogicalResourceId };
}

function newDriver(): LifecycleDriver<Props> {
  return new LifecycleDriver<Props>({
    handler,
    resourceType: 'Custom::AlibabaKmsCertificate',
    countApiCalls: () => server.callCount() + pca.callCount() + store.calls(),
  });
}

function createProps(overrides: Partial<Props> = {}): Props {
  return stringifyProps({
    Mode: 'create',
    RegionId: 'cn-hangzhou',
    Endpoint: server.endpoint,
    Protocol: 'http',
    CredentialsSecretArn: credentialsArn,
    Subject: SUBJECT,
    SubjectAlternativeNames: ['www.example.com', 'api.example.com'],
    KeySpec: 'RSA_2048',
    ExportablePrivateKey: 'false',
    CertificateAuthorityArn: rsaCa.arn,
    TemplateArn: TEMPLATE_ARN,
    ValidityDays: '90',
    RemovalPolicy: 'destroy',
    DeactivateOnDelete: 'false',
    ...overrides,
  } as Props);
}

/** A KMS certificate made outside the construct, with a certificate signed for its CSR. */
async function externalCertificate(validity: { notBefore?: Date; notAfter?: Date } = {}): Promise<{ id: string; certificatePem: string }> {
  const created = await api.createCertificate({ subject: 'CN=ext.example.com,OU=Ops,O=Example,C=CN', keySpec: 'RSA_2048' });
  return { id: created.certificateId, certificatePem: await signCsr(pki.intermediate, created.csr, validity) };
}

function uploadProps(certificateId: string, certificatePem: string, overrides: Partial<Props> = {}): Props {
  return stringifyProps({
    Mode: 'upload',
    RegionId: 'cn-hangzhou',
    Endpoint: server.endpoint,
    Protocol: 'http',
    CredentialsSecretArn: credentialsArn,
    CertificateId: certificateId,
    Certificate: { kind: 'inline', value: certificatePem },
    CertificateChain: { kind: 'inline', value: pki.chainPem },
    RemovalPolicy: 'retain',
    DeactivateOnDelete: 'false',
    ...overrides,
  } as Props);
}

function kmsWrites(): number {
  return KMS_WRITES.reduce((n, action) => n + server.callCount(action), 0);
}

function ids(): Set<string> {
  return new Set(server.certificates().map((c) => c.certificateId));
}

/** Certificates the fake holds now that it did not hold in `before`. */
function newSince(before: Set<string>): string[] {
  return server.certificates().map((c) => c.certificateId).filter((id) => !before.has(id));
}

function leakCheck(): void {
  driver.assertNoLeak([
    ...store.secretValues(),
    server.credentials.accessKeyId,
    server.credentials.accessKeySecret,
    sts.accessKeySecret,
    sts.securityToken!,
    pki.leaf.privateKeyPem,
    pki.intermediate.privateKeyPem,
  ]);
}

function expectOk(step: StepResult): string {
  if (step.error) {
    throw step.error;
  }
  return step.physicalResourceId!;
}

describe('create mode (KMS key, ACM Private CA signature)', () => {
  let countCreatesBefore = 0;
  beforeEach(() => {
    countCreatesBefore = server.callCount('CreateCertificate');
  });

  test('standard CloudFormation sequences against stateful KMS and ACM Private CA fakes', async () => {
    const before = ids();
    const base = createProps({ Tags: [{ Key: 'team', Value: 'platform' }] });
    const inPlace = createProps({ Tags: [{ Key: 'team', Value: 'edge' }, { Key: 'tier', Value: 'prod' }], DeactivateOnDelete: 'false' });
    const replacing = createProps({ ...inPlace, SubjectAlternativeNames: ['www.example.com'] });
    let writes = 0;
    let creates = 0;

    const steps = await standardSequences(driver, {
      props: base,
      changedInPlace: inPlace,
      replacing,
      failingCreate: {
        props: createProps({ SubjectAlternativeNames: ['fail.example.com'] }),
        arrange: () => pca.failNext('IssueCertificate', new InvalidArgsException({ message: 'The template is not allowed.', $metadata: {} })),
      },
      afterStep: async (name, step) => {
        const id = step.physicalResourceId!;
        switch (name) {
          case 'create': {
            const stored = server.certificate(id)!;
            expect(stored.status).toBe('ACTIVE');
            expect(stored.tags).toEqual({ team: 'platform', ...ownerTagsOf(step) });
            creates = server.callCount('CreateCertificate');
            expect(step.data).toEqual({
              CertificateId: id,
              Arn: `acs:kms:cn-hangzhou:5555666677778888:certificate/${id}`,
              SerialNumber: stored.serial,
              NotAfter: new Date(stored.notAfter!).toISOString(),
            });
            break;
          }
          case 'retriedCreate':
            // The redelivered Create found its own certificate: still exactly one.
            expect(newSince(before)).toEqual([id]);
            writes = kmsWrites() + pca.writeCalls();
            break;
          case 'updateNoChange':
            expect(kmsWrites() + pca.writeCalls()).toBe(writes);
            break;
          case 'updateInPlace':
            expect(server.certificate(id)?.tags).toEqual({ team: 'edge', tier: 'prod', ...ownerTagsOf(step) });
            // Tags are updated in place: no new certificate.
            expect(server.callCount('CreateCertificate')).toBe(creates);
            break;
          case 'updateReplace':
            expect(server.certificate(id)?.subjectAlternativeNames).toEqual(['www.example.com']);
            expect(server.certificate(id)?.status).toBe('ACTIVE');
            break;
          case 'deleteOld':
          case 'delete':
            expect(server.certificate(id)).toBeUndefined();
            break;
          case 'failedCreate':
            expect(step.error?.message).toMatch(/issuer \(acm-pca:IssueCertificate\): ACM Private CA rejected the request .*InvalidArgsException/);
            // The certificate that onEvent created was deleted before failing.
            expect(server.certificate(id)).toBeUndefined();
            break;
          case 'rollbackDelete':
            expect(step.handlerInvoked).toBe(true);
            break;
        }
      },
    });

    expect(steps.rollbackDelete?.error).toBeUndefined();
    expect(newSince(before)).toEqual([]);
    leakCheck();
  });

  test('KMS makes the key, the CA signs the CSR with the algorithm of its own key, and KMS gets certificate and chain', async () => {
    const id = expectOk(await driver.create(createProps()));

    const stored = server.certificate(id)!;
    expect(stored.keySpec).toBe('RSA_2048');
    expect(stored.exportablePrivateKey).toBe(false);
    // RFC 2253 with the comma escaped; the certificate carries the unescaped organization.
    expect(stored.subject).toBe('CN=www.example.com,OU=Platform,O=Example\\, Inc.,ST=Zhejiang,C=CN');
    const cert = new X509Certificate(stored.certificatePem!);
    expect(new x509.X509Certificate(stored.certificatePem!).subjectName.getField('O')).toEqual(['Example, Inc.']);
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(stored.publicKeyPem);
    expect(cert.verify(new X509Certificate(rsaCa.certificatePem!).publicKey)).toBe(true);
    expect(stored.certificateChainPem).toBe(rsaCa.certificatePem);
    const issue = pca.inputsOf('IssueCertificate').pop()!;
    expect(issue).toMatchObject({ CertificateAuthorityArn: rsaCa.arn, SigningAlgorithm: 'SHA256WITHRSA', TemplateArn: TEMPLATE_ARN, Validity: { Type: 'DAYS', Value: 90 } });
    expect(Buffer.from(issue.Csr as Uint8Array).toString('utf8')).toBe(stored.csrPem);
    leakCheck();
  });

  test.each([
    ['an RSA_2048 key with an EC CA', 'RSA_2048', () => ecCa, 'SHA256WITHECDSA'],
    ['an EC_P256 key with an RSA CA', 'EC_P256', () => rsaCa, 'SHA256WITHRSA'],
    ['an EC_P256 key with an EC CA', 'EC_P256', () => ecCa, 'SHA256WITHECDSA'],
  ] as const)('%s is signed with the CA key\'s algorithm', async (_name, keySpec, ca, algorithm) => {
    const id = expectOk(await driver.create(createProps({ KeySpec: keySpec, CertificateAuthorityArn: ca().arn, ExportablePrivateKey: 'true' })));

    expect(pca.inputsOf('IssueCertificate').pop()?.SigningAlgorithm).toBe(algorithm);
    expect(server.certificate(id)).toMatchObject({ status: 'ACTIVE', keySpec, exportablePrivateKey: true });
  });

  test('waits while ACM Private CA is still issuing, within a bound', async () => {
    pca.issueDelayPolls = 3;
    const polls = pca.log.filter((op) => op === 'GetCertificate').length;
    try {
      const id = expectOk(await driver.create(createProps()));
      expect(server.certificate(id)?.status).toBe('ACTIVE');
      expect(pca.log.filter((op) => op === 'GetCertificate').length - polls).toBe(4);
    } finally {
      pca.issueDelayPolls = 0;
    }
  });

  test('issuance that never finishes fails after the bound, and the KMS certificate is deleted', async () => {
    let offset = 0;
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    retryConfig.sleep = async (ms: number) => {
      offset += ms;
    };
    handler.pcaSettings.issueWaitDeadlineMs = 30_000;
    handler.pcaSettings.issueWaitIntervalMs = 3_000;
    pca.issueDelayPolls = 1000;
    const before = ids();
    const polls = pca.log.filter((op) => op === 'GetCertificate').length;
    try {
      const step = await driver.create(createProps());

      expect(step.error?.message).toMatch(/ACM Private CA is still issuing after 30 seconds; deploy again/);
      // 30 seconds at 3-second intervals: the first poll and ten more at most.
      expect(pca.log.filter((op) => op === 'GetCertificate').length - polls).toBeLessThanOrEqual(11);
      expect(newSince(before)).toEqual([]);
      expect(server.certificate(step.physicalResourceId!)).toBeUndefined();
    } finally {
      pca.issueDelayPolls = 0;
    }
  });

  test('an upload KMS rejects after CreateCertificate deletes the created certificate, and the rollback Delete succeeds', async () => {
    const before = ids();
    server.failNext('UploadCertificate', 'InvalidParameter', 400, { message: 'The specified parameter Certificate is not valid.' });

    const failed = await driver.create(createProps());
    const rollback = await driver.delete(failed.physicalResourceId!, createProps());

    expect(failed.error?.message).toMatch(/^issuer: KMS rejected the certificate the CA issued for certificate [0-9a-f-]+ \(InvalidParameter: The specified parameter Certificate is not valid\.\)/);
    expect(failed.physicalResourceId).not.toBe(CREATE_FAILED_PHYSICAL_ID);
    expect(rollback.error).toBeUndefined();
    expect(newSince(before)).toEqual([]);
    expect(server.callCount('DeleteCertificate')).toBeGreaterThanOrEqual(1);
  });

  test('a retried create after a failure leaves exactly one certificate', async () => {
    const before = ids();
    pca.failNext('IssueCertificate', new InvalidStateException({ message: 'The CA is busy.', $metadata: {} }));
    const failed = await driver.create(createProps());
    await driver.delete(failed.physicalResourceId!, createProps());

    const retried = await driver.create(createProps());

    expect(failed.error).toBeDefined();
    expect(newSince(before)).toEqual([expectOk(retried)]);
  });

  test('a redelivered Create returns the certificate it already created instead of a second one', async () => {
    const before = ids();
    const first = await driver.create(createProps());
    const again = await driver.redeliver(first);

    expect(again.physicalResourceId).toBe(first.physicalResourceId);
    expect(newSince(before)).toEqual([first.physicalResourceId]);
    expect(server.callCount('CreateCertificate')).toBe(countCreatesBefore + 1);
  });

  test('a CreateCertificate whose reply is lost is not retried, and the error says where to find the certificate', async () => {
    const before = ids();
    server.dropNext('CreateCertificate');

    const step = await driver.create(createProps());

    expect(step.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
    expect(step.error?.message).toMatch(/CreateCertificate in cn-hangzhou failed without a usable reply/);
    expect(step.error?.message).toContain('KMS may have created a PENDING certificate for "CN=www.example.com,OU=Platform,O=Example\\, Inc.,ST=Zhejiang,C=CN"');
    expect(step.error?.message).toMatch(/look for it in the KMS console/);
    expect(server.callCount('CreateCertificate')).toBe(countCreatesBefore + 1);
    // The residual risk, made visible: the fake holds a PENDING certificate nobody knows the ID of.
    const orphans = newSince(before);
    expect(orphans).toHaveLength(1);
    expect(server.certificate(orphans[0])?.status).toBe('PENDING');
    await api.deleteCertificate(orphans[0]);
  });

  test('throttling is retried with backoff, for CreateCertificate and in isComplete', async () => {
    const before = ids();
    server.failNext('CreateCertificate', 'Throttling.User', 400, { times: 2 });
    server.failNext('UploadCertificate', 'Throttling', 400);

    const id = expectOk(await driver.create(createProps()));

    expect(newSince(before)).toEqual([id]);
    expect(server.certificate(id)?.status).toBe('ACTIVE');
    expect(sleeps).toHaveLength(3);
    expect(driver.steps[0].logs.filter((l) => l.includes('"retrying"'))).toHaveLength(3);
  });

  test('throttling that outlasts the retries fails naming the fix, and nothing is left behind', async () => {
    const before = ids();
    server.failNext('CreateCertificate', 'Throttling.User', 400, { times: handler.settings.kmsMaxAttempts });

    const step = await driver.create(createProps());

    expect(server.callCount('CreateCertificate')).toBe(countCreatesBefore + handler.settings.kmsMaxAttempts);
    expect(step.error?.message).toMatch(/KMS CreateCertificate in cn-hangzhou was throttled \(Throttling\.User\) and retries ran out; deploy again later/);
    expect(newSince(before)).toEqual([]);
  });

  test('a replacement whose signing fails deletes only the new certificate; the old one stays', async () => {
    const before = ids();
    const props = createProps();
    const oldId = expectOk(await driver.create(props));
    pca.failNext('IssueCertificate', new InvalidArgsException({ message: 'Validity exceeds the CA.', $metadata: {} }));

    const replaced = await driver.update(oldId, props, createProps({ ValidityDays: '91' }));

    expect(replaced.error?.message).toMatch(/issuer \(acm-pca:IssueCertificate\)/);
    expect(newSince(before)).toEqual([oldId]);
    expect(server.certificate(oldId)?.status).toBe('ACTIVE');
  });

  test('an in-place update of a certificate deleted outside CloudFormation fails clearly and deletes nothing', async () => {
    const props = createProps();
    const id = expectOk(await driver.create(props));
    await api.deleteCertificate(id);
    const deletes = server.callCount('DeleteCertificate');

    const step = await driver.update(id, props, createProps({ Tags: [{ Key: 'a', Value: 'b' }] }));

    expect(step.error?.message).toMatch(new RegExp(`the KMS certificate ${id} of this resource no longer exists in cn-hangzhou`));
    expect(server.callCount('DeleteCertificate')).toBe(deletes);
  });

  test('removing a tag removes only tags this construct set; tags added outside stay', async () => {
    const tagged = createProps({ Tags: [{ Key: 'team', Value: 'platform' }] });
    const id = expectOk(await driver.create(tagged));
    await api.tagCertificate(id, { external: 'console' });

    expectOk(await driver.update(id, tagged, createProps()));

    // The ownership tags stay: they are the handler's, not the construct's tags.
    expect(Object.keys(server.certificate(id)!.tags).sort()).toEqual(['cdk-certificates:logical-id', 'cdk-certificates:stack-id', 'external']);
  });

  test('a RAM permission error names credentials and the missing action', async () => {
    server.failNext('CreateCertificate', 'Forbidden.RAM', 403, { message: 'User not authorized to operate on the specified resource.' });

    const step = await driver.create(createProps());

    expect(step.error?.message).toMatch(/^credentials: the RAM identity of the AccessKey may not call kms:CreateCertificate \(Forbidden\.RAM: User not authorized/);
  });

  test('a service message that echoes a credential is scrubbed before it reaches CloudFormation or the logs', async () => {
    server.failNext('CreateCertificate', 'InvalidParameter', 400, { message: `Bad request for key ${server.credentials.accessKeySecret}` });

    const step = await driver.create(createProps());

    expect(step.error?.message).toMatch(/^subject: KMS rejected CreateCertificate \(InvalidParameter: Bad request for key \[redacted\]\)/);
    leakCheck();
  });

  test.each([
    ['CA not ACTIVE', () => {
      rsaCa.status = 'DISABLED';
    }, createProps, /issuer: the CA .* is DISABLED; it issues certificates only when ACTIVE: enable it/],
    ['validity past the CA', () => undefined, () => createProps({ ValidityDays: '99999' }), /validity: 99999 days would end after the CA's own certificate/],
    ['a country that was a token', () => undefined, () => createProps({ Subject: { ...SUBJECT, Country: 'cn' } }), /subject\.country: 'cn' is not a two-letter ISO 3166-1 country code/],
    ['eleven SANs that were a token', () => undefined, () => createProps({ SubjectAlternativeNames: Array.from({ length: 11 }, (_, i) => `h${i}.example.com`) }), /subjectAlternativeNames: KMS accepts at most 10 names, got 11/],
    ['EC_SM2', () => undefined, () => createProps({ KeySpec: 'EC_SM2' }), /keySpec: EC_SM2 cannot be used with issuer/],
    ['a missing region', () => undefined, () => createProps({ RegionId: '' }), /regionId: is required/],
    ['http to a remote host', () => undefined, () => createProps({ Endpoint: 'kms.cn-hangzhou.aliyuncs.com' }), /endpoint: .*plain http/],
  ])('%s fails before anything is created', async (_name, arrange, props, message) => {
    const before = ids();
    const writesBefore = kmsWrites();
    arrange();
    try {
      const step = await driver.create(props());

      expect(step.error?.message).toMatch(message);
      expect(step.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
      expect(kmsWrites()).toBe(writesBefore);
      expect(newSince(before)).toEqual([]);
    } finally {
      rsaCa.status = 'ACTIVE';
    }
  });
});

describe('credentials', () => {
  test.each([
    ['an unknown AccessKey ID', () => ({ accessKeyId: 'LTAIunknownkey000', accessKeySecret: 'some-secret-value-1' }),
      /credentials: Alibaba Cloud does not know the accessKeyId in the credentials secret, or it is disabled \(InvalidAccessKeyId\.NotFound\)/],
    ['a wrong AccessKey secret', () => ({ accessKeyId: server.credentials.accessKeyId, accessKeySecret: 'wrong-secret-value-1' }),
      /credentials: the accessKeySecret in the credentials secret does not match its accessKeyId \(SignatureDoesNotMatch\)/],
    ['a stale STS token', () => ({ ...sts, securityToken: 'CAIS-an-older-token-value-000' }),
      /credentials: the securityToken in the credentials secret is expired or does not belong to its accessKeyId \(InvalidSecurityToken\.MismatchWithAccessKey\)/],
  ])('%s fails naming credentials, and creates nothing', async (_name, value, message) => {
    const before = ids();
    const arn = store.putSecret('alibaba/wrong', value());

    const step = await driver.create(createProps({ CredentialsSecretArn: arn }));

    expect(step.error?.message).toMatch(message);
    expect(newSince(before)).toEqual([]);
    leakCheck();
  });

  test.each([
    ['not JSON', 'LTAI:secret', /credentials: the secret .* does not hold JSON; store \{"accessKeyId"/],
    ['a missing accessKeySecret', { accessKeyId: 'LTAIonlythekeyid' }, /credentials: the secret .* has no field accessKeySecret/],
  ])('a secret with %s fails before any KMS call', async (_name, value, message) => {
    const calls = server.callCount();
    const arn = store.putSecret('alibaba/malformed', value);

    const step = await driver.create(createProps({ CredentialsSecretArn: arn }));

    expect(step.error?.message).toMatch(message);
    expect(server.callCount()).toBe(calls);
    leakCheck();
  });

  test('STS credentials (with securityToken) work, and none of them leaks', async () => {
    const arn = store.putSecret('alibaba/sts', sts);

    const id = expectOk(await driver.create(createProps({ CredentialsSecretArn: arn })));
    expectOk(await driver.delete(id, createProps({ CredentialsSecretArn: arn })));

    expect(server.certificate(id)).toBeUndefined();
    expect(server.requests.some((r) => r.headers['x-acs-security-token'] === sts.securityToken)).toBe(true);
    leakCheck();
  });
});

describe('deletion', () => {
  test('DESTROY deletes the certificate and its key; a second delete, or one of a certificate gone, succeeds', async () => {
    const id = expectOk(await driver.create(createProps()));

    expectOk(await driver.delete(id, createProps()));
    expect(server.certificate(id)).toBeUndefined();
    expectOk(await driver.delete(id, createProps()));
  });

  test('RETAIN keeps the certificate ACTIVE', async () => {
    const id = expectOk(await driver.create(createProps({ RemovalPolicy: 'retain' })));

    const deletes = server.callCount('DeleteCertificate');
    expectOk(await driver.delete(id, createProps({ RemovalPolicy: 'retain' })));

    expect(server.certificate(id)?.status).toBe('ACTIVE');
    expect(server.callCount('DeleteCertificate')).toBe(deletes);
    await api.deleteCertificate(id);
  });

  test('deactivateOnDelete sets the certificate INACTIVE instead of deleting it', async () => {
    const props = createProps({ DeactivateOnDelete: 'true' });
    const id = expectOk(await driver.create(props));

    expectOk(await driver.delete(id, props));
    expect(server.certificate(id)?.status).toBe('INACTIVE');
    // Deleting again changes nothing.
    const writes = kmsWrites();
    expectOk(await driver.delete(id, props));
    expect(kmsWrites()).toBe(writes);
    await api.deleteCertificate(id);
  });

  test('a certificate left PENDING is deleted even under RETAIN: it was never usable', async () => {
    const created = await api.createCertificate({ subject: 'CN=pending.example.com,OU=x,O=y,C=CN', keySpec: 'EC_P256' });

    expectOk(await driver.delete(created.certificateId, createProps({ RemovalPolicy: 'retain' })));

    expect(server.certificate(created.certificateId)).toBeUndefined();
  });

  test('a RETAIN delete succeeds even when KMS cannot be reached', async () => {
    const created = await api.createCertificate({ subject: 'CN=keep.example.com,OU=x,O=y,C=CN', keySpec: 'EC_P256' });

    const step = await driver.delete(created.certificateId, createProps({ RemovalPolicy: 'retain', Endpoint: '127.0.0.1:1' }));

    expect(step.error).toBeUndefined();
    expect(server.certificate(created.certificateId)).toBeDefined();
    await api.deleteCertificate(created.certificateId);
  });
});

describe('ownership', () => {
  const OTHER_STACK = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Edge/0f9e8d7c-6b5a-4321-8765-43210fedcba9';

  test('an upload never claims a KMS certificate another stack owns, and a delete never removes it', async () => {
    const { id, certificatePem } = await externalCertificate();
    await api.tagCertificate(id, { 'cdk-certificates:stack-id': OTHER_STACK, 'cdk-certificates:logical-id': 'Cert' });
    const writes = kmsWrites();
    const step = await driver.create(uploadProps(id, certificatePem));
    expect(step.error?.message).toMatch(new RegExp(`the KMS certificate ${id} belongs to stack Edge \\(arn:aws:cloudformation:eu-west-1:[^)]+\\), not to this one`));
    const deleted = await driver.delete(id, uploadProps(id, certificatePem, { RemovalPolicy: 'destroy' }));
    expect(deleted.error).toBeUndefined();
    expect(kmsWrites()).toBe(writes);
    expect(server.certificate(id)).toBeDefined();
  });

  test('an upload claims an untagged certificate with the ownership tags', async () => {
    const { id, certificatePem } = await externalCertificate();
    const step = await driver.create(uploadProps(id, certificatePem));
    expect(step.error).toBeUndefined();
    expect(server.certificate(id)!.tags).toEqual(ownerTagsOf(step));
  });
});

describe('upload mode (an existing certificateId)', () => {
  test('uploads a certificate from a secret with its chain; a redelivery and a no-op update write nothing', async () => {
    const { id, certificatePem } = await externalCertificate();
    const pemArn = store.putSecret('pem/ext', { certificate: certificatePem });
    const props = uploadProps(id, certificatePem, {
      Certificate: { kind: 'secret', secretId: pemArn, jsonField: 'certificate' },
      Tags: [{ Key: 'owner', Value: 'ops' }],
    });

    const created = await driver.create(props);
    expect(expectOk(created)).toBe(id);
    const stored = server.certificate(id)!;
    expect(stored).toMatchObject({ status: 'ACTIVE', certificatePem, certificateChainPem: pki.chainPem, tags: { owner: 'ops' } });
    expect(created.data).toEqual({
      CertificateId: id,
      Arn: stored.arn,
      SerialNumber: new X509Certificate(certificatePem).serialNumber.toLowerCase(),
      NotAfter: new Date(new X509Certificate(certificatePem).validTo).toISOString(),
    });

    const writes = kmsWrites();
    expect(expectOk(await driver.redeliver(created))).toBe(id);
    expect(expectOk(await driver.update(id, props, props))).toBe(id);
    expect(kmsWrites()).toBe(writes);
    leakCheck();
  });

  test('a new certificate is uploaded in place: same certificate ID, new serial', async () => {
    const { id, certificatePem } = await externalCertificate();
    const first = uploadProps(id, certificatePem);
    expectOk(await driver.create(first));
    const renewed = await signCsr(pki.intermediate, server.certificate(id)!.csrPem);

    const step = await driver.update(id, first, uploadProps(id, renewed));

    expect(expectOk(step)).toBe(id);
    expect(server.certificate(id)?.certificatePem).toBe(renewed);
    expect(step.data?.SerialNumber).toBe(new X509Certificate(renewed).serialNumber.toLowerCase());
  });

  test('another certificateId is a new physical ID; the old one is kept (RETAIN default)', async () => {
    const a = await externalCertificate();
    const b = await externalCertificate();
    const first = uploadProps(a.id, a.certificatePem);
    expectOk(await driver.create(first));

    const moved = await driver.update(a.id, first, uploadProps(b.id, b.certificatePem));
    expectOk(await driver.delete(a.id, first));

    expect(moved.physicalResourceId).toBe(b.id);
    expect(server.certificate(a.id)?.status).toBe('ACTIVE');
    expect(server.certificate(b.id)?.status).toBe('ACTIVE');
  });

  test('a certificate not issued for the CSR\'s key is refused before upload, naming certificate', async () => {
    const { id } = await externalCertificate();
    const uploads = server.callCount('UploadCertificate');

    const step = await driver.create(uploadProps(id, pki.leaf.certificatePem));

    expect(step.error?.message).toMatch(new RegExp(`^certificate: is not issued for the key of KMS certificate ${id}: the certificate's public key \\(RSA 2048\\) differs from the KMS key \\(RSA 2048\\); sign that KMS certificate's CSR`));
    expect(server.callCount('UploadCertificate')).toBe(uploads);
    expect(server.certificate(id)?.status).toBe('PENDING');
  });

  test('KMS\'s own rejection of an upload is explained naming certificate', async () => {
    const { id, certificatePem } = await externalCertificate();
    server.failNext('UploadCertificate', 'InvalidParameter', 400, { message: 'The public key of the certificate does not match the key of the certificate signing request.' });

    const step = await driver.create(uploadProps(id, certificatePem));

    expect(step.error?.message).toMatch(new RegExp(`^certificate: KMS rejected it for certificate ${id} \\(InvalidParameter: The public key of the certificate does not match`));
    expect(step.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
    expect(server.certificate(id)?.status).toBe('PENDING');
  });

  test('an unknown certificateId, an expired certificate and a misordered chain each fail naming the property', async () => {
    const { id, certificatePem } = await externalCertificate();

    const unknown = await driver.create(uploadProps('00000000-0000-4000-8000-00000000abcd', certificatePem));
    // For the KMS key (content checks come first), but expired: refused before the upload.
    const day = 86_400_000;
    const old = await externalCertificate({ notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) });
    const expired = await driver.create(uploadProps(old.id, old.certificatePem, { CertificateChain: undefined }));
    const misordered = await driver.create(uploadProps(id, certificatePem, { CertificateChain: { kind: 'inline', value: pki.root.certificatePem + pki.intermediate.certificatePem } }));

    expect(unknown.error?.message).toMatch(/^certificateId: KMS has no certificate 00000000-0000-4000-8000-00000000abcd in cn-hangzhou; check certificateId and regionId/);
    expect(expired.error?.message).toMatch(/^certificate: the certificate has expired/);
    expect(misordered.error?.message).toMatch(/^certificateChain: /);
    expect(server.certificate(id)?.status).toBe('PENDING');
  });

  test('DESTROY (opted in) deletes the certificate; deactivateOnDelete sets it INACTIVE', async () => {
    const a = await externalCertificate();
    const b = await externalCertificate();
    const destroy = uploadProps(a.id, a.certificatePem, { RemovalPolicy: 'destroy' });
    const deactivate = uploadProps(b.id, b.certificatePem, { RemovalPolicy: 'destroy', DeactivateOnDelete: 'true' });
    expectOk(await driver.create(destroy));
    expectOk(await driver.create(deactivate));

    expectOk(await driver.delete(a.id, destroy));
    expectOk(await driver.delete(b.id, deactivate));

    expect(server.certificate(a.id)).toBeUndefined();
    expect(server.certificate(b.id)?.status).toBe('INACTIVE');
  });

  test('an unreachable endpoint fails naming endpoint and the network path the handler needs', async () => {
    const { id, certificatePem } = await externalCertificate();

    const step = await driver.create(uploadProps(id, certificatePem, { Endpoint: '127.0.0.1:1' }));

    expect(step.error?.message).toMatch(/^endpoint: cannot reach KMS for DescribeCertificate \(ECONNREFUSED/);
    expect(step.error?.message).toMatch(/the handler needs a network path to 127\.0\.0\.1:1: internet egress \(through a NAT gateway when vpc is set\)/);
  });
});
