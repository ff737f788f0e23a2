import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  AlibabaKmsCertificate,
  CertificatePem,
  DmsCertificate,
  PrivateCa,
  PrivateKey,
  ServerCertificate,
} from '../../src';
import { ManifestReadError, parseEntry, readAssemblyRecords } from '../../src/contract/manifest';
import { CertificateManifest, CertificateManifestEntry } from '../../src/manifest/certificate-manifest';
import { checkCertificateAtSynth } from '../../src/private/synth-checks';
import { makeTestPki, TestCertificate, TestPki } from '../support/fixtures/pki';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-key-AbCdEf';

let pki: TestPki;
const outdirs: string[] = [];
beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(() => {
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempOutdir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cert-manifest-'));
  outdirs.push(dir);
  return dir;
}

function serverCertificate(scope: Construct, id: string, body: string, chain?: string): ServerCertificate {
  const stack = Stack.of(scope);
  const key = (stack.node.tryFindChild('Key') as secretsmanager.ISecret | undefined)
    ?? secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', KEY_ARN);
  return new ServerCertificate(scope, id, {
    certificateBody: CertificatePem.fromString(body),
    certificateChain: chain !== undefined ? CertificatePem.fromString(chain) : undefined,
    privateKey: PrivateKey.fromSecret(key),
  });
}

/** What node:crypto says about a certificate, in the manifest's terms. */
function expectedFields(cert: TestCertificate) {
  const x = new X509Certificate(cert.certificatePem);
  return {
    subject: x.subject.split('\n').join(', '),
    issuer: x.issuer.split('\n').join(', '),
    serialNumber: x.serialNumber,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    fingerprintSha256: x.fingerprint256,
    subjectAlternativeNames: x.subjectAltName ? x.subjectAltName.split(', ') : [],
    isCa: x.ca,
  };
}

function allFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name));
}

describe('records of a ServerCertificate', () => {
  test('one entry per certificate: each field, the construct path and property, the chain tied to its leaf', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    serverCertificate(stack, 'Web', pki.leaf.certificatePem, pki.chainPem);

    const entries = CertificateManifest.entriesOf(stack);
    expect(entries).toHaveLength(3);
    const [body, first, second] = entries;
    expect(body).toEqual({
      version: 1,
      constructPath: 'Stack/Web',
      property: 'certificateBody',
      check: 'certificate',
      position: 1,
      count: 1,
      ...expectedFields(pki.leaf),
      certificatePem: pki.leaf.certificatePem,
    });
    // Spelled out once, so a change in the field mapping cannot hide behind expectedFields().
    expect(body.subject).toBe('CN=www.example.com');
    expect(body.issuer).toBe('CN=Test Intermediate CA');
    expect(body.subjectAlternativeNames).toEqual(['DNS:www.example.com', 'DNS:example.com']);
    expect(body.notAfter).toBe(pki.leaf.certificate.notAfter.toISOString());
    expect(body.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    expect(first).toEqual({
      version: 1,
      constructPath: 'Stack/Web',
      property: 'certificateChain',
      check: 'chain',
      position: 1,
      count: 2,
      ...expectedFields(pki.intermediate),
      certificatePem: pki.intermediate.certificatePem,
      leafFingerprintSha256: body.fingerprintSha256,
    });
    expect(second).toMatchObject({ property: 'certificateChain', position: 2, count: 2, subject: 'CN=Test Root CA', isCa: true });
    expect(second.certificatePem).toBe(pki.root.certificatePem);
  });

  test('a PEM known only at deploy records nothing', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Bundle', KEY_ARN);
    new ServerCertificate(stack, 'Web', {
      certificateBody: CertificatePem.fromSecret(secret, 'certificate'),
      certificateChain: CertificatePem.fromSecret(secret, 'chain'),
      privateKey: PrivateKey.fromSecret(secret, 'key'),
    });
    expect(CertificateManifest.entriesOf(stack)).toEqual([]);
  });

  test('a certificate that fails its checks fails the synth and records nothing', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    expect(() => serverCertificate(stack, 'Old', pki.expiredLeaf.certificatePem)).toThrow(/certificateBody: the certificate has expired/);
    expect(CertificateManifest.entriesOf(stack)).toEqual([]);
  });
});

