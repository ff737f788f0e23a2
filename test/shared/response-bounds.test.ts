/**
 * Bounded responses (DESIGN: "A stack that lives"): every handler's response stays under the 4096
 * bytes CloudFormation accepts for the largest input its service allows. Each handler kind is
 * driven through the Provider-framework lifecycle driver and its stateful fake, with the longest
 * names, paths, identifiers, domains, tags and notice lists the contracts in src/contract/ allow,
 * and the response body is measured as the framework builds it (lambda/shared/handler.ts
 * `checkResponseSize`) with the longest stack ID and logical ID CloudFormation can send.
 *
 * The measurements are printed and written to test-reports/response-bounds.json (or
 * response-bounds.bundle.json for the shipped bundles) so they can be quoted.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetBucketVersioningCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as acmSource from '../../lambda/acm-certificate';
import * as alibabaSource from '../../lambda/alibaba-kms-certificate';
import * as dmsSource from '../../lambda/dms-certificate';
import * as lightsailSource from '../../lambda/lightsail-certificate';
import * as privateCaSource from '../../lambda/private-ca';
import * as issuedSource from '../../lambda/private-ca-issued-certificate';
import * as serverSource from '../../lambda/server-certificate';
import { MAX_RESPONSE_BYTES } from '../../lambda/shared/handler';
import { ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE, ACM_TAG_RULES } from '../../src/contract/acm-certificate';
import type { AcmImportedCertificateResourceProperties } from '../../src/contract/acm-certificate';
import type { AlibabaKmsCertificateResourceProperties } from '../../src/contract/alibaba-kms-certificate';
import { ALIBABA_TAG_RULES, MAX_SUBJECT_ALTERNATIVE_NAMES as ALIBABA_MAX_SANS, MAX_TAGS as ALIBABA_MAX_TAGS } from '../../src/contract/alibaba-kms-certificate';
import { DMS_CERTIFICATE_IDENTIFIER_MAX_LENGTH, DMS_CERTIFICATE_RESOURCE_TYPE, DMS_TAG_KEY_MAX_LENGTH, DMS_TAG_VALUE_MAX_LENGTH, DmsCertificateResourceProperties } from '../../src/contract/dms-certificate';
import type { IssuedCertificateResourceProperties } from '../../src/contract/issued-certificate';
import {
  CERTIFICATE_NAME_MAX_LENGTH,
  DOMAIN_NAME_MAX_LENGTH,
  LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE,
  LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE,
  LIGHTSAIL_TAG_RULES,
  LIGHTSAIL_VALIDATION_RESOURCE_TYPE,
  MAX_SUBJECT_ALTERNATIVE_NAMES,
  SUBJECT_ALTERNATIVE_NAME_MAX_LENGTH,
} from '../../src/contract/lightsail-certificate';
import type { LightsailAttachmentResourceProperties, LightsailCertificateResourceProperties, LightsailValidationResourceProperties } from '../../src/contract/lightsail-certificate';
import {
  PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE,
  PRIVATE_CA_POLICY_RESOURCE_TYPE,
  PRIVATE_CA_RESOURCE_TYPE,
  PRIVATE_CA_TRUST_BUNDLE_RESOURCE_TYPE,
  PERMANENT_DELETION_MAX_DAYS,
  TRUST_BUNDLE_KEY_MAX_BYTES,
  TRUST_BUNDLE_MAX_OVERLAP_DAYS,
  TRUST_BUNDLE_OBJECT_NAME,
} from '../../src/contract/private-ca';
import type {
  PrivateCaExpiryNoticesResourceProperties,
  PrivateCaPolicyResourceProperties,
  PrivateCaResourceProperties,
  PrivateCaTrustBundleResourceProperties,
} from '../../src/contract/private-ca';
import { SERVER_CERTIFICATE_NAME_MAX_LENGTH, SERVER_CERTIFICATE_PATH_MAX_LENGTH, SERVER_CERTIFICATE_RESOURCE_TYPE } from '../../src/contract/server-certificate';
import type { ServerCertificateResourceProperties } from '../../src/contract/server-certificate';
import { makeUsageLeaf } from '../acm/acm-fixtures';
import { FakeAcm } from '../acm/fake-acm';
import { FakeAcmPca, FakeCa } from '../support/fakes/acm-pca';
import { FakeAlibabaKmsServer } from '../support/fakes/alibaba-kms-server';
import { FakeDms } from '../support/fakes/dms';
import { FakeIam } from '../support/fakes/iam';
import { FakeLightsail } from '../support/fakes/lightsail';
import { makeTestPki, TestPki } from '../support/fixtures/pki';
import { handlerBuild, handlerUnderTest } from '../support/handler-under-test';
import { FAKE_ACCOUNT, FAKE_REGION, FakeMaterialStore, LooseStub, looseMock } from '../support/harness/fake-material';
import { LifecycleDriver, StepResult, stringifyProps } from '../support/harness/lifecycle';

const lightsailHandler = handlerUnderTest('lightsail-certificate', lightsailSource);
const serverHandler = handlerUnderTest('server-certificate', serverSource);
const dmsHandler = handlerUnderTest('dms-certificate', dmsSource);
const privateCaHandler = handlerUnderTest('private-ca', privateCaSource);
const issuedHandler = handlerUnderTest('private-ca-issued-certificate', issuedSource);
const alibabaHandler = handlerUnderTest('alibaba-kms-certificate', alibabaSource);
const acmHandler = handlerUnderTest('acm-certificate', acmSource);
const retryConfigs = [lightsailHandler, serverHandler, dmsHandler, privateCaHandler, issuedHandler, alibabaHandler, acmHandler]
  .map((h) => h.retryConfig);

/**
 * The longest stack ID CloudFormation sends: the longest partition and region names, a stack name
 * of 128 characters (CloudFormation's limit) and the stack's UUID.
 */
