import {
  Annotations,
  ArnFormat,
  Aws,
  CfnOutput,
  Duration,
  Lazy,
  RemovalPolicy,
  Resource,
  Stack,
  Token,
  TokenComparison,
} from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import {
  CsrIssuedCertificate,
  IIssuingCertificateAuthority,
  IssuedCertificate,
  IssuedCertificateProps,
} from './issued-certificate';
import {
  AuditReportFormat,
  CaUsageMode,
  CrlObjectAcl,
  CrlType,
  KeyAlgorithm,
  KeyStorageSecurityStandard,
  SigningAlgorithm,
} from './private-ca-options';
import {
  caArnProblem,
  cnameProblem,
  CRL_EXPIRATION_MAX_DAYS,
  CRL_EXPIRATION_MIN_DAYS,
  crlCustomPathProblem,
  PERMANENT_DELETION_DEFAULT_DAYS,
  permanentDeletionProblem,
  PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE,
  PRIVATE_CA_POLICY_RESOURCE_TYPE,
  PRIVATE_CA_RESOURCE_TYPE,
  PrivateCaExpiryNoticesResourceProperties,
  PrivateCaResourceAttributes,
  PrivateCaResourceProperties,
  PrivateCaPolicyResourceProperties,
  PRIVATE_CA_SUBJECT,
  PRIVATE_CA_TAG_RULES,
} from '../contract/private-ca';
import { validityDaysProblem } from '../contract/validity';
import { ExpiryNotificationOptions } from '../expiry/expiry-notifications';
import { ExpiryNotices, notAfterAtSynth } from '../expiry/notices';
import { CertificatePem } from '../material/certificate-material';
import { CertificateInputError, checkWhenKnown } from '../private/errors';
import { grantStatement } from '../private/grants';
import { HandlerResource, handlerProvider, StatefulRemovalPolicy, statefulRemovalPolicy, validateTags } from '../private/handler-resource';
import type { HandlerProvider } from '../private/provider';
import { checkCertificateAtSynth, checkChainAtSynth } from '../private/synth-checks';

const DAY_SECONDS = 24 * 60 * 60;
/** The deepest subordinate the service's `SubordinateCACertificate_PathLen<N>/V1` templates make. */
const MAX_TEMPLATE_PATH_LENGTH = 3;
const DEFAULT_ROOT_VALIDITY_DAYS = 3650;
const DEFAULT_SUBORDINATE_VALIDITY_DAYS = 1825;

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
   * A host name (no `http://`) put in the CRL Distribution Points instead of the bucket's, e.g.
   * a CloudFront distribution in front of a private bucket.
   * @default - the bucket's S3 host name
   */
  readonly customCname?: string;
  /**
   * The path of the CRLs in the bucket and in their URL, e.g. `crl/issuing`.
   * @default - the service's path (`crl/<CA id>.crl`)
   */
  readonly customPath?: string;
  /**
   * The bucket the CRLs go to. It gets the bucket policy ACM Private CA needs (an imported
   * bucket cannot: add the statement yourself, see the README).
   * @default - a new encrypted bucket, SSL only, blocking public access, retained on delete
   */
  readonly bucket?: s3.IBucket;
  /**
   * Who may read the CRL objects. `PUBLIC_READ` needs a bucket that allows public ACLs.
   * @default CrlObjectAcl.BUCKET_OWNER_FULL_CONTROL
   */
  readonly objectAcl?: CrlObjectAcl;
  /**
   * One complete CRL, or partitioned CRLs (for CAs issuing more than a million certificates).
   * @default CrlType.COMPLETE
   */
  readonly crlType?: CrlType;
  /**
   * Whether issued certificates carry the CRL Distribution Points extension.
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
  /** When to create a report, e.g. `ScheduleExpression.rate(Duration.days(7))`. */
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
   * Certificate revocation lists in S3.
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
   * What happens to the CA when it leaves the stack or is replaced. With DESTROY it is disabled,
   * then deleted with the `permanentDeletionTimeInDays` restoration window (RestoreCertificateAuthority
   * brings it back within it). With RETAIN the CA, its activation, its ACM permission and its
   * resource policy stay as they are (and keep costing).
   *
   * A created CRL or audit bucket is always retained: it holds CRLs that clients of still-valid
   * certificates consult, and audit records.
   *
   * @default RemovalPolicy.DESTROY
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

abstract class PrivateCaBase extends Resource implements IPrivateCa, iam.IResourceWithPolicy {
  public abstract readonly certificateAuthorityArn: string;

  /** A reference to this CA, for the aws-cdk-lib constructs that take one. */
  public get certificateAuthorityRef(): acmpca.CertificateAuthorityReference {
    return { certificateAuthorityArn: this.certificateAuthorityArn };
  }

