import {
  Duration,
  IResource,
  ITaggable,
  RemovalPolicy,
  Resource,
  TagManager,
  TagType,
  Token,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CertificateTemplate } from '../acm-pca/issued-certificate-options';
import { IIssuingCertificateAuthority } from '../acm-pca/issued-certificate-props';
import {
  ALIBABA_KMS_CERTIFICATE_RESOURCE_TYPE,
  ALIBABA_SUBJECT,
  ALIBABA_TAG_RULES,
  AlibabaKeySpecName,
  AlibabaKmsCertificateResourceAttributes,
  AlibabaKmsCertificateResourceProperties,
  AlibabaSubjectProps,
  certificateIdProblem,
  parseEndpoint,
  regionIdProblem,
  subjectAlternativeNamesProblem,
} from '../contract/alibaba-kms-certificate';
import { validityDaysProblem } from '../contract/validity';
import { CertificatePem } from '../material/certificate-material';
import { CertificateInputError, checkWhenKnown, importedAttribute } from '../private/errors';
import { grantSecretValueRead, grantStatement } from '../private/grants';
import { HandlerResource, handlerProvider, statefulRemovalPolicy } from '../private/handler-resource';
import type { HandlerProvider } from '../private/provider';
import { checkCertificateAtSynth, checkChainAtSynth } from '../private/synth-checks';

/** What each mode adds to the properties every certificate has. */
type ModeProperties = Pick<AlibabaKmsCertificateResourceProperties, 'Mode'> & Partial<AlibabaKmsCertificateResourceProperties>;

/**
 * The key pair Alibaba Cloud KMS generates for a certificate (CreateCertificate's `KeySpec`).
 */
export class AlibabaKeySpec {
  /** RSA, 2048-bit modulus. */
  public static readonly RSA_2048 = new AlibabaKeySpec('RSA_2048');
  /** ECDSA on NIST P-256. */
  public static readonly EC_P256 = new AlibabaKeySpec('EC_P256');
  /**
   * SM2 (Chinese national standard). ACM Private CA cannot sign an SM2 CSR, so this key spec cannot
   * be used with `issuer`; upload a certificate from an SM2-capable CA with `certificateId` instead.
   */
  public static readonly EC_SM2 = new AlibabaKeySpec('EC_SM2');

  /**
   * @param value the KMS API value
   */
  private constructor(public readonly value: string) {}
}

/**
 * The subject of a certificate created in KMS. KMS requires CN, C, O and OU; the construct builds
 * the RFC 2253 distinguished name from these fields, escaping special characters.
 */
export interface AlibabaCertificateSubject {
  /** Common name (CN), at most 64 characters. */
  readonly commonName: string;
  /** Two-letter ISO 3166-1 country code in upper case (C), e.g. `CN`. */
  readonly country: string;
  /** Organization (O), at most 64 characters. */
  readonly organization: string;
  /** Organizational unit (OU), at most 64 characters. */
  readonly organizationalUnit: string;
  /**
   * State or province (ST), at most 128 characters.
   * @default - none
   */
  readonly state?: string;
  /**
   * Locality (L), at most 128 characters.
   * @default - none
   */
  readonly locality?: string;
}

/**
 * A certificate in Alibaba Cloud KMS Certificates Manager.
 */
export interface IAlibabaKmsCertificate extends IResource {
  /**
   * The KMS certificate ID (a UUID), as KMS operations such as CertificatePrivateKeySign take it.
   *
   * @attribute
   */
  readonly certificateId: string;

  /**
   * The certificate's Alibaba Cloud resource name (`acs:kms:<region>:<account>:certificate/<id>`),
   * for RAM policies.
   *
   * @attribute
   */
  readonly certificateArn: string;
}

/**
 * Attributes to import an existing KMS certificate.
 */
export interface AlibabaKmsCertificateAttributes {
  /**
   * The KMS certificate ID.
   */
  readonly certificateId: string;

  /**
   * The certificate's Alibaba Cloud resource name.
   *
   * @default - accessing `certificateArn` throws
   */
  readonly certificateArn?: string;
}

abstract class AlibabaKmsCertificateBase extends Resource implements IAlibabaKmsCertificate {
  public abstract readonly certificateId: string;
  public abstract readonly certificateArn: string;
}

