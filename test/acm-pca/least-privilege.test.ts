/**
 * Handler roles touch only what this stack owns (issue "Safe by default"): ACM Private CA supports
 * aws:ResourceTag, and the construct tags its CAs with the stack's ID.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IssuedCertificate, PrivateCa } from '../../src';

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function statementsWith(template: Template, action: string): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().includes(action));
}

const OWNED = { StringEquals: { 'aws:ResourceTag/cdk-certificates:stack-id': { Ref: 'AWS::StackId' } } };
const ANY_CA = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:eu-west-1:123456789012:certificate-authority/*']] };

test('an issued certificate of a CA in this stack may revoke at any CA the stack owns, so a replaced CA\'s certificate can still be revoked', () => {
  const stack = newStack();
  const ca = new PrivateCa(stack, 'Root', { subject: { commonName: 'Root' } });
  ca.issueCertificate('Web', { commonName: 'www.example.internal' });
  const [revoke] = statementsWith(Template.fromStack(stack), 'acm-pca:RevokeCertificate');
  expect(revoke.Resource).toEqual(ANY_CA);
  expect(revoke.Condition).toEqual(OWNED);
  // Issuing stays pinned to the CA and the template.
  const [issue] = statementsWith(Template.fromStack(stack), 'acm-pca:IssueCertificate');
  expect(JSON.stringify(issue.Resource)).not.toContain('certificate-authority/*');
  expect(issue.Condition.StringEquals['acm-pca:TemplateArn']).toBeDefined();
});

test('an issued certificate of a CA from elsewhere (imported by ARN) may touch that CA alone', () => {
  const stack = newStack();
  const arn = 'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/0a1b2c3d-0000-4000-8000-000000000001';
  const ca = PrivateCa.fromCertificateAuthorityArn(stack, 'Imported', arn);
  new IssuedCertificate(stack, 'Web', { certificateAuthority: ca, commonName: 'www.example.internal' });
  const [revoke] = statementsWith(Template.fromStack(stack), 'acm-pca:RevokeCertificate');
  expect(revoke.Resource).toEqual(arn);
  expect(revoke.Condition).toBeUndefined();
});

test('no handler statement reaches every CA of the account without the ownership condition', () => {
  const stack = newStack();
  const root = new PrivateCa(stack, 'Root', { subject: { commonName: 'Root' } });
  new PrivateCa(stack, 'Sub', { parent: root, subject: { commonName: 'Sub' } }).issueCertificate('Web', { commonName: 'w.example.internal' });
  const wide = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => JSON.stringify(s.Resource) === JSON.stringify(ANY_CA));
  expect(wide.length).toBeGreaterThan(0);
  for (const statement of wide) {
    expect(statement.Condition).toEqual(OWNED);
  }
});
