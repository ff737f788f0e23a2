import { App, Stack, Tags, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IssuedCertificate } from '../../src/acm-pca/issued-certificate';
import { CertificateTemplate } from '../../src/acm-pca/issued-certificate-options';
import { CaSharePermission, PrivateCa, SharePrincipal, SharePrincipalType } from '../../src/acm-pca/private-ca';

const ORG = 'arn:aws:organizations::111111111111:organization/o-exampleorgid';
const OU = 'arn:aws:organizations::111111111111:ou/o-exampleorgid/ou-examplerootid111-exampleouid111';
const CUSTOM = 'arn:aws:ram:eu-west-1:123456789012:permission/ServerAuthIssuance';

function newStack(app = new App()): Stack {
  return new Stack(app, 'Pki', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function issuingCa(stack: Stack): PrivateCa {
  const root = new PrivateCa(stack, 'Root', { subject: { commonName: 'Example Root CA' } });
  return new PrivateCa(stack, 'Issuing', { parent: root, subject: { commonName: 'Example Issuing CA' } });
}

/** The logical ID of the only resource of `type` whose ID starts with `prefix`. */
function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

const managed = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ram::aws:permission/${name}`]] });

describe('PrivateCa.shareWith', () => {
  test('one AWS::RAM::ResourceShare of the CA ARN (its activation: shared once ACTIVE) with the default end-entity permission', () => {
    const stack = newStack();
    const ca = issuingCa(stack);
    const share = ca.shareWith([SharePrincipal.account('111122223333'), SharePrincipal.organizationalUnit(OU)]);
    const t = Template.fromStack(stack);
    const activationId = logicalId(t, 'AWS::ACMPCA::CertificateAuthorityActivation', 'IssuingActivation');

    t.resourceCountIs('AWS::RAM::ResourceShare', 1);
    t.hasResourceProperties('AWS::RAM::ResourceShare', {
      Name: Match.stringLikeRegexp('^Pki-Issuing-Share-[A-Z0-9]+-end-entity$'),
      ResourceArns: [{ Ref: activationId }],
      Principals: ['111122223333', OU],
      PermissionArns: [managed('AWSRAMDefaultPermissionCertificateAuthority')],
      // An account may be outside the organization.
      AllowExternalPrincipals: true,
    });
    expect(share.principals).toEqual(['111122223333', OU]);
    expect(share.resourceShareArns).toHaveLength(1);
    expect(stack.resolve(share.resourceShareArns[0])).toEqual({ 'Fn::GetAtt': [logicalId(t, 'AWS::RAM::ResourceShare', 'IssuingShare'), 'Arn'] });
    // RAM writes the resource policy: no policy resource of the library's own.
    t.resourceCountIs('Custom::PrivateCaPolicy', 0);
  });

  test('inside the organization only (OUs and the organization) the shares refuse external principals', () => {
    const stack = newStack();
    issuingCa(stack).shareWith([SharePrincipal.organization(ORG), SharePrincipal.organizationalUnit(OU)]);
    Template.fromStack(stack).hasResourceProperties('AWS::RAM::ResourceShare', {
      Principals: [ORG, OU],
      AllowExternalPrincipals: false,
    });
  });

  test('allowExternalPrincipals: false keeps listed accounts inside the organization', () => {
    const stack = newStack();
    issuingCa(stack).shareWith([SharePrincipal.account('111122223333')], { allowExternalPrincipals: false });
    Template.fromStack(stack).hasResourceProperties('AWS::RAM::ResourceShare', { AllowExternalPrincipals: false });
  });

  test('one share per permission (RAM takes one permission per resource type), all with the same principals', () => {
    const stack = newStack();
    const share = issuingCa(stack).shareWith([SharePrincipal.organization(ORG)], {
      permissions: [
        CaSharePermission.END_ENTITY_ISSUANCE,
        CaSharePermission.REVOKE_CERTIFICATE,
        CaSharePermission.SUBORDINATE_CA_PATH_LEN_0_ISSUANCE,
        CaSharePermission.BLANK_END_ENTITY_API_PASSTHROUGH_ISSUANCE,
        CaSharePermission.BLANK_END_ENTITY_API_CSR_PASSTHROUGH_ISSUANCE,
      ],
      resourceShareName: 'example-issuing-ca',
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::RAM::ResourceShare', 5);
    const expected: Array<[string, string]> = [
      ['end-entity', 'AWSRAMDefaultPermissionCertificateAuthority'],
      ['revoke', 'AWSRAMRevokeCertificateCertificateAuthority'],
      ['subordinate-ca', 'AWSRAMSubordinateCACertificatePathLen0IssuanceCertificateAuthority'],
      ['blank-api-passthrough', 'AWSRAMBlankEndEntityCertificateAPIPassthroughIssuanceCertificateAuthority'],
      ['blank-api-csr-passthrough', 'AWSRAMBlankEndEntityCertificateAPICSRPassthroughIssuanceCertificateAuthority'],
    ];
    for (const [label, name] of expected) {
      t.hasResourceProperties('AWS::RAM::ResourceShare', {
        Name: `example-issuing-ca-${label}`,
        Principals: [ORG],
        PermissionArns: [managed(name)],
      });
    }
    expect(share.resourceShares.map((s) => s.node.id)).toEqual(['EndEntity', 'Revoke', 'SubordinateCa', 'BlankApiPassthrough', 'BlankApiCsrPassthrough']);
  });

  test('forTemplate maps the templates that have an AWS managed permission', () => {
    expect(CaSharePermission.forTemplate(CertificateTemplate.END_ENTITY)).toBe(CaSharePermission.END_ENTITY_ISSUANCE);
    expect(CaSharePermission.forTemplate(CertificateTemplate.fromArn('arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1')))
      .toBe(CaSharePermission.SUBORDINATE_CA_PATH_LEN_0_ISSUANCE);
    expect(CaSharePermission.forTemplate(CertificateTemplate.fromArn('arn:aws:acm-pca:::template/BlankEndEntityCertificate_APIPassthrough/V1')))
      .toBe(CaSharePermission.BLANK_END_ENTITY_API_PASSTHROUGH_ISSUANCE);
    expect(CaSharePermission.forTemplate(CertificateTemplate.fromArn('arn:aws:acm-pca:::template/BlankEndEntityCertificate_APICSRPassthrough/V1')))
      .toBe(CaSharePermission.BLANK_END_ENTITY_API_CSR_PASSTHROUGH_ISSUANCE);
    expect(CaSharePermission.END_ENTITY_ISSUANCE.permissionName).toBe('AWSRAMDefaultPermissionCertificateAuthority');
    expect(CaSharePermission.REVOKE_CERTIFICATE.issuanceTemplateArns).toEqual([]);
  });

  test('a customer managed permission gets a share of its own', () => {
    const stack = newStack();
    issuingCa(stack).shareWith([SharePrincipal.account('111122223333')], {
      permissions: [CaSharePermission.fromPermissionArn(CUSTOM, [CertificateTemplate.END_ENTITY_SERVER_AUTH])],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::RAM::ResourceShare', {
      Name: Match.stringLikeRegexp('-custom$'),
      PermissionArns: [CUSTOM],
    });
  });

  test('Tags.of reaches the shares', () => {
    const stack = newStack();
    issuingCa(stack).shareWith([SharePrincipal.organization(ORG)]);
    Tags.of(stack).add('team', 'pki');
    Template.fromStack(stack).hasResourceProperties('AWS::RAM::ResourceShare', {
      Tags: Match.arrayWith([{ Key: 'team', Value: 'pki' }]),
    });
  });

  test('a second call makes a second set of shares', () => {
    const stack = newStack();
    const ca = issuingCa(stack);
    ca.shareWith([SharePrincipal.organization(ORG)]);
    const second = ca.shareWith([SharePrincipal.account('111122223333')], { permissions: [CaSharePermission.REVOKE_CERTIFICATE] });
    expect(second.node.id).toBe('Share2');
    Template.fromStack(stack).resourceCountIs('AWS::RAM::ResourceShare', 2);
  });

  test('principals given as tokens are passed through unchecked', () => {
    const stack = newStack();
    const account = Token.asString({ Ref: 'PartnerAccount' });
    issuingCa(stack).shareWith([SharePrincipal.account(account)]);
    Template.fromStack(stack).hasResourceProperties('AWS::RAM::ResourceShare', { Principals: [{ Ref: 'PartnerAccount' }] });
    expect(SharePrincipal.account(account).type).toBe(SharePrincipalType.ACCOUNT);
  });
});

describe('bad input: one error per property, every problem in it, with the fix', () => {
  test('principals', () => {
    const stack = newStack();
    const ca = issuingCa(stack);
    let message = '';
    try {
      ca.shareWith([
        SharePrincipal.account('1111-2222-3333'),
        SharePrincipal.account('123456789012'),
        SharePrincipal.organizationalUnit('ou-abcd-12345678'),
        SharePrincipal.organization('o-exampleorgid'),
        SharePrincipal.account('111122223333'),
        SharePrincipal.account('111122223333'),
      ]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^\[Pki\/Issuing\] principals: /);
    expect(message).toContain("'1111-2222-3333' is not an AWS account ID (12 digits); SharePrincipal.account: write it as '111122223333'");
    expect(message).toContain("'123456789012' is the account of the CA itself (this stack's)");
    expect(message).toContain("'ou-abcd-12345678' is not an organizational unit ARN");
    expect(message).toContain("pass the OU's ARN, not its ID");
    expect(message).toContain("'o-exampleorgid' is not an organization ARN");
    expect(message).toContain("pass the organization's ARN, not its ID");
    expect(message).toContain("'111122223333' is listed twice; list each principal once");
    // Nothing was created.
    expect(ca.node.tryFindChild('Share')).toBeUndefined();
  });

  test('bad principals and bad permissions are reported together', () => {
    const stack = newStack();
    expect(() => issuingCa(stack).shareWith([SharePrincipal.account('12345')], {
      permissions: [CaSharePermission.fromPermissionArn(CUSTOM, [CertificateTemplate.CODE_SIGNING])],
    })).toThrow(/principals: '12345' is not an AWS account ID .*; and permissions: CodeSigningCertificate\/V1 is used across accounts/);
  });

  test('an empty list of principals', () => {
    const stack = newStack();
    expect(() => issuingCa(stack).shareWith([])).toThrow(/principals: is empty; list at least one SharePrincipal/);
  });

  test('an empty or repeated list of permissions', () => {
    const stack = newStack();
    const ca = issuingCa(stack);
    expect(() => ca.shareWith([SharePrincipal.organization(ORG)], { permissions: [] })).toThrow(/permissions: is empty/);
    expect(() => ca.shareWith([SharePrincipal.organization(ORG)], {
      permissions: [CaSharePermission.REVOKE_CERTIFICATE, CaSharePermission.REVOKE_CERTIFICATE],
    })).toThrow(/AWSRAMRevokeCertificateCertificateAuthority is listed twice/);
  });

  test('a permission ARN that is not one', () => {
    expect(() => CaSharePermission.fromPermissionArn('AWSRAMDefaultPermissionCertificateAuthority', []))
      .toThrow(/CaSharePermission.fromPermissionArn: 'AWSRAMDefaultPermissionCertificateAuthority' is not an AWS RAM permission ARN/);
  });
});

describe('templates ACM Private CA does not allow across accounts are refused', () => {
  test('forTemplate refuses a template not allowed across accounts, naming the allowed ones', () => {
    expect(() => CaSharePermission.forTemplate(CertificateTemplate.CODE_SIGNING)).toThrow(
      /CaSharePermission.forTemplate: CodeSigningCertificate\/V1 is used across accounts \(through an AWS RAM share\), and ACM Private CA lets another account issue only with EndEntityCertificate\/V1, .*SubordinateCACertificate_PathLen0\/V1/);
    expect(() => CaSharePermission.forTemplate(CertificateTemplate.fromArn('arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen1/V1')))
      .toThrow(/SubordinateCACertificate_PathLen1\/V1 is used across accounts/);
  });

  test('forTemplate sends a template allowed across accounts without a managed permission to a customer managed one', () => {
    expect(() => CaSharePermission.forTemplate(CertificateTemplate.END_ENTITY_SERVER_AUTH)).toThrow(
      /EndEntityServerAuthCertificate\/V1 is allowed across accounts, but AWS RAM has no managed permission for it .*CaSharePermission.fromPermissionArn/);
  });

  test('a customer managed permission that allows such templates fails, every template named', () => {
    const stack = newStack();
    const permission = CaSharePermission.fromPermissionArn(CUSTOM, [
      CertificateTemplate.CODE_SIGNING,
      CertificateTemplate.END_ENTITY_CLIENT_AUTH,
      CertificateTemplate.OCSP_SIGNING,
    ]);
    let message = '';
    try {
      issuingCa(stack).shareWith([SharePrincipal.account('111122223333')], { permissions: [permission] });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^\[Pki\/Issuing\] permissions: CodeSigningCertificate\/V1 is used across accounts \(arn:aws:ram:eu-west-1:123456789012:permission\/ServerAuthIssuance lets 111122223333 issue with it\)/);
    expect(message).toContain('OCSPSigningCertificate/V1 is used across accounts');
    expect(message).not.toContain('EndEntityClientAuthCertificate/V1 is used');
  });
});

describe('RAM or addToResourcePolicy, never both', () => {
  const policyThenShare = (ca: PrivateCa) => {
    ca.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.AccountPrincipal('111122223333')], actions: ['acm-pca:GetCertificate'] }));
    ca.shareWith([SharePrincipal.organization(ORG)]);
  };
  const shareThenPolicy = (ca: PrivateCa) => {
    ca.shareWith([SharePrincipal.organization(ORG)]);
    ca.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.AccountPrincipal('111122223333')], actions: ['acm-pca:GetCertificate'] }));
  };
  const shareThenCrossAccountGrant = (ca: PrivateCa) => {
    ca.shareWith([SharePrincipal.organization(ORG)]);
    ca.grantIssue(iam.Role.fromRoleArn(Stack.of(ca), 'PartnerIssuer', 'arn:aws:iam::111122223333:role/Issuer'));
  };

  test.each([
    ['addToResourcePolicy, then shareWith', policyThenShare],
    ['shareWith, then addToResourcePolicy', shareThenPolicy],
    ['shareWith, then grantIssue to a role of another account', shareThenCrossAccountGrant],
  ])('%s fails synth', (_, build) => {
    const app = new App();
    const stack = newStack(app);
    build(issuingCa(stack));
    expect(() => app.synth()).toThrow(/shareWith: this CA is shared through AWS RAM, which writes the CA's resource policy itself, and it also has a policy of its own .*Use one or the other/);
  });

  test('grants inside the CA\'s own account stay fine beside a share', () => {
    const app = new App();
    const stack = newStack(app);
    const ca = issuingCa(stack);
    ca.shareWith([SharePrincipal.organization(ORG)]);
    ca.grantIssue(new iam.Role(stack, 'Issuer', { assumedBy: new iam.AccountRootPrincipal() }));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('cdk-nag', () => {
  /** Every AwsSolutions finding of the app, as `rule at path`. */
  function findings(share: boolean): string[] {
    const app = new App();
    const stack = newStack(app);
    const ca = issuingCa(stack);
    new acm.PrivateCertificate(stack, 'Acm', { domainName: 'internal.example.com', certificateAuthority: ca });
    if (share) {
      ca.shareWith([SharePrincipal.account('111122223333'), SharePrincipal.organizationalUnit(OU)], {
        permissions: [CaSharePermission.END_ENTITY_ISSUANCE, CaSharePermission.REVOKE_CERTIFICATE],
      });
    }
    const report = new AwsSolutionsChecks(app).validateScope(app);
    return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`)).sort();
  }

  test('AwsSolutions finds nothing new in a shared CA', () => {
    expect(findings(true)).toEqual(findings(false));
  });
});

