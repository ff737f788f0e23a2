/**
 * Simulator scenarios 1 and 2 (issue 13): a certificate issued by a PrivateCa feeds an IAM server
 * certificate (behind an ELB listener), a DMS certificate (behind a DMS endpoint); an Alibaba KMS
 * certificate is issued by the same CA. Re-issuing the certificate, and replacing the CA under it,
 * must move every consumer before anything they use is deleted or revoked.
 *
 * moto creates every CA in SHORT_LIVED_CERTIFICATE mode (whatever UsageMode asks; AWS's default
 * is GENERAL_PURPOSE), so the handlers allow at most 7 days: the re-issue changes the validity from
 * 7 to 5 days instead of 90 to 60 (any validity change re-issues alike).
 *
 * The CA and the issued certificate are RemovalPolicy.DESTROY here: only then is a replaced
 * certificate revoked and a replaced CA deleted (RETAIN, the default, keeps both).
 *
 * Alibaba: upload mode cannot take an `issueCertificate` output (KMS keeps the key of the
 * certificate it created; the handler refuses a certificate for another key), so the Alibaba
 * certificate here is created by KMS and signed by the same CA (create mode), with an outside
 * consumer (an Alibaba load balancer) pointing at it.
 */
import { X509Certificate } from 'node:crypto';
import { DescribeCertificateAuthorityCommand } from '@aws-sdk/client-acm-pca';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describeSteps, expectInvariantHeld, expectStatus, stackIn, stepsWhere, synth } from './helpers';
import { AlibabaKmsCertificate, DmsCertificate, PrivateCa, ServerCertificate } from '../../src';
import { Simulator } from '../support/simulator';

const REGION = 'us-east-1';
// A scenario deploys a CA hierarchy twice and deletes it (about 10 s alone, more on a busy machine).
jest.setTimeout(180_000);
let sim: Simulator;
let credentialsArn: string;

beforeAll(async () => {
  sim = await Simulator.start({ alibaba: true });
});

let start = 0;
beforeEach(async () => {
  start = sim.world.steps.length;
  const sm = new SecretsManagerClient(sim.world.clientConfig(REGION));
  const kms = sim.world.alibaba!;
  credentialsArn = (await sm.send(new CreateSecretCommand({
    Name: 'alibaba/kms-certificates',
    SecretString: JSON.stringify({ accessKeyId: kms.credentials.accessKeyId, accessKeySecret: kms.credentials.accessKeySecret }),
  }))).ARN!;
  sm.destroy();
});

afterEach(async () => {
  // Whatever a failed test left deployed goes, so the next test starts from an empty account.
  await sim.reset();
});

afterAll(async () => {
  await sim?.stop();
});

interface AppVersion {
  readonly validityDays: number;
  /** The PrivateCa's construct ID (a new one replaces the CA). */
  readonly caId?: string;
  /** The CA's common name (a change replaces the CA: Subject is create-only). */
  readonly caName?: string;
}

function webApp(v: AppVersion) {
  return synth((app) => {
    const stack = stackIn(app, 'Web', REGION);
    // DESTROY: a replaced certificate is revoked and a replaced CA deleted (the default, RETAIN, keeps both).
    const ca = new PrivateCa(stack, v.caId ?? 'Root', { subject: { commonName: v.caName ?? 'Example Root CA' }, removalPolicy: RemovalPolicy.DESTROY });
    const web = ca.issueCertificate('Web', {
      commonName: 'www.example.internal',
      dnsNames: ['www.example.internal'],
      validity: Duration.days(v.validityDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const iam = new ServerCertificate(stack, 'Iam', { certificateBody: web.certificatePem, certificateChain: web.certificateChainPem, privateKey: web.privateKey });
    new elbv2.CfnListener(stack, 'Listener', {
      loadBalancerArn: `arn:aws:elasticloadbalancing:${REGION}:123456789012:loadbalancer/app/web/0123456789abcdef`,
      port: 443,
      protocol: 'HTTPS',
      certificates: [{ certificateArn: iam.serverCertificateArn }],
      defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '200' } }],
    });
    const db = new DmsCertificate(stack, 'DbTrust', { certificatePem: web.certificatePem });
    new dms.CfnEndpoint(stack, 'Endpoint', { endpointType: 'source', engineName: 'postgres', sslMode: 'verify-full', certificateArn: db.certificateArn });
    new AlibabaKmsCertificate(stack, 'Ali', {
      regionId: 'cn-hangzhou',
      endpoint: `http://${sim.world.alibaba!.endpoint}`,
      credentials: secretsmanager.Secret.fromSecretCompleteArn(stack, 'AliCredentials', credentialsArn),
      issuer: ca,
      subject: { commonName: 'www.example.cn', country: 'CN', organization: 'Example Corp', organizationalUnit: 'Web' },
      validity: Duration.days(7),
    });
  });
}

