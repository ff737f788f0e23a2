import {
  Aws,
  CfnResource,
  Duration,
  Expiration,
  IResource,
  Reference,
  RemovalPolicy,
  Resource,
  Stack,
  Token,
  Tokenization,
  Validations,
} from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, Dependable, IConstruct, IDependable } from 'constructs';
import {
  checkCsr,
  dnsNameProblem,
  emailProblem,
  ipAddressProblem,
  ISSUED_CERTIFICATE_RESOURCE_TYPE,
  IssuedCertificateResourceAttributes,
  IssuedCertificateResourceProperties,
  IssuedCertificateSubject,
  IssuedKeyAlgorithmName,
  SECRET_FIELDS,
  ISSUED_CERTIFICATE_SUBJECT,
  uriProblem,
} from '../contract/issued-certificate';
import { validityDaysProblem } from '../contract/validity';
import { ExpiryNotificationOptions } from '../expiry/expiry-notifications';
import { ExpiryNotices } from '../expiry/notices';
import { CertificatePem, PrivateKey } from '../material/certificate-material';
import { CertificateInputError } from '../private/errors';
import { addToSharedStatement } from '../private/grants';
import { HandlerResource, handlerProvider, statefulRemovalPolicy } from '../private/handler-resource';
import type { HandlerProvider } from '../private/provider';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The key pair the handler generates for an issued certificate.
 */
export class IssuedKeyAlgorithm {
  /** RSA, 2048-bit modulus. */
  public static readonly RSA_2048 = new IssuedKeyAlgorithm('RSA_2048');
  /** RSA, 3072-bit modulus. */
  public static readonly RSA_3072 = new IssuedKeyAlgorithm('RSA_3072');
  /** RSA, 4096-bit modulus. */
  public static readonly RSA_4096 = new IssuedKeyAlgorithm('RSA_4096');
  /** ECDSA on NIST P-256 (prime256v1). */
  public static readonly EC_P256 = new IssuedKeyAlgorithm('EC_P256');
  /** ECDSA on NIST P-384 (secp384r1). */
  public static readonly EC_P384 = new IssuedKeyAlgorithm('EC_P384');

  /**
   * @param value the algorithm's name (RSA_2048, RSA_3072, RSA_4096, EC_P256, EC_P384)
   */
  private constructor(public readonly value: string) {}
}

/**
 * An ACM Private CA certificate template: what the issued certificate is for (its key usage,
 * extended key usage and basic constraints). The `_CSRPassthrough` variants also copy the CSR's
 * extensions (the SANs are copied by every end-entity template).
 */
export class CertificateTemplate {
  /** Server and client authentication (the service default): EndEntityCertificate/V1. */
  public static readonly END_ENTITY = CertificateTemplate.serviceOwned('EndEntityCertificate/V1');
  /** EndEntityCertificate_CSRPassthrough/V1. */
  public static readonly END_ENTITY_CSR_PASSTHROUGH = CertificateTemplate.serviceOwned('EndEntityCertificate_CSRPassthrough/V1');
  /** TLS server authentication only: EndEntityServerAuthCertificate/V1. */
  public static readonly END_ENTITY_SERVER_AUTH = CertificateTemplate.serviceOwned('EndEntityServerAuthCertificate/V1');
  /** EndEntityServerAuthCertificate_CSRPassthrough/V1. */
  public static readonly END_ENTITY_SERVER_AUTH_CSR_PASSTHROUGH = CertificateTemplate.serviceOwned('EndEntityServerAuthCertificate_CSRPassthrough/V1');
  /** TLS client authentication only: EndEntityClientAuthCertificate/V1. */
  public static readonly END_ENTITY_CLIENT_AUTH = CertificateTemplate.serviceOwned('EndEntityClientAuthCertificate/V1');
  /** EndEntityClientAuthCertificate_CSRPassthrough/V1. */
  public static readonly END_ENTITY_CLIENT_AUTH_CSR_PASSTHROUGH = CertificateTemplate.serviceOwned('EndEntityClientAuthCertificate_CSRPassthrough/V1');
  /** Code signing: CodeSigningCertificate/V1. */
  public static readonly CODE_SIGNING = CertificateTemplate.serviceOwned('CodeSigningCertificate/V1');
  /** CodeSigningCertificate_CSRPassthrough/V1. */
  public static readonly CODE_SIGNING_CSR_PASSTHROUGH = CertificateTemplate.serviceOwned('CodeSigningCertificate_CSRPassthrough/V1');
  /** Signing OCSP responses: OCSPSigningCertificate/V1. */
  public static readonly OCSP_SIGNING = CertificateTemplate.serviceOwned('OCSPSigningCertificate/V1');
  /** OCSPSigningCertificate_CSRPassthrough/V1. */
  public static readonly OCSP_SIGNING_CSR_PASSTHROUGH = CertificateTemplate.serviceOwned('OCSPSigningCertificate_CSRPassthrough/V1');

