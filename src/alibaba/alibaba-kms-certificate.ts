import {
  Duration,
  ITaggable,
  RemovalPolicy,
  Resource,
  TagManager,
  TagType,
  Token,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  AlibabaCertificateSubject,
  AlibabaKeySpec,
  AlibabaKmsCertificateAttributes,
  AlibabaKmsCertificateProps,
  IAlibabaKmsCertificate,
} from './alibaba-kms-certificate-props';
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
import { CertificateInputError, checkWhenKnown, importedAttribute } from '../private/errors';
import { grantSecretValueRead, grantStatement } from '../private/grants';
import { HandlerResource, handlerProvider, statefulRemovalPolicy } from '../private/handler-resource';
import type { HandlerProvider } from '../private/provider';
import { checkCertificateAtSynth, checkChainAtSynth } from '../private/synth-checks';

// The family's public parts, re-exported here so that this module is the family's one entry.
export * from './alibaba-kms-certificate-props';

/** What each mode adds to the properties every certificate has. */
type ModeProperties = Pick<AlibabaKmsCertificateResourceProperties, 'Mode'> & Partial<AlibabaKmsCertificateResourceProperties>;

abstract class AlibabaKmsCertificateBase extends Resource implements IAlibabaKmsCertificate {
  public abstract readonly certificateId: string;
  public abstract readonly certificateArn: string;
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
