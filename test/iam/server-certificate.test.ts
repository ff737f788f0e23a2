import { App, CfnResource, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { CertificatePem, PrivateKey, ServerCertificate, ServerCertificateProps } from '../../src';
import { makeLeaf, makeTestPki, TestPki } from '../support/fixtures/pki';

let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki();
});

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function keySecret(stack: Stack): secretsmanager.ISecret {
  const existing = stack.node.tryFindChild('Key') as secretsmanager.ISecret | undefined;
  return existing ?? secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-key-AbCdEf');
}

function props(stack: Stack, overrides: Partial<ServerCertificateProps> = {}): ServerCertificateProps {
  return {
    certificateBody: CertificatePem.fromString(pki.leaf.certificatePem),
    certificateChain: CertificatePem.fromString(pki.chainPem),
    privateKey: PrivateKey.fromSecret(keySecret(stack)),
    ...overrides,
  };
}

describe('ServerCertificate template', () => {
  test('renders a custom resource with references only, never the key', () => {
    const stack = newStack();
    new ServerCertificate(stack, 'Web', props(stack));
    const template = Template.fromStack(stack);

    template.hasResource('Custom::ServerCertificate', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        CertificateBody: { kind: 'inline', value: pki.leaf.certificatePem },
        CertificateChain: { kind: 'inline', value: pki.chainPem },
        PrivateKey: { kind: 'secret', secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-key-AbCdEf' },
        NamePrefix: Match.stringLikeRegexp('^Stack_Web-[A-Za-z0-9-]+$'),
        Path: '/',
        ForCloudFront: 'false',
        RemovalPolicy: 'destroy',
      },
    });
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toContain('PRIVATE KEY');
    expect(json).not.toContain(pki.leaf.privateKeyPem.split('\n')[1]);
  });

  test('the handler runs on Node.js 22 and one provider serves every certificate in the stack', () => {
    const stack = newStack();
    for (const id of ['A', 'B', 'C']) {
      new ServerCertificate(stack, id, props(stack));
    }
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::ServerCertificate', 3);
    // One handler function plus the Provider framework's own.
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'index.onEvent',
      Timeout: Duration.minutes(14).toSeconds(),
    });
  });

  test('generated name prefixes are distinct per construct', () => {
    const stack = newStack();
    new ServerCertificate(stack, 'A', props(stack));
    new ServerCertificate(stack, 'B', props(stack));
    const prefixes = Object.values(Template.fromStack(stack).findResources('Custom::ServerCertificate'))
      .map(r => r.Properties.NamePrefix);
    expect(new Set(prefixes).size).toBe(2);
    for (const prefix of prefixes) {
      // Leaves room for '-' and the 10-character content hash the handler appends.
      expect(prefix.length).toBeLessThanOrEqual(128 - 11);
    }
  });

  test('the role may touch only its own server certificates and read only the key secret', () => {
    const stack = newStack();
    new ServerCertificate(stack, 'Web', props(stack, { serverCertificateName: 'web-2026' }));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['iam:UpdateServerCertificate', 'iam:DeleteServerCertificate', 'iam:TagServerCertificate', 'iam:UntagServerCertificate'],
            // Only certificates that carry this stack's ownership tag.
            Condition: { StringEquals: { 'aws:ResourceTag/cdk-certificates:stack-id': { Ref: 'AWS::StackId' } } },
            Resource: [
              // The exact name: `web-2026*` would also cover another stack's `web-2026-old`.
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:server-certificate/web-2026']] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:server-certificate/*/web-2026']] },
            ],
          }),
          Match.objectLike({
            Action: 'secretsmanager:GetSecretValue',
            Resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-key-AbCdEf',
          }),
        ]),
      },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap(p => p.Properties.PolicyDocument.Statement);
    expect(statements.some((s: any) => s.Resource === '*' && String(s.Action).startsWith('iam:'))).toBe(false);
    // Uploads only with this stack's ownership tag in the request.
    const upload = statements.find((s: any) => [s.Action].flat().includes('iam:UploadServerCertificate'));
    expect(upload.Condition).toEqual({ StringEquals: { 'aws:RequestTag/cdk-certificates:stack-id': { Ref: 'AWS::StackId' } } });
  });

  test('grants of many certificates share a few statements, each small enough to move to a managed policy', () => {
    const stack = newStack();
    for (let i = 0; i < 30; i++) {
      const secret = secretsmanager.Secret.fromSecretNameV2(stack, `Key${i}`, `tls/key-${i}`);
      new ServerCertificate(stack, `Cert${i}`, { certificateBody: CertificatePem.fromString(pki.leaf.certificatePem), privateKey: PrivateKey.fromSecret(secret) });
    }
    const policy = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .find(([id]) => id.startsWith('CdkCertificatesServerCertificateProviderRole'))![1];
    const statements = policy.Properties.PolicyDocument.Statement;
    const secretStatements = statements.filter((s: any) => s.Action === 'secretsmanager:GetSecretValue');
    expect(secretStatements.map((s: any) => s.Resource.length)).toEqual([20, 10]);
    expect(JSON.stringify(secretStatements[0].Resource[0])).toContain(':secret:tls/key-0-??????');
    const iamStatements = statements.filter((s: any) => Array.isArray(s.Action) && s.Action.includes('iam:UploadServerCertificate'));
    expect(iamStatements).toHaveLength(1);
    // Generated names all begin with the stack's delimited prefix: one scope for the whole stack,
    // which a sibling stack `Stack-Staging` (names `Stack-Staging_...`) does not match.
    expect(iamStatements[0].Resource).toHaveLength(2);
    expect(JSON.stringify(iamStatements[0].Resource)).toContain(':server-certificate/Stack_*');
    expect(JSON.stringify(iamStatements[0].Resource)).toContain(':server-certificate/*/Stack_*');
  });

  test('in a stack large enough to overflow the role\'s policy, each certificate waits for the policy holding its grants', () => {
    const stack = newStack();
    const certificates: ServerCertificate[] = [];
    for (let i = 0; i < 120; i++) {
      const secret = secretsmanager.Secret.fromSecretNameV2(stack, `Key${i}`, `tls/a-rather-long-secret-name-for-certificate-key-${i}`);
      certificates.push(new ServerCertificate(stack, `Cert${i}`, {
        certificateBody: CertificatePem.fromString(pki.leaf.certificatePem),
        privateKey: PrivateKey.fromSecret(secret),
      }));
    }
    const template = Template.fromStack(stack);
    const overflow = template.findResources('AWS::IAM::ManagedPolicy');
    expect(Object.keys(overflow).length).toBeGreaterThan(0);
    const holder = (i: number) => {
      const needle = `:secret:tls/a-rather-long-secret-name-for-certificate-key-${i}-??????`;
      const all = { ...template.findResources('AWS::IAM::Policy'), ...overflow };
      return Object.entries(all).find(([, r]) => JSON.stringify(r.Properties.PolicyDocument).includes(needle))![0];
    };
    const resources = template.findResources('Custom::ServerCertificate');
    for (const i of [0, 60, 119]) {
      const cr = resources[stack.getLogicalId(certificates[i].node.defaultChild as CfnResource)];
      expect(cr.DependsOn).toContain(holder(i));
      // One or two policies, not every policy of the role: the template stays linear in size.
      expect(cr.DependsOn.length).toBeLessThanOrEqual(2);
    }
  });

  test('a pinned secret version or parameter version is part of the properties: changing it updates the certificate', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Pem', 'tls/web');
    const parameter = ssm.StringParameter.fromStringParameterName(stack, 'Chain', '/tls/web/chain');
    const versionId = 'a1b2c3d4-0000-4000-8000-00000000beef';
    new ServerCertificate(stack, 'Web', {
      certificateBody: CertificatePem.fromSecret(secret, 'certificate', { versionId }),
      privateKey: PrivateKey.fromSecret(secret, 'privateKey', { versionId }),
      certificateChain: CertificatePem.fromSsmParameter(parameter, 7),
    });
    const properties = Object.values(Template.fromStack(stack).findResources('Custom::ServerCertificate'))[0].Properties;
    expect(properties.CertificateBody).toMatchObject({ kind: 'secret', jsonField: 'certificate', versionId });
    expect(properties.PrivateKey).toMatchObject({ kind: 'secret', jsonField: 'privateKey', versionId });
    expect(properties.CertificateChain).toEqual({ kind: 'ssm', parameterName: '/tls/web/chain', withDecryption: 'false', version: '7' });
  });

  test('a bad version pin fails at synth naming the method, every rule broken and the fix', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Pem', 'tls/web');
    expect(() => CertificatePem.fromSecret(secret, undefined, { versionId: 'short', versionStage: 'AWSCURRENT' })).toThrow(
      /CertificatePem.fromSecret version: give versionId or versionStage, not both; versionId must be 32 to 64 characters \(Secrets Manager's VersionId\), got 5; pin the VersionId/);
    expect(() => PrivateKey.fromSsmSecureString('/tls/key', undefined, 0)).toThrow(/PrivateKey.fromSsmSecureString version: must be a positive integer .* got 0/);
    expect(() => CertificatePem.fromSsmParameter(ssm.StringParameter.fromStringParameterName(stack, 'P', '/p'), 1.5)).toThrow(/must be a positive integer/);
  });

  test('a key in an SSM SecureString is granted by parameter ARN, with its KMS key', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'ParamKey');
    new ServerCertificate(stack, 'Web', props(stack, { privateKey: PrivateKey.fromSsmSecureString('/tls/web/key', key) }));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::ServerCertificate', {
      PrivateKey: { kind: 'ssm', parameterName: '/tls/web/key', withDecryption: 'true' },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'ssm:GetParameter',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1:123456789012:parameter/tls/web/key']] },
          }),
          Match.objectLike({ Action: 'kms:Decrypt' }),
        ]),
      },
    });
  });

  test('Tags.of() reaches the IAM certificate', () => {
    const stack = newStack();
    const cert = new ServerCertificate(stack, 'Web', props(stack));
    Tags.of(stack).add('team', 'platform');
    Tags.of(cert).add('rotation', 'quarterly');
    Template.fromStack(stack).hasResourceProperties('Custom::ServerCertificate', {
      Tags: [{ Key: 'rotation', Value: 'quarterly' }, { Key: 'team', Value: 'platform' }],
    });
  });

  test('without tags or deploy-timed notices the properties carry neither, and defaultChild is the custom resource', () => {
    const stack = newStack();
    const cert = new ServerCertificate(stack, 'Web', props(stack));
    const resource = cert.node.defaultChild as CfnResource;
    expect(resource).toBeInstanceOf(CfnResource);
    expect(resource.cfnResourceType).toBe('Custom::ServerCertificate');
    // The escape hatch works as on aws-cdk-lib's L2s.
    resource.addPropertyOverride('Path', '/edge/');
    const properties = Object.values(Template.fromStack(stack).findResources('Custom::ServerCertificate'))[0].Properties;
    expect(Object.keys(properties)).not.toContain('Tags');
    expect(Object.keys(properties)).not.toContain('NotifyDaysBefore');
    expect(properties.Path).toBe('/edge/');
  });

  test('forCloudFront defaults the path to /cloudfront/ and removalPolicy RETAIN is honoured twice', () => {
    const stack = newStack();
    new ServerCertificate(stack, 'Cdn', props(stack, { forCloudFront: true, removalPolicy: RemovalPolicy.RETAIN }));
    Template.fromStack(stack).hasResource('Custom::ServerCertificate', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { Path: '/cloudfront/', ForCloudFront: 'true', RemovalPolicy: 'retain' },
    });
  });

  test('a certificate from a secret is checked at deploy, not at synth', () => {
    const stack = newStack();
    const secret = new secretsmanager.Secret(stack, 'Bundle');
    new ServerCertificate(stack, 'Web', {
      certificateBody: CertificatePem.fromSecret(secret, 'certificate'),
      privateKey: PrivateKey.fromSecret(secret, 'privateKey'),
    });
    Template.fromStack(stack).hasResourceProperties('Custom::ServerCertificate', {
      CertificateBody: { kind: 'secret', secretId: { Ref: Match.stringLikeRegexp('Bundle') }, jsonField: 'certificate' },
      PrivateKey: { kind: 'secret', secretId: { Ref: Match.stringLikeRegexp('Bundle') }, jsonField: 'privateKey' },
    });
  });

  test('a certificate expiring within 30 days is an acknowledgeable warning', async () => {
    const stack = newStack();
    new ServerCertificate(stack, 'Soon', props(stack, {
      certificateBody: CertificatePem.fromString(pki.expiringLeaf.certificatePem),
      certificateChain: CertificatePem.fromString(pki.chainPem),
    }));
    Annotations.fromStack(stack).hasWarning('/Stack/Soon', Match.stringLikeRegexp('^certificateBody: the certificate expires within (9|10) day.*30-day warning window'));
  });

  test('plugs into an ELBv2 listener and a CloudFront distribution', () => {
    const stack = newStack();
    const cert = new ServerCertificate(stack, 'Web', props(stack));
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc });
    alb.addListener('Https', {
      port: 443,
      certificates: [elbv2.ListenerCertificate.fromArn(cert.serverCertificateArn)],
      defaultAction: elbv2.ListenerAction.fixedResponse(200),
    });
    const cdnCert = new ServerCertificate(stack, 'Cdn', props(stack, { forCloudFront: true }));
    new cloudfront.CloudFrontWebDistribution(stack, 'Cdn2', {
      originConfigs: [{ s3OriginSource: { s3BucketSource: new s3.Bucket(stack, 'Site') }, behaviors: [{ isDefaultBehavior: true }] }],
      viewerCertificate: cloudfront.ViewerCertificate.fromIamCertificate(cdnCert.serverCertificateId, { aliases: ['www.example.com'] }),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Certificates: [{ CertificateArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Web'), 'Arn'] } }],
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        ViewerCertificate: Match.objectLike({ IamCertificateId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Cdn'), 'ServerCertificateId'] } }),
      }),
    });
  });
});

