/**
 * KmsCertificatesApi (the Alibaba KMS client layer) exercised through Alibaba's own
 * `@alicloud/openapi-client` against the local fake KMS server, which verifies every request
 * signature and keeps certificate state.
 */
import 'reflect-metadata';
import { createPublicKey } from 'node:crypto';
import * as http from 'node:http';
import OpenApiClient, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import * as x509 from '@peculiar/x509';
import {
  CreatedCertificate,
  KmsCertificatesApi,
  KmsClientOptions,
  isKmsCredentialError,
  isKmsNetworkError,
  isKmsNotFound,
  isKmsThrottling,
  isKmsTransient,
  kmsErrorCode,
  kmsStatusCode,
} from '../../lambda/alibaba-kms-certificate/kms-api';
import { FakeAlibabaKmsServer } from '../support/fakes/alibaba-kms-server';
import { TestPki, makeTestPki, signCsr } from '../support/fixtures/pki';

const SUBJECT = 'CN=www.example.com,OU=Platform,O=Example Corp,ST=Zhejiang,C=CN';
const SANS = ['www.example.com', 'api.example.com'];

let server: FakeAlibabaKmsServer;
let api: KmsCertificatesApi;
let pki: TestPki;

beforeAll(async () => {
  server = new FakeAlibabaKmsServer({ regionId: 'cn-shanghai', accountId: '1111222233334444' });
  await server.start();
  api = new KmsCertificatesApi(server.clientOptions());
  pki = await makeTestPki();
});

afterAll(async () => {
  await server.stop();
});

/** The error a promise rejects with (fails the test if it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

async function createRsa(sans: string[] = SANS): Promise<CreatedCertificate> {
  return api.createCertificate({ subject: SUBJECT, subjectAlternativeNames: sans, keySpec: 'RSA_2048' });
}

/** A certificate for the CSR, signed by the test intermediate. */
async function issueFor(created: CreatedCertificate): Promise<string> {
  return signCsr(pki.intermediate, created.csr);
}

/** The DNS SANs a CSR requests. */
function csrDnsNames(csr: x509.Pkcs10CertificateRequest): string[] {
  const ext = csr.getExtension('2.5.29.17');
  return ext ? new x509.SubjectAlternativeNameExtension(ext.rawData).names.items.map((n) => n.value) : [];
}