  public grantIssue(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['acm-pca:IssueCertificate', 'acm-pca:GetCertificate'],
      resourceArns: [this.certificateAuthorityArn],
      resource: this,
    });
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: [
        'acm-pca:GetCertificateAuthorityCertificate',
        'acm-pca:GetCertificateAuthorityCsr',
        'acm-pca:DescribeCertificateAuthority',
      ],
      resourceArns: [this.certificateAuthorityArn],
      resource: this,
    });
  }

  /**
   * Adds a statement to the CA's resource-based policy. An imported CA's policy cannot be changed
   * from here (returns `statementAdded: false`).
   */
  public addToResourcePolicy(_statement: iam.PolicyStatement): iam.AddToResourcePolicyResult {
    return { statementAdded: false };
  }
}

/**
 * An ACM Private CA certificate authority: a root, or a subordinate signed by another `PrivateCa`
 * in the app or by an outside CA, with its revocation (CRL, OCSP), ACM renewal permission,
 * resource policy, scheduled audit reports and controlled deletion.
 *
 * ```ts
 * import { App, Stack } from 'aws-cdk-lib';
 * import { PrivateCa } from 'cdk-certificates';
 *
 * const stack = new Stack(new App(), 'Pki');
 * const root = new PrivateCa(stack, 'Root', { subject: { commonName: 'Example Root CA' } });
 * const issuing = new PrivateCa(stack, 'Issuing', { parent: root, subject: { commonName: 'Example Issuing CA' } });
 * ```
 *
 * @resource AWS::ACMPCA::CertificateAuthority
 */
export class PrivateCa extends PrivateCaBase implements IIssuingCertificateAuthority {
  /**
   * Imports a CA by its ARN (e.g. a CA restored with RestoreCertificateAuthority after its stack
   * deleted it, or one shared from another account).
   */
  public static fromCertificateAuthorityArn(scope: Construct, id: string, certificateAuthorityArn: string): IPrivateCa {
    checkWhenKnown(scope, 'certificateAuthorityArn', certificateAuthorityArn, caArnProblem);
    class Import extends PrivateCaBase {
      public readonly certificateAuthorityArn = certificateAuthorityArn;
    }
    return new Import(scope, id, {
      environmentFromArn: Token.isUnresolved(certificateAuthorityArn) ? undefined : certificateAuthorityArn,
    });
  }

  /**
   * The CA ARN. Everything that uses it waits for the CA to be active (and is removed before the
   * CA is disabled and deleted).
   *
   * @attribute
   */
  public readonly certificateAuthorityArn: string;

  /**
   * The CA's certificate signing request (PEM), available as soon as the CA is created: what an
   * external parent signs.
   *
   * @attribute
   */
  public readonly csr: string;

  /**
   * The CA status the stack sets: `ACTIVE`, `DISABLED`, or `PENDING_CERTIFICATE` for a CA with an
   * external parent whose certificate has not been supplied yet.
   *
   * @attribute
   */
  public readonly status: string;

  /** Whether the CA is a root (self-signed). */
  public readonly isRoot: boolean;

  /** The key algorithm of the CA. */
  public readonly keyAlgorithm: KeyAlgorithm;

  /** The algorithm the CA signs with (its subordinates' certificates too). */
  public readonly signingAlgorithm: SigningAlgorithm;

  /** The usage mode of the CA. */
  public readonly usageMode: CaUsageMode;

  /**
   * The basicConstraints path length of the CA certificate, for checking children.
   * Undefined for a root (no constraint) and for an external parent that did not declare it.
   */
  public readonly pathLength?: number;

  /**
   * The validity of the CA certificate, for checking children. Undefined for an external parent
   * when neither `validity` nor a certificate known at synth tells it.
   */
  public readonly validity?: Duration;

  /** The bucket the CRLs go to, when CRLs are configured. */
  public readonly crlBucket?: s3.IBucket;

  /** The bucket the audit reports go to, when audit reports are scheduled. */
  public readonly auditReportBucket?: s3.IBucket;

  /** The audit report schedule, when audit reports are scheduled. */
  public readonly auditReportSchedule?: scheduler.Schedule;

  /** The native CA resource. */
  public readonly cfnCertificateAuthority: acmpca.CfnCertificateAuthority;

  /** The activation (installs the certificate, sets ACTIVE/DISABLED); absent while an external parent has not signed. */
  public readonly activation?: acmpca.CfnCertificateAuthorityActivation;

  /** Whether a certificate is (or will be at deploy) installed. */
  private readonly activated: boolean;
  /** The CA certificate as its source: the certificate resource's attribute, or what the user supplied. */
  private readonly certificateSource?: CertificatePem;
  private readonly chainText?: string;
  private readonly removalPolicy: StatefulRemovalPolicy;
  private policyDocument?: iam.PolicyDocument;
  private policyResource?: HandlerResource<PrivateCaPolicyResourceProperties>;
  /** What the expiry notices' handler parses for notAfter; undefined without a certificate. */
  private readonly noticeCertificate?: string;
  private expiryNotices?: ExpiryNotices;

