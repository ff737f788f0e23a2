import * as fs from 'fs';
import * as path from 'path';
import { awscdk, Component, javascript, JsonFile } from 'projen';
import { Job, JobStep } from 'projen/lib/github/workflows-model';
import { UpdateSnapshot } from 'projen/lib/javascript';

const cdkVersion = '2.257.0';
// The Lambda runtime provides the AWS SDK v3; handlers bundle everything else.
const handlerTarget = 'node22';

// What the build needs on a GitHub runner beyond Node.js: the test suite's Python tools (moto's
// server, cfn-lint) in .venv, as the README's command 2 installs them, and Debian's python3-build
// and twine, which scripts/package-python.sh builds the wheel with (see the PyPI note below).
const pythonSetupSteps: JobStep[] = [
  { name: 'Set up Python', uses: 'actions/setup-python@v5', with: { 'python-version': '3.11' } },
  { name: 'Python test tools (.venv)', run: 'python3 -m venv .venv && .venv/bin/pip install -q -r requirements-dev.txt' },
  { name: 'python3-build and twine', run: 'sudo apt-get update -qq && sudo apt-get install -y -qq python3-build twine' },
];

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-certificates',
  description:
    'AWS CDK constructs that declare certificates where AWS keeps them: IAM server certificates, DMS certificates, ACM Private CA hierarchies, Lightsail certificates and Alibaba Cloud KMS certificates.',
  author: 'cdk-certificates maintainers',
  authorAddress: 'maintainers@cdk-certificates.dev',
  repositoryUrl: 'https://github.com/cdk-certificates/cdk-certificates.git',
  keywords: ['cdk', 'awscdk', 'aws-cdk', 'certificates', 'tls', 'x509', 'iam', 'acm-pca', 'private-ca', 'dms', 'lightsail', 'alibaba'],
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  cdkVersion,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.0',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  // Releases (issue 16): projen's workflows, committed and checked like every generated file.
  // build.yml builds pull requests; release.yml releases every push to main: `npx projen release`
  // bumps the version from the conventional commits since the latest v* tag (CHANGELOG included),
  // builds, and scripts/release-check.sh proves the artifacts before publib publishes them.
  github: true,
  githubOptions: { mergify: false },
  stale: false,
  pullRequestTemplate: false,
  release: true,
  releaseToNpm: true,
  // The first release (no v* tag yet) is 0.1.0, not projen's 0.0.0, which means "untagged
  // development build" in this library; after it, the conventional commits decide.
  nextVersionCommand: '[ -n "$LATEST_TAG" ] || echo 0.1.0',
  // OIDC: npm and PyPI must each list this repository's release.yml as a trusted publisher.
  npmTrustedPublishing: true,
  releaseWorkflowSetupSteps: pythonSetupSteps,
  buildWorkflowOptions: { preBuildSteps: pythonSetupSteps },
  postBuildSteps: [
    // The release job builds with CI=true, where projen's `package` makes the npm tarball only; the
    // wheel and sdist are built here too, so the proof below covers what release_pypi publishes.
    { name: 'Python packages', run: 'npx projen package:python' },
    { name: 'Prove the artifacts (scripts/release-check.sh)', run: 'scripts/release-check.sh' },
  ],
  depsUpgrade: true,
  depsUpgradeOptions: {
    // Deliberate pins: aws-cdk-lib and constructs are the peer-dependency floor, the registry here
    // serves no newer ACM PCA client, and @peculiar/x509 is pinned (jsii and TypeScript keep their ~ ranges).
    exclude: ['aws-cdk-lib', 'constructs', '@aws-sdk/client-acm-pca', '@peculiar/x509'],
    workflowOptions: { schedule: javascript.UpgradeDependenciesSchedule.WEEKLY },
  },
  sampleCode: false,
  stability: 'experimental',
  minNodeVersion: '20.0.0',
  // The workflows run a maintained Node.js (projen would use minNodeVersion, 20.0.0 exactly).
  workflowNodeVersion: '22.x',
  lambdaAutoDiscover: false,
  publishToPypi: {
    distName: 'cdk-certificates',
    module: 'cdk_certificates',
    trustedPublishing: true,
  },
  devDeps: [
    '@aws-sdk/client-iam@^3',
    '@aws-sdk/client-secrets-manager@^3',
    '@aws-sdk/client-ssm@^3',
    '@aws-sdk/client-s3@^3',
    '@aws-sdk/client-database-migration-service@^3',
    '@aws-sdk/client-lightsail@^3',
    // AcmImportedCertificate's handler, and `check --live` (DescribeStackResources).
    '@aws-sdk/client-acm@^3',
    '@aws-sdk/client-cloudformation@^3',
    // The registry here serves no newer ACM PCA client; handlers use the runtime's SDK anyway.
    '@aws-sdk/client-acm-pca@3.523.0',
    '@alicloud/openapi-client@^0.4.15',
    '@peculiar/x509@2.2.0',
    'reflect-metadata@^0.2.2',
    '@types/aws-lambda@^8',
    '@aws-cdk/aws-service-spec',
    'aws-sdk-client-mock@^4.1.0',
    'cdk-nag@^3.0.2',
    'aws-cdk@^2.1148.0',
    'esbuild@^0.28.2',
    // test/project/release.test.ts reads the generated workflows.
    'yaml@^2',
  ],
  jestOptions: {
    updateSnapshot: UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // @peculiar/x509 (through tsyringe) needs the Reflect metadata API loaded first.
      setupFiles: ['reflect-metadata', '<rootDir>/test/support/python-tools.ts'],
      testTimeout: 60_000,
      // What NODE_PATH is to the Lambda runtime: the bundle tier copies each shipped bundle to a
      // folder outside the project, where it finds the AWS SDK only through this path.
      modulePaths: ['<rootDir>/node_modules'],
      // The test tools' venv and build outputs hold thousands of files jest need not index.
      modulePathIgnorePatterns: ['<rootDir>/.venv/', '<rootDir>/dist/', '<rootDir>/cdk.out/'],
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
    },
  },
  tsconfigDev: {
    compilerOptions: {
      lib: ['es2022', 'dom'],
      // Jest runs CommonJS: handlers' lazy `import()` of the AWS SDK becomes `require`, as in the
      // bundles (see `dynamic-import` below).
      module: 'commonjs',
      moduleResolution: javascript.TypeScriptModuleResolution.NODE,
      ignoreDeprecations: '6.0',
    },
  },
  eslintOptions: {
    dirs: ['src'],
    // Handlers bundle their devDependencies (or get the AWS SDK from the Lambda runtime).
    devdirs: ['lambda', 'examples', 'bench', 'test', 'projenrc', 'scripts'],
  },
  gitignore: ['/.venv', '/cdk.context.json', '/cdk.out', '/examples/cdk.out', '/assets', '/bench/results', '/.jsii.tabl.json', '/dist/rosetta'],
});

