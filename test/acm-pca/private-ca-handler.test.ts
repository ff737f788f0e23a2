import { X509Certificate } from 'node:crypto';
import {
  ACMPCAClient,
  ConcurrentModificationException,
  CreateCertificateAuthorityCommand,
  DeleteCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateCommand,
  InvalidPolicyException,
  InvalidStateException,
  IssueCertificateCommand,
  RestoreCertificateAuthorityCommand,
  RevokeCertificateCommand,
  UpdateCertificateAuthorityCommand,
} from '@aws-sdk/client-acm-pca';
import * as source from '../../lambda/private-ca';
import type { PrivateCaResourceProperties, PrivateCaPolicyResourceProperties } from '../../src/contract/private-ca';
import { FakeAcmPca, FakeCa, makeTestCsr } from '../support/fakes/acm-pca';
import { handlerUnderTest } from '../support/handler-under-test';
import { CREATE_FAILED_PHYSICAL_ID, LifecycleDriver, standardSequences, stringifyProps } from '../support/harness/lifecycle';

const handler = handlerUnderTest('private-ca', source);
const { retryConfig } = handler;

const pca = new FakeAcmPca();
const client = new ACMPCAClient({ region: 'us-east-1' });
const send = (command: unknown): Promise<any> => (client as any).send(command);
const realSleep = retryConfig.sleep;
const sleeps: number[] = [];

beforeEach(() => {
  pca.reset();
  pca.install();
  sleeps.length = 0;
  retryConfig.sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  handler.settings.concurrentModificationIntervalMs = 0;
  handler.settings.concurrentModificationDeadlineMs = 60_000;
});

afterEach(() => {
  pca.restore();
  retryConfig.sleep = realSleep;
});

function caDriver(): LifecycleDriver<PrivateCaResourceProperties> {
  return new LifecycleDriver<PrivateCaResourceProperties>({ handler, resourceType: 'Custom::PrivateCa', countApiCalls: () => pca.callCount() });
}

function policyDriver(): LifecycleDriver<PrivateCaPolicyResourceProperties> {
  return new LifecycleDriver<PrivateCaPolicyResourceProperties>({ handler, resourceType: 'Custom::PrivateCaPolicy', countApiCalls: () => pca.callCount() });
}

function caProps(ca: FakeCa, overrides: Partial<PrivateCaResourceProperties> = {}): PrivateCaResourceProperties {
  return stringifyProps({ CertificateAuthorityArn: ca.arn, PermanentDeletionTimeInDays: '7', RemovalPolicy: 'destroy', ...overrides } as PrivateCaResourceProperties);
}

function policyFor(ca: FakeCa, account: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: ['acm-pca:IssueCertificate', 'acm-pca:GetCertificate'],
      Resource: ca.arn,
    }],
  });
}

function policyProps(ca: FakeCa, policy: string, overrides: Partial<PrivateCaPolicyResourceProperties> = {}): PrivateCaPolicyResourceProperties {
  return stringifyProps({ CertificateAuthorityArn: ca.arn, Policy: policy, RemovalPolicy: 'destroy', ...overrides } as PrivateCaPolicyResourceProperties);
}

/** Operations of the calls made since `from` (an index into the fake's log). */
function opsSince(from: number): string[] {
  return pca.log.slice(from);
}

