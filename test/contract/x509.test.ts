import { createHash, X509Certificate } from 'node:crypto';
import {
  CertificateCheckError,
  checkCertificateBody,
  checkCertificateChain,
  checkPrivateKey,
  checkPrivateKeyMatchesCertificate,
  daysUntil,
  loadPrivateKey,
  parseCertificates,
  parsePemBlocks,
  summarizeCertificate,
  summarizeCertificates,
  toPem,
} from '../../src/contract/x509';
import {
  exportPrivateKeyPem,
  makeIntermediateCa,
  makeLeaf,
  makeRootCa,
  makeTestPki,
  TestCertificate,
  TestPki,
} from '../support/fixtures/pki';

/** Parses strictly and re-emits every block canonically (what the removed normalizePem did). */
function normalizePem(text: string, property: string): string {
  return parsePemBlocks(text, property).map(toPem).join('');
}

const DAY_MS = 24 * 60 * 60 * 1000;

let pki: TestPki;
/** A second, unrelated (EC P-256) hierarchy. */
let otherRoot: TestCertificate;
let otherIntermediate: TestCertificate;
/** An EC hierarchy: P-384 root, P-256 intermediate and leaf. */
let ecRoot: TestCertificate;
let ecIntermediate: TestCertificate;
let ecLeaf: TestCertificate;

beforeAll(async () => {
  pki = await makeTestPki();
  otherRoot = await makeRootCa({ commonName: 'Other Root CA', keyAlgorithm: 'EC_P256' });
  otherIntermediate = await makeIntermediateCa(otherRoot, { commonName: 'Other Intermediate CA', keyAlgorithm: 'EC_P256' });
  ecRoot = await makeRootCa({ commonName: 'EC Root CA', keyAlgorithm: 'EC_P384' });
  ecIntermediate = await makeIntermediateCa(ecRoot, { commonName: 'EC Intermediate CA', keyAlgorithm: 'EC_P256' });
  ecLeaf = await makeLeaf(ecIntermediate, { commonName: 'ec.example.com', keyAlgorithm: 'EC_P256' });
});

/** Runs `fn`, expects a CertificateCheckError for `property`, returns it. */
function expectCheckError(fn: () => unknown, property: string, rule: RegExp): CertificateCheckError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CertificateCheckError);
  const err = caught as CertificateCheckError;
  expect(err.name).toBe('CertificateCheckError');
  expect(err.property).toBe(property);
  expect(err.message).toBe(`${property}: ${err.rule}`);
  expect(err.rule).toMatch(rule);
  return err;
}

/** The base64 body lines of a PEM text (what must never be echoed). */
function bodyLines(pem: string): string[] {
  return pem.split('\n').map((l) => l.trim()).filter((l) => l.length >= 16 && !l.startsWith('-----') && !l.includes(':'));
}

function expectNoKeyText(message: string, keyPem: string): void {
  const lines = bodyLines(keyPem);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    expect(message).not.toContain(line.slice(0, 16));
  }
}

/** Replaces the base64 body of the first block with `body`. */
function withBody(pem: string, body: string): string {
  const lines = pem.trim().split('\n');
  return `${lines[0]}\n${body}\n${lines[lines.length - 1]}\n`;
}