// The contract layer: what constructs, handlers and the CLI share. It runs at synth and at deploy,
// so it imports Node built-ins only, and handlers reach into src/ only through it.
const CDK_IMPORTS = { group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'], message: 'Handlers and the contract run without the CDK.' };
project.eslint?.addOverride({
  files: ['src/contract/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        CDK_IMPORTS,
        { group: ['../*', '!../contract', '!../contract/*'], message: 'src/contract imports only Node built-ins and other contract files.' },
        { regex: '^(?!node:|\\.{1,2}/|(crypto|net|fs|path|os|util|zlib)$)', message: 'src/contract imports only Node built-ins (no packages).' },
      ],
    }],
  },
});
project.eslint?.addOverride({
  files: ['lambda/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        CDK_IMPORTS,
        { group: ['**/src/*', '**/src/**', '!**/src/contract', '!**/src/contract/**'], message: 'lambda/ imports from src/ only src/contract (the shared contract).' },
      ],
    }],
  },
});

for (const pattern of ['/lambda/', '/bench/', '/examples/', '/scripts/', '/cdk.out/', '/.ci/', '/.venv/', '/requirements-dev.txt', '/docs/']) {
  project.addPackageIgnore(pattern);
}
// The handler bundles ship in the npm tarball (and so in the Python wheel).
project.npmignore?.include('/assets/');

