/**
 * The example app: every construct of cdk-certificates in use, one stack per construct family.
 * `npm run example` synthesizes it offline (no AWS account, network or Docker) into cdk.out/.
 * Everything here is deterministic: no certificate is generated at synth time, and the stacks are
 * environment-agnostic so that synth needs no lookups.
 */
import { App, Duration, Stack, StackProps, Tags, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  AcmImportedCertificate,
  AlibabaKeySpec,
  AlibabaKmsCertificate,
  CertificatePem,
  CertificateWallet,
  DmsCertificate,
  IssuedKeyAlgorithm,
  KeyAlgorithm,
  LightsailCertificate,
  PrivateCa,
  PrivateKey,
  ScheduledCertificateCheck,
  ServerCertificate,
  SharePrincipal,
} from '../src';

/** IAM server certificates from material kept in Secrets Manager, on a load balancer and a CloudFront distribution. */
export class ServerCertificateStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const bundle = secretsmanager.Secret.fromSecretNameV2(this, 'WebBundle', 'tls/www.example.com');
    const web = new ServerCertificate(this, 'Web', {
      certificateBody: CertificatePem.fromSecret(bundle, 'certificate'),
      certificateChain: CertificatePem.fromSecret(bundle, 'chain'),
      privateKey: PrivateKey.fromSecret(bundle, 'privateKey'),
    });
    const cdn = new ServerCertificate(this, 'Cdn', {
      certificateBody: CertificatePem.fromSecret(bundle, 'certificate'),
      certificateChain: CertificatePem.fromSecret(bundle, 'chain'),
      privateKey: PrivateKey.fromSecret(bundle, 'privateKey'),
      forCloudFront: true,
    });
    // cloudfront.Distribution takes only ACM certificates: applyToDistribution sets its viewer
    // certificate to the IAM certificate's ID (TLS 1.2 2021 policy, SNI).
    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      defaultBehavior: {
        origin: new origins.HttpOrigin('origin.example.com'),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      },
      domainNames: ['www.example.com'],
    });
    ServerCertificate.applyToDistribution(distribution, cdn);
    for (const [rule, reason] of [
      ['AwsSolutions-CFR1', 'The example distribution serves every country; geo restrictions depend on the site.'],
      ['AwsSolutions-CFR2', 'The example distribution only shows how it takes the certificate; a web ACL depends on the site.'],
      ['AwsSolutions-CFR3', 'The example distribution only shows how it takes the certificate; it serves no traffic to log.'],
    ]) {
      Validations.of(distribution).acknowledge({ id: rule, reason });
    }
    // SNS notices 30 and 7 days before the certificate expires (EventBridge Scheduler, no Lambda).
    const notices = new sns.Topic(this, 'CertificateNotices', {
      masterKey: new kms.Key(this, 'CertificateNoticesKey', { enableKeyRotation: true }),
      enforceSSL: true,
    });
    web.notifyBeforeExpiry({ topic: notices, daysBefore: [30, 7] });
    // For accounts without a pipeline: the live check of what is deployed, daily, to its own topic.
    new ScheduledCertificateCheck(this, 'DailyCheck');

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      flowLogs: { all: {} },
    });
    const alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', { vpc, internetFacing: false });
    alb.addListener('Https', {
      port: 443,
      open: false,
      certificates: [elbv2.ListenerCertificate.fromArn(web.serverCertificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultAction: elbv2.ListenerAction.fixedResponse(200, { messageBody: 'ok' }),
    });
    Validations.of(alb).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason: 'The example load balancer only shows how a listener takes the certificate; it serves no traffic to log.',
    });
  }
}

/** DMS certificates: a CA from SSM with a KMS key and tags, trusted by an SSL endpoint; an Oracle wallet from S3. */
export class DmsCertificateStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const ca = ssm.StringParameter.fromStringParameterName(this, 'DbCa', '/certificates/db-ca');
    const trust = new DmsCertificate(this, 'DbTrust', {
      certificatePem: CertificatePem.fromSsmParameter(ca),
      kmsKey: new kms.Key(this, 'CertificateKey', { enableKeyRotation: true }),
    });
    Tags.of(trust).add('purpose', 'dms-ssl');
    new dms.CfnEndpoint(this, 'Source', {
      endpointType: 'source',
      engineName: 'postgres',
      serverName: 'db.internal.example.com',
      port: 5432,
      databaseName: 'app',
      sslMode: 'verify-full',
      certificateArn: trust.certificateArn,
    });
    const wallets = s3.Bucket.fromBucketName(this, 'Wallets', 'example-oracle-wallets');
    new DmsCertificate(this, 'OracleWallet', {
      certificateWallet: CertificateWallet.fromBucket(wallets, 'prod/cwallet.sso'),
      certificateIdentifier: 'oracle-prod-wallet',
    });
  }
}

