import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack, Stage, StageProps } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { CertificatePem, PrivateKey, ServerCertificate } from '../../src';
import { CertificateCheckStep } from '../../src/manifest/certificate-check-step';
import { runCli } from '../../src/manifest/cli/check';
import { versionLabel } from '../../src/manifest/cli/main';
import { makeTestPki, TestCertificate, TestPki } from '../support/fixtures/pki';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const CONNECTION_ARN = 'arn:aws:codestar-connections:eu-west-1:123456789012:connection/0a1b2c3d-0000-4000-8000-000000000000';
const REPO = path.join(__dirname, '..', '..');
const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
/** The CLI bundle the package ships (`npx projen bundle` writes it). */
const CLI_BUNDLE = path.join(REPO, 'assets', 'manifest', 'cli', 'main', 'index.js');
const CLI_DIRECTORY = /^cdk-certificates\/check-[0-9a-f]{16}$/;
/** Anything that would fetch code or reach a registry at run time. */
const REGISTRY_ACCESS = /\b(npx|npm|yarn|pnpm|pip|curl|wget|git)\b|registry|https?:/;

let pki: TestPki;
const tempDirs: string[] = [];
beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A preload that fails the process when it loads a module that could reach a network or run a program. */
function networkGuard(): string {
  const guard = path.join(tempDir('check-step-guard-'), 'no-network.js');
  fs.writeFileSync(guard, [
    "const Module = require('module');",
    'const load = Module._load;',
    'Module._load = function (request, ...rest) {',
    "  if (/^(node:)?(net|tls|http|https|http2|dns|dgram|child_process)$/.test(request)) throw new Error('the check loaded ' + request);",
    '  return load.call(this, request, ...rest);',
    '};',
  ].join('\n'));
  return guard;
}

interface CommandsRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly directory: string;
}

/**
 * Runs the step's commands the way CodeBuild does: with `sh`, in a copy of the synth output (the
 * input artifact) in a folder outside the project with no node_modules, with Node.js on the PATH
 * and nothing else installed; a preload fails the run if the check loads a network module.
 */
function runCommands(step: CertificateCheckStep, assemblyDirectory: string): CommandsRun {
  const directory = tempDir('check-step-build-');
  fs.cpSync(assemblyDirectory, directory, { recursive: true });
  for (let dir = directory; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    expect(fs.existsSync(path.join(dir, 'node_modules'))).toBe(false);
  }
  const result = spawnSync('sh', ['-e', '-c', step.commands.join('\n')], {
    cwd: directory,
    encoding: 'utf8',
    env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, NODE_OPTIONS: `--require ${networkGuard()}` },
    timeout: 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, directory };
}

interface CertificatesStageProps extends StageProps {
  readonly leaf: TestCertificate;
}

/** A stage with one stack holding an IAM server certificate whose PEM is known at synth. */
class CertificatesStage extends Stage {
  constructor(scope: Construct, id: string, props: CertificatesStageProps) {
    super(scope, id, props);
    const stack = new Stack(this, 'Certs');
    new ServerCertificate(stack, 'Web', {
      certificateBody: CertificatePem.fromString(props.leaf.certificatePem),
      certificateChain: CertificatePem.fromString(pki.chainPem),
      privateKey: PrivateKey.fromSecret(secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'tls/www')),
    });
  }
}

function newPipeline(scope: Construct, props: Partial<pipelines.CodePipelineProps> = {}): pipelines.CodePipeline {
  return new pipelines.CodePipeline(scope, 'Pipeline', {
    synth: new pipelines.ShellStep('Synth', {
      input: pipelines.CodePipelineSource.connection('example/app', 'main', { connectionArn: CONNECTION_ARN }),
      commands: ['npm ci', 'npx cdk synth'],
    }),
    ...props,
  });
}

function newApp(): App {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-step-'));
  tempDirs.push(outdir);
  return new App({ outdir });
}

interface PipelineAction {
  Name: string;
  RunOrder: number;
  ActionTypeId: { Category: string; Provider: string };
  Configuration?: { ProjectName?: unknown };
  InputArtifacts?: Array<{ Name: string }>;
  OutputArtifacts?: Array<{ Name: string }>;
}

