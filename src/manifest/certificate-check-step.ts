import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Aws, Duration, Stage, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpactions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { CertificateInputError } from '../private/errors';
import { grantStatement } from '../private/grants';

/**
 * The deployed stack a CertificateCheckStep checks at its services (`cdk-certificates check --live`),
 * in the pipeline's account.
 */
export interface CertificateCheckStepLiveOptions {
  /** The name of the deployed stack (its `stackName`), known at synth. */
  readonly stackName: string;

  /**
   * The region of the deployed stack.
   *
   * @default - the region of the pipeline (the CodeBuild project's)
   */
  readonly region?: string;
}

/** Properties of a CertificateCheckStep. */
export interface CertificateCheckStepProps {
  /**
   * The cloud assembly to check (a synth step or its file set).
   *
   * @default - the pipeline's cloud assembly (`pipeline.cloudAssemblyFileSet`, the synth step's output)
   */
  readonly input?: pipelines.IFileSetProducer;

  /**
   * The Stage whose certificates to check: the step checks its nested assembly
   * (`assembly-<stage>`) only.
   *
   * @default - the whole cloud assembly, every stage included
   */
  readonly stage?: Stage;

  /**
   * Fail when a certificate has fewer than this many days of validity left.
   *
   * @default 30
   */
  readonly minDays?: number;

  /**
   * Fail when a certificate cannot be checked because its PEM is known only at deploy (a secret,
   * an SSM parameter, a certificate issued at deploy, a CA certificate): the check's
   * `--require-all`. Without it such certificates are listed with where each comes from, and
   * do not fail the step.
   *
   * @default false
   */
  readonly requireAll?: boolean;

  /**
   * Check a deployed stack instead of the cloud assembly: `cdk-certificates check --live`, which
   * lists the stack's resources through CloudFormation and reads each certificate from its service
   * (IAM, DMS, Lightsail, ACM, ACM Private CA), then checks expiry (`minDays`), the chain, the
   * service's status, and lists what uses each certificate. Put the step in the stage's `post`, after
   * the deploy. The CodeBuild role gets read-only permissions: `cloudformation:ListStackResources`
   * on the stack and `CertificateCheckStep.LIVE_CHECK_ACTIONS`. The live check's bundle (with its
   * AWS SDK clients, about 3 MB) is copied into the cloud assembly beside the CLI.
   *
   * @default - the cloud assembly is checked, no AWS call
   */
  readonly live?: CertificateCheckStepLiveOptions;

  /**
   * Download this version of the `cdk-certificates` npm package at run time, with
   * `npx cdk-certificates@<cliVersion>`, and run its CLI instead of the one of this library.
   * The CodeBuild project then needs the npm registry, and runs whatever the registry serves
   * under that version.
   *
   * @default - the CLI of this library, copied into the cloud assembly at synth; no registry
   * @deprecated The step runs the CLI of the library that synthesized the app from the cloud
   * assembly, with no registry access. Remove `cliVersion`.
   */
  readonly cliVersion?: string;

  /**
   * Commands to run before the check. The check itself needs none: it runs with the build
   * image's Node.js (18 or later) and no packages.
   *
   * @default - none
   */
  readonly installCommands?: string[];

  /**
   * The CodeBuild environment of the check (merged over the pipeline's `codeBuildDefaults`).
   *
   * @default - the pipeline's `codeBuildDefaults.buildEnvironment`, else the standard 7.0 Linux image
   */
  readonly buildEnvironment?: codebuild.BuildEnvironment;

  /**
   * Build timeout of the check.
   *
   * @default - the pipeline's `codeBuildDefaults.timeout`, else 10 minutes
   */
  readonly timeout?: Duration;
}

/**
 * A CDK Pipelines step that runs `cdk-certificates check` on the cloud assembly in CodeBuild:
 * it fails when a certificate recorded in the assembly (every certificate whose PEM the app knew
 * at synth) is expired, expires within `minDays`, or fails the library's X.509 checks, and with
 * `requireAll` when a certificate could not be checked. Put it in a stage's `pre` (before a
 * `ManualApprovalStep`, with `Step.sequence`), `post`, or a wave's `pre`.
 *
 * The check that runs is the one of this library, the library that synthesized the app: at synth
 * the step copies its CLI (one self-contained JavaScript file, Node.js built-ins only) into the
 * cloud assembly, under `cdk-certificates/check-<hash>/`, and the build runs it with `node`. The
 * CodeBuild project needs no network (no npm registry, no internet, no AWS API) and no AWS
 * permissions beyond its logs, and reads nothing but its input. Its input must be the cloud
 * assembly of the app that declares the step (the pipeline's synth output, the default).
 *
 * With `live`, the step checks a deployed stack instead (`cdk-certificates check --live`): put it in
 * the stage's `post`. It then calls AWS, read-only (`cloudformation:ListStackResources` on that
 * stack and `CertificateCheckStep.LIVE_CHECK_ACTIONS`, granted to the CodeBuild role), and still
 * needs no registry: the live check's bundle is copied into the cloud assembly beside the CLI.
 */