/** Lightsail certificates validated through Route 53: one for a distribution, one for a container service. */
export class LightsailCertificateStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'example.com',
    });
    const cdn = new LightsailCertificate(this, 'Cdn', {
      domainName: 'example.com',
      subjectAlternativeNames: ['www.example.com'],
      hostedZone: zone,
      forDistribution: true,
    });
    cdn.attachToDistribution('example-distribution');
    const api = new LightsailCertificate(this, 'Api', { domainName: 'api.example.com', hostedZone: zone });
    new lightsail.CfnContainer(this, 'Service', {
      serviceName: 'api',
      power: 'nano',
      scale: 1,
      publicDomainNames: [api.publicDomainName()],
    });
  }
}

/**
 * ACM Private CA: a root with a CRL and audit reports, an issuing CA shared with another account, an
 * issued certificate uploaded to IAM and imported into ACM, the issuing CA's trust bundle as an ALB
 * mutual-TLS trust store.
 */
export class PrivateCaStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const root = new PrivateCa(this, 'Root', {
      subject: { commonName: 'Example Root CA', organization: 'Example Corp', country: 'US' },
      crl: {},
      auditReports: { schedule: scheduler.ScheduleExpression.rate(Duration.days(30)) },
    });
    // A year and 90 days before the root CA expires, an SNS notice (timed at deploy from its certificate).
    root.notifyBeforeExpiry({
      topic: new sns.Topic(this, 'CaNotices', {
        masterKey: new kms.Key(this, 'CaNoticesKey', { enableKeyRotation: true }),
        enforceSSL: true,
      }),
      daysBefore: [365, 90],
    });
    const issuing = new PrivateCa(this, 'Issuing', {
      parent: root,
      subject: { commonName: 'Example Issuing CA' },
      keyAlgorithm: KeyAlgorithm.EC_PRIME256V1,
    });
    const web = issuing.issueCertificate('Web', {
      commonName: 'www.example.com',
      dnsNames: ['www.example.com'],
      keyAlgorithm: IssuedKeyAlgorithm.EC_P256,
      validity: Duration.days(90),
    });
    new ServerCertificate(this, 'Iam', {
      certificateBody: web.certificatePem,
      certificateChain: web.certificateChainPem,
      privateKey: web.privateKey,
    });
    // The same issued certificate in ACM, for anything that takes an acm.ICertificate; a re-issue
    // re-imports it under the same ARN.
    new AcmImportedCertificate(this, 'Acm', {
      certificate: web.certificatePem,
      certificateChain: web.certificateChainPem,
      privateKey: web.privateKey,
    });
    // The issuing CA's chain as an S3 object, as an ALB mutual-TLS trust store for its client certificates.
    issuing.trustBundle.toAlbTrustStore(this, 'ClientTrustStore');
    // Another account issues end-entity certificates from the issuing CA, through AWS RAM.
    issuing.shareWith([SharePrincipal.account('111122223333')]);
    // A DMS endpoint that trusts servers whose certificates the root's hierarchy issued.
    new DmsCertificate(this, 'DbTrust', { certificatePem: root.certificatePem });
  }
}

/** Alibaba Cloud KMS certificates: a key made in KMS and signed by an ACM Private CA; an upload to a KMS certificate made elsewhere. */
export class AlibabaKmsCertificateStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const credentials = secretsmanager.Secret.fromSecretNameV2(this, 'AlibabaCredentials', 'alibaba/kms-certificates');
    const ca = new PrivateCa(this, 'MultiCloudCa', {
      subject: { commonName: 'Example Multi-Cloud CA', organization: 'Example Corp', country: 'US' },
    });
    const web = new AlibabaKmsCertificate(this, 'Web', {
      regionId: 'cn-hangzhou',
      credentials,
      issuer: ca,
      subject: { commonName: 'www.example.cn', country: 'CN', organization: 'Example Corp', organizationalUnit: 'Web' },
      subjectAlternativeNames: ['www.example.cn', 'api.example.cn'],
      keySpec: AlibabaKeySpec.EC_P256,
      validity: Duration.days(90),
    });
    Tags.of(web).add('team', 'platform');
    const signing = secretsmanager.Secret.fromSecretNameV2(this, 'SigningPem', 'alibaba/signing-certificate');
    new AlibabaKmsCertificate(this, 'Signing', {
      regionId: 'cn-shanghai',
      credentials,
      certificateId: '12345678-1234-4234-8234-123456789012',
      certificate: CertificatePem.fromSecret(signing, 'certificate'),
      certificateChain: CertificatePem.fromSecret(signing, 'chain'),
    });
  }
}

/** Builds the example app's stacks into `app`. */
export function buildExampleApp(app: App): Stack[] {
  return [
    new ServerCertificateStack(app, 'CertificatesExample-ServerCertificate'),
    new DmsCertificateStack(app, 'CertificatesExample-DmsCertificate'),
    new LightsailCertificateStack(app, 'CertificatesExample-LightsailCertificate'),
    new PrivateCaStack(app, 'CertificatesExample-PrivateCa'),
    new AlibabaKmsCertificateStack(app, 'CertificatesExample-AlibabaKmsCertificate'),
  ];
}

if (require.main === module) {
  const app = new App();
  buildExampleApp(app);
  app.synth();
}
