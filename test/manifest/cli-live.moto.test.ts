/**
 * `cdk-certificates check --live` against moto: the AWS SDK binding (src/manifest/cli/live.ts) reads
 * real certificates that moto holds (IAM UploadServerCertificate, ACM ImportCertificate, an ACM
 * Private CA and a certificate it issued), and the shipped bundles (assets/manifest/cli/main and
 * live) run as a user runs them, with `--endpoint-url` pointing at moto.
 *
 * The stack: moto's CloudFormation cannot host the library's custom resources (it would invoke their
 * Lambda) and has no certificate resource types of its own, so the certificate resources come in
 * through the checker's `resources` seam (`checkLiveStack({ resources })`, the list
 * ListStackResources would return). ListStackResources itself runs against a real moto stack of
 * native resources, from the shipped bundle. DMS and Lightsail, which moto lacks, are covered by
 * the fakes in cli-live.test.ts (in-process).
 *
 * moto deviations: GetCertificate of an imported ACM certificate appends an Amazon certificate to
 * the chain that was imported (see test/acm/*.moto.test.ts), so the chain check sees a certificate
 * after the self-signed root; ACM says nothing of InUseBy or revocation here.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ACMClient, DeleteCertificateCommand, ImportCertificateCommand } from '@aws-sdk/client-acm';
import { ACMPCAClient, IssueCertificateCommand } from '@aws-sdk/client-acm-pca';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { IAMClient, UploadServerCertificateCommand } from '@aws-sdk/client-iam';
import { sdkServices } from '../../src/manifest/cli/live';
import { checkLiveStack, LiveCheckReport } from '../../src/manifest/cli/live-check';
import { makeCsr, makeTestPki, TestPki } from '../support/fixtures/pki';
import { MOTO_CREDENTIALS, MOTO_REGION, motoClientConfig, MotoServer, startMoto } from '../support/moto';
import { createRootCa } from '../support/moto-pca';

const REPO = path.join(__dirname, '..', '..');
const MAIN_BUNDLE = path.join(REPO, 'assets', 'manifest', 'cli', 'main', 'index.js');
const LIVE_BUNDLE = path.join(REPO, 'assets', 'manifest', 'cli', 'live', 'index.js');

let moto: MotoServer;
let pki: TestPki;

beforeAll(async () => {
  [moto, pki] = await Promise.all([startMoto(), makeTestPki()]);
});
afterAll(async () => { await moto?.stop(); });
beforeEach(async () => { await moto.reset(); });

const encode = (text: string) => new TextEncoder().encode(text);

test('IAM, ACM and ACM Private CA certificates in moto: read, checked, an expiring and a deleted one reported', async () => {
  const config = motoClientConfig(moto);
  const iam = new IAMClient(config);
  const acm = new ACMClient(config);
  const pca = new ACMPCAClient(config);

  await iam.send(new UploadServerCertificateCommand({
    ServerCertificateName: 'App_web', CertificateBody: pki.leaf.certificatePem, CertificateChain: pki.chainPem, PrivateKey: pki.leaf.privateKeyPem,
  }));
  await iam.send(new UploadServerCertificateCommand({
    ServerCertificateName: 'App_soon', CertificateBody: pki.expiringLeaf.certificatePem, PrivateKey: pki.expiringLeaf.privateKeyPem,
  }));
  const imported = await acm.send(new ImportCertificateCommand({
    Certificate: encode(pki.leaf.certificatePem), PrivateKey: encode(pki.leaf.privateKeyPem),
  }));
  const deleted = await acm.send(new ImportCertificateCommand({
    Certificate: encode(pki.leaf.certificatePem), PrivateKey: encode(pki.leaf.privateKeyPem),
  }));
  await acm.send(new DeleteCertificateCommand({ CertificateArn: deleted.CertificateArn }));
  const ca = await createRootCa(pca, 'Live Root CA');
  const csr = await makeCsr({ commonName: 'api.example.com' });
  const issuedCert = await pca.send(new IssueCertificateCommand({
    CertificateAuthorityArn: ca.arn, Csr: encode(csr.csrPem), SigningAlgorithm: 'SHA256WITHRSA', Validity: { Type: 'DAYS', Value: 90 },
  }));

  const started = Date.now();
  const report = await checkLiveStack({
    stackName: 'App',
    region: MOTO_REGION,
    minDays: 30,
    now: new Date(),
    services: sdkServices({ region: MOTO_REGION, endpoint: moto.url, credentials: { ...MOTO_CREDENTIALS } }),
    resources: [
      { logicalId: 'Web', physicalId: 'App_web', type: 'Custom::ServerCertificate' },
      { logicalId: 'Soon', physicalId: 'App_soon', type: 'Custom::ServerCertificate' },
      { logicalId: 'Imported', physicalId: imported.CertificateArn, type: 'Custom::AcmImportedCertificate' },
      { logicalId: 'Deleted', physicalId: deleted.CertificateArn, type: 'Custom::AcmImportedCertificate' },
      { logicalId: 'Root', physicalId: ca.arn, type: 'Custom::PrivateCa' },
      { logicalId: 'Api', physicalId: issuedCert.CertificateArn, type: 'Custom::PrivateCaIssuedCertificate' },
      { logicalId: 'GoneServerCertificate', physicalId: 'App_gone', type: 'Custom::ServerCertificate' },
    ],
  });
  const elapsed = Date.now() - started;

  const byId = Object.fromEntries(report.certificates.map((c) => [c.logicalId, c]));
  expect(byId.Web).toMatchObject({ service: 'IAM', status: 'ok', chainLength: 2, usedBy: undefined });
  expect(byId.Soon).toMatchObject({ status: 'expiring' });
  expect(byId.Imported).toMatchObject({ service: 'ACM', serviceStatus: 'ISSUED', usedBy: [], subject: expect.stringContaining('www.example.com') });
  // moto deviation (named above): GetCertificate returns an Amazon certificate as the chain of a
  // certificate imported without one, which did not issue it; real ACM returns the imported chain.
  expect(byId.Imported.problems).toEqual([{ code: 'invalid', message: expect.stringContaining('no certificate in the chain issued the certificate') }]);
  expect(byId.Deleted).toMatchObject({ status: 'missing' });
  expect(byId.Root).toMatchObject({ service: 'ACM Private CA', status: 'ok', subject: expect.stringContaining('Live Root CA') });
  expect(byId.Api).toMatchObject({ status: 'ok', subject: expect.stringContaining('api.example.com'), issuer: expect.stringContaining('Live Root CA') });
  expect(byId.GoneServerCertificate).toMatchObject({ status: 'missing' });
  expect(elapsed).toBeLessThan(10_000);
  process.stdout.write(`check --live read ${report.certificates.length} certificates from moto in ${elapsed} ms\n`);
});

test('the shipped bundles: check --live lists a real moto stack through CloudFormation, exit codes as check', async () => {
  expect(fs.existsSync(MAIN_BUNDLE) && fs.existsSync(LIVE_BUNDLE)).toBe(true);
  const cfn = new CloudFormationClient(motoClientConfig(moto));
  await cfn.send(new CreateStackCommand({
    StackName: 'Native',
    TemplateBody: JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: {} } } }),
  }));
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    AWS_REGION: MOTO_REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const run = (args: string[]) => {
    const started = Date.now();
    const r = spawnSync(process.execPath, [MAIN_BUNDLE, 'check', '--live', ...args, '--endpoint-url', moto.url], { env, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
  };

  const ok = run(['--stack', 'Native', '--format', 'json']);
  expect(ok.code).toBe(0);
  const report = JSON.parse(ok.stdout) as LiveCheckReport;
  expect(report).toMatchObject({ mode: 'live', stack: 'Native', certificates: [], offenders: [] });

  const text = run(['--stack', 'Native']);
  expect(text.stdout).toContain('No deployed certificate in stack Native');

  const missing = run(['--stack', 'NoSuchStack']);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/cdk-certificates check --live: \w+: .*NoSuchStack/);
  process.stdout.write(`shipped check --live over a moto stack: ${ok.ms} ms (process start, bundle load, ListStackResources)\n`);
});
