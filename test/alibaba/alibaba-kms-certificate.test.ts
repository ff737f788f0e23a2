import { App, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CertificateTemplate, IIssuingCertificateAuthority } from '../../src/acm-pca/issued-certificate';
import { PrivateCa } from '../../src/acm-pca/private-ca';
import {
  AlibabaKeySpec,
  AlibabaKmsCertificate,
  AlibabaKmsCertificateProps,
} from '../../src/alibaba/alibaba-kms-certificate';
import { parseEndpoint } from '../../src/contract/alibaba-kms-certificate';
import { signingAlgorithmForCaKey } from '../../src/contract/issued-certificate';
import { distinguishedName as buildDistinguishedName, escapeDnValue } from '../../src/contract/x500';
import { CertificatePem } from '../../src/material/certificate-material';
import { makeLeaf, makeTestPki, TestPki } from '../support/fixtures/pki';

const CA_ARN = 'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';
const CREDENTIALS_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:alibaba/kms-AbCdEf';
const CERTIFICATE_ID = '12345678-1234-4234-8234-123456789012';
const RESOURCE = 'Custom::AlibabaKmsCertificate';

let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki();
});

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

/** An imported CA: what the construct needs of any issuer. */
class StubCa extends Construct implements IIssuingCertificateAuthority {
  public readonly certificateAuthorityArn = CA_ARN;
  constructor(scope: Construct, id: string, public readonly certificateValidity?: Duration) {
    super(scope, id);
  }
}

function credentials(stack: Stack): secretsmanager.ISecret {
  const existing = stack.node.tryFindChild('Creds') as secretsmanager.ISecret | undefined;
  return existing ?? secretsmanager.Secret.fromSecretCompleteArn(stack, 'Creds', CREDENTIALS_ARN);
}

function issuer(stack: Stack): IIssuingCertificateAuthority {
  return (stack.node.tryFindChild('Ca') as StubCa | undefined) ?? new StubCa(stack, 'Ca');
}

function createProps(stack: Stack, overrides: Partial<AlibabaKmsCertificateProps> = {}): AlibabaKmsCertificateProps {
  return {
    regionId: 'cn-hangzhou',
    credentials: credentials(stack),
    issuer: issuer(stack),
    subject: { commonName: 'www.example.com', country: 'CN', organization: 'Example Corp', organizationalUnit: 'Platform' },
    subjectAlternativeNames: ['www.example.com', 'api.example.com'],
    ...overrides,
  };
}

function uploadProps(stack: Stack, overrides: Partial<AlibabaKmsCertificateProps> = {}): AlibabaKmsCertificateProps {
  return {
    regionId: 'cn-shanghai',
    credentials: credentials(stack),
    certificateId: CERTIFICATE_ID,
    certificate: CertificatePem.fromString(pki.leaf.certificatePem),
    certificateChain: CertificatePem.fromString(pki.chainPem),
    ...overrides,
  };
}

