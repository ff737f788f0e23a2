/**
 * `cdk-certificates check --live` in-process: the checker (./live-check.ts) over stub services, and
 * its AWS SDK binding (./live.ts) over the in-repo fakes of the services moto lacks (DMS, Lightsail;
 * aws-sdk-client-mock fakes, so in-process only). IAM, ACM and ACM Private CA run against moto in
 * cli-live.moto.test.ts.
 */
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { CreateCertificateCommand, LightsailClient } from '@aws-sdk/client-lightsail';
import { CliIo } from '../../src/manifest/cli/check';
import { arnRegion, runLiveCheck, sdkServices } from '../../src/manifest/cli/live';
import {
  caArnOfIssuedCertificate,
  checkLiveStack,
  LiveCheckReport,
  LiveServices,
  parseLiveArgs,
  renderLiveTable,
  runLiveCli,
  ServiceCertificate,
  StackResource,
} from '../../src/manifest/cli/live-check';
import { FakeDms } from '../support/fakes/dms';
import { FakeLightsail } from '../support/fakes/lightsail';
import { makeTestPki, TestPki } from '../support/fixtures/pki';

let pki: TestPki;
beforeAll(async () => { pki = await makeTestPki(); });

const NOW = () => new Date();

/** Services that answer from a table by physical ID; anything else is "not found". */
function stubServices(byId: Record<string, ServiceCertificate>, resources: StackResource[] = []): LiveServices {
  const get = async (id: string) => byId[id];
  return {
    stackResources: async () => resources,
    iamServerCertificate: get,
    dmsCertificate: get,
    lightsailCertificate: get,
    acmCertificate: get,
    privateCaCertificate: get,
    privateCaIssuedCertificate: async (_ca, id) => byId[id],
  };
}

function capture(): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: (t) => { out += t; }, stderr: (t) => { err += t; }, now: NOW }, out: () => out, err: () => err };
}

describe('checkLiveStack (stub services)', () => {
  test('a healthy certificate with its chain is ok; non-certificate resources are ignored', async () => {
    const report = await checkLiveStack({
      stackName: 'App',
      minDays: 30,
      now: NOW(),
      services: stubServices({ web: { certificatePem: pki.leaf.certificatePem, chainPem: pki.chainPem } }, [
        { logicalId: 'Web', physicalId: 'web', type: 'Custom::ServerCertificate' },
        { logicalId: 'Bucket', physicalId: 'bucket', type: 'AWS::S3::Bucket' },
      ]),
    });
    expect(report.certificates).toHaveLength(1);
    expect(report.certificates[0]).toMatchObject({ logicalId: 'Web', service: 'IAM', status: 'ok', chainLength: 2, subject: expect.stringContaining('www.example.com') });
    expect(report.offenders).toEqual([]);
    expect(renderLiveTable(report)).toMatch(/^OK: 1 deployed certificate\(s\) in stack App/);
  });

  test('missing, expiring, expired, a wrong chain, ACM revoked and unhealthy statuses are offenders', async () => {
    const resources: StackResource[] = [
      { logicalId: 'Gone', physicalId: 'gone', type: 'Custom::ServerCertificate' },
      { logicalId: 'Soon', physicalId: 'soon', type: 'Custom::DmsCertificate' },
      { logicalId: 'Old', physicalId: 'old', type: 'Custom::AcmImportedCertificate' },
      { logicalId: 'BadChain', physicalId: 'bad', type: 'Custom::ServerCertificate' },
      { logicalId: 'Revoked', physicalId: 'revoked', type: 'AWS::CertificateManager::Certificate' },
      { logicalId: 'Pending', physicalId: 'pending', type: 'Custom::LightsailCertificate' },
      { logicalId: 'Creating', type: 'Custom::PrivateCa', status: 'CREATE_IN_PROGRESS' },
    ];
    const report = await checkLiveStack({
      stackName: 'App',
      minDays: 30,
      now: NOW(),
      resources,
      services: stubServices({
        soon: { certificatePem: pki.expiringLeaf.certificatePem, usedBy: ['DMS endpoint db'] },
        old: { certificatePem: pki.expiredLeaf.certificatePem, status: 'EXPIRED', healthyStatuses: ['ISSUED'], usedBy: [] },
        bad: { certificatePem: pki.leaf.certificatePem, chainPem: pki.root.certificatePem + pki.intermediate.certificatePem },
        revoked: { certificatePem: pki.leaf.certificatePem, status: 'REVOKED', healthyStatuses: ['ISSUED'], revokedAt: new Date('2026-01-02T00:00:00Z') },
        pending: { status: 'PENDING_VALIDATION', healthyStatuses: ['ISSUED'], usedBy: [] },
      }),
    });
    const status = Object.fromEntries(report.certificates.map((c) => [c.logicalId, c.status]));
    expect(status).toEqual({ Gone: 'missing', Soon: 'expiring', Old: 'expired', BadChain: 'invalid', Revoked: 'revoked', Pending: 'unhealthy' });
    expect(report.notDeployed).toEqual([{ logicalId: 'Creating', resourceType: 'Custom::PrivateCa', status: 'CREATE_IN_PROGRESS' }]);
    // EXPIRED is said once, from the dates.
    expect(report.certificates.find((c) => c.logicalId === 'Old')!.problems.map((p) => p.code)).toEqual(['expired']);
    const text = renderLiveTable(report);
    expect(text).toMatch(/^FAILED: 6 of 6 deployed certificate\(s\) in stack App/);
    expect(text).toContain('DMS endpoint db');
    expect(text).toContain('root-to-leaf order');
    expect(text).toContain('Not deployed (no physical ID): Creating (Custom::PrivateCa, CREATE_IN_PROGRESS)');
    expect(text).toContain('Not checked: revocation where there is no CRL distribution point');
  });

  test('an issued certificate is read from the CA its ARN names', async () => {
    const ca = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';
    expect(caArnOfIssuedCertificate(`${ca}/certificate/0123abcd`)).toBe(ca);
    const calls: string[][] = [];
    const services = stubServices({});
    const report = await checkLiveStack({
      stackName: 'App',
      minDays: 30,
      now: NOW(),
      resources: [{ logicalId: 'Issued', physicalId: `${ca}/certificate/0123abcd`, type: 'Custom::PrivateCaIssuedCertificate' }],
      services: {
        ...services,
        privateCaIssuedCertificate: async (caArn, arn) => {
          calls.push([caArn, arn]);
          return { certificatePem: pki.leaf.certificatePem, chainPem: pki.chainPem };
        },
      },
    });
    expect(calls).toEqual([[ca, `${ca}/certificate/0123abcd`]]);
    expect(report.certificates[0].status).toBe('ok');
  });
});

