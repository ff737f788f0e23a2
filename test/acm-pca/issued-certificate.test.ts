import { generateKeyPairSync, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { App, Duration, Expiration, Lazy, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import {
  CertificateTemplate,
  CsrIssuedCertificate,
  IIssuingCertificateAuthority,
  IssuedCertificate,
  IssuedCertificateProps,
  IssuedKeyAlgorithm,
  RevocationReason,
} from '../../src/acm-pca/issued-certificate';
import { PrivateCa } from '../../src/acm-pca/private-ca';
import {
  checkCsr,
  dnsNameProblem,
  emailProblem,
  ipAddressProblem,
  uriProblem,
} from '../../src/contract/issued-certificate';
import { ServerCertificate } from '../../src/iam/server-certificate';
import { CertificatePem } from '../../src/material/certificate-material';
import { makeCsr, makeTestPki } from '../support/fixtures/pki';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** A stand-in for PrivateCa: a native CA whose ARN is a token, with what it knows at synth. */
class TestCa extends Construct implements IIssuingCertificateAuthority {
  public readonly certificateAuthorityArn: string;
  public readonly certificateValidity?: Duration;
  public readonly issuingSigningAlgorithm?: string;
  public readonly issuedCertificateChainPem?: CertificatePem;
  public readonly readyForIssuance?: IDependable;

  constructor(scope: Construct, id: string, options: { validity?: Duration; signing?: string; chain?: CertificatePem; activated?: boolean } = {}) {
    super(scope, id);
    const ca = new acmpca.CfnCertificateAuthority(this, 'Resource', {
      type: 'ROOT',
      keyAlgorithm: 'EC_prime256v1',
      signingAlgorithm: 'SHA256WITHECDSA',
      subject: { commonName: 'Test CA' },
    });
    this.certificateAuthorityArn = ca.attrArn;
    this.certificateValidity = options.validity;
    this.issuingSigningAlgorithm = options.signing;
    this.issuedCertificateChainPem = options.chain;
    if (options.activated) {
      this.readyForIssuance = new acmpca.CfnCertificateAuthorityActivation(this, 'Activation', {
        certificateAuthorityArn: ca.attrArn,
        certificate: 'placeholder',
      });
    }
  }
}

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function issue(stack: Stack, props: IssuedCertificateProps = {}, ca?: IIssuingCertificateAuthority, id = 'Web'): IssuedCertificate {
  const authority = ca ?? (stack.node.tryFindChild('Ca') as TestCa | undefined) ?? new TestCa(stack, 'Ca', { validity: Duration.days(3650) });
  return new IssuedCertificate(stack, id, {
    certificateAuthority: authority,
    commonName: 'www.example.com',
    dnsNames: ['www.example.com'],
    ...props,
  });
}

function logicalId(stack: Stack, construct: Construct): string {
  return stack.getLogicalId(construct.node.defaultChild as acmpca.CfnCertificate);
}

describe('IssuedCertificate template', () => {
  test('renders the request as properties: subject, SANs, key algorithm, template, validity, the secret ARN; never a key', () => {
    const stack = newStack();
    const web = issue(stack, {
      country: 'US',
      organization: 'Example Corp',
      subjectSerialNumber: 'A-1',
      dnsNames: ['www.example.com', '*.api.example.com'],
      ipAddresses: ['10.0.0.1', '2001:db8::1'],
      emails: ['ops@example.com'],
      uris: ['spiffe://example.org/ns/web'],
      keyAlgorithm: IssuedKeyAlgorithm.EC_P384,
      template: CertificateTemplate.END_ENTITY_SERVER_AUTH,
      validity: Duration.days(90),
      revocationReason: RevocationReason.CESSATION_OF_OPERATION,
    });
    const template = Template.fromStack(stack);
    const caId = stack.getLogicalId(stack.node.findChild('Ca').node.defaultChild as acmpca.CfnCertificateAuthority);
    const secretId = logicalId(stack, web.node.findChild('Secret'));
    // Retained by default: a replaced or removed certificate stays valid (nothing a client holds
    // is revoked), and CloudFormation sends no Delete for it.
    template.hasResource('Custom::PrivateCaIssuedCertificate', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        CertificateAuthorityArn: { 'Fn::GetAtt': [caId, 'Arn'] },
        Subject: { CommonName: 'www.example.com', Country: 'US', Organization: 'Example Corp', SerialNumber: 'A-1' },
        DnsNames: ['www.example.com', '*.api.example.com'],
        IpAddresses: ['10.0.0.1', '2001:db8::1'],
        Emails: ['ops@example.com'],
        Uris: ['spiffe://example.org/ns/web'],
        KeyAlgorithm: 'EC_P384',
        TemplateArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:::template/EndEntityServerAuthCertificate/V1']] },
        ValidityType: 'DAYS',
        ValidityValue: '90',
        SecretArn: { Ref: secretId },
        RevocationReason: 'CESSATION_OF_OPERATION',
        RevokeOnDelete: 'true',
        RemovalPolicy: 'retain',
      },
    });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/PRIVATE KEY/);
  });

  test('defaults: RSA 2048, EndEntityCertificate/V1, 365 days, SUPERSEDED, revoke on delete', () => {
    const stack = newStack();
    issue(stack);
    Template.fromStack(stack).hasResourceProperties('Custom::PrivateCaIssuedCertificate', {
      KeyAlgorithm: 'RSA_2048',
      TemplateArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:::template/EndEntityCertificate/V1']] },
      ValidityType: 'DAYS',
      ValidityValue: '365',
      RevocationReason: 'SUPERSEDED',
      RevokeOnDelete: 'true',
    });
  });

  test('an absolute end date is sent as ABSOLUTE seconds since the epoch', () => {
    const stack = newStack();
    const end = new Date(Date.now() + 100 * 86_400_000);
    end.setUTCMilliseconds(0);
    issue(stack, { validityEnd: Expiration.atDate(end) });
    Template.fromStack(stack).hasResourceProperties('Custom::PrivateCaIssuedCertificate', {
      ValidityType: 'ABSOLUTE',
      ValidityValue: String(end.getTime() / 1000),
    });
  });

  test('the secret is created empty, encrypted with the given key, retained with the construct by default', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    issue(stack, { secretEncryptionKey: key });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      // Rotation does not apply (a new certificate comes from new inputs): acknowledged for cdk-nag, with the reason.
      Metadata: { cdk_nag: { rules_to_suppress: [{ id: 'AwsSolutions-SMG4', reason: Match.stringLikeRegexp('not from secret rotation') }] } },
      Properties: {
        KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
        GenerateSecretString: Match.absent(),
        SecretString: Match.absent(),
      },
    });
  });

  test('RETAIN keeps the certificate (no revocation) and the secret', () => {
    const stack = newStack();
    issue(stack, { removalPolicy: RemovalPolicy.RETAIN });
    const template = Template.fromStack(stack);
    template.hasResource('Custom::PrivateCaIssuedCertificate', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { RemovalPolicy: 'retain' },
    });
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('revokeOnDelete false reaches the handler', () => {
    const stack = newStack();
    issue(stack, { revokeOnDelete: false });
    Template.fromStack(stack).hasResourceProperties('Custom::PrivateCaIssuedCertificate', { RevokeOnDelete: 'false' });
  });

  test('one provider (one handler function, 10-minute timeout) serves every certificate in the stack', () => {
    const stack = newStack();
    for (const id of ['A', 'B', 'C']) {
      issue(stack, {}, undefined, id);
    }
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::PrivateCaIssuedCertificate', 3);
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'index.onEvent',
      Timeout: 600,
      MemorySize: 1024,
    });
  });

  test('Tags.of() reaches the secret', () => {
    const stack = newStack();
    issue(stack);
    Tags.of(stack).add('team', 'pki');
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', {
      Tags: Match.arrayWith([{ Key: 'team', Value: 'pki' }]),
    });
  });
});

