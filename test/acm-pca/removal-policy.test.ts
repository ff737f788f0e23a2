/**
 * Stateful things are retained unless the user says otherwise (issue "Safe by default"): a
 * PrivateCa and an issued certificate default to RETAIN, as aws-cdk-lib's buckets, keys and tables
 * do, and the template says who deletes a CA when the policy is DESTROY.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PrivateCa } from '../../src';

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function render(removalPolicy?: RemovalPolicy) {
  const stack = newStack();
  const ca = new PrivateCa(stack, 'Root', { subject: { commonName: 'Example Root CA' }, removalPolicy });
  ca.issueCertificate('Web', { commonName: 'www.example.internal', dnsNames: ['www.example.internal'], removalPolicy });
  return Template.fromStack(stack);
}

const only = (template: Template, type: string) => Object.values(template.findResources(type))[0] as Record<string, any>;

describe('defaults', () => {
  test('a PrivateCa and an issued certificate (with its secret) are retained by default', () => {
    const t = render();
    expect(only(t, 'Custom::PrivateCa')).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { RemovalPolicy: 'retain' } });
    expect(only(t, 'AWS::ACMPCA::CertificateAuthorityActivation')).toMatchObject({ DeletionPolicy: 'Retain' });
    expect(only(t, 'Custom::PrivateCaIssuedCertificate')).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { RemovalPolicy: 'retain' } });
    expect(only(t, 'AWS::SecretsManager::Secret')).toMatchObject({ DeletionPolicy: 'Retain' });
  });

  test('DESTROY keeps the careful disable-then-delete, and every resource says Delete', () => {
    const t = render(RemovalPolicy.DESTROY);
    expect(only(t, 'Custom::PrivateCa')).toMatchObject({ DeletionPolicy: 'Delete', Properties: { RemovalPolicy: 'destroy', PermanentDeletionTimeInDays: '30' } });
    expect(only(t, 'Custom::PrivateCaIssuedCertificate')).toMatchObject({ DeletionPolicy: 'Delete', Properties: { RemovalPolicy: 'destroy', RevokeOnDelete: 'true' } });
    expect(only(t, 'AWS::SecretsManager::Secret')).toMatchObject({ DeletionPolicy: 'Delete' });
  });
});

describe('the template tells the truth', () => {
  test('with DESTROY, the CA (always DeletionPolicy Retain for CloudFormation) says which resource deletes it, and how', () => {
    const t = render(RemovalPolicy.DESTROY);
    const ca = only(t, 'AWS::ACMPCA::CertificateAuthority');
    const lifecycleId = Object.keys(t.findResources('Custom::PrivateCa'))[0];
    expect(ca.DeletionPolicy).toBe('Retain');
    expect(ca.Metadata['cdk-certificates:deletion']).toBe(
      `Deleted by ${lifecycleId} (Custom::PrivateCa): disabled, then DeleteCertificateAuthority with a 30-day restore window, `
      + 'when the CA leaves the stack or is replaced (removalPolicy DESTROY).');
  });

  test('with RETAIN, it says the CA is retained', () => {
    const ca = only(render(), 'AWS::ACMPCA::CertificateAuthority');
    expect(ca.Metadata['cdk-certificates:deletion']).toMatch(/^Retained: /);
  });
});