  /**
   * Any template by ARN (`arn:<partition>:acm-pca:::template/<name>/V<n>`), e.g. one of the
   * `_APIPassthrough` or `Blank` templates, or a template added to the service later.
   */
  public static fromArn(templateArn: string): CertificateTemplate {
    if (!Token.isUnresolved(templateArn) && !/^arn:[\w-]+:acm-pca:[\w-]*:[0-9]*:template\/[\w+=/,.@-]+\/V\d+$/.test(templateArn)) {
      throw new CertificateInputError('CertificateTemplate.fromArn', `'${templateArn}' is not an ACM Private CA template ARN (arn:<partition>:acm-pca:::template/<name>/V<n>)`);
    }
    return new CertificateTemplate(templateArn);
  }

  private static serviceOwned(nameAndVersion: string): CertificateTemplate {
    return new CertificateTemplate(`arn:${Aws.PARTITION}:acm-pca:::template/${nameAndVersion}`);
  }

  /**
   * @param templateArn the template's ARN (with the stack's partition for service-owned templates)
   */
  private constructor(public readonly templateArn: string) {}
}

/**
 * Why a certificate is revoked (RFC 5280 CRLReason), as RevokeCertificate takes it.
 */
export class RevocationReason {
  /** No reason given. */
  public static readonly UNSPECIFIED = new RevocationReason('UNSPECIFIED');
  /** The certificate's private key was compromised. */
  public static readonly KEY_COMPROMISE = new RevocationReason('KEY_COMPROMISE');
  /** The issuing CA's key was compromised. */
  public static readonly CERTIFICATE_AUTHORITY_COMPROMISE = new RevocationReason('CERTIFICATE_AUTHORITY_COMPROMISE');
  /** The subject's name or other information changed. */
  public static readonly AFFILIATION_CHANGED = new RevocationReason('AFFILIATION_CHANGED');
  /** A new certificate replaces this one (the default: what a replacement or removal means). */
  public static readonly SUPERSEDED = new RevocationReason('SUPERSEDED');
  /** The certificate is no longer needed. */
  public static readonly CESSATION_OF_OPERATION = new RevocationReason('CESSATION_OF_OPERATION');
  /** A privilege the certificate carried was withdrawn. */
  public static readonly PRIVILEGE_WITHDRAWN = new RevocationReason('PRIVILEGE_WITHDRAWN');
  /** An attribute authority was compromised. */
  public static readonly A_A_COMPROMISE = new RevocationReason('A_A_COMPROMISE');

  /**
   * @param value the reason as ACM Private CA names it
   */
  private constructor(public readonly value: string) {}
}

/**
 * What an issued certificate needs of the CA that issues it. `PrivateCa` implements it.
 */
export interface IIssuingCertificateAuthority extends IConstruct {
  /**
   * The ARN of the CA.
   */
  readonly certificateAuthorityArn: string;

  /**
   * How long the CA's own certificate is valid, when known at synth (a CA created in this app).
   * An issued certificate asked to be valid longer fails at synth.
   *
   * @default - unknown: checked at deploy against the CA's notAfter
   */
  readonly certificateValidity?: Duration;

