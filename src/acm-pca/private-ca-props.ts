import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { PrivateCa } from './private-ca';
import {
  AuditReportFormat,
  CaUsageMode,
  CrlDistribution,
  CrlObjectAcl,
  CrlType,
  KeyAlgorithm,
  KeyStorageSecurityStandard,
  SigningAlgorithm,
} from './private-ca-options';
import { CertificatePem } from '../material/certificate-material';

/**
 * The X.500 subject of a CA certificate (CreateCertificateAuthority's `ASN1Subject`). Lengths are
 * the API's; every value is checked at synth unless it is a token.
 */
export interface PrivateCaSubject {
  /** The common name (CN), at most 64 characters, e.g. `Example Root CA`. */
  readonly commonName: string;
  /**
   * The country (C): exactly two letters, an ISO 3166 code such as `US`.
   * @default - none
   */
  readonly country?: string;
  /**
   * The organization (O), at most 64 characters.
   * @default - none
   */
  readonly organization?: string;
  /**
   * The organizational unit (OU), at most 64 characters.
   * @default - none
   */
  readonly organizationalUnit?: string;
  /**
   * The state or province (ST), at most 128 characters.
   * @default - none
   */
  readonly state?: string;
  /**
   * The locality (L), at most 128 characters.
   * @default - none
   */
  readonly locality?: string;
  /**
   * A distinguished name qualifier, at most 64 PrintableString characters.
   * @default - none
   */
  readonly distinguishedNameQualifier?: string;
  /**
   * The subject serial number attribute (not the certificate serial), at most 64 PrintableString characters.
   * @default - none
   */
  readonly serialNumber?: string;
  /**
   * A title, at most 64 characters.
   * @default - none
   */
  readonly title?: string;
  /**
   * A surname, at most 40 characters.
   * @default - none
   */
  readonly surname?: string;
  /**
   * A given name, at most 16 characters.
   * @default - none
   */
  readonly givenName?: string;
  /**
   * Initials, at most 5 characters.
   * @default - none
   */
  readonly initials?: string;
  /**
   * A pseudonym, at most 128 characters.
   * @default - none
   */
  readonly pseudonym?: string;
  /**
   * A generation qualifier such as `Jr.`, at most 3 characters.
   * @default - none
   */
  readonly generationQualifier?: string;
}

/**
 * Certificate revocation lists: the CA writes a CRL to S3 and names it in the CRL Distribution
 * Points extension of the certificates it issues. Changes apply in place.
 */
export interface CrlOptions {
  /**
   * Whether the CA maintains a CRL; turning it off keeps the other settings.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The validity of each CRL (its nextUpdate), in days from 1 to 5000.
   * @default 7
   */
  readonly expirationInDays?: number;
  /**
   * Your own host name (no `http://`) for the CRL Distribution Points. Alone it only goes into
   * the certificates: serve the bucket's CRLs under it yourself (no distribution is created). With
   * `distribution: CrlDistribution.cloudFront({ certificate })` it becomes the created
   * distribution's alternate domain name. Cannot be combined with `includeDistributionPoint: false`.
   *
   * @default - the created CloudFront distribution's domain name (`CrlDistribution.NONE`: the
   * bucket's S3 host name)
   */
  readonly customCname?: string;