/** Sends a raw HTTP request to the fake (for replay/tamper checks the client cannot make). */
function rawRequest(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('createCertificate', () => {
  test('returns an ID, an ARN and a parseable CSR carrying the subject and SANs (RSA_2048)', async () => {
    const created = await createRsa();

    expect(created.certificateId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.arn).toBe(`acs:kms:cn-shanghai:1111222233334444:certificate/${created.certificateId}`);
    expect(created.requestId).not.toBe('');
    const csr = new x509.Pkcs10CertificateRequest(created.csr);
    expect(await csr.verify()).toBe(true);
    expect(csr.subjectName.getField('CN')).toEqual(['www.example.com']);
    expect(csr.subjectName.getField('OU')).toEqual(['Platform']);
    expect(csr.subjectName.getField('O')).toEqual(['Example Corp']);
    expect(csr.subjectName.getField('C')).toEqual(['CN']);
    // RFC 2253 lists the most specific RDN first; the DER sequence starts with the country.
    expect(Object.keys(csr.subjectName.toJSON()[0])).toEqual(['C']);
    expect(csrDnsNames(csr)).toEqual(SANS);
    const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);

    const stored = server.certificate(created.certificateId);
    expect(stored?.status).toBe('PENDING');
    expect(stored?.csrPem).toBe(created.csr);
  });

  test('EC_P256 yields a P-256 key and an ECDSA-signed CSR', async () => {
    const created = await api.createCertificate({ subject: SUBJECT, keySpec: 'EC_P256' });

    const csr = new x509.Pkcs10CertificateRequest(created.csr);
    expect(await csr.verify()).toBe(true);
    const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(csrDnsNames(csr)).toEqual([]);
  });

  test('EC_SM2 yields an SM2 key and an SM2-with-SM3 CSR', async () => {
    const created = await api.createCertificate({ subject: SUBJECT, subjectAlternativeNames: ['sm2.example.com'], keySpec: 'EC_SM2' });

    const csr = new x509.Pkcs10CertificateRequest(created.csr);
    // id-ecPublicKey on the SM2 curve (1.2.156.10197.1.301), signed SM2-with-SM3 (1.2.156.10197.1.501).
    expect(Buffer.from(csr.publicKey.rawData).includes(Buffer.from('06082a811ccf5501822d', 'hex'))).toBe(true);
    expect(Buffer.from(csr.rawData).includes(Buffer.from('06082a811ccf55018375', 'hex'))).toBe(true);
    expect(csr.subjectName.getField('CN')).toEqual(['www.example.com']);
    expect(csrDnsNames(csr)).toEqual(['sm2.example.com']);
    expect(server.certificate(created.certificateId)?.publicKeyPem).toBe(
      createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }));
  });

  test('sends every parameter in the query string, ExportablePrivateKey explicitly false, SANs as JSON', async () => {
    const created = await createRsa();

    const request = server.requests.filter((r) => r.action === 'CreateCertificate').pop()!;
    expect(request.method).toBe('POST');
    expect(request.rawBody).toBe('');
    expect(request.queryParams).toEqual({
      Subject: SUBJECT,
      KeySpec: 'RSA_2048',
      ExportablePrivateKey: 'false',
      SubjectAlternativeNames: JSON.stringify(SANS),
    });
    expect(request.headers['x-acs-version']).toBe('2016-01-20');
    expect(request.headers.authorization).toMatch(/^ACS3-HMAC-SHA256 Credential=[^,]+,SignedHeaders=[^,]+,Signature=[0-9a-f]{64}$/);
    expect(server.certificate(created.certificateId)?.exportablePrivateKey).toBe(false);
  });

  test('exportablePrivateKey true is passed through', async () => {
    const created = await api.createCertificate({ subject: SUBJECT, keySpec: 'EC_P256', exportablePrivateKey: true });

    expect(server.certificate(created.certificateId)?.exportablePrivateKey).toBe(true);
  });

  test.each([
    ['a subject without OU', { subject: 'CN=a.example.com,O=Example,C=CN' }, /OU is required/],
    ['a subject without CN', { subject: 'OU=x,O=Example,C=CN' }, /CN is required/],
    ['a lower-case country', { subject: 'CN=a.example.com,OU=x,O=Example,C=cn' }, /two-letter/],
    ['an unsupported attribute', { subject: 'CN=a.example.com,OU=x,O=Example,C=CN,E=a@example.com' }, /unsupported attribute E/],
    ['eleven SANs', { subjectAlternativeNames: Array.from({ length: 11 }, (_, i) => `h${i}.example.com`) }, /at most 10/],
    ['a SAN that is not a domain name', { subjectAlternativeNames: ['not a domain'] }, /not a domain name/],
    ['an unknown key spec', { keySpec: 'RSA_4096' }, /KeySpec is not valid/],
  ])('rejects %s with 400 InvalidParameter', async (_name, override, message) => {
    const before = server.certificates().length;
    const input = { subject: SUBJECT, keySpec: 'RSA_2048', ...override } as Parameters<KmsCertificatesApi['createCertificate']>[0];

    const error = await rejectionOf(api.createCertificate(input));

    expect(kmsErrorCode(error)).toBe('InvalidParameter');
    expect(kmsStatusCode(error)).toBe(400);
    expect(String((error as Error).message)).toMatch(message);
    expect(server.certificates()).toHaveLength(before);
  });

  test('ten SANs are accepted', async () => {
    const sans = Array.from({ length: 10 }, (_, i) => `h${i}.example.com`);

    const created = await api.createCertificate({ subject: SUBJECT, subjectAlternativeNames: sans, keySpec: 'EC_P256' });

    expect(server.certificate(created.certificateId)?.subjectAlternativeNames).toEqual(sans);
  });
});