/** The synth error a construct (or the synth of its stack) throws. */
function synthError(fn: (stack: Stack) => void): string {
  const stack = newStack();
  try {
    fn(stack);
    Template.fromStack(stack);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a synth error');
}

describe('create mode template', () => {
  test('renders the subject, SANs, key spec, CA and template, with only the secret ARN for credentials', () => {
    const stack = newStack();
    new AlibabaKmsCertificate(stack, 'Cert', createProps(stack));
    const template = Template.fromStack(stack);

    template.hasResource(RESOURCE, {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        Mode: 'create',
        RegionId: 'cn-hangzhou',
        Protocol: 'https',
        CredentialsSecretArn: CREDENTIALS_ARN,
        Subject: { CommonName: 'www.example.com', Country: 'CN', Organization: 'Example Corp', OrganizationalUnit: 'Platform' },
        SubjectAlternativeNames: ['www.example.com', 'api.example.com'],
        KeySpec: 'RSA_2048',
        ExportablePrivateKey: 'false',
        CertificateAuthorityArn: CA_ARN,
        TemplateArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:::template/EndEntityCertificate/V1']] },
        ValidityDays: '365',
        RemovalPolicy: 'destroy',
        DeactivateOnDelete: 'false',
        Endpoint: Match.absent(),
        CertificateId: Match.absent(),
      },
    });
  });

  test('the credentials secret is granted read, and no credential value reaches the template', () => {
    const stack = newStack();
    const secret = new secretsmanager.Secret(stack, 'Creds', { description: 'Alibaba Cloud AccessKey' });
    new AlibabaKmsCertificate(stack, 'Cert', createProps(stack, { credentials: secret }));
    const template = Template.fromStack(stack);
    const secretRef = { Ref: stack.getLogicalId(secret.node.defaultChild as secretsmanager.CfnSecret) };

    template.hasResourceProperties(RESOURCE, { CredentialsSecretArn: secretRef });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'secretsmanager:GetSecretValue',
          Effect: 'Allow',
          Resource: secretRef,
        })]),
      },
    });
    const json = JSON.stringify(template.toJSON());
    // Neither a value nor a dynamic reference that would resolve it into the template.
    expect(json).not.toMatch(/accessKeySecret|securityToken|resolve:secretsmanager/);
  });

  test('the handler may issue only from the CA with the chosen template, and read its certificates', () => {
    const stack = newStack();
    new AlibabaKmsCertificate(stack, 'Cert', createProps(stack, { template: CertificateTemplate.END_ENTITY_SERVER_AUTH }));
    const template = Template.fromStack(stack);
    const templateArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:::template/EndEntityServerAuthCertificate/V1']] };

    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'acm-pca:IssueCertificate',
            Resource: CA_ARN,
            Condition: { StringEquals: { 'acm-pca:TemplateArn': templateArn } },
          }),
          Match.objectLike({
            Action: ['acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificate'],
            Resource: CA_ARN,
          }),
        ]),
      },
    });
    template.hasResourceProperties(RESOURCE, { TemplateArn: templateArn });
  });

  test('keySpec, exportablePrivateKey, validity and a subject with ST and L reach the handler', () => {
    const stack = newStack();
    new AlibabaKmsCertificate(stack, 'Cert', createProps(stack, {
      keySpec: AlibabaKeySpec.EC_P256,
      exportablePrivateKey: true,
      validity: Duration.days(90),
      subject: { commonName: 'a', country: 'DE', organization: 'Beispiel, GmbH', organizationalUnit: 'IT', state: 'Bayern', locality: 'München' },
    }));

    Template.fromStack(stack).hasResourceProperties(RESOURCE, {
      KeySpec: 'EC_P256',
      ExportablePrivateKey: 'true',
      ValidityDays: '90',
      Subject: { CommonName: 'a', Country: 'DE', Organization: 'Beispiel, GmbH', OrganizationalUnit: 'IT', State: 'Bayern', Locality: 'München' },
    });
  });

  test('one provider (onEvent + isComplete on Node.js 22) serves every certificate of the stack', () => {
    const stack = newStack();
    new AlibabaKmsCertificate(stack, 'A', createProps(stack));
    new AlibabaKmsCertificate(stack, 'B', uploadProps(stack));
    const template = Template.fromStack(stack);

    const handlers = template.findResources('AWS::Lambda::Function', {
      Properties: { Handler: Match.stringLikeRegexp('^index\\.(onEvent|isComplete)$'), Runtime: 'nodejs22.x' },
    });
    expect(Object.keys(handlers)).toHaveLength(2);
    const serviceTokens = Object.values(template.findResources(RESOURCE)).map((r) => JSON.stringify(r.Properties.ServiceToken));
    expect(new Set(serviceTokens).size).toBe(1);
    // The Provider framework polls isComplete through a Step Functions waiter.
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });

  test('attributes come from the custom resource', () => {
    const stack = newStack();
    const cert = new AlibabaKmsCertificate(stack, 'Cert', createProps(stack));

    expect(stack.resolve(cert.certificateId)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Cert/), 'CertificateId'] });
    expect(stack.resolve(cert.certificateArn)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    expect(stack.resolve(cert.serialNumber)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'SerialNumber'] });
    expect(stack.resolve(cert.notAfter)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'NotAfter'] });
  });

  test('works with a PrivateCa of the same app as issuer', () => {
    const stack = newStack();
    const ca = new PrivateCa(stack, 'Root', { subject: { commonName: 'Example Root CA' } });
    new AlibabaKmsCertificate(stack, 'Cert', createProps(stack, { issuer: ca }));
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::ACMPCA::CertificateAuthority', 1);
    // The CA's ARN, through whatever the PrivateCa exposes it (it is ACTIVE only once its certificate is installed).
    template.hasResourceProperties(RESOURCE, { CertificateAuthorityArn: { Ref: Match.stringLikeRegexp('^Root') } });
  });
});