// Code outside src/ and test/ gets its own tsconfig so the type checker and eslint's project
// service see it (handlers use DOM-free Node types; the rest are dev scripts).
for (const dir of ['lambda', 'bench', 'examples', 'scripts']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../tsconfig.json',
      compilerOptions: { noEmit: true, rootDir: '..', isolatedModules: true, lib: ['es2022', 'dom'] },
      include: ['**/*.ts'],
      exclude: ['node_modules'],
    },
  });
}

// `cdk-certificates check <cdk.out>`: reads the certificate manifest of a cloud assembly.
project.addBins({ 'cdk-certificates': 'lib/manifest/cli/main.js' });

// Every lambda/<name>/index.ts becomes assets/lambda/<name>/index/index.js.
const lambdaDir = path.join(__dirname, 'lambda');
for (const name of fs.existsSync(lambdaDir) ? fs.readdirSync(lambdaDir).sort() : []) {
  if (fs.existsSync(path.join(lambdaDir, name, 'index.ts'))) {
    project.bundler.addBundle(`lambda/${name}/index.ts`, {
      platform: 'node',
      target: handlerTarget,
      externals: ['@aws-sdk/*'],
      outfile: 'index.js',
      sourcemap: false,
      minify: true,
      // esbuild would keep `import("@aws-sdk/…")` for an external, and Node resolves an ES import
      // without NODE_PATH, which is where the Lambda runtime puts the SDK. As a `require` it
      // resolves through NODE_PATH both on Lambda and under plain Node.
      esbuildArgs: { '--supported:dynamic-import': 'false' },
    });
  }
}

// The `cdk-certificates check` CLI as one self-contained file (Node built-ins only, no externals):
// assets/manifest/cli/main/index.js. CertificateCheckStep copies it into the cloud assembly, so the
// pipeline runs the check of the library that synthesized the app, with no registry at run time.
// node18: the oldest Node.js of the CodeBuild standard images the step may run on. Not minified,
// so a reviewer can read what runs in the pipeline.
project.bundler.addBundle('src/manifest/cli/main.ts', {
  platform: 'node',
  target: 'node18',
  outfile: 'index.js',
  sourcemap: false,
});

// `cdk-certificates check --live`: assets/manifest/cli/live/index.js, the AWS SDK clients it reads
// with bundled in (no externals), so the `check` CLI above stays small and SDK-free; main.ts loads it
// only for `--live`. Minified: the SDK is most of it. Its SDK imports are devDependencies that ship
// inside the bundle, never from lib/, which the lint rule below allows for this file alone.
project.bundler.addBundle('src/manifest/cli/live.ts', {
  platform: 'node',
  target: 'node18',
  outfile: 'index.js',
  sourcemap: false,
  minify: true,
  esbuildArgs: { '--supported:dynamic-import': 'false' },
});
project.eslint?.addOverride({
  files: ['src/manifest/cli/live.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true, optionalDependencies: false, peerDependencies: true }] },
});

// ScheduledCertificateCheck's function: assets/manifest/cli/live-lambda/index.js, the live check of
// live.ts above with every AWS SDK client external, as for the handlers: the Lambda Node.js 22 runtime
// provides the SDK v3 (SNS included), so the bundle stays small and needs no SDK of its own.
project.bundler.addBundle('src/manifest/cli/live-lambda.ts', {
  platform: 'node',
  target: handlerTarget,
  externals: ['@aws-sdk/*'],
  outfile: 'index.js',
  sourcemap: false,
  minify: true,
  esbuildArgs: { '--supported:dynamic-import': 'false' },
});

// Tests load the handler bundles from assets/, exactly as a published package does.
project.testTask.prependSpawn(project.bundler.bundleTask);
// No package without its handlers: every path to a tarball (and so to the wheel, which embeds it)
// bundles them first, even `npx projen compile && npx projen package:js` on a fresh clone.
project.tasks.tryFind('package:js')?.prependSpawn(project.bundler.bundleTask);

// README examples must compile against the real API (also what the Python README is made from).
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compile every README example with jsii-rosetta (strict)',
  exec: 'jsii-rosetta extract --compile --strict --fail',
});
project.postCompileTask.spawn(rosetta);

