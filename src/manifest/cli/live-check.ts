/**
 * `cdk-certificates check --live --stack <name>`: what is deployed, not only what was synthesized.
 *
 * It lists a deployed stack's resources through CloudFormation, asks each service for the real
 * certificate of every certificate resource (IAM, DMS, Lightsail, ACM, ACM Private CA), and reports
 * every certificate that is expired, not yet valid, expires within the minimum number of days,
 * fails the library's X.509 checks (certificate and chain, ./x509.ts), is gone, or is not in a
 * healthy state at its service (ACM `REVOKED`, Lightsail `EXPIRED`, ...). Where the service says,
 * it lists what uses each certificate.
 *
 * Revocation: only where it is cheap, from the service's own state (ACM `Status`/`RevokedAt`,
 * Lightsail `status`). An ACM Private CA issued certificate's revocation is not checked: that needs an
 * audit report (asynchronous, written to S3) or the CRL, and the check stays read-only and quick.
 *
 * This file holds no AWS SDK: the services come in as {@link LiveServices} (./live.ts binds them to
 * the AWS SDK v3; tests bind them to moto or fakes). The live CLI ships as its own bundle
 * (assets/manifest/cli/live/index.js, SDK clients bundled in), so the self-contained `check` CLI stays
 * small; main.ts hands `check --live` to it.
 */
import { CliIo, DEFAULT_MIN_DAYS, EXIT_HEALTHY, EXIT_OFFENDERS, EXIT_USAGE, table } from './check';
import {
  CertificateCheckError,
  CertificateSummary,
  checkCertificateBody,
  checkCertificateChain,
  daysUntil,
  parseCertificates,
  summarizeCertificate,
} from '../../contract/x509';

/** The version of the live JSON report (`check --live --format json`). */
export const LIVE_REPORT_VERSION = 1;

/** One resource of a deployed stack, as CloudFormation lists it. */
export interface StackResource {
  readonly logicalId: string;
  readonly physicalId?: string;
  readonly type: string;
  /** CloudFormation's status of the resource (`CREATE_COMPLETE`, ...). */
  readonly status?: string;
}

/** A certificate and its chain as a service returns them (PEM), with what the service says of it. */
export interface ServiceCertificate {
  /** The certificate (PEM); absent where the service returns no PEM (Lightsail, a DMS Oracle wallet). */
  readonly certificatePem?: string;
  /** The issuers of the certificate, leaf-to-root (PEM). */
  readonly chainPem?: string;
  /** Validity from the service, used when there is no PEM. */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly subject?: string;
  readonly serialNumber?: string;
  /** The service's status of the certificate (ACM, Lightsail, ACM Private CA). */
  readonly status?: string;
  /** Statuses of that service that are healthy. */
  readonly healthyStatuses?: readonly string[];
  /** When the service says the certificate was revoked. */
  readonly revokedAt?: Date;
  /** What uses the certificate, where the service says (undefined: the service does not say). */
  readonly usedBy?: readonly string[];
}

/**
 * The read-only calls the live check makes. Each returns undefined when the certificate does not
 * exist (the service's not-found error); any other error propagates.
 */
export interface LiveServices {
  /** CloudFormation DescribeStackResources. */
  stackResources(stackName: string): Promise<StackResource[]>;
  /** IAM GetServerCertificate (by name). IAM does not say what uses a server certificate. */
  iamServerCertificate(name: string): Promise<ServiceCertificate | undefined>;
  /** DMS DescribeCertificates (by ARN), and DescribeEndpoints for its users. */
  dmsCertificate(arn: string): Promise<ServiceCertificate | undefined>;
  /** Lightsail GetCertificates (with details), matched by ARN. */
  lightsailCertificate(arn: string): Promise<ServiceCertificate | undefined>;
  /** ACM DescribeCertificate (status, InUseBy) and GetCertificate (PEM, once issued). */
  acmCertificate(arn: string): Promise<ServiceCertificate | undefined>;
  /** ACM Private CA GetCertificateAuthorityCertificate. */
  privateCaCertificate(caArn: string): Promise<ServiceCertificate | undefined>;
  /** ACM Private CA GetCertificate: the public certificate of an issued certificate (never its key). */
  privateCaIssuedCertificate(caArn: string, certificateArn: string): Promise<ServiceCertificate | undefined>;
}

