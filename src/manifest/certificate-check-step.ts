import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Stage, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpactions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { CertificateInputError } from '../private/errors';
import { grantStatement } from '../private/grants';

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
 */
export class CertificateCheckStep extends pipelines.Step implements pipelines.ICodePipelineActionFactory {
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
    const checkArgs = `check ${shellWord(this.assemblyDirectory)} --min-days ${minDays}${props.requireAll ? ' --require-all' : ''}`;
    let cli: string;
    if (version !== undefined) {
      // --legacy-peer-deps: the CLI needs no aws-cdk-lib, so npx need not install the peer dependencies.
      cli = `npx --yes --legacy-peer-deps cdk-certificates@${version}`;
    } else {
      this.bundle = checkCliBundle(id);
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

interface CliBundle {
  readonly code: Buffer;
  readonly sha256: string;
  readonly version: string;
}

let cliBundle: CliBundle | undefined;

/** This library's CLI bundle and version (read once per process). */
function checkCliBundle(id: string): CliBundle {
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
  fs.writeFileSync(path.join(directory, 'package.json'), JSON.stringify({
    name: 'cdk-certificates',
    version: bundle.version,
    private: true,
    type: 'commonjs',
    description: 'The cdk-certificates check CLI, copied into this cloud assembly by CertificateCheckStep at synth',
  }, undefined, 2) + '\n');
}
