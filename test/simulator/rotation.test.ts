/**
 * Simulator scenarios 3 and 4 (issue 13): material kept in a Secrets Manager secret (in moto,
 * written by the test before the deploy, with two versions), read by ServerCertificate through
 * `CertificatePem.fromSecret` / `PrivateKey.fromSecret` pinned to a version.
 *
 * 3. Changing the pin rotates: the IAM certificates (one behind an ELB listener, one for CloudFront
 *    behind a distribution) are uploaded again, every consumer moves, the old ones are deleted.
 * 4. The old certificate has expired by the time of the next update (the handlers' clock is
 *    advanced past its notAfter: only `Date` is faked, see ../support/simulator/index.ts); the update
 *    rotates one certificate, changes a stack-wide tag on another whose material has expired, and a
 *    later resource fails: the rollback completes and nothing the old state needs is deleted.
 */
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Tags } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describeSteps, expectInvariantHeld, expectStatus, stackIn, synth } from './helpers';
import { CertificatePem, PrivateKey, ServerCertificate } from '../../src';
import { makeLeaf, makeRootCa, TestCertificate } from '../support/fixtures/pki';
import { Simulator } from '../support/simulator';

const REGION = 'us-east-1';
const DAY_MS = 24 * 60 * 60 * 1000;
let sim: Simulator;
let root: TestCertificate;
let start = 0;

beforeAll(async () => {
  sim = await Simulator.start();
  root = await makeRootCa({ commonName: 'Rotation Test Root' });
});

beforeEach(() => {
  start = sim.world.steps.length;
});

afterEach(async () => {
  await sim.reset();
});

afterAll(async () => {
  await sim?.stop();
});

/** The material of one certificate as the secret holds it. */
function secretValue(leaf: TestCertificate): string {
  return JSON.stringify({ certificate: leaf.certificatePem, privateKey: leaf.privateKeyPem, chain: root.certificatePem });
}

/** A secret in moto with one version per certificate, in order; returns its ARN and version IDs. */
async function secretWithVersions(name: string, ...leaves: TestCertificate[]): Promise<{ arn: string; versions: string[] }> {
  const sm = new SecretsManagerClient(sim.world.clientConfig(REGION));
  try {
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: secretValue(leaves[0]) }));
    const versions = [created.VersionId!];
    for (const leaf of leaves.slice(1)) {
      versions.push((await sm.send(new PutSecretValueCommand({ SecretId: created.ARN!, SecretString: secretValue(leaf) }))).VersionId!);
    }
    return { arn: created.ARN!, versions };
  } finally {
    sm.destroy();
  }
}

/** A ServerCertificate whose material comes from `secretArn`, pinned to `versionId`. */
function pinnedCertificate(scope: import('constructs').Construct, id: string, secretArn: string, versionId: string, forCloudFront = false) {
  const secret = secretsmanager.Secret.fromSecretCompleteArn(scope, `${id}Secret`, secretArn);
  return new ServerCertificate(scope, id, {
    certificateBody: CertificatePem.fromSecret(secret, 'certificate', { versionId }),
    privateKey: PrivateKey.fromSecret(secret, 'privateKey', { versionId }),
    certificateChain: CertificatePem.fromSecret(secret, 'chain', { versionId }),
    forCloudFront,
  });
}

function listener(scope: import('constructs').Construct, id: string, certificateArns: string[]) {
  return new elbv2.CfnListener(scope, id, {
    loadBalancerArn: `arn:aws:elasticloadbalancing:${REGION}:123456789012:loadbalancer/app/web/0123456789abcdef`,
    port: 443,
    protocol: 'HTTPS',
    certificates: certificateArns.map((certificateArn) => ({ certificateArn })),
    defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '200' } }],
  });
}

const iamBodies = () => [...sim.world.iam.certificates.values()].map((c) => c.body.trim()).sort();

