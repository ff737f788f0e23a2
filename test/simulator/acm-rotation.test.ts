/**
 * Simulator scenario for `AcmImportedCertificate` (issue 15, part 1): material kept in a Secrets
 * Manager secret (in moto, two versions written by the test), imported into ACM through
 * `CertificatePem.fromSecret` / `PrivateKey.fromSecret` pinned to a version, its ARN in an ELB
 * listener's Certificates.
 *
 * Changing the pin rotates in place: the handler re-imports the new material under the same ARN
 * (ACM ImportCertificate with CertificateArn), so the physical ID does not change, the listener
 * is not updated (its resolved properties are the same), nothing is cleaned up, and ACM holds the
 * new certificate body. A failed update rolls back the same way: the old material re-imported
 * under the same ARN. After every step the listener points at a certificate ACM holds.
 *
 * ACM here is the in-repo FakeAcm (test/acm/fake-acm.ts), installed by the world
 * (`SimWorldOptions.acm`, see ../support/simulator/world.ts for why not moto's ACM).
 */
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { describeSteps, expectInvariantHeld, expectStatus, stackIn, synth } from './helpers';
import { AcmImportedCertificate, CertificatePem, PrivateKey } from '../../src';
import { ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE } from '../../src/contract/acm-certificate';
import { makeLeaf, makeRootCa, TestCertificate } from '../support/fixtures/pki';
import { Simulator } from '../support/simulator';

const REGION = 'us-east-1';
let sim: Simulator;
let root: TestCertificate;
let start = 0;

beforeAll(async () => {
  sim = await Simulator.start({ acm: true });
  root = await makeRootCa({ commonName: 'ACM Rotation Test Root' });
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

/** A secret in moto with one version per certificate, in order; returns its ARN and version IDs. */
async function secretWithVersions(name: string, ...leaves: TestCertificate[]): Promise<{ arn: string; versions: string[] }> {
  const value = (leaf: TestCertificate) =>
    JSON.stringify({ certificate: leaf.certificatePem, privateKey: leaf.privateKeyPem, chain: root.certificatePem });
  const sm = new SecretsManagerClient(sim.world.clientConfig(REGION));
  try {
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: value(leaves[0]) }));
    const versions = [created.VersionId!];
    for (const leaf of leaves.slice(1)) {
      versions.push((await sm.send(new PutSecretValueCommand({ SecretId: created.ARN!, SecretString: value(leaf) }))).VersionId!);
    }
    return { arn: created.ARN!, versions };
  } finally {
    sm.destroy();
  }
}

/** An AcmImportedCertificate whose material comes from `secretArn`, pinned to `versionId`. */
function pinnedCertificate(scope: Construct, id: string, secretArn: string, versionId: string): AcmImportedCertificate {
  const secret = secretsmanager.Secret.fromSecretCompleteArn(scope, `${id}Secret`, secretArn);
  return new AcmImportedCertificate(scope, id, {
    certificate: CertificatePem.fromSecret(secret, 'certificate', { versionId }),
    privateKey: PrivateKey.fromSecret(secret, 'privateKey', { versionId }),
    certificateChain: CertificatePem.fromSecret(secret, 'chain', { versionId }),
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

function listener(scope: Construct, id: string, certificateArns: string[]): elbv2.CfnListener {
  return new elbv2.CfnListener(scope, id, {
    loadBalancerArn: `arn:aws:elasticloadbalancing:${REGION}:123456789012:loadbalancer/app/web/0123456789abcdef`,
    port: 443,
    protocol: 'HTTPS',
    certificates: certificateArns.map((certificateArn) => ({ certificateArn })),
    defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '200' } }],
  });
}

const acmBodies = () => [...sim.world.acm!.certificates.values()].map((c) => c.certificate.trim());

