import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { buildExampleApp } from '../../examples/app';

/**
 * cfn-lint, the CloudFormation linter, over every template of the example app. Any error fails.
 * A warning fails unless one entry below lists it: each names the rule, the resource (by construct
 * path, and for W3005 the dependency it repeats) and why it stays. Only aws-cdk-lib's own constructs
 * may be listed; warnings the library causes are fixed where they arise. An entry that matches
 * nothing fails too, so the list never outlives its reason.
 *
 * Matched against `<construct path of the resource>` (or `<stack>/<template path>` outside
 * Resources), followed for W3005 by ` -> <construct path of the repeated dependency>`.
 */
const FUNCTION_ROLE_REASON = 'aws_lambda.Function makes its function depend on its whole role construct, so that the role\'s '
  + 'DefaultPolicy exists before the function runs; that also lists the role, which the function\'s Role (Fn::GetAtt) already implies. '
  + 'No public API removes the dependency on the role alone.';
const ALLOWED: Array<{ rule: string; path: RegExp; reason: string }> = [
  {
    rule: 'W3005',
    path: /\/CdkCertificates\w+Provider(-\w+)?\/Provider\/(framework-(?:onEvent|isComplete|onTimeout))\/Resource -> .*\/CdkCertificates\w+Provider(-\w+)?\/Provider\/\2\/ServiceRole\/Resource$/,
    reason: `custom_resources.Provider's framework functions: ${FUNCTION_ROLE_REASON}`,
  },
  {
    rule: 'W3005',
    path: /\/(CdkCertificates\w+Provider(?:-\w+)?)\/(OnEvent|IsComplete)\/Resource -> .*\/\1\/Role\/Resource$/,
    reason: `The handler functions are aws_lambda.Function given the provider's role: ${FUNCTION_ROLE_REASON}`,
  },
  {
    rule: 'W3005',
    path: /\/(DailyCheck)\/Function\/Resource -> .*\/\1\/Role\/Resource$/,
    reason: `ScheduledCertificateCheck's function is an aws_lambda.Function given its own role: ${FUNCTION_ROLE_REASON}`,
  },
  {
    rule: 'W3005',
    path: /\/(CdkCertificates\w+Provider(?:-\w+)?)\/Provider\/waiter-state-machine\/Resource -> .*\/\1\/Provider\/waiter-state-machine\/Role\/Resource$/,
    reason: 'aws_stepfunctions.StateMachine (the Provider framework\'s waiter) depends on its whole role construct for its DefaultPolicy, '
      + 'which also lists the role its RoleArn (Fn::GetAtt) already implies.',
  },
  {
    rule: 'W2001',
    path: /^CertificatesExample-DmsCertificate\/Parameters\/DbCaParameter$/,
    reason: 'ssm.StringParameter.fromStringParameterName declares an AWS::SSM::Parameter::Value parameter for the value as soon as the '
      + 'parameter is imported; CertificatePem.fromSsmParameter passes only its name to the handler, which reads it at deploy.',
  },
];

interface CfnLintMatch {
  readonly Filename: string | null;
  readonly Level: string;
  readonly Message: string;
  readonly Location: { readonly Path?: Array<string | number> | null };
  readonly Rule: { readonly Id: string };
}

const REPO = path.join(__dirname, '..', '..');
const INSTALL = 'pip install -r requirements-dev.txt';

/** The cfn-lint version requirements-dev.txt pins (the allowlist is checked against it). */
function pinnedVersion(): string {
  const requirements = fs.readFileSync(path.join(REPO, 'requirements-dev.txt'), 'utf8');
  const pin = /^cfn-lint==(\S+)$/m.exec(requirements);
  if (!pin) {
    throw new Error('requirements-dev.txt pins no cfn-lint version (cfn-lint==x.y.z)');
  }
  return pin[1];
}