const LONGEST_STACK_ID = `arn:aws-us-gov:cloudformation:ap-southeast-4:123456789012:stack/${'S'.repeat(128)}/${randomUUID()}`;
/** CloudFormation's logical IDs are up to 255 characters. */
const LONGEST_LOGICAL_ID = `L${'0'.repeat(254)}`;

interface Measurement {
  readonly handler: string;
  readonly resourceType: string;
  readonly request: string;
  readonly input: string;
  readonly bytes: number;
  readonly dataKeys: number;
}

const measurements: Measurement[] = [];
/** What the Lightsail certificate's response measured in its previous shape, on the same input. */
let lightsailPreviousShapeBytes: number | undefined;

/**
 * The body the Provider framework sends CloudFormation for this step, built as
 * `checkResponseSize` builds it, with the longest stack ID (no handler echoes the stack ID; the
 * driver sent the logical ID it was given).
 */
function responseBytes(step: StepResult): number {
  return Buffer.byteLength(JSON.stringify({
    Status: 'SUCCESS',
    Reason: 'SUCCESS',
    StackId: LONGEST_STACK_ID,
    RequestId: step.requestId,
    PhysicalResourceId: step.physicalResourceId,
    LogicalResourceId: step.event.LogicalResourceId,
    NoEcho: step.noEcho,
    Data: step.data,
  }), 'utf8');
}

/** Records the step's size and checks it is within the bound. */
function measure(handler: string, step: StepResult, input: string): number {
  if (step.error) {
    throw new Error(`${handler} ${step.event.ResourceType} ${step.requestType} failed on its largest input: ${step.error.message}`);
  }
  expect(step.event.LogicalResourceId).toBe(LONGEST_LOGICAL_ID);
  const bytes = responseBytes(step);
  measurements.push({
    handler,
    resourceType: step.event.ResourceType,
    request: step.requestType,
    input,
    bytes,
    dataKeys: Object.keys(step.data ?? {}).length,
  });
  expect(bytes).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
  return bytes;
}

function driverFor<P>(handler: { onEvent: any; isComplete?: any }, resourceType: string, countApiCalls: () => number): LifecycleDriver<P> {
  return new LifecycleDriver<P>({ handler, resourceType, countApiCalls, logicalResourceId: LONGEST_LOGICAL_ID });
}

