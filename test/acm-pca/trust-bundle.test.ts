import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PrivateCa } from '../../src/acm-pca/private-ca';
import { TrustBundle } from '../../src/acm-pca/trust-bundle';

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function root(stack: Stack, id = 'Root'): PrivateCa {
  return new PrivateCa(stack, id, { subject: { commonName: 'Example Root CA' } });
}

/** The only resource of `type`, with its logical ID. */
function only(template: Template, type: string): { id: string; resource: any } {
  const found = Object.entries(template.findResources(type));
  expect(found).toHaveLength(1);
  return { id: found[0][0], resource: found[0][1] };
}

/** Every statement of the private-ca handler role's policies. */
function handlerStatements(template: Template): any[] {
  const roleId = Object.keys(template.findResources('AWS::IAM::Role'))
    .find((id) => id.startsWith('CdkCertificatesPrivateCaProvider'))!;
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (statement: any): string[] => [statement.Action].flat();

describe('privateCa.trustBundle', () => {
  test('a root: its certificate attribute, written to a versioned, private, SSL-only, retained bucket of its own', () => {
    const stack = newStack();
    const ca = root(stack);
    const bundle = ca.trustBundle;
    expect(ca.trustBundle).toBe(bundle);
    const template = Template.fromStack(stack);
    const { id: bucketId, resource: bucket } = only(template, 'AWS::S3::Bucket');
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const { resource } = only(template, 'Custom::PrivateCaTrustBundle');
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.Properties).toEqual({
      ServiceToken: expect.anything(),
      CertificateAuthorityArn: { Ref: expect.stringMatching(/^RootActivation/) },
      CertificateChain: { 'Fn::GetAtt': [expect.stringMatching(/^RootCaCertificate/), 'Certificate'] },
      Bucket: { Ref: bucketId },
      Key: 'bundle.pem',
      OverlapSeconds: String(30 * 86400),
      RemovalPolicy: 'retain',
    });
    expect(bundle.objectKey).toBe('bundle.pem');
    expect(stack.resolve(bundle.objectVersion)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^RootTrustBundle/), 'VersionId'] });
    expect(stack.resolve(bundle.s3Uri)).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/bundle.pem']] });
    // Served by the stack's one private-ca handler.
    expect(Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('CdkCertificatesPrivateCaProvider'))).toHaveLength(2);
  });

  test('a subordinate: the activation\'s complete chain, from the CA to its root', () => {
    const stack = newStack();
    const parent = root(stack);
    const issuing = new PrivateCa(stack, 'Issuing', { parent, subject: { commonName: 'Example Issuing CA' } });
    issuing.trustBundle;
    const { resource } = only(Template.fromStack(stack), 'Custom::PrivateCaTrustBundle');
    expect(resource.Properties.CertificateChain).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^IssuingActivation/), 'CompleteCertificateChain'] });
    expect(resource.Properties.CertificateAuthorityArn).toEqual({ Ref: expect.stringMatching(/^IssuingActivation/) });
  });

  test('a CA whose external parent has not signed has no bundle yet', () => {
    const stack = newStack();
    const pending = new PrivateCa(stack, 'Pending', { externalParent: true, subject: { commonName: 'Pending CA' } });
    expect(() => pending.trustBundle).toThrow(/certificateChainPem: this CA has an external parent and no certificate yet/);
  });
});

