import {
  Annotations,
  Aws,
  CfnOutput,
  Duration,
  Lazy,
  RemovalPolicy,
  Resource,
  Stack,
  Token,
} from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct, IDependable } from 'constructs';
import { CsrIssuedCertificate } from './csr-issued-certificate';
import { IssuedCertificate } from './issued-certificate';
import { IIssuingCertificateAuthority, IssuedCertificateProps } from './issued-certificate-props';
import { lintPkiAtSynth } from './pki-lint';
import { scheduleAuditReports } from './private-ca-audit-reports';
import { renderSubject, resolvePathLength, resolveValidityDays, validateBasics } from './private-ca-checks';
import {
  CaUsageMode,
  KeyAlgorithm,
  SigningAlgorithm,
} from './private-ca-options';
import { expiryNoticesResource, privateCaProvider, resourcePolicy, templateArn, templatePem } from './private-ca-permissions';
import { IPrivateCa, PrivateCaProps } from './private-ca-props';
import { revocation } from './private-ca-revocation';
import { PrivateCaShare, PrivateCaShareOptions, SharePrincipal, sharePrivateCa } from './private-ca-sharing';
import { TrustBundle } from './trust-bundle';
import {
  caArnProblem,
  PERMANENT_DELETION_DEFAULT_DAYS,
  PRIVATE_CA_RESOURCE_TYPE,
  PrivateCaExpiryNoticesResourceProperties,
  PrivateCaResourceAttributes,
  PrivateCaResourceProperties,
  PrivateCaPolicyResourceProperties,
  PRIVATE_CA_TAG_RULES,
} from '../contract/private-ca';
import { OWNER_LOGICAL_ID_TAG, OWNER_STACK_TAG } from '../contract/tags';
import { ExpiryNotificationOptions } from '../expiry/expiry-notifications';
import { ExpiryNotices, notAfterAtSynth } from '../expiry/notices';
import { CertificatePem } from '../material/certificate-material';
import { CertificateInputError, checkWhenKnown } from '../private/errors';
import { HandlerResource, StatefulRemovalPolicy, statefulRemovalPolicy, validateTags } from '../private/handler-resource';