/** A DNS name of exactly `length` characters, of labels of at most 63 characters, starting with `seed`. */
function dnsName(length: number, seed: string): string {
  // Labels of 63 characters while more than one label is left, the last one at least 2 long.
  const labelLengths: number[] = [];
  let rest = length;
  while (rest > 63) {
    const take = Math.min(63, rest - 3);
    labelLengths.push(take);
    rest -= take + 1;
  }
  labelLengths.push(rest);
  const name = labelLengths.map((n, i) => (i === 0 ? seed : '') + 'x'.repeat(n - (i === 0 ? seed.length : 0))).join('.');
  expect(name).toHaveLength(length);
  return name;
}

/** `count` tags of the longest keys and values (keys distinct). */
function longestTags(count: number, keyLength: number, valueLength: number): Array<{ Key: string; Value: string }> {
  return Array.from({ length: count }, (_, i) => ({ Key: `k${i}`.padEnd(keyLength, 'k'), Value: 'v'.repeat(valueLength) }));
}

/** The most day counts a certificate takes (10), with the longest keys (NotifyAt3641 to NotifyAt3650). */
const LONGEST_NOTIFY_DAYS = Array.from({ length: 10 }, (_, i) => String(3641 + i));

beforeAll(() => {
  for (const config of retryConfigs) {
    config.sleep = async () => undefined;
  }
});

afterAll(() => {
  if (measurements.length === 0) {
    return;
  }
  const rows = measurements.map((m) => `${m.handler.padEnd(30)} ${m.resourceType.padEnd(40)} ${m.request.padEnd(7)} ${String(m.bytes).padStart(5)} bytes  ${m.input}`);
  console.log(`Response size on the largest input (limit ${MAX_RESPONSE_BYTES} bytes; stack ID ${LONGEST_STACK_ID.length} and logical ID ${LONGEST_LOGICAL_ID.length} characters), ${handlerBuild.kind}:\n${rows.join('\n')}`
    + (lightsailPreviousShapeBytes === undefined ? '' : `\nCustom::LightsailCertificate in its previous shape (Record<i>Domain/Name/Type/Value, DomainName, RecordCount) on the same input: ${lightsailPreviousShapeBytes} bytes`));
  const dir = path.join(__dirname, '..', '..', 'test-reports');
  fs.mkdirSync(dir, { recursive: true });
  const file = handlerBuild.kind === 'bundle' ? 'response-bounds.bundle.json' : 'response-bounds.json';
  fs.writeFileSync(path.join(dir, file), JSON.stringify({
    limitBytes: MAX_RESPONSE_BYTES,
    build: handlerBuild.kind,
    stackIdLength: LONGEST_STACK_ID.length,
    logicalIdLength: LONGEST_LOGICAL_ID.length,
    measurements,
    lightsailPreviousShapeBytes,
  }, null, 2) + '\n');
});

