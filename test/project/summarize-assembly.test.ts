import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, NestedStack, Stack, Stage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { formatSummary, isCertificateType, summarizeAssembly } from '../../scripts/summarize-assembly';

const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'summarize-assembly-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** One IAM server certificate custom resource, one CA, one inline Lambda function. */
function addCertificates(scope: Construct): void {
  new CfnResource(scope, 'ServerCert', { type: 'Custom::ServerCertificate', properties: { ServiceToken: 'arn:aws:lambda:x' } });
  new CfnResource(scope, 'Ca', { type: 'AWS::ACMPCA::CertificateAuthority', properties: {} });
  new lambda.Function(scope, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });
}

describe('summarizeAssembly', () => {
  test('counts certificates, resources and Lambda functions per stack', () => {
    const outdir = tmpDir();
    const app = new App({ outdir });
    const stack = new Stack(app, 'CertStack');
    addCertificates(stack);
    new CfnResource(stack, 'Bucket', { type: 'AWS::S3::Bucket' });
    const assembly = app.synth();
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'CertStack.template.json'), 'utf8'));
    const resourceCount = Object.keys(template.Resources).length;

    const s = summarizeAssembly(outdir);

    expect(s.stacks).toHaveLength(1);
    expect(s.stacks[0]).toMatchObject({
      stackName: assembly.getStackByName('CertStack').stackName,
      certificates: 2,
      lambdaFunctions: 1,
      resources: resourceCount,
      certificatesByType: { 'Custom::ServerCertificate': 1, 'AWS::ACMPCA::CertificateAuthority': 1 },
    });
    // The function brings its role along, so the total exceeds the resources declared above.
    expect(resourceCount).toBeGreaterThan(4);
    expect(s.totals).toMatchObject({ stacks: 1, certificates: 2, lambdaFunctions: 1, resources: resourceCount });

    const text = formatSummary(s);
    expect(text).toContain('CertStack');
    expect(text).toMatch(/Total \(1 stack\)\s+2\s+\d+\s+1/);
    expect(text).toContain('AWS::ACMPCA::CertificateAuthority x1');
  });

  // The CLI enables asset metadata (how a nested stack's template is found) and path metadata.
  test.each([
    ['asset metadata only', { 'aws:cdk:enable-asset-metadata': true }],
    ['asset and path metadata', { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true }],
  ])('includes stacks of nested stage assemblies and nested stacks (%s)', (_name, context) => {
    const outdir = tmpDir();
    const app = new App({ outdir, context });
    addCertificates(new Stack(app, 'Top'));
    const stage = new Stage(app, 'Prod');
    const staged = new Stack(stage, 'Certs');
    addCertificates(staged);
    const nested = new NestedStack(staged, 'Inner');
    new CfnResource(nested, 'DmsCert', { type: 'AWS::DMS::Certificate', properties: {} });
    app.synth();
    expect(fs.existsSync(path.join(outdir, 'assembly-Prod', 'manifest.json'))).toBe(true);

    const s = summarizeAssembly(outdir);

    const rows = s.stacks.map((st) => [st.stackName, st.displayName, st.nestingLevel]);
    expect(rows).toHaveLength(3);
    expect(rows).toEqual(expect.arrayContaining([
      ['Top', 'Top', 0],
      ['Prod-Certs', 'Prod/Certs', 0],
      ['Prod-Certs/Inner', 'Prod/Certs/Inner', 1],
    ]));
    // A nested stack is listed right after its parent.
    const parent = s.stacks.findIndex((st) => st.stackName === 'Prod-Certs');
    expect(s.stacks[parent + 1]).toMatchObject({ stackName: 'Prod-Certs/Inner', certificates: 1, resources: 1, lambdaFunctions: 0 });
    expect(s.totals).toMatchObject({ stacks: 3, certificates: 5, lambdaFunctions: 2 });
    expect(s.totals.certificatesByType).toEqual({
      'Custom::ServerCertificate': 2,
      'AWS::ACMPCA::CertificateAuthority': 2,
      'AWS::DMS::Certificate': 1,
    });
    const text = formatSummary(s);
    expect(text).toContain('Prod-Certs (Prod/Certs)');
    expect(text).toMatch(/\n {2}Inner \(nested stack\)\s+1\s+1\s+0\n/);
  });

  test('fails clearly when the assembly has no stacks', () => {
    const outdir = tmpDir();
    new App({ outdir }).synth();
    expect(() => summarizeAssembly(outdir)).toThrow(/No stacks found in cloud assembly/);
  });

  test('fails clearly when the directory is not a cloud assembly', () => {
    expect(() => summarizeAssembly(tmpDir())).toThrow(/is not a cloud assembly: .*manifest\.json not found/);
  });
});

describe('isCertificateType', () => {
  test('matches certificate types exactly, not their helper resources', () => {
    expect(isCertificateType('Custom::LightsailCertificate')).toBe(true);
    expect(isCertificateType('Custom::LightsailCertificateValidation')).toBe(false);
    expect(isCertificateType('Custom::LightsailCertificateAttachment')).toBe(false);
    expect(isCertificateType('AWS::ACMPCA::Certificate')).toBe(true);
    expect(isCertificateType('AWS::ACMPCA::CertificateAuthorityActivation')).toBe(false);
    expect(isCertificateType('Custom::Other')).toBe(false);
    expect(isCertificateType('AWS::Lambda::Function')).toBe(false);
  });
});
