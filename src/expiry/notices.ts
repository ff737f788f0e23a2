import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ExpiryNotificationOptions } from './expiry-notifications';
import { summarizeCertificates } from '../contract/x509';
import { CertificateInputError } from '../private/errors';
import { addToSharedStatement } from '../private/grants';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Warning id users acknowledge with `Annotations.of(scope).acknowledgeWarning(...)`. */
export const EXPIRY_NOTICE_PAST_DUE_WARNING = 'cdk-certificates:expiryNoticePastDue';

/** Day counts per call, and distinct day counts per certificate (one Data entry each at most). */
export const MAX_NOTICE_DAYS = 10;
/** The largest day count (ten years). */
export const MAX_DAYS_BEFORE = 3650;

/**
 * A notice due sooner than this after synth is timed by the handler at deploy rather than written
 * into the template: a pipeline may deploy days after synth (CodePipeline's manual approval waits
 * up to 7 days), and a schedule must never be created for a time already past.
 */
export const SYNTH_TIME_MARGIN_DAYS = 7;

/** Must match `PAST_DUE_DELAY_MS` of `lambda/shared/expiry.ts` (for messages). */
const PAST_DUE_DELAY_MINUTES = 5;

/** Data keys of the handlers' answer (see `lambda/shared/expiry.ts`). */
const NOTIFY_AT_PREFIX = 'NotifyAt';
const NOTIFY_NOT_AFTER = 'NotifyNotAfter';

/** The stack's one role for every expiry notice schedule. */
const ROLE_ID = 'CdkCertificatesExpiryNoticeRole';

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC, as `lambda/shared/expiry.ts` writes it at deploy. */
export function atExpression(date: Date): string {
  return `at(${date.toISOString().slice(0, 19)})`;
}

/**
 * The earliest notAfter of the certificates in a PEM known at synth; undefined when the PEM is a
 * token or does not parse (the synth checks report that with their own error).
 */
export function notAfterAtSynth(pem: string | undefined, property: string): Date | undefined {
  if (pem === undefined) {
    return undefined;
  }
  // Many constructs share a PEM (a CA, a bundle): parse each once per synth.
  if (!notAfterByPem.has(pem)) {
    let notAfter: number | undefined;
    try {
      const times = summarizeCertificates(pem, property).map(c => new Date(c.notAfter).getTime());
      notAfter = times.length === 0 ? undefined : Math.min(...times);
    } catch {
      notAfter = undefined;
    }
    notAfterByPem.set(pem, notAfter);
  }
  const time = notAfterByPem.get(pem);
  return time === undefined ? undefined : new Date(time);
}

const notAfterByPem = new Map<string, number | undefined>();

/** What the notices say about the certificate, and where deploy-time answers come from. */
export interface ExpiryNoticeSource {
  /** What the certificate is, for the message (e.g. `IAM server certificate`). */
  readonly kind: string;
  /** The certificate's ARN (a token is fine). */
  readonly certificate: string;
  /** An attribute of the handler's custom resource (`NotifyAt<days>`, `NotifyNotAfter`). */
  attribute(name: string): string;
}

/**
 * The expiry notices of one certificate: EventBridge Scheduler one-time schedules that publish to
 * SNS, timed at synth when notAfter is known early enough, otherwise by the construct's handler.
 */
export class ExpiryNotices {
  private readonly deployDays = new Set<number>();
  private readonly allDays = new Set<number>();
  private readonly topics = new Map<sns.ITopic, Set<number>>();
  private source?: ExpiryNoticeSource;
  private calls = 0;

  /**
   * @param owner the certificate construct (schedules go under it, errors and warnings name it)
   * @param notAfter the certificate's notAfter when known at synth
   */
  constructor(private readonly owner: Construct, private readonly notAfter: Date | undefined) {}

  /**
   * The handler's `NotifyDaysBefore` property, read when the template is written: the day counts
   * it must time, undefined when none (so a certificate without notices keeps its template).
   */
  public handlerProperty(): string[] | undefined {
    return this.deployDays.size === 0 ? undefined : [...this.deployDays].sort((a, b) => a - b).map(String);
  }

  /** Tells where the certificate's ARN and the handler's answers come from. */
  public bind(source: ExpiryNoticeSource): void {
    this.source = source;
  }

