/**
 * Simulator scenarios 5 and 6 (issue 13): stacks side by side in one account, and a stack delete
 * while a certificate is still used outside the stack.
 *
 * 5. The same app in two regions, and in two stacks whose names share a prefix (`Web` and
 *    `Web-Staging`): each stack has its own certificates, tagged with the stack ID and logical ID
 *    that own them, and deleting one stack leaves the other's certificates and consumers intact. (DMS joins only the same-region case: the DMS fake is one
 *    region.)
 * 6. A certificate attached outside the stack (the IAM fake's "in use" marking: DeleteConflict; the
 *    DMS fake's endpoint: InvalidResourceStateFault): the delete retries for a bounded time (short
 *    deadlines here), then fails clearly (DELETE_FAILED with the handler's message), and nothing is
 *    deleted out from under the consumer.
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Stack } from 'aws-cdk-lib';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describeSteps, expectInvariantHeld, expectStatus, stackIn, synth } from './helpers';
import { CertificatePem, DmsCertificate, PrivateKey, ServerCertificate } from '../../src';
import { OWNER_LOGICAL_ID_TAG, OWNER_STACK_TAG } from '../../src/contract/tags';
import { makeLeaf, makeRootCa, TestCertificate } from '../support/fixtures/pki';
import { Simulator } from '../support/simulator';

const KEY_PARAMETER = '/web/tls/private-key';
let sim: Simulator;
let root: TestCertificate;
let leaf: TestCertificate;
let start = 0;

beforeAll(async () => {
  sim = await Simulator.start();
  root = await makeRootCa({ commonName: 'Side By Side Root' });
  leaf = await makeLeaf(root, { commonName: 'www.example.com' });
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

/**
 * The key of `leaf` as an SSM SecureString of the same name in `region` (moto's SSM is regional):
 * the two regions' templates are then byte for byte the same, as for any app deployed twice.
 */
async function keyParameter(region: string): Promise<string> {
  const ssm = new SSMClient(sim.world.clientConfig(region));
  try {
    await ssm.send(new PutParameterCommand({ Name: KEY_PARAMETER, Type: 'SecureString', Value: leaf.privateKeyPem, Overwrite: true }));
    return KEY_PARAMETER;
  } finally {
    ssm.destroy();
  }
}

/** The key of `leaf` in a secret of `region` (moto's Secrets Manager is regional). */
async function keySecret(region: string): Promise<string> {
  const sm = new SecretsManagerClient(sim.world.clientConfig(region));
  try {
    return (await sm.send(new CreateSecretCommand({ Name: 'web/key', SecretString: JSON.stringify({ privateKey: leaf.privateKeyPem }) }))).ARN!;
  } finally {
    sm.destroy();
  }
}

/**
 * The app: an IAM server certificate behind a listener, and optionally a DMS certificate behind an
 * endpoint. The key comes from a secret (`keyArn`) or, given a parameter name, an SSM SecureString.
 */
function webStack(stack: Stack, keySource: string, withDms: boolean) {
  const privateKey = keySource.startsWith('/')
    ? PrivateKey.fromSsmSecureString(keySource)
    : PrivateKey.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', keySource), 'privateKey');
  const iam = new ServerCertificate(stack, 'Iam', {
    certificateBody: CertificatePem.fromString(leaf.certificatePem),
    certificateChain: CertificatePem.fromString(root.certificatePem),
    privateKey,
  });
  new elbv2.CfnListener(stack, 'Listener', {
    loadBalancerArn: `arn:aws:elasticloadbalancing:${stack.region}:123456789012:loadbalancer/app/web/0123456789abcdef`,
    port: 443,
    protocol: 'HTTPS',
    certificates: [{ certificateArn: iam.serverCertificateArn }],
    defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '200' } }],
  });
  if (withDms) {
    const trust = new DmsCertificate(stack, 'DbTrust', { certificatePem: CertificatePem.fromString(root.certificatePem) });
    new dms.CfnEndpoint(stack, 'Endpoint', { endpointType: 'source', engineName: 'postgres', sslMode: 'verify-full', certificateArn: trust.certificateArn });
  }
  return iam;
}