describe('IssuedCertificate grants', () => {
  function statements(stack: Stack): any[] {
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  }

  test('the handler may issue with this template only, and read and revoke at this CA only', () => {
    const stack = newStack();
    issue(stack, { template: CertificateTemplate.CODE_SIGNING });
    const caArn = { 'Fn::GetAtt': [stack.getLogicalId(stack.node.findChild('Ca').node.defaultChild as acmpca.CfnCertificateAuthority), 'Arn'] };
    const all = statements(stack);
    expect(all).toContainEqual({
      Action: 'acm-pca:IssueCertificate',
      Effect: 'Allow',
      Resource: caArn,
      Condition: {
        StringEquals: {
          'acm-pca:TemplateArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:::template/CodeSigningCertificate/V1']] },
        },
      },
    });
    expect(all).toContainEqual({
      Action: ['acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificate', 'acm-pca:RevokeCertificate'],
      Effect: 'Allow',
      Resource: caArn,
    });
    const pcaStatements = all.filter((s) => JSON.stringify(s.Action).includes('acm-pca:'));
    expect(pcaStatements).toHaveLength(2);
  });

  test('the handler may read and write exactly its secret, and use the secret\'s key through Secrets Manager only', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const web = issue(stack, { secretEncryptionKey: key });
    const secretRef = { Ref: logicalId(stack, web.node.findChild('Secret')) };
    const all = statements(stack);
    const secretStatements = all.filter((s) => JSON.stringify(s.Action).includes('secretsmanager:'));
    expect(secretStatements).toEqual([{
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      Effect: 'Allow',
      Resource: secretRef,
    }]);
    expect(all.filter((s) => JSON.stringify(s.Action).includes('kms:'))).toEqual([{
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
    }]);
    expect(JSON.stringify(all)).not.toMatch(/"Resource":"\*"/);
  });

  test('an imported key is granted in the handler\'s policy, for Secrets Manager\'s use only', () => {
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555');
    issue(stack, { secretEncryptionKey: key });
    expect(statements(stack).filter((s) => JSON.stringify(s.Action).includes('kms:'))).toEqual([{
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
    }]);
  });

  test('certificates share statements of at most ten resources, so CDK can spread hundreds over managed policies', () => {
    const stack = newStack();
    const webs = Array.from({ length: 25 }, (_, i) => issue(stack, {}, undefined, `Web${i}`));
    issue(stack, { template: CertificateTemplate.CODE_SIGNING }, undefined, 'Signer');
    const all = statements(stack);
    const issueStatements = all.filter((s) => s.Action === 'acm-pca:IssueCertificate');
    // One per template, the CA once in each.
    expect(issueStatements).toHaveLength(2);
    expect(issueStatements.every((s) => !Array.isArray(s.Resource))).toBe(true);
    const secretStatements = all.filter((s) => JSON.stringify(s.Action).includes('secretsmanager:PutSecretValue'));
    expect(secretStatements.map((s) => s.Resource.length)).toEqual([10, 10, 6]);
    const granted = secretStatements.flatMap((s) => s.Resource);
    for (const web of webs) {
      expect(granted).toContainEqual({ Ref: logicalId(stack, web.node.findChild('Secret')) });
    }
  });

  test('100 certificates: every IAM policy document of the handler stays within IAM\'s limits once ARNs resolve', () => {
    const stack = newStack();
    Array.from({ length: 100 }, (_, i) => issue(stack, {}, undefined, `Web${i}`));
    const template = Template.fromStack(stack).toJSON();
    // A secret ARN resolves to about 100 characters; measure each document with that.
    const resolvedSize = (doc: unknown) => JSON.stringify(doc).replace(/\{"Ref":"[^"]+"\}/g, `"${'x'.repeat(100)}"`).length;
    for (const resource of Object.values<any>(template.Resources)) {
      if (resource.Type === 'AWS::IAM::ManagedPolicy') {
        expect(resolvedSize(resource.Properties.PolicyDocument)).toBeLessThan(6_144);
      }
      if (resource.Type === 'AWS::IAM::Policy') {
        expect(resolvedSize(resource.Properties.PolicyDocument)).toBeLessThan(10_240);
      }
    }
  });

  test('the custom resource waits for the handler\'s permissions', () => {
    const stack = newStack();
    issue(stack);
    const resource = Object.values(Template.fromStack(stack).findResources('Custom::PrivateCaIssuedCertificate'))[0] as any;
    expect(resource.DependsOn.some((d: string) => /Provider.*Role/.test(d))).toBe(true);
  });
});

