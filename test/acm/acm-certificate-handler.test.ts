import { LimitExceededException, ValidationException } from '@aws-sdk/client-acm';
import { EKU, KU, makeUsageLeaf } from './acm-fixtures';
import { FakeAcm } from './fake-acm';
import * as source from '../../lambda/acm-certificate';
import type { AcmImportedCertificateResourceProperties } from '../../src/contract/acm-certificate';
import { exportPrivateKeyPem, makeLeaf, makeSelfSigned, makeTestPki, TestCertificate, TestPki } from '../support/fixtures/pki';
import { handlerUnderTest } from '../support/handler-under-test';
import { FakeMaterialStore } from '../support/harness/fake-material';
import { CREATE_FAILED_PHYSICAL_ID, LifecycleDriver, MAX_RESPONSE_BYTES, standardSequences, stringifyProps } from '../support/harness/lifecycle';

const handler = handlerUnderTest('acm-certificate', source);
const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Stack/5d1c1e30-0000-4000-8000-00000000beef';
const ownerTags = () => ({ 'cdk-certificates:stack-id': STACK_ID, 'cdk-certificates:logical-id': 'Resource' });
const { retryConfig } = handler;

let pki: TestPki;
let renewed: TestCertificate;
let other: TestCertificate;
let acm: FakeAcm;
let store: FakeMaterialStore;
let driver: LifecycleDriver<AcmImportedCertificateResourceProperties>;
const realSleep = retryConfig.sleep;
const sleeps: number[] = [];
const keyArns = new Map<string, string>();

beforeAll(async () => {
  pki = await makeTestPki();
  // The same name, a new key and a later notAfter: a renewal from the same CA.
  renewed = await makeLeaf(pki.intermediate, { commonName: 'www.example.com', dnsNames: ['www.example.com', 'example.com'] });
  other = await makeLeaf(pki.intermediate, { commonName: 'other.example.com', dnsNames: ['other.example.com'] });
});

beforeEach(() => {
  acm = new FakeAcm().install();
  store = new FakeMaterialStore();
  store.install();
  sleeps.length = 0;
  keyArns.clear();
  retryConfig.sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  handler.settings.inUseDeadlineMs = 60_000;
  handler.settings.inUseIntervalMs = 0;
  driver = new LifecycleDriver({
    handler,
    resourceType: 'Custom::AcmImportedCertificate',
    countApiCalls: () => acm.calls() + store.calls(),
    stackId: STACK_ID,
  });
});

afterEach(() => {
  acm.restore();
  store.restore();
  retryConfig.sleep = realSleep;
});

/** Properties reading `cert` inline, its key from a secret's JSON field, the chain inline. */
function props(
  overrides: Partial<AcmImportedCertificateResourceProperties> = {},
  cert: TestCertificate = pki.leaf,
  chain: string | null = pki.chainPem,
): AcmImportedCertificateResourceProperties {
  const id = `key-${cert.certificate.serialNumber}`;
  const keyArn = keyArns.get(id) ?? store.putSecret(id, { privateKey: cert.privateKeyPem });
  keyArns.set(id, keyArn);
  return stringifyProps({
    Certificate: { kind: 'inline', value: cert.certificatePem },
    CertificateChain: chain === null ? undefined : { kind: 'inline', value: chain },
    PrivateKey: { kind: 'secret', secretId: keyArn, jsonField: 'privateKey' },
    RemovalPolicy: 'destroy',
    ...overrides,
  } as AcmImportedCertificateResourceProperties);
}

function secrets(...extra: TestCertificate[]): string[] {
  return [...store.secretValues(), pki.leaf.privateKeyPem, renewed.privateKeyPem, other.privateKeyPem, ...extra.map(c => c.privateKeyPem)];
}

