import {
  ConcurrentModificationException,
  InvalidInputException,
  KeyPairMismatchException,
  LimitExceededException,
  MalformedCertificateException,
  ServiceFailureException,
} from '@aws-sdk/client-iam';
import * as source from '../../lambda/server-certificate';
import type { ServerCertificateResourceProperties } from '../../src/contract/server-certificate';
import { FakeIam } from '../support/fakes/iam';
import { makeLeaf, makeSelfSigned, makeTestPki, TestCertificate, TestPki } from '../support/fixtures/pki';
import { handlerUnderTest } from '../support/handler-under-test';
import { FakeMaterialStore } from '../support/harness/fake-material';
import { CREATE_FAILED_PHYSICAL_ID, LifecycleDriver, standardSequences, stringifyProps } from '../support/harness/lifecycle';

const handler = handlerUnderTest('server-certificate', source);
const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Stack/5d1c1e30-0000-4000-8000-00000000beef';
/** The ownership tags the handler adds to what it uploads for `driver`'s resource. */
const ownerTags = () => ({ 'cdk-certificates:stack-id': STACK_ID, 'cdk-certificates:logical-id': 'Resource' });
const { retryConfig } = handler;

let pki: TestPki;
let other: TestCertificate;
let iam: FakeIam;
let store: FakeMaterialStore;
let driver: LifecycleDriver<ServerCertificateResourceProperties>;
const realSleep = retryConfig.sleep;
const sleeps: number[] = [];
const keyArns = new Map<string, string>();

beforeAll(async () => {
  pki = await makeTestPki();
  other = await makeLeaf(pki.intermediate, { commonName: 'other.example.com', dnsNames: ['other.example.com'] });
});

beforeEach(() => {
  iam = new FakeIam().install();
  store = new FakeMaterialStore();
  store.install();
  sleeps.length = 0;
  keyArns.clear();
  retryConfig.sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  handler.settings.deleteConflictDeadlineMs = 60_000;
  handler.settings.deleteConflictIntervalMs = 0;
  driver = new LifecycleDriver({
    handler,
    resourceType: 'Custom::ServerCertificate',
    countApiCalls: () => iam.calls() + store.calls(),
    stackId: STACK_ID,
  });
});

afterEach(() => {
  iam.restore();
  store.restore();
  retryConfig.sleep = realSleep;
});

function props(overrides: Partial<ServerCertificateResourceProperties> = {}, cert: TestCertificate = pki.leaf): ServerCertificateResourceProperties {
  const id = `key-${cert.certificate.serialNumber}`;
  const keyArn = keyArns.get(id) ?? store.putSecret(id, { privateKey: cert.privateKeyPem });
  keyArns.set(id, keyArn);
  return stringifyProps({
    CertificateBody: { kind: 'inline', value: cert.certificatePem },
    CertificateChain: { kind: 'inline', value: pki.chainPem },
    PrivateKey: { kind: 'secret', secretId: keyArn, jsonField: 'privateKey' },
    NamePrefix: 'Stack_Web-3B3D323C',
    Path: '/',
    ForCloudFront: 'false',
    RemovalPolicy: 'destroy',
    ...overrides,
  } as ServerCertificateResourceProperties);
}

function secrets(): string[] {
  return [...store.secretValues(), pki.leaf.privateKeyPem, other.privateKeyPem];
}