describe('runLiveCli: arguments, formats and exit codes as check', () => {
  const services = stubServices({ web: { certificatePem: pki?.leaf.certificatePem } });
  test('usage errors exit 2', async () => {
    for (const argv of [['--live'], ['--live', 'cdk.out'], ['--live', '--stack', 'A', '--min-days', 'x'], ['--live', '--stack', 'A', '--require-all']]) {
      const c = capture();
      expect(await runLiveCli(argv, c.io, () => services)).toBe(2);
      expect(c.err()).toContain('Usage: cdk-certificates check --live');
    }
    expect(parseLiveArgs(['--live', '--stack=A', '--region', 'eu-west-1', '--format', 'json', '--min-days', '5']))
      .toEqual({ stackName: 'A', region: 'eu-west-1', endpointUrl: undefined, minDays: 5, format: 'json' });
  });

  test('json report, exit 0 when healthy and 1 with an offender; an AWS error exits 2', async () => {
    const resources = [{ logicalId: 'Web', physicalId: 'web', type: 'Custom::ServerCertificate' }];
    const ok = capture();
    expect(await runLiveCli(['--live', '--stack', 'App', '--format', 'json'], ok.io,
      () => stubServices({ web: { certificatePem: pki.leaf.certificatePem } }, resources))).toBe(0);
    const report = JSON.parse(ok.out()) as LiveCheckReport;
    expect(report).toMatchObject({ version: 1, mode: 'live', stack: 'App', minDays: 30, offenders: [] });

    const bad = capture();
    expect(await runLiveCli(['--live', '--stack', 'App', '--min-days', '400'], bad.io,
      () => stubServices({ web: { certificatePem: pki.leaf.certificatePem } }, resources))).toBe(1);
    expect(bad.out()).toMatch(/^FAILED/);

    const denied = capture();
    const failing: LiveServices = {
      ...stubServices({}),
      stackResources: async () => { throw Object.assign(new Error('User is not authorized to perform cloudformation:ListStackResources'), { name: 'AccessDenied' }); },
    };
    expect(await runLiveCli(['--live', '--stack', 'App'], denied.io, () => failing)).toBe(2);
    expect(denied.err()).toContain('AccessDenied: User is not authorized');
  });
});

