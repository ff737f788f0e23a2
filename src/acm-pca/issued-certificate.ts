import {
  ArnFormat,
  CfnResource,
  Duration,
  RemovalPolicy,
  Resource,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { checkCrossAccountTemplate, checkList, dependOnIssuance, RESOURCES_PER_STATEMENT, validityOf } from './issued-certificate-checks';
import { CertificateTemplate, IssuedKeyAlgorithm, RevocationReason } from './issued-certificate-options';
import { IIssuingCertificateAuthority, IIssuedCertificate, IssuedCertificateAttributes, IssuedCertificateConstructProps, IssuedCertificateProps } from './issued-certificate-props';
import {
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
import { OWNER_STACK_TAG } from '../contract/tags';
import { ExpiryNotificationOptions } from '../expiry/expiry-notifications';
import { ExpiryNotices } from '../expiry/notices';
import { CertificatePem, PrivateKey } from '../material/certificate-material';
import { CertificateInputError } from '../private/errors';
import { addToSharedStatement, ownedByStack } from '../private/grants';
import { HandlerResource, handlerProvider, statefulRemovalPolicy } from '../private/handler-resource';
import type { HandlerProvider } from '../private/provider';

// The family's public parts, re-exported here so that this module is the family's one entry.
export * from './issued-certificate-options';
export * from './issued-certificate-props';
export * from './csr-issued-certificate';

/**
 * A certificate issued by an ACM Private CA with a key pair generated at deploy.
 *
 * The handler generates the key (node:crypto) and the CSR inside Lambda, calls IssueCertificate,
 * waits until the certificate is issued (at most 3 minutes), and stores
 * `{privateKey, certificate, certificateChain}` in a secret this construct owns. The key is never
 * in the template, a custom-resource property, the response data or a log.
 *
 * Any change of input issues a new certificate into the same secret (a new version). Consumers
 * read the certificate through the version it was stored in, so each of them is updated; the old
 * certificate is revoked only in CloudFormation's cleanup, after every consumer moved. Use it
 * through `PrivateCa.issueCertificate()`.
 *
 * @resource Custom::PrivateCaIssuedCertificate
 */
export class IssuedCertificate extends Resource implements IIssuedCertificate {
  /**
   * Imports an issued certificate from its ARN and the secret that holds it.
   */
  public static fromIssuedCertificateAttributes(scope: Construct, id: string, attrs: IssuedCertificateAttributes): IIssuedCertificate {
    const version = attrs.secretVersionId === undefined ? undefined : { versionId: attrs.secretVersionId };
    class Import extends Resource implements IIssuedCertificate {
      public readonly certificateArn = attrs.certificateArn;
      public readonly secret = attrs.secret;
      public readonly certificatePem = CertificatePem.fromSecret(attrs.secret, SECRET_FIELDS.certificate, version);
      public readonly certificateChainPem = CertificatePem.fromSecret(attrs.secret, SECRET_FIELDS.certificateChain, version);
      public readonly privateKey = PrivateKey.fromSecret(attrs.secret, SECRET_FIELDS.privateKey, version);
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
   * The secret version that holds this certificate, its chain and its key. It changes with every
   * re-issue; `certificatePem`, `certificateChainPem` and `privateKey` read exactly this version.
   *
   * @attribute
   */
  public readonly secretVersionId: string;

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
    const removalPolicy = statefulRemovalPolicy(this, props.removalPolicy, RemovalPolicy.RETAIN);
    const template = props.template ?? CertificateTemplate.END_ENTITY;
    checkCrossAccountTemplate(this, props.certificateAuthority, template.templateArn);
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
    this.secretVersionId = resource.attr('SecretVersionId');
    // Consumers read the version this certificate was stored in: a re-issue changes it, so
    // CloudFormation updates each consumer before its cleanup revokes the old certificate.
    const version = { versionId: this.secretVersionId };
    this.certificatePem = CertificatePem.fromSecret(this.secret, SECRET_FIELDS.certificate, version);
    this.certificateChainPem = CertificatePem.fromSecret(this.secret, SECRET_FIELDS.certificateChain, version);
    this.privateKey = PrivateKey.fromSecret(this.secret, SECRET_FIELDS.privateKey, version);
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
    // Read and revoke: at a CA of this stack, any CA it owns (the ownership tag), so that a
    // certificate of a replaced CA can still be revoked in the cleanup; at a CA from elsewhere,
    // that CA alone.
    const readAndRevoke = ['acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificate', 'acm-pca:RevokeCertificate'];
    if (ownedByThisStack(this, this.certificateAuthority)) {
      addToSharedStatement(principal, readAndRevoke, [Stack.of(this).formatArn({
        service: 'acm-pca',
        resource: 'certificate-authority',
        resourceName: '*',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      })], undefined, { ...share, conditions: ownedByStack() });
    } else {
      addToSharedStatement(principal, readAndRevoke, [caArn], undefined, share);
    }
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

/** A CA created in this stack by this library, which carries the stack's ownership tag. */
function ownedByThisStack(scope: Construct, ca: IIssuingCertificateAuthority): boolean {
  const child = ca.node.defaultChild;
  return Stack.of(ca) === Stack.of(scope)
    && child instanceof acmpca.CfnCertificateAuthority
    && child.tags.tagValues()[OWNER_STACK_TAG] !== undefined;
}
