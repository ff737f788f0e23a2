import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { generatedName } from '../../lambda/shared/physical-name';
import { dmsCertificateIdentifierProblem } from '../../src/contract/dms-certificate';
import { DmsCertificate, DmsCertificateProps } from '../../src/dms/dms-certificate';
import { CertificatePem } from '../../src/material/certificate-material';
import { CertificateWallet } from '../../src/material/certificate-wallet';
import { NAME_HASH_LENGTH, namePrefix } from '../../src/private/names';
import { EXPIRING_SOON_WARNING } from '../../src/private/synth-checks';
import { makeRootCa, makeTestPki, TestPki } from '../support/fixtures/pki';

let pki: TestPki;
let tmp: string;
let walletFile: string;

beforeAll(async () => {
  pki = await makeTestPki();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dms-wallet-'));
  walletFile = path.join(tmp, 'cwallet.sso');
  fs.writeFileSync(walletFile, Buffer.from([0xa1, 0xf8, 0x4e, 0x36, 0x00, 0xff, 0xc3, 0x28]));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function pem(): DmsCertificateProps {
  return { certificatePem: CertificatePem.fromString(pki.root.certificatePem) };
}

/** The policy statements of the DMS handler's role. */
function handlerStatements(template: Template): any[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const statements: any[] = [];
  for (const policy of Object.values(policies)) {
    const roles = JSON.stringify((policy as any).Properties.Roles);
    if (roles.includes('CdkCertificatesDmsCertificateProvider')) {
      statements.push(...(policy as any).Properties.PolicyDocument.Statement);
    }
  }
  return statements;
}

describe('DmsCertificate template', () => {
  test('renders a custom resource with the PEM, a name prefix and the removal policy', () => {
    const stack = newStack();
    new DmsCertificate(stack, 'DbTrust', pem());
    const template = Template.fromStack(stack);
    template.hasResource('Custom::DmsCertificate', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        CertificatePem: { kind: 'inline', value: pki.root.certificatePem },
        NamePrefix: Match.stringLikeRegexp('^Stack-DbTrust-[A-Za-z0-9-]+$'),
        RemovalPolicy: 'destroy',
        CertificateIdentifier: Match.absent(),
        CertificateWallet: Match.absent(),
        KmsKeyId: Match.absent(),
        Tags: Match.absent(),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.onEvent',
      Runtime: 'nodejs22.x',
      Description: Match.stringLikeRegexp('DMS certificates'),
    });
  });

  test('one provider serves every DMS certificate in the stack', () => {
    const stack = newStack();
    new DmsCertificate(stack, 'A', pem());
    new DmsCertificate(stack, 'B', { certificatePem: CertificatePem.fromString(pki.intermediate.certificatePem) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::DmsCertificate', 2);
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Handler: 'index.onEvent', Description: Match.stringLikeRegexp('DMS') }, 1);
  });

  test('Tags.of() reaches the custom resource', () => {
    const stack = newStack();
    const cert = new DmsCertificate(stack, 'DbTrust', pem());
    Tags.of(stack).add('team', 'data');
    Tags.of(cert).add('purpose', 'oracle-ssl');
    Template.fromStack(stack).hasResourceProperties('Custom::DmsCertificate', {
      Tags: Match.arrayWith([{ Key: 'purpose', Value: 'oracle-ssl' }, { Key: 'team', Value: 'data' }]),
    });
  });

  test('a fixed identifier and RETAIN pass through', () => {
    const stack = newStack();
    new DmsCertificate(stack, 'DbTrust', { ...pem(), certificateIdentifier: 'db-trust-2026', removalPolicy: RemovalPolicy.RETAIN });
    Template.fromStack(stack).hasResource('Custom::DmsCertificate', {
      DeletionPolicy: 'Retain',
      Properties: { CertificateIdentifier: 'db-trust-2026', NamePrefix: Match.absent(), RemovalPolicy: 'retain' },
    });
  });

  test('the KMS key ARN reaches the handler, and the role may use the key only through DMS', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    new DmsCertificate(stack, 'DbTrust', { ...pem(), kmsKey: key });
    const template = Template.fromStack(stack);
    const keyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);
    template.hasResourceProperties('Custom::DmsCertificate', { KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    const kmsStatements = handlerStatements(template).filter(s => JSON.stringify(s.Action).includes('kms:'));
    expect(kmsStatements).toEqual([{
      Effect: 'Allow',
      Action: ['kms:DescribeKey', 'kms:CreateGrant', 'kms:Encrypt', 'kms:ReEncrypt*'],
      Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['dms.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } } },
    }]);
  });

  test('IAM: certificate writes only on what this stack owns (its ownership tag), describes on * only', () => {
    const stack = newStack();
    new DmsCertificate(stack, 'DbTrust', pem());
    const statements = handlerStatements(Template.fromStack(stack));
    const dmsStatements = statements.filter(s => JSON.stringify(s.Action).includes('dms:'));
    const certificates = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dms:eu-west-1:123456789012:cert:*']] };
    const stackId = { Ref: 'AWS::StackId' };
    expect(dmsStatements).toEqual([
      // Import only with this stack's ownership tag; delete and tag only what carries it.
      { Effect: 'Allow', Action: 'dms:ImportCertificate', Resource: certificates, Condition: { StringEquals: { 'aws:RequestTag/cdk-certificates:stack-id': stackId } } },
      {
        Effect: 'Allow',
        Action: ['dms:DeleteCertificate', 'dms:AddTagsToResource', 'dms:RemoveTagsFromResource'],
        Resource: certificates,
        Condition: { StringEquals: { 'aws:ResourceTag/cdk-certificates:stack-id': stackId } },
      },
      { Effect: 'Allow', Action: 'dms:ListTagsForResource', Resource: certificates },
      { Effect: 'Allow', Action: ['dms:DescribeCertificates', 'dms:DescribeEndpoints'], Resource: '*' },
    ]);
    const all = JSON.stringify(statements);
    expect(all).not.toContain('dms:*');
    expect(all).not.toContain('s3:');
    expect(all).not.toContain('kms:');
  });

  test('the attributes are the handler\'s Data and fit a dms.CfnEndpoint with SSL', () => {
    const stack = newStack();
    const cert = new DmsCertificate(stack, 'DbTrust', pem());
    new dms.CfnEndpoint(stack, 'Source', {
      endpointType: 'source',
      engineName: 'postgres',
      sslMode: 'verify-full',
      certificateArn: cert.certificateArn,
      serverName: 'db.example.com',
      port: 5432,
      databaseName: 'app',
    });
    const template = Template.fromStack(stack);
    const certId = stack.getLogicalId(cert.node.defaultChild as CfnResource);
    template.hasResourceProperties('AWS::DMS::Endpoint', {
      SslMode: 'verify-full',
      CertificateArn: { 'Fn::GetAtt': [certId, 'CertificateArn'] },
    });
    expect(stack.resolve(cert.certificateIdentifier)).toEqual({ 'Fn::GetAtt': [certId, 'CertificateIdentifier'] });
    expect(stack.resolve(cert.validFromDate)).toEqual({ 'Fn::GetAtt': [certId, 'ValidFromDate'] });
    expect(stack.resolve(cert.validToDate)).toEqual({ 'Fn::GetAtt': [certId, 'ValidToDate'] });
    expect(stack.resolve(cert.signingAlgorithm)).toEqual({ 'Fn::GetAtt': [certId, 'SigningAlgorithm'] });
    expect(stack.resolve(cert.keyLength)).toEqual({ 'Fn::GetAtt': [certId, 'KeyLength'] });
    expect(stack.resolve(cert.certificateOwner)).toEqual({ 'Fn::GetAtt': [certId, 'CertificateOwner'] });
  });

  test('a PEM from an SSM parameter is read by the handler, which may read that parameter', () => {
    const stack = newStack();
    const parameter = ssm.StringParameter.fromStringParameterName(stack, 'Ca', '/db/ca');
    new DmsCertificate(stack, 'DbTrust', { certificatePem: CertificatePem.fromSsmParameter(parameter) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::DmsCertificate', {
      CertificatePem: { kind: 'ssm', parameterName: '/db/ca', withDecryption: 'false' },
    });
    expect(JSON.stringify(handlerStatements(template))).toContain('ssm:GetParameter');
  });
});

describe('Oracle wallets', () => {
  test('fromFile uploads the file as an asset and grants s3:GetObject on that object only', () => {
    const stack = newStack();
    new DmsCertificate(stack, 'Wallet', { certificateWallet: CertificateWallet.fromFile(walletFile) });
    const template = Template.fromStack(stack);
    const properties = Object.values(template.findResources('Custom::DmsCertificate'))[0].Properties;
    expect(properties.CertificatePem).toBeUndefined();
    expect(properties.CertificateWallet.kind).toBe('s3');
    expect(JSON.stringify(properties.CertificateWallet.bucket)).toContain('cdk-hnb659fds-assets');
    expect(properties.CertificateWallet.key).toMatch(/^[0-9a-f]{64}\.sso$/);

    const s3Statements = handlerStatements(template).filter(s => JSON.stringify(s.Action).includes('s3:'));
    expect(s3Statements).toHaveLength(1);
    expect(s3Statements[0].Action).toBe('s3:GetObject');
    expect(JSON.stringify(s3Statements[0].Resource)).toContain(`/${properties.CertificateWallet.key}`);
    expect(JSON.stringify(s3Statements[0].Resource)).not.toContain('*');

    // The asset is the file's bytes, unchanged (not zipped, not re-encoded).
    const assembly = App.of(stack)!.synth();
    const staged = fs.readdirSync(assembly.directory).find(f => f.startsWith('asset.') && f.endsWith('.sso'))!;
    expect(fs.readFileSync(path.join(assembly.directory, staged)).equals(fs.readFileSync(walletFile))).toBe(true);
  });

  test('fromBucket grants s3:GetObject on that key (and decryption with the bucket key)', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'BucketKey');
    const bucket = new s3.Bucket(stack, 'Wallets', { encryptionKey: key });
    new DmsCertificate(stack, 'Wallet', { certificateWallet: CertificateWallet.fromBucket(bucket, 'oracle/cwallet.sso') });
    const template = Template.fromStack(stack);
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    template.hasResourceProperties('Custom::DmsCertificate', {
      CertificateWallet: { kind: 's3', bucket: { Ref: bucketId }, key: 'oracle/cwallet.sso' },
    });
    const statements = handlerStatements(template);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/oracle/cwallet.sso']] },
    });
    expect(JSON.stringify(statements)).toContain('kms:Decrypt');
  });
});

