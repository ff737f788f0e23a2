import { Annotations, ArnFormat, Aws, Duration, ITaggable, RemovalPolicy, Resource, Stack, TagManager, TagType } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { aws_certificatemanager as acmRefs } from 'aws-cdk-lib/interfaces';
import { Construct } from 'constructs';
import {
  ACM_CERTIFICATE_CHAIN_MAX_LENGTH,
  ACM_CERTIFICATE_MAX_LENGTH,
  ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE,
  ACM_REIMPORT_REPLACES_WARNING,
  ACM_TAG_RULES,
  AcmImportedCertificateResourceAttributes,
  AcmImportedCertificateResourceProperties,
  checkAcmCertificate,
  reimportForecast,
} from '../contract/acm-certificate';
import { OWNER_STACK_TAG } from '../contract/tags';
import { CertificateCheckError } from '../contract/x509';
import { ExpiryNotificationOptions } from '../expiry/expiry-notifications';
import { ExpiryNotices, notAfterAtSynth } from '../expiry/notices';
import { CertificatePem, PrivateKey } from '../material/certificate-material';
import { CertificateInputError } from '../private/errors';
import { addToSharedStatement, ownedByStack } from '../private/grants';
import { HandlerResource, handlerProvider, statefulRemovalPolicy } from '../private/handler-resource';
import type { HandlerProvider } from '../private/provider';
import { checkCertificateAtSynth, checkChainAtSynth } from '../private/synth-checks';

/**
 * Properties of an `AcmImportedCertificate`.
 */
export interface AcmImportedCertificateProps {
  /**
   * The certificate (a single PEM certificate). Its key must be one ACM imports: RSA 1024, 2048,
   * 3072 or 4096-bit, or EC on P-256, P-384 or P-521 (CloudFront: RSA or EC P-256).
   */
  readonly certificate: CertificatePem;

  /**
   * The private key of the certificate, unencrypted, at most 5,120 bytes. It is read by the
   * handler at deploy and never placed in the template.
   */
  readonly privateKey: PrivateKey;

  /**
   * The intermediate certificates, ordered from the issuer of `certificate` towards the root.
   *
   * @default - no chain
   */
  readonly certificateChain?: CertificatePem;

  /**
   * What happens to the ACM certificate when it is removed from the stack or replaced.
   *
   * RETAIN_ON_UPDATE_OR_DELETE retains as RETAIN does (and a failed first deploy still cleans up);
   * SNAPSHOT is refused: there is nothing to snapshot.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A certificate from any source imported into AWS Certificate Manager (ImportCertificate): a PEM
 * string or file, a Secrets Manager secret or SSM parameter (pinned to a version for rotation), or
 * a certificate issued by a `PrivateCa`.
 *
 * It is an `acm.ICertificate`: application load balancer listeners, `cloudfront.Distribution`
 * (in us-east-1), API Gateway custom domains and anything else that takes an ACM certificate take
 * it as they take `acm.Certificate`.
 *
 * New material is re-imported in place (the same ARN), so every consumer keeps its certificate
 * ARN: no replacement, no cleanup. Where ACM's re-import rules forbid that (a new key algorithm, or
 * Key Usage / Extended Key Usage values removed or extensions added), the handler imports a new
 * certificate instead, and CloudFormation moves the consumers to it before removing the old one.
 *
 * @resource Custom::AcmImportedCertificate
 */
export class AcmImportedCertificate extends Resource implements acm.ICertificate, ITaggable {
  /**
   * Imports an ACM certificate by its ARN (as `acm.Certificate.fromCertificateArn` does), e.g. one
   * this construct imported in another stack.
   */
  public static fromCertificateArn(scope: Construct, id: string, certificateArn: string): acm.ICertificate {
    return acm.Certificate.fromCertificateArn(scope, id, certificateArn);
  }

  public readonly certificateArn: string;

  /**
   * ACM's key algorithm of the certificate (e.g. `RSA_2048`, `EC_prime256v1`).
   *
   * @attribute
   */
  public readonly keyAlgorithm: string;

  /**
   * When the certificate ACM holds expires (ISO 8601).
   *
   * @attribute
   */
  public readonly notAfter: string;

  /**
   * Tags applied to the ACM certificate.
   */
  public readonly tags: TagManager;

  private readonly resource: HandlerResource<AcmImportedCertificateResourceProperties, AcmImportedCertificateResourceAttributes>;
  private readonly expiryNotices: ExpiryNotices;

