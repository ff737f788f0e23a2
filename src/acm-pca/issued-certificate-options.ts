import { Aws, Token } from 'aws-cdk-lib';
import { CertificateInputError } from '../private/errors';

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
