import {
  ArnFormat,
  Aws,
  Duration,
  IResource,
  ITaggable,
  RemovalPolicy,
  Resource,
  Stack,
  TagManager,
  TagType,
  Token,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  checkDmsCertificatePem,
  DMS_CERTIFICATE_IDENTIFIER_MAX_LENGTH,
  DMS_CERTIFICATE_RESOURCE_TYPE,
  DMS_TAG_RULES,
  DmsCertificateResourceAttributes,
  DmsCertificateResourceProperties,
  dmsCertificateIdentifierProblem,
} from '../contract/dms-certificate';
import { OWNER_STACK_TAG } from '../contract/tags';
import { ExpiryNotificationOptions } from '../expiry/expiry-notifications';
import { ExpiryNotices, notAfterAtSynth } from '../expiry/notices';
import { CertificatePem } from '../material/certificate-material';
import { CertificateWallet } from '../material/certificate-wallet';
import { CertificateInputError, checkWhenKnown } from '../private/errors';
import { grantStatement, ownedByStack } from '../private/grants';
import { HandlerResource, handlerProvider, statefulRemovalPolicy } from '../private/handler-resource';
import { NAME_HASH_LENGTH, namePrefix } from '../private/names';
import type { HandlerProvider } from '../private/provider';
import { checkBundleAtSynth } from '../private/synth-checks';

/**
 * A certificate imported into AWS Database Migration Service.
 */
export interface IDmsCertificate extends IResource {
  /**
   * The ARN of the DMS certificate: what `dms.CfnEndpoint`'s `certificateArn` takes.
   *
   * @attribute
   */
  readonly certificateArn: string;
}

abstract class DmsCertificateBase extends Resource implements IDmsCertificate {
  public abstract readonly certificateArn: string;
}

/**
 * Properties of a `DmsCertificate`.
 */
export interface DmsCertificateProps {
  /**
   * The certificate(s) DMS should trust, in PEM: typically the CA that issued the database
   * server's certificate (a `PrivateCa`'s certificate or chain, or a bundle such as the RDS one).
   *
   * Exactly one of `certificatePem` and `certificateWallet` must be given.
   *
   * @default - none; `certificateWallet` must be given
   */
  readonly certificatePem?: CertificatePem;

  /**
   * An Oracle wallet (`.sso` file) for Oracle endpoints that use SSL, passed to DMS as bytes.
   *
   * Exactly one of `certificatePem` and `certificateWallet` must be given.
   *
   * @default - none; `certificatePem` must be given
   */
  readonly certificateWallet?: CertificateWallet;

  /**
   * The DMS certificate identifier: 1 to 255 ASCII letters, digits and hyphens, beginning with a
   * letter, not ending with a hyphen, without two consecutive hyphens.
   *
   * DMS cannot change a certificate's content, and one identifier names one certificate: with a
   * fixed identifier, new content (or a new `kmsKey`) needs a new identifier too.
   *
   * @default - an identifier built from the construct path and a hash of the content and key, so
   * new content gets a new certificate that replaces the old one without a clash
   */
  readonly certificateIdentifier?: string;

  /**
   * The KMS key DMS encrypts the certificate with. The handler's role is allowed to use it
   * through DMS only.
   *
   * @default - DMS's default key for the account and region
   */
  readonly kmsKey?: kms.IKey;

  /**
   * What happens to the DMS certificate when it is removed from the stack or replaced.
   *
   * `DESTROY` suits most uses: replacement (new content) must remove the old certificate, and a
   * certificate can always be imported again from its inputs.
   *
   * RETAIN_ON_UPDATE_OR_DELETE retains as RETAIN does (and a failed first deploy still cleans up);
   * SNAPSHOT is refused: there is nothing to snapshot.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A certificate imported into AWS DMS (ImportCertificate), for endpoints that connect with SSL.
 *
 * Unlike `AWS::DMS::Certificate`, it takes tags (from `Tags.of()`) and a KMS key, accepts every
 * certificate source of this library (a `PrivateCa`'s certificate, a secret, a parameter, a file)
 * or an Oracle wallet, checks the PEM and the identifier at synth, and gives new content a new
 * identifier so replacement never clashes.
 *
 * @resource Custom::DmsCertificate
 */
export class DmsCertificate extends DmsCertificateBase implements ITaggable {
  /**
   * Imports a DMS certificate by its ARN (`arn:<partition>:dms:<region>:<account>:cert:<id>`).
   */
  public static fromCertificateArn(scope: Construct, id: string, certificateArn: string): IDmsCertificate {
    if (!Token.isUnresolved(certificateArn)) {
      const ok = /^arn:[a-z0-9-]+:dms:[a-z0-9-]+:\d{12}:cert:[A-Za-z0-9-]+$/.test(certificateArn);
      if (!ok) {
        throw new CertificateInputError('certificateArn',
          `'${certificateArn}' is not a DMS certificate ARN; expected arn:<partition>:dms:<region>:<account>:cert:<id>`, scope);
      }
    }
    class Import extends DmsCertificateBase {
      public readonly certificateArn = certificateArn;
    }
    return new Import(scope, id, { environmentFromArn: certificateArn });
  }