describe('generated identifiers obey DMS rules', () => {
  test.each([
    ['DbTrust'],
    ['1st-cert'],
    ['cert--with--hyphens'],
    ['under_score.and.dots'],
    ['-leading-hyphen'],
    ['x'.repeat(200)],
  ])('construct id %s', (id) => {
    const stack = newStack();
    const parent = new Construct(stack, '9Parent--Scope');
    const cert = new DmsCertificate(parent, id, pem());
    const prefix = namePrefix(cert, 255, NAME_HASH_LENGTH + 1);
    expect(Template.fromStack(stack).findResources('Custom::DmsCertificate')[stack.getLogicalId(cert.node.defaultChild as CfnResource)]
      .Properties.NamePrefix).toBe(prefix);
    // Composed as the handler composes it.
    for (const content of ['a', 'b', 'c']) {
      const identifier = generatedName(prefix, content, { maxLength: 255 });
      expect(identifier).toMatch(/^[A-Za-z][A-Za-z0-9-]*-[0-9a-f]{10}$/);
      expect(dmsCertificateIdentifierProblem(identifier)).toBeUndefined();
    }
  });
});

describe('importing', () => {
  test('fromCertificateArn takes a DMS certificate ARN', () => {
    const stack = newStack();
    const arn = 'arn:aws:dms:eu-west-1:123456789012:cert:ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const cert = DmsCertificate.fromCertificateArn(stack, 'Imported', arn);
    expect(cert.certificateArn).toBe(arn);
    expect(cert.env.region).toBe('eu-west-1');
  });

  test('fromCertificateArn takes a token', () => {
    const stack = newStack();
    const arn = ssm.StringParameter.valueForStringParameter(stack, '/dms/cert-arn');
    const cert = DmsCertificate.fromCertificateArn(stack, 'Imported', arn);
    expect(stack.resolve(cert.certificateArn)).toEqual(stack.resolve(arn));
  });

  test('fromCertificateArn refuses an ARN of something else', () => {
    const stack = newStack();
    expect(() => DmsCertificate.fromCertificateArn(stack, 'Imported', 'arn:aws:dms:eu-west-1:123456789012:endpoint:ABC'))
      .toThrow(/\[Stack\] certificateArn: 'arn:aws:dms:eu-west-1:123456789012:endpoint:ABC' is not a DMS certificate ARN/);
  });
});

