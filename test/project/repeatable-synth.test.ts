/**
 * Synthesizing the example app is repeatable and self-contained: two runs of the same command
 * `npm run example` uses (the aws-cdk CLI) give byte-identical assemblies, and a run makes no
 * network call and never invokes Docker.
 *
 * Each run happens in a network namespace with no interface but loopback (`unshare -n`, where the
 * machine allows it; CI runs as root), with a preload in every Node process (the CLI and the app)
 * that records and refuses any socket, DNS, HTTP or fetch call, and with a PATH whose only
 * `docker` is a fake that records its invocation and fails.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/manifest/cli/check';

const REPO = path.join(__dirname, '..', '..');
const SYNTH_TIMEOUT_MS = 240_000;

interface SynthRun {
  readonly outdir: string;
  readonly status: number | null;
  readonly output: string;
  /** `/proc/net/dev` as seen by the run (undefined when unshare is unavailable). */
  readonly netDev?: string;
  /** `command -v docker` as seen by the run. */
  readonly docker: string;
}

let work: string;
let fakeDocker: string;
let dockerLog: string;
let networkLog: string;
let loadLog: string;
let guard: string;
let isolated: boolean;
const runs: SynthRun[] = [];

/** The synth command of the `example` projen task, so this test runs exactly what `npm run example` runs. */
function exampleTask(): { command: string; env: Record<string, string> } {
  const tasks = JSON.parse(fs.readFileSync(path.join(REPO, '.projen', 'tasks.json'), 'utf8'));
  const task = tasks.tasks.example as { env?: Record<string, string>; steps: Array<{ exec?: string }> };
  const synth = task.steps.map((s) => s.exec).find((e) => e?.startsWith('cdk synth'));
  if (!synth || !/--output \S+/.test(synth)) {
    throw new Error('the example task has no `cdk synth ... --output <dir>` step; update this test with it');
  }
  return { command: synth, env: task.env ?? {} };
}

function synthOnce(name: string): SynthRun {
  const outdir = path.join(work, name);
  const { command, env } = exampleTask();
  const synth = command.replace(/--output \S+/, `--output ${outdir}`);
  const netDevFile = path.join(work, `${name}.netdev`);
  const dockerFile = path.join(work, `${name}.docker`);
  const script = [
    isolated ? `cat /proc/net/dev > ${netDevFile}` : 'true',
    `(command -v docker || echo none) > ${dockerFile}`,
    synth,
  ].join(' && ');
  const nodeDir = path.dirname(process.execPath);
  const childEnv: Record<string, string> = {
    HOME: process.env.HOME ?? os.homedir(),
    // The fake docker first; no /usr/local/bin (where a real docker may live) unless node is there.
    PATH: [path.dirname(fakeDocker), path.join(REPO, 'node_modules', '.bin'), nodeDir, '/usr/bin', '/bin'].join(':'),
    CDK_DOCKER: fakeDocker,
    NODE_OPTIONS: `--require ${guard}`,
    GUARD_NETWORK_LOG: networkLog,
    GUARD_LOAD_LOG: loadLog,
    ...env,
  };
  const [cmd, args] = isolated ? ['unshare', ['-n', '--', 'sh', '-c', script]] : ['sh', ['-c', script]];
  const result = spawnSync(cmd, args, { cwd: REPO, env: childEnv, encoding: 'utf8', timeout: SYNTH_TIMEOUT_MS });
  return {
    outdir,
    status: result.status,
    output: `${result.stdout}\n${result.stderr}`,
    netDev: isolated ? fs.readFileSync(netDevFile, 'utf8') : undefined,
    docker: fs.readFileSync(dockerFile, 'utf8').trim(),
  };
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

function readIfExists(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'repeatable-synth-'));
  dockerLog = path.join(work, 'docker-calls.log');
  networkLog = path.join(work, 'network-calls.log');
  loadLog = path.join(work, 'guard-loaded.log');

  fs.mkdirSync(path.join(work, 'bin'));
  fakeDocker = path.join(work, 'bin', 'docker');
  fs.writeFileSync(fakeDocker, `#!/bin/sh\necho "docker $*" >> ${dockerLog}\nexit 1\n`, { mode: 0o755 });

  guard = path.join(work, 'no-network.js');
  fs.writeFileSync(guard, `
const fs = require('fs');
fs.appendFileSync(process.env.GUARD_LOAD_LOG, process.pid + ' ' + process.argv.slice(1).join(' ') + '\\n');
function refuse(what) {
  return function () {
    fs.appendFileSync(process.env.GUARD_NETWORK_LOG, process.pid + ' ' + what + '\\n');
    throw new Error('network disabled in this test: ' + what);
  };
}
const targets = [
  ['net', ['connect', 'createConnection']],
  ['tls', ['connect']],
  ['http', ['request', 'get']],
  ['https', ['request', 'get']],
  ['http2', ['connect']],
  ['dns', ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny']],
];
for (const [name, fns] of targets) {
  const mod = require(name);
  for (const fn of fns) mod[fn] = refuse(name + '.' + fn);
}
const dnsPromises = require('dns').promises;
for (const fn of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny']) dnsPromises[fn] = refuse('dns.promises.' + fn);
require('net').Socket.prototype.connect = refuse('net.Socket.connect');
globalThis.fetch = refuse('fetch');
`);
  isolated = spawnSync('unshare', ['-n', 'true']).status === 0;

  runs.push(synthOnce('first'));
  runs.push(synthOnce('second'));
}, 2 * SYNTH_TIMEOUT_MS + 30_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

