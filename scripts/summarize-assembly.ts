/**
 * Prints a one-screen summary of a synthesized cloud assembly: per stack, the certificates it
 * declares, its resource count and its Lambda functions.
 *
 * Usage: ts-node --prefer-ts-exts scripts/summarize-assembly.ts cdk.out
 */
import * as fs from 'fs';
import * as path from 'path';

/**
 * Resource types that declare a certificate or a certificate authority, matched exactly (helpers
 * such as `Custom::LightsailCertificateValidation` declare none). Extend here.
 */
export const CERTIFICATE_RESOURCE_TYPES: readonly string[] = [
  'Custom::ServerCertificate',
  'Custom::DmsCertificate',
  'Custom::LightsailCertificate',
  'Custom::AlibabaKmsCertificate',
  'Custom::PrivateCaIssuedCertificate',
  'AWS::IAM::ServerCertificate',
  'AWS::ACMPCA::CertificateAuthority',
  'AWS::ACMPCA::Certificate',
  'AWS::DMS::Certificate',
  'AWS::Lightsail::Certificate',
];

const LAMBDA_FUNCTION_TYPE = 'AWS::Lambda::Function';
const NESTED_STACK_TYPE = 'AWS::CloudFormation::Stack';

/** Whether a CloudFormation resource type declares a certificate. */
export function isCertificateType(type: string): boolean {
  return CERTIFICATE_RESOURCE_TYPES.includes(type);
}

/** Summary of one stack (or nested stack) template. */
export interface StackSummary {
  /** The CloudFormation stack name (for a nested stack: `<parent stack name>/<construct id>`). */
  readonly stackName: string;
  /** The construct path of the stack, e.g. `Prod/Certificates`. */
  readonly displayName: string;
  /** 0 for a top-level stack, 1 for a stack nested in it, and so on. */
  readonly nestingLevel: number;
  /** Number of resources whose type is in CERTIFICATE_RESOURCE_TYPES. */
  readonly certificates: number;
  /** Total number of resources in the template. */
  readonly resources: number;
  /** Number of AWS::Lambda::Function resources. */
  readonly lambdaFunctions: number;
  /** Certificate resources counted per resource type. */
  readonly certificatesByType: Readonly<Record<string, number>>;
}

/** Summary of a whole cloud assembly, nested stage assemblies included. */
export interface AssemblySummary {
  readonly directory: string;
  readonly stacks: readonly StackSummary[];
  readonly totals: {
    readonly stacks: number;
    readonly certificates: number;
    readonly resources: number;
    readonly lambdaFunctions: number;
    readonly certificatesByType: Readonly<Record<string, number>>;
  };
}

interface ArtifactManifest {
  readonly type: string;
  readonly displayName?: string;
  readonly properties?: {
    readonly templateFile?: string;
    readonly stackName?: string;
    readonly directoryName?: string;
  };
}

interface Template {
  readonly Resources?: Record<string, { readonly Type: string; readonly Metadata?: Record<string, unknown> }>;
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new Error(`Cannot read ${file}: ${(e as Error).message}`);
  }
}

/**
 * The construct ID of a nested stack, from its resource's `aws:cdk:path`
 * (`<stack>/<id>.NestedStack/<id>.NestedStackResource`) or, without path metadata, from its
 * logical ID (`<id>NestedStack<id>NestedStackResource<hash>`).
 */
function nestedStackId(logicalId: string, cdkPath: unknown): string {
  const fromPath = typeof cdkPath === 'string' ? /([^/]+)\.NestedStack\/[^/]+\.NestedStackResource$/.exec(cdkPath) : null;
  const fromLogicalId = /^(.+)NestedStack\1NestedStackResource[0-9A-F]{8}$/.exec(logicalId);
  return fromPath?.[1] ?? fromLogicalId?.[1] ?? logicalId;
}