// The family's public parts, re-exported here so that this module is the family's one entry.
export * from './private-ca-props';
export {
  CaSharePermission, PrivateCaShare, PrivateCaShareOptions, PrivateCaShareProps, SharePrincipal, SharePrincipalType,
} from './private-ca-sharing';

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

  /**
   * The CloudFront distribution serving the CRLs, when one is created (`crl.distribution`):
   * point your `crl.customCname` at it, e.g. with a Route 53 alias record.
   */
  public readonly crlDistribution?: cloudfront.IDistribution;

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
    this.removalPolicy = statefulRemovalPolicy(this, props.removalPolicy, RemovalPolicy.RETAIN);
    const windowDays = props.permanentDeletionTimeInDays ?? PERMANENT_DELETION_DEFAULT_DAYS;

    const suppliedDays = validateBasics(this, props, windowDays, this);
    const validityDays = resolveValidityDays(this, props, this.isRoot, suppliedDays);
    this.validity = validityDays === undefined ? undefined : Duration.days(validityDays);
    this.pathLength = resolvePathLength(this, props, this.isRoot);

    // --- revocation ---------------------------------------------------------------------------
    const revoke = revocation(this, props.crl, props.ocsp);
    this.crlBucket = revoke.crlBucket;
    this.crlDistribution = revoke.distribution;

    // --- the CA -------------------------------------------------------------------------------
    const cfnCa = new acmpca.CfnCertificateAuthority(this, 'Resource', {
      type: this.isRoot ? 'ROOT' : 'SUBORDINATE',
      keyAlgorithm: this.keyAlgorithm.value,
      signingAlgorithm: this.signingAlgorithm.value,
      subject: renderSubject(props.subject),
      usageMode: props.usageMode?.value,
      keyStorageSecurityStandard: props.keyStorageSecurityStandard?.value,
      // Always explicit, so removing `crl` or `ocsp` turns them off in place.
      revocationConfiguration: revoke.configuration,
    });
    // The service checks the CRL bucket's policy when it creates the CA.
    cfnCa.node.addDependency(revoke.dependencies);
    // The lifecycle resource below deletes the CA (disable, then delete with the chosen window):
    // CloudFormation itself must never delete it, on stack deletion or replacement.
    cfnCa.applyRemovalPolicy(RemovalPolicy.RETAIN);
    validateTags(this, cfnCa.tags, PRIVATE_CA_TAG_RULES);
    // Ownership tags: the handler roles of this stack may change, delete and revoke at CAs that
    // carry this stack's ID only (aws:ResourceTag), including a replaced CA of this stack.
    cfnCa.tags.setTag(OWNER_STACK_TAG, Aws.STACK_ID);
    cfnCa.tags.setTag(OWNER_LOGICAL_ID_TAG, Lazy.string({ produce: () => Stack.of(this).getLogicalId(cfnCa) }));
    this.cfnCertificateAuthority = cfnCa;
    this.csr = cfnCa.attrCertificateSigningRequest;

    const provider = privateCaProvider(this);
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
    // The CA's own DeletionPolicy is always Retain (above); say in the template who deletes it, so
    // a reviewer reading "Retain" is not misled when the removal policy is DESTROY.
    cfnCa.addMetadata('cdk-certificates:deletion', this.removalPolicy.handler === 'retain'
      ? 'Retained: the CA stays when it leaves the stack or is replaced (removalPolicy RETAIN).'
      : Lazy.string({
        produce: () => `Deleted by ${Stack.of(this).getLogicalId(lifecycle)} (${PRIVATE_CA_RESOURCE_TYPE}): disabled, then DeleteCertificateAuthority `
          + `with a ${windowDays}-day restore window, when the CA leaves the stack or is replaced (removalPolicy DESTROY).`,
      }));
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
        const audit = scheduleAuditReports(this, this.certificateAuthorityArn, props.auditReports);
        this.auditReportBucket = audit.bucket;
        this.auditReportSchedule = audit.schedule;
      }
    }
    // Synth-time PKI checks (cost, ACM and short-lived mode, key families, a root issuing leaves).
    lintPkiAtSynth(this);
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
      this.policyDocument = new iam.PolicyDocument();
      this.policyResource = resourcePolicy(this, this.certificateAuthorityArn, this.policyDocument, this.removalPolicy);
    }
    this.policyDocument.addStatements(statement.hasResource ? statement : statement.copy({ resources: [this.certificateAuthorityArn] }));
    return { statementAdded: true, policyDependable: this.policyResource };
  }

  /**
   * The CA's trust bundle: its PEM chain, from the CA to its root, written at deploy as an S3
   * object, with helpers for ALB and API Gateway mutual TLS and IAM Roles Anywhere. Made on first
   * use with the defaults (a bucket of its own, a 30-day overlap); see `TrustBundle` for options.
   */
  public get trustBundle(): TrustBundle {
    const existing = this.node.tryFindChild('TrustBundle');
    return existing instanceof TrustBundle ? existing : new TrustBundle(this, 'TrustBundle', { certificateAuthority: this });
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
            resource = expiryNoticesResource(this, this.certificateAuthorityArn, certificate, notices);
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

  /**
   * Shares this CA with other accounts, organizational units or the whole organization through AWS
   * RAM (`AWS::RAM::ResourceShare`), one share per permission (default: issuing end-entity
   * certificates with `EndEntityCertificate/V1`, what `acm.PrivateCertificate` requests). The
   * principals then issue from the CA in their own accounts, by its ARN.
   *
   * RAM writes and maintains the CA's resource-based policy itself: a shared CA cannot also take
   * `addToResourcePolicy` (nor a grant to another account's principal), and synth fails if both are
   * used. Permissions whose templates ACM Private CA does not allow across accounts are refused.
   */
  public shareWith(principals: SharePrincipal[], options: PrivateCaShareOptions = {}): PrivateCaShare {
    return sharePrivateCa(this, principals, options);
  }

  private assertCanIssue(method: string): void {
    if (!this.activated) {
      throw new CertificateInputError(method,
        'this CA has an external parent and no certificate yet, so it cannot issue; supply certificate and certificateChain first', this);
    }
  }
}

