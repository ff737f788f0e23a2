/**
 * Synthesizes every TypeScript example of README.md as a user runs it, so the README cannot rot:
 *
 *   npx ts-node --transpile-only examples/readme-examples.ts [README.md]
 *
 * Each ```ts block is written to a file of its own in a temporary folder, with `cdk-certificates`
 * pointing at this project's src/, and run under ts-node with JSII_DEPRECATED=fail (a deprecated
 * aws-cdk-lib API throws). The block is synthesized (`app.synth()`, or the root of its `stack`), and
 * the assembly may hold no error and no deprecation warning. Files a block reads (`certs/*.pem`)
 * are made first: a fresh root, intermediate and leaf, valid for a year. jsii-rosetta only compiles
 * the blocks (`npx projen rosetta:extract`); this runs them. Offline: no AWS account or network.
 */
import 'reflect-metadata';
import { execFileSync } from 'child_process';
import { webcrypto } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as x509 from '@peculiar/x509';

const ROOT = path.resolve(__dirname, '..');
const DAY_MS = 24 * 60 * 60 * 1000;

/** The ```ts blocks of the README, with the line each begins on. */
export function typescriptBlocks(readme: string): Array<{ line: number; code: string }> {
  const blocks: Array<{ line: number; code: string }> = [];
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== '```') end++;
    blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** The block as a runnable program: the library from src/, and a synth at the end. */
export function runnable(code: string, src: string): string {
  const program = code.replace(/from 'cdk-certificates'/g, `from ${JSON.stringify(src)}`);
  if (/^const app = new App\(/m.test(program)) {
    return `${program}\napp.synth();\n`;
  }
  if (/^const stack = new Stack\(/m.test(program)) {
    return `${program}\n(stack.node.root as import('aws-cdk-lib').App).synth();\n`;
  }
  throw new Error('declares neither `const app = new App(...)` nor `const stack = new Stack(...)`, so it cannot be synthesized');
}

/** Errors and deprecation warnings recorded anywhere in a cloud assembly (nested ones included). */
export function assemblyProblems(outdir: string): string[] {
  const problems: string[] = [];
  const visit = (node: unknown, at: string): void => {
    if (Array.isArray(node)) {
      node.forEach(n => visit(n, at));
    } else if (node && typeof node === 'object') {
      const entry = node as { type?: unknown; data?: unknown };
      if (entry.type === 'aws:cdk:error' || (entry.type === 'aws:cdk:warning' && /deprecat/i.test(JSON.stringify(entry.data)))) {
        problems.push(`${at}: ${entry.type}: ${JSON.stringify(entry.data)}`);
      }
      for (const [key, value] of Object.entries(node)) visit(value, key.startsWith('/') ? key : at);
    }
  };
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      if (fs.statSync(file).isDirectory()) {
        if (name.startsWith('assembly-')) walk(file);
      } else if (name === 'manifest.json' || name.endsWith('.metadata.json')) {
        visit(JSON.parse(fs.readFileSync(file, 'utf8')), name);
      }
    }
  };
  walk(outdir);
  return problems;
}

/** certs/www.example.com.pem and its chain (intermediate, then root), as the README's pipeline example reads them. */
async function writeCertificates(dir: string): Promise<void> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const now = Date.now();
  const validity = { notBefore: new Date(now - DAY_MS), notAfter: new Date(now + 365 * DAY_MS) };
  const keys = () => webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  const ca = async (pair: CryptoKeyPair) => [
    new x509.BasicConstraintsExtension(true, undefined, true),
    // Key usage flags are distinct bits, so their sum is their union.
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign + x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(pair.publicKey),
  ];
  const rootKeys = await keys();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=README Example Root CA',
    ...validity,
    keys: rootKeys,
    signingAlgorithm: algorithm,
    extensions: await ca(rootKeys),
  });
  const issue = async (subject: string, pair: CryptoKeyPair, issuer: x509.X509Certificate, issuerKeys: CryptoKeyPair,
    serialNumber: string, extensions: x509.Extension[]) => x509.X509CertificateGenerator.create({
    serialNumber,
    subject,
    issuer: issuer.subjectName,
    ...validity,
    publicKey: pair.publicKey,
    signingKey: issuerKeys.privateKey,
    signingAlgorithm: algorithm,
    extensions: [...extensions, await x509.AuthorityKeyIdentifierExtension.create(issuerKeys.publicKey)],
  });
  const intermediateKeys = await keys();
  const intermediate = await issue('CN=README Example Issuing CA', intermediateKeys, root, rootKeys, '02', await ca(intermediateKeys));
  const leaf = await issue('CN=www.example.com', await keys(), intermediate, intermediateKeys, '03', [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'www.example.com' }]),
  ]);
  fs.mkdirSync(path.join(dir, 'certs'));
  fs.writeFileSync(path.join(dir, 'certs', 'www.example.com.pem'), `${leaf.toString('pem')}\n`);
  fs.writeFileSync(path.join(dir, 'certs', 'www.example.com.chain.pem'), `${intermediate.toString('pem')}\n${root.toString('pem')}\n`);
}

async function main(): Promise<void> {
  const readme = path.resolve(process.argv[2] ?? path.join(ROOT, 'README.md'));
  const blocks = typescriptBlocks(fs.readFileSync(readme, 'utf8'));
  if (blocks.length === 0) throw new Error(`${readme} has no \`\`\`ts block`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-examples-'));
  try {
    await writeCertificates(work);
    fs.writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', esModuleInterop: true, strict: true, rootDir: '/' },
    }));
    const failures: string[] = [];
    for (const [i, block] of blocks.entries()) {
      const name = `${path.basename(readme)}:${block.line}`;
      const outdir = path.join(work, `out-${i}`);
      try {
        const file = path.join(work, `example-${i}.ts`);
        fs.writeFileSync(file, runnable(block.code, path.join(ROOT, 'src')));
        execFileSync(process.execPath, [require.resolve('ts-node/dist/bin'), '--transpile-only', '--project', path.join(work, 'tsconfig.json'), file], {
          cwd: work,
          stdio: 'pipe',
          env: {
            ...process.env,
            NODE_PATH: path.join(ROOT, 'node_modules'),
            JSII_DEPRECATED: 'fail',
            CDK_OUTDIR: outdir,
            CDK_DISABLE_VERSION_CHECK: '1',
            AWS_EC2_METADATA_DISABLED: 'true',
            CDK_DISABLE_CLI_TELEMETRY: 'true',
          },
        });
        if (!fs.existsSync(path.join(outdir, 'manifest.json'))) throw new Error(`wrote no cloud assembly to ${outdir}`);
        const problems = assemblyProblems(outdir);
        if (problems.length > 0) throw new Error(problems.join('\n'));
        console.log(`[readme-examples] ${name}: synthesized`);
      } catch (error: any) {
        const detail = String(error.stderr ?? '').trim() || String(error.message ?? error);
        failures.push(`${name}: ${detail.split('\n').slice(0, 15).join('\n  ')}`);
        console.error(`[readme-examples] ${name}: FAILED`);
      }
    }
    if (failures.length > 0) {
      console.error(failures.join('\n'));
      throw new Error(`${failures.length} of ${blocks.length} TypeScript examples of ${readme} failed`);
    }
    console.log(`[readme-examples] OK: ${blocks.length} TypeScript examples of ${path.basename(readme)} synthesized with JSII_DEPRECATED=fail, no error or deprecation warning`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(`[readme-examples] ERROR: ${error.message}`);
    process.exit(1);
  });
}
