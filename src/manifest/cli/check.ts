/**
 * `cdk-certificates check`: reads the certificate manifest of a synthesized cloud assembly and
 * reports every certificate that is expired, not yet valid, expires within the minimum number of
 * days, or fails the library's X.509 checks (re-run from the recorded PEM). It also lists every
 * certificate it cannot check, because its PEM is known only at deploy (see ./coverage.ts), and
 * with `--require-all` fails when there is one.
 *
 * Node built-ins only, no network: it runs wherever the cloud assembly is (a laptop, CodeBuild).
 */
import * as path from 'node:path';
import { AssemblyStack, LocatedEntry, ManifestReadError, readAssemblyRecords } from '../../contract/manifest';
import {
  CertificateCheckError,
  CertificateSummary,
  checkCertificateBody,
  checkCertificateChain,
  daysUntil,
  parseCertificates,
  summarizeCertificate,
} from '../../contract/x509';
import type { CertificateManifestEntry } from '../certificate-manifest';
import { UncheckedCertificate, uncheckedCertificates } from './coverage';

export type { SourceKind, UncheckedCertificate } from './coverage';

/** Exit codes. */
export const EXIT_HEALTHY = 0;
export const EXIT_OFFENDERS = 1;
export const EXIT_USAGE = 2;

export const DEFAULT_MIN_DAYS = 30;

/** The version of the JSON report format (`--format json`). */
export const REPORT_VERSION = 1;

/** Worst first: the status of a certificate is its worst problem. */
const PROBLEM_CODES = ['invalid', 'expired', 'not-yet-valid', 'expiring'] as const;
export type ProblemCode = typeof PROBLEM_CODES[number];
export type Status = ProblemCode | 'ok';

export interface Problem {
  readonly code: ProblemCode;
  readonly message: string;
}

/** One recorded certificate and what the check found. */
export interface CertificateResult {
  /** The assembly directory holding the stack. */
  readonly assembly: string;
  /** The stack's display name (its construct path). */
  readonly stack: string;
  readonly constructPath: string;
  readonly property: string;
  readonly position: number;
  readonly count: number;
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprintSha256: string;
  /** Whole days left until notAfter (negative once expired). */
  readonly daysLeft: number;
  readonly status: Status;
  readonly problems: Problem[];
}

export interface CheckReport {
  readonly version: number;
  readonly checkedAt: string;
  readonly minDays: number;
  /** Whether unchecked certificates fail the check (`--require-all`). */
  readonly requireAll: boolean;
  readonly assemblies: string[];
  /** Every certificate checked: those recorded in the certificate manifest. */
  readonly certificates: CertificateResult[];
  readonly offenders: CertificateResult[];
  /** Every certificate of the app that could not be checked (its PEM is known only at deploy). */
  readonly unchecked: UncheckedCertificate[];
}

export interface CheckOptions {
  readonly directories: string[];
  readonly minDays: number;
  readonly now: Date;
  /** @default false */
  readonly requireAll?: boolean;
}

/** Whether the report fails the check: an offender, or with `requireAll` an unchecked certificate. */
export function failed(report: CheckReport): boolean {
  return report.offenders.length > 0 || (report.requireAll && report.unchecked.length > 0);
}

/** Reads the assemblies and checks every recorded certificate. Throws ManifestReadError on bad input. */
export function checkAssemblies(options: CheckOptions): CheckReport {
  const assemblies: string[] = [];
  const located: LocatedEntry[] = [];
  const stacks: AssemblyStack[] = [];
  for (const directory of options.directories) {
    const records = readAssemblyRecords(directory);
    for (const assembly of records.assemblies) {
      if (!assemblies.includes(assembly)) {
        assemblies.push(assembly);
      }
    }
    for (const stack of records.stacks) {
      if (!stacks.some((s) => path.resolve(s.assemblyDirectory) === path.resolve(stack.assemblyDirectory) && s.artifactId === stack.artifactId)) {
        stacks.push(stack);
      }
    }
    for (const entry of records.entries) {
      // The same assembly reached twice (a directory and its parent): keep one copy.
      if (!located.some((l) => sameRecord(l, entry))) {
        located.push(entry);
      }
    }
  }

  const problems = new Map<LocatedEntry, Problem[]>();
  const summaries = new Map<LocatedEntry, CertificateSummary>();
  for (const l of located) {
    problems.set(l, []);
    const { summary, problem } = verifyRecord(l.entry);
    if (problem) {
      problems.get(l)!.push(problem);
    } else {
      summaries.set(l, summary!);
    }
    problems.get(l)!.push(...validityProblems(l.entry, options.now, options.minDays));
  }

  for (const group of groupByProperty(located)) {
    const problem = recheckGroup(group, located, summaries);
    if (problem) {
      problems.get(problem.at)!.push(problem.problem);
    }
  }

  const certificates = located.map((l): CertificateResult => {
    const found = problems.get(l)!;
    const status = PROBLEM_CODES.find((code) => found.some((p) => p.code === code)) ?? 'ok';
    return {
      assembly: l.assemblyDirectory,
      stack: l.stackDisplayName,
      constructPath: l.entry.constructPath,
      property: l.entry.property,
      position: l.entry.position,
      count: l.entry.count,
      subject: l.entry.subject,
      issuer: l.entry.issuer,
      serialNumber: l.entry.serialNumber,
      notBefore: l.entry.notBefore,
      notAfter: l.entry.notAfter,
      fingerprintSha256: l.entry.fingerprintSha256,
      daysLeft: Math.floor(daysUntil(new Date(l.entry.notAfter), options.now)),
      status,
      problems: found,
    };
  });
  return {
    version: REPORT_VERSION,
    checkedAt: options.now.toISOString(),
    minDays: options.minDays,
    requireAll: options.requireAll ?? false,
    assemblies,
    certificates,
    offenders: certificates.filter((c) => c.status !== 'ok'),
    unchecked: uncheckedCertificates(stacks),
  };
}

