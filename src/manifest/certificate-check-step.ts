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
   * The version of the `cdk-certificates` npm package whose CLI runs the check (an exact version
   * or a dist-tag).
   *
   * @default - the version of this library (`latest` for an unreleased build, version 0.0.0)
   */
  readonly cliVersion?: string;

  /**
   * Commands to run before the check, e.g. to point npm at a registry mirror
   * (`npm config set registry https://...`) when the build has no access to the public registry.
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
 * at synth) is expired, expires within `minDays`, or fails the library's X.509 checks. Put it in a
 * stage's `pre` (before a `ManualApprovalStep`, with `Step.sequence`), `post`, or a wave's `pre`.
 *
 * The CodeBuild project needs the npm registry (it runs the CLI with `npx`); it needs no AWS
 * permissions beyond its logs, and reads nothing but the assembly.
 */
export class CertificateCheckStep extends pipelines.Step implements pipelines.ICodePipelineActionFactory {
  /** The assembly directory the step checks, relative to the cloud assembly root (`.` for all of it). */
  public readonly assemblyDirectory: string;

  /** The shell commands the step runs (install commands, then the check). */
  public readonly commands: string[];

  private readonly input?: pipelines.FileSet;
  private readonly props: CertificateCheckStepProps;

  constructor(id: string, props: CertificateCheckStepProps = {}) {
    super(id);
    this.props = props;
    const minDays = props.minDays ?? 30;
    if (!Token.isUnresolved(minDays) && (!Number.isInteger(minDays) || minDays < 0)) {
      throw new CertificateInputError('minDays', `must be a whole number of days (0 or more), got ${minDays} (CertificateCheckStep '${id}')`);
    }
    const version = props.cliVersion ?? defaultCliVersion();
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version)) {
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
    this.commands = [
      ...props.installCommands ?? [],
      // --legacy-peer-deps: the CLI needs no aws-cdk-lib, so npx need not install the peer dependencies.
      `npx --yes --legacy-peer-deps cdk-certificates@${version} check ${shellWord(this.assemblyDirectory)} --min-days ${minDays}`,
    ];
  }

  /**
   * Adds the CodeBuild action that runs the check to the CodePipeline stage (called by
   * `pipelines.CodePipeline` when it builds the pipeline).
   */
  public produceAction(stage: codepipeline.IStage, options: pipelines.ProduceActionOptions): pipelines.CodePipelineActionFactoryResult {
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

/** This library's version from its own package.json (`lib/manifest/` and `src/manifest/` are both two levels down). */
function defaultCliVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
  const version = manifest.version ?? '0.0.0';
  // 0.0.0 is projen's version of an unreleased build: nothing to pin to on the registry.
  return version === '0.0.0' ? 'latest' : version;
}
