/**
 * Enum-like classes of the ACM Private CA settings a `PrivateCa` takes.
 */
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as s3 from 'aws-cdk-lib/aws-s3';

// Key families decide which signing algorithms fit a key: RSA keys sign with SHA*WITHRSA, EC keys
// with SHA*WITHECDSA, SM2 with SM3WITHSM2, ML-DSA with the same parameter set.
const RSA = 'RSA';
const EC = 'EC';
const SM2 = 'SM2';
const ML_DSA = 'ML_DSA';

/**
 * The type and size of the key pair a private CA creates (CreateCertificateAuthority's `KeyAlgorithm`).
 *
 * A subordinate CA must use a key algorithm its parent supports.
 */
export class KeyAlgorithm {
  /** RSA, 2048-bit modulus (the default). */
  public static readonly RSA_2048 = new KeyAlgorithm('RSA_2048', RSA);
  /** RSA, 3072-bit modulus. */
  public static readonly RSA_3072 = new KeyAlgorithm('RSA_3072', RSA);
  /** RSA, 4096-bit modulus. */
  public static readonly RSA_4096 = new KeyAlgorithm('RSA_4096', RSA);
  /** ECDSA on the NIST P-256 curve. */
  public static readonly EC_PRIME256V1 = new KeyAlgorithm('EC_prime256v1', EC);
  /** ECDSA on the NIST P-384 curve. */
  public static readonly EC_SECP384R1 = new KeyAlgorithm('EC_secp384r1', EC);
  /** ECDSA on the NIST P-521 curve. */
  public static readonly EC_SECP521R1 = new KeyAlgorithm('EC_secp521r1', EC);
  /** SM2 (available in the China Regions only). */
  public static readonly SM2 = new KeyAlgorithm('SM2', SM2);
  /** ML-DSA-44 (post-quantum, FIPS 204). */
  public static readonly ML_DSA_44 = new KeyAlgorithm('ML_DSA_44', ML_DSA);
  /** ML-DSA-65 (post-quantum, FIPS 204). */
  public static readonly ML_DSA_65 = new KeyAlgorithm('ML_DSA_65', ML_DSA);
  /** ML-DSA-87 (post-quantum, FIPS 204). */
  public static readonly ML_DSA_87 = new KeyAlgorithm('ML_DSA_87', ML_DSA);

  /** @internal */
  public readonly _family: string;

  /**
   * @param value the API value, e.g. `RSA_2048`
   */
  private constructor(public readonly value: string, family: string) {
    this._family = family;
  }

  /** The signing algorithm used when none is given: the one whose strength matches the key. */
  public get defaultSigningAlgorithm(): SigningAlgorithm {
    switch (this.value) {
      case 'EC_prime256v1':
        return SigningAlgorithm.SHA256WITHECDSA;
      case 'EC_secp384r1':
        return SigningAlgorithm.SHA384WITHECDSA;
      case 'EC_secp521r1':
        return SigningAlgorithm.SHA512WITHECDSA;
      case 'SM2':
        return SigningAlgorithm.SM3WITHSM2;
      case 'ML_DSA_44':
        return SigningAlgorithm.ML_DSA_44;
      case 'ML_DSA_65':
        return SigningAlgorithm.ML_DSA_65;
      case 'ML_DSA_87':
        return SigningAlgorithm.ML_DSA_87;
      default:
        return SigningAlgorithm.SHA256WITHRSA;
    }
  }

  /** Whether `signing` fits this key (same family; ML-DSA signs only with its own parameter set). */
  public accepts(signing: SigningAlgorithm): boolean {
    if (this._family === ML_DSA) {
      return signing.value === this.value;
    }
    return signing._family === this._family;
  }
}

/**
 * The algorithm a private CA signs with (CreateCertificateAuthority's `SigningAlgorithm`, also
 * used when the CA signs its own and its subordinates' certificates). It must fit the key family.
 */