export class CertificateCheckStep extends pipelines.Step implements pipelines.ICodePipelineActionFactory {
  /**
   * The read-only actions `cdk-certificates check --live` calls, apart from
   * `cloudformation:ListStackResources` (scoped to the checked stack). They read certificates and
   * what uses them, never a private key; IAM, DMS, Lightsail and ACM Private CA take no narrower
   * resource for these reads than the account's, so the `live` option grants them on `*`.
   */
  public static readonly LIVE_CHECK_ACTIONS: string[] = [
    'iam:GetServerCertificate',
    'dms:DescribeCertificates',
    'dms:DescribeEndpoints',
    'lightsail:GetCertificates',
    'acm:DescribeCertificate',
    'acm:GetCertificate',
    'acm-pca:GetCertificateAuthorityCertificate',
    'acm-pca:GetCertificate',
  ];

  /** The assembly directory the step checks, relative to the cloud assembly root (`.` for all of it). */
  public readonly assemblyDirectory: string;

  /** The shell commands the step runs (install commands, then the check). */
  public readonly commands: string[];

  /**
   * Where the step puts the CLI that runs the check, relative to the cloud assembly root: a
   * directory named after the CLI's SHA-256, holding `index.js` and a `package.json` with this
   * library's version. Undefined when `cliVersion` is set (the CLI then comes from the registry).
   */
  public readonly cliDirectory?: string;

  private readonly input?: pipelines.FileSet;
  private readonly props: CertificateCheckStepProps;
  private readonly bundle?: CliBundle;
  private readonly live?: CertificateCheckStepLiveOptions;