  /**
   * How relying parties reach the CRLs: a CloudFront distribution with origin access control in
   * front of the private bucket, or nothing (your own name in `customCname`, or a public bucket of
   * yours). CloudFront bills per request and per GB out, with no monthly minimum.
   *
   * @default - `CrlDistribution.cloudFront()`; `CrlDistribution.NONE` when `customCname` is given
   * (you serve that name) or `includeDistributionPoint` is false (no certificate names a CRL URL)
   */
  readonly distribution?: CrlDistribution;
  /**
   * The path of the CRLs in the bucket and in their URL, e.g. `crl/issuing`.
   * @default - the service's path (`crl/<CA id>.crl`)
   */
  readonly customPath?: string;
  /**
   * The bucket the CRLs go to. It gets the bucket policy ACM Private CA needs (an imported
   * bucket cannot: add the statement yourself, see the README). Behind the CloudFront
   * distribution every object of it is readable: keep it for CRLs, and let the distribution read
   * over HTTP (CloudFront reaches S3 with the viewer's protocol, and CRL clients use HTTP).
   * @default - a new encrypted bucket blocking public access, retained on delete, SSL only
   * except for the CloudFront distribution's reads
   */
  readonly bucket?: s3.IBucket;
  /**
   * Who may read the CRL objects. `PUBLIC_READ` needs a bucket that allows public ACLs (with
   * `distribution: CrlDistribution.NONE`, for the bucket's own S3 URL).
   * @default CrlObjectAcl.BUCKET_OWNER_FULL_CONTROL
   */
  readonly objectAcl?: CrlObjectAcl;
  /**
   * One complete CRL, or partitioned CRLs (for CAs issuing more than a million certificates).
   * @default CrlType.COMPLETE
   */
  readonly crlType?: CrlType;
  /**
   * Whether issued certificates carry the CRL Distribution Points extension. False
   * (`OmitExtension`) is for CRLs distributed another way, and cannot be combined with
   * `customCname`.
   * @default true
   */
  readonly includeDistributionPoint?: boolean;
}

/**
 * OCSP: ACM Private CA answers revocation queries for the certificates the CA issues.
 */
export interface OcspOptions {
  /**
   * Whether OCSP is on.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * A host name (no `http://`) put in the Authority Information Access extension instead of the
   * AWS OCSP responder's; it must be a CNAME to the responder.
   * @default - the AWS OCSP responder
   */
  readonly customCname?: string;
}

/**
 * Scheduled audit reports (CreateCertificateAuthorityAuditReport): EventBridge Scheduler calls
 * the API directly, no Lambda function involved.
 */
export interface AuditReportOptions {
  /**
   * When to create a report, e.g. `ScheduleExpression.rate(Duration.days(7))`: at most one every
   * 30 minutes (ACM Private CA's limit per CA, checked at synth).
   */
  readonly schedule: scheduler.ScheduleExpression;
  /**
   * The report format.
   * @default AuditReportFormat.JSON
   */
  readonly format?: AuditReportFormat;
  /**
   * The bucket the reports go to; it gets the bucket policy ACM Private CA needs.
   * @default - a new encrypted bucket, SSL only, blocking public access, retained on delete
   */
  readonly bucket?: s3.IBucket;
}

/**
 * Properties of a `PrivateCa`.
 */
export interface PrivateCaProps {
  /** The X.500 subject of the CA certificate. */
  readonly subject: PrivateCaSubject;

  /**
   * The CA that signs this one, in the same app (a subordinate CA). Its certificate is issued by
   * the parent at deploy (`AWS::ACMPCA::Certificate`) and installed at once.
   *
   * @default - a root CA (self-signed), unless `externalParent` is set
   */
  readonly parent?: PrivateCa;

  /**
   * Whether an outside CA (an on-premises root, another account's CA) signs this subordinate.
   *
   * The first deploy creates the CA and outputs its CSR (`csr`); sign it, then deploy again with
   * `certificate` and `certificateChain` to install the certificate and activate the CA.
   *
   * @default false
   */
  readonly externalParent?: boolean;

  /**
   * The signed CA certificate, for a CA with `externalParent` (on the deploy after the CSR was signed).
   *
   * It goes into `AWS::ACMPCA::CertificateAuthorityActivation`, which takes the PEM itself: from a
   * secret or an SSM String parameter it is passed as a CloudFormation dynamic reference (resolved
   * by CloudFormation, no grant needed; fine for a public certificate). SecureString parameters
   * and S3 objects are refused.
   *
   * @default - not yet signed: the CA stays PENDING_CERTIFICATE
   */
  readonly certificate?: CertificatePem;

  /**
   * The chain of `certificate`, from its issuer to the root (required with `certificate`).
   *
   * @default - none
   */
  readonly certificateChain?: CertificatePem;