  /**
   * The signing algorithm the CA signs issued certificates with, as ACM Private CA names it
   * (`SHA256WITHRSA`, `SHA384WITHECDSA`, ...). Needed by certificates issued from a CSR (the
   * native `AWS::ACMPCA::Certificate` requires it); certificates with a generated key learn it
   * from the CA at deploy.
   *
   * @default - unknown
   */
  readonly issuingSigningAlgorithm?: string;

  /**
   * The chain delivered with a certificate this CA issues: this CA's certificate followed by its
   * issuers' up to the root (leaf-to-root order). Used by certificates issued from a CSR.
   *
   * @default - unknown
   */
  readonly issuedCertificateChainPem?: CertificatePem;

  /**
   * What must be deployed before the CA can issue (its activation: for a subordinate, the
   * installed CA certificate). Issued certificates depend on it, since the CA's ARN alone exists
   * while the CA is still PENDING_CERTIFICATE.
   *
   * @default - nothing beyond the CA's ARN
   */
  readonly readyForIssuance?: IDependable;
}

/**
 * Options of a certificate issued by a private CA with a key generated at deploy.
 */
export interface IssuedCertificateProps {
  /**
   * The subject's common name (CN), at most 64 characters. A host name belongs in `dnsNames`
   * too: clients match SANs, not the CN.
   *
   * @default - no CN (then at least one SAN is required)
   */
  readonly commonName?: string;
  /**
   * Two-letter country code (C).
   * @default - none
   */
  readonly country?: string;
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
  /**
   * Organization (O), at most 64 characters.
   * @default - none
   */
  readonly organization?: string;
  /**
   * Organizational unit (OU), at most 64 characters.
   * @default - none
   */
  readonly organizationalUnit?: string;
  /**
   * Distinguished name qualifier, at most 64 PrintableString characters.
   * @default - none
   */
  readonly distinguishedNameQualifier?: string;
  /**
   * The subject's serialNumber attribute (not the certificate's serial), at most 64 PrintableString characters.
   * @default - none
   */
  readonly subjectSerialNumber?: string;
  /**
   * Title, at most 64 characters.
   * @default - none
   */
  readonly title?: string;
  /**
   * Surname, at most 40 characters.
   * @default - none
   */
  readonly surname?: string;
  /**
   * Given name, at most 16 characters.
   * @default - none
   */
  readonly givenName?: string;
  /**
   * Initials, at most 5 characters.
   * @default - none
   */
  readonly initials?: string;
  /**
   * Pseudonym, at most 128 characters.
   * @default - none
   */
  readonly pseudonym?: string;
  /**
   * Generation qualifier (e.g. Jr.), at most 3 characters.
   * @default - none
   */
  readonly generationQualifier?: string;

  /**
   * DNS subject alternative names. A wildcard is allowed only as the whole first label (`*.example.com`).
   * @default - none
   */
  readonly dnsNames?: string[];
  /**
   * IP address subject alternative names (IPv4 or IPv6).
   * @default - none
   */
  readonly ipAddresses?: string[];
  /**
   * Email (rfc822Name) subject alternative names.
   * @default - none
   */
  readonly emails?: string[];
  /**
   * URI subject alternative names: absolute URIs such as `spiffe://example.org/ns/web`.
   * @default - none
   */
  readonly uris?: string[];

  /**
   * The key pair generated for the certificate (inside the handler, never in the template).
   * @default IssuedKeyAlgorithm.RSA_2048
   */
  readonly keyAlgorithm?: IssuedKeyAlgorithm;

  /**
   * The template the CA issues with.
   * @default CertificateTemplate.END_ENTITY
   */
  readonly template?: CertificateTemplate;

  /**
   * How long the certificate is valid from issuance, in whole days. Give this or `validityEnd`,
   * not both. It may not exceed the CA's own validity.
   *
   * @default Duration.days(365) when `validityEnd` is not given either
   */
  readonly validity?: Duration;

  /**
   * When the certificate expires. Give this or `validity`, not both. Prefer
   * `Expiration.atDate(...)`: `Expiration.after(...)` is computed at synth, so each synth would
   * ask for a new certificate.
   *
   * @default - from `validity`
   */
  readonly validityEnd?: Expiration;

