/**
 * Releases (issue 16): what `.projenrc.ts` generates for them, and the version bump itself.
 *
 * The heavy proof is `.ci/run`'s release dry run: `npx projen release` (bump, build, unbump),
 * `npx projen package:python`, then scripts/release-check.sh on the npm tarball, the wheel and the
 * sdist it leaves in dist/ (the version stamped in each; each installs and synthesizes). Here, in
 * seconds: the tasks and workflows that make the release job run that same path and publish exactly
 * what it proved, and projen's bump on throwaway repositories (no tag, a tag and a fix, a tag and a
 * breaking change), which stamps the version into package.json and unbump restores 0.0.0.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';

const ROOT = path.join(__dirname, '..', '..');

interface TaskStep { readonly spawn?: string; readonly exec?: string; readonly execArgs?: string[]; readonly builtin?: string }
interface Task { readonly steps?: TaskStep[]; readonly env?: Record<string, string> }
const TASKS = (JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf8')) as { tasks: Record<string, Task> }).tasks;
const stepText = (s: TaskStep) => s.spawn ?? s.exec ?? s.builtin ?? s.execArgs?.join(' ') ?? '';
const steps = (name: string) => (TASKS[name]?.steps ?? []).map(stepText);

interface WorkflowStep { readonly name?: string; readonly run?: string; readonly uses?: string; readonly env?: Record<string, string> }
interface WorkflowJob { readonly steps: WorkflowStep[]; readonly permissions?: Record<string, string>; readonly needs?: string | string[] }
interface Workflow { readonly on: Record<string, unknown>; readonly jobs: Record<string, WorkflowJob> }
const workflow = (name: string) => parse(fs.readFileSync(path.join(ROOT, '.github', 'workflows', `${name}.yml`), 'utf8')) as Workflow;
const runs = (job: WorkflowJob) => job.steps.map((s) => s.run ?? s.uses ?? '');

const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
const PINS = ['@aws-sdk/client-acm-pca', '@peculiar/x509', 'aws-cdk-lib', 'constructs'];

describe('the release task', () => {
  test('is projen\'s: a clean dist/, bump, the full build (tests and packages), unbump, nothing changed', () => {
    expect(steps('release')).toEqual(['rm -fr dist', 'bump', 'build', 'unbump', 'git diff --ignore-space-at-eol --exit-code']);
    expect(steps('build')).toEqual(['default', 'pre-compile', 'compile', 'post-compile', 'test', 'package']);
    // Publishing is no task: only the release workflow's publish jobs run publib.
    expect(JSON.stringify(TASKS)).not.toMatch(/publib/);
  });

  test('the wheel and the sdist come from scripts/package-python.sh, after the handler bundles', () => {
    expect(steps('package:python')).toEqual(['bundle', 'bash scripts/package-python.sh']);
    expect(steps('package-all')).toEqual(['package:js', 'package:python']);
  });

  test('the first release is 0.1.0 (0.0.0 means an untagged build); later ones follow the commits', () => {
    expect(steps('bump:next-version')).toEqual(['[ -n "$LATEST_TAG" ] || echo 0.1.0']);
    expect(TASKS.bump.env).toMatchObject({ OUTFILE: 'package.json', BUMPFILE: 'dist/version.txt', CHANGELOG: 'dist/changelog.md', RELEASETAG: 'dist/releasetag.txt' });
  });
});

describe('the workflows', () => {
  test('release.yml: every push to main runs the release task, builds the Python packages and proves all of them before the upload', () => {
    const release = workflow('release');
    expect(release.on.push).toEqual({ branches: ['main'] });
    const commands = runs(release.jobs.release);
    const at = (command: string) => {
      const i = commands.indexOf(command);
      expect(i).toBeGreaterThanOrEqual(0);
      return i;
    };
    expect(at('npx projen release')).toBeLessThan(at('npx projen package:python'));
    expect(at('npx projen package:python')).toBeLessThan(at('scripts/release-check.sh'));
    expect(at('scripts/release-check.sh')).toBeLessThan(commands.findIndex((c) => c.startsWith('actions/upload-artifact')));
    // The test suite's Python tools and the wheel's build tools are there before the release task.
    expect(at('python3 -m venv .venv && .venv/bin/pip install -q -r requirements-dev.txt')).toBeLessThan(at('npx projen release'));
  });

  test('release.yml: npm and PyPI get exactly the proven files, with trusted publishing and no token', () => {
    const release = workflow('release');
    for (const [id, publisher, env] of [['release_npm', 'publib-npm', 'NPM_TRUSTED_PUBLISHER'], ['release_pypi', 'publib-pypi', 'PYPI_TRUSTED_PUBLISHER']] as const) {
      const job = release.jobs[id];
      expect(job.needs).toBe('release');
      expect(job.permissions?.['id-token']).toBe('write');
      const commands = runs(job);
      // No checkout and no rebuild: the downloaded dist/ is what publib publishes.
      expect(commands.filter((c) => /actions\/checkout|projen|tar .*-x/.test(c))).toEqual([]);
      expect(commands.some((c) => c.startsWith('actions/download-artifact'))).toBe(true);
      const publish = job.steps.find((s) => s.run?.includes(publisher));
      expect(publish?.env?.[env]).toBe('true');
      expect(JSON.stringify(job)).not.toMatch(/NPM_TOKEN|TWINE_USERNAME|TWINE_PASSWORD/);
    }
    const npm = runs(release.jobs.release_npm);
    expect(npm.indexOf('npm install -g npm@^11.5.1 && npm --version')).toBeLessThan(npm.findIndex((c) => c.includes('publib-npm')));
  });

  test('build.yml: pull requests build, package and prove the packages in one job', () => {
    const build = workflow('build');
    expect(build.on).toHaveProperty('pull_request');
    const commands = runs(build.jobs.build);
    expect(commands).toEqual(expect.arrayContaining(['npx projen build', 'npx projen package:python', 'scripts/release-check.sh']));
    // projen's package-js/package-python jobs would rebuild the packages on a runner without the wheel's tools.
    expect(Object.keys(build.jobs).sort()).toEqual(['build', 'self-mutation']);
  });

  test('upgrade-main.yml: weekly, and the deliberate pins are never upgraded', () => {
    const upgrade = workflow('upgrade-main');
    expect(upgrade.on.schedule).toEqual([{ cron: '0 0 * * 1' }]);
    const commands = steps('upgrade').join('\n');
    for (const pin of PINS) {
      expect(commands.split(/[\s,=]/)).not.toContain(pin);
    }
    const devDeps = PACKAGE.devDependencies as Record<string, string>;
    expect(devDeps['@aws-sdk/client-acm-pca']).toBe('3.523.0');
  });

  test('generated, and only these: no mergify, auto-approve, stale or pull request template', () => {
    const files = (JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'files.json'), 'utf8')) as { files: string[] }).files;
    expect(files.filter((f) => f.startsWith('.github/')).sort()).toEqual([
      '.github/workflows/build.yml',
      '.github/workflows/pull-request-lint.yml',
      '.github/workflows/release.yml',
      '.github/workflows/upgrade-main.yml',
    ]);
  });
});

describe('Construct Hub metadata', () => {
  test('package.json: keywords, description, stability, license, repository', () => {
    expect(PACKAGE.keywords).toEqual(expect.arrayContaining(['cdk', 'awscdk', 'aws-cdk', 'certificates']));
    expect(PACKAGE.description).toMatch(/certificates/);
    expect(PACKAGE.stability).toBe('experimental');
    expect(PACKAGE.license).toBe('Apache-2.0');
    expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    expect(PACKAGE.repository).toEqual({ type: 'git', url: expect.stringMatching(/^https:\/\/github\.com\/[^/]+\/cdk-certificates\.git$/) });
    // Committed as 0.0.0 (an untagged build); only the release task's bump stamps a version, in the
    // working tree, while this very test may run inside it.
    const committed = JSON.parse(execFileSync('git', ['show', 'HEAD:package.json'], { cwd: ROOT, encoding: 'utf8' })) as { version: string };
    expect(committed.version).toBe('0.0.0');
    expect((PACKAGE.jsii as { targets: Record<string, unknown> }).targets.python).toEqual({ distName: 'cdk-certificates', module: 'cdk_certificates' });
  });
});

describe('projen bump on a throwaway repository', () => {
  let dir: string;
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, stdio: 'pipe' });
  const projen = (task: string) => execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'projen', 'bin', 'projen'), task], {
    cwd: dir, stdio: 'pipe', env: { ...process.env, CI: 'true', RELEASE: 'true' },
  });
  const version = () => (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const read = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-certificates-bump-'));
    fs.mkdirSync(path.join(dir, '.projen'));
    fs.copyFileSync(path.join(ROOT, '.projen', 'tasks.json'), path.join(dir, '.projen', 'tasks.json'));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'cdk-certificates', version: '0.0.0', repository: PACKAGE.repository }, undefined, 2) + '\n');
    fs.writeFileSync(path.join(dir, '.gitignore'), '/node_modules\n/dist\n');
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'chore: the project');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each<[string, (() => void), string, RegExp]>([
    ['no tag yet: the first release', () => undefined, '0.1.0', /^## 0\.1\.0 /m],
    ['v0.3.1 and a fix', () => { git('tag', 'v0.3.1'); git('commit', '-q', '--allow-empty', '-m', 'fix: a fix'); }, '0.3.2', /### Bug Fixes\n\n\* a fix/],
    ['v0.3.1 and a breaking change (0.x: the minor)', () => { git('tag', 'v0.3.1'); git('commit', '-q', '--allow-empty', '-m', 'feat!: a break'); }, '0.4.0', /a break/],
  ])('%s', (_name, history, expected, changelog) => {
    history();
    projen('bump');
    expect(version()).toBe(expected);
    expect(read('dist/version.txt')).toBe(expected);
    expect(read('dist/releasetag.txt')).toBe(`v${expected}`);
    expect(read('dist/changelog.md')).toMatch(changelog);
    projen('unbump');
    expect(version()).toBe('0.0.0');
    expect(git('status', '--porcelain').toString()).toBe('');
  });
});