test('scenario 1: re-issuing a certificate (validity 7 -> 5 days) moves every consumer, deletes the old IAM and DMS certificates, and revokes the old certificate last', async () => {
  const web = sim.stack('Web', REGION);
  const created = await web.deploy(webApp({ validityDays: 7 }).getStackByName('Web'));
  expectStatus(sim.world, created, 'CREATE_COMPLETE');
  const issuedId = web.logicalIdOf('RootWeb', 'Custom::PrivateCaIssuedCertificate');
  const iamId = web.logicalIdOf('Iam', 'Custom::ServerCertificate');
  const dmsId = web.logicalIdOf('DbTrust', 'Custom::DmsCertificate');
  const aliId = web.logicalIdOf('Ali', 'Custom::AlibabaKmsCertificate');
  const oldIssued = web.resource(issuedId).physicalId;
  const oldIam = web.resource(iamId).physicalId;
  const oldDms = web.resource(dmsId).physicalId;
  sim.world.addOutsideConsumer('alibaba-slb', { kind: 'alibaba', certificateId: String(web.resource(aliId).attributes.CertificateId) });
  expectInvariantHeld(sim.world, start);
  const from = sim.world.steps.length;

  const updated = await web.deploy(webApp({ validityDays: 5 }).getStackByName('Web'));

  expectStatus(sim.world, updated, 'UPDATE_COMPLETE', from);
  // No consumer ever pointed at a certificate that was gone or revoked.
  expectInvariantHeld(sim.world, start);
  expect(updated.failures).toEqual([]);
  const log = describeSteps(sim.world, from);
  // The certificate was re-issued, and every consumer moved to a new physical certificate.
  expect(web.resource(issuedId).physicalId).not.toBe(oldIssued);
  expect({ iam: web.resource(iamId).physicalId, log }).not.toMatchObject({ iam: oldIam });
  expect({ dms: web.resource(dmsId).physicalId, log }).not.toMatchObject({ dms: oldDms });
  const listener = web.resource(web.logicalIdOf('Listener'));
  expect((listener.properties.Certificates as any[])[0].CertificateArn).toBe(web.resource(iamId).attributes.Arn);
  // The old IAM and DMS certificates are gone; the old certificate was revoked after both deletes.
  expect([...sim.world.iam.certificates.keys()]).toHaveLength(1);
  expect(sim.world.dms.certificates.size).toBe(1);
  const cleanup = stepsWhere(sim.world, { phase: 'UPDATE_CLEANUP', action: 'Delete' }).filter((s) => s.seq > from);
  const iamDeleted = cleanup.find((s) => s.logicalId === iamId && s.physicalId === oldIam);
  const dmsDeleted = cleanup.find((s) => s.logicalId === dmsId && s.physicalId === oldDms);
  const issuedDeleted = cleanup.find((s) => s.logicalId === issuedId && s.physicalId === oldIssued);
  expect({ iamDeleted: !!iamDeleted, dmsDeleted: !!dmsDeleted, issuedDeleted: !!issuedDeleted, log })
    .toMatchObject({ iamDeleted: true, dmsDeleted: true, issuedDeleted: true });
  const revoked = sim.world.revocations.filter((r) => r.afterSeq > from);
  expect(revoked).toHaveLength(1);
  expect(revoked[0].afterSeq).toBe(issuedDeleted!.seq);
  expect(revoked[0].afterSeq).toBeGreaterThan(Math.max(iamDeleted!.seq, dmsDeleted!.seq));
  expectInvariantHeld(sim.world, start);

  // The Alibaba load balancer lets go of its certificate before the stack goes.
  sim.world.removeOutsideConsumer('alibaba-slb');
  const deleted = await web.delete();
  expectStatus(sim.world, deleted, 'DELETE_COMPLETE', from);
  expectInvariantHeld(sim.world, start);
});

