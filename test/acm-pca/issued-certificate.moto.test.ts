/**
 * The shipped private-ca-issued-certificate bundle, run as Lambda runs it, against moto's ACM
 * Private CA and Secrets Manager over HTTP with the real AWS SDK v3: the key is made in the
 * handler, the CSR signed by moto's CA, and key, certificate and chain land in a real secret.
 *
 * moto deviations met here (the in-repo FakeAcmPca, test/support/fakes/acm-pca.ts, keeps the AWS
 * behaviour and test/acm-pca/issued-certificate-handler.test.ts checks the handler against it):
 * - moto creates every CA in SHORT_LIVED_CERTIFICATE mode whatever UsageMode asks (AWS default:
 *   GENERAL_PURPOSE), so the handler allows at most 7 days here; the tests ask for 7.
 * - moto ignores Validity, SigningAlgorithm and IdempotencyToken of IssueCertificate: every
 *   certificate is valid for 365 days and signed SHA512WITHRSA by an RSA 2048 CA key (whatever the
 *   CA's KeyAlgorithm), and a repeated request gets a new certificate instead of the same one.
 * - moto's RevokeCertificate takes a serial it never issued and a serial revoked before (AWS:
 *   RequestAlreadyProcessedException, which the handler treats as done); it publishes no CRL, so
 *   a revocation is asserted here from the handler's request.
 * - moto's GetCertificate answers RequestInProgressException for a revoked certificate, but only
 *   when the serial was revoked in moto's own upper-case notation; the handler sends the lower-case
 *   form RevokeCertificate documents, so here revoked certificates still read back.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import {
  ACMPCAClient,
  DeleteCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateCommand,
  IssueCertificateCommand,
  RevokeCertificateCommand,
  UpdateCertificateAuthorityCommand,
} from '@aws-sdk/client-acm-pca';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { IssuedCertificateResourceProperties } from '../../src/contract/issued-certificate';
import { makeCsr } from '../support/fixtures/pki';
import { CREATE_FAILED_PHYSICAL_ID, LifecycleDriver, standardSequences, StepResult, stringifyProps } from '../support/harness/lifecycle';
import { awsEnvironment, LambdaRuntime, RecordedCall } from '../support/lambda-runtime';
import { MOTO_CREDENTIALS, MOTO_REGION, MotoServer, motoClientConfig, processExists, startMoto } from '../support/moto';
import { createRootCa, MotoCa } from '../support/moto-pca';

let moto: MotoServer;
let runtime: LambdaRuntime<IssuedCertificateResourceProperties>;
let pca: ACMPCAClient;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  moto = await startMoto();
  pca = new ACMPCAClient(motoClientConfig(moto));
  secrets = new SecretsManagerClient(motoClientConfig(moto));
  runtime = await LambdaRuntime.start<IssuedCertificateResourceProperties>({
    kind: 'private-ca-issued-certificate',
    env: awsEnvironment(moto.url, MOTO_REGION, MOTO_CREDENTIALS),
    recordInputsOf: ['RevokeCertificate', 'IssueCertificate'],
  });
  await runtime.setSettings({ issueWaitDeadlineMs: 5_000, issueWaitIntervalMs: 100 });
});

afterAll(async () => {
  const pids = [runtime?.pid, moto?.pid].filter((p): p is number => p !== undefined);
  await runtime?.stop();
  await moto?.stop();
  pca?.destroy();
  secrets?.destroy();
  expect(pids.filter(processExists)).toEqual([]);
});

beforeEach(async () => {
  await moto.reset();
});

function callsOf(step: StepResult): RecordedCall[] {
  const end = runtime.calls.length;
  return runtime.calls.slice(end - step.apiCalls, end);
}

const operations = (step: StepResult) => callsOf(step).map((c) => c.operation);
const WRITES = new Set(['PutSecretValue', 'IssueCertificate', 'RevokeCertificate']);
const writesOf = (step: StepResult) => operations(step).filter((o) => WRITES.has(o));

/** The secret the construct owns: created without a value (no AWSCURRENT version yet). */
async function newSecret(name: string): Promise<string> {
  return (await secrets.send(new CreateSecretCommand({ Name: name, Description: 'key, certificate and chain' }))).ARN!;
}

interface SecretState {
  readonly versionId?: string;
  readonly doc: Record<string, string>;
}

async function secretState(arn: string): Promise<SecretState> {
  try {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
    return { versionId: out.VersionId, doc: JSON.parse(out.SecretString!) };
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') {
      return { doc: {} };
    }
    throw e;
  }
}

