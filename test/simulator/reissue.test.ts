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
 * Alibaba: upload mode cannot take an `issueCertificate` output (KMS keeps the key of the
 * certificate it created; the handler refuses a certificate for another key), so the Alibaba
 * certificate here is created by KMS and signed by the same CA (create mode), with an outside
 * consumer (an Alibaba load balancer) pointing at it.
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Duration, Stack } from 'aws-cdk-lib';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describeSteps, expectInvariantHeld, expectStatus, stackIn, stepsWhere, synth } from './helpers';
import { AlibabaKmsCertificate, DmsCertificate, PrivateCa, ServerCertificate } from '../../src';
import { Simulator } from '../support/simulator';

const REGION = 'us-east-1';
let sim: Simulator;
let credentialsArn: string;

beforeAll(async () => {
  sim = await Simulator.start({ alibaba: true });
  const sm = new SecretsManagerClient(sim.world.clientConfig(REGION));
  const kms = sim.world.alibaba!;
  credentialsArn = (await sm.send(new CreateSecretCommand({
    Name: 'alibaba/kms-certificates',
    SecretString: JSON.stringify({ accessKeyId: kms.credentials.accessKeyId, accessKeySecret: kms.credentials.accessKeySecret }),
  }))).ARN!;
  sm.destroy();
});

afterAll(async () => {
  await sim?.stop();
});

interface AppVersion {
  readonly validityDays: number;
  /** The PrivateCa's construct ID (a new one replaces the CA). */
  readonly caId?: string;
}

function webApp(v: AppVersion) {
  return synth((app) => {
    const stack = stackIn(app, 'Web', REGION);
    const ca = new PrivateCa(stack, v.caId ?? 'Root', { subject: { commonName: 'Example Root CA' } });
    const web = ca.issueCertificate('Web', { commonName: 'www.example.internal', dnsNames: ['www.example.internal'], validity: Duration.days(v.validityDays) });
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
    Stack.of(stack);
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
  expectInvariantHeld(sim.world);
  const from = sim.world.steps.length;

  const updated = await web.deploy(webApp({ validityDays: 5 }).getStackByName('Web'));

  expectStatus(sim.world, updated, 'UPDATE_COMPLETE', from);
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
  expectInvariantHeld(sim.world);

  const deleted = await web.delete();
  expectStatus(sim.world, deleted, 'DELETE_COMPLETE', from);
  sim.world.removeOutsideConsumer('alibaba-slb');
});