describe('IssuedCertificate ordering', () => {
  test('issuance waits for what makes the CA ready (its activation)', async () => {
    const stack = newStack();
    const ca = new TestCa(stack, 'Sub', { activated: true, signing: 'SHA256WITHECDSA' });
    issue(stack, {}, ca);
    new CsrIssuedCertificate(stack, 'Device', { certificateAuthority: ca, csr: (await makeCsr()).csrPem });
    const template = Template.fromStack(stack);
    const activationId = stack.getLogicalId(ca.node.findChild('Activation') as acmpca.CfnCertificateAuthorityActivation);
    for (const type of ['Custom::PrivateCaIssuedCertificate', 'AWS::ACMPCA::Certificate']) {
      const [resource] = Object.values(template.findResources(type)) as any[];
      expect(resource.DependsOn).toContain(activationId);
    }
  });

  test('a PrivateCa\'s ARN is its activation\'s Ref: that orders issuance, and no DependsOn repeats it (cfn-lint W3005)', async () => {
    const stack = newStack();
    const ca = new PrivateCa(stack, 'Root', { subject: { commonName: 'Root' } });
    expect(ca.readyForIssuance).toBe(ca.activation);
    ca.issueCertificate('Web', { commonName: 'www.example.com', dnsNames: ['www.example.com'] });
    ca.issueCertificateFromCsr('Device', (await makeCsr()).csrPem);
    const template = Template.fromStack(stack);
    const activationId = stack.getLogicalId(ca.activation!);
    for (const type of ['Custom::PrivateCaIssuedCertificate', 'AWS::ACMPCA::Certificate']) {
      const issued = Object.values(template.findResources(type, { Properties: { CertificateAuthorityArn: { Ref: activationId } } })) as any[];
      expect(issued).toHaveLength(1);
      expect(issued[0].DependsOn ?? []).not.toContain(activationId);
    }
  });
});

