import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import { App, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PrivateCa } from '../../src/acm-pca/private-ca';
import {
  AuditReportFormat,
  CaUsageMode,
  CrlObjectAcl,
  CrlType,
  KeyAlgorithm,
  KeyStorageSecurityStandard,
  SigningAlgorithm,
} from '../../src/acm-pca/private-ca-options';
import { PrivateCaProps } from '../../src/acm-pca/private-ca-props';
import { CertificatePem } from '../../src/material/certificate-material';
import { makeCsr, makeTestPki, TestPki } from '../support/fixtures/pki';

let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki();
});

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function root(stack: Stack, overrides: Partial<PrivateCaProps> = {}): PrivateCa {
  return new PrivateCa(stack, 'Root', { subject: { commonName: 'Example Root CA' }, ...overrides });
}

/** The logical ID of the only resource of `type` whose ID starts with `prefix`. */
function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

const RETAIN = { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' };

describe('root CA', () => {
  test('self-signed with RootCACertificate/V1, activated, deleted only by the lifecycle resource', () => {
    const stack = newStack();
    const ca = root(stack);
    const t = Template.fromStack(stack);
    const caId = logicalId(t, 'AWS::ACMPCA::CertificateAuthority', 'Root');
    const lifecycleId = logicalId(t, 'Custom::PrivateCa', 'RootLifecycle');
    const certId = logicalId(t, 'AWS::ACMPCA::Certificate', 'RootCaCertificate');
    const activationId = logicalId(t, 'AWS::ACMPCA::CertificateAuthorityActivation', 'RootActivation');

    t.hasResource('AWS::ACMPCA::CertificateAuthority', {
      ...RETAIN,
      Properties: {
        Type: 'ROOT',
        KeyAlgorithm: 'RSA_2048',
        SigningAlgorithm: 'SHA256WITHRSA',
        Subject: { CommonName: 'Example Root CA' },
        RevocationConfiguration: { CrlConfiguration: { Enabled: false }, OcspConfiguration: { Enabled: false } },
        UsageMode: Match.absent(),
        KeyStorageSecurityStandard: Match.absent(),
      },
    });
    // Retained by default, as aws-cdk-lib retains stateful resources.
    t.hasResource('Custom::PrivateCa', {
      DeletionPolicy: 'Retain',
      Properties: {
        CertificateAuthorityArn: { 'Fn::GetAtt': [caId, 'Arn'] },
        PermanentDeletionTimeInDays: '30',
        RemovalPolicy: 'retain',
      },
    });
    t.hasResourceProperties('AWS::ACMPCA::Certificate', {
      CertificateAuthorityArn: { Ref: lifecycleId },
      CertificateSigningRequest: { 'Fn::GetAtt': [caId, 'CertificateSigningRequest'] },
      SigningAlgorithm: 'SHA256WITHRSA',
      TemplateArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:::template/RootCACertificate/V1']] },
      Validity: { Type: 'DAYS', Value: 3650 },
    });
    t.hasResource('AWS::ACMPCA::CertificateAuthorityActivation', {
      DeletionPolicy: 'Retain',
      Properties: {
        CertificateAuthorityArn: { Ref: lifecycleId },
        Certificate: { 'Fn::GetAtt': [certId, 'Certificate'] },
        CertificateChain: Match.absent(),
        Status: 'ACTIVE',
      },
    });
    t.hasResourceProperties('AWS::ACMPCA::Permission', {
      CertificateAuthorityArn: { Ref: activationId },
      Principal: 'acm.amazonaws.com',
      Actions: ['IssueCertificate', 'GetCertificate', 'ListPermissions'],
      SourceAccount: '123456789012',
    });

    // Users of the ARN wait for the activation; the CA's own chain is its certificate.
    expect(stack.resolve(ca.certificateAuthorityArn)).toEqual({ Ref: activationId });
    expect(stack.resolve(ca.certificatePem.pemText)).toBeUndefined();
    expect(stack.resolve(ca.certificateChainPem._bind(ca, new iam.AccountRootPrincipal()))).toEqual({
      kind: 'inline', value: { 'Fn::GetAtt': [certId, 'Certificate'] },
    });
    expect(stack.resolve(ca.csr)).toEqual({ 'Fn::GetAtt': [caId, 'CertificateSigningRequest'] });
    expect(ca.status).toBe('ACTIVE');
    expect(ca.isRoot).toBe(true);
    expect(ca.pathLength).toBeUndefined();
    expect(ca.validity!.toDays()).toBe(3650);
  });

  test('every CreateCertificateAuthority setting reaches the template', () => {
    const stack = newStack();
    root(stack, {
      subject: {
        commonName: 'Example Root CA',
        country: 'US',
        organization: 'Example Corp',
        organizationalUnit: 'PKI',
        state: 'Washington',
        locality: 'Seattle',
        distinguishedNameQualifier: 'dnq-1',
        serialNumber: 'SN 0001',
        title: 'CA',
        surname: 'Doe',
        givenName: 'Jane',
        initials: 'JD',
        pseudonym: 'Root',
        generationQualifier: 'III',
      },
      keyAlgorithm: KeyAlgorithm.EC_SECP384R1,
      usageMode: CaUsageMode.SHORT_LIVED_CERTIFICATE,
      keyStorageSecurityStandard: KeyStorageSecurityStandard.FIPS_140_2_LEVEL_2_OR_HIGHER,
      validity: Duration.days(7300),
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', {
      KeyAlgorithm: 'EC_secp384r1',
      SigningAlgorithm: 'SHA384WITHECDSA',
      UsageMode: 'SHORT_LIVED_CERTIFICATE',
      KeyStorageSecurityStandard: 'FIPS_140_2_LEVEL_2_OR_HIGHER',
      Subject: {
        CommonName: 'Example Root CA',
        Country: 'US',
        Organization: 'Example Corp',
        OrganizationalUnit: 'PKI',
        State: 'Washington',
        Locality: 'Seattle',
        DistinguishedNameQualifier: 'dnq-1',
        SerialNumber: 'SN 0001',
        Title: 'CA',
        Surname: 'Doe',
        GivenName: 'Jane',
        Initials: 'JD',
        Pseudonym: 'Root',
        GenerationQualifier: 'III',
      },
    });
    t.hasResourceProperties('AWS::ACMPCA::Certificate', { SigningAlgorithm: 'SHA384WITHECDSA', Validity: { Type: 'DAYS', Value: 7300 } });
  });

  test('Tags.of reaches the CA; enabled: false disables it in place; allowAcmRenewals: false drops the permission', () => {
    const stack = newStack();
    const ca = root(stack, { enabled: false, allowAcmRenewals: false });
    Tags.of(stack).add('team', 'pki');
    const t = Template.fromStack(stack);
    // With the ownership tags the construct adds (the handler roles' aws:ResourceTag condition).
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', {
      Tags: [
        { Key: 'cdk-certificates:logical-id', Value: Match.stringLikeRegexp('^Root') },
        { Key: 'cdk-certificates:stack-id', Value: { Ref: 'AWS::StackId' } },
        { Key: 'team', Value: 'pki' },
      ],
    });
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthorityActivation', { Status: 'DISABLED' });
    t.resourceCountIs('AWS::ACMPCA::Permission', 0);
    expect(ca.status).toBe('DISABLED');
  });

  test('acm.PrivateCertificate accepts it, and grants are scoped to the CA', () => {
    const stack = newStack();
    const ca = root(stack);
    new acm.PrivateCertificate(stack, 'Acm', { domainName: 'internal.example.com', certificateAuthority: ca });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    ca.grantIssue(role);
    ca.grantRead(role);
    const t = Template.fromStack(stack);
    const activationId = logicalId(t, 'AWS::ACMPCA::CertificateAuthorityActivation', 'RootActivation');
    t.hasResourceProperties('AWS::CertificateManager::Certificate', { CertificateAuthorityArn: { Ref: activationId } });
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Role') }],
      PolicyDocument: {
        Statement: [
          { Action: ['acm-pca:IssueCertificate', 'acm-pca:GetCertificate'], Effect: 'Allow', Resource: { Ref: activationId } },
          {
            Action: ['acm-pca:GetCertificateAuthorityCertificate', 'acm-pca:GetCertificateAuthorityCsr', 'acm-pca:DescribeCertificateAuthority'],
            Effect: 'Allow',
            Resource: { Ref: activationId },
          },
        ],
      },
    });
  });

  test('one private-ca handler per stack, scoped to the CAs this stack owns', () => {
    const stack = newStack();
    const a = root(stack);
    new PrivateCa(stack, 'Other', { subject: { commonName: 'Other Root' } });
    new PrivateCa(stack, 'Sub', { parent: a, subject: { commonName: 'Sub' } });
    const t = Template.fromStack(stack);
    t.resourceCountIs('Custom::PrivateCa', 3);
    const handlers = t.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.onEvent' } });
    expect(Object.keys(handlers)).toHaveLength(1);
    t.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.onEvent', Runtime: 'nodejs22.x' });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: [
            'acm-pca:DescribeCertificateAuthority',
            'acm-pca:UpdateCertificateAuthority',
            'acm-pca:DeleteCertificateAuthority',
            'acm-pca:PutPolicy',
            'acm-pca:DeletePolicy',
          ],
          // Not any CA of the account: only CAs whose ownership tag names this stack.
          Condition: { StringEquals: { 'aws:ResourceTag/cdk-certificates:stack-id': { Ref: 'AWS::StackId' } } },
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:eu-west-1:123456789012:certificate-authority/*']] },
        }]),
      },
    });
  });
});

describe('subordinate CAs', () => {
  test('signed in the app with the PathLen template of the parent, chained to the parent', () => {
    const stack = newStack();
    const r = root(stack, { keyAlgorithm: KeyAlgorithm.RSA_4096, signingAlgorithm: SigningAlgorithm.SHA512WITHRSA });
    const intermediate = new PrivateCa(stack, 'Intermediate', {
      parent: r, pathLength: 1, subject: { commonName: 'Intermediate' }, keyAlgorithm: KeyAlgorithm.EC_PRIME256V1,
    });
    const issuing = new PrivateCa(stack, 'Issuing', { parent: intermediate, subject: { commonName: 'Issuing' } });
    const t = Template.fromStack(stack);
    const rootActivation = logicalId(t, 'AWS::ACMPCA::CertificateAuthorityActivation', 'RootActivation');
    const rootCert = logicalId(t, 'AWS::ACMPCA::Certificate', 'RootCaCertificate');
    const interActivation = logicalId(t, 'AWS::ACMPCA::CertificateAuthorityActivation', 'IntermediateActivation');
    const interCert = logicalId(t, 'AWS::ACMPCA::Certificate', 'IntermediateCaCertificate');
    const issuingCert = logicalId(t, 'AWS::ACMPCA::Certificate', 'IssuingCaCertificate');

    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', { Type: 'SUBORDINATE', Subject: { CommonName: 'Intermediate' }, KeyAlgorithm: 'EC_prime256v1' });
    // The parent signs, with its own signing algorithm, once it is active (its activation's Ref).
    expect(t.toJSON().Resources[interCert].Properties).toEqual({
      CertificateAuthorityArn: { Ref: rootActivation },
      CertificateSigningRequest: { 'Fn::GetAtt': [logicalId(t, 'AWS::ACMPCA::CertificateAuthority', 'Intermediate'), 'CertificateSigningRequest'] },
      SigningAlgorithm: 'SHA512WITHRSA',
      TemplateArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:::template/SubordinateCACertificate_PathLen1/V1']] },
      Validity: { Type: 'DAYS', Value: 1825 },
    });
    expect(t.toJSON().Resources[issuingCert].Properties).toMatchObject({
      CertificateAuthorityArn: { Ref: interActivation },
      SigningAlgorithm: 'SHA256WITHECDSA',
      TemplateArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:::template/SubordinateCACertificate_PathLen0/V1']] },
      // Half the parent's five years.
      Validity: { Type: 'DAYS', Value: 912 },
    });
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthorityActivation', {
      Certificate: { 'Fn::GetAtt': [interCert, 'Certificate'] },
      CertificateChain: { 'Fn::GetAtt': [rootCert, 'Certificate'] },
    });
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthorityActivation', {
      Certificate: { 'Fn::GetAtt': [issuingCert, 'Certificate'] },
      CertificateChain: { 'Fn::GetAtt': [interActivation, 'CompleteCertificateChain'] },
    });
    expect(intermediate.pathLength).toBe(1);
    expect(issuing.pathLength).toBe(0);
    expect(issuing.isRoot).toBe(false);
    // Its own key (RSA by default) signs what it issues; its parent's signed its certificate.
    expect(issuing.issuingSigningAlgorithm).toBe('SHA256WITHRSA');
    expect(stack.resolve(issuing.certificateChainPem._bind(issuing, new iam.AccountRootPrincipal()))).toEqual({
      kind: 'inline', value: { 'Fn::GetAtt': [logicalId(t, 'AWS::ACMPCA::CertificateAuthorityActivation', 'IssuingActivation'), 'CompleteCertificateChain'] },
    });
  });

  test('a parent in another stack of the same environment signs through an export', () => {
    const app = new App();
    const env = { account: '123456789012', region: 'eu-west-1' };
    const rootStack = new Stack(app, 'RootStack', { env });
    const subStack = new Stack(app, 'SubStack', { env });
    const r = new PrivateCa(rootStack, 'Root', { subject: { commonName: 'Root' } });
    new PrivateCa(subStack, 'Sub', { parent: r, subject: { commonName: 'Sub' } });
    Template.fromStack(subStack).hasResourceProperties('AWS::ACMPCA::Certificate', {
      CertificateAuthorityArn: { 'Fn::ImportValue': Match.stringLikeRegexp('RootStack') },
    });
  });
});

describe('external parent', () => {
  test('first deploy: the CSR is an output and an attribute, nothing is activated', () => {
    const stack = newStack();
    const ca = new PrivateCa(stack, 'Ext', { externalParent: true, subject: { commonName: 'Issued by on-prem root' } });
    const t = Template.fromStack(stack);
    const caId = logicalId(t, 'AWS::ACMPCA::CertificateAuthority', 'Ext');
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', { Type: 'SUBORDINATE' });
    t.resourceCountIs('AWS::ACMPCA::CertificateAuthorityActivation', 0);
    t.resourceCountIs('AWS::ACMPCA::Certificate', 0);
    t.resourceCountIs('AWS::ACMPCA::Permission', 0);
    t.hasOutput('*', { Value: { 'Fn::GetAtt': [caId, 'CertificateSigningRequest'] } });
    expect(ca.status).toBe('PENDING_CERTIFICATE');
    expect(stack.resolve(ca.certificateAuthorityArn)).toEqual({ Ref: logicalId(t, 'Custom::PrivateCa', 'ExtLifecycle') });
    expect(() => ca.certificatePem).toThrow(/\[Stack\/Ext\] certificatePem: this CA has an external parent and no certificate yet/);
    expect(ca.issuedCertificateChainPem).toBeUndefined();
    expect(() => new PrivateCa(stack, 'Child', { parent: ca, subject: { commonName: 'Child' } }))
      .toThrow(/parent: Stack\/Ext has an external parent and no certificate yet, so it cannot sign/);
    expect(() => ca.issueCertificateFromCsr('Csr', 'x')).toThrow(/issueCertificateFromCsr: this CA has an external parent and no certificate yet/);
  });

  test('second deploy: the signed certificate and chain activate it; the validity comes from the certificate', () => {
    const stack = newStack();
    const ca = new PrivateCa(stack, 'Ext', {
      externalParent: true,
      subject: { commonName: 'Test Intermediate CA' },
      certificate: CertificatePem.fromString(pki.intermediate.certificatePem),
      certificateChain: CertificatePem.fromString(pki.root.certificatePem),
      pathLength: 0,
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthorityActivation', {
      Certificate: pki.intermediate.certificatePem,
      CertificateChain: pki.root.certificatePem,
      Status: 'ACTIVE',
    });
    t.resourceCountIs('AWS::ACMPCA::Permission', 1);
    expect(t.findOutputs('*')).toEqual({});
    expect(ca.certificatePem.pemText).toBe(pki.intermediate.certificatePem);
    const expected = Math.floor((pki.intermediate.certificate.notAfter.getTime() - pki.intermediate.certificate.notBefore.getTime()) / 86_400_000);
    expect(ca.validity!.toDays()).toBe(expected);
    // The declared path length is checked for children.
    expect(() => new PrivateCa(stack, 'Child', { parent: ca, subject: { commonName: 'Child' } }))
      .toThrow(/pathLength: the parent Stack\/Ext has path length 0, so it may not sign CA certificates/);
  });

  test('from a secret or an SSM String parameter: CloudFormation dynamic references, no grant', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Pem', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ca-pem-AbCdEf');
    const parameter = ssm.StringParameter.fromStringParameterName(stack, 'Chain', '/pki/chain');
    const ca = new PrivateCa(stack, 'Ext', {
      externalParent: true,
      subject: { commonName: 'Ext' },
      certificate: CertificatePem.fromSecret(secret, 'certificate'),
      certificateChain: CertificatePem.fromSsmParameter(parameter),
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthorityActivation', {
      Certificate: '{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:ca-pem-AbCdEf:SecretString:certificate::}}',
      CertificateChain: '{{resolve:ssm:/pki/chain}}',
    });
    // Consumers of the CA certificate get the secret itself, not the dynamic reference text.
    expect(ca.certificatePem.pemText).toBeUndefined();
    expect(ca.certificatePem.sourceDescription).toMatch(/secret/);
    const policies = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(policies).not.toContain('secretsmanager:GetSecretValue');
    expect(policies).not.toContain('ssm:GetParameter');
  });

  test('a leaf certificate is refused at synth', () => {
    const stack = newStack();
    expect(() => new PrivateCa(stack, 'Ext', {
      externalParent: true,
      subject: { commonName: 'Ext' },
      certificate: CertificatePem.fromString(pki.leaf.certificatePem),
      certificateChain: CertificatePem.fromString(pki.chainPem),
    })).toThrow(/certificate: .*www\.example\.com is not a CA certificate/);
  });
});

describe('issuing', () => {
  test('issueCertificate and issueCertificateFromCsr create the certificates under the CA, after its activation', async () => {
    const stack = newStack();
    const ca = root(stack, { keyAlgorithm: KeyAlgorithm.EC_PRIME256V1 });
    const web = ca.issueCertificate('Web', { commonName: 'www.example.com', dnsNames: ['www.example.com'] });
    const csr = await makeCsr({ commonName: 'device.example.com' });
    const device = ca.issueCertificateFromCsr('Device', csr.csrPem);
    expect(web.node.path).toBe('Stack/Root/Web');
    expect(device.node.path).toBe('Stack/Root/Device');
    const t = Template.fromStack(stack);
    const activationId = logicalId(t, 'AWS::ACMPCA::CertificateAuthorityActivation', 'RootActivation');
    t.hasResourceProperties('Custom::PrivateCaIssuedCertificate', { CertificateAuthorityArn: { Ref: activationId } });
    t.hasResourceProperties('AWS::ACMPCA::Certificate', {
      CertificateAuthorityArn: { Ref: activationId },
      CertificateSigningRequest: csr.csrPem,
      SigningAlgorithm: 'SHA256WITHECDSA',
    });
    expect(ca.readyForIssuance).toBe(ca.activation);
  });
});

describe('revocation', () => {
  test('CRL: a created bucket, encrypted, SSL only, private, retained, with the policy ACM PCA needs before the CA', () => {
    const stack = newStack();
    const ca = root(stack, { crl: { expirationInDays: 30, customCname: 'crl.example.com', customPath: 'crl/root', crlType: CrlType.PARTITIONED } });
    const t = Template.fromStack(stack);
    const bucketId = logicalId(t, 'AWS::S3::Bucket', 'RootCrlBucket');
    const policyId = logicalId(t, 'AWS::S3::BucketPolicy', 'RootCrlBucket');
    t.hasResource('AWS::S3::Bucket', {
      ...RETAIN,
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          {
            Effect: 'Allow',
            Principal: { Service: 'acm-pca.amazonaws.com' },
            Action: ['s3:PutObject', 's3:PutObjectAcl', 's3:GetBucketAcl', 's3:GetBucketLocation'],
            Resource: [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] }],
            Condition: {
              StringEquals: { 'aws:SourceAccount': '123456789012' },
              ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:eu-west-1:123456789012:certificate-authority/*']] } },
            },
          },
        ]),
      },
    });
    t.hasResource('AWS::ACMPCA::CertificateAuthority', {
      DependsOn: Match.arrayWith([policyId]),
      Properties: {
        RevocationConfiguration: {
          CrlConfiguration: {
            Enabled: true,
            ExpirationInDays: 30,
            S3BucketName: { Ref: bucketId },
            S3ObjectAcl: 'BUCKET_OWNER_FULL_CONTROL',
            CustomCname: 'crl.example.com',
            CustomPath: 'crl/root',
            CrlType: 'PARTITIONED',
          },
          OcspConfiguration: { Enabled: false },
        },
      },
    });
    expect(ca.crlBucket).toBeDefined();
  });

  test('CRL in a user bucket (which gets the same statement); an imported bucket warns; OCSP with a CNAME', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Crls');
    root(stack, {
      crl: { bucket, objectAcl: CrlObjectAcl.PUBLIC_READ, includeDistributionPoint: false },
      ocsp: { customCname: 'ocsp.example.com' },
    });
    const imported = s3.Bucket.fromBucketName(stack, 'Imported', 'existing-crls');
    new PrivateCa(stack, 'Other', { subject: { commonName: 'Other' }, crl: { bucket: imported } });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::S3::Bucket', 1);
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'acm-pca.amazonaws.com' } })]) },
    });
    t.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', {
      Subject: { CommonName: 'Example Root CA' },
      RevocationConfiguration: {
        CrlConfiguration: {
          S3ObjectAcl: 'PUBLIC_READ',
          CrlDistributionPointExtensionConfiguration: { OmitExtension: true },
        },
        OcspConfiguration: { Enabled: true, OcspCustomCname: 'ocsp.example.com' },
      },
    });
    Annotations.fromStack(stack).hasWarning('/Stack/Other', Match.stringLikeRegexp('crl.bucket is imported'));
  });
});

describe('resource policy', () => {
  test('addToResourcePolicy: one Custom::PrivateCaPolicy with the statements, scoped to the CA', () => {
    const stack = newStack();
    const ca = root(stack);
    const result = ca.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.AccountPrincipal('111111111111')],
      actions: ['acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificate', 'acm-pca:GetCertificateAuthorityCertificate', 'acm-pca:ListPermissions', 'acm-pca:ListTags'],
    }));
    ca.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.AccountPrincipal('111111111111')],
      actions: ['acm-pca:IssueCertificate'],
      conditions: { StringEquals: { 'acm-pca:TemplateArn': 'arn:aws:acm-pca:::template/EndEntityCertificate/V1' } },
    }));
    expect(result.statementAdded).toBe(true);
    const t = Template.fromStack(stack);
    t.resourceCountIs('Custom::PrivateCaPolicy', 1);
    const activationId = logicalId(t, 'AWS::ACMPCA::CertificateAuthorityActivation', 'RootActivation');
    const [resource] = Object.values(t.findResources('Custom::PrivateCaPolicy')) as any[];
    expect(resource.Properties.CertificateAuthorityArn).toEqual({ Ref: activationId });
    expect(resource.Properties.RemovalPolicy).toBe('retain');
    // The policy is a JSON string joined around the CA ARN and the partition.
    const [, parts] = resource.Properties.Policy['Fn::Join'];
    const text = parts.map((p: unknown) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
    expect(text).toContain('"Action":"acm-pca:IssueCertificate","Condition":{"StringEquals":{"acm-pca:TemplateArn":"arn:aws:acm-pca:::template/EndEntityCertificate/V1"}}');
    expect(text).toContain('"Principal":{"AWS":"arn:{"Ref":"AWS::Partition"}:iam::111111111111:root"}');
    expect(text.match(new RegExp(`"Resource":"\\{"Ref":"${activationId}"\\}"`, 'g'))).toHaveLength(2);
  });

  test('a statement without a principal fails synth; an imported CA cannot take statements', () => {
    const stack = newStack();
    const ca = root(stack);
    ca.addToResourcePolicy(new iam.PolicyStatement({ actions: ['acm-pca:IssueCertificate'] }));
    expect(() => Template.fromStack(stack)).toThrow(/A PolicyStatement used in a resource-based policy must specify at least one IAM principal/);

    const other = newStack();
    const imported = PrivateCa.fromCertificateAuthorityArn(other, 'Imported',
      'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/11223344-1234-1122-2233-112233445566');
    const role = new iam.Role(other, 'Role', { assumedBy: new iam.AccountRootPrincipal() });
    imported.grantIssue(role);
    Template.fromStack(other).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Resource: imported.certificateAuthorityArn })] },
    });
    expect(imported.env.region).toBe('eu-west-1');
  });
});

describe('audit reports', () => {
  test('an EventBridge Scheduler schedule calls CreateCertificateAuthorityAuditReport directly', () => {
    const stack = newStack();
    const ca = root(stack, { auditReports: { schedule: scheduler.ScheduleExpression.rate(Duration.days(7)), format: AuditReportFormat.CSV } });
    const t = Template.fromStack(stack);
    const activationId = logicalId(t, 'AWS::ACMPCA::CertificateAuthorityActivation', 'RootActivation');
    const bucketId = logicalId(t, 'AWS::S3::Bucket', 'RootAuditReportBucket');
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(7 days)',
      Target: {
        Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:::aws-sdk:acmpca:createCertificateAuthorityAuditReport']] },
        Input: {
          'Fn::Join': ['', [
            '{"CertificateAuthorityArn":"', { Ref: activationId }, '","S3BucketName":"', { Ref: bucketId }, '","AuditReportResponseFormat":"CSV"}',
          ]],
        },
      },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: 'acm-pca:CreateCertificateAuthorityAuditReport', Effect: 'Allow', Resource: { Ref: activationId } },
          { Action: 's3:PutObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/audit-report/*']] } },
        ]),
      },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'acm-pca.amazonaws.com' } })]) },
    });
    // No Lambda function for the reports: only the private-ca handler (+ the Provider framework's).
    expect(Object.keys(t.findResources('AWS::Lambda::Function'))).toHaveLength(2);
    expect(ca.auditReportSchedule).toBeDefined();
  });
});

describe('deletion settings', () => {
  test('permanentDeletionTimeInDays goes to the lifecycle resource', () => {
    const stack = newStack();
    root(stack, { permanentDeletionTimeInDays: 7 });
    Template.fromStack(stack).hasResourceProperties('Custom::PrivateCa', { PermanentDeletionTimeInDays: '7', RemovalPolicy: 'retain' });
  });

  test('RETAIN keeps the CA, its activation, permission and policy', () => {
    const stack = newStack();
    const ca = root(stack, { removalPolicy: RemovalPolicy.RETAIN });
    ca.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.AccountPrincipal('111111111111')], actions: ['acm-pca:GetCertificate'] }));
    const t = Template.fromStack(stack);
    t.hasResource('Custom::PrivateCa', { ...RETAIN, Properties: { RemovalPolicy: 'retain' } });
    t.hasResource('Custom::PrivateCaPolicy', { ...RETAIN, Properties: { RemovalPolicy: 'retain' } });
    t.hasResource('AWS::ACMPCA::CertificateAuthorityActivation', RETAIN);
    t.hasResource('AWS::ACMPCA::Permission', RETAIN);
    t.hasResource('AWS::ACMPCA::CertificateAuthority', RETAIN);
  });
});

describe('bad input is a synth error naming the property', () => {
  const cases: Array<[string, (stack: Stack) => void, RegExp]> = [
    ['signing algorithm not fitting the key', (s) => root(s, { keyAlgorithm: KeyAlgorithm.EC_PRIME256V1, signingAlgorithm: SigningAlgorithm.SHA256WITHRSA }),
      /\[Stack\/Root\] signingAlgorithm: SHA256WITHRSA does not fit the key algorithm EC_prime256v1; use .* SHA256WITHECDSA/],
    ['ML-DSA signing with another parameter set', (s) => root(s, { keyAlgorithm: KeyAlgorithm.ML_DSA_65, signingAlgorithm: SigningAlgorithm.ML_DSA_44 }),
      /signingAlgorithm: ML_DSA_44 does not fit the key algorithm ML_DSA_65/],
    ['country of three letters', (s) => root(s, { subject: { commonName: 'x', country: 'USA' } }),
      /subject\.country: must be exactly two letters .* got 'USA'/],
    ['country with a digit', (s) => root(s, { subject: { commonName: 'x', country: 'U1' } }), /subject\.country: must be exactly two letters/],
    ['common name over 64 characters', (s) => root(s, { subject: { commonName: 'x'.repeat(65) } }), /subject\.commonName: must be 1 to 64 characters long, got 65/],
    ['generation qualifier over 3 characters', (s) => root(s, { subject: { commonName: 'x', generationQualifier: 'IIII' } }),
      /subject\.generationQualifier: must be 1 to 3 characters long, got 4/],
    ['serial number outside PrintableString', (s) => root(s, { subject: { commonName: 'x', serialNumber: 'a_b' } }),
      /subject\.serialNumber: may hold only letters, digits, spaces/],
    ['CRL expiration of 0 days', (s) => root(s, { crl: { expirationInDays: 0 } }), /crl\.expirationInDays: must be a whole number of days from 1 to 5000, got 0/],
    ['CRL expiration of 5001 days', (s) => root(s, { crl: { expirationInDays: 5001 } }), /crl\.expirationInDays: .* got 5001/],
    ['CRL CNAME with a protocol', (s) => root(s, { crl: { customCname: 'http://crl.example.com' } }), /crl\.customCname: must be a host name without a protocol prefix/],
    ['CRL path with a leading slash', (s) => root(s, { crl: { customPath: '/crl' } }), /crl\.customPath: must be a relative URI path/],
    ['public CRLs in the created bucket', (s) => root(s, { crl: { objectAcl: CrlObjectAcl.PUBLIC_READ } }), /crl\.objectAcl: PUBLIC_READ needs a bucket that allows public ACLs/],
    ['OCSP CNAME that is not a host name', (s) => root(s, { ocsp: { customCname: 'ocsp example' } }), /ocsp\.customCname: must be a DNS host name/],
    ['deletion window of 6 days', (s) => root(s, { permanentDeletionTimeInDays: 6 }), /permanentDeletionTimeInDays: must be a whole number of days from 7 to 30, got 6/],
    ['deletion window of 31 days', (s) => root(s, { permanentDeletionTimeInDays: 31 }), /permanentDeletionTimeInDays: .* got 31/],
    ['path length on a root', (s) => root(s, { pathLength: 1 }), /pathLength: cannot be set on a root/],
    ['path length beyond the parent\'s', (s) => {
      const r = root(s);
      const mid = new PrivateCa(s, 'Mid', { parent: r, pathLength: 1, subject: { commonName: 'Mid' } });
      new PrivateCa(s, 'Leafy', { parent: mid, pathLength: 1, subject: { commonName: 'Leafy' } });
    }, /\[Stack\/Leafy\] pathLength: 1 is not below the path length of the parent Stack\/Mid \(1\); use at most 0/],
    ['a child under a parent of path length 0', (s) => {
      const r = root(s);
      const issuing = new PrivateCa(s, 'Issuing', { parent: r, subject: { commonName: 'Issuing' } });
      new PrivateCa(s, 'Below', { parent: issuing, subject: { commonName: 'Below' } });
    }, /pathLength: the parent Stack\/Issuing has path length 0, so it may not sign CA certificates/],
    ['path length beyond the templates', (s) => new PrivateCa(s, 'Sub', { parent: root(s), pathLength: 4, subject: { commonName: 'Sub' } }),
      /pathLength: must be a whole number from 0 to 3/],
    ['validity longer than the parent\'s', (s) => new PrivateCa(s, 'Sub', { parent: root(s, { validity: Duration.days(1000) }), validity: Duration.days(1001), subject: { commonName: 'Sub' } }),
      /validity: 1001 days is not shorter than the validity of the parent Stack\/Root \(1000 days\)/],
    ['validity equal to the parent\'s', (s) => new PrivateCa(s, 'Sub', { parent: root(s, { validity: Duration.days(1000) }), validity: Duration.days(1000), subject: { commonName: 'Sub' } }),
      /validity: 1000 days is not shorter/],
    ['validity in part days', (s) => root(s, { validity: Duration.hours(36) }), /validity: must be a whole number of days, got 1 day 12 hours/],
    ['certificate without externalParent', (s) => root(s, { certificate: CertificatePem.fromString('x'), certificateChain: CertificatePem.fromString('y') }),
      /certificate: is only for a CA with externalParent: true/],
    ['certificate without its chain', (s) => new PrivateCa(s, 'Ext', { externalParent: true, subject: { commonName: 'x' }, certificate: CertificatePem.fromString(pki.intermediate.certificatePem) }),
      /certificateChain: is required with certificate/],
    ['parent and externalParent together', (s) => new PrivateCa(s, 'Sub', { parent: root(s), externalParent: true, subject: { commonName: 'x' } }),
      /externalParent: cannot be set together with parent/],
    ['a malformed external certificate', (s) => new PrivateCa(s, 'Ext', {
      externalParent: true, subject: { commonName: 'x' }, certificate: CertificatePem.fromString('not a pem'), certificateChain: CertificatePem.fromString(pki.root.certificatePem),
    }), /certificate: /],
    ['a CA ARN that is not one', (s) => PrivateCa.fromCertificateAuthorityArn(s, 'Bad', 'arn:aws:acm:eu-west-1:123456789012:certificate/abc'),
      /certificateAuthorityArn: 'arn:aws:acm:eu-west-1:123456789012:certificate\/abc' is not a private CA ARN/],
  ];
  test.each(cases)('%s', (_name, build, message) => {
    expect(() => build(newStack())).toThrow(message);
  });

  test('a parent in another Region is refused', () => {
    const app = new App();
    const r = new PrivateCa(new Stack(app, 'A', { env: { account: '123456789012', region: 'eu-west-1' } }), 'Root', { subject: { commonName: 'Root' } });
    const other = new Stack(app, 'B', { env: { account: '123456789012', region: 'us-east-1' } });
    expect(() => new PrivateCa(other, 'Sub', { parent: r, subject: { commonName: 'Sub' } })).toThrow(/parent: A\/Root is in another Region \(eu-west-1\)/);
  });

  test('tokens are left for deploy', () => {
    const stack = newStack();
    const cn = new ssm.StringParameter(stack, 'Cn', { stringValue: 'x' }).stringValue;
    expect(() => root(stack, { subject: { commonName: cn, country: cn } })).not.toThrow();
  });
});

/** A full hierarchy with every feature, for cdk-nag and the CloudFormation spec check. */
function fullHierarchy(): { app: App; stack: Stack } {
  const app = new App();
  const stack = new Stack(app, 'Pki', { env: { account: '123456789012', region: 'eu-west-1' } });
  const r = new PrivateCa(stack, 'Root', {
    subject: { commonName: 'Root', country: 'US' },
    crl: {},
    auditReports: { schedule: scheduler.ScheduleExpression.rate(Duration.days(30)) },
  });
  const intermediate = new PrivateCa(stack, 'Intermediate', { parent: r, pathLength: 1, subject: { commonName: 'Intermediate' }, crl: { customPath: 'crl/int' } });
  const issuing = new PrivateCa(stack, 'Issuing', { parent: intermediate, subject: { commonName: 'Issuing' }, ocsp: {}, permanentDeletionTimeInDays: 7 });
  issuing.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.AccountPrincipal('111111111111')], actions: ['acm-pca:GetCertificate'] }));
  new acm.PrivateCertificate(stack, 'Acm', { domainName: 'internal.example.com', certificateAuthority: issuing });
  new PrivateCa(stack, 'External', { externalParent: true, subject: { commonName: 'External' } });
  return { app, stack };
}