describe('ServerCertificate importers', () => {
  test('fromServerCertificateName builds the ARN under path /', () => {
    const stack = newStack();
    const cert = ServerCertificate.fromServerCertificateName(stack, 'Imported', 'legacy-web');
    expect(stack.resolve(cert.serverCertificateArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:server-certificate/legacy-web']],
    });
    expect(cert.serverCertificateName).toBe('legacy-web');
    expect(() => cert.serverCertificateId).toThrow(/serverCertificateId: was not given/);
  });

  test('fromServerCertificateAttributes keeps path and id', () => {
    const stack = newStack();
    const cert = ServerCertificate.fromServerCertificateAttributes(stack, 'Imported', {
      serverCertificateName: 'cdn', path: '/cloudfront/prod/', serverCertificateId: 'ASCAEXAMPLE123',
    });
    expect(stack.resolve(cert.serverCertificateArn)['Fn::Join'][1][2]).toBe(':iam::123456789012:server-certificate/cloudfront/prod/cdn');
    expect(cert.serverCertificateId).toBe('ASCAEXAMPLE123');
  });

  test('importers reject names and paths IAM would refuse', () => {
    const stack = newStack();
    expect(() => ServerCertificate.fromServerCertificateName(stack, 'A', 'has space'))
      .toThrow(/serverCertificateName: 'has space' may hold only/);
    expect(() => ServerCertificate.fromServerCertificateAttributes(stack, 'B', { serverCertificateName: 'ok', path: 'nope' }))
      .toThrow(/path: 'nope' must be '\/' alone/);
  });
});