describe('upload mode template', () => {
  test('passes the certificate and chain, and keeps the user\'s certificate by default', () => {
    const stack = newStack();
    new AlibabaKmsCertificate(stack, 'Upload', uploadProps(stack));
    const template = Template.fromStack(stack);

    template.hasResource(RESOURCE, {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Mode: 'upload',
        RegionId: 'cn-shanghai',
        CertificateId: CERTIFICATE_ID,
        Certificate: { kind: 'inline', value: pki.leaf.certificatePem },
        CertificateChain: { kind: 'inline', value: pki.chainPem },
        RemovalPolicy: 'retain',
        Subject: Match.absent(),
        CertificateAuthorityArn: Match.absent(),
      },
    });
    // No CA: no ACM Private CA permission at all.
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('acm-pca');
  });

  test('a certificate from a secret is read by the handler, which is granted the secret', () => {
    const stack = newStack();
    const pemSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Pem', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pem-XyZ123');
    new AlibabaKmsCertificate(stack, 'Upload', uploadProps(stack, {
      certificate: CertificatePem.fromSecret(pemSecret, 'certificate'),
      certificateChain: undefined,
      removalPolicy: RemovalPolicy.DESTROY,
      deactivateOnDelete: true,
    }));
    const template = Template.fromStack(stack);

    template.hasResource(RESOURCE, {
      DeletionPolicy: 'Delete',
      Properties: {
        Certificate: { kind: 'secret', secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pem-XyZ123', jsonField: 'certificate' },
        RemovalPolicy: 'destroy',
        DeactivateOnDelete: 'true',
      },
    });
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('secret:pem-XyZ123');
    expect(policies).toContain('secret:alibaba/kms-AbCdEf');
  });
});

describe('network', () => {
  test('an endpoint override (VPC endpoint) is passed as host and https', () => {
    const stack = newStack();
    new AlibabaKmsCertificate(stack, 'Cert', createProps(stack, { endpoint: 'kms-vpc.cn-hangzhou.aliyuncs.com' }));

    Template.fromStack(stack).hasResourceProperties(RESOURCE, { Endpoint: 'kms-vpc.cn-hangzhou.aliyuncs.com', Protocol: 'https' });
  });

  test('http is accepted for a loopback test server only', () => {
    const stack = newStack();
    new AlibabaKmsCertificate(stack, 'Cert', createProps(stack, { endpoint: 'http://127.0.0.1:8443' }));

    Template.fromStack(stack).hasResourceProperties(RESOURCE, { Endpoint: '127.0.0.1:8443', Protocol: 'http' });
    expect(synthError((s) => new AlibabaKmsCertificate(s, 'Cert', createProps(s, { endpoint: 'http://kms.cn-hangzhou.aliyuncs.com' }))))
      .toMatch(/endpoint: .*plain http; KMS endpoints serve HTTPS/);
    expect(synthError((s) => new AlibabaKmsCertificate(s, 'Cert', createProps(s, { endpoint: 'https://kms.cn-hangzhou.aliyuncs.com/path' }))))
      .toMatch(/endpoint: .*without a path/);
  });

  test('with vpc, both handler functions run in the chosen subnets; without, outside any VPC', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    new AlibabaKmsCertificate(stack, 'InVpc', createProps(stack, { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }));
    new AlibabaKmsCertificate(stack, 'Outside', uploadProps(stack));
    const template = Template.fromStack(stack);

    const handlers = template.findResources('AWS::Lambda::Function', { Properties: { Handler: Match.stringLikeRegexp('^index\\.') } });
    const inVpc = Object.values(handlers).filter((f) => f.Properties.VpcConfig !== undefined);
    expect(Object.keys(handlers)).toHaveLength(4);
    expect(inVpc).toHaveLength(2);
    const privateSubnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds.map((id) => stack.resolve(id));
    for (const fn of inVpc) {
      expect(fn.Properties.VpcConfig.SubnetIds).toEqual(privateSubnets);
    }
  });
});