/**
 * Findings that remain, each with its reason (cdk-nag is a devDependency only, so the construct
 * cannot acknowledge them itself). Anything else fails the test.
 */
const ACKNOWLEDGED: Array<{ rule: RegExp; path: RegExp; reason: string }> = [
  {
    rule: /^AwsSolutions-S1$/,
    path: /\/(Root|Intermediate)\/(CrlBucket|AuditReportBucket)\/Resource$/,
    reason: 'CRL and audit buckets are written only by ACM Private CA; pass crl.bucket / auditReports.bucket with access logging to log reads.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:acm-pca:eu-west-1:123456789012:certificate-authority\/\*\]$/,
    path: /\/CdkCertificatesPrivateCaProvider\/Role\/DefaultPolicy\/Resource$/,
    reason: 'The handler deletes a replaced CA after the role policy has moved on to the new CA, so it is scoped to the account and Region.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::<RootAuditReportBucket\w+\.Arn>\/audit-report\/\*\]$/,
    path: /\/SchedulerRoleForTarget-\w+\/DefaultPolicy\/Resource$/,
    reason: 'Audit report keys (audit-report/<CA id>/<report id>) are chosen by the service.',
  },
  {
    rule: /^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole\]$/,
    path: /\/CdkCertificatesPrivateCaProvider\/Provider\/framework-onEvent\/ServiceRole\/Resource$/,
    reason: 'aws-cdk-lib gives the Provider framework function this managed policy.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::<CdkCertificatesPrivateCaProviderOnEvent\w+\.Arn>:\*\]$/,
    path: /\/CdkCertificatesPrivateCaProvider\/Provider\/framework-onEvent\/ServiceRole\/DefaultPolicy\/Resource$/,
    reason: 'aws-cdk-lib lets the Provider framework function invoke every version of the handler function.',
  },
];