const cdkEnv = {
  CDK_DISABLE_VERSION_CHECK: '1',
  AWS_EC2_METADATA_DISABLED: 'true',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
};

const example = project.addTask('example', {
  description: 'Synthesize the example app into cdk.out/ (no AWS account, network or Docker) and print a summary',
  // A deprecated aws-cdk-lib API throws instead of warning: the example must stay current.
  env: { ...cdkEnv, JSII_DEPRECATED: 'fail' },
});
example.spawn(project.bundler.bundleTask);
example.exec('cdk synth --app "ts-node --transpile-only --prefer-ts-exts examples/app.ts" --output cdk.out --quiet --no-notices --no-version-reporting');
example.exec('ts-node --transpile-only --prefer-ts-exts scripts/summarize-assembly.ts cdk.out');

const bench = project.addTask('bench', {
  description: 'Run the synth and handler benchmark and print a table',
});
bench.spawn(project.bundler.bundleTask);
bench.exec('node --expose-gc -r ts-node/register/transpile-only bench/bench.ts');

// jsii-pacmak's Python target pip-installs pinned build tools the registry here cannot serve:
// generate the Python sources only, then build the wheel and sdist with Debian's python3-build.
const packagePython = project.tasks.tryFind('package:python');
if (packagePython) {
  packagePython.reset();
  packagePython.exec('bash scripts/package-python.sh');
  // The wheel embeds the npm tarball: bundle the handlers first here too.
  packagePython.prependSpawn(project.bundler.bundleTask);
}

// What publib publishes is exactly what the release job built and proved (scripts/release-check.sh):
// projen's publish jobs would check out the repository again and rebuild each package from the npm
// tarball (package:js, package:python) before publishing; here they publish the downloaded dist/js
// and dist/python as they are. The PR build proves the packages in its build job, so projen's
// separate package-js and package-python jobs (the same rebuild) are left out of build.yml too.
const REBUILD_STEPS = /^(Checkout|Install Dependencies|Extract build artifact|Move build artifact out of the way|Create \w+ artifact|Collect \w+ artifact)$/;
class PublishWhatWasProven extends Component {
  // After the Release component's preSynthesize, which adds the publish jobs.
  public preSynthesize(): void {
    const releaseWorkflow = project.github?.tryFindWorkflow('release');
    for (const id of ['release_npm', 'release_pypi']) {
      const job = releaseWorkflow?.getJob(id) as Job | undefined;
      if (!releaseWorkflow || !job) {
        throw new Error(`release.yml has no ${id} job`);
      }
      const steps = job.steps.filter((s) => !REBUILD_STEPS.test(s.name ?? ''));
      if (steps.length !== job.steps.length - 6) {
        throw new Error(`${id}: expected projen's six rebuild steps, found ${job.steps.length - steps.length}`);
      }
      if (id === 'release_npm') {
        // npm trusted publishing (OIDC) needs npm 11.5.1 or newer; Node.js 22 ships npm 10.
        const at = steps.findIndex((s) => s.name === 'Release');
        steps.splice(at, 0, { name: 'npm 11.5.1 or newer (trusted publishing)', run: 'npm install -g npm@^11.5.1 && npm --version' });
      }
      releaseWorkflow.updateJob(id, { ...job, steps });
    }
    const buildWorkflow = project.github?.tryFindWorkflow('build');
    for (const id of ['package-js', 'package-python']) {
      buildWorkflow?.removeJob(id);
    }
  }
}
new PublishWhatWasProven(project);

project.synth();