describe('uploadCertificate', () => {
  test('a certificate issued for the CSR is accepted and the certificate becomes ACTIVE', async () => {
    const created = await createRsa();
    const certificatePem = await issueFor(created);

    await api.uploadCertificate({ certificateId: created.certificateId, certificate: certificatePem, certificateChain: pki.chainPem });

    const issued = new x509.X509Certificate(certificatePem);
    const described = await api.describeCertificate(created.certificateId);
    expect(described).toMatchObject({
      certificateId: created.certificateId,
      arn: created.arn,
      status: 'ACTIVE',
      keySpec: 'RSA_2048',
      subject: SUBJECT,
      subjectAlternativeNames: SANS,
      serialNumber: issued.serialNumber.toLowerCase(),
      notAfter: issued.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      signatureAlgorithm: 'RSA2048-SHA256',
      exportablePrivateKey: false,
    });
    const material = await api.getCertificate(created.certificateId);
    expect(material?.certificate).toBe(certificatePem);
    expect(material?.certificateChain).toBe(pki.chainPem);
    expect(material?.csr).toBe(created.csr);
  });

  test('the PEMs travel in the query string and no private key is ever sent', async () => {
    const created = await createRsa();
    const certificatePem = await issueFor(created);

    await api.uploadCertificate({ certificateId: created.certificateId, certificate: certificatePem });

    const upload = server.requests.filter((r) => r.action === 'UploadCertificate').pop()!;
    expect(upload.queryParams).toEqual({ CertificateId: created.certificateId, Certificate: certificatePem });
    expect(upload.rawBody).toBe('');
    for (const request of server.requests) {
      expect(`${request.rawUrl}\n${request.rawBody}`).not.toMatch(/PRIVATE(%20|\+| )KEY/);
    }
  });

  test('an EC_P256 certificate uploads too', async () => {
    const created = await api.createCertificate({ subject: SUBJECT, keySpec: 'EC_P256' });

    await api.uploadCertificate({ certificateId: created.certificateId, certificate: await issueFor(created) });

    expect(server.certificate(created.certificateId)?.status).toBe('ACTIVE');
  });

  test('a certificate for a different key is rejected with InvalidParameter and nothing changes', async () => {
    const created = await createRsa();

    const error = await rejectionOf(api.uploadCertificate({ certificateId: created.certificateId, certificate: pki.leaf.certificatePem }));

    expect(kmsErrorCode(error)).toBe('InvalidParameter');
    expect(kmsStatusCode(error)).toBe(400);
    expect((error as Error).message).toMatch(/does not match/);
    expect(server.certificate(created.certificateId)?.status).toBe('PENDING');
    expect(server.certificate(created.certificateId)?.certificatePem).toBeUndefined();
  });

  test.each([
    ['garbage', 'not a certificate'],
    ['a CSR instead of a certificate', 'csr'],
    ['a truncated PEM', 'truncated'],
  ])('%s is rejected with InvalidParameter', async (_name, kind) => {
    const created = await createRsa();
    const pem = kind === 'csr'
      ? created.csr
      : kind === 'truncated'
        ? (await issueFor(created)).replace(/-----END CERTIFICATE-----\n?$/, '')
        : kind;

    const error = await rejectionOf(api.uploadCertificate({ certificateId: created.certificateId, certificate: pem }));

    expect(kmsErrorCode(error)).toBe('InvalidParameter');
    expect(server.certificate(created.certificateId)?.status).toBe('PENDING');
  });

  test('a malformed chain is rejected with InvalidParameter', async () => {
    const created = await createRsa();

    const error = await rejectionOf(api.uploadCertificate({
      certificateId: created.certificateId,
      certificate: await issueFor(created),
      certificateChain: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    }));

    expect(kmsErrorCode(error)).toBe('InvalidParameter');
    expect((error as Error).message).toMatch(/CertificateChain/);
  });

  test('an unknown certificate ID is rejected with 404 Forbidden.ResourceNotFound', async () => {
    const error = await rejectionOf(api.uploadCertificate({ certificateId: '00000000-0000-4000-8000-000000000000', certificate: pki.leaf.certificatePem }));

    expect(kmsErrorCode(error)).toBe('Forbidden.ResourceNotFound');
    expect(kmsStatusCode(error)).toBe(404);
    expect(isKmsNotFound(error)).toBe(true);
  });
});

