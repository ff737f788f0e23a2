import {
  ArnFormat,
  Aws,
  CfnResource,
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
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Construct } from 'constructs';
import { countServerCertificate } from './server-certificate-quota';
import {
  CERTIFICATE_BODY_MAX_LENGTH,
  CERTIFICATE_CHAIN_MAX_LENGTH,
  CLOUDFRONT_PATH_PREFIX,
  IAM_TAG_RULES,
  SERVER_CERTIFICATE_NAME_MAX_LENGTH,
  SERVER_CERTIFICATE_RESOURCE_TYPE,
  ServerCertificateResourceAttributes,
  ServerCertificateResourceProperties,
  serverCertificateNameProblem,
  serverCertificatePathProblem,
} from '../contract/server-certificate';
import { OWNER_STACK_TAG } from '../contract/tags';
import { ExpiryNotificationOptions } from '../expiry/expiry-notifications';
import { ExpiryNotices, notAfterAtSynth } from '../expiry/notices';
import { CertificatePem, PrivateKey } from '../material/certificate-material';
import { CertificateInputError, checkWhenKnown, importedAttribute } from '../private/errors';
import { addToSharedStatement, ownedByStack } from '../private/grants';
import { HandlerResource, handlerProvider, statefulRemovalPolicy } from '../private/handler-resource';
import { NAME_HASH_LENGTH, namePrefix, stackNamePrefix } from '../private/names';
import type { HandlerProvider } from '../private/provider';
import { checkCertificateAtSynth, checkChainAtSynth } from '../private/synth-checks';

/**
 * An IAM server certificate.
 */
export interface IServerCertificate extends IResource {
  /**
   * The ARN of the server certificate, e.g. for an ELBv2 listener's certificates.
   *
   * @attribute
   */
  readonly serverCertificateArn: string;

  /**
   * The name of the server certificate.
   *
   * @attribute
   */
  readonly serverCertificateName: string;

  /**
   * The stable unique ID IAM gives the certificate: what CloudFront's IAM certificate option takes.
   *
   * @attribute
   */
  readonly serverCertificateId: string;
}

/**
 * Attributes to import an existing IAM server certificate.
 */
export interface ServerCertificateAttributes {
  /**
   * The name of the server certificate.
   */
  readonly serverCertificateName: string;

  /**
   * The path of the server certificate, used to build its ARN.
   *
   * @default '/'
   */
  readonly path?: string;

  /**
   * The unique ID IAM gave the certificate (needed only for CloudFront).
   *
   * @default - accessing `serverCertificateId` throws
   */
  readonly serverCertificateId?: string;
}

/**
 * How a CloudFront distribution serves HTTPS with an IAM server certificate
 * (see `ServerCertificate.applyToDistribution`).
 */
export interface DistributionCertificateOptions {
  /**
   * The security policy CloudFront offers viewers: the minimum TLS version and its ciphers.
   *
   * @default cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021
   */
  readonly minimumProtocolVersion?: cloudfront.SecurityPolicyProtocol;

  /**
   * How CloudFront serves HTTPS: SNI (what every current client supports) or dedicated IP
   * addresses (`VIP`, which AWS charges for).
   *
   * @default cloudfront.SSLMethod.SNI
   */
  readonly sslSupportMethod?: cloudfront.SSLMethod;
}

abstract class ServerCertificateBase extends Resource implements IServerCertificate {
  public abstract readonly serverCertificateArn: string;
  public abstract readonly serverCertificateName: string;
  public abstract readonly serverCertificateId: string;
}

/**
 * Properties of a `ServerCertificate`.
 */
export interface ServerCertificateProps {
  /**
   * The certificate (a single PEM certificate).
   */
  readonly certificateBody: CertificatePem;

  /**
   * The private key of the certificate. It is read by the handler at deploy and never placed in
   * the template.
   */
  readonly privateKey: PrivateKey;

  /**
   * The intermediate certificates, ordered from the issuer of `certificateBody` towards the root.
   *
   * @default - no chain
   */
  readonly certificateChain?: CertificatePem;