describe('the consumer side (the README example)', () => {
  const caArn = 'arn:aws:acm-pca:eu-west-1:111111111111:certificate-authority/11223344-1234-1122-2233-112233445566';

  test('another account issues from the shared CA by its ARN: acm.PrivateCertificate and IssuedCertificate', () => {
    const app = new App();
    const pki = new Stack(app, 'Pki', { env: { account: '111111111111', region: 'eu-west-1' } });
    const root = new PrivateCa(pki, 'Root', { subject: { commonName: 'Example Root CA' } });
    const issuing = new PrivateCa(pki, 'Issuing', { parent: root, subject: { commonName: 'Example Issuing CA' } });
    issuing.shareWith([SharePrincipal.organizationalUnit(OU), SharePrincipal.account('222222222222')], {
      permissions: [CaSharePermission.END_ENTITY_ISSUANCE, CaSharePermission.REVOKE_CERTIFICATE],
    });

    const workload = new Stack(app, 'Workload', { env: { account: '222222222222', region: 'eu-west-1' } });
    new acm.PrivateCertificate(workload, 'Internal', {
      domainName: 'api.example.internal',
      certificateAuthority: acmpca.CertificateAuthority.fromCertificateAuthorityArn(workload, 'SharedCa', caArn),
    });
    new IssuedCertificate(workload, 'Service', {
      certificateAuthority: PrivateCa.fromCertificateAuthorityArn(workload, 'SharedIssuer', caArn),
      commonName: 'service.example.internal',
      dnsNames: ['service.example.internal'],
    });
    app.synth();

    Template.fromStack(pki).resourceCountIs('AWS::RAM::ResourceShare', 2);
    const t = Template.fromStack(workload);
    t.hasResourceProperties('AWS::CertificateManager::Certificate', { CertificateAuthorityArn: caArn });
    // The handler may issue at that CA with EndEntityCertificate/V1 only: what the default share allows.
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'acm-pca:IssueCertificate',
          Resource: caArn,
          Condition: { StringEquals: { 'acm-pca:TemplateArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:::template/EndEntityCertificate/V1']] } } },
        })]),
      },
    });
  });

  test('a template the share cannot allow fails at synth in the consumer account', () => {
    const workload = new Stack(new App(), 'Workload', { env: { account: '222222222222', region: 'eu-west-1' } });
    expect(() => new IssuedCertificate(workload, 'Signer', {
      certificateAuthority: PrivateCa.fromCertificateAuthorityArn(workload, 'SharedIssuer', caArn),
      commonName: 'signer',
      template: CertificateTemplate.CODE_SIGNING,
    })).toThrow(/template: CodeSigningCertificate\/V1 is used across accounts/);
  });
});