  public readonly certificateArn: string;

  /**
   * The certificate identifier (the given one, or the generated one).
   *
   * @attribute
   */
  public readonly certificateIdentifier: string;

  /**
   * When the certificate becomes valid (ISO 8601), as DMS reports it; empty if DMS reports none.
   *
   * @attribute
   */
  public readonly validFromDate: string;

  /**
   * When the certificate expires (ISO 8601), as DMS reports it; empty if DMS reports none.
   *
   * @attribute
   */
  public readonly validToDate: string;

  /**
   * The certificate's signing algorithm, as DMS reports it (e.g. `SHA256withRSA`).
   *
   * @attribute
   */
  public readonly signingAlgorithm: string;

  /**
   * The length of the certificate's key in bits, as DMS reports it.
   *
   * @attribute
   */
  public readonly keyLength: number;

  /**
   * The owner of the certificate, as DMS reports it.
   *
   * @attribute
   */
  public readonly certificateOwner: string;

  /**
   * Tags applied to the DMS certificate.
   */
  public readonly tags: TagManager;

  private readonly expiryNotices: ExpiryNotices;

  constructor(scope: Construct, id: string, props: DmsCertificateProps) {
    super(scope, id, { physicalName: props.certificateIdentifier });
    this.validate(props);
    // A bundle stops being entirely valid when its first certificate expires.
    this.expiryNotices = new ExpiryNotices(this, notAfterAtSynth(props.certificatePem?.pemText, 'certificatePem'));

    const provider = handlerProvider(this, {
      handlerName: 'dms-certificate',
      description: 'cdk-certificates: imports DMS certificates (ImportCertificate)',
      // The handler waits up to 10 minutes for endpoints to let go of a certificate it deletes.
      timeout: Duration.minutes(14),
    });
    this.grantDms(provider);
    if (props.kmsKey) {
      this.grantKmsKey(provider, props.kmsKey);
    }

    const prefix = props.certificateIdentifier === undefined
      ? namePrefix(this, DMS_CERTIFICATE_IDENTIFIER_MAX_LENGTH, NAME_HASH_LENGTH + 1)
      : undefined;

    this.tags = new TagManager(TagType.KEY_VALUE, DMS_CERTIFICATE_RESOURCE_TYPE);

    const removalPolicy = statefulRemovalPolicy(this, props.removalPolicy);
    const properties: DmsCertificateResourceProperties = {
      CertificateIdentifier: props.certificateIdentifier,
      NamePrefix: prefix,
      CertificatePem: props.certificatePem?._bind(this, provider.grantPrincipal),
      CertificateWallet: props.certificateWallet?._bind(this, provider.grantPrincipal),
      KmsKeyId: props.kmsKey?.keyArn,
      RemovalPolicy: removalPolicy.handler,
    };

    const resource = new HandlerResource<DmsCertificateResourceProperties, DmsCertificateResourceAttributes>(this, 'Resource', {
      provider,
      resourceType: DMS_CERTIFICATE_RESOURCE_TYPE,
      properties,
      removalPolicy,
      tags: this.tags,
      tagRules: DMS_TAG_RULES,
      renderProperties: () => ({ NotifyDaysBefore: this.expiryNotices.handlerProperty() }),
    });

    this.certificateArn = resource.attr('CertificateArn');
    this.certificateIdentifier = resource.attr('CertificateIdentifier');
    this.validFromDate = resource.attr('ValidFromDate');
    this.validToDate = resource.attr('ValidToDate');
    this.signingAlgorithm = resource.attr('SigningAlgorithm');
    this.keyLength = resource.attrNumber('KeyLength');
    this.certificateOwner = resource.attr('CertificateOwner');
    this.expiryNotices.bind({
      kind: 'DMS certificate',
      certificate: this.certificateArn,
      attribute: name => resource.dynamicAttr(name),
    });
  }

