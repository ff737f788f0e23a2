/**
 * A PrivateCa's revocation: the CRL (its bucket, the bucket policy the service needs, the
 * CloudFront distribution that serves it, the configuration) and OCSP. Internal: not exported
 * from the package.
 */
import { Annotations, ArnFormat, Aws, CfnResource, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, DependencyGroup } from 'constructs';
import { CrlDistribution, CrlObjectAcl } from './private-ca-options';
import { CrlOptions, OcspOptions } from './private-ca-props';
import {
  cnameProblem,
  CRL_EXPIRATION_MAX_DAYS,
  CRL_EXPIRATION_MIN_DAYS,
  crlCustomPathProblem,
  omitExtensionProblem,
} from '../contract/private-ca';
import { CertificateInputError, checkWhenKnown } from '../private/errors';
import { namePrefix } from '../private/names';

/** Origin access control names: at most 64 characters, unique in the account (CloudFront is global). */
const OAC_NAME_MAX_LENGTH = 64;
/** `-` and the stack ID's UUID. */
const STACK_UUID_SUFFIX_LENGTH = 37;

/** The CA's revocation configuration, and what the CA must wait for. */
export interface Revocation {
  readonly configuration: acmpca.CfnCertificateAuthority.RevocationConfigurationProperty;
  /** The CRL bucket, when CRLs are configured. */
  readonly crlBucket?: s3.IBucket;
  /** The CloudFront distribution serving the CRLs, when one is created. */
  readonly distribution?: cloudfront.Distribution;
  /** The service checks the CRL bucket's policy when it creates the CA. */
  readonly dependencies: DependencyGroup;
}

/** What the CRL's distribution is: the choice given, or the default for the other options. */
export function crlDistributionOf(crl: CrlOptions): CrlDistribution {
  if (crl.distribution) {
    return crl.distribution;
  }
  return crl.customCname !== undefined || crl.includeDistributionPoint === false ? CrlDistribution.NONE : CrlDistribution.cloudFront();
}

/** Builds the revocation configuration (always explicit, so removing `crl` or `ocsp` turns them off in place). */
export function revocation(scope: Construct, crl?: CrlOptions, ocsp?: OcspOptions): Revocation {
  const dependencies = new DependencyGroup();
  let crlConfiguration: acmpca.CfnCertificateAuthority.CrlConfigurationProperty = { enabled: false };
  let crlBucket: s3.IBucket | undefined;
  let distribution: cloudfront.Distribution | undefined;
  if (crl) {
    const choice = crlDistributionOf(crl);
    // CloudFront reads S3 with the viewer's protocol, and CRL clients use HTTP: a created bucket
    // behind the distribution denies plain HTTP to everyone but the distribution (added below).
    crlBucket = crl.bucket ?? (choice._cloudFront ? crlOriginBucket(scope) : secureBucket(scope, 'CrlBucket'));
    const added = crlBucket.addToResourcePolicy(pcaBucketStatement(scope, crlBucket));
    if (added.statementAdded) {
      dependencies.add(added.policyDependable ?? crlBucket);
    } else {
      Annotations.of(scope).addWarningV2('cdk-certificates:crlBucketPolicy',
        'crl.bucket is imported, so its policy cannot be changed here: allow acm-pca.amazonaws.com s3:PutObject, s3:PutObjectAcl, '
        + 's3:GetBucketAcl and s3:GetBucketLocation on it (see the README), or CA creation fails with "check your S3 bucket permissions"');
    }
    let customCname = crl.customCname;
    if (choice._cloudFront) {
      distribution = crlCloudFront(scope, crlBucket, crl, choice);
      if (crl.bucket === undefined) {
        crlBucket.addToResourcePolicy(sslOnlyExceptDistribution(crlBucket, distribution));
      }
      // With OmitExtension no CNAME may be set: the distribution then only serves the CRLs.
      if (customCname === undefined && crl.includeDistributionPoint !== false) {
        customCname = distribution.distributionDomainName;
      }
    }
    crlConfiguration = {
      enabled: crl.enabled ?? true,
      expirationInDays: crl.expirationInDays ?? 7,
      s3BucketName: crlBucket.bucketName,
      s3ObjectAcl: (crl.objectAcl ?? CrlObjectAcl.BUCKET_OWNER_FULL_CONTROL).value,
      customCname,
      customPath: crl.customPath,
      crlType: crl.crlType?.value,
      crlDistributionPointExtensionConfiguration: crl.includeDistributionPoint === false ? { omitExtension: true } : undefined,
    };
  }
  const ocspConfiguration: acmpca.CfnCertificateAuthority.OcspConfigurationProperty = ocsp
    ? { enabled: ocsp.enabled ?? true, ocspCustomCname: ocsp.customCname }
    : { enabled: false };
  return { configuration: { crlConfiguration, ocspConfiguration }, crlBucket, distribution, dependencies };
}