describe('TrustBundle', () => {
  test('grants: read and write of the bundle object only, a listing limited to its key, the versioning status; no acm-pca call', () => {
    const stack = newStack();
    new TrustBundle(stack, 'Bundle', { certificateAuthority: root(stack) });
    const template = Template.fromStack(stack);
    const bucketId = only(template, 'AWS::S3::Bucket').id;
    const statements = handlerStatements(template);
    const objectArn = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/bundle.pem']] };
    expect(statements).toEqual(expect.arrayContaining([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objectArn },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] }, Condition: { StringEquals: { 's3:prefix': 'bundle.pem' } } },
      { Effect: 'Allow', Action: 's3:GetBucketVersioning', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] } },
    ]));
    const s3Actions = statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:'));
    expect(s3Actions.sort()).toEqual(['s3:GetBucketVersioning', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    // The chain comes from the template: the role gains no ACM Private CA read for the bundle.
    expect(statements.flatMap(actionsOf)).not.toContain('acm-pca:GetCertificateAuthorityCertificate');
    // The handler runs after its grants.
    const { resource } = only(template, 'Custom::PrivateCaTrustBundle');
    expect(resource.DependsOn.some((d: string) => d.startsWith('CdkCertificatesPrivateCaProviderRole'))).toBe(true);
  });

  test('DESTROY: the bucket goes with the bundle, and the handler may delete the object\'s versions', () => {
    const stack = newStack();
    new TrustBundle(stack, 'Bundle', { certificateAuthority: root(stack), removalPolicy: RemovalPolicy.DESTROY, overlap: Duration.days(7) });
    const template = Template.fromStack(stack);
    const { id: bucketId, resource: bucket } = only(template, 'AWS::S3::Bucket');
    expect(bucket.DeletionPolicy).toBe('Delete');
    const { resource } = only(template, 'Custom::PrivateCaTrustBundle');
    expect(resource.DeletionPolicy).toBe('Delete');
    expect(resource.Properties).toMatchObject({ RemovalPolicy: 'destroy', OverlapSeconds: String(7 * 86400) });
    expect(handlerStatements(template)).toEqual(expect.arrayContaining([
      {
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:ListBucketVersions'],
        Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
        Condition: { StringEquals: { 's3:prefix': 'bundle.pem' } },
      },
      { Effect: 'Allow', Action: 's3:DeleteObjectVersion', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/bundle.pem']] } },
    ]));
  });

  test('a bucket of yours: a key prefix unique per stack by default, or yours; a KMS key is granted; the bucket is never created', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const bucket = new s3.Bucket(stack, 'Shared', { versioned: true, encryptionKey: key });
    const ca = root(stack);
    const generated = new TrustBundle(stack, 'Generated', { certificateAuthority: ca, bucket });
    const named = new TrustBundle(stack, 'Named', { certificateAuthority: ca, bucket, keyPrefix: 'pki/clients/' });
    const template = Template.fromStack(stack);
    expect(Object.keys(template.findResources('AWS::S3::Bucket'))).toEqual([expect.stringMatching(/^Shared/)]);
    expect(stack.resolve(generated.objectKey)).toEqual({
      'Fn::Join': ['', [
        'trust-bundles/Stack-Generated-490C3636-',
        { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
        '/bundle.pem',
      ]],
    });
    expect(named.objectKey).toBe('pki/clients/bundle.pem');
    const statements = handlerStatements(template);
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: ['s3:GetObject', 's3:PutObject'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Shared/), 'Arn'] }, '/pki/clients/bundle.pem']] } }),
      expect.objectContaining({ Action: expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']) }),
    ]));
  });

  test('bad options fail at synth, naming the property', () => {
    const stack = newStack();
    const ca = root(stack);
    expect(() => new TrustBundle(stack, 'A', { certificateAuthority: ca, overlap: Duration.days(4000) }))
      .toThrow(/overlap: must be whole seconds from 0 to 3650 days/);
    expect(() => new TrustBundle(stack, 'B', { certificateAuthority: ca, overlap: Duration.millis(1500) }))
      .toThrow(/overlap: must be whole seconds/);
    expect(() => new TrustBundle(stack, 'C', { certificateAuthority: ca, keyPrefix: 'no-slash' }))
      .toThrow(/keyPrefix: must end with '\/'/);
    expect(() => new TrustBundle(stack, 'D', { certificateAuthority: ca, keyPrefix: '/abs/' }))
      .toThrow(/keyPrefix: must not begin with '\/'/);
    expect(() => new TrustBundle(stack, 'E', { certificateAuthority: ca, keyPrefix: `${'x'.repeat(1000)}/` }))
      .toThrow(/keyPrefix: makes an object key of 1011 bytes/);
    expect(() => new TrustBundle(stack, 'F', { certificateAuthority: ca, removalPolicy: RemovalPolicy.SNAPSHOT }))
      .toThrow(/removalPolicy: SNAPSHOT does not apply/);
  });
});