  constructor(id: string, props: CertificateCheckStepProps = {}) {
    super(id);
    this.props = props;
    const minDays = props.minDays ?? 30;
    if (!Token.isUnresolved(minDays) && (!Number.isInteger(minDays) || minDays < 0)) {
      throw new CertificateInputError('minDays', `must be a whole number of days (0 or more), got ${minDays} (CertificateCheckStep '${id}')`);
    }
    const version = props.cliVersion;
    if (version !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version)) {
      throw new CertificateInputError('cliVersion', `must be an npm version or dist-tag (letters, digits, . _ + -), got '${version}' (CertificateCheckStep '${id}')`);
    }
    if (props.input) {
      const fileSet = props.input.primaryOutput;
      if (!fileSet) {
        throw new CertificateInputError('input', `produces no file set; pass the synth step or pipeline.cloudAssemblyFileSet (CertificateCheckStep '${id}')`);
      }
      this.input = fileSet;
      this.addDependencyFileSet(fileSet);
    }
    this.assemblyDirectory = props.stage ? stageAssemblyDirectory(props.stage) : '.';
    let checkArgs = `check ${shellWord(this.assemblyDirectory)} --min-days ${minDays}${props.requireAll ? ' --require-all' : ''}`;
    if (props.live) {
      this.live = validateLive(props, id);
      checkArgs = `check --live --stack ${this.live.stackName}${this.live.region ? ` --region ${this.live.region}` : ''} --min-days ${minDays}`;
    }
    let cli: string;
    if (version !== undefined) {
      // --legacy-peer-deps: the CLI needs no aws-cdk-lib, so npx need not install the peer dependencies.
      cli = `npx --yes --legacy-peer-deps cdk-certificates@${version}`;
    } else {
      this.bundle = checkCliBundle(id, this.live !== undefined);
      this.cliDirectory = `cdk-certificates/check-${this.bundle.sha256.slice(0, 16)}`;
      cli = `node ${this.cliDirectory}/index.js`;
    }
    this.commands = [...props.installCommands ?? [], `${cli} ${checkArgs}`];
  }

  /**
   * Adds the CodeBuild action that runs the check to the CodePipeline stage (called by
   * `pipelines.CodePipeline` when it builds the pipeline).
   */
  public produceAction(stage: codepipeline.IStage, options: pipelines.ProduceActionOptions): pipelines.CodePipelineActionFactoryResult {
    if (this.bundle && this.cliDirectory) {
      writeCli(rootOutdir(options.scope), this.cliDirectory, this.bundle);
    }
    const defaults = options.codeBuildDefaults ?? {};
    const buildSpec = codebuild.BuildSpec.fromObject({
      version: '0.2',
      phases: { build: { commands: this.commands } },
    });
    const actionScope = (options.scope.node.tryFindChild(options.actionName) as Construct | undefined)
      ?? new Construct(options.scope, options.actionName);
    const project = new codebuild.PipelineProject(actionScope, 'Project', {
      description: `cdk-certificates check of ${this.assemblyDirectory === '.' ? 'the cloud assembly' : this.assemblyDirectory} (${this.id})`,
      environment: mergeEnvironments(
        { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.SMALL },
        defaults.buildEnvironment,
        this.props.buildEnvironment,
      ),
      buildSpec: defaults.partialBuildSpec ? codebuild.mergeBuildSpecs(defaults.partialBuildSpec, buildSpec) : buildSpec,
      timeout: this.props.timeout ?? defaults.timeout ?? Duration.minutes(10),
      vpc: defaults.vpc,
      subnetSelection: defaults.subnetSelection,
      securityGroups: defaults.securityGroups,
      cache: defaults.cache,
      logging: defaults.logging,
      fileSystemLocations: defaults.fileSystemLocations,
    });
    for (const statement of defaults.rolePolicy ?? []) {
      grantStatement(project, statement);
    }
    if (this.live) {
      const region = this.live.region ?? Aws.REGION;
      grantStatement(project, new iam.PolicyStatement({
        actions: ['cloudformation:ListStackResources'],
        resources: [`arn:${Aws.PARTITION}:cloudformation:${region}:${Aws.ACCOUNT_ID}:stack/${this.live.stackName}/*`],
      }));
      grantStatement(project, new iam.PolicyStatement({ actions: [...CertificateCheckStep.LIVE_CHECK_ACTIONS], resources: ['*'] }));
    }
    stage.addAction(new cpactions.CodeBuildAction({
      actionName: options.actionName,
      runOrder: options.runOrder,
      input: options.artifacts.toCodePipeline(this.input ?? options.pipeline.cloudAssemblyFileSet),
      project,
    }));
    return { runOrdersConsumed: 1, project };
  }
}

/**
 * The directory of a Stage's nested assembly relative to the root assembly: each enclosing
 * stage's `assembly-<path>` directory, outermost first (where the CDK writes it).
 */
function stageAssemblyDirectory(stage: Stage): string {
  const parts: string[] = [];
  for (let s: Stage | undefined = stage; s?.parentStage !== undefined; s = s.parentStage) {
    parts.unshift(s.artifactId);
  }
  return parts.length === 0 ? '.' : parts.join('/');
}

function mergeEnvironments(...environments: Array<codebuild.BuildEnvironment | undefined>): codebuild.BuildEnvironment {
  let merged: codebuild.BuildEnvironment = {};
  for (const environment of environments) {
    if (environment) {
      merged = {
        ...merged,
        ...definedOnly(environment),
        environmentVariables: { ...merged.environmentVariables, ...environment.environmentVariables },
      };
    }
  }
  return merged;
}

function definedOnly<T extends object>(x: T): Partial<T> {
  return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Quotes a word for sh unless it is plainly safe. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9._/=+-]+$/.test(word) ? word : `'${word.replace(/'/g, '\'\\\'\'')}'`;
}

/** The package root: `lib/manifest/` and `src/manifest/` are both two levels down. */
const PACKAGE_ROOT = path.join(__dirname, '..', '..');

/** The CLI bundle the build writes (see `.projenrc.ts`) and the package ships. */
const CLI_BUNDLE = path.join(PACKAGE_ROOT, 'assets', 'manifest', 'cli', 'main', 'index.js');
/** The live check's bundle (`check --live`, with the AWS SDK clients), beside it. */
const LIVE_BUNDLE = path.join(PACKAGE_ROOT, 'assets', 'manifest', 'cli', 'live', 'index.js');