export class SigningAlgorithm {
  /** SHA-256 with RSA. */
  public static readonly SHA256WITHRSA = new SigningAlgorithm('SHA256WITHRSA', RSA);
  /** SHA-384 with RSA. */
  public static readonly SHA384WITHRSA = new SigningAlgorithm('SHA384WITHRSA', RSA);
  /** SHA-512 with RSA. */
  public static readonly SHA512WITHRSA = new SigningAlgorithm('SHA512WITHRSA', RSA);
  /** SHA-256 with ECDSA. */
  public static readonly SHA256WITHECDSA = new SigningAlgorithm('SHA256WITHECDSA', EC);
  /** SHA-384 with ECDSA. */
  public static readonly SHA384WITHECDSA = new SigningAlgorithm('SHA384WITHECDSA', EC);
  /** SHA-512 with ECDSA. */
  public static readonly SHA512WITHECDSA = new SigningAlgorithm('SHA512WITHECDSA', EC);
  /** SM3 with SM2 (China Regions). */
  public static readonly SM3WITHSM2 = new SigningAlgorithm('SM3WITHSM2', SM2);
  /** ML-DSA-44. */
  public static readonly ML_DSA_44 = new SigningAlgorithm('ML_DSA_44', ML_DSA);
  /** ML-DSA-65. */
  public static readonly ML_DSA_65 = new SigningAlgorithm('ML_DSA_65', ML_DSA);
  /** ML-DSA-87. */
  public static readonly ML_DSA_87 = new SigningAlgorithm('ML_DSA_87', ML_DSA);

  /** @internal */
  public readonly _family: string;

  /**
   * @param value the API value, e.g. `SHA256WITHRSA`
   */
  private constructor(public readonly value: string, family: string) {
    this._family = family;
  }
}

/**
 * What a CA issues: general-purpose certificates, or short-lived ones (at most seven days, no
 * revocation needed, priced lower). Fixed when the CA is created.
 */
export class CaUsageMode {
  /** Certificates of any validity (the service default). */
  public static readonly GENERAL_PURPOSE = new CaUsageMode('GENERAL_PURPOSE');
  /** Certificates valid for at most seven days. */
  public static readonly SHORT_LIVED_CERTIFICATE = new CaUsageMode('SHORT_LIVED_CERTIFICATE');

  private constructor(
    /** The value as ACM Private CA names it. */
    public readonly value: string,
  ) {}
}

/**
 * The compliance standard for the HSMs that keep the CA key. Some Regions support only
 * `CCPC_LEVEL_1_OR_HIGHER` or `FIPS_140_2_LEVEL_2_OR_HIGHER`; creating a CA there with the default
 * fails with "A certificate authority cannot be created in this region with the specified security
 * standard".
 */
export class KeyStorageSecurityStandard {
  /** FIPS 140-2 level 2 or higher. */
  public static readonly FIPS_140_2_LEVEL_2_OR_HIGHER = new KeyStorageSecurityStandard('FIPS_140_2_LEVEL_2_OR_HIGHER');
  /** FIPS 140-2 level 3 or higher (the service default). */
  public static readonly FIPS_140_2_LEVEL_3_OR_HIGHER = new KeyStorageSecurityStandard('FIPS_140_2_LEVEL_3_OR_HIGHER');
  /** Chinese CCPC level 1 or higher (China Regions). */
  public static readonly CCPC_LEVEL_1_OR_HIGHER = new KeyStorageSecurityStandard('CCPC_LEVEL_1_OR_HIGHER');

  private constructor(
    /** The value as ACM Private CA names it. */
    public readonly value: string,
  ) {}
}

/** The format of an audit report (CreateCertificateAuthorityAuditReport's `AuditReportResponseFormat`). */
export class AuditReportFormat {
  /** JSON. */
  public static readonly JSON = new AuditReportFormat('JSON');
  /** CSV. */
  public static readonly CSV = new AuditReportFormat('CSV');

  private constructor(
    /** The value as ACM Private CA names it. */
    public readonly value: string,
  ) {}
}

/**
 * Who may read the CRLs a CA writes to S3 (the S3 object ACL it sets).
 */
