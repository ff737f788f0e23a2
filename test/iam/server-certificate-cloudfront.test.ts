import { App, Lazy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { CertificatePem, PrivateKey, ServerCertificate, ServerCertificateProps } from '../../src';

function newStack(app = new App()): Stack {
  return new Stack(app, 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function props(stack: Stack, overrides: Partial<ServerCertificateProps> = {}): ServerCertificateProps {
  const bundle = stack.node.tryFindChild('Bundle') as secretsmanager.ISecret | undefined
    ?? secretsmanager.Secret.fromSecretNameV2(stack, 'Bundle', 'tls/cdn.example.com');
  return {
    certificateBody: CertificatePem.fromSecret(bundle, 'certificate'),
    certificateChain: CertificatePem.fromSecret(bundle, 'chain'),
    privateKey: PrivateKey.fromSecret(bundle, 'privateKey'),
    forCloudFront: true,
    ...overrides,
  };
}

function distribution(stack: Stack, extra: Partial<cloudfront.DistributionProps> = {}): cloudfront.Distribution {
  return new cloudfront.Distribution(stack, 'Distribution', {
    defaultBehavior: { origin: new origins.HttpOrigin('origin.example.com') },
    domainNames: ['cdn.example.com'],
    ...extra,
  });
}

describe('ServerCertificate.applyToDistribution', () => {
  test('sets the IAM certificate ID, TLS 1.2 (2021) and SNI on the distribution, keeping its aliases and origins', () => {
    const stack = newStack();
    const certificate = new ServerCertificate(stack, 'Certificate', props(stack));
    const cdn = distribution(stack);
    ServerCertificate.applyToDistribution(cdn, certificate);

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['cdn.example.com'],
        Origins: [Match.objectLike({ DomainName: 'origin.example.com' })],
        ViewerCertificate: {
          IamCertificateId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Certificate'), 'ServerCertificateId'] },
          MinimumProtocolVersion: 'TLSv1.2_2021',
          SslSupportMethod: 'sni-only',
        },
      }),
    });
    // The L1 property is set (no raw override), so the template holds nothing else for it.
    const [resource] = Object.values(template.findResources('AWS::CloudFront::Distribution'));
    expect(Object.keys(resource.Properties.DistributionConfig.ViewerCertificate).sort())
      .toEqual(['IamCertificateId', 'MinimumProtocolVersion', 'SslSupportMethod']);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('takes the security policy and SSL support method from the options', () => {
    const stack = newStack();
    const certificate = new ServerCertificate(stack, 'Certificate', props(stack));
    ServerCertificate.applyToDistribution(distribution(stack), certificate, {
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2025,
      sslSupportMethod: cloudfront.SSLMethod.VIP,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        ViewerCertificate: Match.objectLike({ MinimumProtocolVersion: 'TLSv1.2_2025', SslSupportMethod: 'vip' }),
      }),
    });
  });

  test('works with an imported certificate given its ID', () => {
    const stack = newStack();
    const imported = ServerCertificate.fromServerCertificateAttributes(stack, 'Imported', {
      serverCertificateName: 'cdn-2026',
      path: '/cloudfront/',
      serverCertificateId: 'ASCAEXAMPLE1234567890',
    });
    ServerCertificate.applyToDistribution(distribution(stack), imported);
    Template.fromStack(stack).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        ViewerCertificate: Match.objectLike({ IamCertificateId: 'ASCAEXAMPLE1234567890' }),
      }),
    });
  });

  test('an imported certificate without its ID fails, naming serverCertificateId', () => {
    const stack = newStack();
    const imported = ServerCertificate.fromServerCertificateName(stack, 'Imported', 'cdn-2026');
    expect(() => ServerCertificate.applyToDistribution(distribution(stack), imported))
      .toThrow(/\[Stack\/Imported\] serverCertificateId: was not given to fromServerCertificateAttributes/);
  });

  test('a certificate outside /cloudfront/ fails, naming forCloudFront', () => {
    const stack = newStack();
    const certificate = new ServerCertificate(stack, 'Certificate', props(stack, { forCloudFront: false }));
    expect(() => ServerCertificate.applyToDistribution(distribution(stack), certificate))
      .toThrow(/\[Stack\/Certificate\] forCloudFront: .*\(this one's is '\/'\): set forCloudFront: true/);
  });

  test('a distribution that already has an ACM certificate fails rather than losing it', () => {
    const stack = newStack();
    const certificate = new ServerCertificate(stack, 'Certificate', props(stack));
    const cdn = distribution(stack, {
      certificate: acm.Certificate.fromCertificateArn(stack, 'Acm',
        'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555'),
    });
    expect(() => ServerCertificate.applyToDistribution(cdn, certificate))
      .toThrow(/\[Stack\/Distribution\] certificate: the distribution already has a viewer certificate/);
  });

  test('a second certificate on the same distribution fails', () => {
    const stack = newStack();
    const first = new ServerCertificate(stack, 'First', props(stack));
    const second = new ServerCertificate(stack, 'Second', props(stack));
    const cdn = distribution(stack);
    ServerCertificate.applyToDistribution(cdn, first);
    expect(() => ServerCertificate.applyToDistribution(cdn, second)).toThrow(/already has a viewer certificate/);
  });

  test('something that is not a cloudfront.Distribution fails, naming distribution', () => {
    const stack = newStack();
    const certificate = new ServerCertificate(stack, 'Certificate', props(stack));
    const notADistribution = new Stack(new App(), 'Other') as unknown as cloudfront.Distribution;
    expect(() => ServerCertificate.applyToDistribution(notADistribution, certificate))
      .toThrow(/distribution: must be a cloudfront.Distribution/);
  });

  test('a distribution whose L1 config is a token fails rather than dropping the certificate', () => {
    const stack = newStack();
    const certificate = new ServerCertificate(stack, 'Certificate', props(stack));
    const wrapper = new Construct(stack, 'Wrapped');
    new cloudfront.CfnDistribution(wrapper, 'Resource', {
      distributionConfig: Lazy.any({ produce: () => ({ enabled: true }) }),
    });
    expect(() => ServerCertificate.applyToDistribution(wrapper as unknown as cloudfront.Distribution, certificate))
      .toThrow(/\[Stack\/Wrapped\] distribution: has a distributionConfig that is a token/);
  });

  test('cdk-nag sees the viewer certificate: no AwsSolutions-CFR4 (outdated or default viewer certificate)', () => {
    const app = new App();
    const stack = newStack(app);
    const certificate = new ServerCertificate(stack, 'Certificate', props(stack));
    const without = new cloudfront.Distribution(stack, 'Without', {
      defaultBehavior: { origin: new origins.HttpOrigin('origin.example.com') },
    });
    ServerCertificate.applyToDistribution(distribution(stack), certificate);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const cfr4 = report.violations.filter(v => v.ruleName === 'AwsSolutions-CFR4')
      .flatMap(v => v.violatingResources.map(r => r.constructPath));
    // The control: the distribution without a certificate is reported, the one with it is not.
    expect(cfr4).toEqual([without.node.defaultChild!.node.path]);
  });
});
