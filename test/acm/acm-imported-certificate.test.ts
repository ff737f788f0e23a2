import { App, CfnResource, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EKU, KU, makeUsageLeaf } from './acm-fixtures';
import { AcmImportedCertificate, AcmImportedCertificateProps, CertificatePem, PrivateCa, PrivateKey } from '../../src';
import { makeTestPki, TestCertificate, TestPki } from '../support/fixtures/pki';

let pki: TestPki;
let rsa1536: TestCertificate;
let noEku: TestCertificate;
beforeAll(async () => {
  pki = await makeTestPki();
  rsa1536 = await makeUsageLeaf(pki.intermediate, { key: 'RSA_1536' });
  noEku = await makeUsageLeaf(pki.intermediate, { extendedKeyUsage: null, keyUsage: KU.digitalSignature });
});

function newStack(region = 'eu-west-1'): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region } });
}

function keySecret(stack: Stack): secretsmanager.ISecret {
  const existing = stack.node.tryFindChild('Key') as secretsmanager.ISecret | undefined;
  return existing ?? secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-key-AbCdEf');
}

function props(stack: Stack, overrides: Partial<AcmImportedCertificateProps> = {}): AcmImportedCertificateProps {
  return {
    certificate: CertificatePem.fromString(pki.leaf.certificatePem),
    certificateChain: CertificatePem.fromString(pki.chainPem),
    privateKey: PrivateKey.fromSecret(keySecret(stack)),
    ...overrides,
  };
}