describe('parsePemBlocks', () => {
  test('parses one certificate block, matching the DER node sees', () => {
    const blocks = parsePemBlocks(pki.leaf.certificatePem, 'certificateBody');
    expect(blocks).toHaveLength(1);
    expect(blocks[0].label).toBe('CERTIFICATE');
    expect(blocks[0].base64).toBe(new X509Certificate(pki.leaf.certificatePem).raw.toString('base64'));
    expect(blocks[0].headers).toEqual({});
  });

  test('parses several blocks with CRLF endings, a BOM and surrounding whitespace', () => {
    const text = '\uFEFF\n  ' + (pki.intermediate.certificatePem + '\n\n' + pki.root.certificatePem).replace(/\n/g, '\r\n') + '  \n';
    const blocks = parsePemBlocks(text, 'certificateChain');
    expect(blocks.map((b) => b.label)).toEqual(['CERTIFICATE', 'CERTIFICATE']);
    expect(blocks[1].base64).toBe(new X509Certificate(pki.root.certificatePem).raw.toString('base64'));
  });

  test('reads RFC 1421 headers of legacy encrypted keys', () => {
    const encrypted = exportPrivateKeyPem(pki.unrelatedKey, 'pkcs1', 'test-passphrase');
    const [block] = parsePemBlocks(encrypted, 'privateKey');
    expect(block.label).toBe('RSA PRIVATE KEY');
    expect(block.headers['Proc-Type']).toBe('4,ENCRYPTED');
    expect(block.headers['DEK-Info']).toMatch(/^AES-256-CBC,/);
  });

  test.each([
    ['empty text', '', /^is empty/],
    ['whitespace only', ' \n\t\n', /^is empty/],
    ['no armour', 'just some text', /^is not PEM text: no -----BEGIN line found$/],
  ])('rejects %s', (_name, text, rule) => {
    expectCheckError(() => parsePemBlocks(text, 'certificateBody'), 'certificateBody', rule);
  });

  test('rejects invalid base64 characters', () => {
    const bad = withBody(pki.leaf.certificatePem, bodyLines(pki.leaf.certificatePem)[0].replace(/^..../, 'MI*A'));
    expectCheckError(() => parsePemBlocks(bad, 'certificateBody'), 'certificateBody', /^block 1 \(CERTIFICATE\) is not valid base64$/);
  });

  test('rejects base64 of the wrong length', () => {
    const lines = pki.leaf.certificatePem.trim().split('\n');
    lines[1] = lines[1].slice(1);
    expectCheckError(() => parsePemBlocks(lines.join('\n'), 'certificateBody'), 'certificateBody', /^block 1 \(CERTIFICATE\) is not valid base64$/);
  });

  test('rejects mismatched BEGIN/END labels without echoing the body', () => {
    const mismatched = pki.leaf.privateKeyPem.replace('-----END PRIVATE KEY-----', '-----END CERTIFICATE-----');
    const err = expectCheckError(() => parsePemBlocks(mismatched, 'privateKey'), 'privateKey',
      // (PEM armour written with a class, so no key-looking literal sits in the source)
      /^block 1: -----BEGIN PRIVATE[ ]KEY----- does not match -----END CERTIFICATE-----$/);
    expectNoKeyText(err.message, pki.leaf.privateKeyPem);
  });

  test('rejects a block without an END line', () => {
    const cut = pki.leaf.certificatePem.replace('-----END CERTIFICATE-----', '');
    expectCheckError(() => parsePemBlocks(cut, 'certificateBody'), 'certificateBody', /^block 1 \(CERTIFICATE\) has no -----END CERTIFICATE----- line$/);
  });

  test('rejects a block whose END line is missing before the next BEGIN', () => {
    const text = pki.intermediate.certificatePem.replace('-----END CERTIFICATE-----', '') + pki.root.certificatePem;
    expectCheckError(() => parsePemBlocks(text, 'certificateChain'), 'certificateChain', /^block 1 \(CERTIFICATE\) has no -----END/);
  });

  test('rejects garbage between, before and after blocks without echoing it', () => {
    const between = pki.intermediate.certificatePem + 'SECRET-GARBAGE\n' + pki.root.certificatePem;
    const err = expectCheckError(() => parsePemBlocks(between, 'certificateChain'), 'certificateChain', /\(between blocks 1 and 2\)/);
    expect(err.message).not.toContain('SECRET-GARBAGE');
    expectCheckError(() => parsePemBlocks('Bag Attributes\n' + pki.root.certificatePem, 'certificateChain'), 'certificateChain',
      /^has text outside the PEM blocks \(before block 1\)/);
    expectCheckError(() => parsePemBlocks(pki.root.certificatePem + 'trailer', 'certificateChain'), 'certificateChain',
      /^has text outside the PEM blocks \(after block 1\)/);
  });

  test('names literal \\n sequences', () => {
    const escaped = pki.intermediate.certificatePem.trim() + '\\n' + pki.root.certificatePem;
    expectCheckError(() => parsePemBlocks(escaped, 'certificateChain'), 'certificateChain', /literal "\\n" sequences/);
  });

  test('rejects an END line without a BEGIN line', () => {
    expectCheckError(() => parsePemBlocks('-----END CERTIFICATE-----\n', 'certificateBody'), 'certificateBody', /-----END line without a matching -----BEGIN/);
    expectCheckError(() => parsePemBlocks(pki.root.certificatePem + '-----END CERTIFICATE-----\n', 'certificateBody'), 'certificateBody',
      /-----END line without a matching -----BEGIN line \(after block 1\)/);
  });

  test('rejects malformed BEGIN and END lines', () => {
    const lower = pki.root.certificatePem.replace('BEGIN CERTIFICATE', 'BEGIN certificate');
    expectCheckError(() => parsePemBlocks(lower, 'certificateBody'), 'certificateBody', /^block 1 has a malformed -----BEGIN line/);
    const badEnd = pki.root.certificatePem.replace('-----END CERTIFICATE-----', '-----END CERTIFICATE');
    expectCheckError(() => parsePemBlocks(badEnd, 'certificateBody'), 'certificateBody', /^block 1 \(CERTIFICATE\) has a malformed -----END line/);
  });

  test('rejects an empty block and headers without a blank line', () => {
    expectCheckError(() => parsePemBlocks('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', 'certificateBody'), 'certificateBody',
      /^block 1 \(CERTIFICATE\) is empty$/);
    const noBlank = exportPrivateKeyPem(pki.unrelatedKey, 'pkcs1', 'pw').replace(/\n\n/, '\n');
    expectCheckError(() => parsePemBlocks(noBlank, 'privateKey'), 'privateKey', /header lines not followed by a blank line/);
  });

  test('toPem and normalizePem re-emit canonical 64-column PEM', () => {
    const oneLine = pki.leaf.certificatePem.trim().split('\n').join(' ');
    const normalized = normalizePem(oneLine, 'certificateBody');
    expect(normalized).toBe(toPem(parsePemBlocks(pki.leaf.certificatePem, 'certificateBody')[0]));
    expect(normalized.split('\n').every((l) => l.length <= 64)).toBe(true);
    expect(new X509Certificate(normalized).fingerprint256).toBe(new X509Certificate(pki.leaf.certificatePem).fingerprint256);
    // Headers survive a round trip, so a legacy encrypted key stays decryptable.
    const encrypted = exportPrivateKeyPem(pki.unrelatedKey, 'pkcs1', 'pw');
    expect(normalizePem(encrypted, 'privateKey')).toBe(encrypted);
  });
});