  /**
   * The name of the server certificate.
   *
   * A fixed name cannot take a new body: IAM would refuse a second certificate of the same name,
   * so replacing the body then needs a new name too.
   *
   * @default - a name built from the construct path and a hash of the body and chain, so a new
   * certificate gets a new name and replaces the old one without a clash or downtime
   */
  readonly serverCertificateName?: string;

  /**
   * The IAM path of the server certificate: `/` alone, or beginning and ending with `/`.
   *
   * @default '/cloudfront/' when `forCloudFront` is true, otherwise '/'
   */
  readonly path?: string;

  /**
   * Whether the certificate is for CloudFront, which requires a path beginning with `/cloudfront/`.
   *
   * @default false
   */
  readonly forCloudFront?: boolean;

  /**
   * What happens to the IAM certificate when it is removed from the stack or replaced.
   *
   * RETAIN_ON_UPDATE_OR_DELETE retains as RETAIN does (and a failed first deploy still cleans up);
   * SNAPSHOT is refused: there is nothing to snapshot.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A certificate uploaded to IAM (UploadServerCertificate) for load balancers and CloudFront.
 *
 * Unlike `AWS::IAM::ServerCertificate`, the private key is read from Secrets Manager or SSM at
 * deploy and never appears in the template; the certificate, chain and key are checked at synth
 * (when known) and again before upload; and a new body gets a new name, so rotation never clashes.
 *
 * @resource Custom::ServerCertificate
 */
export class ServerCertificate extends ServerCertificateBase implements ITaggable {
  /**
   * Imports a server certificate by its name (path `/`).
   */
  public static fromServerCertificateName(scope: Construct, id: string, serverCertificateName: string): IServerCertificate {
    return ServerCertificate.fromServerCertificateAttributes(scope, id, { serverCertificateName });
  }