const CA_REPLACEMENTS: Array<[string, Omit<AppVersion, 'validityDays'>]> = [
  ['a changed CA subject (Subject is create-only: the CA is replaced in place of its logical ID)', { caName: 'Example Root CA G2' }],
  ['a new PrivateCa construct ID (a new CA, the old one removed from the template)', { caId: 'RootG2' }],
];

describe.each(CA_REPLACEMENTS)('scenario 2: replacing the CA under an issued certificate: %s', (_title, next) => {
  test('everything follows: re-issued under the new CA, every consumer moved, the old CA deleted after its certificate was revoked', async () => {
    const web = sim.stack('Web', REGION);
    const created = await web.deploy(webApp({ validityDays: 7 }).getStackByName('Web'));
    expectStatus(sim.world, created, 'CREATE_COMPLETE');
    const oldCa = web.resource(web.logicalIdOf('Root', 'AWS::ACMPCA::CertificateAuthority')).physicalId;
    const oldAli = String(web.resource(web.logicalIdOf('Ali', 'Custom::AlibabaKmsCertificate')).attributes.CertificateId);
    const from = sim.world.steps.length;

    const updated = await web.deploy(webApp({ validityDays: 7, ...next }).getStackByName('Web'));

    expectStatus(sim.world, updated, 'UPDATE_COMPLETE', from);
    expectInvariantHeld(sim.world, start);
    expect({ failures: updated.failures, log: describeSteps(sim.world, from) }).toMatchObject({ failures: [] });
    const caPrefix = next.caId ?? 'Root';
    const newCa = web.resource(web.logicalIdOf(caPrefix, 'AWS::ACMPCA::CertificateAuthority')).physicalId;
    expect(newCa).not.toBe(oldCa);
    const caPem = String(web.resource(web.logicalIdOf(`${caPrefix}CaCertificate`, 'AWS::ACMPCA::Certificate')).attributes.Certificate);
    const caCert = new X509Certificate(caPem);
    // The certificate was issued again, by the new CA.
    const issued = web.resource(web.logicalIdOf(`${caPrefix}Web`, 'Custom::PrivateCaIssuedCertificate'));
    expect(issued.physicalId.startsWith(`${newCa}/certificate/`)).toBe(true);
    // IAM (behind the listener) and DMS (behind the endpoint) serve a certificate of the new CA.
    const iam = [...sim.world.iam.certificates.values()];
    expect(iam).toHaveLength(1);
    expect(new X509Certificate(iam[0].body).checkIssued(caCert)).toBe(true);
    const listener = web.resource(web.logicalIdOf('Listener'));
    expect((listener.properties.Certificates as any[])[0].CertificateArn).toBe(sim.world.iam.arn(iam[0]));
    const dmsCerts = [...sim.world.dms.certificates.values()];
    expect(dmsCerts).toHaveLength(1);
    expect(new X509Certificate(dmsCerts[0].pem!).checkIssued(caCert)).toBe(true);
    expect(web.resource(web.logicalIdOf('Endpoint')).properties.CertificateArn).toBe(dmsCerts[0].arn);
    // The Alibaba certificate was issued again by the new CA; the old one is gone.
    const ali = String(web.resource(web.logicalIdOf('Ali', 'Custom::AlibabaKmsCertificate')).attributes.CertificateId);
    expect(ali).not.toBe(oldAli);
    expect(new X509Certificate(sim.world.alibaba!.certificate(ali)!.certificatePem!).checkIssued(caCert)).toBe(true);
    expect(sim.world.alibaba!.certificate(oldAli)).toBeUndefined();
    // The old CA: its issued certificate revoked in the cleanup, then the CA deleted.
    const old = await sim.world.pca(REGION).send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: oldCa }));
    expect(old.CertificateAuthority?.Status).toBe('DELETED');
    const revoked = sim.world.revocations.filter((r) => r.afterSeq > from);
    expect(revoked.map((r) => r.caArn)).toEqual([oldCa]);
    expect(stepsWhere(sim.world, { phase: 'UPDATE_CLEANUP' }).filter((s) => s.seq > from && s.seq < revoked[0].afterSeq).length).toBeGreaterThan(0);
    expectInvariantHeld(sim.world, start);

    expectStatus(sim.world, await web.delete(), 'DELETE_COMPLETE', from);
    expectInvariantHeld(sim.world, start);
  });
});

