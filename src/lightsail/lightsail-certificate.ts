import {
  Annotations,
  ArnFormat,
  Aws,
  CustomResource,
  Duration,
  Fn,
  ITaggable,
  RemovalPolicy,
  Resource,
  Stack,
  TagManager,
  TagType,
  Token,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { validateLightsailCertificate } from './lightsail-certificate-checks';
import { ILightsailCertificate, LightsailCertificateAttributes, LightsailCertificateProps, LightsailValidationRecord } from './lightsail-certificate-props';
import {
  LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE,
  CERTIFICATE_NAME_HASH_LENGTH,
  LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE,
  DISTRIBUTION_REGION,
  GENERATED_NAME_MAX_LENGTH,
  LightsailAttachmentResourceProperties,
  LIGHTSAIL_TAG_RULES,
  LightsailCertificateResourceAttributes,
  LightsailCertificateResourceProperties,
  LightsailValidationResourceAttributes,
  LightsailValidationResourceProperties,
  LIGHTSAIL_VALIDATION_RESOURCE_TYPE,
  VALIDATION_RECORD_TYPE,
  certificateNameProblem,
  normalizeDomain,
  recordLabelAttribute,
  recordValueAttribute,
  regionProblem,
} from '../contract/lightsail-certificate';
import { OWNER_STACK_TAG } from '../contract/tags';
import { CertificateInputError, checkWhenKnown, importedAttribute } from '../private/errors';
import { grantStatement, ownedByStack } from '../private/grants';
import { HandlerResource, handlerProvider, statefulRemovalPolicy, StatefulRemovalPolicy } from '../private/handler-resource';
import { namePrefix } from '../private/names';
import type { HandlerProvider } from '../private/provider';

// The family's public parts, re-exported here so that this module is the family's one entry.
export * from './lightsail-certificate-props';

/** The default wait for ISSUED: DNS validation usually takes minutes once the records resolve. */
const DEFAULT_VALIDATION_TIMEOUT = Duration.minutes(45);
/** Above MAX_VALIDATION_TIMEOUT (lightsail-certificate-checks.ts), so the handler's own timeout fires first. */
const PROVIDER_TOTAL_TIMEOUT = Duration.minutes(55);

/** Warning ids users acknowledge with `Annotations.of(scope).acknowledgeWarning(...)`. */
const ATTACH_BEFORE_ISSUED_WARNING = 'cdk-certificates:lightsailAttachWithoutWaiting';
const SHARED_RECORD_WARNING = 'cdk-certificates:lightsailSharedValidationRecord';

// Hosted zone + domain -> path of the construct that creates its validation record, per stack.
const recordOwners = new WeakMap<Stack, Map<string, string>>();

/** The stack's provider for this handler kind (one per stack, whatever the number of certificates). */
function lightsailProvider(scope: Construct): HandlerProvider {
  return handlerProvider(scope, {
    handlerName: 'lightsail-certificate',
    description: 'cdk-certificates: Lightsail certificates (CreateCertificate), their validation and attachments',
    isComplete: true,
    // onEvent may wait 5 minutes for a detach to finish before deleting a certificate.
    timeout: Duration.minutes(10),
    queryInterval: Duration.seconds(15),
    totalTimeout: PROVIDER_TOTAL_TIMEOUT,
  });
}

abstract class LightsailCertificateBase extends Resource implements ILightsailCertificate {
  public abstract readonly certificateArn: string;
  public abstract readonly certificateName: string;
  /** The region that holds the certificate. */
  public abstract readonly region: string;
  /** What happens to the distribution attachments this certificate makes when it goes. */
  protected abstract readonly removalPolicyForAttachments: RemovalPolicy;
  /** Every domain of the certificate, when known (the public domain configuration uses them). */
  protected abstract readonly allDomainNames?: string[];
  /** False when the certificate may still be pending validation when attached. */
  protected abstract readonly issuedBeforeUse: boolean;
  private attachments = 0;

  public attachToDistribution(distributionName: string): CustomResource {
    if (!Token.isUnresolved(this.region) && this.region !== DISTRIBUTION_REGION) {
      throw new CertificateInputError('region', `attachToDistribution needs a certificate in ${DISTRIBUTION_REGION} (Lightsail distributions use only certificates there), but this one is in ${this.region}; set forDistribution: true`, this);
    }
    if (!Token.isUnresolved(distributionName) && distributionName.length === 0) {
      throw new CertificateInputError('distributionName', 'must not be empty', this);
    }
    if (!this.issuedBeforeUse) {
      Annotations.of(this).addWarningV2(ATTACH_BEFORE_ISSUED_WARNING,
        'attachToDistribution: the deployment does not wait for this certificate to be ISSUED (waitForValidation is false), and Lightsail attaches only issued certificates: the attach fails until validation completes. Give a hostedZone or set waitForValidation: true.');
    }
    const provider = lightsailProvider(this);
    const stack = Stack.of(this);
    const arn = (resource: string) => stack.formatArn({
      service: 'lightsail',
      region: DISTRIBUTION_REGION,
      resource,
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    // Distribution and certificate ARNs end in random IDs unknown before deploy: scoped to the
    // account's distributions and certificates in us-east-1, the narrowest Lightsail allows.
    grantStatement(provider, new iam.PolicyStatement({
      actions: ['lightsail:AttachCertificateToDistribution'],
      resources: [arn('Certificate'), arn('Distribution')],
    }));
    grantStatement(provider, new iam.PolicyStatement({
      actions: ['lightsail:DetachCertificateFromDistribution'],
      resources: [arn('Distribution')],
    }));
    grantStatement(provider, new iam.PolicyStatement({
      // Neither read action supports resource-level permissions.
      actions: ['lightsail:GetDistributions', 'lightsail:GetCertificates'],
      resources: ['*'],
    }));

    const id = Token.isUnresolved(distributionName) ? `DistributionAttachment${++this.attachments}` : `DistributionAttachment-${distributionName}`;
    const attachmentPolicy = statefulRemovalPolicy(this, this.removalPolicyForAttachments);
    const properties: LightsailAttachmentResourceProperties = {
      Region: this.region,
      CertificateName: this.certificateName,
      DistributionName: distributionName,
      RemovalPolicy: attachmentPolicy.handler,
    };
    const resource = new CustomResource(this, id, {
      serviceToken: provider.serviceToken,
      resourceType: LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE,
      properties: properties as unknown as Record<string, unknown>,
      removalPolicy: attachmentPolicy.removalPolicy,
    });
    resource.node.addDependency(provider.role);
    return resource;
  }

  public publicDomainName(domainNames?: string[]): lightsail.CfnContainer.PublicDomainNameProperty {
    const names = domainNames ?? this.allDomainNames;
    if (names === undefined) {
      throw new CertificateInputError('domainNames', 'publicDomainName() of an imported certificate needs the domain names the container service answers', this);
    }
    return { certificateName: this.certificateName, domainNames: names };
  }
}

/**
 * A Lightsail SSL/TLS certificate (CreateCertificate) for Lightsail distributions and container
 * services, validated by DNS for you.
 *
 * `AWS::Lightsail::Certificate` returns only an ARN and a status, so its validation records cannot
 * be created in the same app and the certificate stays PENDING_VALIDATION. This construct returns
 * the records as attributes, creates them in a Route 53 hosted zone when given one, and waits (after
 * the records exist) until the certificate is ISSUED, failing with Lightsail's reason otherwise.
 *
 * @resource Custom::LightsailCertificate
 */
export class LightsailCertificate extends LightsailCertificateBase implements ITaggable {
  /**
   * Imports a certificate by name, in the stack's region.
   */
  public static fromCertificateName(scope: Construct, id: string, certificateName: string): ILightsailCertificate {
    return LightsailCertificate.fromCertificateAttributes(scope, id, { certificateName });
  }

  /**
   * Imports a certificate from its attributes.
   */
  public static fromCertificateAttributes(scope: Construct, id: string, attrs: LightsailCertificateAttributes): ILightsailCertificate {
    checkWhenKnown(scope, 'certificateName', attrs.certificateName, certificateNameProblem);
    checkWhenKnown(scope, 'region', attrs.region, regionProblem);
    class Import extends LightsailCertificateBase {
      public readonly certificateName = attrs.certificateName;
      public readonly region = attrs.region ?? Stack.of(scope).region;
      protected readonly removalPolicyForAttachments = RemovalPolicy.DESTROY;
      protected readonly allDomainNames = undefined;
      // An existing certificate is taken to be issued; the handler checks before attaching.
      protected readonly issuedBeforeUse = true;
      public get certificateArn(): string {
        return importedAttribute(attrs.certificateArn, 'certificateArn', 'fromCertificateAttributes',
          'a Lightsail certificate ARN ends in a random ID, so pass it to use the ARN', this);
      }
    }
    return new Import(scope, id);
  }

  /**
   * The ARN of the certificate. When the construct waits for validation, it resolves only after
   * the certificate is ISSUED, so whatever uses it is deployed after validation.
   */
  public readonly certificateArn: string;

  /**
   * The name of the certificate. When the construct waits for validation, it resolves only after
   * the certificate is ISSUED, so whatever uses it is deployed after validation.
   */
  public readonly certificateName: string;

  /**
   * The certificate's status: `ISSUED` when the construct waits for validation; otherwise the
   * status at the last deployment (usually `PENDING_VALIDATION`).
   *
   * @attribute
   */
  public readonly status: string;

  /**
   * The DNS records that validate the certificate, one per distinct domain, in order: the domain
   * name, then the subject alternative names. Create them in your DNS when it is not Route 53.
   */
  public readonly validationRecords: LightsailValidationRecord[];

  /** The distinct domains of the certificate: the domain name first, then the alternative names. */
  public readonly domainNames: string[];

  /** The region that holds the certificate. */
  public readonly region: string;

  /** Tags applied to the Lightsail certificate. */
  public readonly tags: TagManager;

  /** The Route 53 validation records, when a hosted zone was given. */
  public readonly validationRecordSets: route53.CfnRecordSet[];

  protected readonly removalPolicyForAttachments: RemovalPolicy;
  protected readonly allDomainNames?: string[];
  protected readonly issuedBeforeUse: boolean;

  constructor(scope: Construct, id: string, props: LightsailCertificateProps) {
    super(scope, id, { physicalName: props.certificateName });

    const forDistribution = props.forDistribution ?? false;
    this.region = props.region ?? (forDistribution ? DISTRIBUTION_REGION : Stack.of(this).region);
    const subjectAlternativeNames = validateLightsailCertificate(this, props, forDistribution);
    this.domainNames = [Token.isUnresolved(props.domainName) ? props.domainName : normalizeDomain(props.domainName), ...subjectAlternativeNames];
    this.allDomainNames = this.domainNames;
    const waitForValidation = props.waitForValidation ?? props.hostedZone !== undefined;
    this.issuedBeforeUse = waitForValidation;
    const validationTimeout = props.validationTimeout ?? DEFAULT_VALIDATION_TIMEOUT;
    const removalPolicy = statefulRemovalPolicy(this, props.removalPolicy);
    this.removalPolicyForAttachments = removalPolicy.removalPolicy;

    const provider = lightsailProvider(this);
    this.grantLightsail(provider);

    this.tags = new TagManager(TagType.KEY_VALUE, LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE);
    const properties: LightsailCertificateResourceProperties = {
      Region: this.region,
      DomainName: props.domainName,
      SubjectAlternativeNames: subjectAlternativeNames.length > 0 ? subjectAlternativeNames : undefined,
      CertificateName: props.certificateName,
      NamePrefix: props.certificateName === undefined
        ? namePrefix(this, GENERATED_NAME_MAX_LENGTH, CERTIFICATE_NAME_HASH_LENGTH + 1)
        : undefined,
      RemovalPolicy: removalPolicy.handler,
      RecordCount: String(this.domainNames.length),
    };
    // 1. The certificate: returns its validation records at once, without waiting for ISSUED.
    const certificate = new HandlerResource<LightsailCertificateResourceProperties, LightsailCertificateResourceAttributes>(this, 'Resource', {
      provider,
      resourceType: LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE,
      properties,
      removalPolicy,
      tags: this.tags,
      tagRules: LIGHTSAIL_TAG_RULES,
    });

    // The handler returns only what is unknown at synth (its response is limited to 4096 bytes):
    // the label(s) before each domain in the record's name, and the record's value.
    this.validationRecords = this.domainNames.map((domain, i) => ({
      domainName: domain,
      recordName: Fn.join('', [certificate.dynamicAttr(recordLabelAttribute(i)), '.', domain, '.']),
      recordType: VALIDATION_RECORD_TYPE,
      recordValue: certificate.dynamicAttr(recordValueAttribute(i)),
    }));

    // 2. The DNS records, from the certificate's attributes (so they depend on it).
    this.validationRecordSets = props.hostedZone
      ? this.createRecords(props.hostedZone, removalPolicy)
      : [];

    // 3. The wait for ISSUED, after every record exists: only then can validation succeed.
    let validation: HandlerResource<LightsailValidationResourceProperties, LightsailValidationResourceAttributes> | undefined;
    if (waitForValidation) {
      const validationProps: LightsailValidationResourceProperties = {
        Region: this.region,
        CertificateName: certificate.attr('CertificateName'),
        CertificateArn: certificate.attr('CertificateArn'),
        TimeoutSeconds: String(validationTimeout.toSeconds()),
      };
      validation = new HandlerResource(this, 'Validation', {
        provider,
        resourceType: LIGHTSAIL_VALIDATION_RESOURCE_TYPE,
        properties: validationProps,
      });
      for (const record of this.validationRecordSets) {
        validation.node.addDependency(record);
      }
    }

    // Read from the wait step when there is one, so users of these are deployed once ISSUED.
    const attributes = validation ?? certificate;
    this.certificateArn = attributes.attr('CertificateArn');
    this.certificateName = attributes.attr('CertificateName');
    this.status = attributes.attr('Status');
  }

  private createRecords(
    zone: route53.IHostedZone,
    removalPolicy: StatefulRemovalPolicy,
  ): route53.CfnRecordSet[] {
    return this.domainNames.map((domain, i) => {
      const validationRecord = this.validationRecords[i];
      // Named by domain, so adding or removing a domain leaves the other records in place (an
      // index-named record would be renamed, and Route 53 refuses a second record of one name).
      const id = Token.isUnresolved(domain) ? `ValidationRecord${i}` : `ValidationRecord-${normalizeDomain(domain)}`;
      const record = new route53.CfnRecordSet(this, id, {
        hostedZoneId: zone.hostedZoneId,
        name: validationRecord.recordName,
        type: validationRecord.recordType,
        ttl: '60',
        resourceRecords: [validationRecord.recordValue],
      });
      // Renewal revalidates through the same records: they live as long as the certificate.
      record.applyRemovalPolicy(removalPolicy.removalPolicy);
      this.noteRecordOwner(zone, domain, i);
      return record;
    });
  }

  /**
   * Two certificates of one stack validating the same domain through the same zone: the
   * validation record of a domain is usually the same for every certificate of an account, and
   * Route 53 refuses a second record of one name.
   */
  private noteRecordOwner(zone: route53.IHostedZone, domain: string, index: number): void {
    if (Token.isUnresolved(domain)) {
      return;
    }
    const stack = Stack.of(this);
    const owners = recordOwners.get(stack) ?? new Map<string, string>();
    recordOwners.set(stack, owners);
    const key = `${zone.node.path}|${normalizeDomain(domain)}`;
    const owner = owners.get(key);
    if (owner === undefined) {
      owners.set(key, this.node.path);
      return;
    }
    Annotations.of(this).addWarningV2(SHARED_RECORD_WARNING,
      `${index === 0 ? 'domainName' : 'subjectAlternativeNames'}: ${owner} already creates the validation record of '${domain}' in this hosted zone; `
      + 'when Lightsail gives both certificates the same record, Route 53 refuses the second one. Omit hostedZone here and set waitForValidation: true to rely on the other record.');
  }

  /**
   * Lightsail certificate ARNs end in a random ID, so they are unknown before deploy: the scope is
   * the ownership tag the handler sets. CreateCertificate only with this stack's ID in the request's
   * tags; DeleteCertificate and tag changes only on certificates whose tag names this stack
   * (aws:ResourceTag), in the certificate's region. The Get* reads support no resource-level
   * permissions.
   */
  private grantLightsail(provider: HandlerProvider): void {
    grantStatement(provider, new iam.PolicyStatement({
      actions: [
        'lightsail:GetCertificates',
        // Only to name what still uses a certificate that cannot be deleted.
        'lightsail:GetDistributions',
        'lightsail:GetContainerServices',
      ],
      resources: ['*'],
    }));
    grantStatement(provider, new iam.PolicyStatement({
      actions: ['lightsail:CreateCertificate'],
      resources: ['*'],
      conditions: { StringEquals: { [`aws:RequestTag/${OWNER_STACK_TAG}`]: Aws.STACK_ID } },
    }));
    grantStatement(provider, new iam.PolicyStatement({
      actions: ['lightsail:DeleteCertificate', 'lightsail:TagResource', 'lightsail:UntagResource'],
      resources: [Stack.of(this).formatArn({
        service: 'lightsail',
        region: this.region,
        resource: 'Certificate',
        resourceName: '*',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      })],
      conditions: ownedByStack(),
    }));
  }
}
