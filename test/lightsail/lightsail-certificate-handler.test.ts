import {
  AccessDeniedException,
  AccountSetupInProgressException,
  InvalidInputException,
  NotFoundException,
  OperationFailureException,
  RegionSetupInProgressException,
  ServiceException,
  UnauthenticatedException,
} from '@aws-sdk/client-lightsail';
import * as source from '../../lambda/lightsail-certificate';
import {
  LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE,
  LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE,
  FAILURE_REASON_ADVICE,
  LIGHTSAIL_VALIDATION_RESOURCE_TYPE,
} from '../../src/contract/lightsail-certificate';
import type {
  LightsailAttachmentResourceProperties,
  LightsailCertificateResourceProperties,
  LightsailValidationResourceProperties,
} from '../../src/contract/lightsail-certificate';
import { FakeLightsail } from '../support/fakes/lightsail';
import { handlerUnderTest } from '../support/handler-under-test';
import { CREATE_FAILED_PHYSICAL_ID, LifecycleDriver, standardSequences, stringifyProps } from '../support/harness/lifecycle';

const handler = handlerUnderTest('lightsail-certificate', source);
const { retryConfig, certificateTiming, validationClock } = handler;

let lightsail: FakeLightsail;
let certificates: LifecycleDriver<LightsailCertificateResourceProperties>;
let validations: LifecycleDriver<LightsailValidationResourceProperties>;
let attachments: LifecycleDriver<LightsailAttachmentResourceProperties>;
let clock: number;
const sleeps: number[] = [];
const realSleep = retryConfig.sleep;
const realNow = validationClock.now;
const realTiming = { ...certificateTiming };

beforeEach(() => {
  lightsail = new FakeLightsail().install();
  // A clock that only moves when the handler waits: waits cost nothing and deadlines still pass.
  clock = Date.parse('2026-03-01T12:00:00Z');
  sleeps.length = 0;
  jest.spyOn(Date, 'now').mockImplementation(() => clock);
  retryConfig.sleep = async (ms: number) => {
    sleeps.push(ms);
    clock += ms;
  };
  validationClock.now = () => clock;
  const countApiCalls = () => lightsail.calls();
  certificates = new LifecycleDriver<LightsailCertificateResourceProperties>({
    handler, resourceType: LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE, countApiCalls,
  });
  validations = new LifecycleDriver<LightsailValidationResourceProperties>({ handler, resourceType: LIGHTSAIL_VALIDATION_RESOURCE_TYPE, countApiCalls, logicalResourceId: 'Validation' });
  attachments = new LifecycleDriver<LightsailAttachmentResourceProperties>({ handler, resourceType: LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE, countApiCalls, logicalResourceId: 'Attachment' });
});

afterEach(() => {
  lightsail.restore();
  jest.restoreAllMocks();
  retryConfig.sleep = realSleep;
  validationClock.now = realNow;
  Object.assign(certificateTiming, realTiming);
  for (const d of [certificates, validations, attachments]) {
    d.assertNoLeak([]);
  }
});

function certProps(overrides: Partial<LightsailCertificateResourceProperties> = {}): LightsailCertificateResourceProperties {
  return stringifyProps({
    Region: 'us-east-1',
    DomainName: 'example.com',
    SubjectAlternativeNames: ['www.example.com'],
    NamePrefix: 'Stack-Site-1A2B3C4D',
    RemovalPolicy: 'destroy',
    ...overrides,
  } as LightsailCertificateResourceProperties);
}

/** How many validation records the response carries. */
function recordCount(data: Record<string, string> | undefined): number {
  return Object.keys(data ?? {}).filter((k) => /^Record\d+Label$/.test(k)).length;
}

/** The label the fake's record puts before `domain`. */
function labelOf(domain: string): string {
  return FakeLightsail.recordFor(domain).name.slice(0, -(domain.length + 2));
}

/** The certificate's tags other than the ownership tags the handler adds (checked on their own). */
function tags(c: { tags: Map<string, string> }): Record<string, string> {
  return Object.fromEntries([...c.tags].filter(([k]) => !k.startsWith('cdk-certificates:')));
}

async function createCertificate(overrides: Partial<LightsailCertificateResourceProperties> = {}) {
  const props = certProps(overrides);
  const step = await certificates.create(props);
  expect(step.error).toBeUndefined();
  return { props, step, certificate: lightsail.only() };
}

function validationProps(c: { arn: string; name: string; region: string }, timeoutSeconds = 2700): LightsailValidationResourceProperties {
  return stringifyProps({ Region: c.region, CertificateName: c.name, CertificateArn: c.arn, TimeoutSeconds: String(timeoutSeconds) });
}

