import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { CertificatePem, DmsCertificate, PrivateCa, PrivateKey, ServerCertificate } from '../../src';
import { ALIBABA_KMS_CERTIFICATE_RESOURCE_TYPE } from '../../src/contract/alibaba-kms-certificate';
import { DMS_CERTIFICATE_RESOURCE_TYPE } from '../../src/contract/dms-certificate';
import { ISSUED_CERTIFICATE_RESOURCE_TYPE } from '../../src/contract/issued-certificate';
import { LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE } from '../../src/contract/lightsail-certificate';
import { certificateRecords as recordsFor } from '../../src/contract/manifest';
import { SERVER_CERTIFICATE_RESOURCE_TYPE } from '../../src/contract/server-certificate';
import { summarizeCertificates } from '../../src/contract/x509';
import { CheckReport, runCli, USAGE } from '../../src/manifest/cli/check';
import { RESOURCE_TYPES } from '../../src/manifest/cli/coverage';
import { versionLabel } from '../../src/manifest/cli/main';
import { makeIntermediateCa, makeLeaf, makeRootCa, makeTestPki, TestCertificate, TestPki } from '../support/fixtures/pki';

const DAY_MS = 24 * 60 * 60 * 1000;
const ENV = { account: '123456789012', region: 'eu-west-1' };
const REPO = path.join(__dirname, '..', '..');
const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

let pki: TestPki;
/** A hierarchy valid from 500 days ago for ten years, and a leaf of it that expired yesterday. */
let longLived: { root: TestCertificate; intermediate: TestCertificate; expiredLeaf: TestCertificate };
/** A leaf of the long-lived hierarchy, valid now. */
let otherLeaf: TestCertificate;
const tempDirs: string[] = [];
const fixtures: Record<'healthy' | 'expiring' | 'expired' | 'stages' | 'empty' | 'deployTime', string> = {} as any;

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-certificates-cli-'));
  tempDirs.push(dir);
  return dir;
}

function serverCertificate(scope: Construct, id: string, body: TestCertificate, chain: string): void {
  const stack = Stack.of(scope);
  const key = (stack.node.tryFindChild('Key') as secretsmanager.ISecret | undefined)
    ?? secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:key-AbCdEf');
  new ServerCertificate(scope, id, {
    certificateBody: CertificatePem.fromString(body.certificatePem),
    certificateChain: CertificatePem.fromString(chain),
    privateKey: PrivateKey.fromSecret(key),
  });
}

/** Synthesizes an app into a fresh directory and returns it. */
function synth(build: (app: App) => void): string {
  const outdir = tempDir();
  const app = new App({ outdir });
  build(app);
  app.synth();
  return outdir;
}