export class CrlObjectAcl {
  /**
   * Only the bucket owner: works with S3 Block Public Access; serve the CRLs through CloudFront
   * (or another reader) when clients must fetch them (the default).
   */
  public static readonly BUCKET_OWNER_FULL_CONTROL = new CrlObjectAcl('BUCKET_OWNER_FULL_CONTROL');
  /** Anyone on the internet: needs a bucket that allows public ACLs (not the bucket the CA creates). */
  public static readonly PUBLIC_READ = new CrlObjectAcl('PUBLIC_READ');

  private constructor(
    /** The value as ACM Private CA names it. */
    public readonly value: string,
  ) {}
}

/** How the CA lays out its CRL. */
export class CrlType {
  /** One CRL for every revoked certificate (up to one million certificates per CA; the default). */
  public static readonly COMPLETE = new CrlType('COMPLETE');
  /** Several CRLs, each for part of the certificates (for CAs issuing more than a million). */
  public static readonly PARTITIONED = new CrlType('PARTITIONED');

  private constructor(
    /** The value as ACM Private CA names it. */
    public readonly value: string,
  ) {}
}

/**
 * The CloudFront distribution a CA's CRLs are served through (see `CrlDistribution.cloudFront`).
 */
export interface CrlCloudFrontOptions {
  /**
   * An ACM certificate in us-east-1 covering `crl.customCname`, which makes that name the
   * distribution's alternate domain name (CloudFront answers only for names it holds a
   * certificate for). Point the name at the distribution yourself (`PrivateCa.crlDistribution`):
   * a CNAME, or a Route 53 alias. Required with `crl.customCname`.
   *
   * @default - no alternate domain name: the CRL Distribution Points name the distribution's
   * own `*.cloudfront.net` domain
   */
  readonly certificate?: acm.ICertificate;

  /**
   * The edge locations that serve the CRLs.
   * @default cloudfront.PriceClass.PRICE_CLASS_ALL (nearest edge everywhere)
   */
  readonly priceClass?: cloudfront.PriceClass;

  /**
   * A bucket for CloudFront standard access logs (it must have ACLs enabled, e.g. object
   * ownership `BUCKET_OWNER_PREFERRED`).
   * @default - no access logs
   */
  readonly logBucket?: s3.IBucket;

  /**
   * The ARN of an AWS WAF web ACL (scope CLOUDFRONT, in us-east-1) to attach.
   * @default - no web ACL
   */
  readonly webAclId?: string;

  /**
   * Countries allowed or denied. Revocation checks from a blocked country then fail, which
   * hard-failing clients treat as revoked.
   * @default - no restriction
   */
  readonly geoRestriction?: cloudfront.GeoRestriction;
}

/**
 * How relying parties reach a CA's CRLs, i.e. what host the CRL Distribution Points extension of
 * every issued certificate names (`http://<host>/<path>/<CA id>.crl`).
 *
 * The CRL bucket this library creates blocks all public access, so its own S3 URL answers 403.
 * The default puts a CloudFront distribution with origin access control (OAC) in front of it.
 */
export class CrlDistribution {
  /**
   * No distribution is created. The CRL Distribution Points name `crl.customCname` (a host you
   * serve the bucket's CRLs under yourself), or without one the bucket's S3 URL, which answers
   * only when your own `crl.bucket` lets the public read the CRLs (`objectAcl: PUBLIC_READ` on a
   * bucket that allows public ACLs).
   */
  public static readonly NONE = new CrlDistribution(false);

  /**
   * A CloudFront distribution with origin access control in front of the private CRL bucket (the
   * default). It serves HTTP as well as HTTPS: CRL Distribution Points are `http://` URLs
   * (RFC 5280), and the CRL is signed by the CA, so TLS adds nothing to its integrity.
   */
  public static cloudFront(options: CrlCloudFrontOptions = {}): CrlDistribution {
    return new CrlDistribution(true, options);
  }

  /** @internal */
  public readonly _cloudFront: boolean;
  /** @internal */
  public readonly _options: CrlCloudFrontOptions;

  private constructor(cloudFront: boolean, options: CrlCloudFrontOptions = {}) {
    this._cloudFront = cloudFront;
    this._options = options;
  }
}