describe('a full hierarchy', () => {
  test('cdk-nag AwsSolutions finds nothing beyond the acknowledged findings', () => {
    const { app } = fullHierarchy();
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const unexpected: string[] = [];
    for (const violation of report.violations) {
      for (const resource of violation.violatingResources) {
        if (!ACKNOWLEDGED.some((a) => a.rule.test(violation.ruleName) && a.path.test(resource.constructPath ?? ''))) {
          unexpected.push(`${violation.ruleName} at ${resource.constructPath ?? resource.resourceLogicalId}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
    for (const a of ACKNOWLEDGED) {
      expect(report.violations.some((v) => a.rule.test(v.ruleName))).toBe(true);
    }
  });

  test('uses only resource types, properties and attributes the CloudFormation spec knows', () => {
    const { stack } = fullHierarchy();
    const db = loadAwsServiceSpecSync();
    const template = Template.fromStack(stack).toJSON();
    const resources: Record<string, any> = template.Resources;
    const problems: string[] = [];
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource') continue;
      const definition = db.lookup('resource', 'cloudFormationType', 'equals', resource.Type).only();
      for (const key of Object.keys(resource.Properties ?? {})) {
        if (!(key in definition.properties)) problems.push(`${id}: ${resource.Type} has no property ${key}`);
      }
      for (const [key, property] of Object.entries<any>(definition.properties)) {
        if (property.required && !(key in (resource.Properties ?? {}))) problems.push(`${id}: ${resource.Type} misses ${key}`);
      }
    }
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        node.forEach(walk);
      } else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'Fn::GetAtt' && Array.isArray(value)) {
            const type = resources[value[0]]?.Type;
            if (type && !type.startsWith('Custom::') && type !== 'AWS::CloudFormation::CustomResource') {
              const attrs = db.lookup('resource', 'cloudFormationType', 'equals', type).only().attributes ?? {};
              if (!(value[1] in attrs)) problems.push(`${type} has no attribute ${value[1]}`);
            }
          } else {
            walk(value);
          }
        }
      }
    };
    walk(resources);
    walk(template.Outputs);
    expect(problems).toEqual([]);
  });
});

describe('PrivateCa: the rules every stateful construct shares', () => {
  test('RemovalPolicy.SNAPSHOT is refused with one clear error', () => {
    expect(() => root(newStack(), { removalPolicy: RemovalPolicy.SNAPSHOT }))
      .toThrow(/removalPolicy: SNAPSHOT does not apply to a certificate or a certificate authority/);
  });

  test("ACM Private CA's tag rules: more than 50 tags or an 'aws:' key is a synth error", () => {
    const stack = newStack();
    const ca = root(stack);
    for (let i = 0; i < 51; i++) {
      Tags.of(ca).add(`t${i}`, 'v');
    }
    expect(() => Template.fromStack(stack)).toThrow(/tags: ACM Private CA allows at most 48 tags \(50 less the 2 ownership tags the library adds\) on a certificate authority, got 51/);
    const other = newStack();
    Tags.of(root(other)).add('aws:x', 'v');
    expect(() => Template.fromStack(other)).toThrow(/tags: tag key 'aws:x' must not begin with 'aws:'/);
  });
});