describe('Custom::LightsailCertificate lifecycle', () => {
  test('standard sequences against a stateful Lightsail', async () => {
    const base = certProps({ SubjectAlternativeNames: ['www.example.com', 'api.example.com'], Tags: [{ Key: 'team', Value: 'platform' }] });
    // Reordered alternative names and new tags: the same certificate.
    const inPlace = { ...base, SubjectAlternativeNames: ['api.example.com', 'www.example.com'], Tags: [{ Key: 'team', Value: 'edge' }, { Key: 'tier', Value: 'prod' }] };
    const replacing = { ...inPlace, SubjectAlternativeNames: ['api.example.com', 'www.example.com', 'blog.example.com'] };
    let firstArn = '';
    let writesBefore = 0;
    const steps = await standardSequences(certificates, {
      props: base,
      changedInPlace: inPlace,
      replacing,
      failingCreate: {
        props: certProps({ DomainName: 'other.example', SubjectAlternativeNames: [] }),
        arrange: () => lightsail.failNext('CreateCertificate', new AccessDeniedException({ message: 'not authorized to perform lightsail:CreateCertificate', $metadata: {} })),
      },
      afterStep: (name, step) => {
        switch (name) {
          case 'create': {
            const c = lightsail.only();
            firstArn = c.arn;
            expect(step.physicalResourceId).toBe(c.arn);
            expect(c.name).toMatch(/^Stack-Site-1A2B3C4D-[0-9a-f]{10}$/);
            expect(c.domainName).toBe('example.com');
            expect(tags(c)).toEqual({ team: 'platform' });
            expect(step.data).toMatchObject({ CertificateArn: c.arn, CertificateName: c.name, Status: 'PENDING_VALIDATION' });
            expect(recordCount(step.data)).toBe(3);
            break;
          }
          case 'retriedCreate':
            expect(lightsail.all()).toHaveLength(1);
            expect(lightsail.callsOf('CreateCertificate')).toHaveLength(1);
            writesBefore = lightsail.writeCalls();
            break;
          case 'updateNoChange':
            expect(lightsail.writeCalls()).toBe(writesBefore);
            break;
          case 'updateInPlace': {
            const c = lightsail.only();
            expect(c.arn).toBe(firstArn);
            expect(tags(c)).toEqual({ team: 'edge', tier: 'prod' });
            // The attributes follow the new order of the alternative names.
            expect(step.data?.Record1Label).toBe(labelOf('api.example.com'));
            expect(step.data?.Record2Label).toBe(labelOf('www.example.com'));
            expect(lightsail.callsOf('CreateCertificate')).toHaveLength(1);
            break;
          }
          case 'updateReplace':
            expect(lightsail.all()).toHaveLength(2);
            expect(recordCount(step.data)).toBe(4);
            break;
          case 'deleteOld':
            expect(lightsail.all().map((c) => c.arn)).not.toContain(firstArn);
            expect(lightsail.all()).toHaveLength(1);
            break;
          case 'delete':
          case 'deleteAgain':
            expect(lightsail.all()).toHaveLength(0);
            break;
          case 'failedCreate':
            expect(step.error?.message).toMatch(/CreateCertificate/);
            expect(step.error?.message).toMatch(/handler's role may not/);
            expect(step.error?.name).toBe('AccessDeniedException');
            expect(step.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
            break;
          case 'rollbackDelete':
            expect(step.handlerInvoked).toBe(false);
            expect(lightsail.all()).toHaveLength(0);
            break;
        }
      },
    });
    expect(Object.keys(steps)).toHaveLength(10);
  });

  test('returns one validation record per distinct domain, in order, without waiting for ISSUED', async () => {
    lightsail.recordsDelay = 3;
    const { step, certificate } = await createCertificate({
      DomainName: 'Example.com',
      SubjectAlternativeNames: ['example.com', 'www.example.com', 'static.example.com'],
    });
    // The domain listed again is not sent again, and Lightsail's records map back to the domains.
    expect(lightsail.callsOf('CreateCertificate')[0].input).toMatchObject({
      domainName: 'example.com',
      subjectAlternativeNames: ['www.example.com', 'static.example.com'],
    });
    // Only what the construct cannot know at synth: the label before each domain, and the value.
    expect(Object.keys(step.data ?? {}).sort()).toEqual([
      'CertificateArn', 'CertificateName',
      'Record0Label', 'Record0Value', 'Record1Label', 'Record1Value', 'Record2Label', 'Record2Value',
      'Status',
    ]);
    ['example.com', 'www.example.com', 'static.example.com'].forEach((domain, i) => {
      expect(`${step.data?.[`Record${i}Label`]}.${domain}.`).toBe(FakeLightsail.recordFor(domain).name);
      expect(step.data?.[`Record${i}Value`]).toBe(FakeLightsail.recordFor(domain).value);
    });
    expect(certificate.status).toBe('PENDING_VALIDATION');
    expect(step.data?.Status).toBe('PENDING_VALIDATION');
    // Polled the records a few times, a few seconds apart, until the third look showed them.
    expect(sleeps).toEqual([3000, 3000]);
    expect(step.isCompleteAttempts).toBe(1);
  });

  test('a domain named twice in the records is returned once', async () => {
    lightsail.onCall = (call) => {
      if (call.operation === 'CreateCertificate') {
        // Lightsail repeats a record when a domain is requested twice.
        const c = lightsail.only();
        c.records.push({ ...c.records[0], resourceRecord: { ...c.records[0].resourceRecord } });
      }
    };
    const { step } = await createCertificate();
    expect(recordCount(step.data)).toBe(2);
    expect(step.data?.Record0Label).not.toBe(step.data?.Record1Label);
  });

  test('a record name in another case or without the trailing dot still yields its label', async () => {
    const label = labelOf('www.example.com');
    lightsail.onCall = (call) => {
      if (call.operation === 'CreateCertificate') {
        const record = lightsail.only().records[1];
        record.resourceRecord = { ...record.resourceRecord, name: `${label.toUpperCase()}.WWW.Example.COM`, type: 'cname' };
      }
    };
    const { step } = await createCertificate();
    expect(step.data?.Record1Label).toBe(label.toUpperCase());
  });

  test.each([
    ['a record name not under its domain', { name: '_0123456789abcdef.example.org.' }, /gave www\.example\.com the validation record CNAME _0123456789abcdef\.example\.org\., not a CNAME record named <label>\.www\.example\.com\./],
    ['a record name that is the domain itself', { name: 'www.example.com.' }, /gave www\.example\.com the validation record CNAME www\.example\.com\., not a CNAME record/],
    ['a record of another type', { type: 'TXT' }, /gave www\.example\.com the validation record TXT _[0-9a-f]+\.www\.example\.com\., not a CNAME record/],
  ])('%s fails the create clearly and removes the certificate', async (_what, change, pattern) => {
    lightsail.onCall = (call) => {
      if (call.operation === 'CreateCertificate') {
        const record = lightsail.only().records[1];
        record.resourceRecord = { ...record.resourceRecord, ...change };
      }
    };
    const step = await certificates.create(certProps());
    expect(step.error?.message).toMatch(pattern);
    expect(step.error?.message).toMatch(/create this record in your DNS yourself \(omit hostedZone\)/);
    expect(lightsail.all()).toHaveLength(0);
  });

  test('records that never appear fail the create within the bound and remove the certificate', async () => {
    lightsail.recordsDelay = 1000;
    const step = await certificates.create(certProps());
    expect(step.error?.message).toMatch(/did not publish the DNS validation records for example\.com, www\.example\.com within 60 seconds/);
    expect(lightsail.all()).toHaveLength(0);
    expect(lightsail.callsOf('DeleteCertificate')).toHaveLength(1);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(60_000);
    const rollback = await certificates.delete(step.physicalResourceId!, certProps());
    expect(rollback.handlerInvoked).toBe(false);
  });

  test('a request Lightsail fails at once reports its reason and leaves nothing behind', async () => {
    lightsail.onCall = (call) => {
      if (call.operation === 'CreateCertificate') {
        lightsail.fail(lightsail.only(), 'INVALID_PUBLIC_DOMAIN');
      }
    };
    const step = await certificates.create(certProps({ DomainName: 'example.invalidtld', SubjectAlternativeNames: [] }));
    expect(step.error?.message).toContain('INVALID_PUBLIC_DOMAIN');
    expect(step.error?.message).toContain(FAILURE_REASON_ADVICE.INVALID_PUBLIC_DOMAIN);
    expect(lightsail.all()).toHaveLength(0);
  });

  test('a create retried with a new request adopts the certificate and fixes its tags', async () => {
    const first = await createCertificate({ Tags: [{ Key: 'team', Value: 'platform' }] });
    expect([...first.certificate.tags.keys()]).toEqual(['team', 'cdk-certificates:stack-id', 'cdk-certificates:logical-id']);
    first.certificate.tags.delete('team');
    const again = await certificates.create(first.props);
    expect(again.error).toBeUndefined();
    expect(again.physicalResourceId).toBe(first.certificate.arn);
    expect(lightsail.all()).toHaveLength(1);
    expect(lightsail.callsOf('CreateCertificate')).toHaveLength(1);
    expect(tags(first.certificate)).toEqual({ team: 'platform' });
  });

  test('a retried create never adopts a certificate of the same name that another stack owns', async () => {
    const first = await createCertificate();
    first.certificate.tags.set('cdk-certificates:stack-id', 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Site/0f9e8d7c-6b5a-4321-8765-43210fedcba9');
    const again = await certificates.create(first.props);
    expect(again.error?.message).toMatch(/^certificateName: the Lightsail certificate '[^']+' in us-east-1 already exists and belongs to stack Site/);
    expect(lightsail.callsOf('CreateCertificate')).toHaveLength(1);
    // Nor does a delete remove it.
    await certificates.delete(first.certificate.arn, first.props);
    expect(lightsail.all()).toHaveLength(1);
  });

  test('a create that races its earlier attempt ("already exists") adopts it', async () => {
    const props = certProps();
    await certificates.create(props);
    const c = lightsail.only();
    // The name is not listed yet on the first look, then CreateCertificate says it exists.
    lightsail.failNext('GetCertificates', new NotFoundException({ message: 'not found', $metadata: {} }));
    const again = await certificates.create(props);
    expect(again.error).toBeUndefined();
    expect(again.physicalResourceId).toBe(c.arn);
    expect(lightsail.callsOf('CreateCertificate')).toHaveLength(2);
    expect(lightsail.all()).toHaveLength(1);
  });

  test('a name already taken by a certificate for other domains is a clear error', async () => {
    await createCertificate({ CertificateName: 'site-cert', NamePrefix: undefined });
    const writes = lightsail.writeCalls();
    const step = await certificates.create(certProps({ CertificateName: 'site-cert', NamePrefix: undefined, DomainName: 'other.example', SubjectAlternativeNames: [] }));
    expect(step.error?.message).toMatch(/^certificateName: a certificate named 'site-cert' already exists in us-east-1 for other domains \(example\.com, www\.example\.com\)/);
    expect(lightsail.writeCalls()).toBe(writes);
  });

  test('a fixed name cannot take new domains: clear error before any write', async () => {
    const { props, certificate } = await createCertificate({ CertificateName: 'site-cert', NamePrefix: undefined });
    const writes = lightsail.writeCalls();
    const step = await certificates.update(certificate.arn, props, { ...props, SubjectAlternativeNames: ['www.example.com', 'api.example.com'] });
    expect(step.error?.message).toMatch(/^certificateName: 'site-cert' is fixed, so the certificate cannot take new domains/);
    expect(step.error?.message).toMatch(/change certificateName too, or omit it/);
    expect(lightsail.writeCalls()).toBe(writes);
  });

  test('a new region means a new certificate there; the old one is deleted in its own region', async () => {
    const { props, certificate } = await createCertificate();
    const moved = { ...props, Region: 'eu-west-2' };
    const step = await certificates.update(certificate.arn, props, moved);
    expect(step.error).toBeUndefined();
    const created = lightsail.certificate('eu-west-2', certificate.name);
    expect(created).toBeDefined();
    expect(step.physicalResourceId).toBe(created!.arn);
    expect(lightsail.callsOf('CreateCertificate').map((c) => c.region)).toEqual(['us-east-1', 'eu-west-2']);
    const deleteOld = await certificates.delete(certificate.arn, props);
    expect(deleteOld.error).toBeUndefined();
    expect(lightsail.callsOf('DeleteCertificate').map((c) => c.region)).toEqual(['us-east-1']);
    expect(lightsail.only().region).toBe('eu-west-2');
  });

  test('calls Lightsail in the region of the properties, whatever the function\'s region', async () => {
    await createCertificate({ Region: 'ap-northeast-1' });
    expect(new Set(lightsail.log.map((c) => c.region))).toEqual(new Set(['ap-northeast-1']));
  });

  test('tags: set and removed in place by name, with no call when unchanged', async () => {
    const { props, certificate } = await createCertificate({ Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] });
    certificate.tags.set('added-outside', 'x');
    const next = { ...props, Tags: [{ Key: 'a', Value: '1' }, { Key: 'c', Value: '3' }] };
    const step = await certificates.update(certificate.arn, props, next);
    expect(step.error).toBeUndefined();
    expect(step.physicalResourceId).toBe(certificate.arn);
    expect(tags(certificate)).toEqual({ 'a': '1', 'c': '3', 'added-outside': 'x' });
    expect(lightsail.callsOf('TagResource')[0].input).toMatchObject({ resourceName: certificate.name, tags: [{ key: 'c', value: '3' }] });
    expect(lightsail.callsOf('UntagResource')[0].input).toMatchObject({ resourceName: certificate.name, tagKeys: ['b'] });
    const writes = lightsail.writeCalls();
    const noop = await certificates.update(certificate.arn, next, next);
    expect(noop.error).toBeUndefined();
    expect(lightsail.writeCalls()).toBe(writes);
  });

  test('an update finds the certificate deleted outside CloudFormation and requests it again', async () => {
    const { props, certificate } = await createCertificate();
    lightsail.certificates.get('us-east-1')!.clear();
    const step = await certificates.update(certificate.arn, props, { ...props, Tags: [{ Key: 'k', Value: 'v' }] });
    expect(step.error).toBeUndefined();
    const again = lightsail.only();
    expect(step.physicalResourceId).toBe(again.arn);
    expect(again.arn).not.toBe(certificate.arn);
    // CloudFormation then deletes the old ID: the new certificate of the same name is not touched.
    const deleteOld = await certificates.delete(certificate.arn, props);
    expect(deleteOld.error).toBeUndefined();
    expect(lightsail.only().arn).toBe(again.arn);
  });

  test.each(['empty', 'throw'] as const)('delete of a certificate already gone succeeds (GetCertificates answers %s)', async (mode) => {
    const { props, certificate } = await createCertificate();
    lightsail.certificates.get('us-east-1')!.clear();
    lightsail.unknownName = mode;
    const step = await certificates.delete(certificate.arn, props);
    expect(step.error).toBeUndefined();
    expect(lightsail.callsOf('DeleteCertificate')).toHaveLength(0);
  });

  test('NotFoundException from DeleteCertificate itself is success', async () => {
    const { props, certificate } = await createCertificate();
    lightsail.failNext('DeleteCertificate', new NotFoundException({ message: 'gone', $metadata: {} }));
    const step = await certificates.delete(certificate.arn, props);
    expect(step.error).toBeUndefined();
  });

  test('removal policy retain keeps the certificate and makes no call', async () => {
    const { props, certificate } = await createCertificate({ RemovalPolicy: 'retain' });
    const before = lightsail.calls();
    const step = await certificates.delete(certificate.arn, props);
    expect(step.error).toBeUndefined();
    expect(lightsail.calls()).toBe(before);
    expect(lightsail.all()).toHaveLength(1);
  });

  test('delete of a certificate still in use retries, then names the distribution and container service', async () => {
    const { props, certificate } = await createCertificate();
    lightsail.issue(certificate);
    lightsail.addDistribution('other-site');
    lightsail.addDistribution('blog');
    lightsail.addDistribution('site', certificate.name);
    lightsail.addContainerService('us-east-1', 'api', { [certificate.name]: ['api.example.com'] });
    const step = await certificates.delete(certificate.arn, props);
    expect(step.error?.message).toContain(`LightsailCertificate '${certificate.name}' in us-east-1: cannot be deleted while distribution 'site' and container service 'api' uses it`);
    expect(step.error?.message).toMatch(/detach it there/);
    // Retried for the bounded time (detaching takes a while), then gave up.
    expect(lightsail.callsOf('DeleteCertificate').length).toBeGreaterThan(2);
    expect(clock - Date.parse('2026-03-01T12:00:00Z')).toBeLessThanOrEqual(certificateTiming.inUseDeadlineMs + 60_000);
    expect(lightsail.all()).toHaveLength(1);
  });

  test('delete waits while a detach completes, then deletes', async () => {
    const { props, certificate } = await createCertificate();
    lightsail.issue(certificate);
    const distribution = lightsail.addDistribution('site', certificate.name);
    let refusals = 0;
    lightsail.onCall = (call) => {
      if (call.operation === 'DeleteCertificate' && ++refusals === 2) {
        distribution.certificateName = undefined;
      }
    };
    const step = await certificates.delete(certificate.arn, props);
    expect(step.error).toBeUndefined();
    expect(lightsail.all()).toHaveLength(0);
    expect(lightsail.callsOf('DeleteCertificate')).toHaveLength(3);
  });

  test.each([
    ['AccessDeniedException', new AccessDeniedException({ message: 'denied', $metadata: {} }), /handler's role may not make this Lightsail call/],
    ['UnauthenticatedException', new UnauthenticatedException({ message: 'who are you', $metadata: {} }), /open the Lightsail console once/],
    ['RegionSetupInProgressException', new RegionSetupInProgressException({ message: 'setting up', $metadata: {} }), /opt-in region that Lightsail is still setting up/],
    ['AccountSetupInProgressException', new AccountSetupInProgressException({ message: 'setting up', $metadata: {} }), /account is still being set up/],
    ['OperationFailureException', new OperationFailureException({ message: 'boom', $metadata: {} }), /could not complete the operation \(boom\)/],
    ['InvalidInputException', new InvalidInputException({ message: 'Domain name is invalid', $metadata: {} }), /refused the request: Domain name is invalid; check domainName, subjectAlternativeNames and certificateName/],
    ['NotFoundException', new NotFoundException({ message: 'no such thing', $metadata: {} }), /could not find the resource: no such thing/],
  ])('%s from CreateCertificate becomes a clear message', async (name, error, pattern) => {
    lightsail.failNext('CreateCertificate', error);
    const step = await certificates.create(certProps());
    expect(step.error?.message).toMatch(/^LightsailCertificate 'Stack-Site-1A2B3C4D-[0-9a-f]{10}' in us-east-1: CreateCertificate: /);
    expect(step.error?.message).toMatch(pattern);
    expect(step.error?.message).toContain(`(${name})`);
    expect(lightsail.all()).toHaveLength(0);
  });

  test('throttling and ServiceException are retried', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    lightsail.failNext('CreateCertificate', throttled);
    lightsail.failNext('CreateCertificate', new ServiceException({ message: 'internal', $metadata: {} }));
    const { certificate } = await createCertificate();
    expect(lightsail.callsOf('CreateCertificate')).toHaveLength(3);
    expect(certificate.status).toBe('PENDING_VALIDATION');
  });

  test.each([
    ['a wildcard', { SubjectAlternativeNames: ['*.example.com'] }, /^subjectAlternativeNames: '\*\.example\.com' is a wildcard name/],
    ['ten alternative names', { SubjectAlternativeNames: Array.from({ length: 10 }, (_, i) => `s${i}.example.com`) }, /^subjectAlternativeNames: at most 9 names besides domainName, got 10/],
    ['a duplicate', { SubjectAlternativeNames: ['www.example.com', 'WWW.example.com'] }, /^subjectAlternativeNames: 'WWW\.example\.com' is listed twice/],
    ['an invalid domain', { DomainName: 'exa_mple.com' }, /^domainName: 'exa_mple\.com' is not a valid DNS name/],
    ['an invalid name', { CertificateName: '-bad', NamePrefix: undefined }, /^certificateName: '-bad' must begin and end with a letter or digit/],
    ['alternative names with a wildcard and a duplicate', { SubjectAlternativeNames: ['*.example.com', 'www.example.com', 'WWW.example.com'] },
      /^subjectAlternativeNames: '\*\.example\.com' is a wildcard name.*; and 'WWW\.example\.com' is listed twice; list each domain once$/],
    ['a name that breaks two rules', { CertificateName: '-b d', NamePrefix: undefined }, /^certificateName: '-b d' may hold only ASCII letters, digits, hyphens and underscores, not ' ', and must begin and end with a letter or digit; use /],
    ['a bad region', { Region: 'mars' }, /^region: 'mars' is not an AWS region name/],
    ['a repeat of the domain indexed as its own record', { SubjectAlternativeNames: ['example.com'], RecordCount: '2' }, /^subjectAlternativeNames: a name known only at deploy repeats domainName \(example\.com\)/],
  ])('a token that resolves to %s fails at deploy before any write', async (_what, overrides, pattern) => {
    const step = await certificates.create(certProps(overrides as Partial<LightsailCertificateResourceProperties>));
    expect(step.error?.name).toBe('InputError');
    expect(step.error?.message).toMatch(pattern);
    expect(lightsail.calls()).toBe(0);
  });

  test('nine alternative names plus the domain listed again is accepted', async () => {
    const sans = ['example.com', ...Array.from({ length: 9 }, (_, i) => `s${i}.example.com`)];
    const { step } = await createCertificate({ SubjectAlternativeNames: sans });
    expect(recordCount(step.data)).toBe(10);
    expect(lightsail.callsOf('CreateCertificate')[0].input.subjectAlternativeNames).toHaveLength(9);
  });

  test('a generated name is deterministic, valid, and new when the domains change', async () => {
    const a = await createCertificate();
    const b = await certificates.create(certProps({ SubjectAlternativeNames: ['www.example.com', 'api.example.com'] }));
    const names = lightsail.all().map((c) => c.name);
    expect(names).toHaveLength(2);
    expect(names[0]).not.toBe(names[1]);
    for (const n of names) {
      expect(n).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]*[A-Za-z0-9]$/);
    }
    expect(b.physicalResourceId).not.toBe(a.certificate.arn);
  });
});