/** How each resource type is read, by its physical ID. */
interface Reader {
  readonly service: string;
  readonly read: (services: LiveServices, physicalId: string) => Promise<ServiceCertificate | undefined>;
}

/** The CA ARN an issued certificate's ARN starts with (`<ca-arn>/certificate/<id>`). */
export function caArnOfIssuedCertificate(certificateArn: string): string {
  const at = certificateArn.indexOf('/certificate/');
  return at > 0 ? certificateArn.slice(0, at) : certificateArn;
}

const issued: Reader = {
  service: 'ACM Private CA',
  read: (s, id) => s.privateCaIssuedCertificate(caArnOfIssuedCertificate(id), id),
};
const acm: Reader = { service: 'ACM', read: (s, id) => s.acmCertificate(id) };
const ca: Reader = { service: 'ACM Private CA', read: (s, id) => s.privateCaCertificate(id) };

/** The certificate resource types the live check reads, and how. */
export const LIVE_RESOURCE_TYPES: Readonly<Record<string, Reader>> = {
  'Custom::ServerCertificate': { service: 'IAM', read: (s, id) => s.iamServerCertificate(id) },
  'AWS::IAM::ServerCertificate': { service: 'IAM', read: (s, id) => s.iamServerCertificate(id) },
  'Custom::DmsCertificate': { service: 'DMS', read: (s, id) => s.dmsCertificate(id) },
  'AWS::DMS::Certificate': { service: 'DMS', read: (s, id) => s.dmsCertificate(id) },
  'Custom::LightsailCertificate': { service: 'Lightsail', read: (s, id) => s.lightsailCertificate(id) },
  'Custom::AcmImportedCertificate': acm,
  'AWS::CertificateManager::Certificate': acm,
  'Custom::PrivateCa': ca,
  'AWS::ACMPCA::CertificateAuthority': ca,
  'Custom::PrivateCaIssuedCertificate': issued,
  'AWS::ACMPCA::Certificate': issued,
};

export type LiveProblemCode = 'missing' | 'unhealthy' | 'revoked' | 'invalid' | 'expired' | 'not-yet-valid' | 'expiring';
/** Worst first: a certificate's status is its worst problem. */
const LIVE_PROBLEM_CODES: readonly LiveProblemCode[] = ['missing', 'revoked', 'unhealthy', 'invalid', 'expired', 'not-yet-valid', 'expiring'];

export interface LiveProblem {
  readonly code: LiveProblemCode;
  readonly message: string;
}

/** One deployed certificate resource and what the check found. */
export interface LiveCertificateResult {
  readonly logicalId: string;
  readonly physicalId: string;
  readonly resourceType: string;
  readonly service: string;
  readonly subject?: string;
  readonly issuer?: string;
  readonly serialNumber?: string;
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly fingerprintSha256?: string;
  /** Whole days left until notAfter (negative once expired); undefined when unknown. */
  readonly daysLeft?: number;
  /** The number of certificates in the chain the service returned. */
  readonly chainLength: number;
  /** The service's own status of the certificate, where it has one. */
  readonly serviceStatus?: string;
  /** What uses the certificate, where the service says; undefined when it does not say (IAM). */
  readonly usedBy?: readonly string[];
  readonly status: LiveProblemCode | 'ok';
  readonly problems: LiveProblem[];
}

export interface LiveCheckReport {
  readonly version: number;
  readonly mode: 'live';
  readonly checkedAt: string;
  readonly minDays: number;
  readonly stack: string;
  readonly region?: string;
  readonly certificates: LiveCertificateResult[];
  readonly offenders: LiveCertificateResult[];
  /** Certificate resources with no physical ID yet (being created, or failed to create). */
  readonly notDeployed: Array<{ logicalId: string; resourceType: string; status?: string }>;
  /** What the check does not cover, said once. */
  readonly notChecked: string[];
}

export interface LiveCheckOptions {
  readonly stackName: string;
  readonly region?: string;
  readonly minDays: number;
  readonly now: Date;
  readonly services: LiveServices;
  /**
   * The stack's resources, instead of CloudFormation DescribeStackResources (a test seam).
   *
   * @default - `services.stackResources(stackName)`
   */
  readonly resources?: StackResource[];
}