describe('parseCertificates', () => {
  test('parses every certificate of a chain, in order', () => {
    const certs = parseCertificates(pki.chainPem, 'certificateChain');
    expect(certs.map((c) => c.fingerprint256)).toEqual([
      new X509Certificate(pki.intermediate.certificatePem).fingerprint256,
      new X509Certificate(pki.root.certificatePem).fingerprint256,
    ]);
  });

  test.each([
    ['PKCS#8', (k: TestCertificate) => k.privateKeyPem],
    ['PKCS#1', (k: TestCertificate) => exportPrivateKeyPem(k, 'pkcs1')],
    ['encrypted PKCS#8', (k: TestCertificate) => exportPrivateKeyPem(k, 'pkcs8', 'pw')],
    ['key and certificate combined', (k: TestCertificate) => k.privateKeyPem + k.certificatePem],
  ])('a %s private key passed as the body gets its own message, without the key', (_name, keyOf) => {
    const keyPem = keyOf(pki.leaf);
    const err = expectCheckError(() => parseCertificates(keyPem, 'certificateBody'), 'certificateBody',
      /^holds a private key; pass the certificate here and the key as privateKey$/);
    expect(err.message).toBe('certificateBody: holds a private key; pass the certificate here and the key as privateKey');
    expectNoKeyText(err.message, keyPem);
  });

  test('an EC (SEC1) private key passed as the body is recognised', () => {
    const sec1 = exportPrivateKeyPem(ecLeaf, 'sec1');
    expect(sec1).toMatch(/^-----BEGIN EC PRIVATE[ ]KEY-----\n/);
    const err = expectCheckError(() => parseCertificates(sec1, 'certificateBody'), 'certificateBody', /^holds a private key/);
    expectNoKeyText(err.message, sec1);
  });

  test('rejects other block types and blocks that are not certificates', () => {
    expectCheckError(() => parseCertificates(pki.root.certificatePem + pki.leaf.publicKeyPem, 'certificateChain'), 'certificateChain',
      /^block 2 is a PUBLIC KEY, expected CERTIFICATE$/);
    const notDer = withBody(pki.leaf.certificatePem, Buffer.from('definitely not DER').toString('base64'));
    expectCheckError(() => parseCertificates(notDer, 'certificateBody'), 'certificateBody',
      /^block 1 \(CERTIFICATE\) is not a valid X\.509 certificate$/);
  });
});

