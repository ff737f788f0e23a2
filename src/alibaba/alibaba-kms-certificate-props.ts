import { Duration, IResource, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CertificateTemplate } from '../acm-pca/issued-certificate-options';
import { IIssuingCertificateAuthority } from '../acm-pca/issued-certificate-props';
import { CertificatePem } from '../material/certificate-material';

/**
 * The key pair Alibaba Cloud KMS generates for a certificate (CreateCertificate's `KeySpec`).
 */
export class AlibabaKeySpec {
  /** RSA, 2048-bit modulus. */
  public static readonly RSA_2048 = new AlibabaKeySpec('RSA_2048');
  /** ECDSA on NIST P-256. */
  public static readonly EC_P256 = new AlibabaKeySpec('EC_P256');
  /**
   * SM2 (Chinese national standard). ACM Private CA cannot sign an SM2 CSR, so this key spec cannot
   * be used with `issuer`; upload a certificate from an SM2-capable CA with `certificateId` instead.
   */
  public static readonly EC_SM2 = new AlibabaKeySpec('EC_SM2');

  /**
   * @param value the KMS API value
   */
  private constructor(public readonly value: string) {}
}

/**
 * The subject of a certificate created in KMS. KMS requires CN, C, O and OU; the construct builds
 * the RFC 2253 distinguished name from these fields, escaping special characters.
 */
export interface AlibabaCertificateSubject {
  /** Common name (CN), at most 64 characters. */
  readonly commonName: string;
  /** Two-letter ISO 3166-1 country code in upper case (C), e.g. `CN`. */
  readonly country: string;
  /** Organization (O), at most 64 characters. */
  readonly organization: string;
  /** Organizational unit (OU), at most 64 characters. */
  readonly organizationalUnit: string;
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
}

/**
 * A certificate in Alibaba Cloud KMS Certificates Manager.
 */
export interface IAlibabaKmsCertificate extends IResource {
  /**
   * The KMS certificate ID (a UUID), as KMS operations such as CertificatePrivateKeySign take it.
   *
   * @attribute
   */
  readonly certificateId: string;

  /**
   * The certificate's Alibaba Cloud resource name (`acs:kms:<region>:<account>:certificate/<id>`),
   * for RAM policies.
   *
   * @attribute
   */
  readonly certificateArn: string;
}

/**
 * Attributes to import an existing KMS certificate.
 */
export interface AlibabaKmsCertificateAttributes {
  /**
   * The KMS certificate ID.
   */
  readonly certificateId: string;

  /**
   * The certificate's Alibaba Cloud resource name.
   *
   * @default - accessing `certificateArn` throws
   */
  readonly certificateArn?: string;
}

/**
 * Properties of an `AlibabaKmsCertificate`.
 *
 * Give `issuer` and `subject` to have KMS create the key and an ACM Private CA sign it; or give
 * `certificateId` and `certificate` to upload a certificate to a KMS certificate that exists.
 */
export interface AlibabaKmsCertificateProps {
  /**
   * The Alibaba Cloud region of KMS, e.g. `cn-hangzhou`.
   */
  readonly regionId: string;

  /**
   * A Secrets Manager secret holding the Alibaba Cloud credentials as JSON:
   * `{"accessKeyId": "...", "accessKeySecret": "...", "securityToken": "..."}` (`securityToken`
   * only for STS credentials, which expire). The handler reads it at deploy; the value is never in
   * the template, a custom-resource property or a log. The RAM identity needs
   * `kms:CreateCertificate`, `kms:UploadCertificate`, `kms:DescribeCertificate`,
   * `kms:GetCertificate`, `kms:UpdateCertificateStatus`, `kms:DeleteCertificate`,
   * `kms:TagResource` and `kms:UntagResource`.
   */
  readonly credentials: secretsmanager.ISecret;

  /**
   * The KMS endpoint to call: a host with an optional port (`kms-vpc.cn-hangzhou.aliyuncs.com`),
   * optionally with `https://`. Use it for a KMS VPC endpoint reached over VPN or Express Connect,
   * or a dedicated KMS instance. Plain `http://` is accepted only for a loopback test server.
   *
   * @default `kms.<regionId>.aliyuncs.com` over HTTPS (the public endpoint)
   */
  readonly endpoint?: string;

  /**
   * The VPC to run the handler in, for a handler that must reach Alibaba Cloud through a NAT
   * gateway, a VPN or Express Connect. Without it the handler uses Lambda's own internet access.
   *
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnets of `vpc` for the handler; they need a route to the KMS endpoint.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The ACM Private CA that signs the CSR KMS creates (e.g. a `PrivateCa`). With `subject`, this
   * creates the key in KMS.
   *
   * @default - no CA: upload only (`certificateId` and `certificate` are required)
   */
  readonly issuer?: IIssuingCertificateAuthority;

  /**
   * The subject of the certificate KMS creates (CN, C, O and OU are required).
   *
   * @default - required with `issuer`
   */
  readonly subject?: AlibabaCertificateSubject;

  /**
   * DNS subject alternative names, at most ten. A wildcard is allowed only as the whole first
   * label (`*.example.com`).
   *
   * @default - none
   */
  readonly subjectAlternativeNames?: string[];

  /**
   * The key pair KMS generates.
   *
   * @default AlibabaKeySpec.RSA_2048
   */
  readonly keySpec?: AlibabaKeySpec;

  /**
   * Whether the private key may ever be exported from KMS. KMS's own default is `true`; this
   * construct always sends the value, so the key stays in KMS unless you ask otherwise.
   *
   * @default false
   */
  readonly exportablePrivateKey?: boolean;

  /**
   * The ACM Private CA template the certificate is issued with.
   *
   * @default CertificateTemplate.END_ENTITY
   */
  readonly template?: CertificateTemplate;

  /**
   * How long the issued certificate is valid, in whole days. It must be shorter than the CA's own
   * validity.
   *
   * @default Duration.days(365)
   */
  readonly validity?: Duration;

  /**
   * Upload only: the ID of an existing KMS certificate (created with CreateCertificate outside this
   * app) to upload `certificate` to. The certificate must be issued for that KMS certificate's CSR.
   *
   * @default - KMS creates a new certificate (`issuer` and `subject` are required)
   */
  readonly certificateId?: string;

  /**
   * Upload only: the certificate to upload (any source: a string, a file, a secret, a parameter or
   * another construct's output).
   *
   * @default - required with `certificateId`
   */
  readonly certificate?: CertificatePem;

  /**
   * Upload only: the chain of `certificate`, ordered from its issuer to the root.
   *
   * @default - no chain
   */
  readonly certificateChain?: CertificatePem;

  /**
   * What happens to the KMS certificate when it is removed from the stack or replaced. DESTROY
   * calls DeleteCertificate, which deletes the private key too and cannot be undone; RETAIN keeps
   * it. A certificate created here is re-creatable from its inputs, and a replacement must remove
   * the old one, hence DESTROY; a certificate given by `certificateId` was created outside, hence
   * RETAIN.
   *
   * RETAIN_ON_UPDATE_OR_DELETE retains as RETAIN does (and a failed first deploy still cleans up);
   * SNAPSHOT is refused: there is nothing to snapshot.
   *
   * @default RemovalPolicy.DESTROY when KMS creates the certificate; RemovalPolicy.RETAIN with `certificateId`
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * With `removalPolicy` DESTROY: set the certificate INACTIVE (UpdateCertificateStatus) instead
   * of deleting it, so its key survives and it can be re-activated.
   *
   * @default false
   */
  readonly deactivateOnDelete?: boolean;
}