describe('lightsail-certificate', () => {
  let lightsail: FakeLightsail;
  // The domain name is the subject's common name (at most 64 characters); the nine alternative
  // names are DNS names of 253 characters.
  const domainName = dnsName(DOMAIN_NAME_MAX_LENGTH, 'a');
  const alternativeNames = Array.from({ length: MAX_SUBJECT_ALTERNATIVE_NAMES },
    (_, i) => dnsName(SUBJECT_ALTERNATIVE_NAME_MAX_LENGTH, String.fromCharCode(98 + i)));
  const certificateName = `n${'0'.repeat(CERTIFICATE_NAME_MAX_LENGTH - 1)}`;
  const distributionName = `d${'0'.repeat(254)}`;
  const count = () => lightsail.calls();

  const longestLightsailTags = longestTags(50, LIGHTSAIL_TAG_RULES.keyMaxLength, LIGHTSAIL_TAG_RULES.valueMaxLength);

  function certificateProps(tags = longestLightsailTags): LightsailCertificateResourceProperties {
    return stringifyProps({
      Region: 'us-east-1',
      DomainName: domainName,
      SubjectAlternativeNames: alternativeNames,
      CertificateName: certificateName,
      Tags: tags,
      RemovalPolicy: 'destroy',
      RecordCount: String(1 + alternativeNames.length),
    } as LightsailCertificateResourceProperties);
  }

  beforeEach(() => {
    lightsail = new FakeLightsail().install();
  });

  afterEach(() => {
    lightsail.restore();
  });

  test('Custom::LightsailCertificate: ten domains of the longest names, under the bound that the previous shape (each record\'s domain, name and type echoed) broke', async () => {
    const driver = driverFor<LightsailCertificateResourceProperties>(lightsailHandler, LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE, count);
    const create = await driver.create(certificateProps());
    const bytes = measure('lightsail-certificate', create, `domain of ${domainName.length} + ${alternativeNames.length} names of ${SUBJECT_ALTERNATIVE_NAME_MAX_LENGTH} characters, name of ${certificateName.length}, 50 longest tags`);
    const update = await driver.update(create.physicalResourceId!, certificateProps(), certificateProps(longestTags(50, 128, 255)));
    measure('lightsail-certificate', update, 'the same, tags changed in place');

    // What the response used to carry for the same records: the domain, the whole name and the
    // type of each record, the domain name and the record count. CloudFormation refused it.
    const domains = [domainName, ...alternativeNames];
    const old: Record<string, string> = {
      CertificateArn: create.data!.CertificateArn,
      CertificateName: create.data!.CertificateName,
      Status: create.data!.Status,
      DomainName: domainName,
      RecordCount: String(domains.length),
    };
    domains.forEach((domain, i) => {
      expect(`${create.data![`Record${i}Label`]}.${domain}.`).toBe(FakeLightsail.recordFor(domain).name);
      old[`Record${i}Domain`] = domain;
      old[`Record${i}Name`] = `${create.data![`Record${i}Label`]}.${domain}.`;
      old[`Record${i}Type`] = 'CNAME';
      old[`Record${i}Value`] = create.data![`Record${i}Value`];
    });
    const oldBytes = responseBytes({ ...create, data: old });
    lightsailPreviousShapeBytes = oldBytes;
    expect(oldBytes).toBeGreaterThan(MAX_RESPONSE_BYTES);
    expect(bytes).toBeLessThan(MAX_RESPONSE_BYTES);
  });

  test('Custom::LightsailCertificateValidation and Custom::LightsailCertificateAttachment: the longest names', async () => {
    const certificates = driverFor<LightsailCertificateResourceProperties>(lightsailHandler, LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE, count);
    const created = await certificates.create(certificateProps());
    expect(created.error).toBeUndefined();
    const certificate = lightsail.only();
    certificate.status = 'ISSUED';

    const validations = driverFor<LightsailValidationResourceProperties>(lightsailHandler, LIGHTSAIL_VALIDATION_RESOURCE_TYPE, count);
    const validation = await validations.create(stringifyProps({
      Region: 'us-east-1',
      CertificateName: certificate.name,
      CertificateArn: certificate.arn,
      TimeoutSeconds: '3000',
    }));
    measure('lightsail-certificate', validation, `certificate name of ${certificate.name.length} characters (onEvent and isComplete Data merged)`);

    lightsail.distributions.set(distributionName, { name: distributionName });
    const attachments = driverFor<LightsailAttachmentResourceProperties>(lightsailHandler, LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE, count);
    const attachment = await attachments.create(stringifyProps({
      Region: 'us-east-1',
      CertificateName: certificate.name,
      DistributionName: distributionName,
      RemovalPolicy: 'destroy',
    }));
    measure('lightsail-certificate', attachment, `certificate name of ${certificate.name.length}, distribution name of ${distributionName.length} characters`);
  });
});

