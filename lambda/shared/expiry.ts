/**
 * Expiry notices computed at deploy: the `at()` times of the EventBridge Scheduler one-time
 * schedules that `notifyBeforeExpiry` declares, for certificates whose notAfter only the handler
 * learns. Pure (no SDK), shared by every handler whose construct offers `notifyBeforeExpiry`.
 *
 * The construct asks with the `NotifyDaysBefore` property (day counts as strings); the handler
 * answers with one short Data entry per day count, `NotifyAt<days>` = `at(yyyy-mm-ddThh:mm:ss)`
 * (UTC), plus `NotifyNotAfter` (ISO 8601) for the notice's text. The schedules read them with
 * Fn::GetAtt, so a new certificate moves its schedules in place.
 */
import { InputError } from './errors';
import { log } from './log';
import { CertificateCheckError, parseCertificates } from '../../src/contract/x509';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A notice whose time has passed (or comes before CloudFormation could create its schedule) is
 * sent this long after the deployment instead, so the warning still goes out.
 */
export const PAST_DUE_DELAY_MS = 5 * 60_000;

/** Data key of the `at()` expression for a day count. */
export const NOTIFY_AT_PREFIX = 'NotifyAt';

/** Data key of the notAfter the notices were computed from (ISO 8601). */
export const NOTIFY_NOT_AFTER = 'NotifyNotAfter';

/** The limits the construct checks at synth, checked again here on the property. */
export const MAX_NOTICE_DAYS = 10;
export const MAX_DAYS_BEFORE = 3650;

/** One notice: its day count, when it is sent, and whether its own time had already passed. */
export interface ExpiryNotice {
  readonly daysBefore: number;
  readonly at: Date;
  readonly pastDue: boolean;
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC (seconds precision), as EventBridge Scheduler takes it. */
export function atExpression(date: Date): string {
  return `at(${date.toISOString().slice(0, 19)})`;
}

/**
 * Reads the `NotifyDaysBefore` property: absent or empty means no notices. Each value must be a
 * whole number of days from 1 to 3650, listed once; at most 10. Call it before any write, so a bad
 * value fails the request before anything is created.
 */
export function parseNotifyDaysBefore(value: unknown): number[] {
  if (value === undefined || value === null || value === '') {
    return [];
  }
  if (!Array.isArray(value)) {
    throw new InputError('daysBefore', 'must be a list of day counts');
  }
  if (value.length > MAX_NOTICE_DAYS) {
    throw new InputError('daysBefore', `a certificate takes at most ${MAX_NOTICE_DAYS} distinct day counts, got ${value.length}`);
  }
  const days: number[] = [];
  for (const item of value) {
    const text = String(item);
    const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_DAYS_BEFORE) {
      throw new InputError('daysBefore', `'${text}' is not a whole number of days from 1 to ${MAX_DAYS_BEFORE}`);
    }
    if (days.includes(n)) {
      throw new InputError('daysBefore', `lists ${n} twice; list each day count once`);
    }
    days.push(n);
  }
  return days;
}

/**
 * When each notice is sent: `daysBefore` days before `notAfter`, or, when that time is already
 * past (or closer than PAST_DUE_DELAY_MS), PAST_DUE_DELAY_MS after `now`.
 */
export function expiryNotices(notAfter: Date, daysBefore: readonly number[], now: Date = new Date()): ExpiryNotice[] {
  // Whole seconds, rounded up: `at()` has no fractions and must not fall before the delay.
  const earliest = Math.ceil((now.getTime() + PAST_DUE_DELAY_MS) / 1000) * 1000;
  return daysBefore.map((daysBeforeValue) => {
    const due = notAfter.getTime() - daysBeforeValue * DAY_MS;
    return due < earliest
      ? { daysBefore: daysBeforeValue, at: new Date(earliest), pastDue: true }
      : { daysBefore: daysBeforeValue, at: new Date(due), pastDue: false };
  });
}

/**
 * The Data entries for the schedules: `NotifyNotAfter` and one `NotifyAt<days>` per day count.
 * Empty when no notice is asked for. A missing or invalid notAfter is an InputError naming
 * `property` (the construct input the date comes from).
 */
export function expiryNoticeData(
  notAfter: Date | string | undefined,
  daysBefore: readonly number[],
  property: string,
  now: Date = new Date(),
): Record<string, string> {
  if (daysBefore.length === 0) {
    return {};
  }
  const date = notAfter === undefined || notAfter === '' ? undefined : new Date(notAfter);
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new InputError(property, 'the certificate\'s expiry date (notAfter) is not known, so notifyBeforeExpiry cannot schedule its notices; remove the notifyBeforeExpiry call for this certificate');
  }
  const notices = expiryNotices(date, daysBefore, now);
  const pastDue = notices.filter(n => n.pastDue).map(n => n.daysBefore);
  if (pastDue.length > 0) {
    log('warn', 'expiry notices whose time has passed are sent shortly after this deployment', {
      notAfter: date.toISOString(),
      daysBefore: pastDue,
      sendAt: notices.find(n => n.pastDue)!.at.toISOString(),
    });
  }
  const data: Record<string, string> = { [NOTIFY_NOT_AFTER]: date.toISOString() };
  for (const notice of notices) {
    data[`${NOTIFY_AT_PREFIX}${notice.daysBefore}`] = atExpression(notice.at);
  }
  return data;
}

/**
 * The earliest notAfter among the certificates of a PEM (a certificate, a chain or a bundle): the
 * moment it stops being entirely valid.
 */
export function earliestNotAfter(pem: string, property: string): Date {
  try {
    const times = parseCertificates(pem, property).map(c => new Date(c.validTo).getTime());
    return new Date(Math.min(...times));
  } catch (e) {
    if (e instanceof CertificateCheckError) {
      throw new InputError(e.property, e.rule);
    }
    throw e;
  }
}