describe('Custom::LightsailCertificateValidation', () => {
  test('pending, then issued: polls until ISSUED and returns the certificate', async () => {
    const { certificate } = await createCertificate();
    // Pending when onEvent looks and at the first two isComplete polls, issued at the third.
    lightsail.issueAfterPolls = { polls: 3, outcome: 'ISSUED' };
    const step = await validations.create(validationProps(certificate));
    expect(step.error).toBeUndefined();
    expect(step.physicalResourceId).toBe(certificate.arn);
    expect(step.isCompleteAttempts).toBe(3);
    expect(step.responses.slice(1)).toEqual([{ IsComplete: false }, { IsComplete: false }, expect.objectContaining({ IsComplete: true })]);
    expect(step.data).toMatchObject({ CertificateArn: certificate.arn, CertificateName: certificate.name, Status: 'ISSUED' });
    expect(lightsail.writeCalls()).toBe(1); // only the CreateCertificate
  });

  test.each(Object.keys(FAILURE_REASON_ADVICE))('pending, then failed with %s: the reason and what to do', async (reason) => {
    const { certificate } = await createCertificate();
    lightsail.issueAfterPolls = { polls: 2, outcome: 'FAILED', reason };
    const step = await validations.create(validationProps(certificate));
    expect(step.error?.message).toContain(`Lightsail could not issue the certificate for example.com, www.example.com: ${reason}: ${FAILURE_REASON_ADVICE[reason]}`);
    // Pending at onEvent and the first isComplete, failed at the second.
    expect(step.isCompleteAttempts).toBe(2);
    expect(step.responses[1]).toEqual({ IsComplete: false });
  });

  test('VALIDATION_TIMED_OUT says Lightsail stopped validating', async () => {
    const { certificate } = await createCertificate();
    lightsail.issueAfterPolls = { polls: 1, outcome: 'VALIDATION_TIMED_OUT' };
    const step = await validations.create(validationProps(certificate));
    expect(step.error?.message).toMatch(/Lightsail stopped validating/);
  });

  test('timeout through the framework: still pending after the last isComplete attempt', async () => {
    const { certificate } = await createCertificate();
    const driver = new LifecycleDriver<LightsailValidationResourceProperties>({
      handler, resourceType: LIGHTSAIL_VALIDATION_RESOURCE_TYPE, countApiCalls: () => lightsail.calls(), maxIsCompleteAttempts: 5,
    });
    const step = await driver.create(validationProps(certificate));
    expect(step.error?.message).toBe('Operation timed out');
    expect(step.isCompleteAttempts).toBe(5);
    driver.assertNoLeak([]);
  });

  test('timeout through validationTimeout: names the pending records and what to check', async () => {
    const { certificate } = await createCertificate();
    let polls = 0;
    lightsail.onCall = (call) => {
      if (call.operation === 'GetCertificates') {
        polls++;
        clock += 60_000; // a minute between polls
      }
    };
    const step = await validations.create(validationProps(certificate, 300));
    expect(step.error?.message).toMatch(/still PENDING_VALIDATION after 5 minutes \(validationTimeout\)/);
    expect(step.error?.message).toContain(`example.com: CNAME ${FakeLightsail.recordFor('example.com').name} -> ${FakeLightsail.recordFor('example.com').value}`);
    expect(step.error?.message).toMatch(/public hosted zone that is authoritative/);
    expect(polls).toBeGreaterThanOrEqual(5);
    expect(step.isCompleteAttempts).toBeLessThan(20);
  });

  test('an update of the same certificate does not wait again and writes nothing', async () => {
    const { certificate } = await createCertificate();
    lightsail.issue(certificate);
    const props = validationProps(certificate);
    const created = await validations.create(props);
    expect(created.error).toBeUndefined();
    const writes = lightsail.writeCalls();
    const step = await validations.update(certificate.arn, props, { ...props, TimeoutSeconds: '600' });
    expect(step.error).toBeUndefined();
    expect(step.isCompleteAttempts).toBe(1);
    expect(step.data?.WaitRequired).toBe('false');
    expect(lightsail.writeCalls()).toBe(writes);
  });

  test('an update to a replacement certificate waits for the new one', async () => {
    const first = await createCertificate();
    lightsail.issue(first.certificate);
    const replacing = await certificates.create(certProps({ SubjectAlternativeNames: ['www.example.com', 'api.example.com'] }));
    const second = lightsail.all().find((c) => c.arn === replacing.physicalResourceId)!;
    lightsail.issueAfterPolls = { polls: 2, outcome: 'ISSUED' };
    const step = await validations.update(first.certificate.arn, validationProps(first.certificate), validationProps(second));
    expect(step.error).toBeUndefined();
    expect(step.physicalResourceId).toBe(second.arn);
    expect(step.data?.Status).toBe('ISSUED');
    expect(step.isCompleteAttempts).toBeGreaterThan(1);
  });

  test('a certificate deleted outside CloudFormation fails the wait clearly', async () => {
    const { certificate } = await createCertificate();
    lightsail.certificates.get('us-east-1')!.clear();
    const step = await validations.create(validationProps(certificate));
    expect(step.error?.message).toMatch(/no longer exists; it was deleted outside CloudFormation/);
  });

  test('delete makes no call', async () => {
    const { certificate } = await createCertificate();
    const before = lightsail.calls();
    const step = await validations.delete(certificate.arn, validationProps(certificate));
    expect(step.error).toBeUndefined();
    expect(lightsail.calls()).toBe(before);
  });
});