  /**
   * The reason recorded when the certificate is revoked (on removal, or when a change of input
   * replaces it).
   *
   * @default RevocationReason.SUPERSEDED
   */
  readonly revocationReason?: RevocationReason;

  /**
   * Whether to revoke the certificate when it is removed from the stack or replaced.
   *
   * @default true
   */
  readonly revokeOnDelete?: boolean;

  /**
   * The customer managed KMS key that encrypts the secret holding the private key.
   *
   * @default - the account's `aws/secretsmanager` key
   */
  readonly secretEncryptionKey?: kms.IKey;

  /**
   * What happens to the certificate and its secret when the construct is removed. DESTROY
   * revokes the certificate (unless `revokeOnDelete` is false) and deletes the secret; RETAIN
   * keeps both, and also keeps a replaced certificate valid. A certificate is re-creatable from
   * its inputs, and a replacement must retire the old one, hence the default.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Properties of an `IssuedCertificate`: its options plus the CA that issues it.
 */
export interface IssuedCertificateConstructProps extends IssuedCertificateProps {
  /**
   * The CA that issues the certificate.
   */
  readonly certificateAuthority: IIssuingCertificateAuthority;
}

/**
 * A certificate issued by a private CA whose private key this library keeps in a secret.
 */
export interface IIssuedCertificate extends IResource {
  /**
   * The certificate's ARN (the CA's ARN, then `/certificate/<serial>`).
   *
   * @attribute
   */
  readonly certificateArn: string;

  /**
   * The certificate, for any construct that takes a `CertificatePem` (e.g. `ServerCertificate`).
   */
  readonly certificatePem: CertificatePem;

  /**
   * The chain of the certificate (its issuer first, the root last).
   */
  readonly certificateChainPem: CertificatePem;

  /**
   * The private key, for any construct that takes a `PrivateKey`.
   */
  readonly privateKey: PrivateKey;

  /**
   * The secret holding `privateKey`, `certificate` and `certificateChain` (JSON fields).
   */
  readonly secret: secretsmanager.ISecret;
}

/**
 * Attributes to import an issued certificate.
 */
export interface IssuedCertificateAttributes {
  /**
   * The certificate's ARN.
   */
  readonly certificateArn: string;

  /**
   * The secret holding the JSON fields `privateKey`, `certificate` and `certificateChain`.
   */
  readonly secret: secretsmanager.ISecret;
}

/**
 * A certificate issued by an ACM Private CA with a key pair generated at deploy.
 *
 * The handler generates the key (node:crypto) and the CSR inside Lambda, calls IssueCertificate,
 * waits until the certificate is issued (at most 3 minutes), and stores
 * `{privateKey, certificate, certificateChain}` in a secret this construct owns. The key is never
 * in the template, a custom-resource property, the response data or a log.
 *
 * Any change of input issues a new certificate into the same secret (a new version) and then
 * revokes the old one. Use it through `PrivateCa.issueCertificate()`.
 *
 * @resource Custom::PrivateCaIssuedCertificate
 */
export class IssuedCertificate extends Resource implements IIssuedCertificate {
  /**
   * Imports an issued certificate from its ARN and the secret that holds it.
   */
  public static fromIssuedCertificateAttributes(scope: Construct, id: string, attrs: IssuedCertificateAttributes): IIssuedCertificate {
    class Import extends Resource implements IIssuedCertificate {
      public readonly certificateArn = attrs.certificateArn;
      public readonly secret = attrs.secret;
      public readonly certificatePem = CertificatePem.fromSecret(attrs.secret, SECRET_FIELDS.certificate);
      public readonly certificateChainPem = CertificatePem.fromSecret(attrs.secret, SECRET_FIELDS.certificateChain);
      public readonly privateKey = PrivateKey.fromSecret(attrs.secret, SECRET_FIELDS.privateKey);
    }
    return new Import(scope, id);
  }

  public readonly certificateArn: string;
  public readonly certificatePem: CertificatePem;
  public readonly certificateChainPem: CertificatePem;
  public readonly privateKey: PrivateKey;