/** Notes on what the live check cannot see, in every report. */
export const LIVE_NOT_CHECKED = [
  'revocation of ACM Private CA issued certificates (it needs an audit report or the CRL); ACM and Lightsail revocation comes from their status',
  'what uses an IAM server certificate (IAM does not say)',
];

/** Reads every certificate resource of the stack from its service and checks it. */
export async function checkLiveStack(options: LiveCheckOptions): Promise<LiveCheckReport> {
  const resources = options.resources ?? await options.services.stackResources(options.stackName);
  const certificateResources = resources.filter((r) => LIVE_RESOURCE_TYPES[r.type] !== undefined);
  const deployed = certificateResources.filter((r) => r.physicalId);
  const notDeployed = certificateResources.filter((r) => !r.physicalId)
    .map((r) => ({ logicalId: r.logicalId, resourceType: r.type, status: r.status }));

  // A few resources per stack: read them a few at a time, in order.
  const certificates: LiveCertificateResult[] = [];
  const CONCURRENCY = 4;
  for (let i = 0; i < deployed.length; i += CONCURRENCY) {
    certificates.push(...await Promise.all(deployed.slice(i, i + CONCURRENCY).map((r) => checkResource(r, options))));
  }
  return {
    version: LIVE_REPORT_VERSION,
    mode: 'live',
    checkedAt: options.now.toISOString(),
    minDays: options.minDays,
    stack: options.stackName,
    region: options.region,
    certificates,
    offenders: certificates.filter((c) => c.status !== 'ok'),
    notDeployed,
    notChecked: LIVE_NOT_CHECKED,
  };
}

async function checkResource(resource: StackResource, options: LiveCheckOptions): Promise<LiveCertificateResult> {
  const reader = LIVE_RESOURCE_TYPES[resource.type];
  const physicalId = resource.physicalId!;
  const base = { logicalId: resource.logicalId, physicalId, resourceType: resource.type, service: reader.service };
  const found = await reader.read(options.services, physicalId);
  if (!found) {
    const problem: LiveProblem = { code: 'missing', message: `${reader.service} has no certificate ${physicalId}, which the stack says it holds; it was deleted outside CloudFormation: update the stack to recreate it` };
    return { ...base, chainLength: 0, status: 'missing', problems: [problem] };
  }

  const problems: LiveProblem[] = [];
  let summary: CertificateSummary | undefined;
  let chainLength = 0;
  if (found.certificatePem !== undefined) {
    try {
      const certs = parseCertificates(found.certificatePem, 'certificate');
      summary = summarizeCertificate(certs[0]);
      checkCertificateBody(found.certificatePem, 'certificate', { dates: false });
    } catch (e) {
      problems.push(checkProblem(e, 'the certificate'));
    }
  }
  if (found.chainPem !== undefined && found.chainPem.trim() !== '') {
    try {
      const chain = parseCertificates(found.chainPem, 'certificateChain').map(summarizeCertificate);
      chainLength = chain.length;
      checkCertificateChain(found.chainPem, 'certificateChain', found.certificatePem, { dates: false, leafProperty: 'certificate' });
      chain.forEach((c, i) => problems.push(...validityProblems(
        `chain position ${i + 1} (${c.subject})`, new Date(c.notBefore), new Date(c.notAfter), options)));
    } catch (e) {
      problems.push(checkProblem(e, 'the chain'));
    }
  }

  const notBefore = summary ? new Date(summary.notBefore) : found.notBefore;
  const notAfter = summary ? new Date(summary.notAfter) : found.notAfter;
  if (notBefore && notAfter) {
    problems.unshift(...validityProblems('the certificate', notBefore, notAfter, options));
  }
  if (found.revokedAt) {
    problems.unshift({ code: 'revoked', message: `${reader.service} says it was revoked on ${found.revokedAt.toISOString()}; replace it` });
  } else if (found.status !== undefined && found.healthyStatuses && !found.healthyStatuses.includes(found.status)) {
    const code: LiveProblemCode = found.status === 'REVOKED' ? 'revoked' : 'unhealthy';
    // An expired certificate is reported from its dates; do not say it twice.
    if (!(found.status === 'EXPIRED' && problems.some((p) => p.code === 'expired'))) {
      problems.unshift({ code, message: `${reader.service} status ${found.status} (healthy: ${found.healthyStatuses.join(', ')})` });
    }
  }

  const status = LIVE_PROBLEM_CODES.find((code) => problems.some((p) => p.code === code)) ?? 'ok';
  return {
    ...base,
    subject: summary?.subject ?? found.subject,
    issuer: summary?.issuer,
    serialNumber: summary?.serialNumber ?? found.serialNumber,
    notBefore: notBefore?.toISOString(),
    notAfter: notAfter?.toISOString(),
    fingerprintSha256: summary?.fingerprintSha256,
    daysLeft: notAfter ? Math.floor(daysUntil(notAfter, options.now)) : undefined,
    chainLength,
    serviceStatus: found.status,
    usedBy: found.usedBy,
    status,
    problems,
  };
}

