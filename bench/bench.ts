/**
 * `npm run bench`: synth cost, Lambda count and template size of the library's constructs against
 * their L1 baselines, and the size and load time of each handler asset against aws-cdk-lib's
 * AwsCustomResource handler. Prints tables; not part of CI's pass/fail.
 */
import 'reflect-metadata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { App, Stack } from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CertificatePem, DmsCertificate, LightsailCertificate, PrivateCa, PrivateKey, ServerCertificate } from '../src';
import { makeCsr, makeTestPki, TestPki } from '../test/support/fixtures/pki';

const SIZES = [1, 100, 400];
const REPEATS = 5;

interface SynthRow {
  readonly scenario: string;
  readonly n: number;
  readonly msPerCertificate: number;
  readonly baselineMsPerCertificate?: number;
  readonly handlerFunctions: number;
  readonly frameworkFunctions: number;
  readonly templateBytesPerCertificate: number;
  readonly pemBytesPerCertificate: number;
}

/** A scenario declares `n` certificates into a stack; `pemBytes` is the PEM each carries. */
interface Scenario {
  readonly name: string;
  readonly sizes: number[];
  readonly pemBytesPerCertificate: number;
  build(stack: Stack, n: number): void;
  baseline?(stack: Stack, n: number): void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function synthOnce(build: (stack: Stack) => void): { ms: number; template: any } {
  // Each run starts on a collected heap, so no run pays for the garbage of the one before.
  (globalThis as { gc?: () => void }).gc?.();
  const start = performance.now();
  const app = new App();
  const stack = new Stack(app, 'Bench');
  build(stack);
  const assembly = app.synth();
  const ms = performance.now() - start;
  const template = assembly.getStackByName('Bench').template;
  return { ms, template };
}

/** What one fresh process measured of one variant of a scenario at one N. */
interface SynthSample {
  readonly ms: number;
  readonly templateBytes: number;
  readonly handlerFunctions: number;
  readonly frameworkFunctions: number;
}

/**
 * Measures one variant of one scenario at one N in a fresh process (`--synth` mode of this file):
 * every variant starts from the same state, so neither pays for the heap, JIT or GC debt the
 * other left behind, whatever the order they run in.
 */
function sampleInFreshProcess(scenario: number, n: number, variant: 'ours' | 'baseline'): SynthSample {
  const out = execFileSync(process.execPath, [...process.execArgv, __filename, '--synth', String(scenario), String(n), variant], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** `--synth` mode: one warm-up synth, then the median of REPEATS, printed as JSON. */
async function sampleMain(args: string[]): Promise<void> {
  const scenario = (await scenarios())[Number(args[0])];
  const n = Number(args[1]);
  const build = args[2] === 'baseline' ? scenario.baseline! : scenario.build;
  // Module loading and JIT warm-up are not the construct's cost.
  synthOnce(stack => build(stack, 2));
  const runs = Array.from({ length: REPEATS }, () => synthOnce(stack => build(stack, n)));
  const functions = countFunctions(runs[0].template);
  const sample: SynthSample = {
    ms: median(runs.map(r => r.ms)),
    templateBytes: Buffer.byteLength(JSON.stringify(runs[0].template)),
    handlerFunctions: functions.handler,
    frameworkFunctions: functions.framework,
  };
  console.log(JSON.stringify(sample));
}

function countFunctions(template: any): { handler: number; framework: number } {
  let handler = 0;
  let framework = 0;
  for (const [logicalId, resource] of Object.entries<any>(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    if (/framework/i.test(logicalId)) framework++;
    else handler++;
  }
  return { handler, framework };
}

function runScenario(scenario: Scenario, index: number): SynthRow[] {
  const rows: SynthRow[] = [];
  let one: SynthSample | undefined;
  for (const n of scenario.sizes) {
    const ours = sampleInFreshProcess(index, n, 'ours');
    const base = scenario.baseline ? sampleInFreshProcess(index, n, 'baseline') : undefined;
    one = one ?? (n === 1 ? ours : sampleInFreshProcess(index, 1, 'ours'));
    rows.push({
      scenario: scenario.name,
      n,
      msPerCertificate: ours.ms / n,
      baselineMsPerCertificate: base ? base.ms / n : undefined,
      handlerFunctions: ours.handlerFunctions,
      frameworkFunctions: ours.frameworkFunctions,
      // The marginal template bytes of one more certificate (the PEM it must carry is taken off later).
      templateBytesPerCertificate: n > 1 ? (ours.templateBytes - one.templateBytes) / (n - 1) : ours.templateBytes,
      pemBytesPerCertificate: scenario.pemBytesPerCertificate,
    });
  }
  return rows;
}

function serverCertificateScenario(pki: TestPki): Scenario {
  const pemBytes = Buffer.byteLength(JSON.stringify(pki.leaf.certificatePem)) - 2;
  return {
    name: 'ServerCertificate vs iam.CfnServerCertificate',
    sizes: SIZES,
    pemBytesPerCertificate: pemBytes,
    build: (stack, n) => {
      for (let i = 0; i < n; i++) {
        const key = secretsmanager.Secret.fromSecretNameV2(stack, `Key${i}`, `tls/key-${i}`);
        new ServerCertificate(stack, `Cert${i}`, {
          certificateBody: CertificatePem.fromString(pki.leaf.certificatePem),
          privateKey: PrivateKey.fromSecret(key),
        });
      }
    },
    baseline: (stack, n) => {
      for (let i = 0; i < n; i++) {
        const key = secretsmanager.Secret.fromSecretNameV2(stack, `Key${i}`, `tls/key-${i}`);
        new iam.CfnServerCertificate(stack, `Cert${i}`, {
          certificateBody: pki.leaf.certificatePem,
          privateKey: key.secretValue.unsafeUnwrap(),
        });
      }
    },
  };
}

function dmsScenario(pki: TestPki): Scenario {
  return {
    name: 'DmsCertificate vs dms.CfnCertificate',
    sizes: SIZES,
    pemBytesPerCertificate: Buffer.byteLength(JSON.stringify(pki.root.certificatePem)) - 2,
    build: (stack, n) => {
      for (let i = 0; i < n; i++) {
        new DmsCertificate(stack, `Cert${i}`, { certificatePem: CertificatePem.fromString(pki.root.certificatePem) });
      }
    },
    baseline: (stack, n) => {
      for (let i = 0; i < n; i++) {
        new dms.CfnCertificate(stack, `Cert${i}`, { certificatePem: pki.root.certificatePem });
      }
    },
  };
}

// Each certificate adds 4 resources (certificate, 2 records, wait): 400 would pass CloudFormation's
// 500-resource limit, so this scenario stops at 100.
function lightsailScenario(): Scenario {
  return {
    name: 'LightsailCertificate (+Route 53 records, wait) vs lightsail.CfnCertificate',
    sizes: [1, 100],
    pemBytesPerCertificate: 0,
    build: (stack, n) => {
      const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });
      for (let i = 0; i < n; i++) {
        new LightsailCertificate(stack, `Cert${i}`, {
          domainName: `s${i}.example.com`,
          subjectAlternativeNames: [`www.s${i}.example.com`],
          hostedZone: zone,
        });
      }
    },
    baseline: (stack, n) => {
      for (let i = 0; i < n; i++) {
        new lightsail.CfnCertificate(stack, `Cert${i}`, {
          certificateName: `cert-${i}`,
          domainName: `s${i}.example.com`,
          subjectAlternativeNames: [`www.s${i}.example.com`],
        });
      }
    },
  };
}

// A root and a subordinate plus N issued certificates (keys made at deploy, in Secrets Manager),
// against the L1s a user writes by hand: the two CAs, their certificates and activations, and N
// certificates from CSRs (which need the key made and kept elsewhere).
function privateCaScenario(csr: string): Scenario {
  return {
    name: 'PrivateCa root + subordinate + N issueCertificate vs acmpca L1s',
    sizes: [1, 100],
    pemBytesPerCertificate: 0,
    build: (stack, n) => {
      const root = new PrivateCa(stack, 'Root', { subject: { commonName: 'Bench Root' } });
      const issuing = new PrivateCa(stack, 'Issuing', { parent: root, subject: { commonName: 'Bench Issuing' } });
      for (let i = 0; i < n; i++) {
        issuing.issueCertificate(`Cert${i}`, { commonName: `s${i}.example.com`, dnsNames: [`s${i}.example.com`] });
      }
    },
    baseline: (stack, n) => {
      const ca = (id: string, type: string) => new acmpca.CfnCertificateAuthority(stack, id, {
        type,
        keyAlgorithm: 'RSA_2048',
        signingAlgorithm: 'SHA256WITHRSA',
        subject: { commonName: id },
      });
      const root = ca('Root', 'ROOT');
      const rootCert = new acmpca.CfnCertificate(stack, 'RootCert', {
        certificateAuthorityArn: root.attrArn,
        certificateSigningRequest: root.attrCertificateSigningRequest,
        signingAlgorithm: 'SHA256WITHRSA',
        templateArn: 'arn:aws:acm-pca:::template/RootCACertificate/V1',
        validity: { type: 'YEARS', value: 10 },
      });
      new acmpca.CfnCertificateAuthorityActivation(stack, 'RootActivation', {
        certificateAuthorityArn: root.attrArn,
        certificate: rootCert.attrCertificate,
      });
      const sub = ca('Issuing', 'SUBORDINATE');
      const subCert = new acmpca.CfnCertificate(stack, 'IssuingCert', {
        certificateAuthorityArn: root.attrArn,
        certificateSigningRequest: sub.attrCertificateSigningRequest,
        signingAlgorithm: 'SHA256WITHRSA',
        templateArn: 'arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1',
        validity: { type: 'YEARS', value: 5 },
      });
      new acmpca.CfnCertificateAuthorityActivation(stack, 'IssuingActivation', {
        certificateAuthorityArn: sub.attrArn,
        certificate: subCert.attrCertificate,
        certificateChain: rootCert.attrCertificate,
      });
      for (let i = 0; i < n; i++) {
        new acmpca.CfnCertificate(stack, `Cert${i}`, {
          certificateAuthorityArn: sub.attrArn,
          certificateSigningRequest: csr,
          signingAlgorithm: 'SHA256WITHRSA',
          validity: { type: 'DAYS', value: 365 },
        });
      }
    },
  };
}

interface AssetRow {
  readonly name: string;
  readonly bytes: number;
  readonly loadMs: number;
  /** Load time including the SDK clients the handler calls (what a cold start pays before its first call). */
  readonly loadWithSdkMs: number;
}

/** The AWS SDK v3 clients a bundle requires (external: the Lambda runtime provides them). */
function sdkClients(file: string): string[] {
  const code = fs.readFileSync(file, 'utf8');
  return [...new Set([...code.matchAll(/(?:require|import)\("(@aws-sdk\/client-[a-z0-9-]+)"\)/g)].map(m => m[1]))].sort();
}

/** Median wall time of requiring modules in a fresh Node process, as a cold Lambda does. */
function loadTime(...files: string[]): number {
  const requires = files.map(f => `require(${JSON.stringify(f)});`).join('');
  // The first user-land require of a process also pays for warming Node's CommonJS loader (about
  // 5 ms here), whatever the module: load a tiny JSON file first so that only the module is timed.
  const warmUp = `require(${JSON.stringify(path.join(__dirname, '..', 'package.json'))});`;
  const script = `${warmUp}const t=process.hrtime.bigint();${requires}process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const samples: number[] = [];
  for (let i = 0; i < 15; i++) {
    samples.push(Number(execFileSync(process.execPath, ['-e', script], {
      cwd: path.join(__dirname, '..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })));
  }
  return median(samples);
}

function assetRows(): AssetRow[] {
  const root = path.join(__dirname, '..');
  const assetsDir = path.join(root, 'assets', 'lambda');
  const rows: AssetRow[] = [];
  for (const name of fs.readdirSync(assetsDir).sort()) {
    const file = path.join(assetsDir, name, 'index', 'index.js');
    if (fs.existsSync(file)) {
      rows.push({ name, bytes: fs.statSync(file).size, loadMs: loadTime(file), loadWithSdkMs: loadTime(...sdkClients(file), file) });
    }
  }
  // The baseline makes the same IAM call as the ServerCertificate handler: it loads client-iam on first use.
  const awsCustomResource = path.join(path.dirname(require.resolve('aws-cdk-lib')),
    'custom-resource-handlers', 'dist', 'custom-resources', 'aws-custom-resource-handler', 'index.js');
  rows.push({
    name: 'aws-cdk-lib AwsCustomResource (baseline)',
    bytes: fs.statSync(awsCustomResource).size,
    loadMs: loadTime(awsCustomResource),
    loadWithSdkMs: loadTime('@aws-sdk/client-iam', awsCustomResource),
  });
  return rows;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  return [line(headers), '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|', ...rows.map(line)].join('\n');
}

async function scenarios(): Promise<Scenario[]> {
  const pki = await makeTestPki();
  const csr = (await makeCsr({ commonName: 'bench.example.com' })).csrPem;
  return [serverCertificateScenario(pki), dmsScenario(pki), lightsailScenario(), privateCaScenario(csr)];
}

async function main() {
  const synthRows = (await scenarios()).flatMap(runScenario);

  console.log(`Synth (each variant and N in a fresh process: one warm-up, then the median of ${REPEATS} runs; Node ${process.version}, ${os.cpus().length} CPUs)\n`);
  console.log(table(
    ['scenario', 'N', 'ms/cert', 'L1 ms/cert', 'ratio', 'handler fns', 'framework fns', 'template B/cert beyond PEM'],
    synthRows.map(r => [
      r.scenario,
      String(r.n),
      r.msPerCertificate.toFixed(2),
      r.baselineMsPerCertificate === undefined ? '-' : r.baselineMsPerCertificate.toFixed(2),
      r.baselineMsPerCertificate === undefined ? '-' : (r.msPerCertificate / r.baselineMsPerCertificate).toFixed(2),
      String(r.handlerFunctions),
      String(r.frameworkFunctions),
      r.n > 1 ? (r.templateBytesPerCertificate - r.pemBytesPerCertificate).toFixed(0) : '-',
    ]),
  ));

  const assets = assetRows();
  const baseline = assets[assets.length - 1];
  console.log('\nHandler assets (bytes on disk; load = median of 15 cold `require`s, each in a fresh node process whose CommonJS loader is warmed by one tiny require first;');
  console.log('"+ SDK" also loads the SDK clients the handler calls, the baseline loading client-iam as for an IAM call)\n');
  console.log(table(
    ['asset', 'bytes', 'vs baseline', 'load ms', 'vs baseline', 'load + SDK ms', 'vs baseline'],
    assets.map(a => [
      a.name,
      String(a.bytes),
      (a.bytes / baseline.bytes).toFixed(2),
      a.loadMs.toFixed(1),
      (a.loadMs / baseline.loadMs).toFixed(2),
      a.loadWithSdkMs.toFixed(1),
      (a.loadWithSdkMs / baseline.loadWithSdkMs).toFixed(2),
    ]),
  ));
}

(process.argv[2] === '--synth' ? sampleMain(process.argv.slice(3)) : main()).catch(e => {
  console.error(e);
  process.exit(1);
});