  /**
   * Publishes a notice to an SNS topic a number of days before the certificate expires (for a
   * bundle, its first certificate to expire), through EventBridge Scheduler one-time schedules
   * (no Lambda function, nothing polls). May be called more than once.
   */
  public notifyBeforeExpiry(options: ExpiryNotificationOptions): void {
    this.expiryNotices.add(options);
  }

  private validate(props: DmsCertificateProps): void {
    if (props.certificatePem === undefined && props.certificateWallet === undefined) {
      throw new CertificateInputError('certificatePem',
        'give exactly one of certificatePem (a PEM certificate) or certificateWallet (an Oracle wallet); neither was given', this);
    }
    if (props.certificatePem !== undefined && props.certificateWallet !== undefined) {
      throw new CertificateInputError('certificateWallet',
        'give exactly one of certificatePem or certificateWallet, not both: DMS imports either a PEM certificate or an Oracle wallet', this);
    }
    const identifier = props.certificateIdentifier;
    checkWhenKnown(this, 'certificateIdentifier', identifier, dmsCertificateIdentifierProblem);
    if (props.certificatePem !== undefined) {
      checkBundleAtSynth(this, 'certificatePem', props.certificatePem, checkDmsCertificatePem);
    }
  }

  /**
   * The DMS actions the handler calls, on what this stack owns. DMS certificate ARNs end in an ID
   * DMS chooses (`cert:<random>`), not the identifier, so the scope is the ownership tag the handler
   * sets: ImportCertificate only with this stack's ID in the request's tags (it authorizes the
   * AddTagsToResource for those tags too); DeleteCertificate and tag changes only on certificates
   * whose tag names this stack (aws:ResourceTag), so another stack's, or one made outside the
   * library, is out of reach. ListTagsForResource reads (the handler's own ownership check).
   * DescribeCertificates and DescribeEndpoints support no resource-level permissions (Service
   * Authorization Reference), hence `*`.
   */
  private grantDms(provider: HandlerProvider): void {
    const stack = Stack.of(this);
    const certificates = [stack.formatArn({ service: 'dms', resource: 'cert', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })];
    grantStatement(provider, new iam.PolicyStatement({
      actions: ['dms:ImportCertificate'],
      resources: certificates,
      conditions: { StringEquals: { [`aws:RequestTag/${OWNER_STACK_TAG}`]: Aws.STACK_ID } },
    }));
    grantStatement(provider, new iam.PolicyStatement({
      actions: ['dms:DeleteCertificate', 'dms:AddTagsToResource', 'dms:RemoveTagsFromResource'],
      resources: certificates,
      conditions: ownedByStack(),
    }));
    grantStatement(provider, new iam.PolicyStatement({
      actions: ['dms:ListTagsForResource'],
      resources: certificates,
    }));
    grantStatement(provider, new iam.PolicyStatement({
      // DescribeEndpoints only to name the endpoints that still use a certificate being deleted.
      actions: ['dms:DescribeCertificates', 'dms:DescribeEndpoints'],
      resources: ['*'],
    }));
  }

  /**
   * DMS encrypts the certificate with the key on the caller's behalf: it describes the key,
   * encrypts with it and creates a grant for its own later use (the DMS User Guide lists
   * DescribeKey, CreateGrant, Encrypt and ReEncrypt* for custom keys; ListAliases serves the
   * console only). All of it goes through DMS, so `kms:ViaService` pins the use to DMS in this
   * region and the handler cannot use the key directly.
   */
  private grantKmsKey(provider: HandlerProvider, key: kms.IKey): void {
    const stack = Stack.of(this);
    grantStatement(provider, new iam.PolicyStatement({
      actions: ['kms:DescribeKey', 'kms:CreateGrant', 'kms:Encrypt', 'kms:ReEncrypt*'],
      resources: [key.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `dms.${stack.region}.${stack.urlSuffix}` },
      },
    }));
  }
}