describe('checkCertificateBody', () => {
  test('accepts one valid certificate and summarises it', () => {
    const result = checkCertificateBody(pki.leaf.certificatePem, 'certificateBody');
    expect(result.warnings).toEqual([]);
    expect(result.certificates).toHaveLength(1);
    expect(result.certificates[0].commonName).toBe('www.example.com');
  });

  test('rejects two certificates', () => {
    const err = expectCheckError(() => checkCertificateBody(pki.leaf.certificatePem + pki.intermediate.certificatePem, 'certificateBody'),
      'certificateBody', /^must contain exactly one certificate, found 2/);
    expect(err.message.startsWith('certificateBody: must contain exactly one certificate, found 2')).toBe(true);
  });

  test('rejects an expired certificate, naming notAfter', () => {
    const notAfter = new Date(pki.expiredLeaf.certificate.notAfter).toISOString();
    expectCheckError(() => checkCertificateBody(pki.expiredLeaf.certificatePem, 'certificateBody'), 'certificateBody',
      new RegExp(`^the certificate has expired: notAfter ${notAfter.replace(/\./g, '\\.')}`));
  });

  test('rejects a certificate that is not valid yet', async () => {
    const future = await makeLeaf(pki.intermediate, {
      commonName: 'future.example.com', notBefore: new Date(Date.now() + 5 * DAY_MS), keyAlgorithm: 'EC_P256',
    });
    expectCheckError(() => checkCertificateBody(future.certificatePem, 'certificateBody'), 'certificateBody',
      /^the certificate is not valid yet: notBefore \S+ is after/);
  });

  test('honours options.now', () => {
    const leaf = pki.leaf.certificate;
    const afterExpiry = new Date(leaf.notAfter.getTime() + DAY_MS);
    expectCheckError(() => checkCertificateBody(pki.leaf.certificatePem, 'certificateBody', { now: afterExpiry }), 'certificateBody', /has expired/);
    const beforeStart = new Date(leaf.notBefore.getTime() - DAY_MS);
    expectCheckError(() => checkCertificateBody(pki.leaf.certificatePem, 'certificateBody', { now: beforeStart }), 'certificateBody', /not valid yet/);
    // The expired fixture was valid a few days before it expired (and then close to expiry).
    const whileValid = new Date(pki.expiredLeaf.certificate.notAfter.getTime() - 3 * DAY_MS);
    const result = checkCertificateBody(pki.expiredLeaf.certificatePem, 'certificateBody', { now: whileValid });
    expect(result.warnings).toHaveLength(1);
  });

  test('warns (without failing) when expiring within 30 days', () => {
    const now = new Date();
    const result = checkCertificateBody(pki.expiringLeaf.certificatePem, 'certificateBody', { now });
    const expectedDays = Math.ceil((pki.expiringLeaf.certificate.notAfter.getTime() - now.getTime()) / DAY_MS);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(new RegExp(`^certificateBody: the certificate expires within ${expectedDays} day\\(s\\) \\(notAfter .*\\), inside the 30-day warning window$`));
    expect(result.certificates).toHaveLength(1);
  });

  test('gives no warning 40 days out, and honours expiryWarningDays', async () => {
    const forty = await makeLeaf(pki.intermediate, {
      commonName: 'forty.example.com', notAfter: new Date(Date.now() + 40 * DAY_MS), keyAlgorithm: 'EC_P256',
    });
    expect(checkCertificateBody(forty.certificatePem, 'certificateBody').warnings).toEqual([]);
    expect(checkCertificateBody(forty.certificatePem, 'certificateBody', { expiryWarningDays: 45 }).warnings).toEqual([
      expect.stringMatching(/inside the 45-day warning window$/),
    ]);
    expect(checkCertificateBody(pki.expiringLeaf.certificatePem, 'certificateBody', { expiryWarningDays: 5 }).warnings).toEqual([]);
  });
});