  /** Validates the options, then adds one schedule per day count. */
  public add(options: ExpiryNotificationOptions): void {
    const days = this.validate(options);
    const source = this.source;
    if (!source) {
      throw new Error(`ExpiryNotices of ${this.owner.node.path} used before bind()`);
    }
    const topic = options.topic;
    const known = this.topics.get(topic) ?? new Set<number>();
    this.topics.set(topic, known);
    days.forEach(d => {
      known.add(d);
      this.allDays.add(d);
    });

    this.calls += 1;
    const group = new Construct(this.owner, this.calls === 1 ? 'ExpiryNotices' : `ExpiryNotices${this.calls}`);
    const role = noticeRole(this.owner);
    for (const d of days) {
      const expression = this.timing(d, source);
      const notAfterText = this.notAfter ? this.notAfter.toISOString() : source.attribute(NOTIFY_NOT_AFTER);
      const schedule = new scheduler.CfnSchedule(group, `Days${d}`, {
        scheduleExpression: expression,
        scheduleExpressionTimezone: 'UTC',
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: topic.topicArn,
          roleArn: role.roleArn,
          input: noticeText(d, source.kind, this.owner.node.path, source.certificate, notAfterText),
        },
      });
      // The role may publish before the schedule can fire (a past-due notice fires within minutes):
      // the schedule depends on the policy that holds the grant (its RoleArn already implies the role).
      grantPublish(role, topic, schedule);
    }
  }

  /** The schedule's `at()`: a literal when notAfter is known early enough, else the handler's answer. */
  private timing(d: number, source: ExpiryNoticeSource): string {
    if (this.notAfter) {
      const due = new Date(this.notAfter.getTime() - d * DAY_MS);
      if (due.getTime() >= Date.now() + SYNTH_TIME_MARGIN_DAYS * DAY_MS) {
        return atExpression(due);
      }
      if (due.getTime() <= Date.now()) {
        Annotations.of(this.owner).addWarningV2(EXPIRY_NOTICE_PAST_DUE_WARNING,
          `the ${d}-day expiry notice was due at ${due.toISOString()} (the certificate expires at ${this.notAfter.toISOString()}); `
          + `it is sent ${PAST_DUE_DELAY_MINUTES} minutes after deployment instead`);
      }
    }
    this.deployDays.add(d);
    return source.attribute(`${NOTIFY_AT_PREFIX}${d}`);
  }

  /** One CertificateInputError per bad input, naming `topic` or `daysBefore`. */
  private validate(options: ExpiryNotificationOptions): number[] {
    const scope = this.owner;
    if (!options || !options.topic) {
      throw new CertificateInputError('topic', 'is required: pass the SNS topic the expiry notices are published to', scope);
    }
    const daysBefore = options.daysBefore;
    if (daysBefore === undefined || daysBefore === null) {
      throw new CertificateInputError('daysBefore', 'is required: list how many days before expiry each notice is sent, e.g. [30, 7]', scope);
    }
    if (Token.isUnresolved(daysBefore) || !Array.isArray(daysBefore)) {
      throw new CertificateInputError('daysBefore', 'must be a list of numbers known at synth, not a token', scope);
    }
    if (daysBefore.length === 0) {
      throw new CertificateInputError('daysBefore', 'must list at least one day count, e.g. [30, 7]', scope);
    }
    if (daysBefore.length > MAX_NOTICE_DAYS) {
      throw new CertificateInputError('daysBefore', `lists ${daysBefore.length} day counts; at most ${MAX_NOTICE_DAYS} are allowed`, scope);
    }
    const seen = new Set<number>();
    const known = this.topics.get(options.topic);
    for (const d of daysBefore) {
      if (typeof d === 'number' && Token.isUnresolved(d)) {
        throw new CertificateInputError('daysBefore', 'must hold numbers known at synth, not tokens', scope);
      }
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_DAYS_BEFORE) {
        throw new CertificateInputError('daysBefore', `${String(d)} is not a whole number of days from 1 to ${MAX_DAYS_BEFORE}`, scope);
      }
      if (seen.has(d)) {
        throw new CertificateInputError('daysBefore', `lists ${d} twice; list each day count once`, scope);
      }
      if (known?.has(d)) {
        throw new CertificateInputError('daysBefore',
          `an earlier notifyBeforeExpiry call already sends this topic a notice ${d} days before expiry; list each day count once per topic`, scope);
      }
      seen.add(d);
    }
    const distinct = new Set([...this.allDays, ...seen]).size;
    if (distinct > MAX_NOTICE_DAYS) {
      throw new CertificateInputError('daysBefore',
        `a certificate takes at most ${MAX_NOTICE_DAYS} distinct day counts across its notifyBeforeExpiry calls; this call would make ${distinct}`, scope);
    }
    return [...daysBefore];
  }
}

/** The message published to the topic (SNS `Message`). */
function noticeText(days: number, kind: string, path: string, certificate: string, notAfter: string): string {
  return [
    `${days} days left: the ${kind} ${path} expires at ${notAfter}.`,
    `Certificate: ${certificate}`,
    `Notice time: <aws.scheduler.scheduled-time> (a notice already due at deployment is sent ${PAST_DUE_DELAY_MINUTES} minutes after the deployment, with fewer days left)`,
    'Sent by cdk-certificates notifyBeforeExpiry',
  ].join('\n');
}

/**
 * The stack's role for every notice schedule (see `grantPublish`). One role per stack keeps the
 * template small.
 */
function noticeRole(scope: Construct): iam.Role {
  const stack = Stack.of(scope);
  let role = stack.node.tryFindChild(ROLE_ID) as iam.Role | undefined;
  if (!role) {
    role = new iam.Role(stack, ROLE_ID, {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'cdk-certificates: lets EventBridge Scheduler publish certificate expiry notices to SNS',
    });
  }
  return role;
}

/**
 * Lets the notice role publish to the topic (and use its KMS key), and makes the schedule depend on
 * the policies that hold those grants, not on the role itself, which its RoleArn already implies.
 */
function grantPublish(role: iam.Role, topic: sns.ITopic, schedule: scheduler.CfnSchedule): void {
  addToSharedStatement(role, ['sns:Publish'], [topic.topicArn], schedule);
  if (topic.masterKey) {
    // What SNS needs of a publisher to an encrypted topic, on that key only.
    addToSharedStatement(role, ['kms:Decrypt', 'kms:GenerateDataKey'], [topic.masterKey.keyArn], schedule);
  }
}