describe('server-certificate', () => {
  let pki: TestPki;
  let iam: FakeIam;
  let store: FakeMaterialStore;

  beforeAll(async () => {
    pki = await makeTestPki();
  });

  beforeEach(() => {
    iam = new FakeIam().install();
    store = new FakeMaterialStore();
    store.install();
  });

  afterEach(() => {
    iam.restore();
    store.restore();
  });

  test('Custom::ServerCertificate: the longest name and path, 50 longest tags, 10 notices', async () => {
    const keyArn = store.putSecret('key', { privateKey: pki.leaf.privateKeyPem });
    const name = `n${'='.repeat(SERVER_CERTIFICATE_NAME_MAX_LENGTH - 1)}`;
    const certificatePath = `/${'p'.repeat(SERVER_CERTIFICATE_PATH_MAX_LENGTH - 2)}/`;
    const driver = driverFor<ServerCertificateResourceProperties>(serverHandler, SERVER_CERTIFICATE_RESOURCE_TYPE, () => iam.calls() + store.calls());
    const props = stringifyProps({
      CertificateBody: { kind: 'inline', value: pki.leaf.certificatePem },
      CertificateChain: { kind: 'inline', value: pki.chainPem },
      PrivateKey: { kind: 'secret', secretId: keyArn, jsonField: 'privateKey' },
      ServerCertificateName: name,
      Path: certificatePath,
      ForCloudFront: 'false',
      Tags: longestTags(50, 128, 256),
      RemovalPolicy: 'destroy',
      NotifyDaysBefore: LONGEST_NOTIFY_DAYS,
    } as ServerCertificateResourceProperties);
    const create = await driver.create(props);
    measure('server-certificate', create, `name of ${name.length}, path of ${certificatePath.length} characters, 50 longest tags, 10 notices`);
  });
});

describe('dms-certificate', () => {
  let pki: TestPki;
  let dms: FakeDms;
  let store: FakeMaterialStore;

  beforeAll(async () => {
    pki = await makeTestPki();
  });

  beforeEach(() => {
    dms = new FakeDms();
    dms.install();
    store = new FakeMaterialStore();
    store.install();
  });

  afterEach(() => {
    dms.restore();
    store.restore();
  });

  test('Custom::DmsCertificate: the longest identifier, 50 longest tags, 10 notices', async () => {
    const identifier = `c${'0'.repeat(DMS_CERTIFICATE_IDENTIFIER_MAX_LENGTH - 1)}`;
    const driver = driverFor<DmsCertificateResourceProperties>(dmsHandler, DMS_CERTIFICATE_RESOURCE_TYPE, () => dms.calls() + store.calls());
    const props = stringifyProps({
      CertificateIdentifier: identifier,
      CertificatePem: { kind: 'inline', value: pki.root.certificatePem },
      KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555',
      Tags: longestTags(50, DMS_TAG_KEY_MAX_LENGTH, DMS_TAG_VALUE_MAX_LENGTH),
      RemovalPolicy: 'destroy',
      NotifyDaysBefore: LONGEST_NOTIFY_DAYS,
    } as DmsCertificateResourceProperties);
    const create = await driver.create(props);
    measure('dms-certificate', create, `identifier of ${identifier.length} characters, 50 longest tags, 10 notices`);
  });
});