  /**
   * The secret holding `privateKey`, `certificate` and `certificateChain` (JSON fields).
   *
   * This reference resolves only once the certificate is stored, so whatever reads it through
   * here (grants, ECS secrets, dynamic references) waits for the certificate.
   */
  public readonly secret: secretsmanager.ISecret;

  /**
   * The certificate's serial number (upper-case hex, as `openssl x509 -serial` prints it).
   *
   * @attribute
   */
  public readonly serialNumber: string;

  /**
   * Start of the certificate's validity (ISO 8601).
   *
   * @attribute
   */
  public readonly notBefore: string;

  /**
   * End of the certificate's validity (ISO 8601).
   *
   * @attribute
   */
  public readonly notAfter: string;

  /**
   * The CA that issued the certificate.
   */
  public readonly certificateAuthority: IIssuingCertificateAuthority;

  /** The certificate's notAfter is known at deploy only: the handler times the notices. */
  private readonly expiryNotices = new ExpiryNotices(this, undefined);

  constructor(scope: Construct, id: string, props: IssuedCertificateConstructProps) {
    super(scope, id);
    this.certificateAuthority = props.certificateAuthority;
    const subject = this.validateSubject(props);
    const validity = validityOf(this, props, props.certificateAuthority);
    const removalPolicy = statefulRemovalPolicy(this, props.removalPolicy);
    const template = props.template ?? CertificateTemplate.END_ENTITY;
    const keyAlgorithm = props.keyAlgorithm ?? IssuedKeyAlgorithm.RSA_2048;
    const caArn = props.certificateAuthority.certificateAuthorityArn;

    // Created empty: only the handler ever writes a value (never the template).
    const ownedSecret = new secretsmanager.Secret(this, 'Secret', {
      description: `Private key, certificate and chain of ${this.node.path} (cdk-certificates)`,
      encryptionKey: props.secretEncryptionKey,
      removalPolicy: removalPolicy.removalPolicy,
    });
    const cfnSecret = ownedSecret.node.defaultChild as CfnResource;
    cfnSecret.addPropertyDeletionOverride('GenerateSecretString');
    // Rotation does not apply: a new certificate comes from changing the inputs. Acknowledged for
    // cdk-nag 3 (construct metadata) and cdk-nag 2 (the resource's cdk_nag metadata) alike.
    const rotation = {
      id: 'AwsSolutions-SMG4',
      reason: 'Holds a certificate and its private key written by the issuing handler; a new certificate (and key) comes from changing the construct\'s inputs, not from secret rotation.',
    };
    Validations.of(cfnSecret).acknowledge(rotation);
    cfnSecret.addMetadata('cdk_nag', { rules_to_suppress: [rotation] });

    const provider = handlerProvider(this, {
      handlerName: 'private-ca-issued-certificate',
      description: 'cdk-certificates: issues ACM Private CA certificates with keys generated in Lambda',
      // Key generation (RSA 4096) and the wait for issuance (at most 3 minutes) fit easily.
      timeout: Duration.minutes(10),
      // Lambda CPU scales with memory: RSA key generation is CPU-bound.
      memorySize: 1024,
    });
    this.grantHandler(provider, caArn, template.templateArn, ownedSecret, props.secretEncryptionKey);

    const properties: IssuedCertificateResourceProperties = {
      CertificateAuthorityArn: caArn,
      Subject: subject,
      DnsNames: props.dnsNames,
      IpAddresses: props.ipAddresses,
      Emails: props.emails,
      Uris: props.uris,
      KeyAlgorithm: keyAlgorithm.value as IssuedKeyAlgorithmName,
      TemplateArn: template.templateArn,
      ValidityType: validity.type,
      ValidityValue: String(validity.value),
      SecretArn: ownedSecret.secretArn,
      RevocationReason: (props.revocationReason ?? RevocationReason.SUPERSEDED).value,
      RevokeOnDelete: props.revokeOnDelete === false ? 'false' : 'true',
      RemovalPolicy: removalPolicy.handler,
    };
    const resource = new HandlerResource<IssuedCertificateResourceProperties, IssuedCertificateResourceAttributes>(this, 'Resource', {
      provider,
      resourceType: ISSUED_CERTIFICATE_RESOURCE_TYPE,
      properties,
      removalPolicy,
      renderProperties: () => ({ NotifyDaysBefore: this.expiryNotices.handlerProperty() }),
    });
    dependOnIssuance(resource, props.certificateAuthority);

    this.certificateArn = resource.attr('CertificateArn');
    this.serialNumber = resource.attr('SerialNumber');
    this.notBefore = resource.attr('NotBefore');
    this.notAfter = resource.attr('NotAfter');
    // The same secret, referenced through the custom resource: readers wait for the certificate.
    this.secret = secretsmanager.Secret.fromSecretAttributes(this, 'IssuedSecret', {
      secretCompleteArn: resource.attr('SecretArn'),
      encryptionKey: props.secretEncryptionKey,
    });
    this.certificatePem = CertificatePem.fromSecret(this.secret, SECRET_FIELDS.certificate);
    this.certificateChainPem = CertificatePem.fromSecret(this.secret, SECRET_FIELDS.certificateChain);
    this.privateKey = PrivateKey.fromSecret(this.secret, SECRET_FIELDS.privateKey);
    this.expiryNotices.bind({
      kind: 'certificate issued by ACM Private CA',
      certificate: this.certificateArn,
      attribute: name => resource.dynamicAttr(name),
    });
  }