describe('AcmImportedCertificate template', () => {
  test('renders a retained custom resource with references only, never the key', () => {
    const stack = newStack();
    new AcmImportedCertificate(stack, 'Web', props(stack));
    const template = Template.fromStack(stack);
    template.hasResource('Custom::AcmImportedCertificate', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Certificate: { kind: 'inline', value: pki.leaf.certificatePem },
        CertificateChain: { kind: 'inline', value: pki.chainPem },
        PrivateKey: { kind: 'secret', secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-key-AbCdEf' },
        RemovalPolicy: 'retain',
      },
    });
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toContain('PRIVATE KEY');
    expect(json).not.toContain(pki.leaf.privateKeyPem.split('\n')[1]);
  });

  test('one Node.js 22 handler serves every certificate of the stack', () => {
    const stack = newStack();
    for (const id of ['A', 'B', 'C']) {
      new AcmImportedCertificate(stack, id, props(stack));
    }
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::AcmImportedCertificate', 3);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Handler: 'index.onEvent', Timeout: Duration.minutes(14).toSeconds() });
  });

  test('the role imports only with the ownership tag and changes or deletes only certificates that carry it', () => {
    const stack = newStack();
    new AcmImportedCertificate(stack, 'Web', props(stack));
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap(p => p.Properties.PolicyDocument.Statement);
    const certificates = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm:eu-west-1:123456789012:certificate/*']] };
    const withAction = (action: string) => statements.filter((s: any) => [s.Action].flat().includes(action));
    expect(withAction('acm:ImportCertificate')).toEqual([
      {
        Action: ['acm:ImportCertificate', 'acm:AddTagsToCertificate'],
        Effect: 'Allow',
        Resource: certificates,
        Condition: { StringEquals: { 'aws:RequestTag/cdk-certificates:stack-id': { Ref: 'AWS::StackId' } } },
      },
      {
        Action: ['acm:ImportCertificate', 'acm:AddTagsToCertificate', 'acm:RemoveTagsFromCertificate', 'acm:DeleteCertificate'],
        Effect: 'Allow',
        Resource: certificates,
        Condition: { StringEquals: { 'aws:ResourceTag/cdk-certificates:stack-id': { Ref: 'AWS::StackId' } } },
      },
    ]);
    expect(withAction('acm:DeleteCertificate')).toHaveLength(1);
    expect(withAction('acm:GetCertificate')[0]).toMatchObject({ Resource: certificates });
    expect(withAction('acm:ListCertificates')[0]).toMatchObject({ Resource: '*' });
    expect(withAction('secretsmanager:GetSecretValue')[0]).toMatchObject({ Resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-key-AbCdEf' });
  });

  test('Tags.of() reaches the ACM certificate; ACM\'s tag rules are checked at synth', () => {
    const stack = newStack();
    new AcmImportedCertificate(stack, 'Web', props(stack));
    Tags.of(stack).add('team', 'platform');
    Template.fromStack(stack).hasResourceProperties('Custom::AcmImportedCertificate', { Tags: [{ Key: 'team', Value: 'platform' }] });
    const other = newStack();
    const cert = new AcmImportedCertificate(other, 'Web', props(other));
    Tags.of(cert).add('aws:owner', 'ops');
    expect(() => Template.fromStack(other)).toThrow(/tags: tag key 'aws:owner' must not begin with 'aws:'/);
  });

  test('more than 48 tags is refused: ACM takes 50, two are the ownership tags', () => {
    const stack = newStack();
    const cert = new AcmImportedCertificate(stack, 'Web', props(stack));
    for (let i = 0; i < 49; i++) Tags.of(cert).add(`k${i}`, 'v');
    expect(() => Template.fromStack(stack)).toThrow(/ACM allows at most 48 tags \(50 less the 2 ownership tags the library adds\)/);
  });

  test('removalPolicy: DESTROY is honoured twice; applyRemovalPolicy changes both; SNAPSHOT is refused', () => {
    const stack = newStack();
    new AcmImportedCertificate(stack, 'A', props(stack, { removalPolicy: RemovalPolicy.DESTROY }));
    const b = new AcmImportedCertificate(stack, 'B', props(stack));
    b.applyRemovalPolicy(RemovalPolicy.DESTROY);
    const resources = Object.values(Template.fromStack(stack).findResources('Custom::AcmImportedCertificate'));
    for (const r of resources) {
      expect(r).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete', Properties: { RemovalPolicy: 'destroy' } });
    }
    expect(() => new AcmImportedCertificate(stack, 'C', props(stack, { removalPolicy: RemovalPolicy.SNAPSHOT })))
      .toThrow(/removalPolicy: SNAPSHOT does not apply to a certificate/);
  });

  test('certificateArn is the physical ID (Ref), kept across re-imports', () => {
    const stack = newStack();
    const cert = new AcmImportedCertificate(stack, 'Web', props(stack));
    expect(stack.resolve(cert.certificateArn)).toEqual({ Ref: stack.getLogicalId(cert.node.defaultChild as CfnResource) });
    expect(stack.resolve(cert.certificateRef.certificateId)).toEqual(stack.resolve(cert.certificateArn));
    expect(stack.resolve(cert.keyAlgorithm)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'KeyAlgorithm'] });
  });
});

describe('AcmImportedCertificate is an acm.ICertificate', () => {
  test('fromCertificateArn imports an ACM certificate with its metric', () => {
    const stack = newStack();
    const arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f9e8d7c-6b5a-4321-8765-43210fedcba9';
    const cert = AcmImportedCertificate.fromCertificateArn(stack, 'Imported', arn);
    expect(cert.certificateArn).toBe(arn);
    expect(cert.metricDaysToExpiry().dimensions).toEqual({ CertificateArn: arn });
  });

  test('metricDaysToExpiry is ACM\'s DaysToExpiry (minimum over a day) and takes an alarm', () => {
    const stack = newStack();
    const cert = new AcmImportedCertificate(stack, 'Web', props(stack));
    const metric = cert.metricDaysToExpiry();
    expect(metric.namespace).toBe('AWS/CertificateManager');
    expect(metric.metricName).toBe('DaysToExpiry');
    expect(metric.statistic).toBe('Minimum');
    expect(metric.period.toDays()).toBe(1);
    new cloudwatch.Alarm(stack, 'Expiry', {
      metric,
      threshold: 30,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/CertificateManager',
      MetricName: 'DaysToExpiry',
      Statistic: 'Minimum',
      Period: 86400,
      Threshold: 30,
      ComparisonOperator: 'LessThanThreshold',
      Dimensions: [{ Name: 'CertificateArn', Value: { Ref: Match.stringLikeRegexp('^Web') } }],
    });
  });

  test('an ALB listener, a CloudFront distribution in us-east-1 and an API Gateway domain take it', () => {
    const stack = newStack('us-east-1');
    const cert: acm.ICertificate = new AcmImportedCertificate(stack, 'Web', props(stack));
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc });
    alb.addListener('Https', { port: 443, certificates: [cert], defaultAction: elbv2.ListenerAction.fixedResponse(200) });
    new cloudfront.Distribution(stack, 'Cdn', {
      defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(new s3.Bucket(stack, 'Site')) },
      domainNames: ['www.example.com'],
      certificate: cert,
    });
    new apigateway.DomainName(stack, 'Api', { domainName: 'www.example.com', certificate: cert });
    const template = Template.fromStack(stack);
    const ref = { Ref: Match.stringLikeRegexp('^Web') };
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Certificates: [{ CertificateArn: ref }] });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ ViewerCertificate: Match.objectLike({ AcmCertificateArn: ref }) }),
    });
    template.hasResourceProperties('AWS::ApiGateway::DomainName', { RegionalCertificateArn: ref });
  });

  test('a certificate a PrivateCa issued is imported from its secret, pinned to the issued version', () => {
    const stack = newStack();
    const root = new PrivateCa(stack, 'Root', { subject: { commonName: 'Example Root CA' } });
    const web = root.issueCertificate('Web', { commonName: 'www.example.com', dnsNames: ['www.example.com'], validity: Duration.days(90) });
    new AcmImportedCertificate(stack, 'Acm', { certificate: web.certificatePem, privateKey: web.privateKey, certificateChain: web.certificateChainPem });
    const properties = Object.values(Template.fromStack(stack).findResources('Custom::AcmImportedCertificate'))[0].Properties;
    for (const field of ['Certificate', 'PrivateKey', 'CertificateChain']) {
      expect(properties[field]).toMatchObject({ kind: 'secret', versionId: { 'Fn::GetAtt': [expect.stringMatching(/^RootWeb/), expect.any(String)] } });
    }
  });

  test('notifyBeforeExpiry schedules notices from the known notAfter', () => {
    const stack = newStack();
    const cert = new AcmImportedCertificate(stack, 'Web', props(stack));
    cert.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'Ops'), daysBefore: [30] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    const notice = new Date(new Date(pki.leaf.certificate.notAfter).getTime() - 30 * 86400_000).toISOString().slice(0, 19);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: `at(${notice})` });
  });

  test('a certificate from a secret is timed by the handler (NotifyDaysBefore)', () => {
    const stack = newStack();
    const secret = new secretsmanager.Secret(stack, 'Bundle');
    const cert = new AcmImportedCertificate(stack, 'Web', {
      certificate: CertificatePem.fromSecret(secret, 'certificate', { versionId: 'a1b2c3d4-0000-4000-8000-00000000beef' }),
      privateKey: PrivateKey.fromSecret(secret, 'privateKey', { versionId: 'a1b2c3d4-0000-4000-8000-00000000beef' }),
    });
    cert.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'Ops'), daysBefore: [30, 7] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::AcmImportedCertificate', {
      Certificate: { kind: 'secret', jsonField: 'certificate', versionId: 'a1b2c3d4-0000-4000-8000-00000000beef' },
      NotifyDaysBefore: ['7', '30'],
    });
  });
});

describe('AcmImportedCertificate bad input fails the synth with one clear error', () => {
  const cases: Array<[string, () => Partial<AcmImportedCertificateProps>, RegExp]> = [
    ['a key type ACM does not import', () => ({ certificate: CertificatePem.fromString(rsa1536.certificatePem) }),
      /certificate: has a RSA 1536-bit key, which ACM does not import; ACM imports RSA 1024, 2048, 3072 and 4096-bit keys/],
    ['two certificates', () => ({ certificate: CertificatePem.fromString(pki.leaf.certificatePem + pki.intermediate.certificatePem) }),
      /certificate: must contain exactly one certificate, found 2/],
    ['a private key passed as the certificate', () => ({ certificate: CertificatePem.fromString(pki.leaf.privateKeyPem) }),
      /certificate: holds a private key/],
    ['an expired certificate', () => ({ certificate: CertificatePem.fromString(pki.expiredLeaf.certificatePem) }), /certificate: .*expired/],
    ['a chain out of order', () => ({ certificateChain: CertificatePem.fromString(pki.root.certificatePem + pki.intermediate.certificatePem) }),
      /certificateChain: is in root-to-leaf order/],
    ['a chain containing the certificate', () => ({ certificateChain: CertificatePem.fromString(pki.leaf.certificatePem + pki.chainPem) }),
      /certificateChain: .*itself/],
  ];
  test.each(cases)('%s', (_name, overrides, message) => {
    const stack = newStack();
    expect(() => new AcmImportedCertificate(stack, 'Web', props(stack, overrides()))).toThrow(message);
  });
});

describe('synth-time forecast of re-imports (cdk-certificates:acmReimportReplaces)', () => {
  test('a certificate without an Extended Key Usage extension warns that a later one with it imports a new certificate', () => {
    const stack = newStack();
    new AcmImportedCertificate(stack, 'Web', props(stack, { certificate: CertificatePem.fromString(noEku.certificatePem) }));
    Annotations.fromStack(stack).hasWarning('/Stack/Web',
      Match.stringLikeRegexp('^certificate: the certificate has no Extended Key Usage extension; ACM never lets a re-import add one.*new ARN.*acmReimportReplaces'));
  });

  test('a certificate with both extensions, or one known only at deploy, gives no warning', async () => {
    const stack = newStack();
    const full = await makeUsageLeaf(pki.intermediate, { extendedKeyUsage: [EKU.serverAuth, EKU.clientAuth] });
    new AcmImportedCertificate(stack, 'Web', props(stack, { certificate: CertificatePem.fromString(full.certificatePem) }));
    const secret = new secretsmanager.Secret(stack, 'Bundle');
    new AcmImportedCertificate(stack, 'Other', { certificate: CertificatePem.fromSecret(secret, 'certificate'), privateKey: PrivateKey.fromSecret(secret, 'privateKey') });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('acmReimportReplaces'))).toEqual([]);
  });
});