describe('CloudFormation lifecycle', () => {
  test('standard sequences against a stateful IAM', async () => {
    const base = props({ Tags: [{ Key: 'team', Value: 'platform' }] });
    const inPlace = { ...base, Path: '/web/', Tags: [{ Key: 'team', Value: 'edge' }, { Key: 'tier', Value: 'prod' }] };
    const replacing = { ...props({}, other), Path: '/web/', Tags: inPlace.Tags };
    const writesBefore: Record<string, number> = {};

    const steps = await standardSequences(driver, {
      props: base,
      changedInPlace: inPlace,
      replacing,
      failingCreate: {
        props: props({ NamePrefix: 'Stack-Other-1234ABCD' }, other),
        arrange: () => iam.failNext('UploadServerCertificate', new LimitExceededException({ message: 'Cannot exceed quota for ServerCertificatesPerAccount: 20', $metadata: {} })),
      },
      afterStep: (name) => {
        writesBefore[name] = iam.writeCalls();
        const names = [...iam.certificates.keys()];
        switch (name) {
          case 'create':
          case 'retriedCreate':
            expect(names).toHaveLength(1);
            expect(names[0]).toMatch(/^Stack_Web-3B3D323C-[0-9a-f]{10}$/);
            expect(iam.certificates.get(names[0])!.tags.get('team')).toBe('platform');
            break;
          case 'updateInPlace': {
            expect(names).toHaveLength(1);
            const c = iam.certificates.get(names[0])!;
            expect(c.path).toBe('/web/');
            expect(Object.fromEntries(c.tags)).toEqual({ team: 'edge', tier: 'prod', ...ownerTags() });
            break;
          }
          case 'updateReplace':
            expect(names).toHaveLength(2);
            break;
          case 'deleteOld':
            expect(names).toHaveLength(1);
            expect(iam.certificates.get(names[0])!.body).toBe(other.certificatePem);
            break;
          case 'delete':
          case 'deleteAgain':
          case 'rollbackDelete':
            expect(names).toHaveLength(0);
            break;
        }
      },
    });

    // A redelivered Create adopts the first upload: one upload attempt, no second certificate.
    expect(steps.retriedCreate!.physicalResourceId).toBe(steps.create!.physicalResourceId);
    // An update with no change writes nothing.
    expect(writesBefore.updateNoChange - writesBefore.retriedCreate).toBe(0);
    // The replacement's name differs from the old one: no clash, and the old is deleted after.
    expect(steps.updateReplace!.physicalResourceId).not.toBe(steps.create!.physicalResourceId);
    expect(steps.updateReplace!.data!.Arn).toBe(`arn:aws:iam::123456789012:server-certificate/web/${steps.updateReplace!.physicalResourceId}`);
    // The failed create names the quota, and its rollback is answered without the handler.
    expect(steps.failedCreate!.error!.message).toMatch(/quota of IAM server certificates.*\(LimitExceededException\)/);
    expect(steps.rollbackDelete!.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
    expect(steps.rollbackDelete!.handlerInvoked).toBe(false);

    driver.assertNoLeak(secrets());
    // Every step's API calls, for the record (and to catch accidental extra calls).
    // Read the key, look for an earlier upload of this name (adopt only what it owns), upload.
    expect(steps.create!.apiCalls).toBeLessThanOrEqual(3);
    expect(steps.updateNoChange!.apiCalls).toBeLessThanOrEqual(3);
  });

  test('response data carries the attributes and nothing secret', async () => {
    const step = await driver.create(props());
    expect(step.error).toBeUndefined();
    const name = step.physicalResourceId!;
    const cert = iam.certificates.get(name)!;
    expect(step.data).toEqual({
      Arn: `arn:aws:iam::123456789012:server-certificate/${name}`,
      ServerCertificateName: name,
      ServerCertificateId: cert.id,
      Path: '/',
      Expiration: cert.expiration.toISOString(),
      UploadDate: cert.uploadDate.toISOString(),
    });
    driver.assertNoLeak(secrets());
  });

  test('a generated name is deterministic and changes with the body, the chain or the stack only', async () => {
    const owner = { StackId: STACK_ID, LogicalResourceId: 'Resource' };
    const a = await handler.desiredState(props(), owner);
    const b = await handler.desiredState(props({ Tags: [{ Key: 'x', Value: 'y' }], Path: '/other/' }), owner);
    const c = await handler.desiredState(props({}, other), owner);
    const d = await handler.desiredState(props({ CertificateChain: undefined }), owner);
    // The same stack name in another region, and another stack: other names (IAM names are global).
    const e = await handler.desiredState(props(), { ...owner, StackId: STACK_ID.replace('us-east-1', 'eu-west-1') });
    const f = await handler.desiredState(props(), { ...owner, StackId: `${STACK_ID.slice(0, -1)}0` });
    expect(a.name).toBe(b.name);
    expect(new Set([a.name, c.name, d.name, e.name, f.name]).size).toBe(5);
    expect(a.name.length).toBeLessThanOrEqual(128);
  });

  test('a fixed name refuses a new body without writing anything', async () => {
    const created = await driver.create(props({ ServerCertificateName: 'web-fixed' }));
    const writes = iam.writeCalls();
    const step = await driver.update('web-fixed', props({ ServerCertificateName: 'web-fixed' }), props({ ServerCertificateName: 'web-fixed' }, other));
    expect(created.physicalResourceId).toBe('web-fixed');
    expect(step.error!.message).toMatch(/^serverCertificateName: is fixed to 'web-fixed', and IAM cannot change the certificate/);
    expect(iam.writeCalls()).toBe(writes);
  });

  test('a create that meets a foreign certificate of the same name fails clearly', async () => {
    await driver.create(props({ ServerCertificateName: 'shared-name' }, other));
    const step = await driver.create(props({ ServerCertificateName: 'shared-name' }));
    expect(step.error!.message).toMatch(/^serverCertificateName: an IAM server certificate named 'shared-name' already exists with a different certificate/);
    expect(iam.certificates.get('shared-name')!.body).toBe(other.certificatePem);
  });
});

describe('ownership', () => {
  const otherStack = () => new LifecycleDriver<ServerCertificateResourceProperties>({
    handler,
    resourceType: 'Custom::ServerCertificate',
    countApiCalls: () => iam.calls() + store.calls(),
    stackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Web-Staging/0f9e8d7c-6b5a-4321-8765-43210fedcba9',
  });

  test('what the handler uploads carries the ownership tags', async () => {
    const step = await driver.create(props({ Tags: [{ Key: 'team', Value: 'platform' }] }));
    expect(Object.fromEntries(iam.certificates.get(step.physicalResourceId!)!.tags)).toEqual({ team: 'platform', ...ownerTags() });
  });

  test('a retried create never adopts a certificate of the same name and content that another stack owns', async () => {
    await otherStack().create(props({ ServerCertificateName: 'shared-name' }));
    const writes = iam.writeCalls();
    const step = await driver.create(props({ ServerCertificateName: 'shared-name' }));
    expect(step.error!.message).toMatch(/^serverCertificateName: the IAM server certificate 'shared-name' already exists and belongs to stack Web-Staging \(arn:aws:cloudformation:[^)]+\); a handler never adopts what another stack owns/);
    expect(iam.writeCalls()).toBe(writes);
  });

  test('a certificate of the same name without ownership tags is not adopted either', async () => {
    iam.certificates.set('outside', { ...iam.certificates.get((await otherStack().create(props())).physicalResourceId!)!, name: 'outside', tags: new Map() });
    const step = await driver.create(props({ ServerCertificateName: 'outside' }));
    expect(step.error!.message).toMatch(/^serverCertificateName: the IAM server certificate 'outside' already exists and was not created by this stack/);
  });

  test('the same app in two stacks uploads two certificates; deleting one leaves the other', async () => {
    const mine = await driver.create(props());
    const theirs = await otherStack().create(props());
    expect(mine.physicalResourceId).not.toBe(theirs.physicalResourceId);
    expect(iam.certificates.size).toBe(2);
    await driver.delete(mine.physicalResourceId!, props());
    expect([...iam.certificates.keys()]).toEqual([theirs.physicalResourceId]);
  });

  test('an update or a delete never touches what another stack owns', async () => {
    const theirs = await otherStack().create(props({ ServerCertificateName: 'theirs' }));
    const writes = iam.writeCalls();
    const update = await driver.update('theirs', props({ ServerCertificateName: 'theirs' }), props({ ServerCertificateName: 'theirs', Path: '/moved/' }));
    expect(update.error!.message).toMatch(/the IAM server certificate 'theirs' belongs to stack Web-Staging .*the handler will not change it/);
    const deleted = await driver.delete(theirs.physicalResourceId!, props({ ServerCertificateName: 'theirs' }));
    expect(deleted.error).toBeUndefined();
    expect(iam.writeCalls()).toBe(writes);
    expect(iam.certificates.has('theirs')).toBe(true);
  });
});