  /**
   * Publishes a notice to an SNS topic a number of days before the certificate expires, through
   * EventBridge Scheduler one-time schedules timed by the handler when it issues the certificate
   * (no Lambda function in the notice path, nothing polls). May be called more than once.
   */
  public notifyBeforeExpiry(options: ExpiryNotificationOptions): void {
    this.expiryNotices.add(options);
  }

  private validateSubject(props: IssuedCertificateProps): IssuedCertificateSubject {
    const values: Record<string, string | undefined> = {
      commonName: props.commonName,
      country: props.country,
      state: props.state,
      locality: props.locality,
      organization: props.organization,
      organizationalUnit: props.organizationalUnit,
      distinguishedNameQualifier: props.distinguishedNameQualifier,
      subjectSerialNumber: props.subjectSerialNumber,
      title: props.title,
      surname: props.surname,
      givenName: props.givenName,
      initials: props.initials,
      pseudonym: props.pseudonym,
      generationQualifier: props.generationQualifier,
    };
    const subject: Record<string, string> = {};
    for (const rule of ISSUED_CERTIFICATE_SUBJECT.fields) {
      const value = values[rule.property];
      if (value === undefined) {
        continue;
      }
      if (!Token.isUnresolved(value)) {
        const problem = ISSUED_CERTIFICATE_SUBJECT.problem(rule, value);
        if (problem) {
          throw new CertificateInputError(rule.property, problem, this);
        }
      }
      subject[rule.field] = value;
    }
    const sans = [
      checkList(this, 'dnsNames', props.dnsNames, dnsNameProblem, true),
      checkList(this, 'ipAddresses', props.ipAddresses, ipAddressProblem, true),
      checkList(this, 'emails', props.emails, emailProblem, true),
      checkList(this, 'uris', props.uris, uriProblem, false),
    ];
    if (Object.keys(subject).length === 0 && sans.every((n) => n === 0)) {
      throw new CertificateInputError('commonName',
        'a certificate needs a subject (commonName or another subject field) or at least one of dnsNames, ipAddresses, emails, uris', this);
    }
    return subject as IssuedCertificateSubject;
  }

