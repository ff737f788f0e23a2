import { Annotations as CoreAnnotations, App, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import {
  CA_MONTHLY_COST_WARNING,
  GENERAL_PURPOSE_CA_MONTHLY_USD,
  KEY_FAMILY_MISMATCH_WARNING,
  ROOT_ISSUES_END_ENTITY_WARNING,
  SHORT_LIVED_CA_MONTHLY_USD,
  SHORT_LIVED_CA_WITH_ACM_WARNING,
} from '../../src/acm-pca/pki-lint';
import { PrivateCa } from '../../src/acm-pca/private-ca';
import { CaUsageMode, KeyAlgorithm } from '../../src/acm-pca/private-ca-options';
import { PrivateCaProps } from '../../src/acm-pca/private-ca-props';
import { makeCsr } from '../support/fixtures/pki';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function newStack(app = new App(), id = 'Stack'): Stack {
  return new Stack(app, id, { env: ENV });
}

function ca(scope: Stack, id: string, props: Partial<PrivateCaProps> = {}): PrivateCa {
  return new PrivateCa(scope, id, { subject: { commonName: `${id} CA` }, ...props });
}

/** A root and an issuing CA under it: the hierarchy every rule is quiet about (cost aside). */
function hierarchy(stack: Stack, issuingProps: Partial<PrivateCaProps> = {}): { root: PrivateCa; issuing: PrivateCa } {
  const root = ca(stack, 'Root');
  const issuing = ca(stack, 'Issuing', { parent: root, ...issuingProps });
  return { root, issuing };
}

function warnings(stack: Stack, id: string): Array<{ path: string; message: string }> {
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(`\\[ack: ${id}\\]`))
    .map(w => ({ path: w.id, message: String(w.entry.data) }));
}

describe('CA monthly cost (cdk-certificates:privateCaMonthlyCost)', () => {
  test('the prices are AWS Private CA list prices', () => {
    expect(GENERAL_PURPOSE_CA_MONTHLY_USD).toBe(400);
    expect(SHORT_LIVED_CA_MONTHLY_USD).toBe(50);
  });

  test('once per stack, on its first CA, summing general-purpose and short-lived CAs', () => {
    const stack = newStack();
    const { issuing } = hierarchy(stack, { pathLength: 1 });
    ca(stack, 'ShortLived', { parent: issuing, usageMode: CaUsageMode.SHORT_LIVED_CERTIFICATE, pathLength: 0 });
    const found = warnings(stack, CA_MONTHLY_COST_WARNING);
    expect(found).toHaveLength(1);
    expect(found[0].path).toBe('/Stack/Root/Resource');
    expect(found[0].message).toContain('stack Stack declares 3 ACM Private CA certificate authorities: '
      + '2 general-purpose ($400 a month each) and 1 in short-lived certificate mode ($50 a month), about $850 a month');
    expect(found[0].message).toContain('https://aws.amazon.com/private-ca/pricing/');
    expect(found[0].message).toContain(`Annotations.of(stack).acknowledgeWarning('${CA_MONTHLY_COST_WARNING}', 'budgeted')`);
  });

  test('one CA: the singular, and only the short-lived price', () => {
    const stack = newStack();
    ca(stack, 'Edge', { usageMode: CaUsageMode.SHORT_LIVED_CERTIFICATE });
    const [warning] = warnings(stack, CA_MONTHLY_COST_WARNING);
    expect(warning.message).toContain('declares 1 ACM Private CA certificate authority: 1 in short-lived certificate mode ($50 a month), about $50 a month');
    expect(warning.message).not.toContain('general-purpose');
  });

  test('each stack states its own CAs; imported CAs and stacks without a CA get nothing', () => {
    const app = new App();
    const pki = newStack(app, 'Pki');
    const { issuing } = hierarchy(pki);
    const other = newStack(app, 'Other');
    ca(other, 'Team');
    const consumer = newStack(app, 'Consumer');
    PrivateCa.fromCertificateAuthorityArn(consumer, 'Shared',
      'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555');
    new acm.PrivateCertificate(pki, 'Internal', { domainName: 'internal.example.com', certificateAuthority: issuing, keyAlgorithm: acm.KeyAlgorithm.EC_PRIME256V1 });
    expect(warnings(pki, CA_MONTHLY_COST_WARNING).map(w => w.message)).toEqual([expect.stringContaining('about $800 a month')]);
    expect(warnings(other, CA_MONTHLY_COST_WARNING).map(w => w.message)).toEqual([expect.stringContaining('about $400 a month')]);
    expect(warnings(consumer, CA_MONTHLY_COST_WARNING)).toEqual([]);
  });

  test('acknowledged on the stack (before or after the CAs) or on the CA that carries it', () => {
    const before = newStack(new App(), 'Before');
    CoreAnnotations.of(before).acknowledgeWarning(CA_MONTHLY_COST_WARNING, 'budgeted');
    hierarchy(before);
    expect(warnings(before, CA_MONTHLY_COST_WARNING)).toEqual([]);

    const after = newStack(new App(), 'After');
    hierarchy(after);
    CoreAnnotations.of(after).acknowledgeWarning(CA_MONTHLY_COST_WARNING, 'budgeted');
    expect(warnings(after, CA_MONTHLY_COST_WARNING)).toEqual([]);

    const onCa = newStack(new App(), 'OnCa');
    const { root } = hierarchy(onCa);
    CoreAnnotations.of(root).acknowledgeWarning(CA_MONTHLY_COST_WARNING, 'budgeted');
    expect(warnings(onCa, CA_MONTHLY_COST_WARNING)).toEqual([]);
  });

  test('synthesizing twice states it once', () => {
    const stack = newStack();
    hierarchy(stack);
    warnings(stack, CA_MONTHLY_COST_WARNING);
    expect(warnings(stack, CA_MONTHLY_COST_WARNING)).toHaveLength(1);
  });
});