/**
 * Properties of an `AlibabaKmsCertificate`.
 *
 * Give `issuer` and `subject` to have KMS create the key and an ACM Private CA sign it; or give
 * `certificateId` and `certificate` to upload a certificate to a KMS certificate that exists.
 */
export interface AlibabaKmsCertificateProps {
  /**
   * The Alibaba Cloud region of KMS, e.g. `cn-hangzhou`.
   */
  readonly regionId: string;

  /**
   * A Secrets Manager secret holding the Alibaba Cloud credentials as JSON:
   * `{"accessKeyId": "...", "accessKeySecret": "...", "securityToken": "..."}` (`securityToken`
   * only for STS credentials, which expire). The handler reads it at deploy; the value is never in
   * the template, a custom-resource property or a log. The RAM identity needs
   * `kms:CreateCertificate`, `kms:UploadCertificate`, `kms:DescribeCertificate`,
   * `kms:GetCertificate`, `kms:UpdateCertificateStatus`, `kms:DeleteCertificate`,
   * `kms:TagResource` and `kms:UntagResource`.
   */
  readonly credentials: secretsmanager.ISecret;

  /**
   * The KMS endpoint to call: a host with an optional port (`kms-vpc.cn-hangzhou.aliyuncs.com`),
   * optionally with `https://`. Use it for a KMS VPC endpoint reached over VPN or Express Connect,
   * or a dedicated KMS instance. Plain `http://` is accepted only for a loopback test server.
   *
   * @default `kms.<regionId>.aliyuncs.com` over HTTPS (the public endpoint)
   */
  readonly endpoint?: string;

  /**
   * The VPC to run the handler in, for a handler that must reach Alibaba Cloud through a NAT
   * gateway, a VPN or Express Connect. Without it the handler uses Lambda's own internet access.
   *
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnets of `vpc` for the handler; they need a route to the KMS endpoint.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The ACM Private CA that signs the CSR KMS creates (e.g. a `PrivateCa`). With `subject`, this
   * creates the key in KMS.
   *
   * @default - no CA: upload only (`certificateId` and `certificate` are required)
   */
  readonly issuer?: IIssuingCertificateAuthority;

  /**
   * The subject of the certificate KMS creates (CN, C, O and OU are required).
   *
   * @default - required with `issuer`
   */
  readonly subject?: AlibabaCertificateSubject;

  /**
   * DNS subject alternative names, at most ten. A wildcard is allowed only as the whole first
   * label (`*.example.com`).
   *
   * @default - none
   */
  readonly subjectAlternativeNames?: string[];

  /**
   * The key pair KMS generates.
   *
   * @default AlibabaKeySpec.RSA_2048
   */
  readonly keySpec?: AlibabaKeySpec;

  /**
   * Whether the private key may ever be exported from KMS. KMS's own default is `true`; this
   * construct always sends the value, so the key stays in KMS unless you ask otherwise.
   *
   * @default false
   */
  readonly exportablePrivateKey?: boolean;

  /**
   * The ACM Private CA template the certificate is issued with.
   *
   * @default CertificateTemplate.END_ENTITY
   */
  readonly template?: CertificateTemplate;

  /**
   * How long the issued certificate is valid, in whole days. It must be shorter than the CA's own
   * validity.
   *
   * @default Duration.days(365)
   */
  readonly validity?: Duration;

  /**
   * Upload only: the ID of an existing KMS certificate (created with CreateCertificate outside this
   * app) to upload `certificate` to. The certificate must be issued for that KMS certificate's CSR.
   *
   * @default - KMS creates a new certificate (`issuer` and `subject` are required)
   */
  readonly certificateId?: string;

  /**
   * Upload only: the certificate to upload (any source: a string, a file, a secret, a parameter or
   * another construct's output).
   *
   * @default - required with `certificateId`
   */
  readonly certificate?: CertificatePem;

  /**
   * Upload only: the chain of `certificate`, ordered from its issuer to the root.
   *
   * @default - no chain
   */
  readonly certificateChain?: CertificatePem;