  constructor(scope: Construct, id: string, props: PrivateCaProps) {
    super(scope, id);

    const parent = props.parent;
    const external = props.externalParent ?? false;
    this.isRoot = parent === undefined && !external;
    this.keyAlgorithm = props.keyAlgorithm ?? KeyAlgorithm.RSA_2048;
    this.signingAlgorithm = props.signingAlgorithm ?? this.keyAlgorithm.defaultSigningAlgorithm;
    this.usageMode = props.usageMode ?? CaUsageMode.GENERAL_PURPOSE;
    this.removalPolicy = statefulRemovalPolicy(this, props.removalPolicy);
    const windowDays = props.permanentDeletionTimeInDays ?? PERMANENT_DELETION_DEFAULT_DAYS;

    const suppliedDays = this.validateBasics(props, windowDays);
    const validityDays = this.resolveValidityDays(props, suppliedDays);
    this.validity = validityDays === undefined ? undefined : Duration.days(validityDays);
    this.pathLength = this.resolvePathLength(props);

    // --- revocation ---------------------------------------------------------------------------
    const crlDependencies = new DependencyGroup();
    let crlConfiguration: acmpca.CfnCertificateAuthority.CrlConfigurationProperty = { enabled: false };
    if (props.crl) {
      const crl = props.crl;
      this.crlBucket = crl.bucket ?? secureBucket(this, 'CrlBucket');
      const added = this.crlBucket.addToResourcePolicy(pcaBucketStatement(this, this.crlBucket));
      if (added.statementAdded) {
        crlDependencies.add(added.policyDependable ?? this.crlBucket);
      } else {
        Annotations.of(this).addWarningV2('cdk-certificates:crlBucketPolicy',
          'crl.bucket is imported, so its policy cannot be changed here: allow acm-pca.amazonaws.com s3:PutObject, s3:PutObjectAcl, '
          + 's3:GetBucketAcl and s3:GetBucketLocation on it (see the README), or CA creation fails with "check your S3 bucket permissions"');
      }
      crlConfiguration = {
        enabled: crl.enabled ?? true,
        expirationInDays: crl.expirationInDays ?? 7,
        s3BucketName: this.crlBucket.bucketName,
        s3ObjectAcl: (crl.objectAcl ?? CrlObjectAcl.BUCKET_OWNER_FULL_CONTROL).value,
        customCname: crl.customCname,
        customPath: crl.customPath,
        crlType: crl.crlType?.value,
        crlDistributionPointExtensionConfiguration: crl.includeDistributionPoint === false ? { omitExtension: true } : undefined,
      };
    }
    const ocspConfiguration: acmpca.CfnCertificateAuthority.OcspConfigurationProperty = props.ocsp
      ? { enabled: props.ocsp.enabled ?? true, ocspCustomCname: props.ocsp.customCname }
      : { enabled: false };

    // --- the CA -------------------------------------------------------------------------------
    const cfnCa = new acmpca.CfnCertificateAuthority(this, 'Resource', {
      type: this.isRoot ? 'ROOT' : 'SUBORDINATE',
      keyAlgorithm: this.keyAlgorithm.value,
      signingAlgorithm: this.signingAlgorithm.value,
      subject: renderSubject(props.subject),
      usageMode: props.usageMode?.value,
      keyStorageSecurityStandard: props.keyStorageSecurityStandard?.value,
      // Always explicit, so removing `crl` or `ocsp` turns them off in place.
      revocationConfiguration: { crlConfiguration, ocspConfiguration },
    });
    // The service checks the CRL bucket's policy when it creates the CA.
    cfnCa.node.addDependency(crlDependencies);
    // The lifecycle resource below deletes the CA (disable, then delete with the chosen window):
    // CloudFormation itself must never delete it, on stack deletion or replacement.
    cfnCa.applyRemovalPolicy(RemovalPolicy.RETAIN);
    validateTags(this, cfnCa.tags, PRIVATE_CA_TAG_RULES);
    this.cfnCertificateAuthority = cfnCa;
    this.csr = cfnCa.attrCertificateSigningRequest;

    const provider = this.provider();
    const lifecycleProps: PrivateCaResourceProperties = {
      CertificateAuthorityArn: cfnCa.attrArn,
      PermanentDeletionTimeInDays: String(windowDays),
      RemovalPolicy: this.removalPolicy.handler,
    };
    const lifecycle = new HandlerResource<PrivateCaResourceProperties, PrivateCaResourceAttributes>(this, 'Lifecycle', {
      provider,
      resourceType: PRIVATE_CA_RESOURCE_TYPE,
      properties: lifecycleProps,
      removalPolicy: this.removalPolicy,
    });
    // Its physical ID is the CA ARN: what depends on it is removed before the CA is deleted.
    const lifecycleArn = lifecycle.ref;

    // --- the CA certificate and activation ----------------------------------------------------
    let certificate: string | undefined;
    let chain: string | undefined;
    if (this.isRoot) {
      const cert = new acmpca.CfnCertificate(this, 'CaCertificate', {
        certificateAuthorityArn: lifecycleArn,
        certificateSigningRequest: cfnCa.attrCertificateSigningRequest,
        signingAlgorithm: this.signingAlgorithm.value,
        templateArn: templateArn('RootCACertificate/V1'),
        validity: { type: 'DAYS', value: validityDays! },
      });
      certificate = cert.attrCertificate;
    } else if (parent) {
      const cert = new acmpca.CfnCertificate(this, 'CaCertificate', {
        // The parent's ARN carries the dependency on its activation: it signs only once ACTIVE.
        certificateAuthorityArn: parent.certificateAuthorityArn,
        certificateSigningRequest: cfnCa.attrCertificateSigningRequest,
        signingAlgorithm: parent.signingAlgorithm.value,
        templateArn: templateArn(`SubordinateCACertificate_PathLen${this.pathLength ?? 0}/V1`),
        validity: { type: 'DAYS', value: validityDays! },
      });
      certificate = cert.attrCertificate;
      chain = parent._completeChainText();
    } else if (props.certificate) {
      certificate = templatePem(this, 'certificate', props.certificate);
      chain = templatePem(this, 'certificateChain', props.certificateChain!);
    }

    this.activated = certificate !== undefined;
    if (certificate !== undefined) {
      const activation = new acmpca.CfnCertificateAuthorityActivation(this, 'Activation', {
        certificateAuthorityArn: lifecycleArn,
        certificate,
        certificateChain: chain,
        status: props.enabled === false ? 'DISABLED' : 'ACTIVE',
      });
      activation.applyRemovalPolicy(this.removalPolicy.removalPolicy);
      this.activation = activation;
      // A user's certificate keeps its own source (a secret stays a secret, not its dynamic reference text).
      this.certificateSource = props.certificate ?? CertificatePem.fromString(certificate);
      this.chainText = this.isRoot ? certificate : activation.attrCompleteCertificateChain;
      // A custom resource cannot take a secret's dynamic reference: a user's certificate known only
      // at deploy reaches the notices' handler as the activation's complete chain.
      this.noticeCertificate = props.certificate && props.certificate.pemText === undefined
        ? activation.attrCompleteCertificateChain
        : certificate;
      // The activation's Ref is the CA ARN: users of the ARN wait until the CA is active.
      this.certificateAuthorityArn = activation.ref;
      this.status = props.enabled === false ? 'DISABLED' : 'ACTIVE';
    } else {
      this.certificateAuthorityArn = lifecycleArn;
      this.status = 'PENDING_CERTIFICATE';
      new CfnOutput(this, 'CertificateSigningRequest', {
        value: cfnCa.attrCertificateSigningRequest,
        description: `CSR of the CA ${this.node.path}: sign it with the external parent CA, then deploy again with certificate and certificateChain`,
      });
    }

    // --- ACM renewals, audit reports ----------------------------------------------------------
    if ((props.allowAcmRenewals ?? true) && this.activated) {
      const permission = new acmpca.CfnPermission(this, 'AcmPermission', {
        certificateAuthorityArn: this.certificateAuthorityArn,
        principal: 'acm.amazonaws.com',
        actions: ['IssueCertificate', 'GetCertificate', 'ListPermissions'],
        sourceAccount: Stack.of(this).account,
      });
      permission.applyRemovalPolicy(this.removalPolicy.removalPolicy);
    }
    if (props.auditReports) {
      if (!this.activated) {
        Annotations.of(this).addWarningV2('cdk-certificates:auditReportsPending',
          'auditReports start once the CA has a certificate (supply certificate and certificateChain)');
      } else {
        const audit = this.scheduleAuditReports(props.auditReports);
        this.auditReportBucket = audit.bucket;
        this.auditReportSchedule = audit.schedule;
      }
    }
  }