describe('trust stores from the bundle', () => {
  test('an ALB trust store pinned to the bundle version', () => {
    const stack = newStack();
    const bundle = root(stack).trustBundle;
    bundle.toAlbTrustStore(stack, 'TrustStore', { trustStoreName: 'clients' });
    const template = Template.fromStack(stack);
    const bucketId = only(template, 'AWS::S3::Bucket').id;
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TrustStore', {
      Name: 'clients',
      CaCertificatesBundleS3Bucket: { Ref: bucketId },
      CaCertificatesBundleS3Key: 'bundle.pem',
      CaCertificatesBundleS3ObjectVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RootTrustBundle'), 'VersionId'] },
    });
  });

  test('an API Gateway mutual-TLS truststore: s3Uri and objectVersion', () => {
    const stack = newStack();
    const bundle = root(stack).trustBundle;
    new apigateway.DomainName(stack, 'Domain', {
      domainName: 'api.example.com',
      certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:123456789012:certificate/abc'),
      securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
      mtls: { bucket: bundle.bucket, key: bundle.objectKey, version: bundle.objectVersion },
    });
    new apigateway.CfnDomainName(stack, 'L1Domain', {
      domainName: 'api2.example.com',
      mutualTlsAuthentication: { truststoreUri: bundle.s3Uri, truststoreVersion: bundle.objectVersion },
    });
    const template = Template.fromStack(stack);
    const bucketId = only(template, 'AWS::S3::Bucket').id;
    const version = { 'Fn::GetAtt': [Match.stringLikeRegexp('^RootTrustBundle'), 'VersionId'] };
    const uri = { 'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/bundle.pem']] };
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'api.example.com',
      MutualTlsAuthentication: { TruststoreUri: uri, TruststoreVersion: version },
    });
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'api2.example.com',
      MutualTlsAuthentication: { TruststoreUri: uri, TruststoreVersion: version },
    });
  });

  test('an IAM Roles Anywhere trust anchor of the CA', () => {
    const stack = newStack();
    const bundle = root(stack).trustBundle;
    bundle.rolesAnywhereTrustAnchor(stack, 'Anchor');
    bundle.rolesAnywhereTrustAnchor(stack, 'Disabled', { name: 'workloads anchor', enabled: false });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::RolesAnywhere::TrustAnchor', {
      Name: 'Stack-Anchor-6925B689',
      Enabled: true,
      Source: { SourceType: 'AWS_ACM_PCA', SourceData: { AcmPcaArn: { Ref: Match.stringLikeRegexp('^RootActivation') } } },
    });
    template.hasResourceProperties('AWS::RolesAnywhere::TrustAnchor', { Name: 'workloads anchor', Enabled: false });
    expect(() => bundle.rolesAnywhereTrustAnchor(stack, 'Bad', { name: 'no/slashes' }))
      .toThrow(/name: must be 1 to 255 letters, digits, spaces, hyphens and underscores/);
  });
});

describe('cdk-nag', () => {
  test('AwsSolutions finds nothing in a trust bundle, its bucket and its grants beyond the private-ca provider\'s known findings', () => {
    const app = new App();
    const stack = new Stack(app, 'Pki', { env: { account: '123456789012', region: 'eu-west-1' } });
    const bundle = root(stack).trustBundle;
    bundle.toAlbTrustStore(stack, 'TrustStore');
    bundle.rolesAnywhereTrustAnchor(stack, 'Anchor');
    new TrustBundle(stack, 'Destroyed', { certificateAuthority: root(stack, 'Other'), removalPolicy: RemovalPolicy.DESTROY });
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.length).toBeGreaterThan(0); // the rules ran (the known findings below)
    // Acknowledged (with reasons) in private-ca.test.ts: the provider's CA statement and the Provider framework's own.
    const known = [
      /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:acm-pca:eu-west-1:123456789012:certificate-authority\/\*\]$/,
      /^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole\]$/,
      /^AwsSolutions-IAM5\[Resource::<CdkCertificatesPrivateCaProviderOnEvent\w+\.Arn>:\*\]$/,
    ];
    const unexpected = report.violations
      .filter((v) => !known.some((rule) => rule.test(v.ruleName)))
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`));
    expect(unexpected).toEqual([]);
  });
});