test('a re-issue that rolls back (a later resource fails): the consumers return to the old certificate, which stays valid; the new one is revoked; the secret is kept; the re-issue then succeeds', async () => {
  const web = sim.stack('Web', REGION);
  expectStatus(sim.world, await web.deploy(webApp({ validityDays: 7 }).getStackByName('Web')), 'CREATE_COMPLETE', start);
  const issuedId = web.logicalIdOf('RootWeb', 'Custom::PrivateCaIssuedCertificate');
  const secretId = web.logicalIdOf('RootWebSecret', 'AWS::SecretsManager::Secret');
  const iamId = web.logicalIdOf('Iam', 'Custom::ServerCertificate');
  const dmsId = web.logicalIdOf('DbTrust', 'Custom::DmsCertificate');
  const before = { issued: web.resource(issuedId).physicalId, iam: web.resource(iamId).physicalId, dms: web.resource(dmsId).physicalId };
  const iamBody = [...sim.world.iam.certificates.values()][0].body;
  const from = sim.world.steps.length;

  const failed = await web.deploy(webApp({ validityDays: 5 }).getStackByName('Web'), { fail: { Endpoint: 'Update' } });

  const log = describeSteps(sim.world, from);
  expect({ status: failed.status, failures: failed.failures, log }).toMatchObject({ status: 'UPDATE_ROLLBACK_COMPLETE', failures: [] });
  expectInvariantHeld(sim.world, start);
  expect({ issued: web.resource(issuedId).physicalId, iam: web.resource(iamId).physicalId, dms: web.resource(dmsId).physicalId }).toEqual(before);
  // The old IAM certificate (and its content) and DMS certificate are there; only the new ones went.
  expect([...sim.world.iam.certificates.values()].map((c) => c.body)).toEqual([iamBody]);
  expect([...sim.world.dms.certificates.keys()]).toEqual([before.dms]);
  // The certificate issued by the failed update was revoked in the rollback cleanup, the old one not.
  const revoked = sim.world.revocations.filter((r) => r.afterSeq > from);
  expect(revoked).toHaveLength(1);
  expect(revoked[0].serial.replace(/:/g, '').toLowerCase()).not.toBe(new X509Certificate(iamBody).serialNumber.toLowerCase());
  // The secret the certificate lives in was not deleted by the rollback cleanup.
  const sm = new SecretsManagerClient(sim.world.clientConfig(REGION));
  try {
    const secret = await sm.send(new DescribeSecretCommand({ SecretId: web.resource(secretId).physicalId }));
    expect(secret.DeletedDate).toBeUndefined();
    const current = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: web.resource(secretId).physicalId }))).SecretString!);
    expect(new X509Certificate(current.certificate).serialNumber).toBe(new X509Certificate(iamBody).serialNumber);
  } finally {
    sm.destroy();
  }

  // Deploying the same change again succeeds.
  const again = sim.world.steps.length;
  expectStatus(sim.world, await web.deploy(webApp({ validityDays: 5 }).getStackByName('Web')), 'UPDATE_COMPLETE', again);
  expectInvariantHeld(sim.world, start);
  expect(web.resource(issuedId).physicalId).not.toBe(before.issued);
});