describe('short-lived CA used by ACM (cdk-certificates:shortLivedCaWithAcm)', () => {
  test('an acm.PrivateCertificate from a short-lived-mode CA is warned, on the certificate', () => {
    const stack = newStack();
    const { issuing } = hierarchy(stack, { usageMode: CaUsageMode.SHORT_LIVED_CERTIFICATE });
    new acm.PrivateCertificate(stack, 'Internal', { domainName: 'internal.example.com', certificateAuthority: issuing });
    const found = warnings(stack, SHORT_LIVED_CA_WITH_ACM_WARNING);
    expect(found).toHaveLength(1);
    expect(found[0].path).toBe('/Stack/Internal/Resource');
    expect(found[0].message).toContain('the ACM certificate Stack/Internal is to be issued by Stack/Issuing, a CA in short-lived certificate mode');
    expect(found[0].message).toContain('ACM cannot issue certificates signed by a short-lived-mode CA');
    expect(found[0].message).toContain(`acknowledgeWarning('${SHORT_LIVED_CA_WITH_ACM_WARNING}', 'reason')`);
  });

  test('found whatever form of the CA ARN the certificate holds, in another stack too', () => {
    const app = new App();
    const pki = newStack(app, 'Pki');
    const { issuing } = hierarchy(pki, { usageMode: CaUsageMode.SHORT_LIVED_CERTIFICATE });
    const consumer = newStack(app, 'Consumer');
    new acm.PrivateCertificate(consumer, 'ByCa', { domainName: 'a.example.com', certificateAuthority: issuing });
    new acm.PrivateCertificate(consumer, 'ByImport', {
      domainName: 'b.example.com',
      certificateAuthority: PrivateCa.fromCertificateAuthorityArn(consumer, 'Imported', issuing.certificateAuthorityArn),
    });
    new acm.CfnCertificate(consumer, 'L1', { domainName: 'c.example.com', certificateAuthorityArn: issuing.cfnCertificateAuthority.attrArn });
    expect(warnings(consumer, SHORT_LIVED_CA_WITH_ACM_WARNING).map(w => w.path).sort())
      .toEqual(['/Consumer/ByCa/Resource', '/Consumer/ByImport/Resource', '/Consumer/L1']);
  });

  test('not for a general-purpose CA, nor for certificates the short-lived CA issues itself', async () => {
    const stack = newStack();
    const { issuing } = hierarchy(stack, { pathLength: 1 });
    new acm.PrivateCertificate(stack, 'Internal', { domainName: 'internal.example.com', certificateAuthority: issuing });
    const edge = ca(stack, 'Edge', { parent: issuing, usageMode: CaUsageMode.SHORT_LIVED_CERTIFICATE, pathLength: 0 });
    edge.issueCertificate('Web', { commonName: 'www.example.com', validity: Duration.days(7) });
    const { csrPem } = await makeCsr({ commonName: 'device.example.com' });
    edge.issueCertificateFromCsr('Device', csrPem);
    new acm.Certificate(stack, 'Public', { domainName: 'www.example.com' });
    expect(warnings(stack, SHORT_LIVED_CA_WITH_ACM_WARNING)).toEqual([]);
  });

  test('acknowledged on the certificate (or its stack)', () => {
    const stack = newStack();
    const { issuing } = hierarchy(stack, { usageMode: CaUsageMode.SHORT_LIVED_CERTIFICATE });
    const certificate = new acm.PrivateCertificate(stack, 'Internal', { domainName: 'internal.example.com', certificateAuthority: issuing });
    CoreAnnotations.of(certificate).acknowledgeWarning(SHORT_LIVED_CA_WITH_ACM_WARNING, 'replaced in the next release');
    expect(warnings(stack, SHORT_LIVED_CA_WITH_ACM_WARNING)).toEqual([]);

    const onStack = newStack(new App(), 'OnStack');
    CoreAnnotations.of(onStack).acknowledgeWarning(SHORT_LIVED_CA_WITH_ACM_WARNING, 'replaced in the next release');
    const { issuing: edge } = hierarchy(onStack, { usageMode: CaUsageMode.SHORT_LIVED_CERTIFICATE });
    new acm.PrivateCertificate(onStack, 'Internal', { domainName: 'internal.example.com', certificateAuthority: edge });
    expect(warnings(onStack, SHORT_LIVED_CA_WITH_ACM_WARNING)).toEqual([]);
  });
});