  /**
   * The CA certificate (PEM), for trust stores and for constructs that take a `CertificatePem`
   * (e.g. `DmsCertificate`).
   */
  public get certificatePem(): CertificatePem {
    if (this.certificateSource === undefined) {
      throw new CertificateInputError('certificatePem',
        'this CA has an external parent and no certificate yet: sign its CSR and pass certificate and certificateChain first', this);
    }
    return this.certificateSource;
  }

  /**
   * The chain of the certificates this CA issues, leaf excluded: this CA's certificate, then its
   * parents' up to the root (for a root, the root certificate itself).
   */
  public get certificateChainPem(): CertificatePem {
    return CertificatePem.fromString(this._completeChainText());
  }

  /**
   * Adds a statement to the CA's resource-based policy (PutPolicy), e.g. to let another account
   * issue certificates. A statement without resources applies to this CA. The policy is deleted
   * when the CA leaves the stack (unless retained). Sharing through AWS RAM writes the same policy:
   * use one or the other.
   */
  public addToResourcePolicy(statement: iam.PolicyStatement): iam.AddToResourcePolicyResult {
    if (!this.policyDocument) {
      const document = new iam.PolicyDocument();
      this.policyDocument = document;
      const provider = this.provider();
      const properties: PrivateCaPolicyResourceProperties = {
        CertificateAuthorityArn: this.certificateAuthorityArn,
        Policy: Lazy.string({ produce: () => Stack.of(this).toJsonString(document.toJSON()) }),
        RemovalPolicy: this.removalPolicy.handler,
      };
      this.policyResource = new HandlerResource(this, 'Policy', {
        provider,
        resourceType: PRIVATE_CA_POLICY_RESOURCE_TYPE,
        properties,
        removalPolicy: this.removalPolicy,
      });
      this.node.addValidation({ validate: () => document.validateForResourcePolicy() });
    }
    this.policyDocument.addStatements(statement.hasResource ? statement : statement.copy({ resources: [this.certificateAuthorityArn] }));
    return { statementAdded: true, policyDependable: this.policyResource };
  }