describe('ServerCertificate bad input fails the synth with one clear error', () => {
  const cases: Array<[string, () => Partial<ServerCertificateProps>, RegExp]> = [
    ['malformed PEM', () => ({ certificateBody: CertificatePem.fromString('-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n') }),
      /certificateBody: .*base64/i],
    ['two certificates in the body', () => ({ certificateBody: CertificatePem.fromString(pki.leaf.certificatePem + pki.intermediate.certificatePem) }),
      /certificateBody: must contain exactly one certificate, found 2/],
    ['a private key passed as the body', () => ({ certificateBody: CertificatePem.fromString(pki.leaf.privateKeyPem) }),
      /certificateBody: holds a private key; pass the certificate here and the key as privateKey/],
    ['an expired certificate', () => ({ certificateBody: CertificatePem.fromString(pki.expiredLeaf.certificatePem) }),
      /certificateBody: .*expired/],
    ['a chain out of order', () => ({ certificateChain: CertificatePem.fromString(pki.root.certificatePem + pki.intermediate.certificatePem) }),
      /certificateChain: .*(order|issue|sign)/i],
    ['a chain containing the leaf', () => ({ certificateChain: CertificatePem.fromString(pki.leaf.certificatePem + pki.chainPem) }),
      /certificateChain: .*(leaf|certificateBody)/i],
    ['a name with a space', () => ({ serverCertificateName: 'web cert' }), /serverCertificateName: 'web cert' may hold only/],
    ['a name with a character outside IAM\'s set', () => ({ serverCertificateName: 'web/cert' }), /serverCertificateName: 'web\/cert' may hold only/],
    ['a name too long', () => ({ serverCertificateName: 'a'.repeat(129) }), /serverCertificateName: must be 1 to 128 characters long, got 129/],
    ['a path not starting with /', () => ({ path: 'certs/' }), /path: 'certs\/' must be '\/' alone or begin and end with '\/'/],
    ['a path not ending with /', () => ({ path: '/certs' }), /path: '\/certs' must be '\/' alone or begin and end with '\/'/],
    ['a path with a space', () => ({ path: '/my certs/' }), /path: '\/my certs\/' must be/],
    ['the CloudFront path rule broken', () => ({ forCloudFront: true, path: '/web/' }), /path: '\/web\/' must begin with '\/cloudfront\/'/],
    // Every rule broken, in one message, with the fix.
    ['a path that breaks two rules', () => ({ forCloudFront: true, path: 'web' }),
      /path: 'web' must be '\/' alone or begin and end with '\/', with characters from U\+0021 to U\+007F between, and must begin with '\/cloudfront\/' for a certificate used by CloudFront \(forCloudFront is true\); use '\/cloudfront\/' or a path below it/],
    ['a name that breaks two rules', () => ({ serverCertificateName: `${'a'.repeat(128)} b` }),
      /serverCertificateName: must be 1 to 128 characters long, got 130, and may hold only ASCII letters, digits and _\+=,\.@- \(no spaces\), not ' '; use 1 to 128/],
  ];
  test.each(cases)('%s', (_name, overrides, message) => {
    const stack = newStack();
    expect(() => new ServerCertificate(stack, 'Web', props(stack, overrides()))).toThrow(message);
  });

  test('the error names the construct path', () => {
    const stack = newStack();
    expect(() => new ServerCertificate(stack, 'Web', props(stack, { serverCertificateName: 'a b' })))
      .toThrow(/^\[Stack\/Web\] serverCertificateName:/);
  });

  test('a self-signed leaf with an unrelated chain is refused', async () => {
    const other = await makeLeaf(pki.root, { commonName: 'other.example.com' });
    const stack = newStack();
    expect(() => new ServerCertificate(stack, 'Web', props(stack, {
      certificateBody: CertificatePem.fromString(other.certificatePem),
      certificateChain: CertificatePem.fromString(pki.chainPem),
    }))).toThrow(/certificateChain:/);
  });

  test('tokens are not checked at synth', () => {
    const stack = newStack();
    const secret = new secretsmanager.Secret(stack, 'Bundle');
    expect(() => new ServerCertificate(stack, 'Web', {
      certificateBody: CertificatePem.fromString(secret.secretValueFromJson('certificate').unsafeUnwrap()),
      privateKey: PrivateKey.fromSecret(secret, 'privateKey'),
      serverCertificateName: stack.stackName,
    })).not.toThrow();
  });
});