function cfnLint(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('cfn-lint', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing
      ? `cfn-lint is not installed (or not on PATH): run \`${INSTALL}\``
      : `cfn-lint did not run: ${result.error.message}`);
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('cfn-lint over the example app', () => {
  let outdir: string;
  let stacks: Stack[];
  let templates: Map<string, { stack: Stack; template: any }>;
  let matches: CfnLintMatch[];
  let status: number | null;

  beforeAll(() => {
    // Fails (never skips) when cfn-lint is missing or not the pinned version.
    const version = cfnLint(['--version']);
    const pinned = pinnedVersion();
    expect(`${version.stdout}${version.stderr}`.trim()).toBe(`cfn-lint ${pinned}`);

    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-certificates-cfn-lint-'));
    const app = new App({ outdir });
    stacks = buildExampleApp(app);
    const assembly = app.synth();
    templates = new Map();
    for (const artifact of assembly.stacksRecursively) {
      const stack = stacks.find(s => s.artifactId === artifact.id);
      if (!stack) {
        throw new Error(`the assembly has a stack the example app did not return: ${artifact.id}`);
      }
      templates.set(path.resolve(artifact.templateFullPath), { stack, template: artifact.template });
    }

    // One process for every template.
    const run = cfnLint(['--format', 'json', '--', ...templates.keys()]);
    status = run.status;
    try {
      matches = JSON.parse(run.stdout);
    } catch {
      throw new Error(`cfn-lint exited with ${run.status} without a JSON report:\n${run.stdout}\n${run.stderr}`);
    }
  });

  afterAll(() => {
    if (outdir) {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  /** What an allowlist entry's path is matched against (see ALLOWED). */
  function subject(match: CfnLintMatch): string {
    const file = match.Filename ? templates.get(path.resolve(match.Filename)) : undefined;
    if (!file) {
      return `${match.Filename ?? '<no file>'} (not a template of the example app)`;
    }
    const location = match.Location.Path ?? [];
    if (location[0] !== 'Resources' || typeof location[1] !== 'string') {
      return `${file.stack.stackName}/${location.join('/')}`;
    }
    const constructPath = (logicalId: string) => constructPaths(file.stack).get(logicalId) ?? `${file.stack.stackName}/<unknown ${logicalId}>`;
    let text = constructPath(location[1]);
    if (match.Rule.Id === 'W3005' && location[2] === 'DependsOn') {
      const dependsOn = file.template.Resources[location[1]].DependsOn;
      const target = Array.isArray(dependsOn) ? dependsOn[Number(location[3])] : dependsOn;
      text += ` -> ${constructPath(String(target))}`;
    }
    return text;
  }

  test('lints every template of the example app', () => {
    expect(templates.size).toBe(stacks.length);
    expect(stacks.length).toBeGreaterThan(0);
    // cfn-lint's exit code adds 2 for an error, 4 for a warning, 8 for an informational finding;
    // anything else (1 included) is a failure of its own.
    expect([0, 2, 4, 6, 8, 10, 12, 14]).toContain(status);
    const elsewhere = matches.filter(m => !m.Filename || !templates.has(path.resolve(m.Filename)));
    expect(elsewhere.map(m => `${m.Rule.Id} ${m.Filename}: ${m.Message}`)).toEqual([]);
  });

  test('reports no error', () => {
    const errors = matches.filter(m => m.Level === 'Error').map(m => `${m.Rule.Id} ${subject(m)}: ${m.Message}`);
    expect(errors).toEqual([]);
    expect([0, 4, 8, 12]).toContain(status);
  });

  test('reports no warning beyond the allowlist, and every allowlist entry still matches', () => {
    const findings = matches.filter(m => m.Level !== 'Error');
    const unexpected = findings
      .filter(m => !ALLOWED.some(a => a.rule === m.Rule.Id && a.path.test(subject(m))))
      .map(m => `${m.Rule.Id} ${subject(m)}: ${m.Message}`);
    expect(unexpected).toEqual([]);
    const unused = ALLOWED
      .filter(a => !findings.some(m => a.rule === m.Rule.Id && a.path.test(subject(m))))
      .map(a => `${a.rule} ${a.path}`);
    expect(unused).toEqual([]);
  });
});

/** Logical ID to construct path, for every CloudFormation element of the stack. */
const pathsByStack = new WeakMap<Stack, Map<string, string>>();
function constructPaths(stack: Stack): Map<string, string> {
  let paths = pathsByStack.get(stack);
  if (!paths) {
    paths = new Map();
    for (const node of stack.node.findAll()) {
      if (node instanceof CfnElement && Stack.of(node) === stack) {
        paths.set(stack.resolve(node.logicalId), node.node.path);
      }
    }
    pathsByStack.set(stack, paths);
  }
  return paths;
}