describe('rollback and updates of expired material', () => {
  const expired = () => ({
    CertificateBody: { kind: 'secret' as const, secretId: store.putSecret('expired', pki.expiredLeaf.certificatePem) },
    PrivateKey: { kind: 'secret' as const, secretId: store.putSecret('expired-key', pki.expiredLeaf.privateKeyPem) },
  });

  /** An expired certificate already in IAM (uploaded while it was valid), as this stack's. */
  async function expiredInIam(): Promise<string> {
    const desired = await handler.desiredState(props(expired()), { StackId: STACK_ID, LogicalResourceId: 'Resource' });
    iam.certificates.set(desired.name, {
      name: desired.name,
      path: '/',
      id: 'ASCAEXPIREDEXAMPLE01',
      body: pki.expiredLeaf.certificatePem,
      chain: pki.chainPem,
      tags: new Map(Object.entries(ownerTags())),
      uploadDate: new Date(0),
      expiration: new Date(0),
    });
    return desired.name;
  }

  test('an in-place update (tags, path) of an expired certificate succeeds without re-validating dates', async () => {
    const name = await expiredInIam();
    const step = await driver.update(name, props(expired()), props({ ...expired(), Path: '/moved/', Tags: [{ Key: 'cost-center', Value: '42' }] }));
    expect(step.error).toBeUndefined();
    expect(step.physicalResourceId).toBe(name);
    expect(iam.certificates.get(name)!.path).toBe('/moved/');
    expect(iam.log).not.toContain('UploadServerCertificate');
  });

  test('an update back to an expired certificate IAM still holds (a rollback) succeeds and uploads nothing', async () => {
    const name = await expiredInIam();
    const step = await driver.update('Stack_Web-3B3D323C-newer00000', props(), props(expired()));
    expect(step.error).toBeUndefined();
    expect(step.physicalResourceId).toBe(name);
    expect(iam.log).not.toContain('UploadServerCertificate');
  });

  test('expired material is still refused before an upload', async () => {
    const step = await driver.create(props(expired()));
    expect(step.error!.message).toMatch(/^certificateBody: the certificate has expired/);
    expect(iam.log).not.toContain('UploadServerCertificate');
  });

  test('retain leaves the certificate in IAM', async () => {
    const created = await driver.create(props({ RemovalPolicy: 'retain' }));
    const step = await driver.delete(created.physicalResourceId!, props({ RemovalPolicy: 'retain' }));
    expect(step.error).toBeUndefined();
    expect(iam.certificates.size).toBe(1);
    expect(iam.log).not.toContain('DeleteServerCertificate');
  });
});