function sameRecord(a: LocatedEntry, b: LocatedEntry): boolean {
  return path.resolve(a.assemblyDirectory) === path.resolve(b.assemblyDirectory)
    && a.stackArtifactId === b.stackArtifactId
    && a.entry.constructPath === b.entry.constructPath
    && a.entry.property === b.entry.property
    && a.entry.position === b.entry.position;
}

/** The recorded PEM must be one certificate whose fingerprint and dates are the recorded ones. */
function verifyRecord(entry: CertificateManifestEntry): { summary?: CertificateSummary; problem?: Problem } {
  let summary: CertificateSummary;
  try {
    const certs = parseCertificates(entry.certificatePem, entry.property);
    if (certs.length !== 1) {
      return { problem: { code: 'invalid', message: `the record holds ${certs.length} certificates; expected exactly one` } };
    }
    summary = summarizeCertificate(certs[0]);
  } catch (e) {
    if (e instanceof CertificateCheckError) {
      return { problem: { code: 'invalid', message: `the recorded certificate does not parse: ${e.rule}` } };
    }
    throw e;
  }
  const mismatched = (['fingerprintSha256', 'notBefore', 'notAfter', 'serialNumber'] as const)
    .filter((field) => summary[field] !== entry[field]);
  if (mismatched.length > 0) {
    return {
      problem: {
        code: 'invalid',
        message: `the record's ${mismatched.join(', ')} do(es) not match its certificatePem; the assembly was altered after synth`,
      },
    };
  }
  return { summary };
}

function validityProblems(entry: CertificateManifestEntry, now: Date, minDays: number): Problem[] {
  const notBefore = new Date(entry.notBefore);
  const notAfter = new Date(entry.notAfter);
  if (now.getTime() > notAfter.getTime()) {
    return [{ code: 'expired', message: `expired on ${entry.notAfter}; renew it` }];
  }
  if (now.getTime() < notBefore.getTime()) {
    return [{ code: 'not-yet-valid', message: `not valid until ${entry.notBefore}` }];
  }
  const days = daysUntil(notAfter, now);
  if (days < minDays) {
    return [{ code: 'expiring', message: `expires in ${Math.floor(days)} day(s), on ${entry.notAfter}, within the ${minDays}-day minimum; renew it` }];
  }
  return [];
}

/** Records of one construct property, in position order. */
function groupByProperty(located: LocatedEntry[]): LocatedEntry[][] {
  const groups = new Map<string, LocatedEntry[]>();
  for (const l of located) {
    const key = [path.resolve(l.assemblyDirectory), l.stackArtifactId, l.entry.constructPath, l.entry.property].join('\u0000');
    const group = groups.get(key) ?? [];
    group.push(l);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => [...g].sort((a, b) => a.entry.position - b.entry.position));
}

/**
 * Re-runs the structural checks the construct ran at synth (one certificate; chain order and
 * signatures, against the leaf). Validity is reported per certificate above, so the checks run
 * at an instant when every certificate involved is valid; when there is none, a certificate is
 * expired or not yet valid and already reported.
 */