describe('the SDK binding over the DMS and Lightsail fakes (in-process)', () => {
  const dms = new FakeDms();
  const lightsail = new FakeLightsail();
  beforeEach(() => { dms.install(); lightsail.install(); });
  afterEach(() => { dms.restore(); lightsail.restore(); });

  test('DMS: the PEM, its dates, and the endpoints that use it; a deleted certificate is missing', async () => {
    const used = dms.seed('trust', { pem: pki.root.certificatePem });
    const alone = dms.seed('expiring', { pem: pki.expiringLeaf.certificatePem });
    dms.attachEndpoint('source-db', used.arn);
    const services = sdkServices({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const report = await checkLiveStack({
      stackName: 'App',
      minDays: 30,
      now: NOW(),
      services,
      resources: [
        { logicalId: 'Trust', physicalId: used.arn, type: 'Custom::DmsCertificate' },
        { logicalId: 'Expiring', physicalId: alone.arn, type: 'Custom::DmsCertificate' },
        { logicalId: 'Deleted', physicalId: used.arn.replace(/:cert:.*$/, ':cert:GONE'), type: 'Custom::DmsCertificate' },
      ],
    });
    expect(report.certificates.map((c) => [c.logicalId, c.status, c.usedBy])).toEqual([
      ['Trust', 'ok', ['DMS endpoint source-db']],
      ['Expiring', 'expiring', []],
      ['Deleted', 'missing', undefined],
    ]);
    expect(dms.writes()).toBe(0);
  });

  test('Lightsail: status and how many resources use it, matched by ARN', async () => {
    const client = new LightsailClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    await client.send(new CreateCertificateCommand({ certificateName: 'site', domainName: 'example.com' }));
    await client.send(new CreateCertificateCommand({ certificateName: 'waiting', domainName: 'example.org' }));
    const site = lightsail.certificate('us-east-1', 'site')!;
    lightsail.issue(site);
    lightsail.addDistribution('cdn', 'site');
    const waiting = lightsail.certificate('us-east-1', 'waiting')!;
    const writesBefore = lightsail.writeCalls();
    const report = await checkLiveStack({
      stackName: 'App',
      minDays: 30,
      now: NOW(),
      services: sdkServices({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
      resources: [
        { logicalId: 'Site', physicalId: site.arn, type: 'Custom::LightsailCertificate' },
        { logicalId: 'Waiting', physicalId: waiting.arn, type: 'Custom::LightsailCertificate' },
      ],
    });
    expect(report.certificates.map((c) => [c.logicalId, c.status, c.serviceStatus, c.usedBy])).toEqual([
      ['Site', 'ok', 'ISSUED', ['1 Lightsail resource(s)']],
      ['Waiting', 'unhealthy', 'PENDING_VALIDATION', []],
    ]);
    expect(lightsail.writeCalls()).toBe(writesBefore);
  });

  test('a certificate is read in the region its ARN names (a distribution certificate in us-east-1 of a stack elsewhere)', async () => {
    expect(arnRegion('arn:aws:lightsail:us-east-1:123456789012:Certificate/x')).toBe('us-east-1');
    expect(arnRegion('App_web')).toBeUndefined();
    const client = new LightsailClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    await client.send(new CreateCertificateCommand({ certificateName: 'cdn', domainName: 'example.com' }));
    const cdn = lightsail.certificate('us-east-1', 'cdn')!;
    lightsail.issue(cdn);
    const report = await checkLiveStack({
      stackName: 'App',
      minDays: 30,
      now: NOW(),
      services: sdkServices({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
      resources: [{ logicalId: 'Cdn', physicalId: cdn.arn, type: 'Custom::LightsailCertificate' }],
    });
    expect(report.certificates.map((c) => [c.logicalId, c.status])).toEqual([['Cdn', 'ok']]);
  });

  test('runLiveCheck (the bundle entry) reads the stack through CloudFormation, then the services', async () => {
    // CloudFormation itself runs against moto in cli-live.moto.test.ts; here a usage error only.
    const c = capture();
    expect(await runLiveCheck(['--live'], c.io)).toBe(2);
  });
});

describe('the shipped bundles', () => {
  const assets = path.join(__dirname, '..', '..', 'assets', 'manifest', 'cli');
  const requires = (code: string) => [...code.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((m) => m[1]);
  const notBuiltin = (r: string) => !builtinModules.includes(r.replace(/^node:/, ''));

  test('the live bundle carries its AWS SDK clients: it requires Node.js built-ins only (SDK messages aside)', () => {
    const code = fs.readFileSync(path.join(assets, 'live', 'index.js'), 'utf8');
    // Not loads: the SDK's error messages quote `require("@aws-sdk/signature-v4-crt")` and the SigV4a
    // signer, which only multi-region endpoints need (none of these services).
    const optional = ['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a'];
    expect(requires(code).filter(notBuiltin).filter((r) => !optional.includes(r))).toEqual([]);
    for (const client of ['CloudFormationClient', 'IAMClient', 'DatabaseMigrationServiceClient', 'LightsailClient', 'ACMClient', 'ACMPCAClient']) {
      expect(code).toContain(client);
    }
  });

  test('the check CLI stays SDK-free: it loads the live bundle only for --live', () => {
    const code = fs.readFileSync(path.join(assets, 'main', 'index.js'), 'utf8');
    expect(code).not.toContain('@aws-sdk');
    expect(requires(code).filter(notBuiltin)).toEqual([]);
  });
});