function pipelineStages(template: Template): Array<{ Name: string; Actions: PipelineAction[] }> {
  const pipelinesFound = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  expect(pipelinesFound).toHaveLength(1);
  return pipelinesFound[0].Properties.Stages;
}

/** The CodeBuild project an action runs, with its parsed buildspec. */
function projectOf(template: Template, action: PipelineAction): { properties: any; buildSpec: any } {
  const ref = (action.Configuration!.ProjectName as { Ref: string }).Ref;
  const properties = template.toJSON().Resources[ref].Properties;
  return { properties, buildSpec: JSON.parse(properties.Source.BuildSpec) };
}

describe('CertificateCheckStep in a CodePipeline', () => {
  test('stage pre: the check runs on the synth output, then the manual approval, then the deployment', () => {
    const app = newApp();
    const pipelineStack = new Stack(app, 'PipelineStack', { env: ENV });
    const pipeline = newPipeline(pipelineStack);
    const prod = new CertificatesStage(app, 'Prod', { env: ENV, leaf: pki.leaf });
    const check = new CertificateCheckStep('CheckCertificates', { stage: prod, minDays: 45 });
    pipeline.addStage(prod, {
      pre: pipelines.Step.sequence([check, new pipelines.ManualApprovalStep('Approve')]),
    });
    const template = Template.fromStack(pipelineStack);

    const stages = pipelineStages(template);
    const build = stages.find((s) => s.Name === 'Build')!;
    const synthOutput = build.Actions.find((a) => a.Name === 'Synth')!.OutputArtifacts![0].Name;
    const prodStage = stages.find((s) => s.Name === 'Prod')!;
    const byName = new Map(prodStage.Actions.map((a) => [a.Name, a]));
    const checkAction = byName.get('CheckCertificates')!;
    const approve = byName.get('Approve')!;
    const prepare = byName.get('Certs.Prepare')!;

    expect(checkAction.ActionTypeId).toMatchObject({ Category: 'Build', Provider: 'CodeBuild' });
    expect(checkAction.InputArtifacts).toEqual([{ Name: synthOutput }]);
    expect(approve.ActionTypeId).toMatchObject({ Category: 'Approval', Provider: 'Manual' });
    expect(checkAction.RunOrder).toBe(1);
    expect(approve.RunOrder).toBe(2);
    expect(prepare.RunOrder).toBeGreaterThan(approve.RunOrder);

    const { properties, buildSpec } = projectOf(template, checkAction);
    expect(check.cliDirectory).toMatch(CLI_DIRECTORY);
    expect(buildSpec).toEqual({
      version: '0.2',
      phases: {
        build: { commands: [`node ${check.cliDirectory}/index.js check assembly-Prod --min-days 45`] },
      },
    });
    expect(properties.Environment).toMatchObject({ Image: 'aws/codebuild/standard:7.0', ComputeType: 'BUILD_GENERAL1_SMALL', PrivilegedMode: false });
    expect(properties.TimeoutInMinutes).toBe(10);
    expect(check.assemblyDirectory).toBe('assembly-Prod');

    // The directory the step checks is where the CDK wrote the stage's assembly, and the CLI
    // finds the stage's certificates there.
    const assembly = app.synth();
    const stageDir = path.join(assembly.directory, check.assemblyDirectory);
    expect(fs.existsSync(path.join(stageDir, 'manifest.json'))).toBe(true);
    let out = '';
    const code = runCli(['check', stageDir, '--min-days', '45', '--format', 'json'], { stdout: (t) => { out += t; }, stderr: () => undefined }, '0');
    expect(code).toBe(0);
    expect(JSON.parse(out).certificates).toHaveLength(3);

    // The commands themselves, run on the synth output as CodeBuild runs them.
    const gate = runCommands(check, assembly.directory);
    expect(gate.stderr).toBe('');
    expect(gate.code).toBe(0);
    expect(gate.stdout).toMatch(/^OK: 3 certificate\(s\) checked in assembly-Prod are valid for at least 45 more day\(s\)/);
  });

  test('an expiring certificate in the stage fails the command the step runs', () => {
    const app = newApp();
    const pipelineStack = new Stack(app, 'PipelineStack', { env: ENV });
    const pipeline = newPipeline(pipelineStack);
    const prod = new CertificatesStage(pipelineStack, 'Prod', { env: ENV, leaf: pki.expiringLeaf });
    const check = new CertificateCheckStep('CheckCertificates', { stage: prod });
    pipeline.addStage(prod, { pre: [check] });
    const assembly = app.synth();

    // A stage inside the pipeline stack: its directory is named after its full path.
    expect(check.assemblyDirectory).toBe('assembly-PipelineStack-Prod');
    const command = check.commands[check.commands.length - 1];
    const args = command.split(' ').slice(command.split(' ').indexOf('check'));
    expect(args).toEqual(['check', 'assembly-PipelineStack-Prod', '--min-days', '30']);
    let out = '';
    const code = runCli([args[0], path.join(assembly.directory, args[1]), ...args.slice(2)],
      { stdout: (t) => { out += t; }, stderr: () => undefined }, '0');
    expect(code).toBe(1);
    expect(out).toMatch(/^expiring .*PipelineStack\/Prod\/Certs\/Web {2,}certificateBody {2,}CN=expiring\.example\.com/m);

    // The step's own commands fail the build the same way.
    const build = runCommands(check, assembly.directory);
    expect(build.code).toBe(1);
    expect(build.stdout).toBe(out.replace(`${assembly.directory}${path.sep}`, ''));
  });

  test('the step runs this library\'s own CLI from the synth output: no registry, no download, the same file and version', () => {
    const step = new CertificateCheckStep('Check');
    expect(step.cliDirectory).toMatch(CLI_DIRECTORY);
    expect(step.commands).toEqual([`node ${step.cliDirectory}/index.js check . --min-days 30`]);
    expect(step.commands.join('\n')).not.toMatch(REGISTRY_ACCESS);
    expect(step.assemblyDirectory).toBe('.');

    // Named after the SHA-256 of the bundle this package ships.
    const bundle = fs.readFileSync(CLI_BUNDLE);
    expect(step.cliDirectory).toBe(`cdk-certificates/check-${crypto.createHash('sha256').update(bundle).digest('hex').slice(0, 16)}`);

    // Synth puts that very file into the cloud assembly, with this library's version beside it.
    const app = newApp();
    const pipeline = newPipeline(new Stack(app, 'PipelineStack', { env: ENV }));
    const prod = new CertificatesStage(app, 'Prod', { env: ENV, leaf: pki.leaf });
    pipeline.addStage(prod, { pre: [step] });
    const assembly = app.synth();
    const copied = path.join(assembly.directory, step.cliDirectory!);
    expect(fs.readFileSync(path.join(copied, 'index.js')).equals(bundle)).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(copied, 'package.json'), 'utf8'))).toMatchObject({ name: 'cdk-certificates', version: PACKAGE_VERSION, type: 'commonjs' });

    // The version the build runs is this library's, as the CLI itself reports it.
    const version = runCommands(new CertificateCheckStep('Version', { installCommands: [`node ${step.cliDirectory}/index.js --version`] }), assembly.directory);
    expect(version.stdout.split('\n')[0]).toBe(versionLabel(PACKAGE_VERSION));
    // The whole assembly, both stages' certificates included, checked without a registry.
    const build = runCommands(step, assembly.directory);
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
    expect(build.stdout).toMatch(/^OK: 3 certificate\(s\) checked in \., assembly-Prod/);
  });

  test('requireAll fails the build on a certificate the check cannot see', () => {
    const app = newApp();
    const pipelineStack = new Stack(app, 'PipelineStack', { env: ENV });
    const pipeline = newPipeline(pipelineStack);
    const prod = new CertificatesStage(app, 'Prod', { env: ENV, leaf: pki.leaf });
    const fromSecret = new Stack(prod, 'FromSecret');
    const tls = secretsmanager.Secret.fromSecretNameV2(fromSecret, 'Tls', 'tls/api');
    new ServerCertificate(fromSecret, 'Api', {
      certificateBody: CertificatePem.fromSecret(tls, 'certificate'),
      privateKey: PrivateKey.fromSecret(tls, 'key'),
    });
    const strict = new CertificateCheckStep('Strict', { stage: prod, requireAll: true });
    const lenient = new CertificateCheckStep('Lenient', { stage: prod });
    pipeline.addStage(prod, { pre: [strict, lenient] });
    expect(strict.commands).toEqual([`node ${strict.cliDirectory}/index.js check assembly-Prod --min-days 30 --require-all`]);
    const assembly = app.synth();

    const failing = runCommands(strict, assembly.directory);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/^FAILED \(--require-all\): 3 certificate\(s\) checked in assembly-Prod; 1 not checkable at synth/);
    expect(failing.stdout).toMatch(/^Prod\/FromSecret\/Api +certificateBody +secret +the secret tls\/api \(field certificate\)$/m);
    const passing = runCommands(lenient, assembly.directory);
    expect(passing.code).toBe(0);
    expect(passing.stdout).toMatch(/^OK: 3 certificate\(s\) checked in assembly-Prod .*; 1 not checkable at synth:$/m);
  });

  test('a wave gate without a stage checks the whole assembly; install commands run first; the deprecated cliVersion still downloads that version', () => {
    const app = newApp();
    const pipelineStack = new Stack(app, 'PipelineStack', { env: ENV });
    const pipeline = newPipeline(pipelineStack);
    const wave = pipeline.addWave('Production', {
      pre: [new CertificateCheckStep('CheckAll', {
        cliVersion: '2.0.0',
        installCommands: ['npm config set registry https://npm.example.com/'],
      })],
    });
    wave.addStage(new CertificatesStage(app, 'Eu', { env: ENV, leaf: pki.leaf }));
    wave.addStage(new CertificatesStage(app, 'Us', { env: ENV, leaf: pki.leaf }));
    const template = Template.fromStack(pipelineStack);

    const stage = pipelineStages(template).find((s) => s.Name === 'Production')!;
    const action = stage.Actions.find((a) => a.Name === 'CheckAll')!;
    expect(action.RunOrder).toBe(1);
    // The gate comes before every stage of the wave.
    const prepares = stage.Actions.filter((a) => a.Name.endsWith('.Prepare'));
    expect(prepares.map((a) => a.Name).sort()).toEqual(['Eu.Certs.Prepare', 'Us.Certs.Prepare']);
    expect(Math.min(...prepares.map((a) => a.RunOrder))).toBeGreaterThan(action.RunOrder);
    expect(projectOf(template, action).buildSpec.phases.build.commands).toEqual([
      'npm config set registry https://npm.example.com/',
      'npx --yes --legacy-peer-deps cdk-certificates@2.0.0 check . --min-days 30',
    ]);
  });

  test('a nested stage: the directory inside its parent stage\'s assembly', () => {
    const app = newApp();
    const outer = new Stage(app, 'Outer', { env: ENV });
    const inner = new CertificatesStage(outer, 'Inner', { env: ENV, leaf: pki.leaf });
    const step = new CertificateCheckStep('Check', { stage: inner });
    expect(step.assemblyDirectory).toBe('assembly-Outer/assembly-Outer-Inner');
    const assembly = app.synth();
    expect(fs.existsSync(path.join(assembly.directory, step.assemblyDirectory, 'manifest.json'))).toBe(true);
  });

  test('an explicit input is the action\'s input artifact and a dependency of the step', () => {
    const app = newApp();
    const pipelineStack = new Stack(app, 'PipelineStack', { env: ENV });
    const synth = new pipelines.ShellStep('Synth', {
      input: pipelines.CodePipelineSource.connection('example/app', 'main', { connectionArn: CONNECTION_ARN }),
      commands: ['npx cdk synth'],
    });
    const pipeline = new pipelines.CodePipeline(pipelineStack, 'Pipeline', { synth });
    const prod = new CertificatesStage(app, 'Prod', { env: ENV, leaf: pki.leaf });
    const check = new CertificateCheckStep('CheckCertificates', { stage: prod, input: synth });
    expect(check.dependencies).toEqual([synth]);
    pipeline.addStage(prod, { post: [check] });
    const template = Template.fromStack(pipelineStack);

    const stages = pipelineStages(template);
    const synthOutput = stages.find((s) => s.Name === 'Build')!.Actions[0].OutputArtifacts![0].Name;
    const prodStage = stages.find((s) => s.Name === 'Prod')!;
    const action = prodStage.Actions.find((a) => a.Name === 'CheckCertificates')!;
    expect(action.InputArtifacts).toEqual([{ Name: synthOutput }]);
    // post: after the deployment.
    const deploy = prodStage.Actions.find((a) => a.Name === 'Certs.Deploy')!;
    expect(action.RunOrder).toBeGreaterThan(deploy.RunOrder);
  });

  test('the pipeline\'s codeBuildDefaults apply, and the step\'s own environment and timeout win', () => {
    const app = newApp();
    const pipelineStack = new Stack(app, 'PipelineStack', { env: ENV });
    const pipeline = newPipeline(pipelineStack, {
      codeBuildDefaults: {
        buildEnvironment: { computeType: codebuild.ComputeType.MEDIUM, environmentVariables: { FROM_DEFAULTS: { value: 'a' } } },
        rolePolicy: [new iam.PolicyStatement({ actions: ['codeartifact:GetAuthorizationToken'], resources: ['*'] })],
        timeout: Duration.minutes(20),
      },
    });
    const prod = new CertificatesStage(app, 'Prod', { env: ENV, leaf: pki.leaf });
    pipeline.addStage(prod, {
      pre: [
        new CertificateCheckStep('Defaults', { stage: prod }),
        new CertificateCheckStep('Own', {
          stage: prod,
          buildEnvironment: { computeType: codebuild.ComputeType.LARGE, environmentVariables: { OWN: { value: 'b' } } },
          timeout: Duration.minutes(5),
        }),
      ],
    });
    const template = Template.fromStack(pipelineStack);
    const actions = pipelineStages(template).find((s) => s.Name === 'Prod')!.Actions;
    const defaults = projectOf(template, actions.find((a) => a.Name === 'Defaults')!).properties;
    const own = projectOf(template, actions.find((a) => a.Name === 'Own')!).properties;

    expect(defaults.Environment).toMatchObject({ ComputeType: 'BUILD_GENERAL1_MEDIUM', Image: 'aws/codebuild/standard:7.0' });
    expect(defaults.Environment.EnvironmentVariables).toEqual([{ Name: 'FROM_DEFAULTS', Type: 'PLAINTEXT', Value: 'a' }]);
    expect(defaults.TimeoutInMinutes).toBe(20);
    expect(own.Environment).toMatchObject({ ComputeType: 'BUILD_GENERAL1_LARGE' });
    expect(own.Environment.EnvironmentVariables).toEqual([
      { Name: 'FROM_DEFAULTS', Type: 'PLAINTEXT', Value: 'a' },
      { Name: 'OWN', Type: 'PLAINTEXT', Value: 'b' },
    ]);
    expect(own.TimeoutInMinutes).toBe(5);

    // The default role policy reaches the check projects' roles.
    const roleRef = (defaults.ServiceRole as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleRef }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'codeartifact:GetAuthorizationToken', Resource: '*' })]) },
    });
  });

  test.each<[string, () => void, RegExp]>([
    ['a negative minDays', () => new CertificateCheckStep('C', { minDays: -1 }), /minDays: must be a whole number of days \(0 or more\), got -1 \(CertificateCheckStep 'C'\)/],
    ['a fractional minDays', () => new CertificateCheckStep('C', { minDays: 1.5 }), /minDays: must be a whole number of days/],
    ['a cliVersion with shell characters', () => new CertificateCheckStep('C', { cliVersion: '1.0.0; rm -rf /' }), /cliVersion: must be an npm version or dist-tag/],
  ])('%s is refused', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});