  /** @internal the chain as a template string, for the activation of children. */
  public _completeChainText(): string {
    if (this.chainText === undefined) {
      throw new CertificateInputError('certificateChainPem',
        'this CA has an external parent and no certificate yet: sign its CSR and pass certificate and certificateChain first', this);
    }
    return this.chainText;
  }

  /** The validity of the CA certificate, for the certificates it issues (same as `validity`). */
  public get certificateValidity(): Duration | undefined {
    return this.validity;
  }

  /** The signing algorithm of the certificates this CA issues (ACM Private CA's name). */
  public get issuingSigningAlgorithm(): string | undefined {
    return this.signingAlgorithm.value;
  }

  /** The chain delivered with the certificates this CA issues; undefined while an external parent has not signed. */
  public get issuedCertificateChainPem(): CertificatePem | undefined {
    return this.chainText === undefined ? undefined : CertificatePem.fromString(this.chainText);
  }

  /** What must be deployed before the CA can issue: its activation (the ARN carries it too). */
  public get readyForIssuance(): IDependable | undefined {
    return this.activation;
  }

  /**
   * Publishes a notice to an SNS topic a number of days before the CA's certificate expires,
   * through EventBridge Scheduler one-time schedules (no Lambda function in the notice path,
   * nothing polls). A certificate known at synth (an external parent's) times them at synth; a
   * certificate made at deploy has them timed by the CA's handler. May be called more than once.
   */
  public notifyBeforeExpiry(options: ExpiryNotificationOptions): void {
    const certificate = this.noticeCertificate;
    if (certificate === undefined) {
      throw new CertificateInputError('notifyBeforeExpiry',
        'this CA has an external parent and no certificate yet, so it has no expiry date; supply certificate and certificateChain first', this);
    }
    if (!this.expiryNotices) {
      const notices = new ExpiryNotices(this, notAfterAtSynth(this.certificateSource?.pemText, 'certificate'));
      let resource: HandlerResource<PrivateCaExpiryNoticesResourceProperties> | undefined;
      notices.bind({
        kind: 'ACM Private CA certificate authority',
        certificate: this.certificateAuthorityArn,
        attribute: (name) => {
          // Created only when some notice is timed at deploy.
          if (!resource) {
            resource = this.expiryNoticesResource(certificate, notices);
          }
          return resource.dynamicAttr(name);
        },
      });
      this.expiryNotices = notices;
    }
    this.expiryNotices.add(options);
  }

  /**
   * Issues a certificate whose key pair is generated at deploy and kept in a Secrets Manager
   * secret (never in the template). See `IssuedCertificate`.
   */
  public issueCertificate(id: string, props: IssuedCertificateProps): IssuedCertificate {
    this.assertCanIssue('issueCertificate');
    return new IssuedCertificate(this, id, { ...props, certificateAuthority: this });
  }

  /**
   * Issues a certificate for a CSR whose key you hold (end-entity template, 365 days; use
   * `CsrIssuedCertificate` directly for other templates or validities).
   */
  public issueCertificateFromCsr(id: string, csr: string): CsrIssuedCertificate {
    this.assertCanIssue('issueCertificateFromCsr');
    return new CsrIssuedCertificate(this, id, { certificateAuthority: this, csr });
  }

