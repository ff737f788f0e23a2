import { Duration, Expiration, Resource, Token } from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import { Construct } from 'constructs';
import { checkCrossAccountTemplate, dependOnIssuance, validityOf } from './issued-certificate-checks';
import { CertificateTemplate } from './issued-certificate-options';
import { IIssuingCertificateAuthority } from './issued-certificate-props';
import { checkCsr } from '../contract/issued-certificate';
import { CertificatePem } from '../material/certificate-material';
import { CertificateInputError } from '../private/errors';

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
    const templateArn = (props.template ?? CertificateTemplate.END_ENTITY).templateArn;
    checkCrossAccountTemplate(this, ca, templateArn);
    const resource = new acmpca.CfnCertificate(this, 'Resource', {
      certificateAuthorityArn: ca.certificateAuthorityArn,
      certificateSigningRequest: props.csr,
      signingAlgorithm,
      templateArn,
      validity: { type: validity.type, value: validity.value },
    });
    dependOnIssuance(resource, ca);
    this.certificateArn = resource.attrArn;
    this.certificatePem = CertificatePem.fromString(resource.attrCertificate);
    this.certificateChainPem = ca.issuedCertificateChainPem;
  }
}
