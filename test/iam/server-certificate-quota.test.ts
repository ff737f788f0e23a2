import { Annotations as CoreAnnotations, App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CertificatePem, PrivateKey, ServerCertificate } from '../../src';
import { IAM_SERVER_CERTIFICATE_DEFAULT_QUOTA, SERVER_CERTIFICATE_QUOTA_WARNING } from '../../src/iam/server-certificate-quota';
import { makeTestPki, TestPki } from '../support/fixtures/pki';

// IAM's default quota is 20 server certificates per account (IAM and AWS STS quotas, "Server
// certificates stored in an AWS account"), global across regions: the app warns once when it
// declares more for one account, whatever the stacks and regions they are spread over.

let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki();
});

const ACCOUNT = '123456789012';

function stackIn(app: App, id: string, env?: { account: string; region: string }): Stack {
  return new Stack(app, id, { env });
}

function addCertificates(stack: Stack, count: number, prefix = 'Cert'): ServerCertificate[] {
  const key = secretsmanager.Secret.fromSecretCompleteArn(stack, `${prefix}Key`,
    `arn:aws:secretsmanager:${stack.region}:${ACCOUNT}:secret:web-key-AbCdEf`);
  return Array.from({ length: count }, (_, i) => new ServerCertificate(stack, `${prefix}${i + 1}`, {
    certificateBody: CertificatePem.fromString(pki.leaf.certificatePem),
    certificateChain: CertificatePem.fromString(pki.chainPem),
    privateKey: PrivateKey.fromSecret(key),
  }));
}

function quotaWarnings(...stacks: Stack[]) {
  return stacks.flatMap((stack) => Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(SERVER_CERTIFICATE_QUOTA_WARNING)));
}

describe('IAM server certificate quota', () => {
  test('the default quota is 20', () => {
    expect(IAM_SERVER_CERTIFICATE_DEFAULT_QUOTA).toBe(20);
  });

  test('21 certificates in one stack: one warning, on the 21st, saying what to do', () => {
    const stack = stackIn(new App(), 'Web', { account: ACCOUNT, region: 'eu-west-1' });
    addCertificates(stack, 21);
    const warnings = quotaWarnings(stack);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].id).toBe('/Web/Cert21');
    expect(warnings[0].entry.data).toMatch(new RegExp(
      `^this app declares more than 20 IAM server certificates for account ${ACCOUNT} \\(this is number 21; stacks Web\\)\\. `
      + "IAM's default quota is 20 server certificates per account, across all regions.*Service Quotas.*"
      + `acknowledgeWarning\\('${SERVER_CERTIFICATE_QUOTA_WARNING}'\\) \\[ack: ${SERVER_CERTIFICATE_QUOTA_WARNING}\\]$`));
  });

  test('20 certificates: no warning', () => {
    const stack = stackIn(new App(), 'Web', { account: ACCOUNT, region: 'eu-west-1' });
    addCertificates(stack, 20);
    expect(quotaWarnings(stack)).toEqual([]);
  });

  test('25 certificates still warn once', () => {
    const stack = stackIn(new App(), 'Web', { account: ACCOUNT, region: 'eu-west-1' });
    addCertificates(stack, 25);
    expect(quotaWarnings(stack)).toHaveLength(1);
  });

  test('acknowledging silences it, before or after the certificates are declared', () => {
    const before = stackIn(new App(), 'Web', { account: ACCOUNT, region: 'eu-west-1' });
    CoreAnnotations.of(before).acknowledgeWarning(SERVER_CERTIFICATE_QUOTA_WARNING, 'quota raised to 100');
    addCertificates(before, 21);
    expect(quotaWarnings(before)).toEqual([]);

    const app = new App();
    const after = stackIn(app, 'Web', { account: ACCOUNT, region: 'eu-west-1' });
    addCertificates(after, 21);
    CoreAnnotations.of(app).acknowledgeWarning(SERVER_CERTIFICATE_QUOTA_WARNING, 'quota raised to 100');
    expect(quotaWarnings(after)).toEqual([]);

    // The certificate itself, as for any construct's warning.
    const own = stackIn(new App(), 'Web', { account: ACCOUNT, region: 'eu-west-1' });
    const certificates = addCertificates(own, 21);
    CoreAnnotations.of(certificates[20]).acknowledgeWarning(SERVER_CERTIFICATE_QUOTA_WARNING);
    expect(quotaWarnings(own)).toEqual([]);
  });

  test('two stacks of one account count together, across regions, and the app warns once', () => {
    const app = new App();
    const east = stackIn(app, 'East', { account: ACCOUNT, region: 'us-east-1' });
    const west = stackIn(app, 'West', { account: ACCOUNT, region: 'eu-west-1' });
    addCertificates(east, 11);
    addCertificates(west, 10);
    const warnings = quotaWarnings(east, west);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].id).toBe('/West/Cert10');
    expect(warnings[0].entry.data).toMatch(/\(this is number 21; stacks East, West\)/);
  });

  test('other accounts count apart; env-agnostic stacks count together', () => {
    const app = new App();
    const a = stackIn(app, 'A', { account: ACCOUNT, region: 'eu-west-1' });
    const b = stackIn(app, 'B', { account: '210987654321', region: 'eu-west-1' });
    addCertificates(a, 11);
    addCertificates(b, 10);
    expect(quotaWarnings(a, b)).toEqual([]);

    const agnostic = new App();
    const one = stackIn(agnostic, 'One');
    const two = stackIn(agnostic, 'Two');
    addCertificates(one, 11);
    addCertificates(two, 10);
    const warnings = quotaWarnings(one, two);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toMatch(/for the env-agnostic stacks \(one account, whichever the CLI deploys to\) \(this is number 21; stacks One, Two\)/);
  });

  test('imported certificates do not count', () => {
    const stack = stackIn(new App(), 'Web', { account: ACCOUNT, region: 'eu-west-1' });
    addCertificates(stack, 20);
    ServerCertificate.fromServerCertificateName(stack, 'Imported', 'existing');
    expect(quotaWarnings(stack)).toEqual([]);
  });
});