describe('ServerCertificate: the rules every stateful construct shares', () => {
  test('RemovalPolicy.SNAPSHOT is refused with one clear error', () => {
    const stack = newStack();
    expect(() => new ServerCertificate(stack, 'Web', props(stack, { removalPolicy: RemovalPolicy.SNAPSHOT })))
      .toThrow(/removalPolicy: SNAPSHOT does not apply to a certificate or a certificate authority/);
  });

  test('RETAIN_ON_UPDATE_OR_DELETE retains (the handler is told so) and renders as aws-cdk-lib renders it', () => {
    const stack = newStack();
    new ServerCertificate(stack, 'Web', props(stack, { removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE }));
    Template.fromStack(stack).hasResource('Custom::ServerCertificate', {
      DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain', Properties: Match.objectLike({ RemovalPolicy: 'retain' }),
    });
  });

  test("IAM's tag rules: an 'aws:' key and a value IAM refuses are synth errors", () => {
    const stack = newStack();
    const cert = new ServerCertificate(stack, 'Web', props(stack));
    Tags.of(cert).add('aws:owner', 'ops');
    Tags.of(cert).add('team', 'a'.repeat(257));
    expect(() => Template.fromStack(stack)).toThrow(/tags: tag key 'aws:owner' must not begin with 'aws:'[\s\S]*tags: the value of tag 'team' must be at most 256 characters long, got 257/);
  });
});