describe('deploy-time checks run before IAM is called', () => {
  const cases: Array<[string, () => Promise<Partial<ServerCertificateResourceProperties>>, RegExp]> = [
    ['a key that does not match the certificate', async () => ({
      PrivateKey: { kind: 'secret', secretId: store.putSecret('wrong-key', pki.unrelatedKey.privateKeyPem) },
    }), /^privateKey: does not match the certificate in certificateBody/],
    ['an expired certificate from a secret', async () => ({
      CertificateBody: { kind: 'secret', secretId: store.putSecret('expired', pki.expiredLeaf.certificatePem) },
      PrivateKey: { kind: 'secret', secretId: store.putSecret('expired-key', pki.expiredLeaf.privateKeyPem) },
    }), /^certificateBody: .*expired/],
    ['a chain out of order', async () => ({
      CertificateChain: { kind: 'inline', value: pki.root.certificatePem + pki.intermediate.certificatePem },
    }), /^certificateChain: /],
    ['a chain containing the leaf', async () => ({
      CertificateChain: { kind: 'inline', value: pki.leaf.certificatePem + pki.chainPem },
    }), /^certificateChain: /],
    ['a certificate from a secret field that is missing', async () => ({
      CertificateBody: { kind: 'secret', secretId: store.putSecret('bundle', { cert: pki.leaf.certificatePem }), jsonField: 'certificate' },
    }), /^certificateBody: /],
    ['a token name IAM would refuse', async () => ({ ServerCertificateName: 'bad name' }), /^serverCertificateName: 'bad name' may hold only/],
    ['a token path that breaks the CloudFront rule', async () => ({ Path: '/web/', ForCloudFront: 'true' }), /^path: '\/web\/' must begin with '\/cloudfront\/'/],
  ];
  test.each(cases)('%s', async (_name, overrides, message) => {
    const step = await driver.create(props(await overrides()));
    expect(step.error?.message).toMatch(message);
    expect(iam.log).not.toContain('UploadServerCertificate');
    expect(iam.certificates.size).toBe(0);
    driver.assertNoLeak([...secrets(), pki.unrelatedKey.privateKeyPem, pki.expiredLeaf.privateKeyPem]);
  });

  test('a self-signed certificate without a chain is accepted', async () => {
    const selfSigned = await makeSelfSigned({ commonName: 'internal.example.com' });
    const step = await driver.create(props({ CertificateChain: undefined }, selfSigned));
    expect(step.error).toBeUndefined();
    expect(iam.certificates.get(step.physicalResourceId!)!.chain).toBeUndefined();
  });
});