test('changing the version pin of a secret-sourced AcmImportedCertificate re-imports in place: same ARN, the listener is not updated, ACM holds the new body', async () => {
  const [a, b] = await Promise.all([makeLeaf(root, { commonName: 'www.example.com' }), makeLeaf(root, { commonName: 'www.example.com' })]);
  const tls = await secretWithVersions('acm/tls', a, b);
  const app = (versionId: string) => synth((cdk) => {
    const stack = stackIn(cdk, 'Web', REGION);
    const certificate = pinnedCertificate(stack, 'Cert', tls.arn, versionId);
    listener(stack, 'Listener', [certificate.certificateArn]);
  }).getStackByName('Web');
  const web = sim.stack('Web', REGION);

  expectStatus(sim.world, await web.deploy(app(tls.versions[0])), 'CREATE_COMPLETE', start);
  const certId = web.logicalIdOf('Cert', ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE);
  const arn = web.resource(certId).physicalId;
  expect(arn).toMatch(/^arn:aws:acm:us-east-1:\d{12}:certificate\//);
  expect(acmBodies()).toEqual([a.certificatePem.trim()]);
  expect((web.resource('Listener').properties.Certificates as any[])[0].CertificateArn).toBe(arn);
  // The world resolves the listener's ACM ARN and marks it in use, as ACM's InUseBy would.
  expect(sim.world.acm!.inUse.get(arn)).toEqual(['Web(us-east-1)/Listener']);
  const from = sim.world.steps.length;

  const rotated = await web.deploy(app(tls.versions[1]));

  expectStatus(sim.world, rotated, 'UPDATE_COMPLETE', from);
  const log = describeSteps(sim.world, from);
  expect({ failures: rotated.failures, log }).toMatchObject({ failures: [] });
  // One in-place Update of the certificate, under the same physical ID; no replacement, no cleanup.
  const certSteps = sim.world.steps.filter((s) => s.seq > from && s.logicalId === certId).map((s) => `${s.phase} ${s.action} ${s.physicalId}`);
  expect({ certSteps, log }).toMatchObject({ certSteps: [`UPDATE Update ${arn}`] });
  expect(web.resource(certId).physicalId).toBe(arn);
  expect(web.resource(certId).attributes.Import).toBe('reimported');
  // The listener's resolved properties did not change, so CloudFormation never touched it.
  expect({ listenerSteps: sim.world.steps.filter((s) => s.seq > from && s.logicalId === 'Listener'), log }).toMatchObject({ listenerSteps: [] });
  expect((web.resource('Listener').properties.Certificates as any[])[0].CertificateArn).toBe(arn);
  // ACM holds one certificate, under the same ARN, with the new body.
  expect([...sim.world.acm!.certificates.keys()]).toEqual([arn]);
  expect(acmBodies()).toEqual([b.certificatePem.trim()]);
  expect(sim.world.acm!.certificates.get(arn)!.imports).toBe(2);
  expectInvariantHeld(sim.world, start);

  expectStatus(sim.world, await web.delete(), 'DELETE_COMPLETE', from);
  expect(sim.world.acm!.certificates.size).toBe(0);
  expectInvariantHeld(sim.world, start);
});

test('a rotation whose update fails later rolls back in place: the old material re-imported under the same ARN, the listener never without a certificate', async () => {
  const [a, b] = await Promise.all([makeLeaf(root, { commonName: 'api.example.com' }), makeLeaf(root, { commonName: 'api.example.com' })]);
  const tls = await secretWithVersions('acm/api', a, b);
  const app = (versionId: string, later = false) => synth((cdk) => {
    const stack = stackIn(cdk, 'Api', REGION);
    const certificate = pinnedCertificate(stack, 'Cert', tls.arn, versionId);
    listener(stack, 'Listener', [certificate.certificateArn]);
    if (later) {
      // Depends on the certificate, so it comes after its update.
      listener(stack, 'Later', [certificate.certificateArn]);
    }
  }).getStackByName('Api');
  const api = sim.stack('Api', REGION);
  expectStatus(sim.world, await api.deploy(app(tls.versions[0])), 'CREATE_COMPLETE', start);
  const certId = api.logicalIdOf('Cert', ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE);
  const arn = api.resource(certId).physicalId;
  const from = sim.world.steps.length;

  const result = await api.deploy(app(tls.versions[1], true), { fail: { Later: 'Create' } });

  const log = describeSteps(sim.world, from);
  expect({ status: result.status, failures: result.failures, log }).toMatchObject({ status: 'UPDATE_ROLLBACK_COMPLETE', failures: [] });
  // The update re-imported B in place, the rollback re-imported A in place: the ARN never changed.
  const certSteps = sim.world.steps.filter((s) => s.seq > from && s.logicalId === certId && s.ok).map((s) => `${s.phase} ${s.action} ${s.physicalId}`);
  expect({ certSteps, log }).toMatchObject({ certSteps: [`UPDATE Update ${arn}`, `ROLLBACK Update ${arn}`] });
  expect(api.resource(certId).physicalId).toBe(arn);
  expect([...sim.world.acm!.certificates.keys()]).toEqual([arn]);
  expect(acmBodies()).toEqual([a.certificatePem.trim()]);
  expect(sim.world.acm!.certificates.get(arn)!.imports).toBe(3);
  expect(api.resources.has('Later')).toBe(false);
  expectInvariantHeld(sim.world, start);
});