  /**
   * What happens to the KMS certificate when it is removed from the stack or replaced. DESTROY
   * calls DeleteCertificate, which deletes the private key too and cannot be undone; RETAIN keeps
   * it. A certificate created here is re-creatable from its inputs, and a replacement must remove
   * the old one, hence DESTROY; a certificate given by `certificateId` was created outside, hence
   * RETAIN.
   *
   * @default RemovalPolicy.DESTROY when KMS creates the certificate; RemovalPolicy.RETAIN with `certificateId`
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * With `removalPolicy` DESTROY: set the certificate INACTIVE (UpdateCertificateStatus) instead
   * of deleting it, so its key survives and it can be re-activated.
   *
   * @default false
   */
  readonly deactivateOnDelete?: boolean;
}

/**
 * A certificate in Alibaba Cloud KMS Certificates Manager, whose private key never leaves KMS.
 *
 * With `issuer` and `subject`, KMS creates the key pair and a CSR (CreateCertificate), the ACM
 * Private CA signs the CSR (IssueCertificate), and the certificate and its chain are uploaded
 * (UploadCertificate). With `certificateId` and `certificate`, the handler uploads the certificate
 * to a KMS certificate created elsewhere.
 *
 * The handler reaches KMS over the network: by default the public endpoint
 * `kms.<regionId>.aliyuncs.com:443`, which needs internet egress (a NAT gateway when `vpc` is
 * set); a KMS VPC endpoint needs a VPN or Express Connect route from `vpc`.
 *
 * @resource Custom::AlibabaKmsCertificate
 */
export class AlibabaKmsCertificate extends AlibabaKmsCertificateBase implements ITaggable {
  /**
   * Imports a KMS certificate by its ID.
   */
  public static fromCertificateId(scope: Construct, id: string, certificateId: string): IAlibabaKmsCertificate {
    return AlibabaKmsCertificate.fromCertificateAttributes(scope, id, { certificateId });
  }

  /**
   * Imports a KMS certificate from its attributes.
   */
  public static fromCertificateAttributes(scope: Construct, id: string, attrs: AlibabaKmsCertificateAttributes): IAlibabaKmsCertificate {
    checkWhenKnown(scope, 'certificateId', attrs.certificateId, certificateIdProblem);
    class Import extends AlibabaKmsCertificateBase {
      public readonly certificateId = attrs.certificateId;
      public get certificateArn(): string {
        return importedAttribute(attrs.certificateArn, 'certificateArn', 'fromCertificateAttributes', 'pass it to use the ARN', this);
      }
    }
    return new Import(scope, id);
  }

  public readonly certificateId: string;
  public readonly certificateArn: string;

  /**
   * The serial number of the certificate, as KMS reports it (hex).
   *
   * @attribute
   */
  public readonly serialNumber: string;

  /**
   * When the certificate expires (ISO 8601).
   *
   * @attribute
   */
  public readonly notAfter: string;

  /**
   * Tags applied to the KMS certificate (at most ten).
   */
  public readonly tags: TagManager;