/** The CRL bucket behind a CloudFront distribution: as `secureBucket`, its SSL-only rule added once the distribution exists. */
function crlOriginBucket(scope: Construct): s3.Bucket {
  return new s3.Bucket(scope, 'CrlBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * `enforceSSL`'s statement with one exception: the distribution's own reads (OAC requests carry
 * its ARN as aws:SourceArn, which no caller can set). CloudFront fetches from S3 with the protocol
 * the viewer used, and CRL clients fetch the `http://` URL of the CRL Distribution Points.
 */
function sslOnlyExceptDistribution(bucket: s3.IBucket, distribution: cloudfront.Distribution): iam.PolicyStatement {
  return new iam.PolicyStatement({
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:*'],
    resources: [bucket.bucketArn, bucket.arnForObjects('*')],
    conditions: {
      Bool: { 'aws:SecureTransport': 'false' },
      StringNotEquals: { 'aws:SourceArn': distribution.distributionArn },
    },
  });
}

/** The CloudFront distribution with origin access control that serves the CRL bucket. */
function crlCloudFront(scope: Construct, bucket: s3.IBucket, crl: CrlOptions, choice: CrlDistribution): cloudfront.Distribution {
  const options = choice._options;
  const comment = `cdk-certificates: CRLs of ${scope.node.path}`;
  const distribution = new cloudfront.Distribution(scope, 'CrlDistribution', {
    comment: comment.length > 128 ? `${comment.slice(0, 125)}...` : comment,
    defaultBehavior: {
      origin: origins.S3BucketOrigin.withOriginAccessControl(bucket, {
        // aws-cdk-lib's default name derives from the construct path alone, which the same app
        // deployed to a second region or under another stack name repeats in the same account.
        originAccessControl: new cloudfront.S3OriginAccessControl(scope, 'CrlOriginAccessControl', {
          originAccessControlName: Fn.join('-', [
            namePrefix(scope, OAC_NAME_MAX_LENGTH, STACK_UUID_SUFFIX_LENGTH),
            Fn.select(2, Fn.split('/', Aws.STACK_ID)),
          ]),
          description: 'cdk-certificates: CloudFront reads the CA\'s CRLs',
        }),
      }),
      // CRL Distribution Points are http:// URLs (RFC 5280); a redirect to HTTPS would fail the
      // clients that do not follow it, and a CRL is signed by the CA, so TLS adds no integrity.
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.ALLOW_ALL,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      // The CA rewrites the CRL about 30 minutes after a revocation: no edge copy may hide it.
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
    },
    domainNames: options.certificate && crl.customCname !== undefined ? [crl.customCname] : undefined,
    certificate: options.certificate,
    minimumProtocolVersion: options.certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
    sslSupportMethod: options.certificate ? cloudfront.SSLMethod.SNI : undefined,
    priceClass: options.priceClass,
    logBucket: options.logBucket,
    webAclId: options.webAclId,
    geoRestriction: options.geoRestriction,
  });
  acknowledgeNagFindings(distribution.node.defaultChild as CfnResource, options);
  return distribution;
}

/** The cdk-nag findings a CRL distribution keeps by design, for cdk-nag 3 (Validations) and 2 (metadata). */
function acknowledgeNagFindings(cfn: CfnResource, options: CrlDistribution['_options']): void {
  const findings: Array<{ id: string; reason: string }> = [];
  if (!options.geoRestriction) {
    findings.push({ id: 'AwsSolutions-CFR1', reason: 'Serves the CA\'s CRLs, which every relying party must reach wherever it is; a blocked fetch fails hard-failing clients. Set CrlCloudFrontOptions.geoRestriction to restrict.' });
  }
  if (!options.webAclId) {
    findings.push({ id: 'AwsSolutions-CFR2', reason: 'Serves static, public, CA-signed CRL files with GET and HEAD only; a WAF web ACL adds a monthly fee per ACL and rule. Set CrlCloudFrontOptions.webAclId to attach one.' });
  }
  if (!options.logBucket) {
    findings.push({ id: 'AwsSolutions-CFR3', reason: 'CRL fetches are anonymous reads of a public list; logs need an ACL-enabled bucket. Set CrlCloudFrontOptions.logBucket to log them.' });
  }
  if (!options.certificate) {
    findings.push({ id: 'AwsSolutions-CFR4', reason: 'CRL clients fetch the http:// URL of the CRL Distribution Points; the default *.cloudfront.net certificate cannot raise the minimum TLS version. With CrlCloudFrontOptions.certificate the minimum is TLS 1.2.' });
  }
  for (const finding of findings) {
    Validations.of(cfn).acknowledge(finding);
  }
  if (findings.length > 0) {
    cfn.addMetadata('cdk_nag', { rules_to_suppress: findings });
  }
}

/** Checks the CRL options at synth: every problem of a property in one message. */
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
      + 'pass your own crl.bucket, or keep BUCKET_OWNER_FULL_CONTROL and the default CloudFront distribution', scope);
  }
  const omitted = omitExtensionProblem(crl.includeDistributionPoint === false, crl.customCname);
  if (omitted) {
    throw new CertificateInputError('crl.includeDistributionPoint', omitted, scope);
  }
  const problems = distributionProblems(crl);
  if (problems.length > 0) {
    throw new CertificateInputError('crl.distribution', problems.join('; and '), scope);
  }
}

/** What is wrong with the CRL's distribution given the other options. */
function distributionProblems(crl: CrlOptions): string[] {
  const choice = crlDistributionOf(crl);
  const problems: string[] = [];
  if (choice._cloudFront) {
    const certificate = choice._options.certificate;
    if (crl.customCname !== undefined && !certificate) {
      problems.push(`CloudFront answers for crl.customCname ('${crl.customCname}') only as an alternate domain name, which needs a certificate: `
        + 'pass CrlDistribution.cloudFront({ certificate }) with an ACM certificate in us-east-1 covering the name, '
        + 'or CrlDistribution.NONE if you serve the name yourself');
    }
    if (certificate && crl.customCname === undefined) {
      problems.push('CrlCloudFrontOptions.certificate is given but no crl.customCname names the host it is for; set crl.customCname');
    }
  } else if (crl.customCname === undefined && crl.bucket === undefined && crl.includeDistributionPoint !== false) {
    problems.push('CrlDistribution.NONE without crl.customCname puts the created bucket\'s S3 URL into every certificate, and that bucket '
      + 'blocks public access, so every CRL fetch would answer 403; keep the default CloudFront distribution, set crl.customCname '
      + 'to a name you serve the CRLs under, or pass a bucket of yours that the public may read');
  }
  return problems;
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