describe('checkCertificateChain', () => {
  test('accepts a leaf-to-root chain that issues the leaf', () => {
    const result = checkCertificateChain(pki.chainPem, 'certificateChain', pki.leaf.certificatePem);
    expect(result.warnings).toEqual([]);
    expect(result.certificates.map((c) => c.subject)).toEqual(['CN=Test Intermediate CA', 'CN=Test Root CA']);
  });

  test('accepts a chain without a leaf, a chain without its root, and a mixed-algorithm chain', () => {
    expect(checkCertificateChain(pki.chainPem, 'certificateChain').certificates).toHaveLength(2);
    expect(checkCertificateChain(pki.intermediate.certificatePem, 'certificateChain', pki.leaf.certificatePem).certificates).toHaveLength(1);
    const ecChain = ecIntermediate.certificatePem + ecRoot.certificatePem;
    expect(checkCertificateChain(ecChain, 'certificateChain', ecLeaf.certificatePem).certificates.map((c) => c.curve)).toEqual(['P-256', 'P-384']);
  });

  test('rejects a reversed chain (root before intermediate), with or without the leaf', () => {
    const reversed = pki.root.certificatePem + pki.intermediate.certificatePem;
    for (const leaf of [undefined, pki.leaf.certificatePem]) {
      expectCheckError(() => checkCertificateChain(reversed, 'certificateChain', leaf), 'certificateChain',
        /^is in root-to-leaf order \(position 1 is CN=Test Root CA\); reverse it: order the chain leaf-to-root/);
    }
  });

  test('rejects a chain that contains the leaf itself', () => {
    const withLeaf = pki.leaf.certificatePem + pki.chainPem;
    expectCheckError(() => checkCertificateChain(withLeaf, 'certificateChain', pki.leaf.certificatePem), 'certificateChain',
      /^position 1 \(CN=www\.example\.com\) is the certificate in certificateBody itself; the chain holds only its issuers/);
    const leafLast = pki.chainPem + pki.leaf.certificatePem;
    expectCheckError(() => checkCertificateChain(leafLast, 'certificateChain', pki.leaf.certificatePem, { leafProperty: 'certificatePem' }),
      'certificateChain', /^position 3 \(CN=www\.example\.com\) is the certificate in certificatePem itself/);
  });

  test('rejects a chain that does not issue the leaf', () => {
    const unrelated = otherIntermediate.certificatePem + otherRoot.certificatePem;
    expectCheckError(() => checkCertificateChain(unrelated, 'certificateChain', pki.leaf.certificatePem), 'certificateChain',
      /^no certificate in the chain issued the certificate in certificateBody; position 1 must be its issuer \(CN=Test Intermediate CA\)/);
  });

  test('says where the leaf issuer is when it is not first', () => {
    const misplaced = otherRoot.certificatePem + pki.intermediate.certificatePem + pki.root.certificatePem;
    expectCheckError(() => checkCertificateChain(misplaced, 'certificateChain', pki.leaf.certificatePem), 'certificateChain',
      /^position 1 \(CN=Other Root CA\) did not issue the certificate in certificateBody; its issuer \(CN=Test Intermediate CA\) is at position 2\. Expected it at position 1/);
  });

  test('rejects a certificate not followed by its issuer', () => {
    expectCheckError(() => checkCertificateChain(pki.intermediate.certificatePem + otherRoot.certificatePem, 'certificateChain'), 'certificateChain',
      /^position 1 \(CN=Test Intermediate CA\) is not signed by position 2 \(CN=Other Root CA\); expected its issuer \(CN=Test Root CA\) there/);
    const issuerLater = pki.intermediate.certificatePem + otherRoot.certificatePem + pki.root.certificatePem;
    expectCheckError(() => checkCertificateChain(issuerLater, 'certificateChain'), 'certificateChain',
      /^position 1 \(CN=Test Intermediate CA\) is not signed by position 2 \(CN=Other Root CA\); its issuer is at position 3/);
  });

  test('rejects a self-signed root that is not last', () => {
    expectCheckError(() => checkCertificateChain(pki.root.certificatePem + otherRoot.certificatePem, 'certificateChain'), 'certificateChain',
      /^position 1 \(CN=Test Root CA\) is a self-signed root, so it must be last, but 1 certificate\(s\) follow it/);
  });

  test('rejects a repeated certificate', () => {
    const repeated = pki.intermediate.certificatePem + pki.intermediate.certificatePem + pki.root.certificatePem;
    expectCheckError(() => checkCertificateChain(repeated, 'certificateChain'), 'certificateChain',
      /^position 2 \(CN=Test Intermediate CA\) repeats position 1/);
  });

  test('rejects an expired chain certificate and warns about one expiring soon, by position', async () => {
    const expiredCa = await makeIntermediateCa(otherRoot, {
      commonName: 'Expired CA', keyAlgorithm: 'EC_P256', notBefore: new Date(Date.now() - 100 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS),
    });
    expectCheckError(() => checkCertificateChain(expiredCa.certificatePem + otherRoot.certificatePem, 'certificateChain'), 'certificateChain',
      /^position 1 \(CN=Expired CA\) has expired: notAfter/);
    const expiringCa = await makeIntermediateCa(otherRoot, {
      commonName: 'Expiring CA', keyAlgorithm: 'EC_P256', notAfter: new Date(Date.now() + 12 * DAY_MS),
    });
    const result = checkCertificateChain(expiringCa.certificatePem + otherRoot.certificatePem, 'certificateChain');
    expect(result.warnings).toEqual([expect.stringMatching(/^certificateChain: position 1 \(CN=Expiring CA\) expires within 1[12] day\(s\)/)]);
  });

  test('attributes a broken leaf to the leaf property, and a key in the chain to the chain', () => {
    expectCheckError(() => checkCertificateChain(pki.chainPem, 'certificateChain', 'not pem'), 'certificateBody', /^is not PEM text/);
    expectCheckError(() => checkCertificateChain(pki.chainPem, 'certificateChain', 'not pem', { leafProperty: 'certificate' }), 'certificate', /^is not PEM text/);
    const err = expectCheckError(() => checkCertificateChain(pki.chainPem + pki.root.privateKeyPem, 'certificateChain'), 'certificateChain', /^holds a private key/);
    expectNoKeyText(err.message, pki.root.privateKeyPem);
  });
});

