/**
 * The example app: every construct of cdk-certificates in use, one stack per construct family.
 * `npm run example` synthesizes it offline (no AWS account, network or Docker) into cdk.out/.
 * Everything here is deterministic: no certificate is generated at synth time, and the stacks are
 * environment-agnostic so that synth needs no lookups.
 */
import { App, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CertificatePem, PrivateKey, ServerCertificate } from '../src';

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

/** Builds the example app's stacks into `app`. */
export function buildExampleApp(app: App): Stack[] {
  return [
    new ServerCertificateStack(app, 'CertificatesExample-ServerCertificate'),
  ];
}

if (require.main === module) {
  const app = new App();
  buildExampleApp(app);
  app.synth();
}
