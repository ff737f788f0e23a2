/**
 * The shipped private-ca bundle (Custom::PrivateCa, Custom::PrivateCaPolicy,
 * Custom::PrivateCaExpiryNotices), run as Lambda runs it, against moto's ACM Private CA over HTTP
 * with the real AWS SDK v3.
 *
 * moto deviations met here (the in-repo FakeAcmPca, test/support/fakes/acm-pca.ts, keeps the AWS
 * behaviour and test/acm-pca/private-ca-handler.test.ts checks the handler against it):
 * - moto deletes an ACTIVE CA (AWS: InvalidStateException until it is DISABLED); the handler's
 *   disable-then-delete order is asserted here from the calls it makes.
 * - moto ignores PermanentDeletionTimeInDays (DescribeCertificateAuthority has no RestorableUntil);
 *   the window the handler sends is asserted here from its request.
 * - moto takes any PutPolicy document (no InvalidPolicyException or LockoutPreventedException).
 * - moto answers DeleteCertificateAuthority and DeletePolicy again for a CA already DELETED.
 */
import { X509Certificate } from 'node:crypto';
import { ACMPCAClient, DeleteCertificateAuthorityCommand, GetPolicyCommand, PutPolicyCommand } from '@aws-sdk/client-acm-pca';
import type { PrivateCaExpiryNoticesResourceProperties, PrivateCaResourceProperties, PrivateCaPolicyResourceProperties } from '../../src/contract/private-ca';
import { CREATE_FAILED_PHYSICAL_ID, LifecycleDriver, standardSequences, StepResult, stringifyProps } from '../support/harness/lifecycle';
import { awsEnvironment, LambdaRuntime, RecordedCall } from '../support/lambda-runtime';
import { MOTO_CREDENTIALS, MOTO_REGION, MotoServer, motoClientConfig, processExists, startMoto } from '../support/moto';
import { createRootCa, describeCa, MotoCa } from '../support/moto-pca';

type AnyProps = PrivateCaResourceProperties | PrivateCaPolicyResourceProperties | PrivateCaExpiryNoticesResourceProperties;

let moto: MotoServer;
let runtime: LambdaRuntime<AnyProps>;
let pca: ACMPCAClient;

beforeAll(async () => {
  moto = await startMoto();
  pca = new ACMPCAClient(motoClientConfig(moto));
  runtime = await LambdaRuntime.start<AnyProps>({
    kind: 'private-ca',
    env: awsEnvironment(moto.url, MOTO_REGION, MOTO_CREDENTIALS),
    recordInputsOf: ['DeleteCertificateAuthority', 'UpdateCertificateAuthority', 'PutPolicy'],
  });
  await runtime.setSettings({ concurrentModificationDeadlineMs: 2_000, concurrentModificationIntervalMs: 100 });
});

afterAll(async () => {
  const pids = [runtime?.pid, moto?.pid].filter((p): p is number => p !== undefined);
  await runtime?.stop();
  await moto?.stop();
  pca?.destroy();
  expect(pids.filter(processExists)).toEqual([]);
});

beforeEach(async () => {
  await moto.reset();
});

function driver<P extends AnyProps>(resourceType: string): LifecycleDriver<P> {
  return new LifecycleDriver<P>({ handler: runtime.handler, resourceType, countApiCalls: () => runtime.calls.length });
}

/** The calls the handler made during a step (the step that just ran). */
function callsOf(step: StepResult): RecordedCall[] {
  const end = runtime.calls.length;
  return runtime.calls.slice(end - step.apiCalls, end);
}

const operations = (step: StepResult) => callsOf(step).map((c) => c.operation);

function caProps(ca: MotoCa, days: string, removal: 'retain' | 'destroy' = 'destroy'): PrivateCaResourceProperties {
  return stringifyProps({ CertificateAuthorityArn: ca.arn, PermanentDeletionTimeInDays: days, RemovalPolicy: removal });
}

function policyFor(ca: MotoCa, account: string): string {
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

function policyProps(ca: MotoCa, policy: string): PrivateCaPolicyResourceProperties {
  return stringifyProps({ CertificateAuthorityArn: ca.arn, Policy: policy, RemovalPolicy: 'destroy' as const });
}

async function policyOf(ca: MotoCa): Promise<string | undefined> {
  try {
    return (await pca.send(new GetPolicyCommand({ ResourceArn: ca.arn }))).Policy;
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') {
      return undefined;
    }
    throw e;
  }
}

const statusOf = async (ca: MotoCa) => (await describeCa(pca, ca.arn))?.Status;