  private grantHandler(provider: HandlerProvider, caArn: string, templateArn: string, secret: secretsmanager.ISecret, key?: kms.IKey): void {
    const principal = provider.grantPrincipal;
    // The CA alone: the handler may issue only with the templates asked for, and read and revoke
    // only at the CAs that issued.
    const share = { maxResources: RESOURCES_PER_STATEMENT };
    addToSharedStatement(principal, ['acm-pca:IssueCertificate'], [caArn], undefined,
      { ...share, conditions: { StringEquals: { 'acm-pca:TemplateArn': templateArn } } });
    addToSharedStatement(principal, ['acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificate', 'acm-pca:RevokeCertificate'], [caArn], undefined, share);
    // This certificate's secret alone: read what an interrupted attempt left, write the result.
    addToSharedStatement(principal, ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], [secret.secretArn], undefined, share);
    if (key) {
      // In the role's policy (a key's default policy lets IAM grant it), usable through Secrets
      // Manager only. IKey.grant with a ViaServicePrincipal adds nothing for an imported key.
      const viaService = `secretsmanager.${Stack.of(this).region}.amazonaws.com`;
      addToSharedStatement(principal, ['kms:Decrypt', 'kms:GenerateDataKey'], [key.keyArn], undefined,
        { ...share, conditions: { StringEquals: { 'kms:ViaService': viaService } } });
    }
  }
}

/**
 * Resources per shared statement. CDK splits a role's policy into managed policies (6,000
 * characters each, estimating 150 per ARN token) statement by statement, so a statement must stay
 * well under that: ten ARNs keep hundreds of certificates within IAM's limits.
 */
const RESOURCES_PER_STATEMENT = 10;

/**
 * Makes `resource` wait for what the CA needs deployed before it issues, unless the CA's ARN, which
 * the resource references, already carries that dependency (a PrivateCa's ARN is its activation's
 * Ref): a DependsOn that repeats a Ref only clutters the template (cfn-lint W3005).
 */
function dependOnIssuance(resource: IConstruct, ca: IIssuingCertificateAuthority): void {
  const ready = ca.readyForIssuance;
  if (!ready) {
    return;
  }
  const referenced = new Set(Tokenization.reverseString(ca.certificateAuthorityArn).tokens
    .filter((token): token is Reference => token instanceof Reference)
    .map(reference => reference.target));
  const roots = Dependable.of(ready).dependencyRoots;
  if (roots.length > 0 && roots.every(root => referenced.has(root))) {
    return;
  }
  resource.node.addDependency(ready);
}

/** Counts the items of a SAN list after checking each known one; a duplicate is an error. */
function checkList(
  scope: IConstruct,
  property: string,
  list: string[] | undefined,
  problemOf: (value: string) => string | undefined,
  caseInsensitive: boolean,
): number {
  if (list === undefined) {
    return 0;
  }
  if (Token.isUnresolved(list)) {
    return 1;
  }
  const seen = new Set<string>();
  for (const item of list) {
    if (Token.isUnresolved(item)) {
      continue;
    }
    const problem = problemOf(item);
    if (problem) {
      throw new CertificateInputError(property, problem, scope);
    }
    const key = caseInsensitive ? item.toLowerCase() : item;
    if (seen.has(key)) {
      throw new CertificateInputError(property, `lists '${item}' twice; list each name once`, scope);
    }
    seen.add(key);
  }
  return list.length;
}

interface Validity {
  readonly type: 'DAYS' | 'ABSOLUTE';
  readonly value: number;
}

/** The validity to request, checked against the CA's own validity when that is known. */
function validityOf(
  scope: IConstruct,
  props: { readonly validity?: Duration; readonly validityEnd?: Expiration },
  ca: IIssuingCertificateAuthority,
): Validity {
  if (props.validity !== undefined && props.validityEnd !== undefined) {
    throw new CertificateInputError('validity', 'give either validity (a duration) or validityEnd (a date), not both', scope);
  }
  const caValidity = ca.certificateValidity;
  const caDays = caValidity === undefined || caValidity.isUnresolved() ? undefined : caValidity.toDays({ integral: false });
  if (props.validityEnd !== undefined) {
    const end = props.validityEnd.date.getTime();
    if (end <= Date.now()) {
      throw new CertificateInputError('validityEnd', `${props.validityEnd.date.toISOString()} is in the past; choose a future date`, scope);
    }
    // The CA is created at the earliest now, so it cannot outlast now + its validity.
    if (caDays !== undefined && end > Date.now() + caDays * DAY_MS) {
      throw new CertificateInputError('validityEnd',
        `${props.validityEnd.date.toISOString()} is after the CA's own certificate expires (${caDays} days from its creation); a certificate cannot outlive its issuer`, scope);
    }
    return { type: 'ABSOLUTE', value: props.validityEnd.toEpoch() };
  }
  const validity = props.validity ?? Duration.days(365);
  if (validity.isUnresolved()) {
    throw new CertificateInputError('validity', 'must be known at synth (not a token)', scope);
  }
  const days = validity.toDays({ integral: false });
  const problem = validityDaysProblem(days, validity.toHumanString(), 1);
  if (problem) {
    throw new CertificateInputError('validity', problem, scope);
  }
  if (caDays !== undefined && days >= caDays) {
    throw new CertificateInputError('validity',
      `${days} days is not shorter than the CA's own validity (${caDays} days); a certificate cannot outlive its issuer: `
      + `${props.validity === undefined ? 'the default is 365 days, so set' : 'set'} a shorter validity`, scope);
  }
  return { type: 'DAYS', value: days };
}