describe('key family (cdk-certificates:keyFamilyMismatch)', () => {
  test('an ACM certificate with the default RSA key from a CA with an EC key', () => {
    const stack = newStack();
    const { issuing } = hierarchy(stack, { keyAlgorithm: KeyAlgorithm.EC_SECP384R1 });
    new acm.PrivateCertificate(stack, 'Internal', { domainName: 'internal.example.com', certificateAuthority: issuing });
    const found = warnings(stack, KEY_FAMILY_MISMATCH_WARNING);
    expect(found).toHaveLength(1);
    expect(found[0].path).toBe('/Stack/Internal/Resource');
    expect(found[0].message).toContain('requests a RSA_2048 key from Stack/Issuing, whose own key is EC_secp384r1 (it signs with SHA384WITHECDSA)');
    expect(found[0].message).toContain('keyAlgorithm: acm.KeyAlgorithm.EC_SECP384R1');
    expect(found[0].message).toContain(`acknowledgeWarning('${KEY_FAMILY_MISMATCH_WARNING}', 'reason')`);
  });

  test('an ACM certificate with an EC key from a CA with an RSA key; an SM2 or ML-DSA CA matches no ACM key', () => {
    const stack = newStack();
    const rsa = ca(stack, 'Rsa');
    new acm.PrivateCertificate(stack, 'Ec', { domainName: 'ec.example.com', certificateAuthority: rsa, keyAlgorithm: acm.KeyAlgorithm.EC_PRIME256V1 });
    const pq = ca(stack, 'Pq', { keyAlgorithm: KeyAlgorithm.ML_DSA_65 });
    new acm.PrivateCertificate(stack, 'Rsa2048', { domainName: 'pq.example.com', certificateAuthority: pq });
    const found = warnings(stack, KEY_FAMILY_MISMATCH_WARNING);
    expect(found.map(w => w.path).sort()).toEqual(['/Stack/Ec/Resource', '/Stack/Rsa2048/Resource']);
    expect(found.find(w => w.path === '/Stack/Ec/Resource')!.message).toContain('request an RSA key (keyAlgorithm: acm.KeyAlgorithm.RSA_2048, the default)');
    expect(found.find(w => w.path === '/Stack/Rsa2048/Resource')!.message).toContain('ACM requests only RSA and ECDSA keys');
  });

  test('not when the families match, nor for certificates ACM Private CA issues (any key from any CA), nor a mixed hierarchy', async () => {
    const stack = newStack();
    const { root, issuing } = hierarchy(stack, { keyAlgorithm: KeyAlgorithm.EC_PRIME256V1 });
    new acm.PrivateCertificate(stack, 'Ec', { domainName: 'ec.example.com', certificateAuthority: issuing, keyAlgorithm: acm.KeyAlgorithm.EC_SECP384R1 });
    new acm.PrivateCertificate(stack, 'Rsa', { domainName: 'rsa.example.com', certificateAuthority: root });
    issuing.issueCertificate('Web', { commonName: 'www.example.com' });
    const { csrPem } = await makeCsr({ commonName: 'device.example.com' });
    issuing.issueCertificateFromCsr('Device', csrPem);
    expect(warnings(stack, KEY_FAMILY_MISMATCH_WARNING)).toEqual([]);
  });

  test('not when the key algorithm is a token', () => {
    const stack = newStack();
    const { issuing } = hierarchy(stack, { keyAlgorithm: KeyAlgorithm.EC_PRIME256V1 });
    const l1 = new acm.CfnCertificate(stack, 'L1', { domainName: 'a.example.com', certificateAuthorityArn: issuing.certificateAuthorityArn });
    l1.keyAlgorithm = Lazy.string({ produce: () => 'RSA_2048' });
    expect(warnings(stack, KEY_FAMILY_MISMATCH_WARNING)).toEqual([]);
  });

  test('acknowledged on the certificate', () => {
    const stack = newStack();
    const { issuing } = hierarchy(stack, { keyAlgorithm: KeyAlgorithm.EC_PRIME256V1 });
    const certificate = new acm.PrivateCertificate(stack, 'Internal', { domainName: 'internal.example.com', certificateAuthority: issuing });
    CoreAnnotations.of(certificate).acknowledgeWarning(KEY_FAMILY_MISMATCH_WARNING, 'tested in this Region');
    expect(warnings(stack, KEY_FAMILY_MISMATCH_WARNING)).toEqual([]);
  });
});