function props(ca: MotoCa, secretArn: string, overrides: Partial<IssuedCertificateResourceProperties> = {}): IssuedCertificateResourceProperties {
  return stringifyProps({
    CertificateAuthorityArn: ca.arn,
    Subject: { CommonName: 'www.example.com', Organization: 'Example' },
    DnsNames: ['www.example.com'],
    KeyAlgorithm: 'EC_P256',
    TemplateArn: 'arn:aws:acm-pca:::template/EndEntityCertificate/V1',
    ValidityType: 'DAYS',
    ValidityValue: '7',
    SecretArn: secretArn,
    RevocationReason: 'SUPERSEDED',
    RevokeOnDelete: 'true',
    RemovalPolicy: 'destroy',
    ...overrides,
  } as IssuedCertificateResourceProperties);
}

/** The serial as RevokeCertificate takes it: lower-case hex octets joined by ':'. */
function serialOf(pem: string): string {
  let hex = new X509Certificate(pem).serialNumber.toLowerCase();
  if (hex.length % 2 === 1) {
    hex = `0${hex}`;
  }
  return hex.match(/../g)!.join(':');
}

/** Checks what the secret holds: a key, its certificate (issued by `ca` for `dnsNames`), the chain. */
async function expectConsistentSecret(state: SecretState, ca: MotoCa, certificateArn: string, dnsNames: string[]): Promise<X509Certificate> {
  const { doc } = state;
  expect(Object.keys(doc).sort()).toEqual(['certificate', 'certificateArn', 'certificateChain', 'issuance', 'privateKey']);
  expect(doc.certificateArn).toBe(certificateArn);
  const cert = new X509Certificate(doc.certificate);
  // The key in the secret is the key of the certificate in the secret.
  expect(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(createPublicKey(doc.privateKey).export({ type: 'spki', format: 'der' }))).toBe(true);
  expect(createPublicKey(doc.privateKey).asymmetricKeyDetails!.namedCurve).toBe('prime256v1');
  // Signed by moto's CA, with the chain it reports, for the names asked for.
  const caCert = new X509Certificate(ca.certificatePem!);
  expect(cert.verify(caCert.publicKey)).toBe(true);
  expect(cert.checkIssued(caCert)).toBe(true);
  expect(doc.certificateChain.trim()).toBe(ca.certificatePem!.trim());
  expect(cert.subjectAltName!.split(', ').sort()).toEqual(dnsNames.map((n) => `DNS:${n}`).sort());
  // What ACM Private CA returns for the ARN is what the secret holds.
  const got = await pca.send(new GetCertificateCommand({ CertificateAuthorityArn: ca.arn, CertificateArn: certificateArn }));
  expect(got.Certificate!.trim()).toBe(doc.certificate.trim());
  return cert;
}