function checkProblem(e: unknown, what: string): LiveProblem {
  if (e instanceof CertificateCheckError) {
    return { code: 'invalid', message: `${what}: ${e.message}` };
  }
  throw e;
}

function validityProblems(what: string, notBefore: Date, notAfter: Date, options: LiveCheckOptions): LiveProblem[] {
  const now = options.now;
  if (now.getTime() > notAfter.getTime()) {
    return [{ code: 'expired', message: `${what} expired on ${notAfter.toISOString()}; renew it` }];
  }
  if (now.getTime() < notBefore.getTime()) {
    return [{ code: 'not-yet-valid', message: `${what} is not valid until ${notBefore.toISOString()}` }];
  }
  const days = daysUntil(notAfter, now);
  if (days < options.minDays) {
    return [{ code: 'expiring', message: `${what} expires in ${Math.floor(days)} day(s), on ${notAfter.toISOString()}, within the ${options.minDays}-day minimum; renew it` }];
  }
  return [];
}

/** Renders the live report as text: a summary line, the offenders, then every certificate and its users. */
export function renderLiveTable(report: LiveCheckReport): string {
  const lines: string[] = [];
  const where = `stack ${report.stack}${report.region ? ` (${report.region})` : ''}`;
  const total = report.certificates.length;
  if (report.offenders.length > 0) {
    lines.push(`FAILED: ${report.offenders.length} of ${total} deployed certificate(s) in ${where} are missing, revoked, unhealthy, `
      + `expired, expire within ${report.minDays} day(s), or fail the X.509 checks:`);
    lines.push('');
    lines.push(...table(['STATUS', 'DAYS LEFT', 'NOT AFTER', 'LOGICAL ID', 'SERVICE', 'SUBJECT', 'PROBLEM'],
      report.offenders.flatMap((c) => c.problems.map((p) => [
        p.code, c.daysLeft === undefined ? '-' : String(c.daysLeft), c.notAfter ?? '-', c.logicalId, c.service, c.subject ?? '-', p.message,
      ]))));
  } else if (total === 0) {
    lines.push(`No deployed certificate in ${where}: nothing to check.`);
  } else {
    const known = report.certificates.filter((c) => c.daysLeft !== undefined).sort((a, b) => a.daysLeft! - b.daysLeft!);
    lines.push(`OK: ${total} deployed certificate(s) in ${where} are valid for at least ${report.minDays} more day(s)`
      + (known.length > 0 ? `; the first to expire is ${known[0].subject ?? known[0].physicalId} (${known[0].logicalId}) on ${known[0].notAfter}.` : '.'));
  }
  if (total > 0) {
    lines.push('');
    lines.push(...table(['LOGICAL ID', 'SERVICE', 'DAYS LEFT', 'CHAIN', 'USED BY', 'PHYSICAL ID'],
      report.certificates.map((c) => [
        c.logicalId,
        c.service,
        c.daysLeft === undefined ? '-' : String(c.daysLeft),
        String(c.chainLength),
        c.usedBy === undefined ? '(not said)' : c.usedBy.length === 0 ? '(nothing)' : c.usedBy.join(', '),
        c.physicalId,
      ])));
  }
  if (report.notDeployed.length > 0) {
    lines.push('');
    lines.push(`Not deployed (no physical ID): ${report.notDeployed.map((r) => `${r.logicalId} (${r.resourceType}${r.status ? `, ${r.status}` : ''})`).join(', ')}`);
  }
  lines.push('');
  lines.push(`Not checked: ${report.notChecked.join('; ')}.`);
  return lines.join('\n') + '\n';
}