interface CliBundle {
  readonly code: Buffer;
  /** The live check's bundle, written to `live/index.js` beside the CLI. */
  readonly live?: Buffer;
  readonly sha256: string;
  readonly version: string;
}

let cliBundle: CliBundle | undefined;
let liveCliBundle: CliBundle | undefined;

/** The live options, checked: both values go into the build's shell command. */
function validateLive(props: CertificateCheckStepProps, id: string): CertificateCheckStepLiveOptions {
  const live = props.live!;
  if (Token.isUnresolved(live.stackName) || !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(live.stackName)) {
    throw new CertificateInputError('live.stackName', `must be a stack name known at synth (a letter, then letters, digits and hyphens, at most 128), got '${live.stackName}' (CertificateCheckStep '${id}')`);
  }
  if (live.region !== undefined && (Token.isUnresolved(live.region) || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(live.region))) {
    throw new CertificateInputError('live.region', `must be a region name known at synth, such as eu-west-1, got '${live.region}' (CertificateCheckStep '${id}')`);
  }
  if (props.requireAll) {
    throw new CertificateInputError('requireAll', `applies to the cloud assembly check; the live check reads every certificate the stack holds. Remove requireAll or live (CertificateCheckStep '${id}')`);
  }
  if (props.stage) {
    throw new CertificateInputError('stage', `selects an assembly to check; the live check reads the stack named in live.stackName. Remove stage or live (CertificateCheckStep '${id}')`);
  }
  return { stackName: live.stackName, region: live.region };
}

/** This library's CLI bundle (with the live check's when `live`) and version (read once per process). */
function checkCliBundle(id: string, live = false): CliBundle {
  if (live) {
    if (!liveCliBundle) {
      const base = checkCliBundle(id);
      let liveCode: Buffer;
      try {
        liveCode = fs.readFileSync(LIVE_BUNDLE);
      } catch {
        throw new CertificateInputError('CertificateCheckStep', `the cdk-certificates live check is missing at ${LIVE_BUNDLE}; `
          + 'reinstall cdk-certificates (or, in its own repository, run `npx projen bundle`) (CertificateCheckStep \'' + id + '\')');
      }
      const sha256 = crypto.createHash('sha256').update(base.code).update(liveCode).digest('hex');
      liveCliBundle = { ...base, live: liveCode, sha256 };
    }
    return liveCliBundle;
  }
  if (!cliBundle) {
    let code: Buffer;
    try {
      code = fs.readFileSync(CLI_BUNDLE);
    } catch {
      throw new CertificateInputError('CertificateCheckStep', `the cdk-certificates check CLI is missing at ${CLI_BUNDLE}; `
        + 'reinstall cdk-certificates (or, in its own repository, run `npx projen bundle`) (CertificateCheckStep \'' + id + '\')');
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: string };
    cliBundle = { code, sha256: crypto.createHash('sha256').update(code).digest('hex'), version: manifest.version ?? '0.0.0' };
  }
  return cliBundle;
}

/** The output directory of the root cloud assembly, which the synth step's output holds. */
function rootOutdir(scope: Construct): string {
  let stage = Stage.of(scope);
  while (stage?.parentStage) {
    stage = stage.parentStage;
  }
  if (!stage) {
    throw new CertificateInputError('CertificateCheckStep', `the pipeline ${scope.node.path} is not inside an App: nowhere to put the check CLI`);
  }
  return stage.outdir;
}

/**
 * Writes the CLI into the cloud assembly (once per directory): `index.js`, and a `package.json`
 * that names this library's version (printed by `--version`) and keeps `index.js` CommonJS even
 * under a project whose package.json says `"type": "module"`.
 */
function writeCli(outdir: string, relativeDirectory: string, bundle: CliBundle): void {
  const directory = path.join(outdir, relativeDirectory);
  fs.mkdirSync(directory, { recursive: true });
  fs.writeFileSync(path.join(directory, 'index.js'), bundle.code);
  if (bundle.live) {
    fs.mkdirSync(path.join(directory, 'live'), { recursive: true });
    fs.writeFileSync(path.join(directory, 'live', 'index.js'), bundle.live);
  }
  fs.writeFileSync(path.join(directory, 'package.json'), JSON.stringify({
    name: 'cdk-certificates',
    version: bundle.version,
    private: true,
    type: 'commonjs',
    description: 'The cdk-certificates check CLI, copied into this cloud assembly by CertificateCheckStep at synth',
  }, undefined, 2) + '\n');
}