describe('private-ca-issued-certificate bundle against moto', () => {
  test('standard sequences: the secret always holds a matching key, certificate and chain', async () => {
    const ca = await createRootCa(pca, 'Issuing CA');
    const pending = await createRootCa(pca, 'Not yet active', false);
    const [secretArn, failingSecretArn] = await Promise.all([newSecret('web/certificate'), newSecret('web/failing')]);
    const base = props(ca, secretArn);
    const inPlace = props(ca, secretArn, { RevocationReason: 'KEY_COMPROMISE' });
    const replacing = props(ca, secretArn, { RevocationReason: 'KEY_COMPROMISE', DnsNames: ['www.example.com', 'example.com'] });
    const d = new LifecycleDriver<IssuedCertificateResourceProperties>({
      handler: runtime.handler, resourceType: 'Custom::PrivateCaIssuedCertificate', countApiCalls: () => runtime.calls.length,
    });
    const seenKeys: string[] = [];
    const certificates: Record<string, string> = {};
    let version: string | undefined;

    const steps = await standardSequences(d, {
      props: base,
      changedInPlace: inPlace,
      replacing,
      failingCreate: { props: props(pending, failingSecretArn), arrange: () => undefined },
      afterStep: async (name, step) => {
        const state = await secretState(secretArn);
        if (state.doc.privateKey) {
          seenKeys.push(state.doc.privateKey);
        }
        switch (name) {
          case 'create': {
            expect(writesOf(step)).toEqual(['PutSecretValue', 'IssueCertificate', 'PutSecretValue']);
            const issue = callsOf(step).find((c) => c.operation === 'IssueCertificate')!.input!;
            expect(issue).toMatchObject({ CertificateAuthorityArn: ca.arn, SigningAlgorithm: 'SHA256WITHRSA', Validity: { Type: 'DAYS', Value: 7 } });
            expect(String(issue.IdempotencyToken)).toMatch(/^[0-9a-f]{36}$/);
            await expectConsistentSecret(state, ca, step.physicalResourceId!, ['www.example.com']);
            certificates.first = state.doc.certificate;
            version = state.versionId;
            break;
          }
          case 'retriedCreate':
          case 'updateNoChange':
          case 'updateInPlace':
            // The same certificate again, read from the secret: no write, no new version.
            expect(writesOf(step)).toEqual([]);
            expect(state.versionId).toBe(version);
            expect(state.doc.certificate).toBe(certificates.first);
            break;
          case 'updateReplace': {
            expect(writesOf(step)).toEqual(['PutSecretValue', 'IssueCertificate', 'PutSecretValue']);
            await expectConsistentSecret(state, ca, step.physicalResourceId!, ['www.example.com', 'example.com']);
            expect(state.doc.certificate).not.toBe(certificates.first);
            certificates.second = state.doc.certificate;
            version = state.versionId;
            break;
          }
          case 'deleteOld': {
            // The old certificate is revoked, with the reason in force when it was replaced;
            // the secret keeps the new one.
            expect(writesOf(step)).toEqual(['RevokeCertificate']);
            expect(callsOf(step).at(-1)!.input).toEqual({
              CertificateAuthorityArn: ca.arn, CertificateSerial: serialOf(certificates.first), RevocationReason: 'KEY_COMPROMISE',
            });
            expect(state.versionId).toBe(version);
            expect(state.doc.certificate).toBe(certificates.second);
            break;
          }
          case 'delete':
            // The secret still holds the certificate being revoked, and an earlier one that has not
            // expired: the earlier one is written back first, as the rollback of a re-issue needs
            // (here it is a stack delete, and CloudFormation deletes the secret next).
            expect(writesOf(step)).toEqual(['PutSecretValue', 'RevokeCertificate']);
            expect(callsOf(step).at(-1)!.input).toMatchObject({ CertificateSerial: serialOf(certificates.second), RevocationReason: 'KEY_COMPROMISE' });
            expect(state.doc.certificate).toBe(certificates.first);
            version = state.versionId;
            break;
          case 'deleteAgain':
            // The secret no longer holds the certificate: it is not touched again.
            expect(writesOf(step)).toEqual(['RevokeCertificate']);
            expect(state.versionId).toBe(version);
            break;
          case 'failedCreate': {
            // The CA is not ACTIVE: refused before a key is made or anything written.
            expect(writesOf(step)).toEqual([]);
            expect((await secretState(failingSecretArn)).doc).toEqual({});
            break;
          }
        }
      },
    });

    expect(steps.create!.physicalResourceId).toMatch(new RegExp(`^${ca.arn}/certificate/[0-9a-f]+$`));
    expect(steps.retriedCreate!.physicalResourceId).toBe(steps.create!.physicalResourceId);
    const first = new X509Certificate(certificates.first);
    expect(steps.create!.data).toEqual({
      CertificateArn: steps.create!.physicalResourceId,
      // Upper-case hex, as IssuedCertificate.serialNumber documents it.
      SerialNumber: first.serialNumber.toUpperCase(),
      NotBefore: new Date(first.validFrom).toISOString(),
      NotAfter: new Date(first.validTo).toISOString(),
      SecretArn: secretArn,
      // The ClientRequestToken the handler derived: a retried write is the same version.
      SecretVersionId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    });
    // Consumers pin that version, and moto serves it by VersionId even after later writes.
    const pinned = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionId: steps.create!.data!.SecretVersionId }));
    expect(JSON.parse(pinned.SecretString!).certificate).toBe(certificates.first);
    expect(steps.updateReplace!.data!.SecretVersionId).not.toBe(steps.create!.data!.SecretVersionId);
    expect(steps.failedCreate!.error!.message).toMatch(/^certificateAuthority: the CA arn:aws:acm-pca:\S+ is PENDING_CERTIFICATE; it issues certificates only when ACTIVE/);
    expect(steps.rollbackDelete!.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
    expect(steps.rollbackDelete!.handlerInvoked).toBe(false);
    // No private key, whole or in part, in any log line, response, Data or error.
    expect(seenKeys.length).toBeGreaterThanOrEqual(2);
    d.assertNoLeak([...new Set(seenKeys)]);
    expect(runtime.coldStarts).toBe(1);
  });

  test('a CA moto does not know, and a CA that moto holds as DELETED, are refused without a write', async () => {
    const ca = await createRootCa(pca, 'Soon deleted');
    const secretArn = await newSecret('web/refused');
    const d = new LifecycleDriver<IssuedCertificateResourceProperties>({
      handler: runtime.handler, resourceType: 'Custom::PrivateCaIssuedCertificate', countApiCalls: () => runtime.calls.length,
    });
    const unknown: MotoCa = { arn: 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/00000000-0000-0000-0000-000000000000' };
    const step = await d.create(props(unknown, secretArn));
    expect(step.error!.message).toMatch(/^certificateAuthority: no ACM Private CA arn:\S+ in this account and region; check the CA ARN/);
    expect(writesOf(step)).toEqual([]);

    await pca.send(new UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: ca.arn, Status: 'DISABLED' }));
    await pca.send(new DeleteCertificateAuthorityCommand({ CertificateAuthorityArn: ca.arn }));
    const deleted = await d.create(props(ca, secretArn));
    expect(deleted.error!.message).toMatch(/is DELETED; it issues certificates only when ACTIVE: restore it/);
    expect(writesOf(deleted)).toEqual([]);
    expect((await secretState(secretArn)).doc).toEqual({});
    expect((await secrets.send(new DescribeSecretCommand({ SecretId: secretArn }))).VersionIdsToStages ?? {}).toEqual({});
  });
});

