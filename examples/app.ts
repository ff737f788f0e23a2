/**
 * The example app: every construct of cdk-certificates in use, one stack per construct family.
 * `npm run example` synthesizes it offline (no AWS account, network or Docker) into cdk.out/.
 * Everything here is deterministic: no certificate is generated at synth time, and the stacks are
 * environment-agnostic so that synth needs no lookups.
 */
import { App, Stack, StackProps, Tags, Validations } from 'aws-cdk-lib';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  CertificatePem,
  CertificateWallet,
  DmsCertificate,
  LightsailCertificate,
  PrivateKey,
  ServerCertificate,
} from '../src';

/** IAM server certificates from material kept in Secrets Manager, on a load balancer. */
export class ServerCertificateStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const bundle = secretsmanager.Secret.fromSecretNameV2(this, 'WebBundle', 'tls/www.example.com');
    const web = new ServerCertificate(this, 'Web', {
      certificateBody: CertificatePem.fromSecret(bundle, 'certificate'),
      certificateChain: CertificatePem.fromSecret(bundle, 'chain'),
      privateKey: PrivateKey.fromSecret(bundle, 'privateKey'),
    });
    new ServerCertificate(this, 'Cdn', {
      certificateBody: CertificatePem.fromSecret(bundle, 'certificate'),
      certificateChain: CertificatePem.fromSecret(bundle, 'chain'),
      privateKey: PrivateKey.fromSecret(bundle, 'privateKey'),
      forCloudFront: true,
    });

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

/** Builds the example app's stacks into `app`. */
export function buildExampleApp(app: App): Stack[] {
  return [
    new ServerCertificateStack(app, 'CertificatesExample-ServerCertificate'),
    new DmsCertificateStack(app, 'CertificatesExample-DmsCertificate'),
    new LightsailCertificateStack(app, 'CertificatesExample-LightsailCertificate'),
  ];
}

if (require.main === module) {
  const app = new App();
  buildExampleApp(app);
  app.synth();
}
