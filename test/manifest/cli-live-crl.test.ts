/**
 * `cdk-certificates check --live`: revocation from the CRL of a certificate's CRL Distribution Points
 * extension. CRLs and certificates are generated at test time by @peculiar/x509; the checker
 * (./live-check.ts) fetches them through a stub `fetchCrl`, and the live binding (./live.ts) through a
 * real HTTP server on 127.0.0.1.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import { fetchCrlOverHttp, sdkServices } from '../../src/manifest/cli/live';
import { checkLiveStack, LiveServices, renderLiveTable, ServiceCertificate, StackResource } from '../../src/manifest/cli/live-check';
import { makeRootCa, TestCertificate } from '../support/fixtures/pki';

const DAY_MS = 24 * 60 * 60 * 1000;
const CRL_URL = 'http://crl.example.test/ca.crl';
const SIGNING: RsaHashedImportParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

let ca: TestCertificate;
let otherCa: TestCertificate;
let revokedPem: string;
let goodPem: string;
let noDpPem: string;
const REVOKED_SERIAL = '0a11ce';
const REVOKED_AT = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

async function leaf(
  serialNumber: string, crlUrls: string[], issuer?: TestCertificate, signingAlgorithm: Algorithm | EcdsaParams = SIGNING,
): Promise<string> {
  const keys = await x509.cryptoProvider.get().subtle.generateKey(
    { ...SIGNING, publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }, true, ['sign', 'verify']) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: `CN=leaf-${serialNumber}.example.com`,
    issuer: (issuer ?? ca).certificate.subjectName,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 365 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: (issuer ?? ca).keys.privateKey,
    signingAlgorithm,
    extensions: crlUrls.length > 0 ? [new x509.CRLDistributionPointsExtension(crlUrls)] : [],
  });
  return cert.toString('pem') + '\n';
}

async function crl(signer: TestCertificate, nextUpdate: Date = new Date(Date.now() + 7 * DAY_MS),
  issuer: TestCertificate = ca, signingAlgorithm: Algorithm | EcdsaParams = SIGNING): Promise<Uint8Array> {
  const list = await x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subjectName,
    thisUpdate: new Date(Date.now() - DAY_MS),
    nextUpdate,
    entries: [{ serialNumber: REVOKED_SERIAL, revocationDate: REVOKED_AT, reason: x509.X509CrlReason.keyCompromise }],
    signingKey: signer.keys.privateKey,
    signingAlgorithm,
  });
  return new Uint8Array(list.rawData);
}

beforeAll(async () => {
  ca = await makeRootCa({ commonName: 'CRL Test CA' });
  otherCa = await makeRootCa({ commonName: 'Another CA' });
  revokedPem = await leaf(REVOKED_SERIAL, [CRL_URL]);
  goodPem = await leaf('0b0b', [CRL_URL]);
  noDpPem = await leaf('0c0c', []);
});

const RESOURCES: StackResource[] = [
  { logicalId: 'Revoked', physicalId: 'revoked', type: 'Custom::ServerCertificate' },
  { logicalId: 'Good', physicalId: 'good', type: 'Custom::DmsCertificate' },
];

function services(fetchCrl: LiveServices['fetchCrl'], byId?: Record<string, ServiceCertificate>): LiveServices {
  const table: Record<string, ServiceCertificate> = byId ?? {
    revoked: { certificatePem: revokedPem, chainPem: ca.certificatePem },
    good: { certificatePem: goodPem, chainPem: ca.certificatePem },
  };
  const get = async (id: string) => table[id];
  return {
    stackResources: async () => RESOURCES,
    iamServerCertificate: get,
    dmsCertificate: get,
    lightsailCertificate: get,
    acmCertificate: get,
    privateCaCertificate: get,
    privateCaIssuedCertificate: async (_ca, id) => table[id],
    fetchCrl,
  };
}

const check = (s: LiveServices, resources: StackResource[] = RESOURCES) =>
  checkLiveStack({ stackName: 'App', minDays: 30, now: new Date(), services: s, resources });

describe('check --live: revocation from the CRL', () => {
  test('the certificate the CRL lists is revoked (date and reason); the other is ok; the CRL is fetched once', async () => {
    const body = await crl(ca);
    const fetched: string[] = [];
    const report = await check(services(async (url) => { fetched.push(url); return body; }));
    const [revoked, good] = report.certificates;
    expect(revoked.status).toBe('revoked');
    expect(revoked.problems[0]).toEqual({
      code: 'revoked',
      message: `the CRL ${CRL_URL} lists it as revoked on 2026-01-02T03:04:05.000Z, reason keyCompromise; replace it`,
    });
    expect(revoked.notes).toBeUndefined();
    expect(good.status).toBe('ok');
    expect(good.problems).toEqual([]);
    expect(good.notes).toBeUndefined();
    expect(fetched).toEqual([CRL_URL]);
    expect(report.offenders.map((c) => c.logicalId)).toEqual(['Revoked']);
    expect(renderLiveTable(report)).toContain(`the CRL ${CRL_URL} lists it as revoked`);
  });

  test('an ECDSA (P-256) CA and its CRL', async () => {
    const ecCa = await makeRootCa({ commonName: 'EC CRL Test CA', keyAlgorithm: 'EC_P256' });
    const ecdsa: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
    const body = await crl(ecCa, undefined, ecCa, ecdsa);
    const report = await check(services(async () => body, {
      revoked: { certificatePem: await leaf(REVOKED_SERIAL, [CRL_URL], ecCa, ecdsa), chainPem: ecCa.certificatePem },
      good: { certificatePem: await leaf('0e0e', [CRL_URL], ecCa, ecdsa), chainPem: ecCa.certificatePem },
    }));
    expect(report.certificates.map((c) => [c.status, c.notes])).toEqual([['revoked', undefined], ['ok', undefined]]);
  });

  test('a PEM CRL is read too', async () => {
    const list = new x509.X509Crl(await crl(ca));
    const report = await check(services(async () => new Uint8Array(Buffer.from(list.toString('pem')))));
    expect(report.certificates.map((c) => c.status)).toEqual(['revoked', 'ok']);
  });

  test('what is not a CRL is unreadable: a note', async () => {
    const report = await check(services(async () => new Uint8Array(Buffer.from('<html>not here</html>'))));
    expect(report.certificates.map((c) => c.status)).toEqual(['ok', 'ok']);
    expect(report.certificates[0].notes).toEqual([expect.stringMatching(new RegExp(`^revocation not checked: CRL ${CRL_URL} unreadable \\(`))]);
  });

  test('an unreachable CRL is a note, not a failure', async () => {
    const report = await check(services(async () => { throw new Error('connect ECONNREFUSED'); }));
    expect(report.certificates.map((c) => c.status)).toEqual(['ok', 'ok']);
    expect(report.certificates[0].notes).toEqual([`revocation not checked: CRL ${CRL_URL} unreachable (connect ECONNREFUSED)`]);
    expect(renderLiveTable(report)).toContain(`Revoked: revocation not checked: CRL ${CRL_URL} unreachable`);
  });

  test('a CRL signed by another key is invalid: not trusted, revocation not checked', async () => {
    const body = await crl(otherCa);
    const report = await check(services(async () => body));
    expect(report.certificates.map((c) => c.status)).toEqual(['ok', 'ok']);
    expect(report.certificates[0].notes).toEqual([
      expect.stringMatching(new RegExp(`^revocation not checked: CRL ${CRL_URL} is invalid: its signature does not verify with the issuer CN=CRL Test CA`)),
    ]);
  });

  test('without the issuer in the chain, the CRL is used but its signature not verified; a stale CRL is a warning', async () => {
    const body = await crl(ca, new Date(Date.now() - DAY_MS));
    const report = await check(services(async () => body, {
      revoked: { certificatePem: revokedPem },
      good: { certificatePem: goodPem },
    }));
    expect(report.certificates.map((c) => c.status)).toEqual(['revoked', 'ok']);
    expect(report.certificates[1].notes).toEqual([
      expect.stringContaining('CRL signature not verified'),
      expect.stringMatching(/^warning: CRL .* is stale/),
    ]);
  });

  test('no CRL distribution point, or no fetchCrl, is a note', async () => {
    const report = await check(services(undefined, {
      revoked: { certificatePem: noDpPem, chainPem: ca.certificatePem },
      good: { certificatePem: goodPem, chainPem: ca.certificatePem },
    }));
    expect(report.certificates.map((c) => [c.status, c.notes])).toEqual([
      ['ok', ['revocation not checked: no CRL distribution point']],
      ['ok', [`revocation not checked: CRLs are not fetched here (${CRL_URL})`]],
    ]);
  });
});

describe('check --live: the live binding fetches CRLs over http', () => {
  let server: http.Server;
  let base: string;
  let body: Uint8Array;
  beforeAll(async () => {
    body = await crl(ca);
    server = http.createServer((req, res) => {
      if (req.url === '/ca.crl') {
        res.writeHead(200, { 'content-type': 'application/pkix-crl' });
        res.end(Buffer.from(body));
      } else if (req.url === '/moved.crl') {
        res.writeHead(302, { location: '/ca.crl' });
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('sdkServices().fetchCrl reads the CRL a certificate names, and the checker reports it revoked', async () => {
    const url = `${base}/moved.crl`;
    const binding = sdkServices({ region: 'us-east-1' });
    const s = services(binding.fetchCrl!.bind(binding), {
      revoked: { certificatePem: await leaf(REVOKED_SERIAL, [url]), chainPem: ca.certificatePem },
      good: { certificatePem: await leaf('0d0d', [url]), chainPem: ca.certificatePem },
    });
    const report = await check(s);
    expect(report.certificates.map((c) => [c.status, c.notes])).toEqual([['revoked', undefined], ['ok', undefined]]);
  });

  test('a 404 and a refused connection are reasons', async () => {
    await expect(fetchCrlOverHttp(`${base}/nothing.crl`)).rejects.toThrow('HTTP 404');
    await expect(fetchCrlOverHttp('http://127.0.0.1:1/ca.crl')).rejects.toThrow(/ECONNREFUSED/);
  });
});