describe('Custom::PrivateCa against moto', () => {
  test('standard sequences: create and update call nothing; delete disables, then deletes with the window', async () => {
    const [a, b] = await Promise.all([createRootCa(pca, 'Root A'), createRootCa(pca, 'Root B')]);
    const d = driver<PrivateCaResourceProperties>('Custom::PrivateCa');
    const steps = await standardSequences(d, {
      props: caProps(a, '7'),
      changedInPlace: caProps(a, '14'),
      replacing: caProps(b, '21'),
      failingCreate: { props: caProps(a, '3'), arrange: () => undefined },
      afterStep: async (name, step) => {
        const ops = operations(step);
        switch (name) {
          case 'create':
          case 'retriedCreate':
          case 'updateNoChange':
          case 'updateInPlace':
          case 'updateReplace':
            // Recording the CA needs no call, so nothing can fail after the CA exists.
            expect(ops).toEqual([]);
            expect(await statusOf(a)).toBe('ACTIVE');
            break;
          case 'deleteOld': {
            expect(ops).toEqual(['DescribeCertificateAuthority', 'UpdateCertificateAuthority', 'DeleteCertificateAuthority']);
            const [disable, remove] = callsOf(step).slice(1);
            expect(disable.input).toEqual({ CertificateAuthorityArn: a.arn, Status: 'DISABLED' });
            // The window in force when the CA was replaced: the in-place update's.
            expect(remove.input).toEqual({ CertificateAuthorityArn: a.arn, PermanentDeletionTimeInDays: 14 });
            expect(await statusOf(a)).toBe('DELETED');
            expect(await statusOf(b)).toBe('ACTIVE');
            break;
          }
          case 'delete':
            expect(callsOf(step).at(-1)!.input).toEqual({ CertificateAuthorityArn: b.arn, PermanentDeletionTimeInDays: 21 });
            expect(await statusOf(b)).toBe('DELETED');
            break;
          case 'deleteAgain':
            // Already DELETED: one look, no write.
            expect(ops).toEqual(['DescribeCertificateAuthority']);
            expect(await statusOf(b)).toBe('DELETED');
            break;
          case 'failedCreate':
            expect(ops).toEqual([]);
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
    d.assertNoLeak([]);
  });

  test('a CA still waiting for its certificate is deleted without disabling it; a retained CA stays', async () => {
    const [pending, kept] = await Promise.all([createRootCa(pca, 'Pending', false), createRootCa(pca, 'Kept')]);
    const d = driver<PrivateCaResourceProperties>('Custom::PrivateCa');
    const step = await d.delete(pending.arn, caProps(pending, '7'));
    expect(step.error).toBeUndefined();
    expect(operations(step)).toEqual(['DescribeCertificateAuthority', 'DeleteCertificateAuthority']);
    expect(await statusOf(pending)).toBe('DELETED');

    const retained = await d.delete(kept.arn, caProps(kept, '7', 'retain'));
    expect(retained.error).toBeUndefined();
    expect(operations(retained)).toEqual([]);
    expect(await statusOf(kept)).toBe('ACTIVE');
  });

  test('a CA moto does not know is success on delete (ResourceNotFoundException over HTTP)', async () => {
    const gone: MotoCa = { arn: 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/00000000-0000-0000-0000-000000000000' };
    const step = await driver<PrivateCaResourceProperties>('Custom::PrivateCa').delete(gone.arn, caProps(gone, '7'));
    expect(step.error).toBeUndefined();
    expect(operations(step)).toEqual(['DescribeCertificateAuthority']);
    expect(step.logs.join('\n')).toMatch(/the CA is already deleted/);
  });
});

describe('Custom::PrivateCaPolicy against moto', () => {
  test('standard sequences: put, no-op, put again, move to a new CA, delete twice; a CA not ACTIVE refuses the policy', async () => {
    const [a, b, pending] = await Promise.all([createRootCa(pca, 'A'), createRootCa(pca, 'B'), createRootCa(pca, 'Pending', false)]);
    const p1 = policyFor(a, '111111111111');
    const p2 = policyFor(a, '222222222222');
    const pb = policyFor(b, '222222222222');
    const d = driver<PrivateCaPolicyResourceProperties>('Custom::PrivateCaPolicy');
    const steps = await standardSequences(d, {
      props: policyProps(a, p1),
      changedInPlace: policyProps(a, p2),
      replacing: policyProps(b, pb),
      failingCreate: { props: policyProps(pending, policyFor(pending, '111111111111')), arrange: () => undefined },
      afterStep: async (name, step) => {
        const ops = operations(step);
        switch (name) {
          case 'create':
          case 'retriedCreate':
            expect(ops).toEqual(['PutPolicy']);
            expect(await policyOf(a)).toBe(p1);
            break;
          case 'updateNoChange':
            expect(ops).toEqual([]);
            expect(await policyOf(a)).toBe(p1);
            break;
          case 'updateInPlace':
            expect(ops).toEqual(['PutPolicy']);
            expect(await policyOf(a)).toBe(p2);
            break;
          case 'updateReplace':
            expect(callsOf(step)[0].input).toEqual({ ResourceArn: b.arn, Policy: pb });
            expect(await policyOf(b)).toBe(pb);
            expect(await policyOf(a)).toBe(p2);
            break;
          case 'deleteOld':
            expect(ops).toEqual(['DeletePolicy']);
            expect(await policyOf(a)).toBeUndefined();
            expect(await policyOf(b)).toBe(pb);
            break;
          case 'delete':
          case 'deleteAgain':
            expect(ops).toEqual(['DeletePolicy']);
            expect(await policyOf(b)).toBeUndefined();
            break;
          case 'failedCreate':
            expect(ops).toEqual(['PutPolicy']);
            expect(await policyOf(pending)).toBeUndefined();
            break;
        }
      },
    });
    expect(steps.create!.physicalResourceId).toBe(`${a.arn}/policy`);
    expect(steps.updateReplace!.physicalResourceId).toBe(`${b.arn}/policy`);
    // moto's InvalidStateException for a CA that is not ACTIVE, explained by the handler.
    expect(steps.failedCreate!.error!.message).toMatch(
      /^addToResourcePolicy \(PutPolicy on arn:aws:acm-pca:[^)]+\): the CA is not in a state that allows this change \(.*\) \(InvalidStateException\)$/);
    expect(steps.rollbackDelete!.handlerInvoked).toBe(false);
    d.assertNoLeak([]);
  });
});

describe('Custom::PrivateCaExpiryNotices with moto CA certificates', () => {
  test('standard sequences time the notices from the CA certificate without any call', async () => {
    const [a, b] = await Promise.all([createRootCa(pca, 'A'), createRootCa(pca, 'B')]);
    const notAfter = (ca: MotoCa) => new Date(new X509Certificate(ca.certificatePem!).validTo).toISOString();
    const props = (ca: MotoCa, days: string[], certificate = ca.certificatePem!): PrivateCaExpiryNoticesResourceProperties =>
      stringifyProps({ CertificateAuthorityArn: ca.arn, CaCertificate: certificate, NotifyDaysBefore: days });
    const d = driver<PrivateCaExpiryNoticesResourceProperties>('Custom::PrivateCaExpiryNotices');
    const steps = await standardSequences(d, {
      props: props(a, ['30']),
      changedInPlace: props(a, ['30', '7']),
      replacing: props(b, ['30']),
      failingCreate: { props: props(a, ['30'], 'not a certificate'), arrange: () => undefined },
      afterStep: (_name, step) => {
        expect(step.apiCalls).toBe(0);
      },
    });
    expect(steps.create!.physicalResourceId).toBe(`${a.arn}/expiry-notices`);
    expect(steps.create!.data!.NotifyNotAfter).toBe(notAfter(a));
    // An EventBridge Scheduler at() expression, 7 days before notAfter.
    const at7 = new Date(new Date(notAfter(a)).getTime() - 7 * 24 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '');
    expect(steps.updateInPlace!.data!.NotifyAt7).toBe(`at(${at7})`);
    expect(steps.create!.data!.NotifyAt7).toBeUndefined();
    expect(steps.updateReplace!.data!.NotifyNotAfter).toBe(notAfter(b));
    expect(steps.failedCreate!.error!.message).toMatch(/^certificate: /);
  });
});

describe('moto deviations (the in-repo FakeAcmPca keeps the AWS behaviour)', () => {
  test('moto deletes an ACTIVE CA and keeps no restoration window', async () => {
    const a = await createRootCa(pca, 'Active');
    // AWS: InvalidStateException (disable it first). If this starts failing, moto has caught up.
    await pca.send(new DeleteCertificateAuthorityCommand({ CertificateAuthorityArn: a.arn, PermanentDeletionTimeInDays: 7 }));
    const described = await describeCa(pca, a.arn);
    expect(described!.Status).toBe('DELETED');
    // AWS reports RestorableUntil (deletion time + window) for a DELETED CA.
    expect(described!.RestorableUntil).toBeUndefined();
  });

  test('moto takes a policy that is not a policy', async () => {
    const a = await createRootCa(pca, 'A');
    // AWS: InvalidPolicyException. The handler refuses such a document before calling (tier 1).
    await pca.send(new PutPolicyCommand({ ResourceArn: a.arn, Policy: '{"not":"a policy"}' }));
    expect(await policyOf(a)).toBe('{"not":"a policy"}');
  });
});