function recheckGroup(
  group: LocatedEntry[],
  located: LocatedEntry[],
  summaries: Map<LocatedEntry, CertificateSummary>,
): { at: LocatedEntry; problem: Problem } | undefined {
  const first = group[0];
  const { check, property, count } = first.entry;
  if (group.some((l) => !summaries.has(l))) {
    return undefined; // already reported as invalid
  }
  const positions = group.map((l) => l.entry.position);
  const complete = group.length === count && positions.every((p, i) => p === i + 1) && group.every((l) => l.entry.count === count);
  if (!complete) {
    return {
      at: first,
      problem: { code: 'invalid', message: `the assembly records positions ${positions.join(', ')} of ${property}, which holds ${count} certificate(s); the assembly is incomplete` },
    };
  }
  if (check === 'bundle') {
    return undefined; // each certificate parsed and is checked for validity on its own
  }

  let leaf: LocatedEntry | undefined;
  const leafFingerprint = first.entry.leafFingerprintSha256;
  if (check === 'chain' && leafFingerprint !== undefined) {
    leaf = located.find((l) => l.assemblyDirectory === first.assemblyDirectory
      && l.stackArtifactId === first.stackArtifactId
      && l.entry.constructPath === first.entry.constructPath
      && l.entry.fingerprintSha256 === leafFingerprint);
    if (!leaf) {
      return {
        at: first,
        problem: { code: 'invalid', message: `the chain was checked against a certificate (SHA-256 ${leafFingerprint}) that the assembly does not record` },
      };
    }
    if (!summaries.has(leaf)) {
      return undefined; // the leaf's record is invalid, and reported as such
    }
  }

  const involved = [...group, ...(leaf ? [leaf] : [])].map((l) => summaries.get(l) ?? l.entry);
  const latestStart = Math.max(...involved.map((s) => Date.parse(s.notBefore)));
  const earliestEnd = Math.min(...involved.map((s) => Date.parse(s.notAfter)));
  if (latestStart > earliestEnd) {
    return undefined;
  }
  const at = new Date(latestStart);
  const pem = group.map((l) => l.entry.certificatePem).join('');
  try {
    if (check === 'certificate') {
      checkCertificateBody(pem, property, { now: at });
    } else {
      checkCertificateChain(pem, property, leaf?.entry.certificatePem, { now: at, leafProperty: leaf?.entry.property });
    }
  } catch (e) {
    if (e instanceof CertificateCheckError) {
      return { at: first, problem: { code: 'invalid', message: e.message } };
    }
    throw e;
  }
  return undefined;
}

/**
 * Renders the report as text: a summary line that says how many certificates were checked and how
 * many could not be, a table of offenders, and the unchecked certificates with where each comes from.
 */
export function renderTable(report: CheckReport): string {
  const lines: string[] = [];
  const total = report.certificates.length;
  const where = report.assemblies.join(', ');
  const unchecked = report.unchecked.length;
  const notCheckable = `${unchecked} not checkable at synth`;
  if (report.offenders.length > 0) {
    const header = ['STATUS', 'DAYS LEFT', 'NOT AFTER', 'CONSTRUCT', 'PROPERTY', 'SUBJECT', 'PROBLEM'];
    const rows = report.offenders.flatMap((c) => c.problems.map((p) => [
      p.code,
      String(c.daysLeft),
      c.notAfter,
      c.constructPath,
      c.count > 1 ? `${c.property}[${c.position}/${c.count}]` : c.property,
      c.subject,
      p.message,
    ]));
    lines.push(`FAILED: ${report.offenders.length} of ${total} certificate(s) checked in ${where} are expired, expire within ${report.minDays} day(s), `
      + `or fail the X.509 checks${unchecked > 0 ? `; ${notCheckable}` : ''}:`);
    lines.push('');
    lines.push(...table(header, rows));
  } else if (report.requireAll && unchecked > 0) {
    lines.push(`FAILED (--require-all): ${total} certificate(s) checked in ${where}; ${notCheckable}, which --require-all refuses:`);
  } else if (total === 0) {
    lines.push(unchecked === 0
      ? `No certificates recorded in ${where}: nothing to check (only certificates whose PEM is known at synth are recorded).`
      : `No certificate checked in ${where}; ${notCheckable}:`);
  } else {
    const soonest = [...report.certificates].sort((a, b) => a.daysLeft - b.daysLeft)[0];
    lines.push(`OK: ${total} certificate(s) checked in ${where} are valid for at least ${report.minDays} more day(s); `
      + `the first to expire is ${soonest.subject} (${soonest.constructPath} ${soonest.property}) on ${soonest.notAfter}`
      + `${unchecked > 0 ? `; ${notCheckable}:` : '.'}`);
  }
  if (unchecked > 0) {
    lines.push('');
    if (report.offenders.length > 0) {
      lines.push(`Not checkable at synth (${unchecked}):`);
    }
    lines.push(...table(['CONSTRUCT', 'PROPERTY', 'SOURCE', 'FROM'],
      report.unchecked.map((u) => [u.constructPath, u.property, u.source, u.from])));
    lines.push('');
    lines.push(report.requireAll
      ? 'Their PEM is known only at deploy. Give them as PEM strings or files to check them at synth, or drop --require-all.'
      : 'Their PEM is known only at deploy, so this check cannot see them; --require-all fails on them.');
  }
  return lines.join('\n') + '\n';
}