describe('through PrivateCa', () => {
  test('root, issuing CA, an issued certificate uploaded as a ServerCertificate', () => {
    const stack = newStack();
    const root = new PrivateCa(stack, 'Root', { subject: { commonName: 'Example Root CA' } });
    const issuing = new PrivateCa(stack, 'Issuing', { parent: root, subject: { commonName: 'Example Issuing CA' }, validity: Duration.days(730) });
    const web = issuing.issueCertificate('Web', { commonName: 'www.example.com', dnsNames: ['www.example.com'], validity: Duration.days(90) });
    new ServerCertificate(stack, 'Iam', { certificateBody: web.certificatePem, privateKey: web.privateKey, certificateChain: web.certificateChainPem });
    const template = Template.fromStack(stack);
    const activationId = stack.getLogicalId(issuing.activation!);
    // The CA's ARN is its activation's Ref: issuance waits until the CA is ACTIVE.
    template.hasResourceProperties('Custom::PrivateCaIssuedCertificate', { CertificateAuthorityArn: { Ref: activationId } });
    expect(() => issuing.issueCertificate('TooLong', { commonName: 'x.example.com', validity: Duration.days(800) }))
      .toThrow(/validity: 800 days is not shorter than the CA's own validity \(730 days\)/);
  });
});

describe('IssuedCertificate attributes', () => {
  test('certificate, chain and key are secret fields, referenced through the custom resource', () => {
    const stack = newStack();
    const web = issue(stack);
    const crId = logicalId(stack, web);
    const grantee = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const sources = [web.certificatePem, web.certificateChainPem, web.privateKey].map((m) => stack.resolve(m._bind(stack, grantee)));
    const secretArn = { 'Fn::GetAtt': [crId, 'SecretArn'] };
    // Pinned to the version the certificate was stored in: a re-issue changes every consumer.
    const versionId = { 'Fn::GetAtt': [crId, 'SecretVersionId'] };
    expect(sources).toEqual([
      { kind: 'secret', secretId: secretArn, jsonField: 'certificate', versionId },
      { kind: 'secret', secretId: secretArn, jsonField: 'certificateChain', versionId },
      { kind: 'secret', secretId: secretArn, jsonField: 'privateKey', versionId },
    ]);
    expect(stack.resolve(web.secretVersionId)).toEqual(versionId);
    expect(stack.resolve(web.certificateArn)).toEqual({ 'Fn::GetAtt': [crId, 'CertificateArn'] });
    expect(stack.resolve(web.serialNumber)).toEqual({ 'Fn::GetAtt': [crId, 'SerialNumber'] });
    expect(stack.resolve(web.notAfter)).toEqual({ 'Fn::GetAtt': [crId, 'NotAfter'] });
    expect(stack.resolve(web.notBefore)).toEqual({ 'Fn::GetAtt': [crId, 'NotBefore'] });
    expect(stack.resolve(web.secret.secretArn)).toEqual(secretArn);
  });

  test('ServerCertificate accepts the issued certificate directly, and reads it only once it is stored', () => {
    const stack = newStack();
    const web = issue(stack);
    new ServerCertificate(stack, 'Iam', {
      certificateBody: web.certificatePem,
      privateKey: web.privateKey,
      certificateChain: web.certificateChainPem,
    });
    const template = Template.fromStack(stack);
    const secretArn = { 'Fn::GetAtt': [logicalId(stack, web), 'SecretArn'] };
    const versionId = { 'Fn::GetAtt': [logicalId(stack, web), 'SecretVersionId'] };
    // Exactly these properties: the version pin is what makes a re-issue update the consumer.
    const props = Object.values(template.findResources('Custom::ServerCertificate'))[0].Properties;
    expect(props.CertificateBody).toEqual({ kind: 'secret', secretId: secretArn, jsonField: 'certificate', versionId });
    expect(props.PrivateKey).toEqual({ kind: 'secret', secretId: secretArn, jsonField: 'privateKey', versionId });
    expect(props.CertificateChain).toEqual({ kind: 'secret', secretId: secretArn, jsonField: 'certificateChain', versionId });
    // The ServerCertificate handler may read the secret, found through the same reference.
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain(JSON.stringify(secretArn));
  });

  test('fromIssuedCertificateAttributes reads the same fields of the given secret', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-AbCdEf');
    const imported = IssuedCertificate.fromIssuedCertificateAttributes(stack, 'Imported', {
      certificateArn: 'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/abc/certificate/0a1b',
      secret,
    });
    const grantee = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    expect(stack.resolve(imported.privateKey._bind(stack, grantee))).toEqual({ kind: 'secret', secretId: secret.secretArn, jsonField: 'privateKey' });
    expect(stack.resolve(imported.certificatePem._bind(stack, grantee))).toEqual({ kind: 'secret', secretId: secret.secretArn, jsonField: 'certificate' });
    expect(imported.certificateArn).toMatch(/\/certificate\/0a1b$/);
  });
});

