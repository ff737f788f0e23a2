import { X509Certificate } from 'node:crypto';
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  DeleteCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateCommand,
  IssueCertificateCommand,
  RestoreCertificateAuthorityCommand,
  RevokeCertificateCommand,
  UpdateCertificateAuthorityCommand,
} from '@aws-sdk/client-acm-pca';
import { FakeAcmPca, makeTestCsr } from './fakes/acm-pca';

// The fake ACM PCA model is shared with the issued-certificate tests: these check the model itself.
const pca = new FakeAcmPca();
const client = new ACMPCAClient({ region: 'us-east-1' });
const send = (command: unknown): Promise<any> => (client as any).send(command);

beforeEach(() => {
  pca.reset();
  pca.install();
});
afterEach(() => pca.restore());

test('a root and a subordinate chain, and an issued certificate verifies against them', async () => {
  const root = await pca.addCa({ commonName: 'Root' });
  const sub = await pca.addCa({ commonName: 'Issuing', parent: root.arn, pathLength: 0 });
  const { csrPem } = await makeTestCsr('www.example.com');
  const issued = await send(new IssueCertificateCommand({
    CertificateAuthorityArn: sub.arn,
    Csr: Buffer.from(csrPem),
    SigningAlgorithm: 'SHA256WITHECDSA',
    Validity: { Type: 'DAYS', Value: 30 },
    IdempotencyToken: 'abc',
  }));
  const again = await send(new IssueCertificateCommand({
    CertificateAuthorityArn: sub.arn,
    Csr: Buffer.from(csrPem),
    SigningAlgorithm: 'SHA256WITHECDSA',
    Validity: { Type: 'DAYS', Value: 30 },
    IdempotencyToken: 'abc',
  }));
  expect(again.CertificateArn).toBe(issued.CertificateArn);
  const got = await send(new GetCertificateCommand({ CertificateAuthorityArn: sub.arn, CertificateArn: issued.CertificateArn }));
  const leaf = new X509Certificate(got.Certificate);
  const subCert = new X509Certificate(sub.certificatePem!);
  const rootCert = new X509Certificate(root.certificatePem!);
  expect(leaf.verify(subCert.publicKey)).toBe(true);
  expect(subCert.verify(rootCert.publicKey)).toBe(true);
  expect(rootCert.verify(rootCert.publicKey)).toBe(true);
  expect(got.CertificateChain).toBe(sub.certificatePem! + root.certificatePem!);

  await send(new RevokeCertificateCommand({ CertificateAuthorityArn: sub.arn, CertificateSerial: leaf.serialNumber, RevocationReason: 'SUPERSEDED' }));
  expect(pca.certificates.get(issued.CertificateArn)!.revoked?.reason).toBe('SUPERSEDED');
  await expect(send(new RevokeCertificateCommand({ CertificateAuthorityArn: sub.arn, CertificateSerial: leaf.serialNumber, RevocationReason: 'SUPERSEDED' })))
    .rejects.toMatchObject({ name: 'RequestAlreadyProcessedException' });
});

test('a signing algorithm outside the CA key family is refused', async () => {
  const root = await pca.addCa({ keyAlgorithm: 'EC_prime256v1' });
  const { csrPem } = await makeTestCsr();
  await expect(send(new IssueCertificateCommand({
    CertificateAuthorityArn: root.arn, Csr: Buffer.from(csrPem), SigningAlgorithm: 'SHA256WITHRSA', Validity: { Type: 'DAYS', Value: 1 },
  }))).rejects.toMatchObject({ name: 'InvalidArgsException' });
});

test('GetCertificate answers RequestInProgress for the configured polls', async () => {
  const root = await pca.addCa();
  pca.issueDelayPolls = 2;
  const { csrPem } = await makeTestCsr();
  const { CertificateArn } = await send(new IssueCertificateCommand({
    CertificateAuthorityArn: root.arn, Csr: Buffer.from(csrPem), SigningAlgorithm: 'SHA256WITHECDSA', Validity: { Type: 'DAYS', Value: 1 },
  }));
  const get = () => send(new GetCertificateCommand({ CertificateAuthorityArn: root.arn, CertificateArn }));
  await expect(get()).rejects.toMatchObject({ name: 'RequestInProgressException' });
  await expect(get()).rejects.toMatchObject({ name: 'RequestInProgressException' });
  await expect(get()).resolves.toHaveProperty('Certificate');
});

test('CA lifecycle: create is idempotent, active CAs refuse deletion, delete then restore', async () => {
  const input = {
    CertificateAuthorityConfiguration: { KeyAlgorithm: 'EC_prime256v1', SigningAlgorithm: 'SHA256WITHECDSA', Subject: { CommonName: 'X' } },
    CertificateAuthorityType: 'ROOT',
    IdempotencyToken: 'tok',
  } as const;
  const a = await send(new CreateCertificateAuthorityCommand(input));
  const b = await send(new CreateCertificateAuthorityCommand(input));
  expect(b.CertificateAuthorityArn).toBe(a.CertificateAuthorityArn);
  expect(pca.cas.size).toBe(1);

  const active = await pca.addCa({ withKey: false });
  await expect(send(new DeleteCertificateAuthorityCommand({ CertificateAuthorityArn: active.arn })))
    .rejects.toMatchObject({ name: 'InvalidStateException' });
  await send(new UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: active.arn, Status: 'DISABLED' }));
  await send(new DeleteCertificateAuthorityCommand({ CertificateAuthorityArn: active.arn, PermanentDeletionTimeInDays: 7 }));
  const described = await send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: active.arn }));
  expect(described.CertificateAuthority.Status).toBe('DELETED');
  expect(pca.getCa(active.arn).permanentDeletionTimeInDays).toBe(7);
  await send(new RestoreCertificateAuthorityCommand({ CertificateAuthorityArn: active.arn }));
  expect(pca.getCa(active.arn).status).toBe('DISABLED');
});
