/**
 * Issue 14 (ACM Private CA): a reachable CRL by default, and the service's rules checked at synth
 * (OmitExtension with a custom CNAME, audit reports at most every 30 minutes, templates allowed
 * across accounts).
 */
import { App, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CsrIssuedCertificate } from '../../src/acm-pca/csr-issued-certificate';
import { IssuedCertificate } from '../../src/acm-pca/issued-certificate';
import { CertificateTemplate } from '../../src/acm-pca/issued-certificate-options';
import { PrivateCa } from '../../src/acm-pca/private-ca';
import { CrlDistribution, CrlObjectAcl } from '../../src/acm-pca/private-ca-options';
import { PrivateCaProps } from '../../src/acm-pca/private-ca-props';
import { auditScheduleProblem, CROSS_ACCOUNT_TEMPLATES } from '../../src/contract/private-ca';

function newStack(app = new App()): Stack {
  return new Stack(app, 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function root(stack: Stack, overrides: Partial<PrivateCaProps> = {}): PrivateCa {
  return new PrivateCa(stack, 'Root', { subject: { commonName: 'Example Root CA' }, ...overrides });
}

function onlyId(t: Template, type: string): string {
  const ids = Object.keys(t.findResources(type));
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('the default CRL is reachable while its bucket stays private', () => {
  test('crl: {} puts a CloudFront distribution with OAC in front of the bucket and its domain in the CRL Distribution Points', () => {
    const stack = newStack();
    const ca = root(stack, { crl: {} });
    const t = Template.fromStack(stack);
    const bucketId = onlyId(t, 'AWS::S3::Bucket');
    const distributionId = onlyId(t, 'AWS::CloudFront::Distribution');
    // The OAC name (global in the account) carries the stack ID's UUID: the same app in another
    // region or under another stack name never asks for the same name.
    t.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        Name: { 'Fn::Join': ['-', [Match.stringLikeRegexp('^Stack-Root-[0-9A-F]{8}$'), { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]] },
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
      }),
    });
    t.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        Origins: [Match.objectLike({
          DomainName: { 'Fn::GetAtt': [bucketId, 'RegionalDomainName'] },
          OriginAccessControlId: Match.anyValue(),
          S3OriginConfig: { OriginAccessIdentity: '' },
        })],
        DefaultCacheBehavior: Match.objectLike({
          // CRL Distribution Points are http:// URLs: HTTP must be served, not redirected.
          ViewerProtocolPolicy: 'allow-all',
          AllowedMethods: ['GET', 'HEAD'],
          // Managed-CachingDisabled: a revocation shows as soon as the CA rewrites the CRL.
          CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
        }),
      },
    });
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', {
      RevocationConfiguration: {
        CrlConfiguration: {
          Enabled: true,
          S3BucketName: { Ref: bucketId },
          S3ObjectAcl: 'BUCKET_OWNER_FULL_CONTROL',
          CustomCname: { 'Fn::GetAtt': [distributionId, 'DomainName'] },
        },
      },
    });
    const [policy] = Object.values(t.findResources('AWS::S3::BucketPolicy')) as any[];
    const statements: any[] = policy.Properties.PolicyDocument.Statement;
    // ACM Private CA still writes, with the confused-deputy conditions.
    expect(statements).toContainEqual(expect.objectContaining({
      Effect: 'Allow',
      Principal: { Service: 'acm-pca.amazonaws.com' },
      Action: ['s3:PutObject', 's3:PutObjectAcl', 's3:GetBucketAcl', 's3:GetBucketLocation'],
      Condition: {
        StringEquals: { 'aws:SourceAccount': '123456789012' },
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:eu-west-1:123456789012:certificate-authority/*']] } },
      },
    }));
    // CloudFront reads through OAC, for this distribution only.
    const read = statements.find((s) => s.Principal?.Service === 'cloudfront.amazonaws.com');
    expect(read).toMatchObject({ Effect: 'Allow', Action: 's3:GetObject' });
    expect(JSON.stringify(read.Condition)).toContain(distributionId);
    // SSL only, except the distribution's reads (CloudFront uses the viewer's protocol towards S3).
    const deny = statements.find((s) => s.Effect === 'Deny');
    expect(deny).toMatchObject({ Principal: { AWS: '*' }, Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(JSON.stringify(deny.Condition.StringNotEquals['aws:SourceArn'])).toContain(distributionId);
    expect(statements.filter((s) => s.Effect === 'Deny')).toHaveLength(1);
    expect(ca.crlDistribution).toBeDefined();
  });

  test('your own domain on the distribution: customCname with a certificate becomes its alternate name, TLS 1.2 minimum', () => {
    const app = new App();
    const stack = newStack(app);
    const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555');
    const logBucket = new s3.Bucket(stack, 'Logs', { objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED });
    root(stack, {
      crl: {
        customCname: 'crl.example.com',
        distribution: CrlDistribution.cloudFront({ certificate, priceClass: cloudfront.PriceClass.PRICE_CLASS_100, logBucket }),
      },
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['crl.example.com'],
        PriceClass: 'PriceClass_100',
        Logging: Match.objectLike({ Bucket: Match.anyValue() }),
        ViewerCertificate: { AcmCertificateArn: certificate.certificateArn, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' },
      }),
    });
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', {
      RevocationConfiguration: { CrlConfiguration: Match.objectLike({ CustomCname: 'crl.example.com' }) },
    });
    // CFR3 and CFR4 are met here, so they are not acknowledged.
    const [distribution] = Object.values(t.findResources('AWS::CloudFront::Distribution')) as any[];
    const suppressed = distribution.Metadata.cdk_nag.rules_to_suppress.map((r: { id: string }) => r.id);
    expect(suppressed).toEqual(['AwsSolutions-CFR1', 'AwsSolutions-CFR2']);
  });

  test('just a CNAME you manage, OCSP only, or a public bucket of your own: no distribution', () => {
    const stack = newStack();
    new PrivateCa(stack, 'Cname', { subject: { commonName: 'A' }, crl: { customCname: 'crl.example.com' } });
    new PrivateCa(stack, 'OcspOnly', { subject: { commonName: 'B' }, ocsp: {} });
    const publicBucket = new s3.Bucket(stack, 'Public', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY, objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    });
    new PrivateCa(stack, 'S3Url', {
      subject: { commonName: 'C' },
      crl: { bucket: publicBucket, objectAcl: CrlObjectAcl.PUBLIC_READ, distribution: CrlDistribution.NONE },
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::CloudFront::Distribution', 0);
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', {
      Subject: { CommonName: 'A' },
      RevocationConfiguration: { CrlConfiguration: Match.objectLike({ CustomCname: 'crl.example.com' }) },
    });
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', {
      Subject: { CommonName: 'B' },
      RevocationConfiguration: { CrlConfiguration: { Enabled: false }, OcspConfiguration: { Enabled: true } },
    });
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', {
      Subject: { CommonName: 'C' },
      RevocationConfiguration: { CrlConfiguration: Match.objectLike({ S3ObjectAcl: 'PUBLIC_READ', CustomCname: Match.absent() }) },
    });
  });

  test('NONE with the created bucket and no name would publish a 403 URL: refused, with the fixes', () => {
    expect(() => root(newStack(), { crl: { distribution: CrlDistribution.NONE } }))
      .toThrow(/crl\.distribution: CrlDistribution\.NONE without crl\.customCname .* every CRL fetch would answer 403; keep the default CloudFront distribution/);
  });

  test('a name on CloudFront needs its certificate, and a certificate needs the name', () => {
    expect(() => root(newStack(), { crl: { customCname: 'crl.example.com', distribution: CrlDistribution.cloudFront() } }))
      .toThrow(/crl\.distribution: CloudFront answers for crl\.customCname \('crl\.example\.com'\) only as an alternate domain name.*CrlDistribution\.NONE/);
    const stack = newStack();
    const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555');
    expect(() => root(stack, { crl: { distribution: CrlDistribution.cloudFront({ certificate }) } }))
      .toThrow(/crl\.distribution: CrlCloudFrontOptions\.certificate is given but no crl\.customCname/);
  });

  test('cdk-nag: the distribution passes CFR7 (OAC), S10 (SSL only) holds, and CFR1-4 are acknowledged with reasons', () => {
    const app = new App();
    root(newStack(app), { crl: {} });
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(findings.filter((f) => /CFR|S10/.test(f))).toEqual([]);
  });
});

describe('rules the service documents, checked at synth', () => {
  test('includeDistributionPoint: false with a custom CNAME', () => {
    expect(() => root(newStack(), { crl: { includeDistributionPoint: false, customCname: 'crl.example.com' } }))
      .toThrow(/crl\.includeDistributionPoint: false \(OmitExtension\) cannot be combined with crl\.customCname \('crl\.example\.com'\).*remove customCname/);
  });

  test('includeDistributionPoint: false alone sets no CNAME (and creates no distribution)', () => {
    const stack = newStack();
    root(stack, { crl: { includeDistributionPoint: false } });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::CloudFront::Distribution', 0);
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', {
      RevocationConfiguration: {
        CrlConfiguration: Match.objectLike({ CustomCname: Match.absent(), CrlDistributionPointExtensionConfiguration: { OmitExtension: true } }),
      },
    });
  });

  test.each([
    ['rate(5 minutes)', /'rate\(5 minutes\)' runs every 5 minute\(s\)/],
    ['rate(1 minute)', /runs every 1 minute\(s\)/],
    ['cron(0/15 * * * ? *)', /runs 15 minute\(s\) apart/],
    ['cron(0,45 * * * ? *)', /runs 15 minute\(s\) apart/],
    ['cron(* 8 * * ? *)', /runs 1 minute\(s\) apart/],
  ])('audit reports every %s are refused', (expression, message) => {
    expect(() => root(newStack(), { auditReports: { schedule: scheduler.ScheduleExpression.expression(expression) } }))
      .toThrow(new RegExp(`auditReports\\.schedule: .*${message.source}.*at most one audit report per CA every 30 minutes`));
  });

  test('the same rule through ScheduleExpression.rate, and for a CA whose reports start later', () => {
    expect(() => root(newStack(), { auditReports: { schedule: scheduler.ScheduleExpression.rate(Duration.minutes(10)) } }))
      .toThrow(/auditReports\.schedule: 'rate\(10 minutes\)' runs every 10 minute\(s\)/);
    expect(() => new PrivateCa(newStack(), 'Pending', {
      subject: { commonName: 'Pending' },
      externalParent: true,
      auditReports: { schedule: scheduler.ScheduleExpression.rate(Duration.minutes(10)) },
    })).toThrow(/auditReports\.schedule/);
  });

  test.each([
    'rate(30 minutes)', 'rate(1 hour)', 'rate(7 days)', 'cron(0 * * * ? *)', 'cron(0,30 * * * ? *)', 'cron(0,45 9 * * ? *)', 'at(2030-01-01T00:00:00)',
  ])('audit reports %s are accepted', (expression) => {
    expect(auditScheduleProblem(expression)).toBeUndefined();
    expect(() => root(newStack(), { auditReports: { schedule: scheduler.ScheduleExpression.expression(expression) } })).not.toThrow();
  });

  test('cross-account issuance in the CA\'s resource policy: only the templates ACM Private CA allows across accounts', () => {
    const stack = newStack();
    const ca = root(stack);
    const other = new iam.AccountPrincipal('111111111111');
    ca.addToResourcePolicy(new iam.PolicyStatement({
      principals: [other],
      actions: ['acm-pca:IssueCertificate'],
      conditions: { StringEquals: { 'acm-pca:TemplateArn': [CertificateTemplate.CODE_SIGNING.templateArn, CertificateTemplate.END_ENTITY.templateArn] } },
    }));
    ca.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: ['acm-pca:Issue*'],
      conditions: {
        StringEquals: { 'acm-pca:TemplateArn': 'arn:aws:acm-pca:::template/RootCACertificate/V1', 'aws:PrincipalOrgID': 'o-abc123' },
      },
    }));
    // Both problems in one message.
    expect(() => Template.fromStack(stack)).toThrow(new RegExp(
      'addToResourcePolicy: CodeSigningCertificate/V1 is used across accounts \\(acm-pca:IssueCertificate is granted to account 111111111111\\), '
      + 'and ACM Private CA lets another account issue only with EndEntityCertificate/V1, .*SubordinateCACertificate_PathLen0/V1; use one of these templates'
      + '.*; and RootCACertificate/V1 is used across accounts \\(acm-pca:IssueCertificate is granted to any account\\)'));
  });

  test('allowed templates across accounts, and any template for this account, pass', () => {
    const stack = newStack();
    const ca = root(stack);
    ca.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.AccountPrincipal('111111111111')],
      actions: ['acm-pca:IssueCertificate'],
      conditions: { StringEquals: { 'acm-pca:TemplateArn': CROSS_ACCOUNT_TEMPLATES.map((t) => `arn:aws:acm-pca:::template/${t}`) } },
    }));
    ca.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.AccountPrincipal('123456789012')],
      actions: ['acm-pca:IssueCertificate'],
      conditions: { StringEquals: { 'acm-pca:TemplateArn': CertificateTemplate.CODE_SIGNING.templateArn } },
    }));
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('issuing from a CA imported from another account: only the templates allowed across accounts', () => {
    const stack = newStack();
    const shared = PrivateCa.fromCertificateAuthorityArn(stack, 'Shared',
      'arn:aws:acm-pca:eu-west-1:111111111111:certificate-authority/11111111-2222-3333-4444-555555555555');
    expect(() => new IssuedCertificate(stack, 'Signer', { certificateAuthority: shared, commonName: 'signer', template: CertificateTemplate.CODE_SIGNING }))
      .toThrow(/template: CodeSigningCertificate\/V1 is used across accounts \(the CA is in account 111111111111, this stack in 123456789012\).*use one of these templates/);
    expect(() => new CsrIssuedCertificate(stack, 'Ocsp', {
      certificateAuthority: Object.assign(Object.create(shared) as typeof shared, { issuingSigningAlgorithm: 'SHA256WITHRSA' }),
      csr: Lazy.string({ produce: () => 'a CSR known at deploy' }),
      template: CertificateTemplate.OCSP_SIGNING,
    })).toThrow(/template: OCSPSigningCertificate\/V1 is used across accounts/);
    expect(() => new IssuedCertificate(stack, 'Web', { certificateAuthority: shared, commonName: 'web', template: CertificateTemplate.END_ENTITY_SERVER_AUTH }))
      .not.toThrow();
    // The same CA imported into its own account issues with any template.
    const own = PrivateCa.fromCertificateAuthorityArn(stack, 'Own',
      'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555');
    expect(() => new IssuedCertificate(stack, 'OwnSigner', { certificateAuthority: own, commonName: 'signer', template: CertificateTemplate.CODE_SIGNING }))
      .not.toThrow();
  });
});