  private expiryNoticesResource(certificate: string, notices: ExpiryNotices): HandlerResource<PrivateCaExpiryNoticesResourceProperties> {
    const provider = this.provider();
    return new HandlerResource<PrivateCaExpiryNoticesResourceProperties>(this, 'ExpiryNoticeTimes', {
      provider,
      resourceType: PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE,
      properties: {
        CertificateAuthorityArn: this.certificateAuthorityArn,
        CaCertificate: certificate,
      },
      renderProperties: () => ({ NotifyDaysBefore: notices.handlerProperty() }),
    });
  }

  private assertCanIssue(method: string): void {
    if (!this.activated) {
      throw new CertificateInputError(method,
        'this CA has an external parent and no certificate yet, so it cannot issue; supply certificate and certificateChain first', this);
    }
  }

  private provider(): HandlerProvider {
    const provider = handlerProvider(this, {
      handlerName: 'private-ca',
      description: 'cdk-certificates: ACM Private CA deletion with a restoration window, and resource policies',
      timeout: Duration.minutes(10),
    });
    // Any CA of the stack's account and Region: a replaced CA is deleted after the role's policy
    // has moved on to the new one, so an exact ARN would lock the handler out of the old CA.
    grantStatement(provider, new iam.PolicyStatement({
      actions: [
        'acm-pca:DescribeCertificateAuthority',
        'acm-pca:UpdateCertificateAuthority',
        'acm-pca:DeleteCertificateAuthority',
        'acm-pca:PutPolicy',
        'acm-pca:DeletePolicy',
      ],
      resources: [Stack.of(this).formatArn({
        service: 'acm-pca',
        resource: 'certificate-authority',
        resourceName: '*',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      })],
    }));
    return provider;
  }