describe('Custom::LightsailCertificateAttachment', () => {
  async function issuedCertificate(overrides: Partial<LightsailCertificateResourceProperties> = {}) {
    const created = await createCertificate(overrides);
    lightsail.issue(created.certificate);
    return created;
  }

  function attachProps(
    certificateName: string,
    overrides: Partial<LightsailAttachmentResourceProperties> = {},
  ): LightsailAttachmentResourceProperties {
    return stringifyProps({ Region: 'us-east-1', CertificateName: certificateName, DistributionName: 'site', RemovalPolicy: 'destroy', ...overrides } as LightsailAttachmentResourceProperties);
  }

  test('standard sequences: attach, retried attach, move to a new certificate, detach', async () => {
    const first = await issuedCertificate();
    const secondStep = await certificates.create(certProps({ SubjectAlternativeNames: ['www.example.com', 'cdn.example.com'] }));
    const second = lightsail.all().find((c) => c.arn === secondStep.physicalResourceId)!;
    lightsail.issue(second);
    const distribution = lightsail.addDistribution('site');
    await standardSequences(attachments, {
      props: attachProps(first.certificate.name),
      replacing: attachProps(second.name),
      failingCreate: { props: attachProps(first.certificate.name, { DistributionName: 'missing' }), arrange: () => undefined },
      afterStep: (name, step) => {
        switch (name) {
          case 'create':
            expect(distribution.certificateName).toBe(first.certificate.name);
            break;
          case 'retriedCreate':
          case 'updateNoChange':
            expect(lightsail.callsOf('AttachCertificateToDistribution')).toHaveLength(1);
            break;
          case 'updateReplace':
            expect(distribution.certificateName).toBe(second.name);
            break;
          case 'deleteOld':
            // The distribution now uses the successor: nothing to detach.
            expect(lightsail.callsOf('DetachCertificateFromDistribution')).toHaveLength(0);
            expect(distribution.certificateName).toBe(second.name);
            break;
          case 'delete':
          case 'deleteAgain':
            expect(distribution.certificateName).toBeUndefined();
            expect(lightsail.callsOf('DetachCertificateFromDistribution')).toHaveLength(1);
            break;
          case 'failedCreate':
            expect(step.error?.message).toMatch(/^distributionName: there is no Lightsail distribution named 'missing'/);
            break;
        }
      },
    });
    // Detached, the certificates can go.
    const deleted = await certificates.delete(first.certificate.arn, first.props);
    expect(deleted.error).toBeUndefined();
  });

  test('a certificate not yet issued cannot be attached: clear error, no attach call', async () => {
    const { certificate } = await createCertificate();
    lightsail.addDistribution('site');
    const step = await attachments.create(attachProps(certificate.name));
    expect(step.error?.message).toMatch(/the certificate is PENDING_VALIDATION; only an ISSUED certificate can be attached/);
    expect(lightsail.callsOf('AttachCertificateToDistribution')).toHaveLength(0);
  });

  test('a certificate outside us-east-1 cannot be attached to a distribution', async () => {
    const step = await attachments.create(attachProps('site-cert', { Region: 'eu-west-1' }));
    expect(step.error?.message).toMatch(/^region: the certificate is in eu-west-1, but only certificates in us-east-1 can be attached/);
    expect(lightsail.calls()).toBe(0);
  });

  test('removal policy retain leaves the certificate attached', async () => {
    const { certificate } = await issuedCertificate();
    const distribution = lightsail.addDistribution('site');
    const props = attachProps(certificate.name, { RemovalPolicy: 'retain' });
    const created = await attachments.create(props);
    const step = await attachments.delete(created.physicalResourceId!, props);
    expect(step.error).toBeUndefined();
    expect(distribution.certificateName).toBe(certificate.name);
  });

  test('attach errors name the operation and the fix', async () => {
    const { certificate } = await issuedCertificate();
    lightsail.addDistribution('site');
    lightsail.failNext('AttachCertificateToDistribution', new InvalidInputException({ message: 'The distribution is being updated', $metadata: {} }));
    const step = await attachments.create(attachProps(certificate.name));
    expect(step.error?.message).toMatch(/AttachCertificateToDistribution: Lightsail refused the request: The distribution is being updated; the certificate must cover the distribution's domains/);
  });
});

describe('dispatch', () => {
  test('an unknown resource type is refused', async () => {
    const driver = new LifecycleDriver<LightsailCertificateResourceProperties>({ handler, resourceType: 'Custom::Other', countApiCalls: () => lightsail.calls() });
    const step = await driver.create(certProps());
    expect(step.error?.message).toMatch(/serves Custom::LightsailCertificate, Custom::LightsailCertificateValidation and Custom::LightsailCertificateAttachment, not Custom::Other/);
    expect(lightsail.calls()).toBe(0);
  });
});