describe('tags', () => {
  test('Tags.of() reaches the KMS certificate', () => {
    const stack = newStack();
    const cert = new AlibabaKmsCertificate(stack, 'Cert', createProps(stack));
    Tags.of(cert).add('team', 'platform');

    Template.fromStack(stack).hasResourceProperties(RESOURCE, { Tags: [{ Key: 'team', Value: 'platform' }] });
  });

  test('eleven tags, or a key with a reserved prefix, fail at synth naming tags', () => {
    expect(synthError((s) => {
      const cert = new AlibabaKmsCertificate(s, 'Cert', createProps(s));
      for (let i = 0; i < 11; i++) {
        Tags.of(cert).add(`k${i}`, 'v');
      }
    })).toMatch(/tags: KMS allows at most 8 tags \(10 less the 2 ownership tags the library adds\) on a certificate, got 11/);
    expect(synthError((s) => {
      const cert = new AlibabaKmsCertificate(s, 'Cert', createProps(s));
      Tags.of(cert).add('aliyun:owner', 'me');
    })).toMatch(/tags: tag key 'aliyun:owner' may not start with 'aliyun' or 'acs:'/);
  });
});

describe('bad inputs: one clear synth error each', () => {
  const subject = { commonName: 'www.example.com', country: 'CN', organization: 'Example Corp', organizationalUnit: 'Platform' };
  test.each<[string, (s: Stack) => Partial<AlibabaKmsCertificateProps>, RegExp]>([
    ['missing region', () => ({ regionId: undefined as unknown as string }), /regionId: is required: the Alibaba Cloud region/],
    ['a region that is not a region ID', () => ({ regionId: 'Hangzhou' }), /regionId: 'Hangzhou' is not an Alibaba Cloud region ID/],
    ['a subject without C', () => ({ subject: { ...subject, country: undefined as unknown as string } }), /subject\.country: is required: KMS needs CN, C, O and OU/],
    ['a subject without O', () => ({ subject: { ...subject, organization: '' } }), /subject\.organization: is required/],
    ['a subject without OU', () => ({ subject: { ...subject, organizationalUnit: undefined as unknown as string } }), /subject\.organizationalUnit: is required/],
    ['a subject without CN', () => ({ subject: { ...subject, commonName: undefined as unknown as string } }), /subject\.commonName: is required/],
    ['a country that is not two letters', () => ({ subject: { ...subject, country: 'China' } }), /subject\.country: 'China' is not a two-letter ISO 3166-1 country code/],
    ['a lower-case country', () => ({ subject: { ...subject, country: 'cn' } }), /subject\.country: 'cn' is not a two-letter/],
    ['a CN over 64 characters', () => ({ subject: { ...subject, commonName: 'x'.repeat(65) } }), /subject\.commonName: must be at most 64 characters, got 65/],
    ['a subject value with a line break', () => ({ subject: { ...subject, organization: 'Example\nCorp' } }), /subject\.organization: may not hold control characters/],
    ['eleven SANs', () => ({ subjectAlternativeNames: Array.from({ length: 11 }, (_, i) => `h${i}.example.com`) }), /subjectAlternativeNames: KMS accepts at most 10 names, got 11/],
    ['a SAN that is not a DNS name', () => ({ subjectAlternativeNames: ['not a host'] }), /subjectAlternativeNames: 'not a host' is not a DNS name/],
    ['a duplicate SAN', () => ({ subjectAlternativeNames: ['a.example.com', 'A.example.com'] }), /subjectAlternativeNames: lists 'A.example.com' twice/],
    // Every rule broken, in one message, with the fix.
    ['a country that breaks three rules', () => ({ subject: { ...subject, country: ' cn' } }),
      /subject\.country: ' cn' is not a two-letter ISO 3166-1 country code in upper case \(e\.g\. CN, US, DE\), must be at most 2 characters, got 3, and may not start or end with a space \(trim it\)/],
    ['SANs that break two rules', () => ({ subjectAlternativeNames: ['not a host', 'a.example.com', 'A.example.com'] }),
      /subjectAlternativeNames: 'not a host' is not a DNS name; use letters, digits and hyphens .*; and lists 'A.example.com' twice; list each name once/],
    ['EC_SM2 with a CA issuer', () => ({ keySpec: AlibabaKeySpec.EC_SM2 }), /keySpec: EC_SM2 cannot be used with issuer: ACM Private CA cannot sign an SM2 CSR/],
    ['no issuer and no certificateId', () => ({ issuer: undefined }), /issuer: is required: give the ACM Private CA/],
    ['no subject', () => ({ subject: undefined }), /subject: is required with issuer/],
    ['validity not a whole number of days', () => ({ validity: Duration.hours(36) }), /validity: must be a whole number of days, at least 1, got 1\.5/],
    ['validity as long as the CA', (s) => ({ issuer: new StubCa(s, 'ShortCa', Duration.days(365)) }), /validity: 365 days is not shorter than the issuer's own validity \(365 days\).*the default is 365 days/],
    ['a chain without upload mode', () => ({ certificateChain: CertificatePem.fromString(pki.chainPem) }), /certificateChain: applies only with certificateId and certificate/],
    ['deactivateOnDelete with RETAIN', () => ({ removalPolicy: RemovalPolicy.RETAIN, deactivateOnDelete: true }), /deactivateOnDelete: has no effect with removalPolicy RETAIN/],
    ['SNAPSHOT', () => ({ removalPolicy: RemovalPolicy.SNAPSHOT }), /removalPolicy: SNAPSHOT does not apply to a certificate/],
    ['vpcSubnets without vpc', () => ({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }), /vpcSubnets: needs vpc/],
  ])('create mode: %s', (_name, override, message) => {
    const error = synthError((s) => new AlibabaKmsCertificate(s, 'Cert', { ...createProps(s), ...override(s) }));
    expect(error).toMatch(message);
    expect(error).toMatch(/^\[Stack\/Cert\] /);
  });

  test('EC_SM2 with a PrivateCa issuer', () => {
    const error = synthError((s) => {
      const ca = new PrivateCa(s, 'Root', { subject: { commonName: 'Example Root CA' } });
      new AlibabaKmsCertificate(s, 'Cert', createProps(s, { issuer: ca, keySpec: AlibabaKeySpec.EC_SM2 }));
    });
    expect(error).toMatch(/^\[Stack\/Cert\] keySpec: EC_SM2 cannot be used with issuer/);
  });

  test.each<[string, () => Partial<AlibabaKmsCertificateProps>, RegExp]>([
    ['a certificate ID that is not a UUID', () => ({ certificateId: 'my-cert' }), /certificateId: 'my-cert' is not a KMS certificate ID/],
    ['certificateId without certificate', () => ({ certificate: undefined }), /certificate: is required with certificateId/],
    ['certificate without certificateId', () => ({ certificateId: undefined }), /certificateId: is required with certificate/],
    ['an issuer in upload mode', () => ({ issuer: new StubCa(new Stack(), 'X') }), /issuer: applies only when KMS creates the certificate/],
    ['a key spec in upload mode', () => ({ keySpec: AlibabaKeySpec.RSA_2048 }), /keySpec: applies only when KMS creates the certificate/],
    ['a certificate that is not PEM', () => ({ certificate: CertificatePem.fromString('not a certificate') }), /certificate: /],
    ['a chain that does not issue the certificate', () => ({ certificateChain: CertificatePem.fromString(pki.root.certificatePem) }), /certificateChain: /],
  ])('upload mode: %s', (_name, override, message) => {
    const error = synthError((s) => new AlibabaKmsCertificate(s, 'Upload', { ...uploadProps(s), ...override() }));
    expect(error).toMatch(message);
  });

  test('an expired certificate fails at synth in upload mode', async () => {
    const expired = await makeLeaf(pki.intermediate, { notBefore: new Date(Date.now() - 10 * 86400000), notAfter: new Date(Date.now() - 86400000) });

    expect(synthError((s) => new AlibabaKmsCertificate(s, 'Upload', uploadProps(s, { certificate: CertificatePem.fromString(expired.certificatePem), certificateChain: undefined }))))
      .toMatch(/certificate: the certificate has expired/);
  });
});

describe('import', () => {
  test('fromCertificateId checks the ID; the ARN must be given to be used', () => {
    const stack = newStack();
    const imported = AlibabaKmsCertificate.fromCertificateId(stack, 'Imported', CERTIFICATE_ID);
    const withArn = AlibabaKmsCertificate.fromCertificateAttributes(stack, 'WithArn', {
      certificateId: CERTIFICATE_ID,
      certificateArn: `acs:kms:cn-hangzhou:1234567890123456:certificate/${CERTIFICATE_ID}`,
    });

    expect(imported.certificateId).toBe(CERTIFICATE_ID);
    expect(() => imported.certificateArn).toThrow(/certificateArn: was not given to fromCertificateAttributes/);
    expect(withArn.certificateArn).toBe(`acs:kms:cn-hangzhou:1234567890123456:certificate/${CERTIFICATE_ID}`);
    expect(() => AlibabaKmsCertificate.fromCertificateId(stack, 'Bad', 'nope')).toThrow(/certificateId: 'nope' is not a KMS certificate ID/);
  });
});

describe('shared rules', () => {
  test('escapeDnValue escapes RFC 2253 special characters and edge spaces and hashes', () => {
    expect(escapeDnValue('Example, Inc.')).toBe('Example\\, Inc.');
    expect(escapeDnValue('a+b"c\\d<e>f;g')).toBe('a\\+b\\"c\\\\d\\<e\\>f\\;g');
    expect(escapeDnValue('#1 shop')).toBe('\\#1 shop');
    expect(escapeDnValue(' lead and trail ')).toBe('\\ lead and trail\\ ');
    expect(escapeDnValue('a=b')).toBe('a=b');
  });

  test('buildDistinguishedName lists the most specific RDN first and skips absent ones', () => {
    expect(buildDistinguishedName({ CommonName: 'www.example.com', Country: 'CN', Organization: 'Example, Inc.', OrganizationalUnit: 'Web', State: 'Zhejiang' }))
      .toBe('CN=www.example.com,OU=Web,O=Example\\, Inc.,ST=Zhejiang,C=CN');
  });

  test('parseEndpoint defaults to https and refuses http beyond loopback', () => {
    expect(parseEndpoint('kms.cn-hangzhou.aliyuncs.com')).toEqual({ host: 'kms.cn-hangzhou.aliyuncs.com', protocol: 'https' });
    expect(parseEndpoint('https://kms-vpc.cn-hangzhou.aliyuncs.com:443/')).toEqual({ host: 'kms-vpc.cn-hangzhou.aliyuncs.com:443', protocol: 'https' });
    expect(parseEndpoint('http://localhost:9000')).toEqual({ host: 'localhost:9000', protocol: 'http' });
    expect(parseEndpoint('http://10.0.0.5')).toMatch(/plain http/);
    expect(parseEndpoint('ftp://x')).toMatch(/is not a host name/);
  });

  test('the signing algorithm follows the CA key, not the CSR', () => {
    expect(signingAlgorithmForCaKey('RSA_2048')).toBe('SHA256WITHRSA');
    expect(signingAlgorithmForCaKey('RSA_4096')).toBe('SHA256WITHRSA');
    expect(signingAlgorithmForCaKey('EC_prime256v1')).toBe('SHA256WITHECDSA');
    expect(signingAlgorithmForCaKey('EC_secp384r1')).toBe('SHA384WITHECDSA');
    expect(signingAlgorithmForCaKey('ML_DSA_65')).toBe('ML_DSA_65');
    expect(signingAlgorithmForCaKey('UNKNOWN')).toBeUndefined();
  });
});