  constructor(scope: Construct, id: string, props: AcmImportedCertificateProps) {
    super(scope, id);
    this.validate(props);
    this.expiryNotices = new ExpiryNotices(this, notAfterAtSynth(props.certificate.pemText, 'certificate'));

    const provider = handlerProvider(this, {
      handlerName: 'acm-certificate',
      description: 'cdk-certificates: imports certificates into ACM (ImportCertificate)',
      // The handler retries ResourceInUseException (still used by a listener) for 10 minutes.
      timeout: Duration.minutes(14),
    });
    this.grantAcm(provider);

    this.tags = new TagManager(TagType.KEY_VALUE, ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE);
    const removalPolicy = statefulRemovalPolicy(this, props.removalPolicy, RemovalPolicy.RETAIN);
    const properties: AcmImportedCertificateResourceProperties = {
      Certificate: props.certificate._bind(this, provider.grantPrincipal),
      PrivateKey: props.privateKey._bind(this, provider.grantPrincipal),
      CertificateChain: props.certificateChain?._bind(this, provider.grantPrincipal),
      RemovalPolicy: removalPolicy.handler,
    };

    this.resource = new HandlerResource<AcmImportedCertificateResourceProperties, AcmImportedCertificateResourceAttributes>(this, 'Resource', {
      provider,
      resourceType: ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE,
      properties,
      removalPolicy,
      tags: this.tags,
      tagRules: ACM_TAG_RULES,
      // Every ACM grant is a shared statement this construct depends on (grantAcm); material
      // grants are made by _bind against this construct.
      dependOnGrants: false,
      renderProperties: () => ({ NotifyDaysBefore: this.expiryNotices.handlerProperty() }),
    });

    // The physical ID is the certificate's ARN, kept across re-imports.
    this.certificateArn = this.resource.ref;
    this.keyAlgorithm = this.resource.attr('KeyAlgorithm');
    this.notAfter = this.resource.attr('NotAfter');
    this.expiryNotices.bind({
      kind: 'ACM imported certificate',
      certificate: this.certificateArn,
      attribute: name => this.resource.dynamicAttr(name),
    });
  }

  /**
   * A reference to the certificate, for aws-cdk-lib constructs that take `ICertificateRef`.
   */
  public get certificateRef(): acmRefs.CertificateReference {
    return { certificateId: this.certificateArn };
  }

  /**
   * ACM's `DaysToExpiry` metric of this certificate (namespace `AWS/CertificateManager`), by
   * default the minimum over one day, as for `acm.Certificate`.
   *
   * ACM stops emitting it once the certificate has expired, so an alarm on it should treat missing
   * data as breaching.
   */
  public metricDaysToExpiry(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      period: Duration.days(1),
      ...props,
      dimensionsMap: { CertificateArn: this.certificateArn },
      metricName: 'DaysToExpiry',
      namespace: 'AWS/CertificateManager',
      statistic: cloudwatch.Stats.MINIMUM,
    });
  }

  /**
   * Applies a removal policy to the certificate: to the template and to what the handler does.
   * SNAPSHOT is refused.
   */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    const chosen = statefulRemovalPolicy(this, policy, RemovalPolicy.RETAIN);
    this.resource.applyRemovalPolicy(chosen.removalPolicy);
    this.resource.addPropertyOverride('RemovalPolicy', chosen.handler);
  }

  /**
   * Publishes a notice to an SNS topic a number of days before the certificate expires, through
   * EventBridge Scheduler one-time schedules (no Lambda function, nothing polls). May be called
   * more than once (e.g. one topic per audience).
   */
  public notifyBeforeExpiry(options: ExpiryNotificationOptions): void {
    this.expiryNotices.add(options);
  }

  private validate(props: AcmImportedCertificateProps): void {
    const body = props.certificate.pemText;
    if (body !== undefined && body.length > ACM_CERTIFICATE_MAX_LENGTH) {
      throw new CertificateInputError('certificate', `must be at most ${ACM_CERTIFICATE_MAX_LENGTH} characters, got ${body.length}`, this);
    }
    const chain = props.certificateChain?.pemText;
    if (chain !== undefined && chain.length > ACM_CERTIFICATE_CHAIN_MAX_LENGTH) {
      throw new CertificateInputError('certificateChain', `must be at most ${ACM_CERTIFICATE_CHAIN_MAX_LENGTH} characters, got ${chain.length}`, this);
    }
    checkCertificateAtSynth(this, 'certificate', props.certificate);
    if (body !== undefined) {
      let facts;
      try {
        facts = checkAcmCertificate(body, 'certificate');
      } catch (e) {
        if (e instanceof CertificateCheckError) {
          throw new CertificateInputError(e.property, e.rule, this);
        }
        throw e;
      }
      const forecast = reimportForecast(facts);
      if (forecast) {
        Annotations.of(this).addWarningV2(ACM_REIMPORT_REPLACES_WARNING, `certificate: ${forecast}`);
      }
    }
    if (props.certificateChain) {
      checkChainAtSynth(this, 'certificateChain', props.certificateChain, { leaf: props.certificate });
    }
  }

  /**
   * ACM certificate ARNs are random, so the role is scoped by tag: imports only with this stack's
   * ownership tag in the request; re-imports, tag changes and deletes only of certificates that
   * carry it (aws:ResourceTag).
   */
  private grantAcm(provider: HandlerProvider): void {
    const certificates = [Stack.of(this).formatArn({
      service: 'acm',
      resource: 'certificate',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    })];
    addToSharedStatement(provider, ['acm:DescribeCertificate', 'acm:GetCertificate', 'acm:ListTagsForCertificate'], certificates, this);
    // ListCertificates takes no resource: it finds this resource's earlier import on a retried create.
    addToSharedStatement(provider, ['acm:ListCertificates'], ['*'], this);
    addToSharedStatement(provider, ['acm:ImportCertificate', 'acm:AddTagsToCertificate'], certificates, this, {
      conditions: { StringEquals: { [`aws:RequestTag/${OWNER_STACK_TAG}`]: Aws.STACK_ID } },
    });
    addToSharedStatement(provider, [
      'acm:ImportCertificate',
      'acm:AddTagsToCertificate',
      'acm:RemoveTagsFromCertificate',
      'acm:DeleteCertificate',
    ], certificates, this, { conditions: ownedByStack() });
  }
}