describe('checkPrivateKey', () => {
  test.each([
    ['RSA PKCS#8', () => pki.leaf.privateKeyPem],
    ['RSA PKCS#1', () => exportPrivateKeyPem(pki.leaf, 'pkcs1')],
    ['EC PKCS#8', () => ecLeaf.privateKeyPem],
    ['EC SEC1', () => exportPrivateKeyPem(ecLeaf, 'sec1')],
    // What `openssl ecparam -genkey -name prime256v1` writes: an EC PARAMETERS block first.
    ['EC SEC1 after EC PARAMETERS', () => '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n' + exportPrivateKeyPem(ecLeaf, 'sec1')],
  ])('accepts %s', (_name, keyOf) => {
    expect(() => checkPrivateKey(keyOf(), 'privateKey')).not.toThrow();
  });

  test('loadPrivateKey returns the key', () => {
    expect(loadPrivateKey(ecLeaf.privateKeyPem, 'privateKey').asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  test.each([
    ['PKCS#8 (ENCRYPTED PRIVATE KEY)', 'pkcs8' as const],
    ['PKCS#1 (Proc-Type: 4,ENCRYPTED)', 'pkcs1' as const],
  ])('rejects an encrypted %s key without echoing it', (_name, format) => {
    const encrypted = exportPrivateKeyPem(pki.leaf, format, 'a-passphrase');
    const err = expectCheckError(() => checkPrivateKey(encrypted, 'privateKey'), 'privateKey', /^is encrypted; provide the key unencrypted/);
    expectNoKeyText(err.message, encrypted);
  });

  test('rejects a certificate given as the key', () => {
    expectCheckError(() => checkPrivateKey(pki.leaf.certificatePem, 'privateKey'), 'privateKey', /^holds a certificate, not a private key/);
    const err = expectCheckError(() => checkPrivateKey(pki.leaf.privateKeyPem + pki.leaf.certificatePem, 'privateKey'), 'privateKey',
      /^holds a certificate as well as a private key; pass only the private key here/);
    expectNoKeyText(err.message, pki.leaf.privateKeyPem);
  });

  test('rejects two keys, public keys and OpenSSH keys', () => {
    expectCheckError(() => checkPrivateKey(pki.leaf.privateKeyPem + pki.unrelatedKey.privateKeyPem, 'privateKey'), 'privateKey',
      /^must contain exactly one private key, found 2 PEM blocks$/);
    expectCheckError(() => checkPrivateKey(pki.leaf.publicKeyPem, 'privateKey'), 'privateKey', /^holds a PUBLIC KEY, not a private key$/);
    const openssh = withBody(pki.leaf.privateKeyPem, bodyLines(pki.leaf.privateKeyPem)[0])
      .replace(/PRIVATE KEY-----/g, 'OPENSSH PRIVATE KEY-----');
    const err = expectCheckError(() => checkPrivateKey(openssh, 'privateKey'), 'privateKey', /^is an OpenSSH-format key/);
    expectNoKeyText(err.message, openssh);
  });

  test('rejects an unknown label and a key that does not parse, without echoing it', () => {
    expectCheckError(() => checkPrivateKey(pki.root.certificatePem.replace(/CERTIFICATE/g, 'X509 CRL'), 'privateKey'), 'privateKey',
      /^block is a X509 CRL, expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY$/);
    const lines = bodyLines(pki.leaf.privateKeyPem);
    const corrupt = withBody(pki.leaf.privateKeyPem, lines.slice(0, 4).join('\n'));
    const err = expectCheckError(() => checkPrivateKey(corrupt, 'privateKey'), 'privateKey', /^is not a valid PRIVATE KEY \(the key could not be parsed\)$/);
    expectNoKeyText(err.message, corrupt);
  });

  test('rejects empty input', () => {
    expectCheckError(() => checkPrivateKey('', 'privateKey'), 'privateKey', /^is empty/);
  });
});

describe('checkPrivateKeyMatchesCertificate', () => {
  test('accepts the RSA key of a certificate, in PKCS#8 and PKCS#1', () => {
    expect(() => checkPrivateKeyMatchesCertificate(pki.leaf.privateKeyPem, pki.leaf.certificatePem, 'privateKey')).not.toThrow();
    expect(() => checkPrivateKeyMatchesCertificate(exportPrivateKeyPem(pki.leaf, 'pkcs1'), pki.leaf.certificatePem, 'privateKey')).not.toThrow();
  });

  test('accepts the EC key of a certificate, in PKCS#8 and SEC1', () => {
    expect(() => checkPrivateKeyMatchesCertificate(ecLeaf.privateKeyPem, ecLeaf.certificatePem, 'privateKey')).not.toThrow();
    expect(() => checkPrivateKeyMatchesCertificate(exportPrivateKeyPem(ecLeaf, 'sec1'), ecLeaf.certificatePem, 'privateKey')).not.toThrow();
  });

  test('compares with the first certificate when a chain follows the leaf', () => {
    expect(() => checkPrivateKeyMatchesCertificate(pki.leaf.privateKeyPem, pki.leaf.certificatePem + pki.chainPem, 'privateKey')).not.toThrow();
  });

  test('rejects another RSA key, without echoing either key', () => {
    const err = expectCheckError(() => checkPrivateKeyMatchesCertificate(pki.unrelatedKey.privateKeyPem, pki.leaf.certificatePem, 'privateKey'),
      'privateKey', /^does not match the certificate in certificateBody \(both RSA 2048-bit, but different keys\)/);
    expectNoKeyText(err.message, pki.unrelatedKey.privateKeyPem);
  });

  test('rejects another EC key', () => {
    expectCheckError(() => checkPrivateKeyMatchesCertificate(ecIntermediate.privateKeyPem, ecLeaf.certificatePem, 'privateKey'),
      'privateKey', /^does not match the certificate in certificateBody \(both EC P-256, but different keys\)/);
  });

  test('names both key types when they differ', () => {
    expectCheckError(() => checkPrivateKeyMatchesCertificate(ecLeaf.privateKeyPem, pki.leaf.certificatePem, 'privateKey', 'certificatePem'),
      'privateKey', /^does not match the certificate in certificatePem: the key is EC P-256, the certificate's public key is RSA 2048-bit$/);
    expectCheckError(() => checkPrivateKeyMatchesCertificate(pki.leaf.privateKeyPem, ecRoot.certificatePem, 'privateKey'),
      'privateKey', /the key is RSA 2048-bit, the certificate's public key is EC P-384$/);
  });

  test('attributes a bad key to the key property and a bad certificate to the certificate property', () => {
    expectCheckError(() => checkPrivateKeyMatchesCertificate(pki.leaf.certificatePem, pki.leaf.certificatePem, 'privateKey'), 'privateKey',
      /^holds a certificate/);
    expectCheckError(() => checkPrivateKeyMatchesCertificate(pki.leaf.privateKeyPem, pki.leaf.privateKeyPem, 'privateKey', 'certificateBody'),
      'certificateBody', /^holds a private key/);
  });
});

describe('summaries', () => {
  test('summarise a leaf like node and @peculiar/x509 see it', () => {
    const node = new X509Certificate(pki.leaf.certificatePem);
    const summary = summarizeCertificate(node);
    const sha256 = createHash('sha256').update(node.raw).digest('hex').toUpperCase().match(/../g)!.join(':');
    expect(summary).toEqual({
      subject: 'CN=www.example.com',
      issuer: 'CN=Test Intermediate CA',
      commonName: 'www.example.com',
      serialNumber: pki.leaf.certificate.serialNumber.toUpperCase(),
      notBefore: pki.leaf.certificate.notBefore.toISOString(),
      notAfter: pki.leaf.certificate.notAfter.toISOString(),
      fingerprintSha256: sha256,
      subjectAlternativeNames: ['DNS:www.example.com', 'DNS:example.com'],
      dnsNames: ['www.example.com', 'example.com'],
      isCa: false,
      selfSigned: false,
      publicKeyAlgorithm: 'RSA',
      publicKeyBits: 2048,
    });
    expect(summary.fingerprintSha256).toBe(node.fingerprint256);
  });

  test('summarise CAs and EC keys', () => {
    const [root] = summarizeCertificates(pki.root.certificatePem, 'certificate');
    expect(root).toMatchObject({ subject: 'CN=Test Root CA', issuer: 'CN=Test Root CA', isCa: true, selfSigned: true, subjectAlternativeNames: [] });
    const [inter] = summarizeCertificates(pki.intermediate.certificatePem, 'certificate');
    expect(inter).toMatchObject({ isCa: true, selfSigned: false });
    const [ec] = summarizeCertificates(ecRoot.certificatePem, 'certificate');
    expect(ec).toMatchObject({ publicKeyAlgorithm: 'EC', curve: 'P-384', publicKeyBits: 384 });
    expect(summarizeCertificates(pki.chainPem, 'certificateChain').map((s) => s.commonName)).toEqual(['Test Intermediate CA', 'Test Root CA']);
  });

  test('unescape special characters in the CN and in SAN entries', async () => {
    const odd = await makeLeaf(pki.intermediate, {
      commonName: 'Example, Inc+1', dnsNames: ['a,b.example.com', 'c:d.example.com', 'plain.example.com'], keyAlgorithm: 'EC_P256',
    });
    const summary = summarizeCertificate(new X509Certificate(odd.certificatePem));
    expect(summary.commonName).toBe('Example, Inc+1');
    expect(summary.subject).toBe('CN=Example\\, Inc\\+1');
    expect(summary.dnsNames).toEqual(['a,b.example.com', 'c:d.example.com', 'plain.example.com']);
    expect(summary.subjectAlternativeNames).toEqual(['DNS:a,b.example.com', 'DNS:c:d.example.com', 'DNS:plain.example.com']);
  });

  test('serial numbers are distinct across generated certificates', () => {
    const serials = [pki.root, pki.intermediate, pki.leaf, pki.expiredLeaf, pki.expiringLeaf]
      .map((c) => summarizeCertificate(new X509Certificate(c.certificatePem)).serialNumber);
    expect(new Set(serials).size).toBe(serials.length);
  });

  test('daysUntil counts fractional days either way', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(daysUntil(new Date('2030-01-11T12:00:00Z'), now)).toBe(10.5);
    expect(daysUntil(new Date('2029-12-31T00:00:00Z'), now)).toBe(-1);
  });
});