describe('Custom::PrivateCa (deletion with a restoration window)', () => {
  test('standard sequences: create and update make no call; delete disables then deletes with the window', async () => {
    const a = await pca.addCa({ commonName: 'A', withKey: false });
    const b = await pca.addCa({ commonName: 'B', withKey: false });
    const driver = caDriver();
    const logAt: Record<string, number> = {};
    let mark = 0;
    const steps = await standardSequences(driver, {
      props: caProps(a),
      changedInPlace: caProps(a, { PermanentDeletionTimeInDays: '14' }),
      replacing: caProps(b, { PermanentDeletionTimeInDays: '21' }),
      failingCreate: { props: caProps(a, { PermanentDeletionTimeInDays: '3' }), arrange: () => undefined },
      afterStep: (name) => {
        logAt[name] = pca.log.length;
        const ops = opsSince(mark);
        mark = pca.log.length;
        switch (name) {
          case 'create':
          case 'retriedCreate':
          case 'updateNoChange':
          case 'updateInPlace':
          case 'updateReplace':
            // Recording the CA needs no call: nothing can fail after the CA exists.
            expect(ops).toEqual([]);
            expect(a.status).toBe('ACTIVE');
            break;
          case 'deleteOld':
            expect(ops).toEqual(['DescribeCertificateAuthority', 'UpdateCertificateAuthority', 'DeleteCertificateAuthority']);
            expect(a.status).toBe('DELETED');
            // The window in force when the CA was replaced (the in-place update's).
            expect(a.permanentDeletionTimeInDays).toBe(14);
            expect(b.status).toBe('ACTIVE');
            break;
          case 'delete':
            expect(b.status).toBe('DELETED');
            expect(b.permanentDeletionTimeInDays).toBe(21);
            break;
          case 'deleteAgain':
            expect(ops).toEqual(['DescribeCertificateAuthority']);
            break;
        }
      },
    });
    expect(steps.create!.physicalResourceId).toBe(a.arn);
    expect(steps.create!.data).toEqual({ Arn: a.arn });
    expect(steps.updateReplace!.physicalResourceId).toBe(b.arn);
    expect(steps.failedCreate!.error!.message).toMatch(/^permanentDeletionTimeInDays: must be a whole number of days from 7 to 30, got 3/);
    expect(steps.rollbackDelete!.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
    expect(steps.rollbackDelete!.handlerInvoked).toBe(false);
    expect(logAt.create).toBe(0);
    driver.assertNoLeak([]);
  });

  test('a retained CA is left as it is', async () => {
    const a = await pca.addCa({ withKey: false });
    const driver = caDriver();
    const created = await driver.create(caProps(a, { RemovalPolicy: 'retain' }));
    const deleted = await driver.delete(created.physicalResourceId!, caProps(a, { RemovalPolicy: 'retain' }));
    expect(deleted.error).toBeUndefined();
    expect(pca.log).toEqual([]);
    expect(a.status).toBe('ACTIVE');
  });

  test('a CA still waiting for its certificate is deleted without disabling it', async () => {
    const pending = await pca.addCa({ status: 'PENDING_CERTIFICATE', withKey: false });
    const driver = caDriver();
    const step = await driver.delete(pending.arn, caProps(pending));
    expect(step.error).toBeUndefined();
    expect(pca.log).toEqual(['DescribeCertificateAuthority', 'DeleteCertificateAuthority']);
    expect(pending.status).toBe('DELETED');
    expect(pca.inputsOf('DeleteCertificateAuthority')[0]).toMatchObject({ PermanentDeletionTimeInDays: 7 });
  });

  test('a disabled CA is deleted directly', async () => {
    const disabled = await pca.addCa({ status: 'DISABLED', withKey: false });
    const step = await caDriver().delete(disabled.arn, caProps(disabled));
    expect(step.error).toBeUndefined();
    expect(pca.log).not.toContain('UpdateCertificateAuthority');
    expect(disabled.status).toBe('DELETED');
  });

  test('a CA purged or deleted by hand is success', async () => {
    const gone = await pca.addCa({ status: 'DISABLED', withKey: false });
    await send(new DeleteCertificateAuthorityCommand({ CertificateAuthorityArn: gone.arn, PermanentDeletionTimeInDays: 7 }));
    pca.purge(gone.arn);
    const step = await caDriver().delete(gone.arn, caProps(gone));
    expect(step.error).toBeUndefined();
    expect(pca.writeCalls()).toBe(1); // only the test's own delete
  });

  test('a physical ID that is not a CA ARN deletes nothing', async () => {
    const step = await caDriver().delete('not-an-arn', caProps({ arn: 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x' } as FakeCa));
    expect(step.error).toBeUndefined();
    expect(pca.log).toEqual([]);
  });

  test('a concurrent update of the CA is waited out, throttling is retried', async () => {
    const a = await pca.addCa({ withKey: false });
    pca.failNext('UpdateCertificateAuthority', new ConcurrentModificationException({ message: 'A previous update to your private CA is still ongoing.', $metadata: {} }));
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    pca.failNext('DeleteCertificateAuthority', throttled);
    const step = await caDriver().delete(a.arn, caProps(a));
    expect(step.error).toBeUndefined();
    expect(a.status).toBe('DELETED');
    expect(pca.log.filter((op) => op === 'UpdateCertificateAuthority')).toHaveLength(2);
    expect(pca.log.filter((op) => op === 'DeleteCertificateAuthority')).toHaveLength(2);
    expect(sleeps.length).toBeGreaterThanOrEqual(2);
  });

  test('a refused delete names the property and the operation', async () => {
    const a = await pca.addCa({ status: 'DISABLED', withKey: false });
    pca.failNext('DeleteCertificateAuthority', Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const step = await caDriver().delete(a.arn, caProps(a));
    expect(step.error!.message).toMatch(/^permanentDeletionTimeInDays \(DeleteCertificateAuthority arn:aws:acm-pca:.*\): the handler role may not call ACM Private CA/);
    expect(a.status).toBe('DISABLED');
  });

  test('a CA that cannot be disabled is reported against removalPolicy; one deleted meanwhile is success', async () => {
    const a = await pca.addCa({ withKey: false });
    pca.failNext('UpdateCertificateAuthority', Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const refused = await caDriver().delete(a.arn, caProps(a));
    expect(refused.error!.message).toMatch(/^removalPolicy \(UpdateCertificateAuthority arn:.* to DISABLED\): the handler role may not call ACM Private CA/);
    expect(a.status).toBe('ACTIVE');

    pca.failNext('UpdateCertificateAuthority', () => {
      a.status = 'DELETED';
      return new InvalidStateException({ message: 'The certificate authority is deleted.', $metadata: {} });
    });
    const raced = await caDriver().delete(a.arn, caProps(a));
    expect(raced.error).toBeUndefined();
    expect(pca.log.filter((op) => op === 'DeleteCertificateAuthority')).toEqual([]);
  });

  test('a CA deleted by someone else between the checks and the delete is success', async () => {
    const a = await pca.addCa({ status: 'DISABLED', withKey: false });
    pca.failNext('DeleteCertificateAuthority', () => {
      a.status = 'DELETED';
      return new InvalidStateException({ message: 'The certificate authority is already deleted.', $metadata: {} });
    });
    const step = await caDriver().delete(a.arn, caProps(a));
    expect(step.error).toBeUndefined();
    expect(pca.log).toEqual(['DescribeCertificateAuthority', 'DeleteCertificateAuthority', 'DescribeCertificateAuthority']);
  });

  test('a delete never blocks on a bad window: the service default applies', async () => {
    const a = await pca.addCa({ status: 'DISABLED', withKey: false });
    const step = await caDriver().delete(a.arn, caProps(a, { PermanentDeletionTimeInDays: 'soon' }));
    expect(step.error).toBeUndefined();
    expect(pca.inputsOf('DeleteCertificateAuthority')[0].PermanentDeletionTimeInDays).toBeUndefined();
    expect(a.permanentDeletionTimeInDays).toBe(30);
  });

  test('an invalid ARN is refused before any call', async () => {
    const bad = { CertificateAuthorityArn: 'arn:aws:s3:::bucket', PermanentDeletionTimeInDays: '7', RemovalPolicy: 'destroy' } as const;
    const step = await caDriver().create(stringifyProps(bad));
    expect(step.error!.message).toMatch(/^certificateAuthorityArn: 'arn:aws:s3:::bucket' is not a private CA ARN/);
    expect(pca.log).toEqual([]);
  });

  test('a deleted CA can be restored within the window, as the README explains', async () => {
    const a = await pca.addCa({ withKey: false });
    await caDriver().delete(a.arn, caProps(a));
    expect(a.restorableUntil!.getTime()).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);
    await send(new RestoreCertificateAuthorityCommand({ CertificateAuthorityArn: a.arn }));
    expect(a.status).toBe('DISABLED');
  });
});

describe('Custom::PrivateCaPolicy (PutPolicy / DeletePolicy)', () => {
  test('standard sequences: put, no-op update, in-place update, move to a new CA, delete', async () => {
    const a = await pca.addCa({ commonName: 'A', withKey: false });
    const b = await pca.addCa({ commonName: 'B', withKey: false });
    const p1 = policyFor(a, '111111111111');
    const p2 = policyFor(a, '222222222222');
    const driver = policyDriver();
    let mark = 0;
    const steps = await standardSequences(driver, {
      props: policyProps(a, p1),
      changedInPlace: policyProps(a, p2),
      replacing: policyProps(b, policyFor(b, '222222222222')),
      failingCreate: {
        props: policyProps(a, p1),
        arrange: () => pca.failNext('PutPolicy', new InvalidPolicyException({ message: 'The policy is missing a required statement.', $metadata: {} })),
      },
      afterStep: (name) => {
        const ops = opsSince(mark);
        mark = pca.log.length;
        switch (name) {
          case 'create':
          case 'retriedCreate':
            expect(a.policy).toBe(p1);
            break;
          case 'updateNoChange':
            expect(ops).toEqual([]);
            break;
          case 'updateInPlace':
            expect(ops).toEqual(['PutPolicy']);
            expect(a.policy).toBe(p2);
            break;
          case 'updateReplace':
            expect(b.policy).toBe(policyFor(b, '222222222222'));
            expect(a.policy).toBe(p2);
            break;
          case 'deleteOld':
            expect(a.policy).toBeUndefined();
            expect(b.policy).toBeDefined();
            break;
          case 'delete':
          case 'deleteAgain':
            expect(b.policy).toBeUndefined();
            break;
        }
      },
    });
    expect(steps.create!.physicalResourceId).toBe(`${a.arn}/policy`);
    expect(steps.updateReplace!.physicalResourceId).toBe(`${b.arn}/policy`);
    expect(steps.failedCreate!.error!.message).toMatch(/^addToResourcePolicy \(PutPolicy on arn:aws:acm-pca:[^)]+\): ACM Private CA refused the resource policy \(The policy is missing a required statement.\).*\(InvalidPolicyException\)$/);
    driver.assertNoLeak([]);
  });

  test('the same policy with other whitespace is not put again', async () => {
    const a = await pca.addCa({ withKey: false });
    const policy = policyFor(a, '111111111111');
    const driver = policyDriver();
    const created = await driver.create(policyProps(a, policy));
    const before = pca.log.length;
    const reformatted = JSON.stringify(JSON.parse(policy), null, 2);
    const step = await driver.update(created.physicalResourceId!, policyProps(a, policy), policyProps(a, reformatted));
    expect(step.error).toBeUndefined();
    expect(pca.log.slice(before)).toEqual([]);
  });

  test('a retained policy stays; a policy on a deleted CA is already gone', async () => {
    const a = await pca.addCa({ withKey: false });
    const driver = policyDriver();
    const created = await driver.create(policyProps(a, policyFor(a, '111111111111'), { RemovalPolicy: 'retain' }));
    await driver.delete(created.physicalResourceId!, policyProps(a, policyFor(a, '111111111111'), { RemovalPolicy: 'retain' }));
    expect(a.policy).toBeDefined();

    await send(new UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: a.arn, Status: 'DISABLED' }));
    await send(new DeleteCertificateAuthorityCommand({ CertificateAuthorityArn: a.arn }));
    pca.purge(a.arn);
    const step = await driver.delete(created.physicalResourceId!, policyProps(a, policyFor(a, '111111111111')));
    expect(step.error).toBeUndefined();
  });

  test('a policy that is not JSON is refused before any call', async () => {
    const a = await pca.addCa({ withKey: false });
    const step = await policyDriver().create(policyProps(a, '{ not json'));
    expect(step.error!.message).toBe('addToResourcePolicy: the policy is not valid JSON');
    expect(pca.log).toEqual([]);
  });

  test('an unknown resource type is an error', async () => {
    const driver = new LifecycleDriver<PrivateCaResourceProperties>({ handler, resourceType: 'Custom::Other', countApiCalls: () => pca.callCount() });
    const a = await pca.addCa({ withKey: false });
    const step = await driver.create(caProps(a));
    expect(step.error!.message).toMatch(/unexpected resource type Custom::Other/);
  });
});

describe('the fake ACM Private CA model (shared with the issued-certificate tests)', () => {
  test('a root and a subordinate chain, and an issued certificate verifies against them', async () => {
    const root = await pca.addCa({ commonName: 'Root' });
    const sub = await pca.addCa({ commonName: 'Issuing', parent: root.arn, pathLength: 0 });
    const { csrPem } = await makeTestCsr('www.example.com');
    const issued = await send(new IssueCertificateCommand({
      CertificateAuthorityArn: sub.arn,
      Csr: Buffer.from(csrPem),
      SigningAlgorithm: 'SHA256WITHECDSA',
      Validity: { Type: 'DAYS', Value: 30 },
      IdempotencyToken: 'abc',
    }));
    const again = await send(new IssueCertificateCommand({
      CertificateAuthorityArn: sub.arn,
      Csr: Buffer.from(csrPem),
      SigningAlgorithm: 'SHA256WITHECDSA',
      Validity: { Type: 'DAYS', Value: 30 },
      IdempotencyToken: 'abc',
    }));
    expect(again.CertificateArn).toBe(issued.CertificateArn);
    const got = await send(new GetCertificateCommand({ CertificateAuthorityArn: sub.arn, CertificateArn: issued.CertificateArn }));
    const leaf = new X509Certificate(got.Certificate);
    const subCert = new X509Certificate(sub.certificatePem!);
    const rootCert = new X509Certificate(root.certificatePem!);
    expect(leaf.verify(subCert.publicKey)).toBe(true);
    expect(subCert.verify(rootCert.publicKey)).toBe(true);
    expect(rootCert.verify(rootCert.publicKey)).toBe(true);
    expect(got.CertificateChain).toBe(sub.certificatePem! + root.certificatePem!);

    await send(new RevokeCertificateCommand({ CertificateAuthorityArn: sub.arn, CertificateSerial: leaf.serialNumber, RevocationReason: 'SUPERSEDED' }));
    expect(pca.certificates.get(issued.CertificateArn)!.revoked?.reason).toBe('SUPERSEDED');
    await expect(send(new RevokeCertificateCommand({ CertificateAuthorityArn: sub.arn, CertificateSerial: leaf.serialNumber, RevocationReason: 'SUPERSEDED' })))
      .rejects.toMatchObject({ name: 'RequestAlreadyProcessedException' });
  });

  test('a signing algorithm outside the CA key family is refused', async () => {
    const root = await pca.addCa({ keyAlgorithm: 'EC_prime256v1' });
    const { csrPem } = await makeTestCsr();
    await expect(send(new IssueCertificateCommand({
      CertificateAuthorityArn: root.arn, Csr: Buffer.from(csrPem), SigningAlgorithm: 'SHA256WITHRSA', Validity: { Type: 'DAYS', Value: 1 },
    }))).rejects.toMatchObject({ name: 'InvalidArgsException' });
  });

  test('GetCertificate answers RequestInProgress for the configured polls', async () => {
    const root = await pca.addCa();
    pca.issueDelayPolls = 2;
    const { csrPem } = await makeTestCsr();
    const { CertificateArn } = await send(new IssueCertificateCommand({
      CertificateAuthorityArn: root.arn, Csr: Buffer.from(csrPem), SigningAlgorithm: 'SHA256WITHECDSA', Validity: { Type: 'DAYS', Value: 1 },
    }));
    const get = () => send(new GetCertificateCommand({ CertificateAuthorityArn: root.arn, CertificateArn }));
    await expect(get()).rejects.toMatchObject({ name: 'RequestInProgressException' });
    await expect(get()).rejects.toMatchObject({ name: 'RequestInProgressException' });
    await expect(get()).resolves.toHaveProperty('Certificate');
  });

  test('CA lifecycle: create is idempotent, active CAs refuse deletion, delete then restore', async () => {
    const input = {
      CertificateAuthorityConfiguration: { KeyAlgorithm: 'EC_prime256v1', SigningAlgorithm: 'SHA256WITHECDSA', Subject: { CommonName: 'X' } },
      CertificateAuthorityType: 'ROOT',
      IdempotencyToken: 'tok',
    } as const;
    const a = await send(new CreateCertificateAuthorityCommand(input));
    const b = await send(new CreateCertificateAuthorityCommand(input));
    expect(b.CertificateAuthorityArn).toBe(a.CertificateAuthorityArn);
    expect(pca.cas.size).toBe(1);

    const active = await pca.addCa({ withKey: false });
    await expect(send(new DeleteCertificateAuthorityCommand({ CertificateAuthorityArn: active.arn })))
      .rejects.toMatchObject({ name: 'InvalidStateException' });
    await send(new UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: active.arn, Status: 'DISABLED' }));
    await send(new DeleteCertificateAuthorityCommand({ CertificateAuthorityArn: active.arn, PermanentDeletionTimeInDays: 7 }));
    const described = await send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: active.arn }));
    expect(described.CertificateAuthority.Status).toBe('DELETED');
    expect(pca.getCa(active.arn).permanentDeletionTimeInDays).toBe(7);
    await send(new RestoreCertificateAuthorityCommand({ CertificateAuthorityArn: active.arn }));
    expect(pca.getCa(active.arn).status).toBe('DISABLED');
  });
});