test('both synths succeed', () => {
  for (const run of runs) {
    expect({ status: run.status, output: run.status === 0 ? '' : run.output }).toEqual({ status: 0, output: '' });
    expect(fs.existsSync(path.join(run.outdir, 'manifest.json'))).toBe(true);
  }
});

test('two synths of the example app are byte-identical: templates, manifests, assets', () => {
  const [first, second] = runs;
  const files = filesUnder(first.outdir);
  expect(filesUnder(second.outdir)).toEqual(files);
  // Every stack of the example app, with its assets.
  expect(files.filter((f) => f.endsWith('.template.json')).length).toBeGreaterThanOrEqual(5);
  expect(files.some((f) => f.startsWith('asset.'))).toBe(true);
  const different = files.filter((f) => !fs.readFileSync(path.join(first.outdir, f)).equals(fs.readFileSync(path.join(second.outdir, f))));
  expect(different).toEqual([]);
});

test('asset hashes are equal, and each names the asset directory it was computed from', () => {
  const hashes = (outdir: string): string[] => fs.readdirSync(outdir)
    .filter((f) => f.endsWith('.assets.json'))
    .flatMap((f) => Object.keys(JSON.parse(fs.readFileSync(path.join(outdir, f), 'utf8')).files ?? {}))
    .sort();
  const [first, second] = runs;
  const firstHashes = hashes(first.outdir);
  expect(firstHashes.length).toBeGreaterThan(0);
  expect(hashes(second.outdir)).toEqual(firstHashes);
  // Lambda code assets (directories) are staged under their hash: same hash, same content.
  const staged = fs.readdirSync(first.outdir).filter((f) => f.startsWith('asset.')).map((f) => f.slice('asset.'.length));
  expect(staged.length).toBeGreaterThan(0);
  for (const hash of staged) {
    expect(firstHashes).toContain(hash);
  }
});

test('synth makes no network call: no interface but loopback, and no Node process tried the network', () => {
  // The guard was active in the CLI and in the app it spawned.
  const loaded = readIfExists(loadLog).trim().split('\n').map((l) => l.split(' ').slice(1, 3).map((w) => path.basename(w)).join(' '));
  expect(loaded.filter((l) => l === 'cdk synth')).toHaveLength(2);
  expect(loaded.filter((l) => l === 'ts-node --transpile-only')).toHaveLength(2);

  expect(readIfExists(networkLog)).toBe('');

  if (isolated) {
    for (const run of runs) {
      const interfaces = run.netDev!.split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter((l) => l !== '');
      expect(interfaces).toEqual(['lo']);
    }
  }
});

test('the network guard refuses and records what it sees (so an empty log means something)', () => {
  const probe = spawnSync(process.execPath, ['-e', "require('https').get('https://registry.npmjs.org/')"], {
    env: { ...process.env, NODE_OPTIONS: `--require ${guard}`, GUARD_NETWORK_LOG: path.join(work, 'probe.log'), GUARD_LOAD_LOG: path.join(work, 'probe-loaded.log') },
    encoding: 'utf8',
  });
  expect(probe.status).not.toBe(0);
  expect(probe.stderr).toContain('network disabled in this test: https.get');
  expect(readIfExists(path.join(work, 'probe.log'))).toMatch(/^\d+ https\.get\n$/);
});

test('synth needs no Docker: the only docker on PATH is a fake, and nothing invoked it', () => {
  for (const run of runs) {
    expect(run.docker).toBe(fakeDocker);
  }
  expect(readIfExists(dockerLog)).toBe('');
});

test('the assembly holds no key material, and the check CLI reads it', () => {
  const [first] = runs;
  for (const file of filesUnder(first.outdir).filter((f) => f.endsWith('.json'))) {
    expect(fs.readFileSync(path.join(first.outdir, file), 'utf8')).not.toContain('PRIVATE KEY');
  }
  let out = '';
  let err = '';
  const code = runCli(['check', first.outdir], { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } }, '0');
  expect(err).toBe('');
  expect(code).toBe(0);
  expect(out).not.toBe('');
});