test('scenario 3: changing the version pin of a secret-sourced ServerCertificate rotates it; the listener and the distribution move, the old certificates are deleted', async () => {
  const [a, b] = await Promise.all([makeLeaf(root, { commonName: 'www.example.com' }), makeLeaf(root, { commonName: 'www.example.com' })]);
  const tls = await secretWithVersions('web/tls', a, b);
  const app = (versionId: string) => synth((cdk) => {
    const stack = stackIn(cdk, 'Web', REGION);
    const web = pinnedCertificate(stack, 'Web', tls.arn, versionId);
    listener(stack, 'Listener', [web.serverCertificateArn]);
    const cdn = pinnedCertificate(stack, 'Cdn', tls.arn, versionId, true);
    new cloudfront.CfnDistribution(stack, 'Distribution', {
      distributionConfig: {
        enabled: true,
        defaultCacheBehavior: { targetOriginId: 'origin', viewerProtocolPolicy: 'redirect-to-https', cachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6' },
        origins: [{ id: 'origin', domainName: 'origin.example.com', customOriginConfig: { originProtocolPolicy: 'https-only' } }],
        viewerCertificate: { iamCertificateId: cdn.serverCertificateId, sslSupportMethod: 'sni-only', minimumProtocolVersion: 'TLSv1.2_2021' },
      },
    });
  }).getStackByName('Web');
  const web = sim.stack('Web', REGION);

  expectStatus(sim.world, await web.deploy(app(tls.versions[0])), 'CREATE_COMPLETE', start);
  expect(iamBodies()).toEqual([a.certificatePem.trim(), a.certificatePem.trim()]);
  const before = { web: web.resource(web.logicalIdOf('Web', 'Custom::ServerCertificate')).physicalId, cdn: web.resource(web.logicalIdOf('Cdn', 'Custom::ServerCertificate')).physicalId };
  const from = sim.world.steps.length;

  const rotated = await web.deploy(app(tls.versions[1]));

  expectStatus(sim.world, rotated, 'UPDATE_COMPLETE', from);
  const log = describeSteps(sim.world, from);
  expect({ failures: rotated.failures, log }).toMatchObject({ failures: [] });
  // Both were uploaded again with B, the consumers point at the new ones, the old ones are gone.
  expect({ bodies: iamBodies(), log }).toMatchObject({ bodies: [b.certificatePem.trim(), b.certificatePem.trim()] });
  const iamWeb = web.resource(web.logicalIdOf('Web', 'Custom::ServerCertificate'));
  const iamCdn = web.resource(web.logicalIdOf('Cdn', 'Custom::ServerCertificate'));
  expect(iamWeb.physicalId).not.toBe(before.web);
  expect(iamCdn.physicalId).not.toBe(before.cdn);
  expect((web.resource('Listener').properties.Certificates as any[])[0].CertificateArn).toBe(iamWeb.attributes.Arn);
  expect((web.resource('Distribution').properties.DistributionConfig as any).ViewerCertificate.IamCertificateId).toBe(iamCdn.attributes.ServerCertificateId ?? iamCdn.attributes.Id);
  expectInvariantHeld(sim.world, start);

  expectStatus(sim.world, await web.delete(), 'DELETE_COMPLETE', from);
  expect(sim.world.iam.certificates.size).toBe(0);
});

test('scenario 4: an update fails after the old certificates expired (one rotated, one only re-tagged): the rollback completes, and nothing the old state needs is deleted', async () => {
  const notAfter = new Date(Date.now() + DAY_MS);
  const [a1, a2, b] = await Promise.all([
    makeLeaf(root, { commonName: 'rotating.example.com', notAfter }),
    makeLeaf(root, { commonName: 'rotating.example.com', notAfter: new Date(Date.now() + 400 * DAY_MS) }),
    makeLeaf(root, { commonName: 'steady.example.com', notAfter }),
  ]);
  const rotating = await secretWithVersions('web/rotating', a1, a2);
  const steady = await secretWithVersions('web/steady', b);
  const app = (v: { rotatingVersion: string; tag?: boolean; later?: boolean }) => synth((cdk) => {
    const stack = stackIn(cdk, 'Web', REGION);
    const r = pinnedCertificate(stack, 'Rotating', rotating.arn, v.rotatingVersion);
    const s = pinnedCertificate(stack, 'Steady', steady.arn, steady.versions[0]);
    listener(stack, 'RotatingListener', [r.serverCertificateArn]);
    listener(stack, 'SteadyListener', [s.serverCertificateArn]);
    if (v.later) {
      // Depends on both certificates, so it comes after their updates.
      listener(stack, 'Later', [r.serverCertificateArn, s.serverCertificateArn]);
    }
    if (v.tag) {
      Tags.of(stack).add('cost-center', '4711');
    }
  }).getStackByName('Web');
  const web = sim.stack('Web', REGION);
  expectStatus(sim.world, await web.deploy(app({ rotatingVersion: rotating.versions[0] })), 'CREATE_COMPLETE', start);
  const rotatingId = web.logicalIdOf('Rotating', 'Custom::ServerCertificate');
  const steadyId = web.logicalIdOf('Steady', 'Custom::ServerCertificate');
  const before = { rotating: web.resource(rotatingId).physicalId, steady: web.resource(steadyId).physicalId };
  const namesBefore = [...sim.world.iam.certificates.keys()].sort();
  const next = app({ rotatingVersion: rotating.versions[1], tag: true, later: true });

  sim.advanceClock(3 * DAY_MS);
  expect(Date.now()).toBeGreaterThan(notAfter.getTime());
  const from = sim.world.steps.length;
  const result = await web.deploy(next, { fail: { Later: 'Create' } });

  const log = describeSteps(sim.world, from);
  expect({ status: result.status, failures: result.failures, log }).toMatchObject({ status: 'UPDATE_ROLLBACK_COMPLETE', failures: [] });
  // The update did reach both certificates before the failure (otherwise the scenario tests nothing).
  const updates = sim.world.steps.filter((s) => s.seq > from && s.phase === 'UPDATE' && s.ok && s.action === 'Update').map((s) => s.logicalId);
  expect({ updates, log }).toMatchObject({ updates: expect.arrayContaining([rotatingId, steadyId, 'RotatingListener']) });
  // Back on the old physical certificates, which still exist; the new upload was removed.
  expect(web.resource(rotatingId).physicalId).toBe(before.rotating);
  expect(web.resource(steadyId).physicalId).toBe(before.steady);
  expect({ names: [...sim.world.iam.certificates.keys()].sort(), log }).toMatchObject({ names: namesBefore });
  expect((web.resource('RotatingListener').properties.Certificates as any[])[0].CertificateArn).toBe(web.resource(rotatingId).attributes.Arn);
  expect(web.resources.has('Later')).toBe(false);
  expectInvariantHeld(sim.world, start);

  // The stack still deletes with expired certificates.
  expectStatus(sim.world, await web.delete(), 'DELETE_COMPLETE', from);
  expectInvariantHeld(sim.world, start);
});
