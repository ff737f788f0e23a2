import { Duration, Expiration, IResource, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct, IDependable } from 'constructs';
import { CertificateTemplate, IssuedKeyAlgorithm, RevocationReason } from './issued-certificate-options';
import { CertificatePem, PrivateKey } from '../material/certificate-material';

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
   * What happens to the certificate and its secret when the construct is removed, and to a
   * certificate that a re-issue replaced. RETAIN (the default, as for aws-cdk-lib's stateful
   * resources) keeps the secret and leaves every certificate valid until it expires: nothing a
   * client still holds is revoked. DESTROY revokes a replaced certificate in CloudFormation's
   * cleanup, after every consumer moved to the new one (unless `revokeOnDelete` is false), and on
   * removal revokes the certificate and deletes the secret.
   *
   * RETAIN_ON_UPDATE_OR_DELETE retains as RETAIN does (and a failed first deploy still cleans up);
   * SNAPSHOT is refused: there is nothing to snapshot.
   *
   * @default RemovalPolicy.RETAIN
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

  /**
   * The secret version holding this certificate (the issuing stack's `secretVersionId`). Consumers
   * then read that version, and a new value here updates them (rotation across stacks).
   *
   * @default - AWSCURRENT, read when a consumer is created or updated
   */
  readonly secretVersionId?: string;
}
