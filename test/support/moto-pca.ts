/**
 * Private CAs in moto, made the way a user makes a root CA: CreateCertificateAuthority, the CA's
 * CSR signed with the RootCACertificate template, ImportCertificateAuthorityCertificate.
 */
import {
  ACMPCAClient,
  CertificateAuthority,
  CreateCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
} from '@aws-sdk/client-acm-pca';

/** A CA in moto. */
export interface MotoCa {
  readonly arn: string;
  /** The CA's own certificate (PEM); absent while PENDING_CERTIFICATE. */
  readonly certificatePem?: string;
}

/**
 * Creates a root CA; `activate` (default) installs its self-signed certificate so it is ACTIVE,
 * otherwise it stays PENDING_CERTIFICATE.
 */
export async function createRootCa(pca: ACMPCAClient, commonName: string, activate = true): Promise<MotoCa> {
  const created = await pca.send(new CreateCertificateAuthorityCommand({
    CertificateAuthorityType: 'ROOT',
    CertificateAuthorityConfiguration: {
      // moto's CA key is RSA 2048 whatever is asked: ask for that, so the model matches the key.
      KeyAlgorithm: 'RSA_2048',
      SigningAlgorithm: 'SHA256WITHRSA',
      Subject: { CommonName: commonName, Organization: 'Example', Country: 'US' },
    },
    UsageMode: 'GENERAL_PURPOSE',
  }));
  const arn = created.CertificateAuthorityArn!;
  if (!activate) {
    return { arn };
  }
  const { Csr } = await pca.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: arn }));
  const issued = await pca.send(new IssueCertificateCommand({
    CertificateAuthorityArn: arn,
    Csr: new TextEncoder().encode(Csr!),
    SigningAlgorithm: 'SHA256WITHRSA',
    TemplateArn: 'arn:aws:acm-pca:::template/RootCACertificate/V1',
    Validity: { Type: 'YEARS', Value: 10 },
  }));
  const got = await pca.send(new GetCertificateCommand({ CertificateAuthorityArn: arn, CertificateArn: issued.CertificateArn! }));
  const certificatePem = `${got.Certificate!.trim()}\n`;
  await pca.send(new ImportCertificateAuthorityCertificateCommand({
    CertificateAuthorityArn: arn,
    Certificate: new TextEncoder().encode(certificatePem),
  }));
  return { arn, certificatePem };
}

/** DescribeCertificateAuthority, or undefined when moto does not know the CA. */
export async function describeCa(pca: ACMPCAClient, arn: string): Promise<CertificateAuthority | undefined> {
  try {
    return (await pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: arn }))).CertificateAuthority;
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') {
      return undefined;
    }
    throw e;
  }
}
