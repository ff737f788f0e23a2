/**
 * A PrivateCa's scheduled audit reports: EventBridge Scheduler calls
 * CreateCertificateAuthorityAuditReport into a bucket the service may write. Internal.
 */
import { Annotations, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { AuditReportFormat } from './private-ca-options';
import { AuditReportOptions } from './private-ca-props';
import { pcaBucketStatement, secureBucket } from './private-ca-revocation';
import { auditScheduleProblem } from '../contract/private-ca';
import { CertificateInputError } from '../private/errors';

/** Checks the audit report options at synth (also for a CA whose reports start later). */
export function validateAuditReports(scope: Construct, options: AuditReportOptions): void {
  const expression = options.schedule.expressionString;
  if (Token.isUnresolved(expression)) {
    return;
  }
  const problem = auditScheduleProblem(expression);
  if (problem) {
    throw new CertificateInputError('auditReports.schedule', problem, scope);
  }
}

/** Schedules the audit reports of the CA `certificateAuthorityArn`. */
export function scheduleAuditReports(
  scope: Construct,
  certificateAuthorityArn: string,
  options: AuditReportOptions,
): { bucket: s3.IBucket; schedule: scheduler.Schedule } {
  const bucket = options.bucket ?? secureBucket(scope, 'AuditReportBucket');
  const added = bucket.addToResourcePolicy(pcaBucketStatement(scope, bucket));
  if (!added.statementAdded) {
    Annotations.of(scope).addWarningV2('cdk-certificates:auditBucketPolicy',
      'auditReports.bucket is imported, so its policy cannot be changed here: allow acm-pca.amazonaws.com s3:PutObject, '
      + 's3:PutObjectAcl, s3:GetBucketAcl and s3:GetBucketLocation on it (see the README)');
  }
  const format = options.format ?? AuditReportFormat.JSON;
  const target = new targets.Universal({
    service: 'acmpca',
    action: 'createCertificateAuthorityAuditReport',
    input: scheduler.ScheduleTargetInput.fromObject({
      CertificateAuthorityArn: certificateAuthorityArn,
      S3BucketName: bucket.bucketName,
      AuditReportResponseFormat: format.value,
    }),
    // The caller needs write access to the bucket as well as the service principal.
    policyStatements: [
      new iam.PolicyStatement({
        actions: ['acm-pca:CreateCertificateAuthorityAuditReport'],
        resources: [certificateAuthorityArn],
      }),
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects('audit-report/*')],
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetBucketAcl', 's3:GetBucketLocation'],
        resources: [bucket.bucketArn],
      }),
    ],
  });
  const schedule = new scheduler.Schedule(scope, 'AuditReportSchedule', {
    schedule: options.schedule,
    target,
    description: `cdk-certificates: ${format.value} audit report of the CA ${scope.node.path}`,
  });
  if (added.statementAdded) {
    schedule.node.addDependency(added.policyDependable ?? bucket);
  }
  return { bucket, schedule };
}