describe('CloudFormation lifecycle', () => {
  test('standard sequences against a stateful ACM: rotation re-imports in place, a key-type change replaces', async () => {
    const ec = await makeUsageLeaf(pki.intermediate, { key: 'EC_P256', keyUsage: KU.digitalSignature });
    const base = props({ Tags: [{ Key: 'team', Value: 'platform' }] });
    // New material of the same key type: re-imported under the same ARN, tags changed in place.
    const inPlace = { ...props({}, renewed), Tags: [{ Key: 'team', Value: 'edge' }, { Key: 'tier', Value: 'prod' }] };
    // RSA to EC: ACM cannot re-import across key types, so a new certificate (a new ARN).
    const replacing = { ...props({}, ec), Tags: inPlace.Tags };
    const writes: Record<string, number> = {};

    const steps = await standardSequences(driver, {
      props: base,
      changedInPlace: inPlace,
      replacing,
      failingCreate: {
        props: props({}, other),
        arrange: () => acm.failNext('ImportCertificate', new LimitExceededException({ message: 'limit exceeded', $metadata: {} })),
      },
      afterStep: (name) => {
        writes[name] = acm.writeCalls();
        const arns = [...acm.certificates.keys()];
        switch (name) {
          case 'create':
          case 'retriedCreate':
            expect(arns).toHaveLength(1);
            expect(Object.fromEntries(acm.certificates.get(arns[0])!.tags)).toEqual({ team: 'platform', ...ownerTags() });
            break;
          case 'updateInPlace': {
            expect(arns).toHaveLength(1);
            const c = acm.certificates.get(arns[0])!;
            expect(c.certificate).toBe(renewed.certificatePem);
            expect(c.imports).toBe(2);
            expect(Object.fromEntries(c.tags)).toEqual({ team: 'edge', tier: 'prod', ...ownerTags() });
            break;
          }
          case 'updateReplace':
            expect(arns).toHaveLength(2);
            break;
          case 'deleteOld':
            expect(arns).toHaveLength(1);
            expect(acm.certificates.get(arns[0])!.keyAlgorithm).toBe('EC_prime256v1');
            break;
          case 'delete':
          case 'deleteAgain':
          case 'rollbackDelete':
            expect(arns).toHaveLength(0);
            break;
        }
      },
    });

    expect(steps.create!.physicalResourceId).toMatch(/^arn:aws:acm:us-east-1:123456789012:certificate\//);
    // A redelivered Create finds its own import: no second certificate, nothing written.
    expect(steps.retriedCreate!.physicalResourceId).toBe(steps.create!.physicalResourceId);
    expect(writes.retriedCreate - writes.create).toBe(0);
    expect(writes.updateNoChange - writes.retriedCreate).toBe(0);
    // Rotation kept the ARN: every consumer keeps pointing at it.
    expect(steps.updateInPlace!.physicalResourceId).toBe(steps.create!.physicalResourceId);
    expect(steps.updateInPlace!.data!.Import).toBe('reimported');
    expect(steps.updateReplace!.data).toMatchObject({ Import: 'imported', KeyAlgorithm: 'EC_prime256v1' });
    expect(steps.updateReplace!.logs.join('\n')).toMatch(/ACM cannot re-import this certificate in place.*key algorithm changes from RSA_2048 to EC_prime256v1/);
    expect(steps.failedCreate!.error!.message).toMatch(/ACM certificate quota.*\(LimitExceededException\)/);
    expect(steps.rollbackDelete!.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
    driver.assertNoLeak(secrets(ec));
  });

  test('response data carries the attributes and nothing secret, under 4096 bytes with ten notices', async () => {
    const step = await driver.create(props({ NotifyDaysBefore: ['1', '2', '3', '5', '7', '10', '14', '21', '30', '60'] }));
    expect(step.error).toBeUndefined();
    expect(step.data).toMatchObject({
      KeyAlgorithm: 'RSA_2048',
      NotAfter: new Date(pki.leaf.certificate.notAfter).toISOString(),
      Import: 'imported',
      NotifyNotAfter: new Date(pki.leaf.certificate.notAfter).toISOString(),
    });
    const bytes = Buffer.byteLength(JSON.stringify({
      Status: 'SUCCESS',
      Reason: 'SUCCESS',
      StackId: STACK_ID,
      RequestId: step.requestId,
      PhysicalResourceId: step.physicalResourceId,
      LogicalResourceId: 'Resource',
      Data: step.data,
    }));
    // The largest response: ten notices; no attribute grows with the input.
    console.log(`acm-certificate response with ten notices: ${bytes} bytes`);
    expect(bytes).toBeLessThan(MAX_RESPONSE_BYTES / 2);
    driver.assertNoLeak(secrets());
  });
});

describe('re-import rules (ACM "Reimport a certificate")', () => {
  async function rotate(from: TestCertificate, to: TestCertificate) {
    const created = await driver.create(props({}, from));
    expect(created.error).toBeUndefined();
    const step = await driver.update(created.physicalResourceId!, props({}, from), props({}, to));
    expect(step.error).toBeUndefined();
    return { created, step, replaced: step.physicalResourceId !== created.physicalResourceId };
  }

  test.each([
    ['Key Usage and Extended Key Usage values added', { keyUsage: KU.digitalSignature, extendedKeyUsage: [EKU.serverAuth] },
      { keyUsage: KU.digitalSignature + KU.keyEncipherment, extendedKeyUsage: [EKU.serverAuth, EKU.clientAuth] }, false],
    ['clientAuth dropped (ACM\'s documented exception)', { extendedKeyUsage: [EKU.serverAuth, EKU.clientAuth] },
      { extendedKeyUsage: [EKU.serverAuth] }, false],
    ['keyEncipherment dropped from an ECDSA certificate (ACM\'s documented exception)',
      { key: 'EC_P256' as const, keyUsage: KU.digitalSignature + KU.keyEncipherment }, { key: 'EC_P256' as const, keyUsage: KU.digitalSignature }, false],
    ['keyEncipherment dropped from an RSA certificate', { keyUsage: KU.digitalSignature + KU.keyEncipherment }, { keyUsage: KU.digitalSignature }, true],
    ['serverAuth dropped', { extendedKeyUsage: [EKU.serverAuth, EKU.codeSigning] }, { extendedKeyUsage: [EKU.codeSigning] }, true],
    ['an Extended Key Usage extension added where there was none', { extendedKeyUsage: null }, { extendedKeyUsage: [EKU.serverAuth] }, true],
    ['the Key Usage extension removed', {}, { keyUsage: null }, true],
    ['RSA 2048 to RSA 4096', { key: 'RSA_2048' as const }, { key: 'RSA_4096' as const }, true],
  ])('%s', async (_name, before, after, replaces) => {
    const from = await makeUsageLeaf(pki.intermediate, before);
    const to = await makeUsageLeaf(pki.intermediate, after);
    const { step, replaced } = await rotate(from, to);
    expect(replaced).toBe(replaces);
    expect(step.data!.Import).toBe(replaces ? 'imported' : 'reimported');
    expect(acm.certificates.size).toBe(replaces ? 2 : 1);
    driver.assertNoLeak(secrets(from, to));
  });
});

describe('ownership', () => {
  const otherStack = () => new LifecycleDriver<AcmImportedCertificateResourceProperties>({
    handler,
    resourceType: 'Custom::AcmImportedCertificate',
    countApiCalls: () => acm.calls() + store.calls(),
    stackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Web-Staging/0f9e8d7c-6b5a-4321-8765-43210fedcba9',
  });

  test('a create never adopts the same certificate imported by another stack, nor one without ownership tags', async () => {
    const theirs = await otherStack().create(props());
    const outside = [...acm.certificates.values()][0];
    acm.certificates.set('arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001',
      { ...outside, arn: 'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001', tags: new Map() });
    const mine = await driver.create(props());
    expect(mine.error).toBeUndefined();
    expect(mine.physicalResourceId).not.toBe(theirs.physicalResourceId);
    expect(acm.certificates.size).toBe(3);
  });

  test('an update or a delete never touches what another stack owns', async () => {
    const theirs = await otherStack().create(props());
    const arn = theirs.physicalResourceId!;
    const writes = acm.writeCalls();
    const update = await driver.update(arn, props(), props({}, renewed));
    expect(update.error!.message).toMatch(/the ACM certificate 'arn:aws:acm:[^']+' belongs to stack Web-Staging .*the handler will not change it/);
    const deleted = await driver.delete(arn, props());
    expect(deleted.error).toBeUndefined();
    expect(acm.writeCalls()).toBe(writes);
    expect(acm.certificates.get(arn)!.certificate).toBe(pki.leaf.certificatePem);
  });
});

describe('rollback and updates of expired material', () => {
  /** An expired certificate already in ACM (imported while it was valid), as this stack's. */
  function expiredInAcm(): string {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-0000-4000-8000-000000000001';
    acm.certificates.set(arn, {
      arn,
      certificate: pki.expiredLeaf.certificatePem,
      chain: pki.chainPem,
      keyAlgorithm: 'RSA_2048',
      notBefore: new Date(pki.expiredLeaf.certificate.notBefore),
      notAfter: new Date(pki.expiredLeaf.certificate.notAfter),
      tags: new Map(Object.entries(ownerTags())),
      importedAt: new Date(0),
      imports: 1,
    });
    return arn;
  }

  test('a tag update of an expired certificate succeeds without re-validating dates or importing', async () => {
    const arn = expiredInAcm();
    const step = await driver.update(arn, props({}, pki.expiredLeaf), props({ Tags: [{ Key: 'cost-center', Value: '42' }] }, pki.expiredLeaf));
    expect(step.error).toBeUndefined();
    expect(step.physicalResourceId).toBe(arn);
    expect(acm.certificates.get(arn)!.tags.get('cost-center')).toBe('42');
    expect(acm.log).not.toContain('ImportCertificate');
  });

  test('an update back to the certificate ACM holds (a rollback after a failed re-import) writes nothing', async () => {
    const created = await driver.create(props());
    const arn = created.physicalResourceId!;
    const writes = acm.writeCalls();
    // The update to `renewed` failed before its import (a bad key): ACM still holds the first.
    const failed = await driver.update(arn, props(), props({ PrivateKey: { kind: 'secret', secretId: store.putSecret('wrong', pki.unrelatedKey.privateKeyPem) } }, renewed));
    expect(failed.error!.message).toMatch(/^privateKey: does not match the certificate in certificate/);
    const rollback = await driver.update(arn, props({}, renewed), props());
    expect(rollback.error).toBeUndefined();
    expect(rollback.physicalResourceId).toBe(arn);
    expect(rollback.data!.Import).toBe('unchanged');
    expect(acm.writeCalls()).toBe(writes);
  });

  test('expired material is refused before an import and before a re-import', async () => {
    const expired = {
      Certificate: { kind: 'secret' as const, secretId: store.putSecret('expired', pki.expiredLeaf.certificatePem) },
      PrivateKey: { kind: 'secret' as const, secretId: store.putSecret('expired-key', pki.expiredLeaf.privateKeyPem) },
    };
    const step = await driver.create(props(expired));
    expect(step.error!.message).toMatch(/^certificate: the certificate has expired/);
    const created = await driver.create(props());
    const reimport = await driver.update(created.physicalResourceId!, props(), props(expired));
    expect(reimport.error!.message).toMatch(/^certificate: the certificate has expired/);
    expect(acm.log.filter(op => op === 'ImportCertificate')).toHaveLength(1);
  });

  test('a chain ACM returns with a self-signed root after it is the same chain: no re-import', async () => {
    const created = await driver.create(props({}, pki.leaf, pki.intermediate.certificatePem));
    const arn = created.physicalResourceId!;
    acm.certificates.get(arn)!.chain = pki.chainPem;
    const writes = acm.writeCalls();
    const intermediateOnly = pki.intermediate.certificatePem;
    const step = await driver.update(arn, props({}, pki.leaf, intermediateOnly), props({ Tags: [] }, pki.leaf, intermediateOnly));
    expect(step.error).toBeUndefined();
    expect(step.data!.Import).toBe('unchanged');
    expect(acm.writeCalls()).toBe(writes);
    // A chain without the intermediate is new material: re-imported in place.
    const dropped = await driver.update(arn, props({}, pki.leaf, pki.intermediate.certificatePem), props({}, pki.leaf, null));
    expect(dropped.data!.Import).toBe('reimported');
    const fromRoot = await makeLeaf(pki.root, { commonName: 'www.example.com' });
    const otherIssuer = await driver.update(arn, props({}, pki.leaf), props({}, fromRoot, pki.root.certificatePem));
    expect(otherIssuer.data!.Import).toBe('reimported');
    driver.assertNoLeak(secrets(fromRoot));
  });

  test('retain leaves the certificate in ACM', async () => {
    const created = await driver.create(props({ RemovalPolicy: 'retain' }));
    const step = await driver.delete(created.physicalResourceId!, props({ RemovalPolicy: 'retain' }));
    expect(step.error).toBeUndefined();
    expect(acm.certificates.size).toBe(1);
    expect(acm.log).not.toContain('DeleteCertificate');
  });

  test('a certificate gone from ACM is imported again on update', async () => {
    const created = await driver.create(props());
    acm.certificates.clear();
    const step = await driver.update(created.physicalResourceId!, props(), props({}, renewed));
    expect(step.error).toBeUndefined();
    expect(step.physicalResourceId).not.toBe(created.physicalResourceId);
    expect(acm.certificates.size).toBe(1);
  });
});

describe('deploy-time checks run before ACM is called (one clear error each)', () => {
  const cases: Array<[string, () => Promise<Partial<AcmImportedCertificateResourceProperties>>, RegExp]> = [
    ['a key type ACM does not import (RSA 1536)', async () => {
      const c = await makeUsageLeaf(pki.intermediate, { key: 'RSA_1536' });
      return { Certificate: { kind: 'inline', value: c.certificatePem }, PrivateKey: { kind: 'secret', secretId: store.putSecret('k1536', c.privateKeyPem) } };
    }, /^certificate: has a RSA 1536-bit key, which ACM does not import; ACM imports RSA 1024, 2048, 3072 and 4096-bit keys and EC keys on P-256, P-384 and P-521/],
    ['an encrypted private key', async () => ({
      PrivateKey: { kind: 'secret', secretId: store.putSecret('enc', exportPrivateKeyPem(pki.leaf, 'pkcs8', 'passphrase-1234')) },
    }), /^privateKey: is encrypted; provide the key unencrypted/],
    ['a key that does not match the certificate', async () => ({
      PrivateKey: { kind: 'secret', secretId: store.putSecret('wrong-key', pki.unrelatedKey.privateKeyPem) },
    }), /^privateKey: does not match the certificate in certificate/],
    ['an expired certificate from a secret', async () => ({
      Certificate: { kind: 'secret', secretId: store.putSecret('expired', pki.expiredLeaf.certificatePem) },
      PrivateKey: { kind: 'secret', secretId: store.putSecret('expired-key', pki.expiredLeaf.privateKeyPem) },
    }), /^certificate: the certificate has expired/],
    ['a chain out of order', async () => ({
      CertificateChain: { kind: 'inline', value: pki.root.certificatePem + pki.intermediate.certificatePem },
    }), /^certificateChain: is in root-to-leaf order/],
    ['a chain containing the certificate', async () => ({
      CertificateChain: { kind: 'inline', value: pki.leaf.certificatePem + pki.chainPem },
    }), /^certificateChain: .*is the certificate in certificate itself/],
    ['two certificates as the certificate', async () => ({
      Certificate: { kind: 'inline', value: pki.leaf.certificatePem + pki.intermediate.certificatePem },
    }), /^certificate: must contain exactly one certificate, found 2/],
  ];
  test.each(cases)('%s', async (_name, overrides, message) => {
    const step = await driver.create(props(await overrides()));
    expect(step.error?.message).toMatch(message);
    expect(acm.log).not.toContain('ImportCertificate');
    expect(acm.certificates.size).toBe(0);
    driver.assertNoLeak([...secrets(), pki.unrelatedKey.privateKeyPem, pki.expiredLeaf.privateKeyPem]);
  });

  test('EC keys on P-384 and P-521 and a self-signed certificate without a chain are imported', async () => {
    for (const key of ['EC_P384', 'EC_P521'] as const) {
      const c = await makeUsageLeaf(pki.intermediate, { key, keyUsage: KU.digitalSignature });
      const step = await driver.create(props({}, c));
      expect(step.error).toBeUndefined();
      expect(step.data!.KeyAlgorithm).toBe(key === 'EC_P384' ? 'EC_secp384r1' : 'EC_secp521r1');
    }
    const selfSigned = await makeSelfSigned({ commonName: 'internal.example.com' });
    const step = await driver.create(props({}, selfSigned, null));
    expect(step.error).toBeUndefined();
    expect(acm.certificates.get(step.physicalResourceId!)!.chain).toBeUndefined();
  });

  test('ACM\'s own ValidationException names the inputs to check', async () => {
    acm.failNext('ImportCertificate', new ValidationException({ message: 'The certificate is not supported.', $metadata: {} }));
    const step = await driver.create(props());
    expect(step.error!.message).toMatch(/^AcmImportedCertificate: ACM refused the certificate: The certificate is not supported\.; check certificate, privateKey and certificateChain/);
  });
});

describe('delete', () => {
  const users = ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188',
    'arn:aws:cloudfront::123456789012:distribution/E2QWRUHEXAMPLE'];

  test('ResourceInUse is retried until the listener lets go', async () => {
    const created = await driver.create(props());
    const arn = created.physicalResourceId!;
    acm.inUse.set(arn, users);
    let attempts = 0;
    retryConfig.sleep = async () => {
      if (++attempts === 2) acm.inUse.delete(arn);
    };
    const step = await driver.delete(arn, props());
    expect(step.error).toBeUndefined();
    expect(acm.certificates.size).toBe(0);
    expect(acm.log.filter(op => op === 'DeleteCertificate').length).toBe(3);
  });

  test('ResourceInUse past the deadline names what uses the certificate and what to do', async () => {
    const created = await driver.create(props());
    const arn = created.physicalResourceId!;
    acm.inUse.set(arn, users);
    handler.settings.inUseDeadlineMs = 0;
    const step = await driver.delete(arn, props());
    expect(step.error!.message).toMatch(/the ACM certificate 'arn:aws:acm:[^']+' is still in use after 0 seconds by arn:aws:elasticloadbalancing:.*loadbalancer\/app\/web\/\w+, arn:aws:cloudfront::\d+:distribution\/E2QWRUHEXAMPLE\. Remove it from those load balancer listeners/);
    expect(acm.certificates.size).toBe(1);
  });

  test('a certificate already gone, or a physical ID that is no ACM ARN, deletes successfully', async () => {
    const gone = await driver.delete('arn:aws:acm:us-east-1:123456789012:certificate/22222222-0000-4000-8000-000000000002', props());
    expect(gone.error).toBeUndefined();
    expect(acm.log).toEqual(['ListTagsForCertificate']);
    const notArn = await driver.delete('not-an-arn', props());
    expect(notArn.error).toBeUndefined();
    expect(acm.log).toEqual(['ListTagsForCertificate']);
  });
});

describe('logs', () => {
  test('are JSON lines without keys, secret values or the ResponseURL', async () => {
    const created = await driver.create(props());
    await driver.update(created.physicalResourceId!, props(), props({}, renewed));
    await driver.delete(created.physicalResourceId!, props({}, renewed));
    const lines = driver.steps.flatMap(s => s.logs).filter(l => l.trim().length > 0);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(() => JSON.parse(line)).not.toThrow();
    }
    driver.assertNoLeak(secrets());
  });
});
