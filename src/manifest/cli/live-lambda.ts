/**
 * The Lambda function of `ScheduledCertificateCheck` (../scheduled-certificate-check.ts): the live
 * check of `cdk-certificates check --live` (./live-check.ts over ./live.ts's AWS SDK services) for
 * each stack of its configuration, with one SNS message of the text report when anything needs
 * attention (or always, with `NOTIFY_ON_SUCCESS`).
 *
 * Bundled by `.projenrc.ts` to assets/manifest/cli/live-lambda/index.js with every `@aws-sdk/*`
 * client external: the Lambda Node.js 22 runtime provides the AWS SDK v3, including
 * `@aws-sdk/client-sns`, which this project does not depend on, so it is loaded by name at run time
 * and typed by the small {@link SnsModule} below.
 *
 * Configuration (environment): `STACKS` (comma-separated stack names), `TOPIC_ARN`, `MIN_DAYS`,
 * `NOTIFY_ON_SUCCESS` (`true` or `false`).
 */
import { DEFAULT_MIN_DAYS } from './check';
import { sdkServices } from './live';
import { checkLiveStack, LiveCheckReport, LiveServices, renderLiveTable } from './live-check';

/** What the scheduled check publishes: one SNS message. */
export interface ScheduledCheckMessage {
  readonly topicArn: string;
  /** At most 100 characters, one line (SNS's limits). */
  readonly subject: string;
  readonly message: string;
}

/** Where the scheduled check publishes (SNS Publish on Lambda; a stub in tests). */
export interface ScheduledCheckPublisher {
  publish(message: ScheduledCheckMessage): Promise<void>;
}

/** The configuration of one scheduled check, from the function's environment. */
export interface ScheduledCheckConfig {
  readonly stacks: readonly string[];
  readonly topicArn: string;
  readonly minDays: number;
  readonly notifyOnSuccess: boolean;
}

/** What the scheduled check needs from outside: the AWS reads, the publisher and the clock. */
export interface ScheduledCheckDeps {
  readonly services: LiveServices;
  readonly publisher: ScheduledCheckPublisher;
  readonly now?: () => Date;
}

/** The outcome of one run, returned by the handler (and logged). */
export interface ScheduledCheckResult {
  /** Certificates with a problem, plus stacks that could not be checked. */
  readonly problems: number;
  readonly certificates: number;
  readonly stacks: ReadonlyArray<{ readonly stack: string; readonly offenders?: number; readonly certificates?: number; readonly error?: string }>;
  /** The subject of the message published, if one was. */
  readonly published?: string;
}

/** SNS's limit on a message is 256 KiB; leave room for the truncation note. */
const MAX_MESSAGE_BYTES = 250_000;

/** Reads the configuration the construct writes into the function's environment. */
export function configFromEnv(env: Record<string, string | undefined>): ScheduledCheckConfig {
  const stacks = (env.STACKS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (stacks.length === 0) throw new Error('STACKS is empty: the function has no stack to check');
  const topicArn = env.TOPIC_ARN ?? '';
  if (topicArn === '') throw new Error('TOPIC_ARN is not set: the function has nowhere to publish');
  const minDaysText = env.MIN_DAYS ?? String(DEFAULT_MIN_DAYS);
  if (!/^\d+$/.test(minDaysText)) throw new Error(`MIN_DAYS must be a whole number of days, got '${minDaysText}'`);
  return { stacks, topicArn, minDays: Number(minDaysText), notifyOnSuccess: env.NOTIFY_ON_SUCCESS === 'true' };
}

/** One line, at most 100 characters: what SNS accepts as a subject. */
function subjectOf(text: string): string {
  const line = text.replace(/[\r\n\t]+/g, ' ');
  return line.length <= 100 ? line : `${line.slice(0, 97)}...`;
}

function truncate(text: string): string {
  if (Buffer.byteLength(text, 'utf8') <= MAX_MESSAGE_BYTES) return text;
  const cut = Buffer.from(text, 'utf8').subarray(0, MAX_MESSAGE_BYTES).toString('utf8');
  return `${cut}\n\n[truncated: the report is longer than an SNS message allows; run cdk-certificates check --live for all of it]\n`;
}

/** Checks every configured stack and publishes the text report when there is a problem (or always, if asked). */
export async function runScheduledCheck(config: ScheduledCheckConfig, deps: ScheduledCheckDeps): Promise<ScheduledCheckResult> {
  const now = deps.now?.() ?? new Date();
  const sections: string[] = [];
  const stacks: Array<{ stack: string; offenders?: number; certificates?: number; error?: string }> = [];
  let problems = 0;
  let certificates = 0;
  for (const stackName of config.stacks) {
    let report: LiveCheckReport;
    try {
      report = await checkLiveStack({ stackName, minDays: config.minDays, now, services: deps.services });
    } catch (e) {
      const error = `${e instanceof Error ? e.name : 'Error'}: ${e instanceof Error ? e.message : String(e)}`;
      problems += 1;
      stacks.push({ stack: stackName, error });
      sections.push(`FAILED: stack ${stackName} could not be checked: ${error}\n`);
      continue;
    }
    problems += report.offenders.length;
    certificates += report.certificates.length;
    stacks.push({ stack: stackName, offenders: report.offenders.length, certificates: report.certificates.length });
    sections.push(renderLiveTable(report));
  }

  const result = { problems, certificates, stacks };
  if (problems === 0 && !config.notifyOnSuccess) return result;

  const where = config.stacks.length === 1 ? `stack ${config.stacks[0]}` : `${config.stacks.length} stacks`;
  const subject = subjectOf(problems > 0
    ? `cdk-certificates: ${problems} certificate problem(s) in ${where}`
    : `cdk-certificates: no certificate problems in ${where}`);
  const header = `cdk-certificates scheduled live check at ${now.toISOString()}, minimum ${config.minDays} day(s) of validity left.\n\n`;
  const message = truncate(header + sections.join('\n----------------------------------------\n\n'));
  await deps.publisher.publish({ topicArn: config.topicArn, subject, message });
  return { ...result, published: subject };
}

/** The parts of `@aws-sdk/client-sns` the publisher uses. */
interface SnsModule {
  SNSClient: new (config: Record<string, unknown>) => { send(command: unknown): Promise<unknown> };
  PublishCommand: new (input: { TopicArn: string; Subject: string; Message: string }) => unknown;
}

/** The Lambda runtime's SNS client; a variable name keeps it external to the bundle and the type checker. */
const SNS_CLIENT_MODULE = '@aws-sdk/client-sns';
let snsClient: Promise<{ m: SnsModule; client: { send(command: unknown): Promise<unknown> } }> | undefined;

/** {@link ScheduledCheckPublisher} over SNS Publish, client made on first use. */
export function snsPublisher(): ScheduledCheckPublisher {
  return {
    async publish(message: ScheduledCheckMessage): Promise<void> {
      snsClient ??= import(SNS_CLIENT_MODULE).then((m: SnsModule) => ({ m, client: new m.SNSClient({}) }));
      const { m, client } = await snsClient;
      await client.send(new m.PublishCommand({ TopicArn: message.topicArn, Subject: message.subject, Message: message.message }));
    },
  };
}

let services: LiveServices | undefined;

/** The Lambda handler: EventBridge Scheduler invokes it; it ignores the event. */
export async function handler(): Promise<ScheduledCheckResult> {
  services ??= sdkServices();
  const result = await runScheduledCheck(configFromEnv(process.env), { services, publisher: snsPublisher() });
  console.log(JSON.stringify({ message: 'cdk-certificates scheduled live check', ...result }));
  return result;
}