describe('bad inputs: one clear synth error each', () => {
  function expectError(make: (stack: Stack) => void, message: RegExp): void {
    const stack = newStack();
    let error: Error | undefined;
    try {
      make(stack);
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeDefined();
    expect(error!.message).toMatch(message);
    // One error, one line: the property and the rule.
    expect(error!.message.split('\n')).toHaveLength(1);
  }

  test('neither PEM nor wallet', () => {
    expectError(s => new DmsCertificate(s, 'C', {}),
      /^\[Stack\/C\] certificatePem: give exactly one of certificatePem \(a PEM certificate\) or certificateWallet \(an Oracle wallet\); neither was given$/);
  });

  test('both PEM and wallet', () => {
    expectError(s => new DmsCertificate(s, 'C', { ...pem(), certificateWallet: CertificateWallet.fromFile(walletFile) }),
      /^\[Stack\/C\] certificateWallet: give exactly one of certificatePem or certificateWallet, not both/);
  });

  test.each([
    ['', /must be 1 to 255 characters long, got 0/],
    ['a'.repeat(256), /must be 1 to 255 characters long, got 256/],
    ['9lives', /'9lives' must begin with an ASCII letter/],
    ['-cert', /'-cert' must begin with an ASCII letter/],
    ['db_trust', /'db_trust' may hold only ASCII letters, digits and hyphens, not '_' \(first at position 3\)/],
    ['db trust', /may hold only ASCII letters, digits and hyphens, not ' ' \(first at position 3\)/],
    ['zertifikat-ä', /may hold only ASCII letters/],
    ['db-trust-', /'db-trust-' must not end with a hyphen/],
    ['db--trust', /'db--trust' must not contain two consecutive hyphens/],
    // Every rule broken, in one message, with the fix.
    ['bad--id-', /'bad--id-' must not end with a hyphen, and must not contain two consecutive hyphens; use 1 to 255 ASCII letters, digits and single hyphens/],
    ['9_db--x-', /'9_db--x-' must begin with an ASCII letter, may hold only ASCII letters, digits and hyphens, not '_' \(first at position 2\), must not end with a hyphen, and must not contain two consecutive hyphens; use /],
  ])('certificateIdentifier %j', (identifier, rule) => {
    expectError(s => new DmsCertificate(s, 'C', { ...pem(), certificateIdentifier: identifier }), /^\[Stack\/C\] certificateIdentifier: /);
    expectError(s => new DmsCertificate(s, 'C', { ...pem(), certificateIdentifier: identifier }), rule);
  });

  test('the longest valid identifier is accepted', () => {
    const stack = newStack();
    expect(() => new DmsCertificate(stack, 'C', { ...pem(), certificateIdentifier: `a${'-b'.repeat(127)}` })).not.toThrow();
  });

  test('malformed PEM', () => {
    expectError(s => new DmsCertificate(s, 'C', { certificatePem: CertificatePem.fromString('not a certificate') }),
      /^\[Stack\/C\] certificatePem: is not PEM text/);
    const broken = pki.root.certificatePem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n' + 'A'.repeat(64) + '\n');
    expectError(s => new DmsCertificate(s, 'C', { certificatePem: CertificatePem.fromString(broken) }),
      /^\[Stack\/C\] certificatePem: block 1 \(CERTIFICATE\) is not a valid X\.509 certificate/);
  });

  test('expired PEM', () => {
    expectError(s => new DmsCertificate(s, 'C', { certificatePem: CertificatePem.fromString(pki.expiredLeaf.certificatePem) }),
      /^\[Stack\/C\] certificatePem: the certificate has expired/);
  });

  test('an expired certificate inside a bundle is named by position', () => {
    expectError(s => new DmsCertificate(s, 'C', { certificatePem: CertificatePem.fromString(pki.root.certificatePem + pki.expiredLeaf.certificatePem) }),
      /^\[Stack\/C\] certificatePem: certificate 2 of 2 \(CN=.*\) has expired/);
  });

  test('a private key instead of a certificate, without repeating the key', () => {
    const stack = newStack();
    let message = '';
    try {
      new DmsCertificate(stack, 'C', { certificatePem: CertificatePem.fromString(pki.root.privateKeyPem) });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^\[Stack\/C\] certificatePem: holds a private key/);
    expect(message).not.toContain(pki.root.privateKeyPem.split('\n')[1]);
  });

  test('missing wallet file names the path', () => {
    const missing = path.join(tmp, 'nope', 'cwallet.sso');
    expectError(() => CertificateWallet.fromFile(missing),
      new RegExp(`^CertificateWallet\\.fromFile: no file at '${missing.replace(/[.\\/]/g, '\\$&')}'`));
  });

  test('a wallet path that is a directory, or an empty file', () => {
    expectError(() => CertificateWallet.fromFile(tmp), /^CertificateWallet\.fromFile: '.*' is not a file/);
    const empty = path.join(tmp, 'empty.sso');
    fs.writeFileSync(empty, '');
    expectError(() => CertificateWallet.fromFile(empty), /^CertificateWallet\.fromFile: '.*empty\.sso' is empty/);
  });

  test('a wallet key with a wildcard', () => {
    expectError(s => CertificateWallet.fromBucket(s3.Bucket.fromBucketName(s, 'B', 'wallet-bucket'), 'wallets/*'),
      /^CertificateWallet\.fromBucket: key 'wallets\/\*' must name one object/);
  });

  test('a tag DMS reserves fails synth naming tags', () => {
    const stack = newStack();
    new DmsCertificate(stack, 'C', pem());
    Tags.of(stack).add('dms:owner', 'x');
    expect(() => Template.fromStack(stack)).toThrow(/tags: tag key 'dms:owner' must not begin with 'aws:' or 'dms:'/);
  });
});

describe('PEM checks that pass', () => {
  test('a bundle of unrelated roots is accepted', async () => {
    const other = await makeRootCa({ commonName: 'Other Root' });
    const stack = newStack();
    new DmsCertificate(stack, 'C', { certificatePem: CertificatePem.fromString(pki.root.certificatePem + other.certificatePem) });
    Template.fromStack(stack).resourceCountIs('Custom::DmsCertificate', 1);
  });

  test('a certificate expiring soon is an acknowledgeable warning', () => {
    const stack = newStack();
    new DmsCertificate(stack, 'C', { certificatePem: CertificatePem.fromString(pki.expiringLeaf.certificatePem) });
    const warnings = Annotations.fromStack(stack).findWarning('/Stack/C', Match.stringLikeRegexp('certificatePem: the certificate expires within'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toContain(EXPIRING_SOON_WARNING);
  });

  test('a PEM token is left to the handler', () => {
    const stack = newStack();
    const parameter = ssm.StringParameter.fromStringParameterName(stack, 'P', '/ca');
    expect(() => new DmsCertificate(stack, 'C', { certificatePem: CertificatePem.fromString(parameter.stringValue) })).not.toThrow();
  });
});

describe('DmsCertificate: the rules every stateful construct shares', () => {
  test('RemovalPolicy.SNAPSHOT is refused with one clear error', () => {
    expect(() => new DmsCertificate(newStack(), 'Trust', { ...pem(), removalPolicy: RemovalPolicy.SNAPSHOT }))
      .toThrow(/removalPolicy: SNAPSHOT does not apply to a certificate or a certificate authority/);
  });
});