describe('the cached check outcome still records per construct and property', () => {
  test('two constructs with the same PEM both record it; one construct checking a property twice records it once', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    serverCertificate(stack, 'A', pki.leaf.certificatePem, pki.chainPem);
    serverCertificate(stack, 'B', pki.leaf.certificatePem, pki.chainPem);
    const holder = new Construct(stack, 'Holder');
    const pem = CertificatePem.fromString(pki.leaf.certificatePem);
    checkCertificateAtSynth(holder, 'certificateBody', pem);
    checkCertificateAtSynth(holder, 'certificateBody', pem);
    checkCertificateAtSynth(holder, 'otherProperty', pem);

    const byPath = CertificateManifest.entriesOf(stack).map((e) => `${e.constructPath} ${e.property} ${e.position}`);
    expect(byPath).toEqual([
      'Stack/A certificateBody 1',
      'Stack/A certificateChain 1',
      'Stack/A certificateChain 2',
      'Stack/B certificateBody 1',
      'Stack/B certificateChain 1',
      'Stack/B certificateChain 2',
      'Stack/Holder certificateBody 1',
      'Stack/Holder otherProperty 1',
    ]);
  });
});

describe('every construct that takes a PEM at synth records it', () => {
  test('DmsCertificate: a trust bundle, each certificate with check "bundle"', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    new DmsCertificate(stack, 'Trust', { certificatePem: CertificatePem.fromString(pki.chainPem) });
    const entries = CertificateManifest.entriesOf(stack);
    expect(entries.map((e) => [e.constructPath, e.property, e.check, e.position, e.count, e.subject])).toEqual([
      ['Stack/Trust', 'certificatePem', 'bundle', 1, 2, 'CN=Test Intermediate CA'],
      ['Stack/Trust', 'certificatePem', 'bundle', 2, 2, 'CN=Test Root CA'],
    ]);
    expect(entries[0].leafFingerprintSha256).toBeUndefined();
  });

  test('PrivateCa with an external parent: its CA certificate and chain', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    new PrivateCa(stack, 'Ext', {
      externalParent: true,
      subject: { commonName: 'Test Intermediate CA' },
      certificate: CertificatePem.fromString(pki.intermediate.certificatePem),
      certificateChain: CertificatePem.fromString(pki.root.certificatePem),
      pathLength: 0,
    });
    const entries = CertificateManifest.entriesOf(stack);
    expect(entries.map((e) => [e.constructPath, e.property, e.check, e.subject, e.isCa])).toEqual([
      ['Stack/Ext', 'certificate', 'certificate', 'CN=Test Intermediate CA', true],
      ['Stack/Ext', 'certificateChain', 'chain', 'CN=Test Root CA', true],
    ]);
    expect(entries[1].leafFingerprintSha256).toBe(entries[0].fingerprintSha256);
  });

  test('AlibabaKmsCertificate in upload mode: the certificate and its chain', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    new AlibabaKmsCertificate(stack, 'Upload', {
      regionId: 'cn-shanghai',
      credentials: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Creds', KEY_ARN),
      certificateId: '12345678-1234-4234-8234-123456789012',
      certificate: CertificatePem.fromString(pki.leaf.certificatePem),
      certificateChain: CertificatePem.fromString(pki.chainPem),
    });
    const entries = CertificateManifest.entriesOf(stack);
    expect(entries.map((e) => [e.property, e.check, e.position, e.subject])).toEqual([
      ['certificate', 'certificate', 1, 'CN=www.example.com'],
      ['certificateChain', 'chain', 1, 'CN=Test Intermediate CA'],
      ['certificateChain', 'chain', 2, 'CN=Test Root CA'],
    ]);
  });
});

