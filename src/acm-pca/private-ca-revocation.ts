/**
 * A PrivateCa's revocation: the CRL (its bucket, the bucket policy the service needs, the
 * configuration) and OCSP. Internal: not exported from the package.
 */
import { Annotations, ArnFormat, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, DependencyGroup } from 'constructs';
import { CrlObjectAcl } from './private-ca-options';
import { CrlOptions, OcspOptions } from './private-ca-props';
import {
  cnameProblem,
  CRL_EXPIRATION_MAX_DAYS,
  CRL_EXPIRATION_MIN_DAYS,
  crlCustomPathProblem,
} from '../contract/private-ca';
import { CertificateInputError, checkWhenKnown } from '../private/errors';

/** The CA's revocation configuration, and what the CA must wait for. */
export interface Revocation {
  readonly configuration: acmpca.CfnCertificateAuthority.RevocationConfigurationProperty;
  /** The CRL bucket, when CRLs are configured. */
  readonly crlBucket?: s3.IBucket;
  /** The service checks the CRL bucket's policy when it creates the CA. */
  readonly dependencies: DependencyGroup;
}

/** Builds the revocation configuration (always explicit, so removing `crl` or `ocsp` turns them off in place). */
export function revocation(scope: Construct, crl?: CrlOptions, ocsp?: OcspOptions): Revocation {
  const dependencies = new DependencyGroup();
  let crlConfiguration: acmpca.CfnCertificateAuthority.CrlConfigurationProperty = { enabled: false };
  let crlBucket: s3.IBucket | undefined;
  if (crl) {
    crlBucket = crl.bucket ?? secureBucket(scope, 'CrlBucket');
    const added = crlBucket.addToResourcePolicy(pcaBucketStatement(scope, crlBucket));
    if (added.statementAdded) {
      dependencies.add(added.policyDependable ?? crlBucket);
    } else {
      Annotations.of(scope).addWarningV2('cdk-certificates:crlBucketPolicy',
        'crl.bucket is imported, so its policy cannot be changed here: allow acm-pca.amazonaws.com s3:PutObject, s3:PutObjectAcl, '
        + 's3:GetBucketAcl and s3:GetBucketLocation on it (see the README), or CA creation fails with "check your S3 bucket permissions"');
    }
    crlConfiguration = {
      enabled: crl.enabled ?? true,
      expirationInDays: crl.expirationInDays ?? 7,
      s3BucketName: crlBucket.bucketName,
      s3ObjectAcl: (crl.objectAcl ?? CrlObjectAcl.BUCKET_OWNER_FULL_CONTROL).value,
      customCname: crl.customCname,
      customPath: crl.customPath,
      crlType: crl.crlType?.value,
      crlDistributionPointExtensionConfiguration: crl.includeDistributionPoint === false ? { omitExtension: true } : undefined,
    };
  }
  const ocspConfiguration: acmpca.CfnCertificateAuthority.OcspConfigurationProperty = ocsp
    ? { enabled: ocsp.enabled ?? true, ocspCustomCname: ocsp.customCname }
    : { enabled: false };
  return { configuration: { crlConfiguration, ocspConfiguration }, crlBucket, dependencies };
}

/** Checks the CRL options at synth. */
export function validateCrl(scope: Construct, crl: CrlOptions): void {
  const days = crl.expirationInDays;
  if (days !== undefined && !Token.isUnresolved(days)
    && (!Number.isInteger(days) || days < CRL_EXPIRATION_MIN_DAYS || days > CRL_EXPIRATION_MAX_DAYS)) {
    throw new CertificateInputError('crl.expirationInDays',
      `must be a whole number of days from ${CRL_EXPIRATION_MIN_DAYS} to ${CRL_EXPIRATION_MAX_DAYS}, got ${days}`, scope);
  }
  checkWhenKnown(scope, 'crl.customCname', crl.customCname, cnameProblem);
  checkWhenKnown(scope, 'crl.customPath', crl.customPath, crlCustomPathProblem);
  if (crl.objectAcl === CrlObjectAcl.PUBLIC_READ && crl.bucket === undefined) {
    throw new CertificateInputError('crl.objectAcl',
      'PUBLIC_READ needs a bucket that allows public ACLs, and the bucket this construct creates blocks public access; '
      + 'pass your own crl.bucket, or keep BUCKET_OWNER_FULL_CONTROL and serve the CRLs through CloudFront with crl.customCname', scope);
  }
}

/** An S3 bucket for CRLs or audit reports: encrypted, SSL only, no public access, kept on delete. */
export function secureBucket(scope: Construct, id: string): s3.Bucket {
  return new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * What ACM Private CA needs on a CRL or audit bucket. The CA ARN is only known once the CA exists,
 * and the service checks the policy while creating it, so the source ARN is any CA of the account
 * and Region (the account is pinned too, against the confused deputy).
 */
export function pcaBucketStatement(scope: Construct, bucket: s3.IBucket): iam.PolicyStatement {
  const stack = Stack.of(scope);
  return new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('acm-pca.amazonaws.com')],
    actions: ['s3:PutObject', 's3:PutObjectAcl', 's3:GetBucketAcl', 's3:GetBucketLocation'],
    resources: [bucket.bucketArn, bucket.arnForObjects('*')],
    conditions: {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'acm-pca',
          resource: 'certificate-authority',
          resourceName: '*',
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      },
    },
  });
}