describe('credentials and signatures', () => {
  test('an unknown AccessKeyId gets 404 InvalidAccessKeyId.NotFound', async () => {
    const wrong = new KmsCertificatesApi(server.clientOptions({ credentials: { accessKeyId: 'LTAIunknown', accessKeySecret: 'whatever' } }));

    const error = await rejectionOf(wrong.createCertificate({ subject: SUBJECT, keySpec: 'EC_P256' }));

    expect(kmsErrorCode(error)).toBe('InvalidAccessKeyId.NotFound');
    expect(kmsStatusCode(error)).toBe(404);
    expect(isKmsCredentialError(error)).toBe(true);
  });

  test('a wrong secret gets 400 SignatureDoesNotMatch and creates nothing', async () => {
    const before = server.certificates().length;
    const wrong = new KmsCertificatesApi(server.clientOptions({
      credentials: { accessKeyId: server.credentials.accessKeyId, accessKeySecret: `${server.credentials.accessKeySecret}x` },
    }));

    const error = await rejectionOf(wrong.createCertificate({ subject: SUBJECT, keySpec: 'EC_P256' }));

    expect(kmsErrorCode(error)).toBe('SignatureDoesNotMatch');
    expect(kmsStatusCode(error)).toBe(400);
    expect(isKmsCredentialError(error)).toBe(true);
    expect(server.certificates()).toHaveLength(before);
  });

  test('STS credentials work with their token and fail with another', async () => {
    server.addCredential({ accessKeyId: 'STS.testkey', accessKeySecret: 'sts-secret', securityToken: 'token-1' });
    const sts = new KmsCertificatesApi(server.clientOptions({
      credentials: { accessKeyId: 'STS.testkey', accessKeySecret: 'sts-secret', securityToken: 'token-1' },
    }));
    const stale = new KmsCertificatesApi(server.clientOptions({
      credentials: { accessKeyId: 'STS.testkey', accessKeySecret: 'sts-secret', securityToken: 'token-0' },
    }));

    const created = await sts.createCertificate({ subject: SUBJECT, keySpec: 'EC_P256' });
    const error = await rejectionOf(stale.describeCertificate(created.certificateId));

    expect(server.certificate(created.certificateId)).toBeDefined();
    expect(kmsErrorCode(error)).toBe('InvalidSecurityToken.MismatchWithAccessKey');
  });

  test('a replayed request is refused (nonce) and a tampered one fails the signature', async () => {
    const created = await createRsa();
    await api.describeCertificate(created.certificateId);
    const original = server.requests.filter((r) => r.action === 'DescribeCertificate' && r.status === 200).pop()!;
    const headers = { ...original.headers };
    delete headers.connection;

    const replay = await rawRequest(original.method, original.rawUrl, headers);
    const tampered = await rawRequest(original.method, original.rawUrl.replace(created.certificateId, '00000000-0000-4000-8000-000000000000'), headers);

    expect(replay.status).toBe(400);
    expect(replay.body.Code).toBe('SignatureNonceUsed');
    expect(tampered.status).toBe(400);
    expect(tampered.body.Code).toBe('SignatureDoesNotMatch');
    expect(tampered.body).toEqual(expect.objectContaining({ RequestId: expect.any(String), HostId: 'kms.cn-shanghai.aliyuncs.com', Recommend: expect.any(String) }));
  });

  test('an unsigned x-acs-* header is refused as an incomplete signature', async () => {
    await api.describeCertificate('00000000-0000-4000-8000-000000000001');
    const original = server.requests.filter((r) => r.action === 'DescribeCertificate').pop()!;
    const headers: Record<string, string> = { ...original.headers, 'x-acs-extra': 'added-after-signing' };
    delete headers.connection;

    const response = await rawRequest(original.method, original.rawUrl, headers);

    expect(response.status).toBe(400);
    expect(response.body.Code).toBe('IncompleteSignature');
  });

  test('an action KMS does not have (ListCertificates) gets 404 InvalidAction.NotFound', async () => {
    const options: KmsClientOptions = server.clientOptions();
    const client = new OpenApiClient(new Config({
      accessKeyId: options.credentials.accessKeyId,
      accessKeySecret: options.credentials.accessKeySecret,
      endpoint: options.endpoint,
      protocol: 'http',
      regionId: options.regionId,
      signatureAlgorithm: 'ACS3-HMAC-SHA256',
    }));
    const params = new Params({
      action: 'ListCertificates',
      version: '2016-01-20',
      protocol: 'HTTP',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });

    const error = await rejectionOf(client.callApi(params, new OpenApiRequest({ query: {} }), {} as Parameters<OpenApiClient['callApi']>[2]));

    expect(kmsErrorCode(error)).toBe('InvalidAction.NotFound');
    expect(kmsStatusCode(error)).toBe(404);
  });
});

