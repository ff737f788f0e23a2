import { CustomResource, Duration, IResource, RemovalPolicy } from 'aws-cdk-lib';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as route53 from 'aws-cdk-lib/aws-route53';

/**
 * The DNS record Lightsail checks to validate one domain of a certificate.
 */
export interface LightsailValidationRecord {
  /** The domain the record validates. */
  readonly domainName: string;
  /** The record's name (e.g. `_3639ac514e785e898d2646601fa951d5.example.com.`). */
  readonly recordName: string;
  /** The record's type (`CNAME`). */
  readonly recordType: string;
  /** The record's value (e.g. `_98d2646601fa951d5.mhbtsbpdnt.acm-validations.aws.`). */
  readonly recordValue: string;
}

/**
 * A Lightsail certificate (for Lightsail distributions and container services).
 */
export interface ILightsailCertificate extends IResource {
  /**
   * The ARN of the certificate.
   *
   * @attribute
   */
  readonly certificateArn: string;

  /**
   * The name of the certificate: what distributions and container services refer to it by.
   *
   * @attribute
   */
  readonly certificateName: string;

  /**
   * Attaches the certificate to a Lightsail distribution (AttachCertificateToDistribution), and
   * detaches it when the attachment is removed from the stack. The certificate must be in
   * us-east-1 and ISSUED.
   *
   * @param distributionName the name of the Lightsail distribution
   * @returns the custom resource that attaches it, for dependencies
   */
  attachToDistribution(distributionName: string): CustomResource;

  /**
   * The certificate as one entry of a container service's public domain names
   * (`lightsail.CfnContainer`'s `publicDomainNames`). The container service must be in the
   * certificate's region.
   *
   * @param domainNames the domains the container service answers, all covered by the certificate
   * @default - every domain of the certificate (required for an imported certificate)
   */
  publicDomainName(domainNames?: string[]): lightsail.CfnContainer.PublicDomainNameProperty;
}

/**
 * Attributes to import an existing Lightsail certificate.
 */
export interface LightsailCertificateAttributes {
  /** The name of the certificate. */
  readonly certificateName: string;

  /**
   * The ARN of the certificate (it ends in a random ID, so it cannot be built from the name).
   *
   * @default - accessing `certificateArn` throws
   */
  readonly certificateArn?: string;

  /**
   * The region that holds the certificate.
   *
   * @default - the stack's region
   */
  readonly region?: string;
}

/**
 * Properties of a `LightsailCertificate`.
 */
export interface LightsailCertificateProps {
  /**
   * The domain name of the certificate (its subject's common name), e.g. `example.com`.
   * At most 64 characters; no wildcard.
   */
  readonly domainName: string;

  /**
   * Further domains the certificate covers, e.g. `www.example.com`: at most nine besides
   * `domainName` (which may be listed here too; it is not counted twice), no wildcards, no duplicates.
   *
   * A change of domains requests a new certificate (and validates it) before the old one is deleted.
   *
   * @default - only `domainName`
   */
  readonly subjectAlternativeNames?: string[];

  /**
   * The name of the certificate: letters, digits, hyphens and underscores, 2 to 255 characters,
   * beginning and ending with a letter or digit, unique in its region.
   *
   * A fixed name cannot take new domains: Lightsail holds one certificate per name and region,
   * and CloudFormation creates the replacement before deleting the old one.
   *
   * @default - a name built from the construct path and a hash of the domains, so new domains get
   * a new name and replace the old certificate without a clash
   */
  readonly certificateName?: string;

  /**
   * The Route 53 public hosted zone in which to create the DNS validation records (one CNAME per
   * distinct domain, removed with the certificate). Every domain must be in this zone.
   *
   * @default - no records are created: create the records in `validationRecords` in your DNS
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * Whether the deployment waits until the certificate is ISSUED, so whatever uses
   * `certificateName` or `certificateArn` (a distribution, a container service) is deployed only
   * after validation succeeds; a failed validation fails the deployment with Lightsail's reason.
   *
   * @default - true when `hostedZone` is given, otherwise false
   */
  readonly waitForValidation?: boolean;

  /**
   * How long to wait for the certificate to be issued, when waiting: at most 50 minutes
   * (CloudFormation waits at most an hour for a custom resource).
   *
   * @default Duration.minutes(45)
   */
  readonly validationTimeout?: Duration;

  /**
   * The region whose Lightsail holds the certificate. Lightsail distributions use only
   * certificates in us-east-1; a container service uses certificates in its own region.
   *
   * @default - us-east-1 when `forDistribution` is true, otherwise the stack's region
   */
  readonly region?: string;

  /**
   * Whether the certificate is for a Lightsail distribution: it is then created in us-east-1
   * (whatever the stack's region), and any other `region` is an error.
   *
   * @default false
   */
  readonly forDistribution?: boolean;

  /**
   * What happens to the certificate (and its validation records) when it is removed from the
   * stack or replaced. The default deletes it: a certificate is re-creatable from its domains.
   * Retained records keep automatic renewal working for a retained certificate.
   *
   * RETAIN_ON_UPDATE_OR_DELETE retains as RETAIN does (and a failed first deploy still cleans up);
   * SNAPSHOT is refused: there is nothing to snapshot.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}