/** Synthesizes as if the clock read `at` (only Date is faked). */
function synthAt(at: Date, build: (app: App) => void): string {
  jest.useFakeTimers({ now: at, doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask', 'hrtime', 'performance'] });
  try {
    return synth(build);
  } finally {
    jest.useRealTimers();
  }
}

beforeAll(async () => {
  pki = await makeTestPki();
  const now = Date.now();
  const root = await makeRootCa({ commonName: 'Long Root CA', notBefore: new Date(now - 500 * DAY_MS), notAfter: new Date(now + 3650 * DAY_MS) });
  const intermediate = await makeIntermediateCa(root, { commonName: 'Long Intermediate CA', notBefore: new Date(now - 500 * DAY_MS), notAfter: new Date(now + 3650 * DAY_MS) });
  const expiredLeaf = await makeLeaf(intermediate, { commonName: 'old.example.com', notBefore: new Date(now - 400 * DAY_MS), notAfter: new Date(now - DAY_MS) });
  longLived = { root, intermediate, expiredLeaf };
  otherLeaf = await makeLeaf(intermediate, { commonName: 'other.example.com' });

  fixtures.healthy = synth((app) => serverCertificate(new Stack(app, 'Certs', { env: ENV }), 'Web', pki.leaf, pki.chainPem));
  fixtures.expiring = synth((app) => serverCertificate(new Stack(app, 'Certs', { env: ENV }), 'Soon', pki.expiringLeaf, pki.chainPem));
  // Synthesized 200 days ago, when the leaf was valid; checked today, when it is not.
  fixtures.expired = synthAt(new Date(now - 200 * DAY_MS), (app) => serverCertificate(new Stack(app, 'Certs', { env: ENV }), 'Old',
    longLived.expiredLeaf, longLived.intermediate.certificatePem + longLived.root.certificatePem));
  fixtures.stages = synth((app) => {
    serverCertificate(new Stack(new Stage(app, 'Dev', { env: ENV }), 'Certs'), 'Web', pki.leaf, pki.chainPem);
    serverCertificate(new Stack(new Stage(app, 'Prod', { env: ENV }), 'Certs'), 'Web', pki.expiringLeaf, pki.chainPem);
  });
  fixtures.empty = synth((app) => new Stack(app, 'Nothing', { env: ENV }).node.addMetadata('other', 'x'));
  // One certificate known at synth (3 records), and seven whose PEM comes at deploy.
  fixtures.deployTime = synth((app) => {
    const stack = new Stack(app, 'Certs', { env: ENV });
    serverCertificate(stack, 'Literal', pki.leaf, pki.chainPem);
    const tls = secretsmanager.Secret.fromSecretNameV2(stack, 'Tls', 'tls/web');
    new ServerCertificate(stack, 'Web', {
      certificateBody: CertificatePem.fromSecret(tls, 'certificate'),
      certificateChain: CertificatePem.fromSsmParameter(ssm.StringParameter.fromStringParameterName(stack, 'Chain', '/tls/chain')),
      privateKey: PrivateKey.fromSecret(tls, 'key'),
    });
    const ca = new PrivateCa(stack, 'Root', { subject: { commonName: 'Example Root CA' } });
    const api = ca.issueCertificate('Api', { commonName: 'api.example.com' });
    new ServerCertificate(stack, 'ApiIam', { certificateBody: api.certificatePem, certificateChain: api.certificateChainPem, privateKey: api.privateKey });
    new DmsCertificate(stack, 'Trust', { certificatePem: ca.certificatePem });
  });
});

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: string[], now: Date = new Date()): Run {
  let stdout = '';
  let stderr = '';
  const code = runCli(args, {
    stdout: (t) => { stdout += t; },
    stderr: (t) => { stderr += t; },
    now: () => now,
  }, PACKAGE_VERSION);
  return { code, stdout, stderr };
}

function json(args: string[], now?: Date): { code: number; report: CheckReport } {
  const result = run([...args, '--format', 'json'], now);
  return { code: result.code, report: JSON.parse(result.stdout) as CheckReport };
}

function daysLeft(cert: TestCertificate, now: Date): number {
  return Math.floor((cert.certificate.notAfter.getTime() - now.getTime()) / DAY_MS);
}

/** Copies an assembly so a test can alter it. */
function copyOf(dir: string): string {
  const copy = tempDir();
  fs.cpSync(dir, copy, { recursive: true });
  return copy;
}

function metadataFile(dir: string): string {
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.metadata.json'));
  return path.join(dir, file!);
}

type MetadataJson = Record<string, Array<{ type: string; data: Record<string, unknown> }>>;

function certificateRecords(metadata: MetadataJson): Array<Record<string, unknown>> {
  return Object.values(metadata).flat().filter((m) => m.type === 'cdk-certificates:certificate').map((m) => m.data);
}

describe('exit codes and the table', () => {
  test('healthy: exit 0 and a one-line summary naming the first certificate to expire', () => {
    const result = run(['check', fixtures.healthy]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(new RegExp(`^OK: 3 certificate\\(s\\) checked in ${fixtures.healthy} are valid for at least 30 more day\\(s\\)`));
    expect(result.stdout).toContain('the first to expire is CN=www.example.com (Certs/Web certificateBody)');
    // Nothing unchecked: nothing more to say.
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  test('expiring within the minimum: exit 1 and a table row with the days left', () => {
    const now = new Date();
    const result = run(['check', fixtures.expiring], now);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`FAILED: 1 of 3 certificate(s) checked in ${fixtures.expiring} are expired, expire within 30 day(s), or fail the X.509 checks:`);
    expect(lines[2].split(/\s{2,}/)).toEqual(['STATUS', 'DAYS LEFT', 'NOT AFTER', 'CONSTRUCT', 'PROPERTY', 'SUBJECT', 'PROBLEM']);
    expect(lines[3]).toMatch(/^-+ {2}-+/);
    const days = daysLeft(pki.expiringLeaf, now);
    expect(lines[4].split(/\s{2,}/)).toEqual([
      'expiring', String(days), pki.expiringLeaf.certificate.notAfter.toISOString(), 'Certs/Soon', 'certificateBody', 'CN=expiring.example.com',
      `expires in ${days} day(s), on ${pki.expiringLeaf.certificate.notAfter.toISOString()}, within the 30-day minimum; renew it`,
    ]);
    expect(lines).toHaveLength(5);
  });

  test('--min-days moves the threshold (both option forms)', () => {
    expect(run(['check', fixtures.expiring, '--min-days', '5']).code).toBe(0);
    expect(run(['check', fixtures.expiring, '--min-days=5']).code).toBe(0);
    expect(run(['check', '--min-days=0', fixtures.expiring]).code).toBe(0);
    expect(run(['check', fixtures.healthy, '--min-days', '400']).code).toBe(1);
  });

  test('expired since synth: exit 1, status expired', () => {
    const result = run(['check', fixtures.expired]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^expired {2,}-\d+ {2,}\S+ {2,}Certs\/Old {2,}certificateBody {2,}CN=old\.example\.com {2,}expired on /m);
    expect(result.stdout).toContain(`expired on ${longLived.expiredLeaf.certificate.notAfter.toISOString()}; renew it`);
    // The chain of that app is long-lived and healthy.
    expect(result.stdout).not.toContain('certificateChain');
  });

  test('not valid yet at the time of the check: exit 1, status not-yet-valid', () => {
    const before = new Date(pki.leaf.certificate.notBefore.getTime() - DAY_MS);
    const { code, report } = json(['check', fixtures.healthy], before);
    expect(code).toBe(1);
    expect(report.offenders.map((o) => [o.constructPath, o.property, o.status])).toContainEqual(['Certs/Web', 'certificateBody', 'not-yet-valid']);
  });

  test('no records: exit 0 and says why nothing was checked', () => {
    const result = run(['check', fixtures.empty]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('No certificates recorded');
  });
});

describe('the X.509 checks re-run from the recorded PEM', () => {
  test('a chain whose records were put in root-to-leaf order fails the chain check', () => {
    const dir = copyOf(fixtures.healthy);
    const file = metadataFile(dir);
    const metadata = JSON.parse(fs.readFileSync(file, 'utf8')) as MetadataJson;
    const chain = certificateRecords(metadata).filter((r) => r.property === 'certificateChain');
    expect(chain).toHaveLength(2);
    [chain[0].position, chain[1].position] = [2, 1];
    fs.writeFileSync(file, JSON.stringify(metadata));

    const { code, report } = json(['check', dir]);
    expect(code).toBe(1);
    expect(report.offenders).toHaveLength(1);
    expect(report.offenders[0]).toMatchObject({ constructPath: 'Certs/Web', property: 'certificateChain', status: 'invalid' });
    expect(report.offenders[0].problems[0].message).toMatch(/^certificateChain: is in root-to-leaf order/);
  });

  test('a record whose fields do not match its PEM is reported as altered', () => {
    const dir = copyOf(fixtures.healthy);
    const file = metadataFile(dir);
    const metadata = JSON.parse(fs.readFileSync(file, 'utf8')) as MetadataJson;
    const body = certificateRecords(metadata).find((r) => r.property === 'certificateBody')!;
    body.notAfter = '2099-01-01T00:00:00.000Z';
    fs.writeFileSync(file, JSON.stringify(metadata));

    const result = run(['check', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^invalid .*the record's notAfter do\(es\) not match its certificatePem; the assembly was altered after synth$/m);
  });

  function alteredHealthy(alter: (records: Array<Record<string, unknown>>, metadata: MetadataJson) => void): string {
    const dir = copyOf(fixtures.healthy);
    const file = metadataFile(dir);
    const metadata = JSON.parse(fs.readFileSync(file, 'utf8')) as MetadataJson;
    alter(certificateRecords(metadata), metadata);
    fs.writeFileSync(file, JSON.stringify(metadata));
    return dir;
  }

  test.each<[string, (records: Array<Record<string, unknown>>, metadata: MetadataJson) => void, string, RegExp]>([
    ['a record whose PEM holds two certificates', (records) => {
      const body = records.find((r) => r.property === 'certificateBody')!;
      body.certificatePem = `${body.certificatePem as string}${pki.root.certificatePem}`;
    }, 'certificateBody', /^the record holds 2 certificates; expected exactly one$/],
    ['a record whose PEM does not parse', (records) => {
      records.find((r) => r.property === 'certificateBody')!.certificatePem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    }, 'certificateBody', /^the recorded certificate does not parse: block 1 \(CERTIFICATE\) is not a valid X\.509 certificate$/],
    ['a chain with a record missing', (_records, metadata) => {
      for (const list of Object.values(metadata)) {
        const i = list.findIndex((m) => m.type === 'cdk-certificates:certificate' && m.data.property === 'certificateChain' && m.data.position === 2);
        if (i >= 0) list.splice(i, 1);
      }
    }, 'certificateChain', /^the assembly records positions 1 of certificateChain, which holds 2 certificate\(s\); the assembly is incomplete$/],
  ])('%s is invalid', (_name, alter, property, message) => {
    const { code, report } = json(['check', alteredHealthy(alter)]);
    expect(code).toBe(1);
    expect(report.offenders).toHaveLength(1);
    expect(report.offenders[0]).toMatchObject({ property, status: 'invalid' });
    expect(report.offenders[0].problems[0].message).toMatch(message);
  });

  function withOtherLeaf(): { dir: string; metadata: MetadataJson; file: string; fingerprint: string } {
    const dir = copyOf(fixtures.healthy);
    const file = metadataFile(dir);
    const metadata = JSON.parse(fs.readFileSync(file, 'utf8')) as MetadataJson;
    const records = certificateRecords(metadata);
    const body = records.find((r) => r.property === 'certificateBody')!;
    // A true record of another certificate, valid now, that the recorded chain did not issue.
    const pem = otherLeaf.certificatePem;
    const [record] = recordsFor('Certs/Web', 'certificateBody', 'certificate', [{ summary: summarizeCertificates(pem, 'x')[0], pem }]);
    Object.assign(body, record);
    return { dir, metadata, file, fingerprint: record.fingerprintSha256 };
  }

  test('a chain whose leaf the assembly no longer records fails', () => {
    const { dir, metadata, file } = withOtherLeaf();
    fs.writeFileSync(file, JSON.stringify(metadata));

    const { code, report } = json(['check', dir]);
    expect(code).toBe(1);
    expect(report.offenders.map((o) => [o.property, o.position, o.status])).toEqual([['certificateChain', 1, 'invalid']]);
    expect(report.offenders[0].problems[0].message).toMatch(/^the chain was checked against a certificate \(SHA-256 [0-9A-F:]+\) that the assembly does not record$/);
  });

  test('a chain that did not issue its leaf fails the signature check', () => {
    const { dir, metadata, file, fingerprint } = withOtherLeaf();
    for (const chain of certificateRecords(metadata).filter((r) => r.property === 'certificateChain')) {
      chain.leafFingerprintSha256 = fingerprint;
    }
    fs.writeFileSync(file, JSON.stringify(metadata));

    const { code, report } = json(['check', dir]);
    expect(code).toBe(1);
    expect(report.offenders.map((o) => [o.property, o.position, o.status])).toEqual([['certificateChain', 1, 'invalid']]);
    expect(report.offenders[0].problems[0].message)
      .toMatch(/^certificateChain: no certificate in the chain issued the certificate in certificateBody; position 1 must be its issuer \(CN=Long Intermediate CA\)/);
  });
});

describe('nested assemblies', () => {
  test('the root assembly includes every stage; a stage directory only that stage', () => {
    const all = json(['check', fixtures.stages]);
    expect(all.code).toBe(1);
    expect(all.report.assemblies).toEqual([fixtures.stages, path.join(fixtures.stages, 'assembly-Dev'), path.join(fixtures.stages, 'assembly-Prod')]);
    expect(all.report.certificates).toHaveLength(6);
    expect(all.report.offenders.map((o) => [o.stack, o.constructPath, o.status])).toEqual([['Prod/Certs', 'Prod/Certs/Web', 'expiring']]);

    expect(run(['check', path.join(fixtures.stages, 'assembly-Dev')]).code).toBe(0);
    expect(run(['check', path.join(fixtures.stages, 'assembly-Prod')]).code).toBe(1);
  });

  test('an assembly given twice (itself and through its parent) is checked once', () => {
    const { report } = json(['check', fixtures.stages, path.join(fixtures.stages, 'assembly-Prod')]);
    expect(report.certificates).toHaveLength(6);
    expect(report.assemblies).toHaveLength(3);
  });

  test('records kept inline in manifest.json (older CDK versions) are read too', () => {
    const dir = copyOf(fixtures.expiring);
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    const stackArtifact = manifest.artifacts.Certs;
    stackArtifact.metadata = JSON.parse(fs.readFileSync(path.join(dir, stackArtifact.additionalMetadataFile), 'utf8'));
    delete stackArtifact.additionalMetadataFile;
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    fs.rmSync(metadataFile(dir));

    const { code, report } = json(['check', dir]);
    expect(code).toBe(1);
    expect(report.certificates).toHaveLength(3);
    expect(report.offenders[0].subject).toBe('CN=expiring.example.com');
  });
});

describe('--format json', () => {
  test('machine-readable report: every certificate with its status and problems, offenders apart', () => {
    const now = new Date();
    const { code, report } = json(['check', fixtures.expiring, '--min-days', '20'], now);
    expect(code).toBe(1);
    expect(report.version).toBe(1);
    expect(report.checkedAt).toBe(now.toISOString());
    expect(report.minDays).toBe(20);
    expect(report.requireAll).toBe(false);
    expect(report.unchecked).toEqual([]);
    expect(report.assemblies).toEqual([fixtures.expiring]);
    expect(report.certificates.map((c) => [c.property, c.position, c.status])).toEqual([
      ['certificateBody', 1, 'expiring'],
      ['certificateChain', 1, 'ok'],
      ['certificateChain', 2, 'ok'],
    ]);
    expect(report.offenders).toEqual([{
      assembly: fixtures.expiring,
      stack: 'Certs',
      constructPath: 'Certs/Soon',
      property: 'certificateBody',
      position: 1,
      count: 1,
      subject: 'CN=expiring.example.com',
      issuer: 'CN=Test Intermediate CA',
      serialNumber: expect.stringMatching(/^[0-9A-F]+$/),
      notBefore: pki.expiringLeaf.certificate.notBefore.toISOString(),
      notAfter: pki.expiringLeaf.certificate.notAfter.toISOString(),
      fingerprintSha256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
      daysLeft: daysLeft(pki.expiringLeaf, now),
      status: 'expiring',
      problems: [{ code: 'expiring', message: expect.stringContaining('within the 20-day minimum') }],
    }]);
  });

  test('healthy JSON has no offenders and exit 0', () => {
    const { code, report } = json(['check', fixtures.healthy]);
    expect(code).toBe(0);
    expect(report.certificates).toHaveLength(3);
    expect(report.offenders).toEqual([]);
  });
});

describe('coverage: certificates known only at deploy', () => {
  const EXPECTED_UNCHECKED = [
    ['Certs/Web', 'certificateBody', 'secret', 'the secret tls/web (field certificate)'],
    ['Certs/Web', 'certificateChain', 'ssm-parameter', 'the SSM parameter /tls/chain'],
    ['Certs/Root', 'certificatePem', 'ca-certificate', 'the CA certificate, issued at deploy by ACM Private CA'],
    ['Certs/Root/Api', 'certificatePem', 'issued-certificate', 'issued at deploy by the CA Certs/Root'],
    ['Certs/ApiIam', 'certificateBody', 'issued-certificate', 'the issued certificate Certs/Root/Api (field certificate of its secret)'],
    ['Certs/ApiIam', 'certificateChain', 'issued-certificate', 'the issued certificate Certs/Root/Api (field certificateChain of its secret)'],
    ['Certs/Trust', 'certificatePem', 'ca-certificate', 'the CA certificate of Certs/Root'],
  ];
  const sorted = (rows: string[][]) => [...rows].sort((a, b) => (a.join('\u0000') < b.join('\u0000') ? -1 : 1));

  test('JSON: the checked certificates, and every unchecked one with where it comes from', () => {
    const { code, report } = json(['check', fixtures.deployTime]);
    expect(code).toBe(0);
    expect(report.certificates.map((c) => [c.constructPath, c.property, c.position])).toEqual([
      ['Certs/Literal', 'certificateBody', 1], ['Certs/Literal', 'certificateChain', 1], ['Certs/Literal', 'certificateChain', 2],
    ]);
    expect(sorted(report.unchecked.map((u) => [u.constructPath, u.property, u.source, u.from]))).toEqual(sorted(EXPECTED_UNCHECKED));
    expect(report.unchecked.every((u) => u.assembly === fixtures.deployTime && u.stack === 'Certs' && /^[A-Za-z0-9]+$/.test(u.logicalId))).toBe(true);
  });

  test('the table says how many were checked and lists the rest; the exit code stays 0', () => {
    const result = run(['check', fixtures.deployTime]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^OK: 3 certificate\\(s\\) checked in ${fixtures.deployTime} are valid for at least 30 more day\\(s\\); `
      + 'the first to expire is .*; 7 not checkable at synth:$'));
    expect(lines[2].split(/\s{2,}/)).toEqual(['CONSTRUCT', 'PROPERTY', 'SOURCE', 'FROM']);
    expect(sorted(lines.slice(4, 11).map((l) => l.split(/\s{2,}/)))).toEqual(sorted(EXPECTED_UNCHECKED));
    expect(lines[12]).toMatch(/--require-all fails on them/);
  });

  test('--require-all fails (exit 1) and lists every certificate it could not check', () => {
    const result = run(['check', fixtures.deployTime, '--require-all']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^FAILED \\(--require-all\\): 3 certificate\\(s\\) checked in ${fixtures.deployTime}; 7 not checkable at synth, which --require-all refuses:$`, 'm'));
    for (const [construct, property, source] of EXPECTED_UNCHECKED) {
      expect(result.stdout).toMatch(new RegExp(`^${construct} +${property} +${source} `, 'm'));
    }
    expect(result.stdout).toContain('Give them as PEM strings or files to check them at synth, or drop --require-all.');
    expect(json(['check', fixtures.deployTime, '--require-all']).report.requireAll).toBe(true);
  });

  test('--require-all passes when every certificate was checked', () => {
    expect(run(['check', fixtures.healthy, '--require-all']).code).toBe(0);
  });

  test('offenders and unchecked certificates together: the table, then the list', () => {
    const result = run(['check', fixtures.deployTime, '--min-days', '4000']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAILED: 3 of 3 certificate\(s\) checked in .* or fail the X\.509 checks; 7 not checkable at synth:$/m);
    expect(result.stdout).toMatch(/^Not checkable at synth \(7\):$/m);
  });

  test('only unchecked certificates: says that none was checked', () => {
    const dir = synth((app) => {
      const stack = new Stack(app, 'Certs', { env: ENV });
      const tls = secretsmanager.Secret.fromSecretNameV2(stack, 'Tls', 'tls/only');
      new ServerCertificate(stack, 'Only', { certificateBody: CertificatePem.fromSecret(tls), privateKey: PrivateKey.fromSecret(tls) });
    });
    const result = run(['check', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^No certificate checked in ${dir}; 1 not checkable at synth:$`, 'm'));
    expect(result.stdout).toMatch(/^Certs\/Only +certificateBody +secret +the secret tls\/only$/m);
  });

  test('the resource types the CLI reads are the contract\'s', () => {
    expect(RESOURCE_TYPES).toMatchObject({
      serverCertificate: SERVER_CERTIFICATE_RESOURCE_TYPE,
      dmsCertificate: DMS_CERTIFICATE_RESOURCE_TYPE,
      alibabaKmsCertificate: ALIBABA_KMS_CERTIFICATE_RESOURCE_TYPE,
      issuedCertificate: ISSUED_CERTIFICATE_RESOURCE_TYPE,
      lightsailCertificate: LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE,
    });
  });
});

describe('the shipped bundle (assets/manifest/cli/main/index.js)', () => {
  const BUNDLE = path.join(REPO, 'assets', 'manifest', 'cli', 'main', 'index.js');
  let copy: string;
  beforeAll(() => {
    // A folder outside the project with no node_modules anywhere above it, as in a bare CodeBuild image.
    const dir = tempDir();
    for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
      expect(fs.existsSync(path.join(d, 'node_modules'))).toBe(false);
    }
    copy = path.join(dir, 'index.js');
    fs.copyFileSync(BUNDLE, copy);
  });

  function bundled(args: string[]): Run {
    const result = spawnSync(process.execPath, [copy, ...args], {
      cwd: path.dirname(copy),
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
      timeout: 60_000,
    });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  test('is one file that requires only Node.js built-ins', () => {
    const code = fs.readFileSync(BUNDLE, 'utf8');
    const required = [...code.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((r) => !builtinModules.includes(r.replace(/^node:/, '')))).toEqual([]);
  });

  test.each<[string, () => string[]]>([
    ['healthy', () => ['check', fixtures.healthy]],
    ['expiring', () => ['check', fixtures.expiring]],
    ['expired', () => ['check', fixtures.expired]],
    ['nested stages', () => ['check', fixtures.stages]],
    ['a stage directory', () => ['check', path.join(fixtures.stages, 'assembly-Prod'), '--min-days', '5']],
    ['deploy-time certificates', () => ['check', fixtures.deployTime]],
    ['deploy-time certificates, --require-all', () => ['check', fixtures.deployTime, '--require-all']],
    ['no records', () => ['check', fixtures.empty]],
    ['a usage error', () => ['check', fixtures.healthy, '--format', 'xml']],
  ])('%s: the same output and exit code as the TypeScript CLI', (_name, args) => {
    for (const format of [[], ['--format', 'json']]) {
      const viaBundle = bundled([...args(), ...format]);
      const viaSource = run([...args(), ...format]);
      expect(viaBundle.code).toBe(viaSource.code);
      const withoutClock = (text: string) => text.replace(/"checkedAt": "[^"]+"/, '"checkedAt": "-"');
      expect(withoutClock(viaBundle.stdout)).toBe(withoutClock(viaSource.stdout));
      expect(viaBundle.stderr).toBe(viaSource.stderr);
    }
  });

  test('--version: the package version where the package ships it, "unknown" alone', () => {
    const shipped = spawnSync(process.execPath, [BUNDLE, '--version'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    // An untagged build (0.0.0) says so; a released one prints its version.
    expect(shipped.stdout).toBe(`${versionLabel(PACKAGE_VERSION)}\n`);
    expect(bundled(['--version']).stdout).toBe('unknown\n');
  });
});

describe('usage and input errors exit 2', () => {
  function brokenAssembly(kind: 'json' | 'version'): string {
    const dir = copyOf(fixtures.healthy);
    if (kind === 'json') {
      fs.writeFileSync(path.join(dir, 'manifest.json'), '{ not json');
    } else {
      const file = metadataFile(dir);
      const metadata = JSON.parse(fs.readFileSync(file, 'utf8')) as MetadataJson;
      certificateRecords(metadata)[0].version = 2;
      fs.writeFileSync(file, JSON.stringify(metadata));
    }
    return dir;
  }

  test.each<[string, () => string[], RegExp]>([
    ['no command', () => [], /^Usage: cdk-certificates check/],
    ['an unknown command', () => ['frobnicate'], /unknown command 'frobnicate'/],
    ['no directory', () => ['check'], /give the cloud assembly directory to check/],
    ['a non-numeric --min-days', () => ['check', fixtures.healthy, '--min-days', 'soon'], /--min-days must be a whole number of days \(0 or more\), got 'soon'/],
    ['a negative --min-days', () => ['check', fixtures.healthy, '--min-days=-1'], /--min-days must be a whole number of days \(0 or more\), got '-1'/],
    ['--min-days without a value', () => ['check', fixtures.healthy, '--min-days'], /--min-days needs a value/],
    ['an unknown format', () => ['check', fixtures.healthy, '--format', 'xml'], /--format must be table or json, got 'xml'/],
    ['an unknown option', () => ['check', fixtures.healthy, '--strict'], /unknown option --strict/],
    ['a missing directory', () => ['check', path.join(os.tmpdir(), 'no-such-assembly-dir')], /no-such-assembly-dir is not a cloud assembly: cannot read .*manifest\.json \(ENOENT\)/],
    ['a directory without manifest.json', () => ['check', tempDir()], /is not a cloud assembly: cannot read/],
    ['a manifest that is not JSON', () => ['check', brokenAssembly('json')], /manifest\.json is not valid JSON/],
    ['a record of a newer format', () => ['check', brokenAssembly('version')], /has format version 2, newer than this cdk-certificates reads \(1\)/],
  ])('%s', (_name, args, message) => {
    const result = run(args());
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  test('--help prints the usage and exits 0; --version prints the package version', () => {
    expect(run(['--help'])).toEqual({ code: 0, stdout: USAGE, stderr: '' });
    expect(run(['check', '--help'])).toEqual({ code: 0, stdout: USAGE, stderr: '' });
    expect(run(['--version'])).toEqual({ code: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: '' });
  });
});

describe('the cdk-certificates executable', () => {
  let guard: string;
  beforeAll(() => {
    // The CLI runs where only this package is installed: it must not load aws-cdk-lib or constructs.
    guard = path.join(tempDir(), 'no-cdk.js');
    fs.writeFileSync(guard, [
      "const Module = require('module');",
      'const load = Module._load;',
      'Module._load = function (request, ...rest) {',
      "  if (/^(aws-cdk-lib|constructs)(\\/|$)/.test(request)) throw new Error('the CLI loaded ' + request);",
      '  return load.call(this, request, ...rest);',
      '};',
    ].join('\n'));
  });

  function exec(args: string[]): Run {
    const result = spawnSync(process.execPath, ['-r', guard, '-r', 'ts-node/register/transpile-only', 'src/manifest/cli/main.ts', ...args], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, TS_NODE_PROJECT: path.join(REPO, 'test', 'tsconfig.json') },
      timeout: 60_000,
    });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  test('the guard works: a process that loads aws-cdk-lib under it fails', () => {
    const result = spawnSync(process.execPath, ['-r', guard, '-e', "require('aws-cdk-lib')"], { cwd: REPO, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('the CLI loaded aws-cdk-lib');
  });

  test('exit codes 1, 0 and 2 from the real entry point, without aws-cdk-lib', () => {
    const expired = exec(['check', fixtures.expired]);
    expect(expired.stderr).toBe('');
    expect(expired.code).toBe(1);
    expect(expired.stdout).toMatch(/^FAILED: 1 of 3 certificate\(s\) checked/);
    expect(expired.stdout).toMatch(/^expired .*CN=old\.example\.com/m);

    const healthy = exec(['check', fixtures.healthy, '--format', 'json']);
    expect(healthy.code).toBe(0);
    expect((JSON.parse(healthy.stdout) as CheckReport).certificates).toHaveLength(3);

    const usage = exec(['check', fixtures.healthy, '--format', 'yaml']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--format must be table or json');
  });
});