describe('describe, status and delete', () => {
  test('describe and get of an unknown ID return undefined', async () => {
    await expect(api.describeCertificate('00000000-0000-4000-8000-000000000002')).resolves.toBeUndefined();
    await expect(api.getCertificate('00000000-0000-4000-8000-000000000002')).resolves.toBeUndefined();
  });

  test('a PENDING certificate describes without validity or serial', async () => {
    const created = await createRsa();

    const described = await api.describeCertificate(created.certificateId);

    expect(described?.status).toBe('PENDING');
    expect(described?.serialNumber).toBeUndefined();
    expect(described?.notAfter).toBeUndefined();
    expect(described?.subjectPublicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  test('updateCertificateStatus moves ACTIVE -> INACTIVE -> ACTIVE -> REVOKED, and REVOKED is final', async () => {
    const created = await createRsa();
    await api.uploadCertificate({ certificateId: created.certificateId, certificate: await issueFor(created) });

    await api.updateCertificateStatus(created.certificateId, 'INACTIVE');
    expect((await api.describeCertificate(created.certificateId))?.status).toBe('INACTIVE');
    await api.updateCertificateStatus(created.certificateId, 'ACTIVE');
    expect((await api.describeCertificate(created.certificateId))?.status).toBe('ACTIVE');
    await api.updateCertificateStatus(created.certificateId, 'REVOKED');
    expect(server.certificate(created.certificateId)?.status).toBe('REVOKED');

    const error = await rejectionOf(api.updateCertificateStatus(created.certificateId, 'ACTIVE'));
    expect(kmsErrorCode(error)).toBe('InvalidParameter');
    expect(server.certificate(created.certificateId)?.status).toBe('REVOKED');
  });

  test('updateCertificateStatus of an unknown ID is a not-found error', async () => {
    const error = await rejectionOf(api.updateCertificateStatus('00000000-0000-4000-8000-000000000003', 'INACTIVE'));

    expect(isKmsNotFound(error)).toBe(true);
  });

  test('deleteCertificate removes it; deleting again or an unknown ID succeeds', async () => {
    const created = await createRsa();

    await expect(api.deleteCertificate(created.certificateId)).resolves.toBe(true);
    expect(server.certificate(created.certificateId)).toBeUndefined();
    await expect(api.describeCertificate(created.certificateId)).resolves.toBeUndefined();
    await expect(api.deleteCertificate(created.certificateId)).resolves.toBe(false);
    await expect(api.deleteCertificate('00000000-0000-4000-8000-000000000004')).resolves.toBe(false);
  });

  test('tags are added, described and removed; more than ten are refused', async () => {
    const created = await createRsa();

    await api.tagCertificate(created.certificateId, { 'cdk-certificates:owner': 'stack/Web', 'env': 'test' });
    expect((await api.describeCertificate(created.certificateId))?.tags).toEqual({ 'cdk-certificates:owner': 'stack/Web', 'env': 'test' });
    await api.untagCertificate(created.certificateId, ['env']);
    expect((await api.describeCertificate(created.certificateId))?.tags).toEqual({ 'cdk-certificates:owner': 'stack/Web' });

    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v']));
    const error = await rejectionOf(api.tagCertificate(created.certificateId, many));
    expect(kmsErrorCode(error)).toBe('InvalidParameter');
    expect(server.certificate(created.certificateId)?.tags).toEqual({ 'cdk-certificates:owner': 'stack/Web' });
  });
});

describe('faults', () => {
  test('injected throttling surfaces a recognisable code; the next call succeeds', async () => {
    const created = await createRsa();
    const calls = server.callCount('DescribeCertificate');
    server.failNext('DescribeCertificate', 'Throttling.User', 400);

    const error = await rejectionOf(api.describeCertificate(created.certificateId));

    expect(kmsErrorCode(error)).toBe('Throttling.User');
    expect(isKmsThrottling(error)).toBe(true);
    expect(isKmsTransient(error)).toBe(true);
    expect(isKmsNotFound(error)).toBe(false);
    expect(isKmsNetworkError(error)).toBe(false);
    await expect(api.describeCertificate(created.certificateId)).resolves.toMatchObject({ status: 'PENDING' });
    // The layer never retries on its own: one failed call, one good call.
    expect(server.callCount('DescribeCertificate')).toBe(calls + 2);
  });

  test('a 500 is transient but not throttling, and the upload did not happen', async () => {
    const created = await createRsa();
    server.failNext('UploadCertificate', 'InternalError', 500);

    const error = await rejectionOf(api.uploadCertificate({ certificateId: created.certificateId, certificate: await issueFor(created) }));

    expect(kmsStatusCode(error)).toBe(500);
    expect(isKmsTransient(error)).toBe(true);
    expect(isKmsThrottling(error)).toBe(false);
    expect(server.certificate(created.certificateId)?.status).toBe('PENDING');
  });

  test('a CreateCertificate whose reply is lost leaves a certificate the caller never learns about', async () => {
    const before = new Set(server.certificates().map((c) => c.certificateId));
    server.dropNext('CreateCertificate');

    const error = await rejectionOf(createRsa());

    expect(isKmsNetworkError(error)).toBe(true);
    expect(kmsStatusCode(error)).toBeUndefined();
    const orphans = server.certificates().filter((c) => !before.has(c.certificateId));
    expect(orphans).toHaveLength(1);
    expect(orphans[0].status).toBe('PENDING');
    await api.deleteCertificate(orphans[0].certificateId);
  });

  test('a fault injected after processing reports an error although the action took effect', async () => {
    const created = await createRsa();
    server.failNext('DeleteCertificate', 'ServiceUnavailable', 503, { afterProcessing: true });

    const error = await rejectionOf(api.deleteCertificate(created.certificateId));

    expect(isKmsTransient(error)).toBe(true);
    expect(server.certificate(created.certificateId)).toBeUndefined();
    await expect(api.deleteCertificate(created.certificateId)).resolves.toBe(false);
  });
});