describe('root CA issuing end-entity certificates (cdk-certificates:rootIssuesEndEntity)', () => {
  test('issueCertificate, issueCertificateFromCsr and acm.PrivateCertificate on a root: one warning on the root, listing them', async () => {
    const stack = newStack();
    const root = ca(stack, 'Root');
    root.issueCertificate('Web', { commonName: 'www.example.com' });
    const { csrPem } = await makeCsr({ commonName: 'device.example.com' });
    root.issueCertificateFromCsr('Device', csrPem);
    new acm.PrivateCertificate(stack, 'Internal', { domainName: 'internal.example.com', certificateAuthority: root });
    const found = warnings(stack, ROOT_ISSUES_END_ENTITY_WARNING);
    expect(found).toHaveLength(1);
    expect(found[0].path).toBe('/Stack/Root/Resource');
    expect(found[0].message).toContain('the root CA Stack/Root issues end-entity certificates directly: '
      + 'Stack/Root/Web (EndEntityCertificate/V1), Stack/Root/Device (EndEntityCertificate/V1), Stack/Internal (ACM)');
    expect(found[0].message).toContain('https://docs.aws.amazon.com/privateca/latest/userguide/ca-best-practices.html');
    expect(found[0].message).toContain(`Annotations.of(root).acknowledgeWarning('${ROOT_ISSUES_END_ENTITY_WARNING}', 'one-tier PKI')`);
  });

  test('not for a root that signs only subordinate CAs, nor for the subordinate that issues, nor a disabled root', () => {
    const stack = newStack();
    const { issuing } = hierarchy(stack);
    issuing.issueCertificate('Web', { commonName: 'www.example.com' });
    new acm.PrivateCertificate(stack, 'Internal', { domainName: 'internal.example.com', certificateAuthority: issuing });
    const disabled = ca(stack, 'Disabled', { enabled: false });
    disabled.issueCertificate('Late', { commonName: 'late.example.com' });
    expect(warnings(stack, ROOT_ISSUES_END_ENTITY_WARNING)).toEqual([]);
  });

  test('acknowledged on the root, before or after the certificates', () => {
    const stack = newStack();
    const root = ca(stack, 'Root');
    CoreAnnotations.of(root).acknowledgeWarning(ROOT_ISSUES_END_ENTITY_WARNING, 'one-tier lab PKI');
    root.issueCertificate('Web', { commonName: 'www.example.com' });
    expect(warnings(stack, ROOT_ISSUES_END_ENTITY_WARNING)).toEqual([]);

    const later = newStack(new App(), 'Later');
    const root2 = ca(later, 'Root');
    root2.issueCertificate('Web', { commonName: 'www.example.com' });
    CoreAnnotations.of(root2).acknowledgeWarning(ROOT_ISSUES_END_ENTITY_WARNING, 'one-tier lab PKI');
    expect(warnings(later, ROOT_ISSUES_END_ENTITY_WARNING)).toEqual([]);
  });
});

describe('the warnings leave the template alone', () => {
  test('a hierarchy synthesizes the same resources with or without acknowledgements', () => {
    const build = (ack: boolean) => {
      const stack = newStack();
      const { root } = hierarchy(stack);
      root.issueCertificate('Web', { commonName: 'www.example.com' });
      if (ack) {
        CoreAnnotations.of(stack).acknowledgeWarning(CA_MONTHLY_COST_WARNING, 'budgeted');
        CoreAnnotations.of(root).acknowledgeWarning(ROOT_ISSUES_END_ENTITY_WARNING, 'lab');
      }
      return stack;
    };
    const plain = build(false);
    const acknowledged = build(true);
    expect(warnings(plain, ROOT_ISSUES_END_ENTITY_WARNING)).toHaveLength(1);
    expect(warnings(acknowledged, ROOT_ISSUES_END_ENTITY_WARNING)).toEqual([]);
    const template = (s: Stack) => JSON.stringify(s.resolve((s as any)._toCloudFormation()));
    expect(template(acknowledged)).toEqual(template(plain));
  });
});
