import * as sns from 'aws-cdk-lib/aws-sns';

/**
 * Options of `notifyBeforeExpiry` (on `ServerCertificate`, `DmsCertificate`, `IssuedCertificate`
 * and `PrivateCa`): SNS notices sent a number of days before the certificate expires.
 *
 * Each day count becomes an EventBridge Scheduler one-time schedule that publishes straight to the
 * topic: no Lambda function and nothing that polls. When the certificate's notAfter is known at
 * synth the schedule times are in the template; otherwise the construct's handler computes them
 * at deploy, and a new certificate moves them in place.
 */
export interface ExpiryNotificationOptions {
  /**
   * The SNS topic the notices are published to. A shared EventBridge Scheduler role is allowed
   * `sns:Publish` on it (and `kms:GenerateDataKey`/`kms:Decrypt` on its `masterKey` when the topic
   * is encrypted; an imported encrypted topic must be imported with its key).
   */
  readonly topic: sns.ITopic;

  /**
   * How many days before the certificate's notAfter each notice is sent: whole days from 1 to
   * 3650, each listed once, at most 10 (and at most 10 distinct day counts per certificate across
   * calls). A notice whose time has already passed when the certificate is deployed is sent
   * 5 minutes after the deployment instead (and, when notAfter is known at synth, synth warns).
   */
  readonly daysBefore: number[];
}