  constructor(scope: Construct, id: string, props: AlibabaKmsCertificateProps) {
    super(scope, id);

    const upload = props.certificateId !== undefined || props.certificate !== undefined;
    this.validateCommon(props, upload);
    const endpoint = this.endpointOf(props.endpoint);
    const removalPolicy = statefulRemovalPolicy(this, props.removalPolicy, upload ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    if (props.deactivateOnDelete && removalPolicy.handler === 'retain') {
      throw new CertificateInputError('deactivateOnDelete',
        'has no effect with removalPolicy RETAIN (CloudFormation then never asks the handler to delete); use removalPolicy DESTROY with it, or drop it', this);
    }

    const provider = handlerProvider(this, {
      handlerName: 'alibaba-kms-certificate',
      description: 'cdk-certificates: Alibaba Cloud KMS certificates (CreateCertificate, ACM Private CA signing, UploadCertificate)',
      isComplete: true,
      // isComplete signs and uploads in one invocation: the wait for issuance (3 minutes at most)
      // plus throttling backoff fit well inside.
      timeout: Duration.minutes(10),
      queryInterval: Duration.seconds(10),
      totalTimeout: Duration.minutes(30),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
    });
    grantSecretValueRead(props.credentials, provider.grantPrincipal);

    this.tags = new TagManager(TagType.KEY_VALUE, ALIBABA_KMS_CERTIFICATE_RESOURCE_TYPE);

    const common = {
      RegionId: props.regionId,
      Endpoint: endpoint?.host,
      Protocol: endpoint?.protocol ?? 'https',
      CredentialsSecretArn: props.credentials.secretArn,
      RemovalPolicy: removalPolicy.handler,
      DeactivateOnDelete: props.deactivateOnDelete ? 'true' : 'false',
    } as const;
    const properties: AlibabaKmsCertificateResourceProperties = upload
      ? { ...common, ...this.uploadProperties(props, provider) }
      : { ...common, ...this.createProperties(props, provider) };

    const resource = new HandlerResource<AlibabaKmsCertificateResourceProperties, AlibabaKmsCertificateResourceAttributes>(this, 'Resource', {
      provider,
      resourceType: ALIBABA_KMS_CERTIFICATE_RESOURCE_TYPE,
      properties,
      removalPolicy,
      tags: this.tags,
      tagRules: ALIBABA_TAG_RULES,
    });

    this.certificateId = resource.attr('CertificateId');
    this.certificateArn = resource.attr('Arn');
    this.serialNumber = resource.attr('SerialNumber');
    this.notAfter = resource.attr('NotAfter');
  }

  private validateCommon(props: AlibabaKmsCertificateProps, upload: boolean): void {
    const region = props.regionId;
    if (region === undefined || !Token.isUnresolved(region)) {
      const problem = regionIdProblem(region);
      if (problem) {
        throw new CertificateInputError('regionId', problem, this);
      }
    }
    if (props.credentials === undefined) {
      throw new CertificateInputError('credentials', 'is required: a Secrets Manager secret holding {"accessKeyId", "accessKeySecret"} as JSON', this);
    }
    if (props.vpcSubnets !== undefined && props.vpc === undefined) {
      throw new CertificateInputError('vpcSubnets', 'needs vpc: give the VPC the subnets belong to', this);
    }
    if (upload) {
      const createOnly: Array<[string, unknown]> = [
        ['issuer', props.issuer], ['subject', props.subject], ['subjectAlternativeNames', props.subjectAlternativeNames],
        ['keySpec', props.keySpec], ['exportablePrivateKey', props.exportablePrivateKey], ['template', props.template],
        ['validity', props.validity],
      ];
      const misplaced = createOnly.find(([, value]) => value !== undefined);
      if (misplaced) {
        throw new CertificateInputError(misplaced[0],
          'applies only when KMS creates the certificate; with certificateId the certificate is only uploaded (remove certificateId and certificate to create one)', this);
      }
    } else if (props.certificateChain !== undefined) {
      throw new CertificateInputError('certificateChain',
        'applies only with certificateId and certificate (upload only); a created certificate gets its chain from issuer', this);
    }
  }

  private endpointOf(endpoint: string | undefined): { host: string; protocol: 'https' | 'http' } | undefined {
    if (endpoint === undefined) {
      return undefined;
    }
    if (Token.isUnresolved(endpoint)) {
      // Parsed (and checked) by the handler at deploy.
      return { host: endpoint, protocol: 'https' };
    }
    const parsed = parseEndpoint(endpoint);
    if (typeof parsed === 'string') {
      throw new CertificateInputError('endpoint', parsed, this);
    }
    return parsed;
  }

  private createProperties(props: AlibabaKmsCertificateProps, provider: HandlerProvider): ModeProperties {
    if (props.issuer === undefined) {
      throw new CertificateInputError('issuer',
        'is required: give the ACM Private CA that signs the certificate KMS creates (with subject), or give certificateId and certificate to upload a certificate', this);
    }
    const subject = this.validateSubject(props.subject);
    const sans = props.subjectAlternativeNames;
    if (sans !== undefined && !Token.isUnresolved(sans) && sans.every((s) => !Token.isUnresolved(s))) {
      const problem = subjectAlternativeNamesProblem(sans);
      if (problem) {
        throw new CertificateInputError('subjectAlternativeNames', problem, this);
      }
    }
    const keySpec = props.keySpec ?? AlibabaKeySpec.RSA_2048;
    if (keySpec === AlibabaKeySpec.EC_SM2) {
      throw new CertificateInputError('keySpec',
        'EC_SM2 cannot be used with issuer: ACM Private CA cannot sign an SM2 CSR. Use RSA_2048 or EC_P256, or sign an SM2 CSR with another CA and upload it with certificateId', this);
    }
    const validityDays = this.validityDays(props.validity, props.issuer);
    const template = props.template ?? CertificateTemplate.END_ENTITY;
    const caArn = props.issuer.certificateAuthorityArn;
    this.grantIssue(provider, caArn, template.templateArn);
    return {
      Mode: 'create',
      Subject: subject,
      SubjectAlternativeNames: sans !== undefined && (Token.isUnresolved(sans) || sans.length > 0) ? sans : undefined,
      KeySpec: keySpec.value as AlibabaKeySpecName,
      ExportablePrivateKey: props.exportablePrivateKey ? 'true' : 'false',
      CertificateAuthorityArn: caArn,
      TemplateArn: template.templateArn,
      ValidityDays: String(validityDays),
    };
  }

  private uploadProperties(props: AlibabaKmsCertificateProps, provider: HandlerProvider): ModeProperties {
    if (props.certificateId === undefined) {
      throw new CertificateInputError('certificateId', 'is required with certificate: the ID of the KMS certificate to upload it to', this);
    }
    if (props.certificate === undefined) {
      throw new CertificateInputError('certificate', 'is required with certificateId: the certificate to upload, issued for that KMS certificate\'s CSR', this);
    }
    checkWhenKnown(this, 'certificateId', props.certificateId, certificateIdProblem);
    checkCertificateAtSynth(this, 'certificate', props.certificate);
    if (props.certificateChain) {
      checkChainAtSynth(this, 'certificateChain', props.certificateChain, { leaf: props.certificate });
    }
    return {
      Mode: 'upload',
      CertificateId: props.certificateId,
      Certificate: props.certificate._bind(this, provider.grantPrincipal),
      CertificateChain: props.certificateChain?._bind(this, provider.grantPrincipal),
    };
  }

  private validateSubject(subject: AlibabaCertificateSubject | undefined): AlibabaSubjectProps {
    if (subject === undefined) {
      throw new CertificateInputError('subject', 'is required with issuer: KMS needs a subject with commonName, country, organization and organizationalUnit', this);
    }
    const values: Record<string, string | undefined> = {
      CommonName: subject.commonName,
      Country: subject.country,
      Organization: subject.organization,
      OrganizationalUnit: subject.organizationalUnit,
      State: subject.state,
      Locality: subject.locality,
    };
    for (const rule of ALIBABA_SUBJECT.fields) {
      const value = values[rule.field];
      if (value !== undefined && Token.isUnresolved(value)) {
        continue;
      }
      const problem = ALIBABA_SUBJECT.problem(rule, value);
      if (problem) {
        throw new CertificateInputError(rule.property, problem, this);
      }
    }
    return values as unknown as AlibabaSubjectProps;
  }

  private validityDays(validity: Duration | undefined, issuer: IIssuingCertificateAuthority): number {
    const chosen = validity ?? Duration.days(365);
    if (chosen.isUnresolved()) {
      throw new CertificateInputError('validity', 'must be known at synth (not a token)', this);
    }
    const days = chosen.toDays({ integral: false });
    const problem = validityDaysProblem(days, String(days), 1);
    if (problem) {
      throw new CertificateInputError('validity', problem, this);
    }
    const caValidity = issuer.certificateValidity;
    if (caValidity !== undefined && !caValidity.isUnresolved() && days >= caValidity.toDays({ integral: false })) {
      throw new CertificateInputError('validity',
        `${days} days is not shorter than the issuer's own validity (${caValidity.toDays({ integral: false })} days); a certificate cannot outlive its CA: `
        + `${validity === undefined ? 'the default is 365 days, so set' : 'set'} a shorter validity`, this);
    }
    return days;
  }

  /** The CA alone: issue only with this template; read the certificates and the CA's key type. */
  private grantIssue(provider: HandlerProvider, caArn: string, templateArn: string): void {
    grantStatement(provider, new iam.PolicyStatement({
      actions: ['acm-pca:IssueCertificate'],
      resources: [caArn],
      conditions: { StringEquals: { 'acm-pca:TemplateArn': templateArn } },
    }));
    grantStatement(provider, new iam.PolicyStatement({
      actions: ['acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificate'],
      resources: [caArn],
    }));
  }
}