/** The ownership tags of the IAM server certificate `arn`. */
function iamOwner(arn: string): { stackId?: string; logicalId?: string } {
  const c = [...sim.world.iam.certificates.values()].find((x) => sim.world.iam.arn(x) === arn);
  return { stackId: c?.tags.get(OWNER_STACK_TAG), logicalId: c?.tags.get(OWNER_LOGICAL_ID_TAG) };
}

describe('scenario 5: the same app side by side', () => {
  test('in two regions of one account: two certificates; deleting one stack leaves the other region\'s certificate and listener intact', async () => {
    // The same app, synthesized for each region (as `cdk deploy` with another region does): one
    // stack `Web`, the same construct paths and inputs in both.
    const appIn = (region: string, keyName: string) => synth((app) => webStack(stackIn(app, 'Web', region), keyName, false)).getStackByName('Web');
    const useast = sim.stack('Web', 'us-east-1');
    const euwest = sim.stack('Web', 'eu-west-1');
    expectStatus(sim.world, await useast.deploy(appIn('us-east-1', await keyParameter('us-east-1'))), 'CREATE_COMPLETE', start);
    expectStatus(sim.world, await euwest.deploy(appIn('eu-west-1', await keyParameter('eu-west-1'))), 'CREATE_COMPLETE', start);

    const log = describeSteps(sim.world, start);
    expect({ iam: sim.world.iam.certificates.size, log }).toMatchObject({ iam: 2 });
    const eastCert = useast.resource(useast.logicalIdOf('Iam', 'Custom::ServerCertificate'));
    const westCert = euwest.resource(euwest.logicalIdOf('Iam', 'Custom::ServerCertificate'));
    expect(eastCert.physicalId).not.toBe(westCert.physicalId);
    // Each is tagged with the stack (ID: region, account, name, UUID) and logical ID that own it.
    expect(iamOwner(String(eastCert.attributes.Arn))).toEqual({ stackId: useast.stackId, logicalId: eastCert.logicalId });
    expect(iamOwner(String(westCert.attributes.Arn))).toEqual({ stackId: euwest.stackId, logicalId: westCert.logicalId });
    const from = sim.world.steps.length;

    expectStatus(sim.world, await euwest.delete(), 'DELETE_COMPLETE', from);

    expect([...sim.world.iam.certificates.values()].map((c) => sim.world.iam.arn(c))).toEqual([eastCert.attributes.Arn]);
    expect((useast.resource('Listener').properties.Certificates as any[])[0].CertificateArn).toBe(eastCert.attributes.Arn);
    expectInvariantHeld(sim.world, start);
  });

  test('in two stacks whose names share a prefix (Web, Web-Staging): two certificates each; deleting Web leaves Web-Staging\'s intact', async () => {
    const key = await keySecret('us-east-1');
    const assembly = synth((app) => {
      webStack(stackIn(app, 'Web', 'us-east-1'), key, true);
      webStack(stackIn(app, 'Web-Staging', 'us-east-1'), key, true);
    });
    const web = sim.stack('Web', 'us-east-1');
    const staging = sim.stack('Web-Staging', 'us-east-1');
    expectStatus(sim.world, await staging.deploy(assembly.getStackByName('Web-Staging')), 'CREATE_COMPLETE', start);
    expectStatus(sim.world, await web.deploy(assembly.getStackByName('Web')), 'CREATE_COMPLETE', start);

    const log = describeSteps(sim.world, start);
    expect({ iam: sim.world.iam.certificates.size, dms: sim.world.dms.certificates.size, log }).toMatchObject({ iam: 2, dms: 2 });
    const stagingIam = staging.resource(staging.logicalIdOf('Iam', 'Custom::ServerCertificate'));
    const stagingDms = staging.resource(staging.logicalIdOf('DbTrust', 'Custom::DmsCertificate'));
    expect(iamOwner(String(stagingIam.attributes.Arn))).toEqual({ stackId: staging.stackId, logicalId: stagingIam.logicalId });
    const dmsTags = sim.world.dms.certificates.get(stagingDms.physicalId)!.tags;
    expect({ stackId: dmsTags.get(OWNER_STACK_TAG), logicalId: dmsTags.get(OWNER_LOGICAL_ID_TAG) })
      .toEqual({ stackId: staging.stackId, logicalId: stagingDms.logicalId });
    const from = sim.world.steps.length;

    expectStatus(sim.world, await web.delete(), 'DELETE_COMPLETE', from);

    expect([...sim.world.iam.certificates.values()].map((c) => sim.world.iam.arn(c))).toEqual([stagingIam.attributes.Arn]);
    expect([...sim.world.dms.certificates.keys()]).toEqual([stagingDms.physicalId]);
    expect(staging.resource('Endpoint').properties.CertificateArn).toBe(stagingDms.physicalId);
    expectInvariantHeld(sim.world, start);
  });
});