/** Rows under a header, columns padded to their widest cell, the last column unpadded. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...rows.map(format)];
}

/** Where the CLI writes, and the clock (tests replace both). */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now?: () => Date;
}

export const USAGE = `Usage: cdk-certificates check <cloud-assembly-dir>... [--min-days N] [--require-all] [--format table|json]
       cdk-certificates check --live --stack NAME [--region REGION] [--min-days N] [--format table|json]

Checks the certificates recorded in a synthesized cloud assembly (e.g. cdk.out, or a stage's
assembly-<stage> directory; nested assemblies are read too). Fails when a certificate is expired,
not yet valid, expires within N days, or fails the cdk-certificates X.509 checks. Lists the
certificates it cannot check (their PEM is known only at deploy: a secret, an SSM parameter, a
certificate issued at deploy, a CA certificate) with where each comes from.

Options:
  --min-days N     minimum days of validity left (default ${DEFAULT_MIN_DAYS})
  --require-all    fail when a certificate cannot be checked
  --format FORMAT  table (default) or json
  -h, --help       show this help
  --version        show the version

Exit codes: 0 all healthy, 1 offenders found (or, with --require-all, a certificate not
checkable), 2 usage or input error.

With --live it checks a deployed stack's certificates at their services instead (AWS credentials,
read-only); see cdk-certificates check --live --help.
`;

interface ParsedArgs {
  readonly directories: string[];
  readonly minDays: number;
  readonly requireAll: boolean;
  readonly format: 'table' | 'json';
}

/** A command line the CLI cannot take: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/**
 * Walks `args`, giving `visit` each argument with its option name and a reader of its value
 * (`--name value` and `--name=value` alike). `visit` returns `'stop'` to end the walk.
 */
export function forEachArg(args: string[], visit: (arg: string, name: string, value: () => string, index: number) => 'stop' | void): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      if (i + 1 >= args.length) throw new UsageError(`${name} needs a value`);
      return args[++i];
    };
    if (visit(arg, name, value, i) === 'stop') {
      return;
    }
  }
}

/** `--min-days`: a whole number of days. */
export function parseMinDays(text: string): number {
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`--min-days must be a whole number of days (0 or more), got '${text}'`);
  }
  return Number(text);
}

/** `--format`: table or json. */
export function parseFormat(text: string): 'table' | 'json' {
  if (text !== 'table' && text !== 'json') {
    throw new UsageError(`--format must be table or json, got '${text}'`);
  }
  return text;
}

function parseCheckArgs(args: string[]): ParsedArgs {
  const directories: string[] = [];
  let minDays = DEFAULT_MIN_DAYS;
  let format: 'table' | 'json' = 'table';
  let requireAll = false;
  forEachArg(args, (arg, name, value, i) => {
    if (name === '--min-days') {
      minDays = parseMinDays(value());
    } else if (arg === '--require-all') {
      requireAll = true;
    } else if (name === '--format') {
      format = parseFormat(value());
    } else if (arg === '--') {
      directories.push(...args.slice(i + 1));
      return 'stop';
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${name}`);
    } else {
      directories.push(arg);
    }
    return undefined;
  });
  if (directories.length === 0) {
    throw new UsageError('give the cloud assembly directory to check, e.g. cdk.out');
  }
  return { directories, minDays, requireAll, format };
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export function runCli(argv: string[], io: CliIo, version: string): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(USAGE);
    return command === undefined ? EXIT_USAGE : EXIT_HEALTHY;
  }
  if (command === '--version') {
    io.stdout(`${version}\n`);
    return EXIT_HEALTHY;
  }
  if (command !== 'check') {
    io.stderr(`cdk-certificates: unknown command '${command}'\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout(USAGE);
    return EXIT_HEALTHY;
  }
  let args: ParsedArgs;
  try {
    args = parseCheckArgs(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`cdk-certificates check: ${e.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw e;
  }
  let report: CheckReport;
  try {
    report = checkAssemblies({ directories: args.directories, minDays: args.minDays, requireAll: args.requireAll, now: io.now?.() ?? new Date() });
  } catch (e) {
    if (e instanceof ManifestReadError) {
      io.stderr(`cdk-certificates check: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  io.stdout(args.format === 'json' ? `${JSON.stringify(report, undefined, 2)}\n` : renderTable(report));
  return failed(report) ? EXIT_OFFENDERS : EXIT_HEALTHY;
}