describe('private-ca', () => {
  const pca = new FakeAcmPca();
  let ca: FakeCa;

  beforeAll(async () => {
    ca = await pca.addCa({ commonName: 'Bounds Root CA' });
  });

  beforeEach(() => {
    pca.install();
  });

  afterEach(() => {
    pca.restore();
  });

  test('Custom::PrivateCa, Custom::PrivateCaPolicy and Custom::PrivateCaExpiryNotices: the longest inputs', async () => {
    const cas = driverFor<PrivateCaResourceProperties>(privateCaHandler, PRIVATE_CA_RESOURCE_TYPE, () => pca.callCount());
    const created = await cas.create(stringifyProps({ CertificateAuthorityArn: ca.arn, PermanentDeletionTimeInDays: String(PERMANENT_DELETION_MAX_DAYS), RemovalPolicy: 'destroy' } as PrivateCaResourceProperties));
    measure('private-ca', created, `CA ARN of ${ca.arn.length} characters`);

    const policies = driverFor<PrivateCaPolicyResourceProperties>(privateCaHandler, PRIVATE_CA_POLICY_RESOURCE_TYPE, () => pca.callCount());
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: Array.from({ length: 20 }, (_, i) => ({
        Sid: `Account${i}`,
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${String(100000000000 + i)}:root` },
        Action: ['acm-pca:IssueCertificate', 'acm-pca:GetCertificate', 'acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificateAuthorityCertificate', 'acm-pca:ListPermissions'],
        Resource: ca.arn,
      })),
    });
    const put = await policies.create(stringifyProps({ CertificateAuthorityArn: ca.arn, Policy: policy, RemovalPolicy: 'destroy' } as PrivateCaPolicyResourceProperties));
    measure('private-ca', put, `policy of ${policy.length} characters (not echoed)`);

    // Expiry notices make no API call: the longest CA ARN the contract accepts (a 200-character ID).
    const longestCaArn = `arn:aws-us-gov:acm-pca:ap-southeast-4:123456789012:certificate-authority/${'a'.repeat(200)}`;
    const notices = driverFor<PrivateCaExpiryNoticesResourceProperties>(privateCaHandler, PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE,
      () => pca.callCount());
    const timed = await notices.create(stringifyProps({
      CertificateAuthorityArn: longestCaArn,
      CaCertificate: ca.certificatePem!,
      NotifyDaysBefore: LONGEST_NOTIFY_DAYS,
    }));
    measure('private-ca', timed, `CA ARN of ${longestCaArn.length} characters, 10 notices`);
  });
});

/** Secrets Manager as the issued-certificate handler uses it: GetSecretValue and PutSecretValue. */
class SecretsStub {
  private readonly values = new Map<string, string | undefined>();
  private stub?: LooseStub;
  private operations = 0;

  public create(name: string): string {
    const arn = `arn:aws:secretsmanager:${FAKE_REGION}:${FAKE_ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`;
    this.values.set(arn, undefined);
    return arn;
  }

  public calls(): number {
    return this.operations;
  }

  public install(): void {
    const stub = looseMock(SecretsManagerClient);
    stub.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string }) => {
      this.operations++;
      const value = this.values.get(input.SecretId);
      if (value === undefined) {
        throw new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret value for staging label: AWSCURRENT', $metadata: { httpStatusCode: 400 } });
      }
      return { ARN: input.SecretId, SecretString: value, VersionId: 'v', VersionStages: ['AWSCURRENT'], $metadata: {} };
    });
    stub.on(PutSecretValueCommand).callsFake(async (input: { SecretId: string; SecretString: string }) => {
      this.operations++;
      if (!this.values.has(input.SecretId)) {
        throw new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret.', $metadata: { httpStatusCode: 400 } });
      }
      this.values.set(input.SecretId, input.SecretString);
      return { ARN: input.SecretId, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'], $metadata: {} };
    });
    this.stub = stub;
  }

  public restore(): void {
    this.stub?.restore();
    this.stub = undefined;
  }
}

describe('private-ca-issued-certificate', () => {
  const pca = new FakeAcmPca();
  let ca: FakeCa;
  let secrets: SecretsStub;

  beforeAll(async () => {
    ca = await pca.addCa({ commonName: 'Bounds Issuing CA', keyAlgorithm: 'EC_prime256v1' });
  });

  beforeEach(() => {
    pca.install();
    secrets = new SecretsStub();
    secrets.install();
    issuedHandler.settings.issueWaitIntervalMs = 1;
  });

  afterEach(() => {
    pca.restore();
    secrets.restore();
  });

  test('Custom::PrivateCaIssuedCertificate: a secret of the longest name, 10 notices', async () => {
    // Secrets Manager names are up to 512 characters; the ARN adds a 6-character suffix.
    const secretArn = secrets.create(`s${'0'.repeat(511)}`);
    const driver = driverFor<IssuedCertificateResourceProperties>(issuedHandler, 'Custom::PrivateCaIssuedCertificate', () => pca.callCount() + secrets.calls());
    const props = stringifyProps({
      CertificateAuthorityArn: ca.arn,
      Subject: { CommonName: 'www.example.com', Organization: 'Example Corp', Country: 'US' },
      DnsNames: ['www.example.com'],
      KeyAlgorithm: 'EC_P256',
      TemplateArn: 'arn:aws:acm-pca:::template/EndEntityServerAuthCertificate/V1',
      ValidityType: 'DAYS',
      ValidityValue: '90',
      SecretArn: secretArn,
      RevocationReason: 'SUPERSEDED',
      RevokeOnDelete: 'true',
      RemovalPolicy: 'destroy',
      NotifyDaysBefore: LONGEST_NOTIFY_DAYS,
    } as IssuedCertificateResourceProperties);
    const create = await driver.create(props);
    measure('private-ca-issued-certificate', create, `secret ARN of ${secretArn.length} characters, 10 notices`);
  });
});

describe('alibaba-kms-certificate', () => {
  let server: FakeAlibabaKmsServer;
  let pca: FakeAcmPca;
  let ca: FakeCa;
  let store: FakeMaterialStore;

  beforeAll(async () => {
    server = new FakeAlibabaKmsServer({ regionId: 'cn-hangzhou', accountId: '5555666677778888' });
    await server.start();
    pca = new FakeAcmPca();
    ca = await pca.addCa({ commonName: 'Bounds RSA Root CA', keyAlgorithm: 'RSA_2048' });
  });

  afterAll(async () => {
    await server.stop();
  });

  beforeEach(() => {
    pca.install();
    store = new FakeMaterialStore();
    store.install();
    alibabaHandler.pcaSettings.issueWaitIntervalMs = 0;
  });

  afterEach(() => {
    pca.restore();
    store.restore();
  });

  test('Custom::AlibabaKmsCertificate: the most names and tags', async () => {
    // KMS takes 10 tags, of which the handler's two ownership tags are two.
    const tagCount = ALIBABA_MAX_TAGS - (ALIBABA_TAG_RULES.ownershipTags ? 2 : 0);
    const credentialsArn = store.putSecret('alibaba/kms', { accessKeyId: server.credentials.accessKeyId, accessKeySecret: server.credentials.accessKeySecret });
    const driver = driverFor<AlibabaKmsCertificateResourceProperties>(alibabaHandler, 'Custom::AlibabaKmsCertificate', () => server.callCount() + pca.callCount() + store.calls());
    const props = stringifyProps({
      Mode: 'create',
      RegionId: 'cn-hangzhou',
      Endpoint: server.endpoint,
      Protocol: 'http',
      CredentialsSecretArn: credentialsArn,
      Subject: { CommonName: 'www.example.com', Country: 'CN', Organization: 'Example, Inc.', OrganizationalUnit: 'Platform', State: 'Zhejiang' },
      SubjectAlternativeNames: Array.from({ length: ALIBABA_MAX_SANS }, (_, i) => `s${i}.example.com`),
      KeySpec: 'RSA_2048',
      ExportablePrivateKey: 'false',
      CertificateAuthorityArn: ca.arn,
      TemplateArn: 'arn:aws:acm-pca:::template/EndEntityCertificate/V1',
      ValidityDays: '90',
      Tags: longestTags(tagCount, ALIBABA_TAG_RULES.keyMaxLength, ALIBABA_TAG_RULES.valueMaxLength),
      RemovalPolicy: 'destroy',
      DeactivateOnDelete: 'false',
    } as AlibabaKmsCertificateResourceProperties);
    const create = await driver.create(props);
    measure('alibaba-kms-certificate', create, `${ALIBABA_MAX_SANS} names, ${tagCount} longest tags (onEvent and isComplete Data merged)`);
  });
});

describe('acm-certificate', () => {
  let pki: TestPki;
  let acm: FakeAcm;
  let store: FakeMaterialStore;

  beforeAll(async () => {
    pki = await makeTestPki();
  });

  beforeEach(() => {
    acm = new FakeAcm().install();
    store = new FakeMaterialStore();
    store.install();
  });

  afterEach(() => {
    acm.restore();
    store.restore();
  });

  test('Custom::AcmImportedCertificate: an RSA 4096 certificate, 48 longest tags (ACM\'s 50 less the two ownership tags), 10 notices; re-imported in place', async () => {
    // The response echoes no material: the key algorithm with the longest ACM name, the dates and the outcome.
    const leaf = await makeUsageLeaf(pki.intermediate, { key: 'RSA_4096' });
    const renewed = await makeUsageLeaf(pki.intermediate, { key: 'RSA_4096' });
    const tagCount = ACM_TAG_RULES.maxTags - (ACM_TAG_RULES.ownershipTags ? 2 : 0);
    const tags = longestTags(tagCount, ACM_TAG_RULES.keyMaxLength, ACM_TAG_RULES.valueMaxLength);
    const propsFor = (cert: typeof leaf) => stringifyProps({
      Certificate: { kind: 'inline', value: cert.certificatePem },
      CertificateChain: { kind: 'inline', value: pki.chainPem },
      PrivateKey: { kind: 'secret', secretId: store.putSecret(`key-${cert.certificate.serialNumber}`, { privateKey: cert.privateKeyPem }), jsonField: 'privateKey' },
      Tags: tags,
      RemovalPolicy: 'destroy',
      NotifyDaysBefore: LONGEST_NOTIFY_DAYS,
    } as AcmImportedCertificateResourceProperties);
    const driver = driverFor<AcmImportedCertificateResourceProperties>(acmHandler, ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE,
      () => acm.calls() + store.calls());
    const first = propsFor(leaf);
    const create = await driver.create(first);
    measure('acm-certificate', create, `RSA 4096 with its chain, ${tagCount} longest tags, 10 notices`);
    const update = await driver.update(create.physicalResourceId!, first, propsFor(renewed));
    expect(update.physicalResourceId).toBe(create.physicalResourceId);
    measure('acm-certificate', update, 'the same, new material re-imported under the same ARN');
  });
});

/** S3 as the trust bundle handler uses it on a create: nothing published yet, versioning on, a put. */
class TrustBundleS3Stub {
  private stub?: LooseStub;

  public constructor(private readonly versionId: string) {}

  public calls(): number {
    return this.stub?.calls().length ?? 0;
  }

  public install(): void {
    const stub = looseMock(S3Client);
    stub.on(ListObjectsV2Command).resolves({ Contents: [], $metadata: {} });
    stub.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled', $metadata: {} });
    stub.on(PutObjectCommand).resolves({ VersionId: this.versionId, $metadata: {} });
    this.stub = stub;
  }

  public restore(): void {
    this.stub?.restore();
    this.stub = undefined;
  }
}

describe('private-ca trust bundle', () => {
  // S3 documents version IDs as opaque strings of at most 1,024 bytes.
  const longestVersionId = 'v'.repeat(1024);
  let pki: TestPki;
  let s3: TrustBundleS3Stub;

  beforeAll(async () => {
    pki = await makeTestPki();
  });

  beforeEach(() => {
    s3 = new TrustBundleS3Stub(longestVersionId);
    s3.install();
  });

  afterEach(() => {
    s3.restore();
  });

  test('Custom::PrivateCaTrustBundle: the longest bucket name and key (each key character escaped in JSON), the longest S3 version ID', async () => {
    const bucket = `b${'0'.repeat(62)}`;
    // The physical ID is s3://<bucket>/<key>: a key of backslashes is twice its length in the response body.
    const prefix = `${'\\'.repeat(TRUST_BUNDLE_KEY_MAX_BYTES - TRUST_BUNDLE_OBJECT_NAME.length - 1)}/`;
    const key = prefix + TRUST_BUNDLE_OBJECT_NAME;
    expect(Buffer.byteLength(key, 'utf8')).toBe(TRUST_BUNDLE_KEY_MAX_BYTES);
    const driver = driverFor<PrivateCaTrustBundleResourceProperties>(privateCaHandler, PRIVATE_CA_TRUST_BUNDLE_RESOURCE_TYPE,
      () => s3.calls());
    const create = await driver.create(stringifyProps({
      CertificateAuthorityArn: 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555',
      CertificateChain: [pki.intermediate.certificatePem.trim(), pki.root.certificatePem.trim()].join('\n'),
      Bucket: bucket,
      Key: key,
      OverlapSeconds: String(TRUST_BUNDLE_MAX_OVERLAP_DAYS * 86400),
      RemovalPolicy: 'destroy',
    } as PrivateCaTrustBundleResourceProperties));
    expect(create.physicalResourceId).toBe(`s3://${bucket}/${key}`);
    measure('private-ca', create, `bucket name of ${bucket.length}, key of ${key.length} bytes (JSON-escaped to ${JSON.stringify(key).length - 2}), version ID of ${longestVersionId.length} characters`);
  });
});