  private scheduleAuditReports(options: AuditReportOptions): { bucket: s3.IBucket; schedule: scheduler.Schedule } {
    const bucket = options.bucket ?? secureBucket(this, 'AuditReportBucket');
    const added = bucket.addToResourcePolicy(pcaBucketStatement(this, bucket));
    if (!added.statementAdded) {
      Annotations.of(this).addWarningV2('cdk-certificates:auditBucketPolicy',
        'auditReports.bucket is imported, so its policy cannot be changed here: allow acm-pca.amazonaws.com s3:PutObject, '
        + 's3:PutObjectAcl, s3:GetBucketAcl and s3:GetBucketLocation on it (see the README)');
    }
    const format = options.format ?? AuditReportFormat.JSON;
    const target = new targets.Universal({
      service: 'acmpca',
      action: 'createCertificateAuthorityAuditReport',
      input: scheduler.ScheduleTargetInput.fromObject({
        CertificateAuthorityArn: this.certificateAuthorityArn,
        S3BucketName: bucket.bucketName,
        AuditReportResponseFormat: format.value,
      }),
      // The caller needs write access to the bucket as well as the service principal.
      policyStatements: [
        new iam.PolicyStatement({
          actions: ['acm-pca:CreateCertificateAuthorityAuditReport'],
          resources: [this.certificateAuthorityArn],
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
    const schedule = new scheduler.Schedule(this, 'AuditReportSchedule', {
      schedule: options.schedule,
      target,
      description: `cdk-certificates: ${format.value} audit report of the CA ${this.node.path}`,
    });
    if (added.statementAdded) {
      schedule.node.addDependency(added.policyDependable ?? bucket);
    }
    return { bucket, schedule };
  }

  // --- validation -------------------------------------------------------------------------------

  /** Checks every input; returns the validity in days of a supplied certificate known at synth. */
  private validateBasics(props: PrivateCaProps, windowDays: number): number | undefined {
    const parent = props.parent;
    const external = props.externalParent ?? false;
    if (parent && external) {
      throw new CertificateInputError('externalParent', 'cannot be set together with parent: a CA has one parent', this);
    }
    if ((props.certificate || props.certificateChain) && !external) {
      throw new CertificateInputError(props.certificate ? 'certificate' : 'certificateChain',
        'is only for a CA with externalParent: true (a root is self-signed, a parent in the app signs its children)', this);
    }
    if (props.certificateChain && !props.certificate) {
      throw new CertificateInputError('certificateChain', 'was given without certificate; pass both', this);
    }
    if (props.certificate && !props.certificateChain) {
      throw new CertificateInputError('certificateChain',
        'is required with certificate: a subordinate CA certificate is installed with the chain from its issuer to the root', this);
    }
    if (!this.keyAlgorithm.accepts(this.signingAlgorithm)) {
      throw new CertificateInputError('signingAlgorithm',
        `${this.signingAlgorithm.value} does not fit the key algorithm ${this.keyAlgorithm.value}; `
        + `use a signing algorithm of the same family, e.g. ${this.keyAlgorithm.defaultSigningAlgorithm.value}`, this);
    }
    checkWhenKnown(this, 'permanentDeletionTimeInDays', windowDays, permanentDeletionProblem);
    this.validateSubject(props.subject);
    if (props.crl) {
      this.validateCrl(props.crl);
    }
    if (props.ocsp?.customCname !== undefined && !Token.isUnresolved(props.ocsp.customCname)) {
      const problem = cnameProblem(props.ocsp.customCname);
      if (problem) {
        throw new CertificateInputError('ocsp.customCname', problem, this);
      }
    }
    if (parent) {
      this.validateParent(parent);
    }
    if (props.certificate) {
      const summaries = checkCertificateAtSynth(this, 'certificate', props.certificate);
      if (summaries && summaries.length !== 1) {
        throw new CertificateInputError('certificate', `must hold exactly one certificate (the CA's), got ${summaries.length}; put the others in certificateChain`, this);
      }
      if (summaries && !summaries[0].isCa) {
        throw new CertificateInputError('certificate', `${summaries[0].subject} is not a CA certificate (basicConstraints CA:TRUE); ask the external CA for a subordinate CA certificate`, this);
      }
      checkChainAtSynth(this, 'certificateChain', props.certificateChain!, { leaf: props.certificate });
      if (summaries) {
        return Math.floor((Date.parse(summaries[0].notAfter) - Date.parse(summaries[0].notBefore)) / (DAY_SECONDS * 1000));
      }
    }
    return undefined;
  }

  private validateSubject(subject: PrivateCaSubject): void {
    const record = subject as unknown as Record<string, unknown>;
    for (const rule of PRIVATE_CA_SUBJECT.fields) {
      const value = record[rule.property];
      if (value === undefined || (typeof value === 'string' && Token.isUnresolved(value))) {
        continue;
      }
      const problem = PRIVATE_CA_SUBJECT.problem(rule, String(value));
      if (problem) {
        throw new CertificateInputError(`subject.${rule.property}`, problem, this);
      }
    }
  }

  private validateCrl(crl: CrlOptions): void {
    const days = crl.expirationInDays;
    if (days !== undefined && !Token.isUnresolved(days)
      && (!Number.isInteger(days) || days < CRL_EXPIRATION_MIN_DAYS || days > CRL_EXPIRATION_MAX_DAYS)) {
      throw new CertificateInputError('crl.expirationInDays',
        `must be a whole number of days from ${CRL_EXPIRATION_MIN_DAYS} to ${CRL_EXPIRATION_MAX_DAYS}, got ${days}`, this);
    }
    checkWhenKnown(this, 'crl.customCname', crl.customCname, cnameProblem);
    checkWhenKnown(this, 'crl.customPath', crl.customPath, crlCustomPathProblem);
    if (crl.objectAcl === CrlObjectAcl.PUBLIC_READ && crl.bucket === undefined) {
      throw new CertificateInputError('crl.objectAcl',
        'PUBLIC_READ needs a bucket that allows public ACLs, and the bucket this construct creates blocks public access; '
        + 'pass your own crl.bucket, or keep BUCKET_OWNER_FULL_CONTROL and serve the CRLs through CloudFront with crl.customCname', this);
    }
  }

  private validateParent(parent: PrivateCa): void {
    if (!parent.activated) {
      throw new CertificateInputError('parent',
        `${parent.node.path} has an external parent and no certificate yet, so it cannot sign; supply its certificate first`, this);
    }
    const mine = Stack.of(this);
    const theirs = Stack.of(parent);
    for (const [what, a, b] of [['Region', mine.region, theirs.region], ['account', mine.account, theirs.account]] as const) {
      if (Token.compareStrings(a, b) === TokenComparison.DIFFERENT) {
        throw new CertificateInputError('parent', `${parent.node.path} is in another ${what} (${b}); a parent signs subordinates in its own ${what} only`, this);
      }
    }
  }

  /** Days of validity of the CA certificate (undefined when an external parent decides and it is unknown). */
  private resolveValidityDays(props: PrivateCaProps, suppliedDays: number | undefined): number | undefined {
    const parent = props.parent;
    let days: number | undefined;
    if (props.validity !== undefined) {
      days = durationDays(this, props.validity);
    } else if (this.isRoot) {
      days = DEFAULT_ROOT_VALIDITY_DAYS;
    } else if (parent) {
      const parentDays = parent.validity === undefined ? undefined : durationDays(parent, parent.validity);
      days = parentDays === undefined || Token.isUnresolved(parentDays)
        ? DEFAULT_SUBORDINATE_VALIDITY_DAYS
        : Math.min(DEFAULT_SUBORDINATE_VALIDITY_DAYS, Math.floor(parentDays / 2));
    } else {
      days = suppliedDays;
    }
    if (parent && days !== undefined && !Token.isUnresolved(days) && parent.validity !== undefined) {
      const parentDays = durationDays(parent, parent.validity);
      if (parentDays !== undefined && !Token.isUnresolved(parentDays) && days >= parentDays) {
        throw new CertificateInputError('validity',
          `${days} days is not shorter than the validity of the parent ${parent.node.path} (${parentDays} days); `
          + 'a CA cannot sign a certificate that outlives its own', this);
      }
    }
    if (days !== undefined && !Token.isUnresolved(days) && days < 1) {
      throw new CertificateInputError('validity', `must be at least one day, got ${days}`, this);
    }
    return days;
  }

  private resolvePathLength(props: PrivateCaProps): number | undefined {
    const pathLength = props.pathLength;
    if (this.isRoot) {
      if (pathLength !== undefined) {
        throw new CertificateInputError('pathLength',
          'cannot be set on a root: RootCACertificate/V1 puts no path length constraint; set pathLength on its subordinates', this);
      }
      return undefined;
    }
    if (pathLength !== undefined && !Token.isUnresolved(pathLength)) {
      const max = props.parent ? MAX_TEMPLATE_PATH_LENGTH : Number.MAX_SAFE_INTEGER;
      if (!Number.isInteger(pathLength) || pathLength < 0 || pathLength > max) {
        throw new CertificateInputError('pathLength', props.parent
          ? `must be a whole number from 0 to ${MAX_TEMPLATE_PATH_LENGTH} (the SubordinateCACertificate_PathLen<N>/V1 templates), got ${pathLength}`
          : `must be a whole number of 0 or more, got ${pathLength}`, this);
      }
    }
    const parent = props.parent;
    if (!parent) {
      return pathLength;
    }
    const mine = pathLength ?? 0;
    if (parent.pathLength !== undefined && mine >= parent.pathLength) {
      throw new CertificateInputError('pathLength', parent.pathLength === 0
        ? `the parent ${parent.node.path} has path length 0, so it may not sign CA certificates; raise the parent's pathLength`
        : `${mine} is not below the path length of the parent ${parent.node.path} (${parent.pathLength}); use at most ${parent.pathLength - 1}`, this);
    }
    return mine;
  }
}

function renderSubject(subject: PrivateCaSubject): acmpca.CfnCertificateAuthority.SubjectProperty {
  const record = subject as unknown as Record<string, string | undefined>;
  const out: Record<string, string> = {};
  for (const { property } of PRIVATE_CA_SUBJECT.fields) {
    const value = record[property];
    if (value !== undefined) {
      out[property] = value;
    }
  }
  return out as acmpca.CfnCertificateAuthority.SubjectProperty;
}

function templateArn(template: string): string {
  return `arn:${Aws.PARTITION}:acm-pca:::template/${template}`;
}

/** Whole days of a Duration (a token stays a token). */
function durationDays(scope: Construct, duration: Duration): number {
  if (!duration.isUnresolved()) {
    const problem = validityDaysProblem(duration.toDays({ integral: false }), duration.toHumanString());
    if (problem) {
      throw new CertificateInputError('validity', problem, scope);
    }
  }
  return duration.toDays();
}

/** An S3 bucket for CRLs or audit reports: encrypted, SSL only, no public access, kept on delete. */
function secureBucket(scope: Construct, id: string): s3.Bucket {
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
function pcaBucketStatement(scope: Construct, bucket: s3.IBucket): iam.PolicyStatement {
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

/**
 * A grantee that takes no grant: CloudFormation resolves dynamic references with the deployer's
 * own credentials, so nothing in the stack needs read access.
 */
class TemplateResolvedPrincipal extends iam.PrincipalBase {
  public readonly policyFragment = new iam.PrincipalPolicyFragment({});
  public readonly principalAccount: string;

  constructor(account: string) {
    super();
    this.principalAccount = account;
  }

  public addToPrincipalPolicy(): iam.AddToPrincipalPolicyResult {
    return { statementAdded: true, policyDependable: new DependencyGroup() as IDependable };
  }

  public dedupeString(): string | undefined {
    return undefined;
  }
}

/**
 * A PEM as a template string for the activation: the text itself, or a CloudFormation dynamic
 * reference to the secret or SSM String parameter holding it.
 */
function templatePem(scope: Construct, property: string, pem: CertificatePem): string {
  if (pem.pemText !== undefined) {
    return pem.pemText;
  }
  const source = pem._bind(scope, new TemplateResolvedPrincipal(Stack.of(scope).account));
  switch (source.kind) {
    case 'inline':
      return source.value;
    case 'secret':
      return `{{resolve:secretsmanager:${source.secretId}:SecretString:${source.jsonField ?? ''}::}}`;
    case 'ssm':
      if (source.withDecryption === 'true') {
        break;
      }
      return `{{resolve:ssm:${source.parameterName}}}`;
    default:
      break;
  }
  throw new CertificateInputError(property,
    `${pem.sourceDescription} cannot be passed to AWS::ACMPCA::CertificateAuthorityActivation; `
    + 'use CertificatePem.fromString, fromFile, fromSecret or fromSsmParameter (a String parameter)', scope);
}