describe('IAM errors', () => {
  const errors: Array<[string, Error, RegExp]> = [
    ['InvalidInput', new InvalidInputException({ message: 'The specified value for path is invalid', $metadata: {} }),
      /^ServerCertificate: IAM rejected the request: The specified value for path is invalid; check serverCertificateName, path/],
    ['MalformedCertificate', new MalformedCertificateException({ message: 'Unable to validate certificate chain.', $metadata: {} }),
      /^ServerCertificate: IAM cannot use certificateBody or certificateChain: Unable to validate certificate chain/],
    ['LimitExceeded', new LimitExceededException({ message: 'quota', $metadata: {} }), /quota of IAM server certificates; delete unused ones/],
  ];
  test.each(errors)('%s becomes a message naming the property and the fix', async (_name, error, message) => {
    iam.failNext('UploadServerCertificate', error);
    const step = await driver.create(props());
    expect(step.error!.message).toMatch(message);
  });

  test('IAM KeyPairMismatch names privateKey', async () => {
    iam.failNext('UploadServerCertificate', new KeyPairMismatchException({ message: 'mismatch', $metadata: {} }));
    const step = await driver.create(props());
    expect(step.error!.message).toMatch(/privateKey does not match the public key of certificateBody/);
  });

  test('throttling, ServiceFailure and ConcurrentModification are retried with backoff', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: {} });
    iam.failNext('UploadServerCertificate', throttled);
    iam.failNext('UploadServerCertificate', new ServiceFailureException({ message: 'failure', $metadata: {} }));
    iam.failNext('UploadServerCertificate', new ConcurrentModificationException({ message: 'busy', $metadata: {} }));
    const step = await driver.create(props());
    expect(step.error).toBeUndefined();
    expect(iam.log.filter(op => op === 'UploadServerCertificate')).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
    expect(iam.certificates.size).toBe(1);
  });

  test('ServiceFailure that persists fails after bounded attempts', async () => {
    for (let i = 0; i < 10; i++) {
      iam.failNext('UploadServerCertificate', new ServiceFailureException({ message: 'failure', $metadata: {} }));
    }
    const step = await driver.create(props());
    expect(step.error!.message).toMatch(/IAM failed to process the request; deploy again later \(ServiceFailureException\)/);
    expect(iam.log.filter(op => op === 'UploadServerCertificate')).toHaveLength(6);
  });
});

describe('delete', () => {
  test('DeleteConflict is retried until the load balancer lets go', async () => {
    const created = await driver.create(props());
    const name = created.physicalResourceId!;
    iam.inUse.set(name, 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188');
    let attempts = 0;
    retryConfig.sleep = async () => {
      if (++attempts === 2) iam.inUse.delete(name);
    };
    const step = await driver.delete(name, props());
    expect(step.error).toBeUndefined();
    expect(iam.certificates.size).toBe(0);
    expect(iam.log.filter(op => op === 'DeleteServerCertificate').length).toBe(3);
  });

  test('DeleteConflict past the deadline names what uses the certificate and what to do', async () => {
    const created = await driver.create(props());
    const name = created.physicalResourceId!;
    iam.inUse.set(name, 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188');
    handler.settings.deleteConflictDeadlineMs = 0;
    const step = await driver.delete(name, props());
    expect(step.error!.message).toMatch(new RegExp(`serverCertificateName '${name}' is still in use .*loadbalancer/app/web.*Detach it from the load balancer listeners or CloudFront distributions`));
    expect(iam.certificates.size).toBe(1);
  });

  test('a certificate that is already gone deletes successfully', async () => {
    const step = await driver.delete('Stack_Web-3B3D323C-0123456789', props());
    expect(step.error).toBeUndefined();
    expect(iam.log).toEqual(['GetServerCertificate']);
  });
});

describe('logs', () => {
  test('are JSON lines without keys, secret values or the ResponseURL', async () => {
    const created = await driver.create(props());
    await driver.delete(created.physicalResourceId!, props());
    const lines = driver.steps.flatMap(s => s.logs).filter(l => l.trim().length > 0);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(() => JSON.parse(line)).not.toThrow();
    }
    driver.assertNoLeak(secrets());
    expect(driver.allOutput()).not.toContain('ResponseURL');
  });
});