  /**
   * The basicConstraints path length of a subordinate CA certificate: how many CA levels may
   * follow it (0 to 3, the service's templates). It must be below the parent's. For a CA with an
   * external parent it declares what the outside CA sets, so children are checked against it.
   *
   * A root has no path length constraint (`RootCACertificate/V1`).
   *
   * @default 0 for a subordinate signed in the app (it issues end-entity certificates only);
   * unknown for an external parent
   */
  readonly pathLength?: number;

  /**
   * The key algorithm of the CA key pair.
   * @default KeyAlgorithm.RSA_2048
   */
  readonly keyAlgorithm?: KeyAlgorithm;

  /**
   * The algorithm the CA signs with; it must fit the key (RSA or ECDSA, ...).
   * @default - the key algorithm's: SHA256WITHRSA for RSA, SHA256/384/512WITHECDSA for P-256/384/521
   */
  readonly signingAlgorithm?: SigningAlgorithm;

  /**
   * The validity of the CA certificate, in whole days. A subordinate's must be shorter than its
   * parent's (the parent signs it later than its own start, and cannot sign past its own end).
   * For an external parent the outside CA decides; this then only declares it for children.
   *
   * @default 10 years for a root; for a subordinate, 5 years or half the parent's validity,
   * whichever is shorter
   */
  readonly validity?: Duration;

  /**
   * General-purpose or short-lived certificates (fixed at creation).
   * @default CaUsageMode.GENERAL_PURPOSE
   */
  readonly usageMode?: CaUsageMode;

  /**
   * The HSM compliance standard for the CA key (fixed at creation). Some Regions need another.
   * @default KeyStorageSecurityStandard.FIPS_140_2_LEVEL_3_OR_HIGHER (the service default)
   */
  readonly keyStorageSecurityStandard?: KeyStorageSecurityStandard;

  /**
   * Certificate revocation lists in S3, served through a CloudFront distribution by default. For
   * OCSP only, leave this out and set `ocsp`.
   * @default - no CRL
   */
  readonly crl?: CrlOptions;

  /**
   * OCSP.
   * @default - no OCSP
   */
  readonly ocsp?: OcspOptions;

  /**
   * Whether the CA is ACTIVE (issues certificates) or DISABLED; updated in place.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Whether ACM may issue and renew private certificates with this CA (the `acm.amazonaws.com`
   * permission for IssueCertificate, GetCertificate and ListPermissions), so
   * `acm.PrivateCertificate` renewals work.
   *
   * @default true
   */
  readonly allowAcmRenewals?: boolean;

  /**
   * Scheduled audit reports.
   * @default - none
   */
  readonly auditReports?: AuditReportOptions;

  /**
   * What happens to the CA when it leaves the stack or is replaced. With RETAIN (the default, as
   * for aws-cdk-lib's stateful resources) the CA, its activation, its ACM permission and its
   * resource policy stay as they are: every certificate it issued stays verifiable (and the CA
   * keeps costing until you delete it). With DESTROY it is disabled, then deleted with the
   * `permanentDeletionTimeInDays` restoration window (RestoreCertificateAuthority brings it back
   * within it).
   *
   * A created CRL or audit bucket is always retained: it holds CRLs that clients of still-valid
   * certificates consult, and audit records.
   *
   * RETAIN_ON_UPDATE_OR_DELETE retains as RETAIN does (and a failed first deploy still cleans up);
   * SNAPSHOT is refused: there is nothing to snapshot.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The restoration window of a deleted CA, 7 to 30 days.
   * @default 30
   */
  readonly permanentDeletionTimeInDays?: number;
}

/**
 * An ACM Private CA certificate authority.
 */
export interface IPrivateCa extends acmpca.ICertificateAuthority {
  /**
   * Grants IssueCertificate and GetCertificate on this CA.
   */
  grantIssue(grantee: iam.IGrantable): iam.Grant;

  /**
   * Grants reading the CA certificate, its CSR and its description.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}