  /**
   * Imports a server certificate from its attributes.
   */
  public static fromServerCertificateAttributes(
    scope: Construct,
    id: string,
    attrs: ServerCertificateAttributes,
  ): IServerCertificate {
    const path = attrs.path ?? '/';
    checkWhenKnown(scope, 'serverCertificateName', attrs.serverCertificateName, serverCertificateNameProblem);
    checkWhenKnown(scope, 'path', path, v => serverCertificatePathProblem(v, false));
    class Import extends ServerCertificateBase {
      public readonly serverCertificateName = attrs.serverCertificateName;
      public readonly serverCertificateArn = Stack.of(scope).formatArn({
        service: 'iam',
        region: '',
        resource: 'server-certificate',
        resourceName: `${path.slice(1)}${attrs.serverCertificateName}`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      public get serverCertificateId(): string {
        return importedAttribute(attrs.serverCertificateId, 'serverCertificateId', 'fromServerCertificateAttributes',
          'pass it to use this certificate with CloudFront', this);
      }
    }
    return new Import(scope, id);
  }

  /**
   * Serves a `cloudfront.Distribution` with an IAM server certificate.
   *
   * `Distribution` takes only ACM certificates (its `certificate` prop). This sets the
   * `ViewerCertificate` of the distribution's `AWS::CloudFront::Distribution` to the IAM
   * certificate's ID (`IamCertificateId`), with a security policy and SNI, through the L1 escape
   * hatch (`distribution.node.defaultChild`). The template then reads as if `Distribution` had an
   * IAM option, and tools that inspect the L1 resource (cdk-nag) see the certificate.
   *
   * Create the distribution with its `domainNames` (the certificate must cover them) and without
   * `certificate`. The distribution references the certificate's ID, so CloudFormation uploads a
   * new certificate, moves the distribution to it, and only then deletes the old one.
   *
   * @param distribution the distribution, created without `certificate`
   * @param certificate a certificate whose IAM path begins with `/cloudfront/`: a
   * `ServerCertificate` with `forCloudFront: true`, or one imported with `fromServerCertificateAttributes`
   * and its `serverCertificateId`
   * @param options the security policy and SSL support method
   */
  public static applyToDistribution(
    distribution: cloudfront.Distribution,
    certificate: IServerCertificate,
    options: DistributionCertificateOptions = {},
  ): void {
    const cfn = distribution.node.defaultChild;
    if (!CfnResource.isCfnResource(cfn) || cfn.cfnResourceType !== cloudfront.CfnDistribution.CFN_RESOURCE_TYPE_NAME) {
      throw new CertificateInputError('distribution', 'must be a cloudfront.Distribution (its default child an AWS::CloudFront::Distribution)', distribution);
    }
    const l1 = cfn as cloudfront.CfnDistribution;
    if (Token.isUnresolved(l1.distributionConfig)) {
      throw new CertificateInputError('distribution', 'has a distributionConfig that is a token, to which no viewer certificate can be added', distribution);
    }
    const config = l1.distributionConfig as cloudfront.CfnDistribution.DistributionConfigProperty;
    if (config.viewerCertificate !== undefined) {
      throw new CertificateInputError('certificate',
        'the distribution already has a viewer certificate (its certificate prop, or an earlier applyToDistribution): '
        + 'create it without certificate and apply one IAM certificate', distribution);
    }
    if (certificate instanceof ServerCertificate && !Token.isUnresolved(certificate.path)
      && !certificate.path.startsWith(CLOUDFRONT_PATH_PREFIX)) {
      throw new CertificateInputError('forCloudFront',
        `CloudFront uses only IAM certificates whose path begins with '${CLOUDFRONT_PATH_PREFIX}' (this one's is '${certificate.path}'): `
        + 'set forCloudFront: true', certificate);
    }
    l1.distributionConfig = {
      ...config,
      viewerCertificate: {
        iamCertificateId: certificate.serverCertificateId,
        minimumProtocolVersion: options.minimumProtocolVersion ?? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        sslSupportMethod: options.sslSupportMethod ?? cloudfront.SSLMethod.SNI,
      },
    };
  }

  public readonly serverCertificateArn: string;
  public readonly serverCertificateName: string;
  public readonly serverCertificateId: string;

  /**
   * When the certificate expires (ISO 8601), as IAM reports it.
   *
   * @attribute
   */
  public readonly expiration: string;

  /**
   * When the certificate was uploaded (ISO 8601).
   *
   * @attribute
   */
  public readonly uploadDate: string;

  /**
   * The IAM path of the certificate.
   */
  public readonly path: string;

  /**
   * Tags applied to the IAM server certificate.
   */
  public readonly tags: TagManager;

  private readonly expiryNotices: ExpiryNotices;

  constructor(scope: Construct, id: string, props: ServerCertificateProps) {
    super(scope, id, { physicalName: props.serverCertificateName });

    const forCloudFront = props.forCloudFront ?? false;
    const path = props.path ?? (forCloudFront ? CLOUDFRONT_PATH_PREFIX : '/');
    this.path = path;
    this.validate(props, path, forCloudFront);
    countServerCertificate(this);
    this.expiryNotices = new ExpiryNotices(this, notAfterAtSynth(props.certificateBody.pemText, 'certificateBody'));

    const provider = handlerProvider(this, {
      handlerName: 'server-certificate',
      description: 'cdk-certificates: uploads IAM server certificates (UploadServerCertificate)',
      // The handler retries DeleteConflict (still attached to a load balancer) for 10 minutes.
      timeout: Duration.minutes(14),
    });

    const prefix = props.serverCertificateName === undefined
      ? namePrefix(this, SERVER_CERTIFICATE_NAME_MAX_LENGTH, NAME_HASH_LENGTH + 1, '_')
      : undefined;
    // Generated names are `<stack>_<id>-<hash>`: no stack name holds `_`, so the pattern covers
    // this stack's names and not stack `Web-Staging`'s when this one is `Web`.
    this.grantIam(provider, prefix === undefined ? props.serverCertificateName! : `${stackNamePrefix(this)}_*`);

    this.tags = new TagManager(TagType.KEY_VALUE, SERVER_CERTIFICATE_RESOURCE_TYPE);
    const removalPolicy = statefulRemovalPolicy(this, props.removalPolicy);
    const properties: ServerCertificateResourceProperties = {
      CertificateBody: props.certificateBody._bind(this, provider.grantPrincipal),
      PrivateKey: props.privateKey._bind(this, provider.grantPrincipal),
      CertificateChain: props.certificateChain?._bind(this, provider.grantPrincipal),
      ServerCertificateName: props.serverCertificateName,
      NamePrefix: prefix,
      Path: path,
      ForCloudFront: forCloudFront ? 'true' : 'false',
      RemovalPolicy: removalPolicy.handler,
    };

    const resource = new HandlerResource<ServerCertificateResourceProperties, ServerCertificateResourceAttributes>(this, 'Resource', {
      provider,
      resourceType: SERVER_CERTIFICATE_RESOURCE_TYPE,
      properties,
      removalPolicy,
      tags: this.tags,
      tagRules: IAM_TAG_RULES,
      // Every grant is a shared statement this construct depends on (grantIam).
      dependOnGrants: false,
      renderProperties: () => ({ NotifyDaysBefore: this.expiryNotices.handlerProperty() }),
    });

    this.serverCertificateArn = resource.attr('Arn');
    this.serverCertificateName = resource.attr('ServerCertificateName');
    this.serverCertificateId = resource.attr('ServerCertificateId');
    this.expiration = resource.attr('Expiration');
    this.uploadDate = resource.attr('UploadDate');
    this.expiryNotices.bind({
      kind: 'IAM server certificate',
      certificate: this.serverCertificateArn,
      attribute: name => resource.dynamicAttr(name),
    });
  }

  /**
   * Publishes a notice to an SNS topic a number of days before the certificate expires, through
   * EventBridge Scheduler one-time schedules (no Lambda function, nothing polls). May be called
   * more than once (e.g. one topic per audience).
   */
  public notifyBeforeExpiry(options: ExpiryNotificationOptions): void {
    this.expiryNotices.add(options);
  }

  private validate(props: ServerCertificateProps, path: string, forCloudFront: boolean): void {
    checkWhenKnown(this, 'serverCertificateName', props.serverCertificateName, serverCertificateNameProblem);
    checkWhenKnown(this, 'path', path, v => serverCertificatePathProblem(v, forCloudFront));
    const body = props.certificateBody.pemText;
    if (body !== undefined && body.length > CERTIFICATE_BODY_MAX_LENGTH) {
      throw new CertificateInputError('certificateBody', `must be at most ${CERTIFICATE_BODY_MAX_LENGTH} characters, got ${body.length}`, this);
    }
    const chain = props.certificateChain?.pemText;
    if (chain !== undefined && chain.length > CERTIFICATE_CHAIN_MAX_LENGTH) {
      throw new CertificateInputError('certificateChain', `must be at most ${CERTIFICATE_CHAIN_MAX_LENGTH} characters, got ${chain.length}`, this);
    }
    checkCertificateAtSynth(this, 'certificateBody', props.certificateBody);
    if (props.certificateChain) {
      checkChainAtSynth(this, 'certificateChain', props.certificateChain, { leaf: props.certificateBody });
    }
  }

  /**
   * IAM server-certificate ARNs carry the path before the name; scoping by name across paths
   * lets the handler move its own certificates between paths in place. `namePattern` is this
   * construct's exact name, or the stack's delimited prefix and a wildcard, so one statement
   * covers every generated name of the stack.
   */
  private grantIam(provider: HandlerProvider, namePattern: string): void {
    const stack = Stack.of(this);
    const arn = (resourceName: string) => stack.formatArn({
      service: 'iam',
      region: '',
      resource: 'server-certificate',
      resourceName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const resourceArns = Token.isUnresolved(namePattern)
      ? [arn('*')]
      : [arn(namePattern), arn(`*/${namePattern}`)];
    // Reads on the names; uploads only with this stack's ownership tag; changes and deletes only
    // of certificates that carry it (aws:ResourceTag), so a certificate of the same name pattern
    // that another stack (the same stack name in another region) owns is out of reach.
    addToSharedStatement(provider, ['iam:GetServerCertificate', 'iam:ListServerCertificateTags'], resourceArns, this);
    addToSharedStatement(provider, ['iam:UploadServerCertificate', 'iam:TagServerCertificate'], resourceArns, this, {
      conditions: { StringEquals: { [`aws:RequestTag/${OWNER_STACK_TAG}`]: Aws.STACK_ID } },
    });
    addToSharedStatement(provider, [
      'iam:UpdateServerCertificate',
      'iam:DeleteServerCertificate',
      'iam:TagServerCertificate',
      'iam:UntagServerCertificate',
    ], resourceArns, this, { conditions: ownedByStack() });
  }
}