test('scenario 6: deleting a stack whose certificates are still used outside it: bounded retries, then DELETE_FAILED naming what to do; nothing deleted under the consumers', async () => {
  const key = await keySecret('us-east-1');
  const assembly = synth((app) => {
    const stack = stackIn(app, 'Web', 'us-east-1');
    const key2 = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', key);
    new ServerCertificate(stack, 'Iam', {
      certificateBody: CertificatePem.fromString(leaf.certificatePem),
      privateKey: PrivateKey.fromSecret(key2, 'privateKey'),
    });
    new DmsCertificate(stack, 'DbTrust', { certificatePem: CertificatePem.fromString(root.certificatePem) });
  });
  const web = sim.stack('Web', 'us-east-1');
  expectStatus(sim.world, await web.deploy(assembly.getStackByName('Web')), 'CREATE_COMPLETE', start);
  const iam = web.resource(web.logicalIdOf('Iam', 'Custom::ServerCertificate'));
  const trust = web.resource(web.logicalIdOf('DbTrust', 'Custom::DmsCertificate'));
  sim.world.addOutsideConsumer('partner-alb', { kind: 'iam', arn: String(iam.attributes.Arn) });
  sim.world.addOutsideConsumer('partner-dms-endpoint', { kind: 'dms', arn: trust.physicalId });
  const deletesBefore = sim.world.iam.log.filter((op) => op === 'DeleteServerCertificate').length;
  const from = sim.world.steps.length;
  const began = Date.now();

  const result = await web.delete();

  const elapsed = Date.now() - began;
  const log = describeSteps(sim.world, from);
  expect({ status: result.status, log }).toMatchObject({ status: 'DELETE_FAILED' });
  const reasons = Object.fromEntries(result.failures.map((f) => [f.logicalId, f.reason]));
  // The handlers' messages say what uses the certificate and what to do.
  expect(reasons[iam.logicalId]).toMatch(/in use|DeleteConflict/i);
  expect(reasons[iam.logicalId]).toMatch(/partner-alb|detach|remove|stop using/i);
  expect(reasons[trust.logicalId]).toMatch(/in use|endpoint/i);
  // Retried, but for a bounded time (the deadlines are 400 ms here).
  const attempts = sim.world.iam.log.filter((op) => op === 'DeleteServerCertificate').length - deletesBefore;
  expect(attempts).toBeGreaterThan(1);
  expect(elapsed).toBeLessThan(20_000);
  // Nothing was deleted under the consumers.
  expect(sim.world.iam.certificates.size).toBe(1);
  expect(sim.world.dms.certificates.has(trust.physicalId)).toBe(true);
  expectInvariantHeld(sim.world, start);

  // Once the consumers let go, the delete completes.
  sim.world.removeOutsideConsumer('partner-alb');
  sim.world.removeOutsideConsumer('partner-dms-endpoint');
  expectStatus(sim.world, await web.delete(), 'DELETE_COMPLETE', from);
  expect(sim.world.iam.certificates.size).toBe(0);
  expect(sim.world.dms.certificates.size).toBe(0);
});