export const LIVE_USAGE = `Usage: cdk-certificates check --live --stack NAME [--region REGION] [--min-days N] [--format table|json]

Checks the certificates of a deployed stack: lists its resources through CloudFormation and reads
each certificate from its service (IAM, DMS, Lightsail, ACM, ACM Private CA). Fails when a
certificate is gone, revoked or unhealthy at its service, expired, not yet valid, expires within N
days, or fails the cdk-certificates X.509 checks (certificate and chain). Lists what uses each
certificate where the service says. Read-only; uses the AWS SDK's usual credentials and region.

Options:
  --stack NAME         the deployed stack (name or ID)
  --region REGION      its region (default: the SDK's, e.g. AWS_REGION)
  --min-days N         minimum days of validity left (default ${DEFAULT_MIN_DAYS})
  --format FORMAT      table (default) or json
  --endpoint-url URL   send every call to this endpoint (a local emulator)
  -h, --help           show this help

Exit codes: 0 all healthy, 1 offenders found, 2 usage, input or AWS error.
`;

export interface LiveArgs {
  readonly stackName: string;
  readonly region?: string;
  readonly endpointUrl?: string;
  readonly minDays: number;
  readonly format: 'table' | 'json';
}

class LiveUsageError extends Error {}

/** Parses `check --live ...` arguments (`check` already removed). */
export function parseLiveArgs(args: string[]): LiveArgs {
  let stackName: string | undefined;
  let region: string | undefined;
  let endpointUrl: string | undefined;
  let minDays = DEFAULT_MIN_DAYS;
  let format: 'table' | 'json' = 'table';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      if (i + 1 >= args.length) throw new LiveUsageError(`${name} needs a value`);
      return args[++i];
    };
    if (arg === '--live') {
      continue;
    } else if (name === '--stack') {
      stackName = value();
    } else if (name === '--region') {
      region = value();
    } else if (name === '--endpoint-url') {
      endpointUrl = value();
    } else if (name === '--min-days') {
      const text = value();
      if (!/^\d+$/.test(text)) {
        throw new LiveUsageError(`--min-days must be a whole number of days (0 or more), got '${text}'`);
      }
      minDays = Number(text);
    } else if (name === '--format') {
      const text = value();
      if (text !== 'table' && text !== 'json') {
        throw new LiveUsageError(`--format must be table or json, got '${text}'`);
      }
      format = text;
    } else if (name === '--require-all') {
      throw new LiveUsageError('--require-all applies to a cloud assembly; --live reads every certificate it finds');
    } else {
      throw new LiveUsageError(arg.startsWith('-') ? `unknown option ${name}` : `--live reads a deployed stack, not a directory ('${arg}'); give --stack NAME`);
    }
  }
  if (!stackName) {
    throw new LiveUsageError('give the deployed stack to check: --stack NAME');
  }
  return { stackName, region, endpointUrl, minDays, format };
}

/** Where the live CLI gets its services (the SDK binding, or a test's). */
export type LiveServicesFactory = (args: LiveArgs) => LiveServices;

/** Runs `check --live ...` (argv without `check`) and resolves with the exit code. */
export async function runLiveCli(argv: string[], io: CliIo, services: LiveServicesFactory): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout(LIVE_USAGE);
    return EXIT_HEALTHY;
  }
  let args: LiveArgs;
  try {
    args = parseLiveArgs(argv);
  } catch (e) {
    if (e instanceof LiveUsageError) {
      io.stderr(`cdk-certificates check --live: ${e.message}\n\n${LIVE_USAGE}`);
      return EXIT_USAGE;
    }
    throw e;
  }
  let report: LiveCheckReport;
  try {
    const now = io.now?.() ?? new Date();
    report = await checkLiveStack({ stackName: args.stackName, region: args.region, minDays: args.minDays, now, services: services(args) });
  } catch (e) {
    const name = e instanceof Error ? e.name : 'Error';
    io.stderr(`cdk-certificates check --live: ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_USAGE;
  }
  io.stdout(args.format === 'json' ? `${JSON.stringify(report, undefined, 2)}\n` : renderLiveTable(report));
  return report.offenders.length > 0 ? EXIT_OFFENDERS : EXIT_HEALTHY;
}