describe('the records in the cloud assembly', () => {
  test('the stack artifact carries them as metadata (nested Stage included); readers see the same records', () => {
    const app = new App({ outdir: tempOutdir() });
    const top = new Stack(app, 'Top', { env: ENV });
    serverCertificate(top, 'Web', pki.leaf.certificatePem, pki.chainPem);
    const prod = new Stage(app, 'Prod', { env: ENV });
    const certs = new Stack(prod, 'Certs');
    new DmsCertificate(certs, 'Trust', { certificatePem: CertificatePem.fromString(pki.root.certificatePem) });
    const assembly = app.synth();

    // The raw form: CDK writes construct metadata per construct path, in the stack's metadata.
    const stackArtifact = assembly.getStackArtifact(top.artifactId);
    const raw = stackArtifact.findMetadataByType(CertificateManifest.METADATA_TYPE);
    expect(raw.map((m) => m.path)).toEqual(['/Top/Web', '/Top/Web', '/Top/Web']);
    expect((raw[0].data as unknown as CertificateManifestEntry).version).toBe(CertificateManifest.VERSION);

    const records = readAssemblyRecords(assembly.directory);
    expect(records.assemblies).toEqual([assembly.directory, path.join(assembly.directory, 'assembly-Prod')]);
    // Manifest order: here the nested assembly's artifact comes first.
    expect(records.entries.map((l) => [l.stackDisplayName, l.entry.constructPath, l.entry.property, l.entry.position])).toEqual([
      ['Prod/Certs', 'Prod/Certs/Trust', 'certificatePem', 1],
      ['Top', 'Top/Web', 'certificateBody', 1],
      ['Top', 'Top/Web', 'certificateChain', 1],
      ['Top', 'Top/Web', 'certificateChain', 2],
    ]);
    expect(records.entries[0].assemblyDirectory).toBe(path.join(assembly.directory, 'assembly-Prod'));
    expect(records.entries[1].assemblyDirectory).toBe(assembly.directory);
    expect(CertificateManifest.readAssembly(assembly.directory))
      .toEqual([...CertificateManifest.entriesOf(prod), ...CertificateManifest.entriesOf(top)]);
  });

  test('no key material anywhere in the assembly', async () => {
    const outdir = tempOutdir();
    const app = new App({ outdir });
    const stack = new Stack(app, 'Stack', { env: ENV });
    serverCertificate(stack, 'Web', pki.leaf.certificatePem, pki.chainPem);
    new DmsCertificate(stack, 'Trust', { certificatePem: CertificatePem.fromString(pki.chainPem) });
    app.synth();

    const keyLines = [pki.leaf, pki.intermediate, pki.root]
      .map((c) => c.privateKeyPem.split('\n')[2])
      .filter((line) => line.length > 20);
    expect(keyLines.length).toBe(3);
    const files = allFiles(outdir).filter((f) => !f.includes(`${path.sep}asset.`));
    expect(files.some((f) => f.endsWith('.metadata.json') || f.endsWith('manifest.json'))).toBe(true);
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      expect(text).not.toContain('PRIVATE KEY');
      for (const line of keyLines) {
        expect(text).not.toContain(line);
      }
    }
    // The records are in there: the certificates themselves are public and present.
    const metadata = files.filter((f) => f.endsWith('.metadata.json')).map((f) => fs.readFileSync(f, 'utf8')).join('');
    expect(metadata).toContain(pki.leaf.certificatePem.split('\n')[1]);
  });

  test('records are the same across synths: nothing in them depends on the clock or the machine', () => {
    const synthOnce = () => {
      const outdir = tempOutdir();
      const app = new App({ outdir });
      const stack = new Stack(app, 'Stack', { env: ENV });
      serverCertificate(stack, 'Web', pki.leaf.certificatePem, pki.chainPem);
      const artifact = app.synth().getStackArtifact(stack.artifactId);
      return JSON.stringify(artifact.findMetadataByType(CertificateManifest.METADATA_TYPE));
    };
    const first = synthOnce();
    expect(first).toContain('certificatePem');
    expect(synthOnce()).toBe(first);
  });
});

describe('reading records', () => {
  function validRecord(): Record<string, unknown> {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    serverCertificate(stack, 'Web', pki.leaf.certificatePem);
    return { ...CertificateManifest.entriesOf(stack)[0] };
  }

  test('a record of a newer format version is refused with a message naming the versions', () => {
    expect(() => parseEntry({ ...validRecord(), version: 2 }, 'here'))
      .toThrow(/here: a certificate record has format version 2, newer than this cdk-certificates reads \(1\)/);
    expect(() => parseEntry({ ...validRecord(), version: undefined }, 'here')).toThrow(ManifestReadError);
  });

  test.each([
    ['subject', 42, /field "subject" is missing or not a string/],
    ['check', 'other', /field "check" is "other"; expected one of certificate, chain, bundle/],
    ['position', 0, /field "position" must be a positive integer/],
    ['subjectAlternativeNames', 'DNS:x', /field "subjectAlternativeNames" must be an array of strings/],
    ['notAfter', 'soon', /field "notAfter" is not an ISO 8601 date/],
    ['certificatePem', undefined, /field "certificatePem" is missing or not a string/],
  ])('a record with a bad %s is refused', (field, value, message) => {
    expect(() => parseEntry({ ...validRecord(), [field]: value }, 'here')).toThrow(message);
  });

  test('a record that carries a private key is refused without echoing it', () => {
    const key = pki.unrelatedKey.privateKeyPem;
    let message = '';
    try {
      parseEntry({ ...validRecord(), certificatePem: key }, 'here');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/certificatePem" holds a private key/);
    expect(message).not.toContain(key.split('\n')[1]);
  });

  test('a directory that is not a cloud assembly is an error naming it', () => {
    const dir = tempOutdir();
    expect(() => readAssemblyRecords(dir)).toThrow(new RegExp(`${dir} is not a cloud assembly: cannot read .*manifest.json \\(ENOENT\\)`));
  });
});
