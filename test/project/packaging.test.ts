/**
 * What `npm pack` puts in the tarball (jsii-pacmak's js target packs the project the same way, and
 * the Python wheel embeds that tarball). A tarball without a handler bundle installs cleanly and
 * then fails in the user's synth with "Cannot find asset", so every handler the constructs
 * reference must be in it. `npm test` bundles the handlers before jest runs.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

/** The files `npm pack` would put in the tarball of `dir`, relative to the package root. */
function packedFiles(dir: string): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    // Room for a listing gone wrong (a stray folder of thousands of files), so the test says which.
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, npm_config_loglevel: 'error', npm_config_update_notifier: 'false' },
  });
  const [pack] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return pack.files.map(f => f.path.split(path.sep).join('/')).sort();
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(e => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map(e => path.join(e.parentPath, e.name));
}

/** Every `handlerName: '<kind>'` in src/, with the files that name it. */
function referencedHandlers(): Map<string, string[]> {
  const handlers = new Map<string, string[]>();
  for (const file of tsFiles(path.join(ROOT, 'src'))) {
    const code = fs.readFileSync(file, 'utf8');
    for (const m of code.matchAll(/\bhandlerName:\s*(['"`])([^'"`]+)\1/g)) {
      const rel = path.relative(ROOT, file);
      handlers.set(m[2], [...(handlers.get(m[2]) ?? []), rel]);
    }
  }
  return handlers;
}

/** Every lambda/<kind>/index.ts: each becomes assets/lambda/<kind>/index/index.js. */
function handlerSources(): string[] {
  const dir = path.join(ROOT, 'lambda');
  return fs.readdirSync(dir).filter(kind => fs.existsSync(path.join(dir, kind, 'index.ts'))).sort();
}

const bundlePath = (kind: string) => `assets/lambda/${kind}/index/index.js`;

/** Bundles that are not handlers: the `cdk-certificates check` CLI, which CertificateCheckStep copies into the cloud assembly. */
const OTHER_BUNDLES = ['assets/manifest/cli/main/index.js', 'assets/manifest/cli/live/index.js',
  // ScheduledCertificateCheck's function.
  'assets/manifest/cli/live-lambda/index.js'];

/** What a jsii package ships: its compiled code, the handler bundles, and these top-level files. */
const SHIPPED_FOLDERS = ['lib', 'assets'];
const SHIPPED_FILES = ['package.json', 'README.md', 'LICENSE', 'API.md', '.jsii', '.jsii.tabl.json'];

/** Packed paths outside the list above, one line per top-level entry: `.venv/ (23546 files)`. */
function unexpected(files: string[]): string[] {
  const counts = new Map<string, number>();
  for (const f of files) {
    const [top, ...rest] = f.split('/');
    if (rest.length ? SHIPPED_FOLDERS.includes(top) : SHIPPED_FILES.includes(top)) continue;
    const key = rest.length ? `${top}/` : top;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => (key.endsWith('/') ? `${key} (${n} file${n === 1 ? '' : 's'})` : key));
}

describe('handlers the constructs reference', () => {
  test('are found in src/, and each has its handler source in lambda/<kind>/index.ts', () => {
    const referenced = referencedHandlers();
    expect(referenced.size).toBeGreaterThan(0);
    const sources = handlerSources();
    const withoutSource = [...referenced].filter(([kind]) => !sources.includes(kind))
      .map(([kind, files]) => `handlerName '${kind}' (${files.join(', ')}) has no lambda/${kind}/index.ts`);
    expect(withoutSource).toEqual([]);
  });
});

describe('npm pack of this project', () => {
  let files: string[];
  beforeAll(() => {
    files = packedFiles(ROOT);
  }, 300_000);

  test('ships the bundle of every handler the constructs reference and of every lambda/<kind>', () => {
    const kinds = new Map<string, string>();
    for (const [kind, refs] of referencedHandlers()) kinds.set(kind, `handlerName '${kind}' in ${refs.join(', ')}`);
    for (const kind of handlerSources()) if (!kinds.has(kind)) kinds.set(kind, `lambda/${kind}/index.ts`);
    expect(kinds.size).toBeGreaterThan(0);
    const missing = [...kinds].filter(([kind]) => !files.includes(bundlePath(kind)))
      .map(([kind, why]) => `${bundlePath(kind)} is not in the package (${why}): run "npx projen bundle" before packing`);
    expect(missing).toEqual([]);
  });

  test('ships no bundle for a handler that does not exist', () => {
    const kinds = new Set([...referencedHandlers().keys(), ...handlerSources()]);
    const strays = files.filter(f => f.startsWith('assets/') && !kinds.has(f.split('/')[2] ?? '') && !OTHER_BUNDLES.includes(f));
    expect(strays).toEqual([]);
  });

  test('ships the check CLI bundle that CertificateCheckStep runs', () => {
    const missing = OTHER_BUNDLES.filter(f => !files.includes(f))
      .map(f => `${f} is not in the package: run "npx projen bundle" before packing`);
    expect(missing).toEqual([]);
  });

  test('ships only lib/, assets/ and the package files (nothing the build or CI leaves in the project)', () => {
    expect(files).toContain('package.json');
    expect(unexpected(files)).toEqual([]);
  });

  test('ships no handler source, test, TypeScript source or source map', () => {
    const unwanted = files.filter(f =>
      /^(lambda|test|src)\//.test(f) || f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
    expect(unwanted).toEqual([]);
  });
});

// The compiled library is not there when `npm test` runs on a fresh clone (jsii compiles later), so
// the packing rules are checked on a stand-in tree: this project's package.json and .npmignore with
// one file of each kind the build leaves in the project. (No source map: the rules would ship one, and
// the build makes none: tsc inlines them and the bundles are built without; the real pack above checks.)
describe('npm pack rules, on a compiled tree', () => {
  const STAND_IN = [
    'lib/index.js', 'lib/index.d.ts', 'lib/private/provider.js', 'lib/manifest/cli/main.js', '.jsii', 'API.md',
    'assets/lambda/some-kind/index/index.js',
    'src/index.ts', 'lambda/some-kind/index.ts', 'lambda/shared/kit.ts', 'test/some.test.ts',
    'test/__snapshots__/some.test.ts.snap', 'examples/app.ts', 'bench/bench.ts', 'scripts/ts-consumer.sh',
    'cdk.out/manifest.json', 'coverage/lcov.info', 'test-reports/junit.xml', 'tsconfig.json', '.ci/run',
    '.venv/bin/python3', 'dist/js/cdk-certificates@0.0.0.jsii.tgz', 'docs/ARCHITECTURE.md', 'requirements-dev.txt',
  ];
  let files: string[];
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'packaging-'));
    try {
      for (const name of ['package.json', '.npmignore']) fs.copyFileSync(path.join(ROOT, name), path.join(dir, name));
      for (const rel of STAND_IN) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), '// stand-in\n');
      }
      files = packedFiles(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ship lib/index.js, its typings, the jsii assembly and the handler bundles', () => {
    for (const f of ['lib/index.js', 'lib/index.d.ts', 'lib/private/provider.js', 'lib/manifest/cli/main.js', '.jsii',
      'assets/lambda/some-kind/index/index.js', 'package.json']) {
      expect(files).toContain(f);
    }
  });

  test('ship nothing from lambda/, test/, src/, the dev folders or what the build and CI leave behind', () => {
    expect(unexpected(files)).toEqual([]);
  });
});