function summarizeTemplate(
  dir: string, templateFile: string, stackName: string, displayName: string, nestingLevel: number, out: StackSummary[],
): void {
  const template = readJson<Template>(path.join(dir, templateFile));
  const resources = Object.entries(template.Resources ?? {});
  const certificatesByType: Record<string, number> = {};
  let lambdaFunctions = 0;
  for (const [, resource] of resources) {
    if (isCertificateType(resource.Type)) {
      certificatesByType[resource.Type] = (certificatesByType[resource.Type] ?? 0) + 1;
    }
    if (resource.Type === LAMBDA_FUNCTION_TYPE) {
      lambdaFunctions++;
    }
  }
  out.push({
    stackName,
    displayName,
    nestingLevel,
    certificates: Object.values(certificatesByType).reduce((a, b) => a + b, 0),
    resources: resources.length,
    lambdaFunctions,
    certificatesByType,
  });

  // Nested stacks synthesize to separate templates, referenced by asset metadata (the CLI adds it).
  for (const [logicalId, resource] of resources) {
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (resource.Type === NESTED_STACK_TYPE && typeof assetPath === 'string' && assetPath.endsWith('.template.json')
      && fs.existsSync(path.join(dir, assetPath))) {
      const id = nestedStackId(logicalId, resource.Metadata?.['aws:cdk:path']);
      summarizeTemplate(dir, assetPath, `${stackName}/${id}`, `${displayName}/${id}`, nestingLevel + 1, out);
    }
  }
}

function collectStacks(dir: string, out: StackSummary[]): void {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) {
    throw new Error(`${dir} is not a cloud assembly: ${manifestFile} not found (run cdk synth first)`);
  }
  const manifest = readJson<{ artifacts?: Record<string, ArtifactManifest> }>(manifestFile);
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const props = artifact.properties ?? {};
    if (artifact.type === 'aws:cloudformation:stack' && props.templateFile) {
      summarizeTemplate(dir, props.templateFile, props.stackName ?? id, artifact.displayName ?? id, 0, out);
    } else if (artifact.type === 'cdk:cloud-assembly' && props.directoryName) {
      // A Stage synthesizes to a nested assembly (assembly-<stage>/) with its own manifest.
      collectStacks(path.join(dir, props.directoryName), out);
    }
  }
}

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [type, n] of Object.entries(from)) {
    into[type] = (into[type] ?? 0) + n;
  }
}

/**
 * Summarizes the stacks of the cloud assembly in `dir` (a `cdk synth` output directory).
 *
 * @throws if `dir` is not a cloud assembly or holds no stacks
 */
export function summarizeAssembly(dir: string): AssemblySummary {
  const stacks: StackSummary[] = [];
  collectStacks(dir, stacks);
  if (stacks.length === 0) {
    throw new Error(`No stacks found in cloud assembly ${dir}`);
  }
  const certificatesByType: Record<string, number> = {};
  stacks.forEach((s) => addCounts(certificatesByType, s.certificatesByType));
  const sum = (f: (s: StackSummary) => number) => stacks.reduce((a, s) => a + f(s), 0);
  return {
    directory: dir,
    stacks,
    totals: {
      stacks: stacks.length,
      certificates: sum((s) => s.certificates),
      resources: sum((s) => s.resources),
      lambdaFunctions: sum((s) => s.lambdaFunctions),
      certificatesByType,
    },
  };
}

/** Renders a summary as an aligned text table followed by totals. */
export function formatSummary(s: AssemblySummary): string {
  const header = ['Stack', 'Certificates', 'Resources', 'Lambda functions'];
  const label = (st: StackSummary) => {
    if (st.nestingLevel > 0) {
      // Listed right under its parent; CloudFormation names nested stacks at deploy time.
      return `${'  '.repeat(st.nestingLevel)}${st.displayName.slice(st.displayName.lastIndexOf('/') + 1)} (nested stack)`;
    }
    return st.displayName === st.stackName ? st.stackName : `${st.stackName} (${st.displayName})`;
  };
  const rows = s.stacks.map((st) => [label(st), String(st.certificates), String(st.resources), String(st.lambdaFunctions)]);
  const total = [
    `Total (${s.totals.stacks} stack${s.totals.stacks === 1 ? '' : 's'})`,
    String(s.totals.certificates),
    String(s.totals.resources),
    String(s.totals.lambdaFunctions),
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...[...rows, total].map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const byType = Object.entries(s.totals.certificatesByType)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, n]) => `${type} x${n}`)
    .join(', ');
  return [
    `Cloud assembly: ${s.directory}`,
    line(header),
    rule,
    ...rows.map(line),
    rule,
    line(total),
    `Certificates by type: ${byType || 'none'}`,
  ].join('\n');
}

function main(argv: string[]): number {
  const dir = argv[0] ?? 'cdk.out';
  try {
    console.log(formatSummary(summarizeAssembly(dir)));
    return 0;
  } catch (e) {
    console.error(`summarize-assembly: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