/**
 * Options of a certificate issued from your own CSR (see `PrivateCa.issueCertificateFromCsr`).
 */
export interface CsrIssuedCertificateOptions {
  /**
   * The template the CA issues with.
   * @default CertificateTemplate.END_ENTITY
   */
  readonly template?: CertificateTemplate;

  /**
   * How long the certificate is valid from issuance, in whole days. Give this or `validityEnd`.
   * @default Duration.days(365) when `validityEnd` is not given either
   */
  readonly validity?: Duration;

  /**
   * When the certificate expires. Give this or `validity`.
   * @default - from `validity`
   */
  readonly validityEnd?: Expiration;
}

/**
 * Properties of a `CsrIssuedCertificate`.
 */
export interface CsrIssuedCertificateProps extends CsrIssuedCertificateOptions {
  /**
   * The CA that issues the certificate.
   */
  readonly certificateAuthority: IIssuingCertificateAuthority;

  /**
   * The PKCS#10 certificate signing request (PEM). Checked at synth when known: it must parse,
   * its signature must verify, and its key must be RSA (2048 bits or more) or ECDSA.
   */
  readonly csr: string;
}

/**
 * A certificate issued by a private CA for a CSR whose key you hold (the native
 * `AWS::ACMPCA::Certificate`). CloudFormation does not revoke it on removal.
 *
 * @resource AWS::ACMPCA::Certificate
 */
export class CsrIssuedCertificate extends Resource {
  /**
   * The certificate's ARN.
   *
   * @attribute
   */
  public readonly certificateArn: string;

  /**
   * The issued certificate (PEM).
   */
  public readonly certificatePem: CertificatePem;

  /**
   * The chain of the certificate (its issuer first, the root last), when the CA knows it.
   */
  public readonly certificateChainPem?: CertificatePem;

  constructor(scope: Construct, id: string, props: CsrIssuedCertificateProps) {
    super(scope, id);
    const ca = props.certificateAuthority;
    if (!Token.isUnresolved(props.csr)) {
      try {
        checkCsr(props.csr);
      } catch (e) {
        throw new CertificateInputError('csr', (e as Error).message, this);
      }
    }
    const signingAlgorithm = ca.issuingSigningAlgorithm;
    if (signingAlgorithm === undefined) {
      throw new CertificateInputError('certificateAuthority',
        'the CA\'s signing algorithm is not known at synth (an imported CA); import it with its signing algorithm, or use a PrivateCa from this app', this);
    }
    const validity = validityOf(this, props, ca);
    const resource = new acmpca.CfnCertificate(this, 'Resource', {
      certificateAuthorityArn: ca.certificateAuthorityArn,
      certificateSigningRequest: props.csr,
      signingAlgorithm,
      templateArn: (props.template ?? CertificateTemplate.END_ENTITY).templateArn,
      validity: { type: validity.type, value: validity.value },
    });
    dependOnIssuance(resource, ca);
    this.certificateArn = resource.attrArn;
    this.certificatePem = CertificatePem.fromString(resource.attrCertificate);
    this.certificateChainPem = ca.issuedCertificateChainPem;
  }
}