describe('moto deviations (the in-repo FakeAcmPca keeps the AWS behaviour)', () => {
  // Each of these pins a difference the header names. If one starts failing, moto has caught up:
  // move the behaviour into the lifecycle test above.
  const DAY_MS = 24 * 3600_000;

  async function issue(ca: MotoCa, csrPem: string, token: string): Promise<string> {
    const out = await pca.send(new IssueCertificateCommand({
      CertificateAuthorityArn: ca.arn,
      Csr: new TextEncoder().encode(csrPem),
      SigningAlgorithm: 'SHA256WITHRSA',
      TemplateArn: 'arn:aws:acm-pca:::template/EndEntityCertificate/V1',
      Validity: { Type: 'DAYS', Value: 7 },
      IdempotencyToken: token,
    }));
    return out.CertificateArn!;
  }

  async function pemOf(ca: MotoCa, arn: string): Promise<string> {
    return (await pca.send(new GetCertificateCommand({ CertificateAuthorityArn: ca.arn, CertificateArn: arn }))).Certificate!;
  }

  test('every CA is SHORT_LIVED_CERTIFICATE; Validity and IdempotencyToken are ignored', async () => {
    const ca = await createRootCa(pca, 'CA');
    const described = await pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: ca.arn }));
    // Asked for GENERAL_PURPOSE (createRootCa).
    expect(described.CertificateAuthority!.UsageMode).toBe('SHORT_LIVED_CERTIFICATE');
    const { csrPem } = await makeCsr({ commonName: 'www.example.com', keyAlgorithm: 'EC_P256' });
    const a = await issue(ca, csrPem, 'same-token');
    const b = await issue(ca, csrPem, 'same-token');
    // AWS: the same request with the same token returns the same certificate.
    expect(b).not.toBe(a);
    const cert = new X509Certificate(await pemOf(ca, a));
    // Asked for 7 days.
    expect(Math.round((Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY_MS)).toBe(365);
  });

  test('revocation: a serial revoked twice is accepted; GetCertificate then fails only for the upper-case form', async () => {
    const ca = await createRootCa(pca, 'CA');
    const { csrPem } = await makeCsr({ commonName: 'www.example.com', keyAlgorithm: 'EC_P256' });
    const [lower, upper] = [await issue(ca, csrPem, 'one'), await issue(ca, csrPem, 'two')];
    const revoke = (serial: string) => pca.send(new RevokeCertificateCommand({ CertificateAuthorityArn: ca.arn, CertificateSerial: serial, RevocationReason: 'SUPERSEDED' }));
    const lowerSerial = serialOf(await pemOf(ca, lower));
    await revoke(lowerSerial);
    // AWS: RequestAlreadyProcessedException.
    await expect(revoke(lowerSerial)).resolves.toBeDefined();
    // Revoked as AWS documents the serial: moto still hands it out.
    await expect(pemOf(ca, lower)).resolves.toMatch(/BEGIN CERTIFICATE/);
    // Revoked in moto's own upper-case notation: moto refuses it with RequestInProgressException
    // (AWS returns a revoked certificate).
    // moto's notation: Python's format(serial, 'X') (no leading zero), split into pairs from the left.
    const motoSerial = BigInt(`0x${new X509Certificate(await pemOf(ca, upper)).serialNumber}`).toString(16).toUpperCase().match(/.{1,2}/g)!.join(':');
    await revoke(motoSerial);
    await expect(pemOf(ca, upper)).rejects.toMatchObject({ name: 'RequestInProgressException' });
  });
});