describe('IssuedCertificate bad inputs (one clear synth error each)', () => {
  const cases: Array<[string, IssuedCertificateProps, RegExp]> = [
    ['a DNS name with an underscore', { dnsNames: ['bad_name.example.com'] }, /dnsNames: 'bad_name.example.com' is not a valid DNS name/],
    ['a wildcard not first', { dnsNames: ['www.*.example.com'] }, /dnsNames: 'www.\*.example.com' may hold a wildcard only as its first label/],
    ['a partial wildcard', { dnsNames: ['w*.example.com'] }, /dnsNames: 'w\*.example.com' may hold a wildcard only as a whole first label/],
    ['a wildcard over a TLD', { dnsNames: ['*.com'] }, /dnsNames: '\*.com' is a wildcard over a top-level domain/],
    ['an empty label', { dnsNames: ['a..example.com'] }, /dnsNames: 'a..example.com' is not a valid DNS name/],
    ['a duplicate DNS name', { dnsNames: ['www.example.com', 'WWW.example.com'] }, /dnsNames: lists 'WWW.example.com' twice/],
    // Every rule broken, in one message, with the fix.
    ['a DNS name that breaks three rules', { dnsNames: ['www.*.exa_mple.com.'] },
      /dnsNames: 'www\.\*\.exa_mple\.com\.' must not end with a dot, may hold a wildcard only as its first label \(e\.g\. \*\.example\.com\), and is not a valid DNS name: .*; use letters, digits and hyphens/],
    ['an email that breaks two rules', { emails: ['o ps@exa_mple.com'] },
      /emails: 'o ps@exa_mple\.com' is not an email address: the part before '@' holds characters .*, and 'exa_mple\.com' is not a valid domain/],
    ['a DNS name list with a bad name and a duplicate', { dnsNames: ['bad_name.example.com', 'www.example.com', 'WWW.example.com'] },
      /dnsNames: 'bad_name\.example\.com' is not a valid DNS name: .*; and lists 'WWW\.example\.com' twice; list each name once/],
    ['a country that breaks two rules', { country: 'U1S' }, /country: must be 1 to 2 characters long, got 3, and 'U1S' must be a two-letter ISO 3166 country code/],
    ['an IPv4 octet over 255', { ipAddresses: ['10.0.0.256'] }, /ipAddresses: '10.0.0.256' is not an IPv4 address/],
    ['a CIDR', { ipAddresses: ['10.0.0.0/8'] }, /ipAddresses: '10.0.0.0\/8' is not an IPv4 address/],
    ['an IPv6 zone', { ipAddresses: ['fe80::1%eth0'] }, /ipAddresses: 'fe80::1%eth0' is not an IPv4 address .* or an IPv6 address/],
    ['an email without a domain', { emails: ['ops@'] }, /emails: 'ops@' is not an email address/],
    ['an email with a space', { emails: ['o ps@example.com'] }, /emails: 'o ps@example.com' is not an email address/],
    ['a URI without a scheme', { uris: ['example.org/web'] }, /uris: 'example.org\/web' is not an absolute URI/],
    ['a URI with a space', { uris: ['https://example.org/a b'] }, /uris: 'https:\/\/example.org\/a b' is not an absolute URI/],
    ['a three-letter country', { country: 'USA' }, /country: must be 1 to 2 characters long, got 3/],
    ['a numeric country', { country: '12' }, /country: '12' must be a two-letter ISO 3166 country code/],
    ['a common name over 64 characters', { commonName: `${'a'.repeat(60)}.example.com` }, /commonName: must be 1 to 64 characters long, got 72/],
    ['a non-printable subject serial number', { subjectSerialNumber: 'nº1' }, /subjectSerialNumber: 'nº1' may hold only letters, digits/],
    ['no subject and no SAN', { commonName: undefined, dnsNames: undefined }, /commonName: a certificate needs a subject .* or at least one of dnsNames/],
    ['both validity and an end date', { validity: Duration.days(30), validityEnd: Expiration.after(Duration.days(30)) }, /validity: give either validity .* or validityEnd .*, not both/],
    ['a validity that is not whole days', { validity: Duration.hours(36) }, /validity: must be a whole number of days, at least 1, got 1 day 12 hours/],
    ['an end date in the past', { validityEnd: Expiration.atDate(new Date(Date.now() - 86_400_000)) }, /validityEnd: .* is in the past/],
    ['a snapshot removal policy', { removalPolicy: RemovalPolicy.SNAPSHOT }, /removalPolicy: SNAPSHOT does not apply/],
  ];
  test.each(cases)('%s', (_name, props, message) => {
    const stack = newStack();
    expect(() => issue(stack, props)).toThrow(message);
  });

  test('the error names the construct path', () => {
    const stack = newStack();
    expect(() => issue(stack, { dnsNames: ['-bad.example.com'] })).toThrow(/^\[Stack\/Web\] dnsNames: /);
  });

  test('a validity longer than the CA\'s own', () => {
    const stack = newStack();
    const ca = new TestCa(stack, 'ShortCa', { validity: Duration.days(180) });
    expect(() => issue(stack, { validity: Duration.days(200) }, ca)).toThrow(/validity: 200 days is not shorter than the CA's own validity \(180 days\); a certificate cannot outlive its issuer/);
    expect(() => issue(stack, {}, ca, 'Default')).toThrow(/validity: 365 days is not shorter .* the default is 365 days, so set a shorter validity/);
    expect(() => issue(stack, { validityEnd: Expiration.atDate(new Date(Date.now() + 200 * 86_400_000)) }, ca, 'End'))
      .toThrow(/validityEnd: .* is after the CA's own certificate expires \(180 days from its creation\)/);
    expect(() => issue(stack, { validity: Duration.days(179) }, ca, 'Fits')).not.toThrow();
  });

  test('values only known at deploy are left to the handler', () => {
    const stack = newStack();
    const token = Lazy.string({ produce: () => 'not a name!' });
    expect(() => issue(stack, { commonName: token, dnsNames: [token], ipAddresses: [token] })).not.toThrow();
  });

  test('CertificateTemplate.fromArn checks the ARN', () => {
    expect(() => CertificateTemplate.fromArn('EndEntityCertificate/V1')).toThrow(/CertificateTemplate.fromArn: 'EndEntityCertificate\/V1' is not an ACM Private CA template ARN/);
    expect(CertificateTemplate.fromArn('arn:aws:acm-pca:::template/BlankEndEntityCertificate_APICSRPassthrough/V1').templateArn)
      .toBe('arn:aws:acm-pca:::template/BlankEndEntityCertificate_APICSRPassthrough/V1');
  });
});

describe('SAN rules', () => {
  test.each(['www.example.com', '*.example.com', 'xn--bcher-kva.example', 'a-b.c', 'localhost', `${'a'.repeat(63)}.com`])('DNS name %s is valid', (name) => {
    expect(dnsNameProblem(name)).toBeUndefined();
  });
  test.each(['example.com.', '-a.com', 'a-.com', `${'a'.repeat(64)}.com`, 'a b.com', '*', '*.*.example.com'])('DNS name %s is not', (name) => {
    expect(dnsNameProblem(name)).toBeDefined();
  });
  test.each(['10.0.0.1', '255.255.255.255', '::1', '2001:db8::1', '::ffff:10.0.0.1'])('IP %s is valid', (ip) => {
    expect(ipAddressProblem(ip)).toBeUndefined();
  });
  test.each(['1.2.3', '01.2.3.4', '1::2::3', 'example.com', '10.0.0.1:443'])('IP %s is not', (ip) => {
    expect(ipAddressProblem(ip)).toBeDefined();
  });
  test.each(['a@example.com', 'first.last+tag@sub.example.org'])('email %s is valid', (email) => {
    expect(emailProblem(email)).toBeUndefined();
  });
  test.each(['a@b_c.com', 'a..b@example.com', '@example.com', 'a@-example.com'])('email %s is not', (email) => {
    expect(emailProblem(email)).toBeDefined();
  });
  test.each(['https://example.com/', 'spiffe://example.org/ns/default/sa/web', 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66'])('URI %s is valid', (uri) => {
    expect(uriProblem(uri)).toBeUndefined();
  });
  test.each(['/relative', 'no-scheme', 'https://exa mple.com', 'héllo:x'])('URI %s is not', (uri) => {
    expect(uriProblem(uri)).toBeDefined();
  });
});

describe('CsrIssuedCertificate (your own key)', () => {
  test('renders the native AWS::ACMPCA::Certificate with the CA\'s signing algorithm', async () => {
    const { csrPem } = await makeCsr({ commonName: 'device-1.example.com', keyAlgorithm: 'EC_P256' });
    const stack = newStack();
    const pki = await makeTestPki();
    const ca = new TestCa(stack, 'Ca', { validity: Duration.days(3650), signing: 'SHA256WITHECDSA', chain: CertificatePem.fromString(pki.chainPem) });
    const device = new CsrIssuedCertificate(stack, 'Device', {
      certificateAuthority: ca,
      csr: csrPem,
      template: CertificateTemplate.END_ENTITY_CLIENT_AUTH,
      validity: Duration.days(30),
    });
    const template = Template.fromStack(stack);
    const id = stack.getLogicalId(device.node.defaultChild as acmpca.CfnCertificate);
    template.hasResourceProperties('AWS::ACMPCA::Certificate', {
      CertificateAuthorityArn: { 'Fn::GetAtt': [stack.getLogicalId(ca.node.defaultChild as acmpca.CfnCertificateAuthority), 'Arn'] },
      CertificateSigningRequest: csrPem,
      SigningAlgorithm: 'SHA256WITHECDSA',
      TemplateArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:::template/EndEntityClientAuthCertificate/V1']] },
      Validity: { Type: 'DAYS', Value: 30 },
    });
    expect(stack.resolve(device.certificateArn)).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
    expect(stack.resolve(device.certificatePem._bind(stack, new iam.AnyPrincipal()))).toEqual({ kind: 'inline', value: { 'Fn::GetAtt': [id, 'Certificate'] } });
    expect(device.certificateChainPem?.pemText).toBe(pki.chainPem);
  });

  async function tamperedCsr(): Promise<string> {
    const { csrPem } = await makeCsr({ commonName: 'device.example.com' });
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    const der = Buffer.from(csr.rawData);
    // Flip one byte inside the subject (CN): the signature no longer verifies.
    const at = der.indexOf(Buffer.from('device.example.com'));
    der[at] = der[at] === 0x64 ? 0x65 : 0x64;
    return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
  }

  async function weakRsaCsr(): Promise<string> {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const subtle = webcrypto.subtle;
    const keys = {
      privateKey: await subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), alg, true, ['sign']),
      publicKey: await subtle.importKey('spki', publicKey.export({ type: 'spki', format: 'der' }), alg, true, ['verify']),
    } as unknown as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=weak.example.com', keys, signingAlgorithm: alg });
    return csr.toString('pem');
  }

  test.each([
    ['not PEM', async () => 'hello', /csr: must be exactly one PEM block -----BEGIN CERTIFICATE REQUEST----- \(found none\)/],
    ['a certificate', async () => (await makeTestPki()).leaf.certificatePem, /csr: must be exactly one PEM block .* \(found CERTIFICATE\)/],
    ['a private key pasted in', async () => (await makeCsr()).privateKeyPem, /csr: holds a private key; pass only the certificate signing request/],
    ['garbage DER', async () => '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', /csr: is not a valid PKCS#10 certificate signing request/],
    ['a signature that does not verify', tamperedCsr, /csr: has a signature that does not verify with its own public key/],
    ['a 1024-bit RSA key', weakRsaCsr, /csr: holds a 1024-bit RSA key; ACM Private CA needs at least 2048 bits/],
  ])('rejects %s at synth', async (_name, make, message) => {
    const csr = await make();
    const stack = newStack();
    const ca = new TestCa(stack, 'Ca', { signing: 'SHA256WITHECDSA' });
    expect(() => new CsrIssuedCertificate(stack, 'Device', { certificateAuthority: ca, csr })).toThrow(message);
    // The message never echoes the input.
    try {
      new CsrIssuedCertificate(stack, 'Again', { certificateAuthority: ca, csr });
    } catch (e) {
      expect((e as Error).message).not.toContain('PRIVATE KEY-----\n');
    }
  });

  test('checkCsr accepts RSA and EC requests and reports the key', async () => {
    expect(checkCsr((await makeCsr({ keyAlgorithm: 'RSA_2048' })).csrPem)).toEqual({ keyType: 'RSA', rsaBits: 2048, curve: undefined });
    expect(checkCsr((await makeCsr({ keyAlgorithm: 'EC_P384' })).csrPem)).toEqual({ keyType: 'EC', rsaBits: undefined, curve: 'secp384r1' });
  });

  test('needs the CA\'s signing algorithm', async () => {
    const { csrPem } = await makeCsr();
    const stack = newStack();
    const ca = new TestCa(stack, 'Ca');
    expect(() => new CsrIssuedCertificate(stack, 'Device', { certificateAuthority: ca, csr: csrPem }))
      .toThrow(/certificateAuthority: the CA's signing algorithm is not known at synth/);
  });

  test('a CSR token is left to the service', () => {
    const stack = newStack();
    const ca = new TestCa(stack, 'Ca', { signing: 'SHA256WITHRSA' });
    expect(() => new CsrIssuedCertificate(stack, 'Device', {
      certificateAuthority: ca,
      csr: Lazy.string({ produce: () => 'later' }),
      validityEnd: Expiration.atDate(new Date(Date.now() + 10 * 86_400_000)),
    })).not.toThrow();
    Template.fromStack(stack).hasResourceProperties('AWS::ACMPCA::Certificate', { Validity: { Type: 'ABSOLUTE' } });
  });
});
