/**
 * Sharing a PrivateCa with other accounts, organizational units or the whole organization through
 * AWS Resource Access Manager (RAM), with the RAM managed permissions ACM Private CA documents.
 */
import { Aws, Names, Stack, Token } from 'aws-cdk-lib';
import * as ram from 'aws-cdk-lib/aws-ram';
import { Construct } from 'constructs';
import { CertificateTemplate } from './issued-certificate-options';
import type { PrivateCa } from './private-ca';
import { crossAccountTemplateProblem, templateNameOf } from '../contract/private-ca';
import { joinProblems, valueProblem } from '../contract/problems';
import { CertificateInputError } from '../private/errors';

/** What kind of principal a `SharePrincipal` is. */
export enum SharePrincipalType {
  /** One AWS account (inside or outside your organization). */
  ACCOUNT = 'ACCOUNT',
  /** An organizational unit of your organization in AWS Organizations, with its child OUs and accounts. */
  ORGANIZATIONAL_UNIT = 'ORGANIZATIONAL_UNIT',
  /** Your whole organization in AWS Organizations. */
  ORGANIZATION = 'ORGANIZATION',
}

const ACCOUNT_PATTERN = /^\d{12}$/;
/** Organizations' ARN formats (organization ID `o-` + 10 to 32, OU ID `ou-` + 4 to 32 + `-` + 8 to 32). */
const ORGANIZATION_ARN_PATTERN = /^arn:[a-z-]+:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/;
const OU_ARN_PATTERN = /^arn:[a-z-]+:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/;

/**
 * Who a `PrivateCa` is shared with through AWS RAM: an account, an organizational unit or the
 * whole organization. Checked at synth unless a token.
 */
export class SharePrincipal {
  /**
   * One AWS account, by its 12-digit ID, e.g. `111122223333`. An account outside your organization
   * receives an invitation it must accept (in the RAM console, or `aws ram
   * accept-resource-share-invitation`); one inside it, with sharing with AWS Organizations turned
   * on, gets access at once.
   */
  public static account(accountId: string): SharePrincipal {
    return new SharePrincipal(accountId, SharePrincipalType.ACCOUNT);
  }

  /**
   * An organizational unit, by its ARN:
   * `arn:aws:organizations::<management account>:ou/o-<organization id>/ou-<root id>-<ou id>`.
   * Needs sharing with AWS Organizations turned on in RAM (`aws ram enable-sharing-with-aws-organization`
   * in the management account).
   */
  public static organizationalUnit(organizationalUnitArn: string): SharePrincipal {
    return new SharePrincipal(organizationalUnitArn, SharePrincipalType.ORGANIZATIONAL_UNIT);
  }

  /**
   * Your whole organization, by its ARN:
   * `arn:aws:organizations::<management account>:organization/o-<organization id>`. Needs sharing
   * with AWS Organizations turned on in RAM.
   */
  public static organization(organizationArn: string): SharePrincipal {
    return new SharePrincipal(organizationArn, SharePrincipalType.ORGANIZATION);
  }

  /**
   * @param value the principal as RAM takes it: an account ID or an Organizations ARN
   * @param type what kind of principal it is
   */
  private constructor(public readonly value: string, public readonly type: SharePrincipalType) {}

  /** Whether the principal is inside your organization by its nature (an OU or the organization). */
  public get insideOrganization(): boolean {
    return this.type !== SharePrincipalType.ACCOUNT;
  }
}

/**
 * An AWS RAM permission of a `PrivateCa` share: what the principals may do with the CA. AWS RAM
 * associates one permission per resource type with a share, so each permission gets a share of its
 * own, all with the same principals.
 *
 * The constants are the AWS managed permissions RAM offers for `acm-pca:CertificateAuthority`
 * (AWS RAM User Guide, "Managed permissions" and "Viewing AWS RAM managed permissions"; AWS Private
 * CA User Guide, "Revoke a private certificate" and "Resource-based policies"). Each issuance
 * permission allows IssueCertificate with one template only (an `acm-pca:TemplateArn` condition),
 * beside DescribeCertificateAuthority, GetCertificate, GetCertificateAuthorityCertificate,
 * ListPermissions and ListTags.
 */
export class CaSharePermission {
  /**
   * `AWSRAMDefaultPermissionCertificateAuthority`: issue end-entity certificates with
   * `EndEntityCertificate/V1` (server and client authentication), what `acm.PrivateCertificate`
   * requests, and read the CA and the certificates issued.
   */
  public static readonly END_ENTITY_ISSUANCE = CaSharePermission.awsManaged(
    'AWSRAMDefaultPermissionCertificateAuthority', 'end-entity', ['EndEntityCertificate/V1']);

  /**
   * `AWSRAMSubordinateCACertificatePathLen0IssuanceCertificateAuthority`: issue subordinate CA
   * certificates with `SubordinateCACertificate_PathLen0/V1` (a CA in the other account that
   * issues end-entity certificates only).
   */
  public static readonly SUBORDINATE_CA_PATH_LEN_0_ISSUANCE = CaSharePermission.awsManaged(
    'AWSRAMSubordinateCACertificatePathLen0IssuanceCertificateAuthority', 'subordinate-ca', ['SubordinateCACertificate_PathLen0/V1']);

  /**
   * `AWSRAMBlankEndEntityCertificateAPIPassthroughIssuanceCertificateAuthority`: issue end-entity
   * certificates with `BlankEndEntityCertificate_APIPassthrough/V1` (extensions, key usage and
   * extended key usage given in the IssueCertificate call).
   */
  public static readonly BLANK_END_ENTITY_API_PASSTHROUGH_ISSUANCE = CaSharePermission.awsManaged(
    'AWSRAMBlankEndEntityCertificateAPIPassthroughIssuanceCertificateAuthority', 'blank-api-passthrough',
    ['BlankEndEntityCertificate_APIPassthrough/V1']);

  /**
   * `AWSRAMBlankEndEntityCertificateAPICSRPassthroughIssuanceCertificateAuthority`: issue end-entity
   * certificates with `BlankEndEntityCertificate_APICSRPassthrough/V1` (extensions from the call
   * and the CSR).
   */
  public static readonly BLANK_END_ENTITY_API_CSR_PASSTHROUGH_ISSUANCE = CaSharePermission.awsManaged(
    'AWSRAMBlankEndEntityCertificateAPICSRPassthroughIssuanceCertificateAuthority', 'blank-api-csr-passthrough',
    ['BlankEndEntityCertificate_APICSRPassthrough/V1']);

  /**
   * `AWSRAMRevokeCertificateCertificateAuthority`: revoke the certificates the principals issued
   * (RevokeCertificate). AWS documents it as a second share beside an issuance one: without it,
   * only the CA's owner can revoke what other accounts issued (e.g. an `IssuedCertificate` with
   * `removalPolicy: DESTROY` in another account revokes on replacement and removal).
   */
  public static readonly REVOKE_CERTIFICATE = CaSharePermission.awsManaged(
    'AWSRAMRevokeCertificateCertificateAuthority', 'revoke', []);

  /**
   * The AWS managed permission that allows issuing with `template`. Only the templates of the
   * issuance constants have one: a template ACM Private CA does not allow across accounts is
   * refused, and `EndEntityClientAuthCertificate/V1` or `EndEntityServerAuthCertificate/V1`
   * (allowed across accounts, without an AWS managed permission) need a customer managed
   * permission (`fromPermissionArn`).
   */
  public static forTemplate(template: CertificateTemplate): CaSharePermission {
    const name = templateNameOf(template.templateArn);
    const found = [
      CaSharePermission.END_ENTITY_ISSUANCE,
      CaSharePermission.SUBORDINATE_CA_PATH_LEN_0_ISSUANCE,
      CaSharePermission.BLANK_END_ENTITY_API_PASSTHROUGH_ISSUANCE,
      CaSharePermission.BLANK_END_ENTITY_API_CSR_PASSTHROUGH_ISSUANCE,
    ].find((permission) => name !== undefined && permission.templateNames.includes(name));
    if (found) {
      return found;
    }
    const managed = 'EndEntityCertificate/V1, SubordinateCACertificate_PathLen0/V1, BlankEndEntityCertificate_APIPassthrough/V1 '
      + 'and BlankEndEntityCertificate_APICSRPassthrough/V1';
    const rule = name === undefined
      ? `the template '${template.templateArn}' is not known at synth; AWS RAM has managed permissions for ${managed} only: `
        + 'pick one of the CaSharePermission constants'
      : crossAccountTemplateProblem(name, 'through an AWS RAM share')
        ?? `${name} is allowed across accounts, but AWS RAM has no managed permission for it (only for ${managed}); `
        + 'create a customer managed permission that allows acm-pca:IssueCertificate with this template and pass '
        + 'CaSharePermission.fromPermissionArn(arn, [template])';
    throw new CertificateInputError('CaSharePermission.forTemplate', rule);
  }

  /**
   * A customer managed permission of yours (`arn:<partition>:ram:<region>:<account>:permission/<name>`),
   * created for the `acm-pca:CertificateAuthority` resource type, e.g. one allowing
   * `EndEntityServerAuthCertificate/V1` or read-only access. List the templates it allows
   * IssueCertificate with: each is checked against what ACM Private CA allows across accounts.
   *
   * @param permissionArn the permission's ARN
   * @param issuanceTemplates the templates the permission allows IssueCertificate with (empty when it allows no issuance)
   */
  public static fromPermissionArn(permissionArn: string, issuanceTemplates: CertificateTemplate[]): CaSharePermission {
    if (!Token.isUnresolved(permissionArn) && !/^arn:[a-z-]+:ram:[a-z0-9-]*:(\d{12}|aws):permission\/[\w+=,.@-]{1,256}$/.test(permissionArn)) {
      throw new CertificateInputError('CaSharePermission.fromPermissionArn',
        `'${permissionArn}' is not an AWS RAM permission ARN (arn:<partition>:ram:<region>:<account>:permission/<name>); `
        + 'copy it from the RAM console\'s Managed permissions library or aws ram list-permissions --resource-type acm-pca:CertificateAuthority');
    }
    return new CaSharePermission(permissionArn, undefined, 'custom', issuanceTemplates.map((t) => t.templateArn));
  }

  private static awsManaged(name: string, label: string, templates: string[]): CaSharePermission {
    return new CaSharePermission(`arn:${Aws.PARTITION}:ram::aws:permission/${name}`, name, label,
      templates.map((t) => `arn:${Aws.PARTITION}:acm-pca:::template/${t}`));
  }

  /**
   * The RAM permission's ARN: an AWS managed one (`arn:<partition>:ram::aws:permission/<name>`, in
   * the stack's partition) or yours.
   */
  public readonly permissionArn: string;

  /**
   * The AWS managed permission's name, e.g. `AWSRAMDefaultPermissionCertificateAuthority`.
   *
   * @default - undefined for a customer managed permission
   */
  public readonly permissionName?: string;

  /** The ARNs of the templates the permission allows IssueCertificate with (empty when it allows no issuance). */
  public readonly issuanceTemplateArns: string[];

  /** A short name for the permission's share (`end-entity`, `revoke`, ...; `custom` for yours). */
  private readonly label: string;

  private constructor(permissionArn: string, permissionName: string | undefined, label: string, issuanceTemplateArns: string[]) {
    this.permissionArn = permissionArn;
    this.permissionName = permissionName;
    this.label = label;
    this.issuanceTemplateArns = issuanceTemplateArns;
  }

  /** The `<name>/V<n>` of the templates known at synth. */
  private get templateNames(): string[] {
    return this.issuanceTemplateArns.map(templateNameOf).filter((n): n is string => n !== undefined);
  }

  /** @internal the short name of the share of this permission. */
  public get _label(): string {
    return this.label;
  }
}

/**
 * Options of `PrivateCa.shareWith`.
 */
export interface PrivateCaShareOptions {
  /**
   * What the principals may do with the CA, each permission in a resource share of its own (RAM
   * takes one permission per resource type in a share). Add `CaSharePermission.REVOKE_CERTIFICATE`
   * for principals that revoke what they issue.
   *
   * @default [CaSharePermission.END_ENTITY_ISSUANCE]
   */
  readonly permissions?: CaSharePermission[];

  /**
   * Whether the shares may include principals outside your organization in AWS Organizations
   * (RAM's `AllowExternalPrincipals`). With false, an account outside the organization cannot be
   * associated: set it when every account you list is in your organization.
   *
   * @default - false when every principal is an organizational unit or the organization (inside it
   * by nature); true when any is an account, which may be outside it
   */
  readonly allowExternalPrincipals?: boolean;

  /**
   * The name of the resource shares, each followed by its permission's short name
   * (`-end-entity`, `-revoke`, ...).
   *
   * @default - a name made of the CA's construct path and a hash, unique in the app
   */
  readonly resourceShareName?: string;
}

/**
 * Properties of a `PrivateCaShare`.
 */
export interface PrivateCaShareProps extends PrivateCaShareOptions {
  /** The CA to share. */
  readonly certificateAuthority: PrivateCa;

  /** Who the CA is shared with. */
  readonly principals: SharePrincipal[];
}

/**
 * The AWS RAM resource shares of a `PrivateCa` (what `PrivateCa.shareWith` creates), one per
 * permission, all with the same principals. They are deleted with the stack: the principals then
 * lose access, whatever the CA's removal policy.
 *
 * @resource AWS::RAM::ResourceShare
 */
export class PrivateCaShare extends Construct {
  /** The resource shares, one per permission, in the order of `permissions`. */
  public readonly resourceShares: ram.CfnResourceShare[];

  /** The principals the CA is shared with, as RAM takes them. */
  public readonly principals: string[];

  constructor(scope: Construct, id: string, props: PrivateCaShareProps) {
    super(scope, id);
    const ca = props.certificateAuthority;
    const principals = props.principals;
    const permissions = props.permissions ?? [CaSharePermission.END_ENTITY_ISSUANCE];
    // One error for every problem, naming the CA, whose method the user called; nothing of a
    // refused share stays in the tree.
    const principalRule = principalsProblem(principals, Stack.of(ca).account);
    const permissionRule = permissionsProblem(permissions, principals);
    if (principalRule || permissionRule) {
      scope.node.tryRemoveChild(id);
      throw principalRule
        ? new CertificateInputError('principals', principalRule + (permissionRule ? `; and permissions: ${permissionRule}` : ''), ca)
        : new CertificateInputError('permissions', permissionRule!, ca);
    }
    if (!shared.has(ca)) {
      shared.add(ca);
      ca.node.addValidation({ validate: () => exclusiveWithResourcePolicy(ca) });
    }

    this.principals = principals.map((p) => p.value);
    const allowExternal = props.allowExternalPrincipals ?? !principals.every((p) => p.insideOrganization);
    const baseName = props.resourceShareName ?? Names.uniqueResourceName(this, { maxLength: 200, separator: '-' });
    const used = new Map<string, number>();
    this.resourceShares = permissions.map((permission) => {
      // The ID and name of a share follow its permission, so reordering permissions replaces nothing.
      const count = (used.get(permission._label) ?? 0) + 1;
      used.set(permission._label, count);
      const label = count === 1 ? permission._label : `${permission._label}-${count}`;
      const shareId = label.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
      return new ram.CfnResourceShare(this, shareId, {
        name: `${baseName}-${label}`,
        resourceArns: [ca.certificateAuthorityArn],
        principals: this.principals,
        permissionArns: [permission.permissionArn],
        allowExternalPrincipals: allowExternal,
      });
    });
  }

  /** The ARNs of the resource shares, in the order of `permissions`. */
  public get resourceShareArns(): string[] {
    return this.resourceShares.map((share) => share.attrArn);
  }
}

/** The CAs whose shares check, once each, that the CA has no resource policy of its own. */
const shared = new WeakSet<PrivateCa>();

/** The rules a principal's value breaks, with its fix; undefined when fine or a token. */
function principalProblem(principal: SharePrincipal, ownAccount: string): string | undefined {
  const value = principal.value;
  if (Token.isUnresolved(value)) {
    return undefined;
  }
  switch (principal.type) {
    case SharePrincipalType.ACCOUNT: {
      if (!ACCOUNT_PATTERN.test(value)) {
        const digits = value.replace(/[\s-]/g, '');
        const fix = ACCOUNT_PATTERN.test(digits) ? `write it as '${digits}'`
          : /^o-|^ou-|^arn:/.test(value) ? 'use SharePrincipal.organization or SharePrincipal.organizationalUnit for an organization or an OU'
            : 'give the 12-digit account ID';
        return valueProblem(value, ['is not an AWS account ID (12 digits)'], `SharePrincipal.account: ${fix}`);
      }
      if (!Token.isUnresolved(ownAccount) && value === ownAccount) {
        return valueProblem(value, ['is the account of the CA itself (this stack\'s)'],
          'its principals use the CA without a share (grantIssue); list other accounts only');
      }
      return undefined;
    }
    case SharePrincipalType.ORGANIZATIONAL_UNIT:
      if (!OU_ARN_PATTERN.test(value)) {
        const fix = /^ou-/.test(value) ? 'pass the OU\'s ARN, not its ID' : 'copy the OU\'s ARN from the AWS Organizations console';
        return valueProblem(value, ['is not an organizational unit ARN (arn:aws:organizations::<management account>:ou/o-<organization id>/ou-<root id>-<ou id>)'],
          `SharePrincipal.organizationalUnit: ${fix}`);
      }
      return undefined;
    case SharePrincipalType.ORGANIZATION:
      if (!ORGANIZATION_ARN_PATTERN.test(value)) {
        const fix = /^o-/.test(value) ? 'pass the organization\'s ARN, not its ID' : 'copy the organization\'s ARN from aws organizations describe-organization';
        return valueProblem(value, ['is not an organization ARN (arn:aws:organizations::<management account>:organization/o-<organization id>)'],
          `SharePrincipal.organization: ${fix}`);
      }
      return undefined;
    default:
      return undefined;
  }
}

/** Every problem of the principals, in one message; undefined when none. */
function principalsProblem(principals: SharePrincipal[], ownAccount: string): string | undefined {
  if (principals.length === 0) {
    return 'is empty; list at least one SharePrincipal (an account, an organizational unit or the organization)';
  }
  const problems: Array<string | undefined> = principals.map((p) => principalProblem(p, ownAccount));
  const seen = new Set<string>();
  for (const principal of principals) {
    if (!Token.isUnresolved(principal.value) && seen.has(principal.value)) {
      problems.push(`'${principal.value}' is listed twice; list each principal once`);
    }
    seen.add(principal.value);
  }
  return joinProblems(problems);
}

/** Every problem of the permissions, in one message; undefined when none. */
function permissionsProblem(permissions: CaSharePermission[], principals: SharePrincipal[]): string | undefined {
  if (permissions.length === 0) {
    return 'is empty; give at least one CaSharePermission, e.g. CaSharePermission.END_ENTITY_ISSUANCE';
  }
  const problems: Array<string | undefined> = [];
  const seen = new Set<string>();
  const who = principals.map((p) => (Token.isUnresolved(p.value) ? 'a principal known at deploy' : p.value)).join(', ');
  for (const permission of permissions) {
    if (seen.has(permission.permissionArn)) {
      problems.push(`${permission.permissionName ?? `'${permission.permissionArn}'`} is listed twice; list each permission once`);
    }
    seen.add(permission.permissionArn);
    for (const arn of permission.issuanceTemplateArns) {
      const template = templateNameOf(arn);
      if (template !== undefined) {
        problems.push(crossAccountTemplateProblem(template, `${permission.permissionName ?? permission.permissionArn} lets ${who} issue with it`));
      }
    }
  }
  return joinProblems(problems);
}

/**
 * Shares `ca` through AWS RAM (the implementation of `PrivateCa.shareWith`): a `PrivateCaShare`
 * under the CA, `Share`, then `Share2`, ... for further calls.
 */
export function sharePrivateCa(ca: PrivateCa, principals: SharePrincipal[], options: PrivateCaShareOptions): PrivateCaShare {
  let id = SHARE_ID;
  for (let n = 2; ca.node.tryFindChild(id) !== undefined; n++) {
    id = `${SHARE_ID}${n}`;
  }
  return new PrivateCaShare(ca, id, { ...options, certificateAuthority: ca, principals });
}

const SHARE_ID = 'Share';
/** The construct ID of the CA's resource policy (see `resourcePolicy` in private-ca-permissions.ts). */
const POLICY_ID = 'Policy';

/**
 * RAM writes the CA's resource policy itself (PutPolicy would overwrite it, and DeletePolicy, run
 * when the policy resource goes, removes the CA from every share): a CA is shared one way only.
 */
function exclusiveWithResourcePolicy(ca: PrivateCa): string[] {
  if (ca.node.tryFindChild(POLICY_ID) === undefined) {
    return [];
  }
  return ['shareWith: this CA is shared through AWS RAM, which writes the CA\'s resource policy itself, and it also has a policy of its own '
    + '(addToResourcePolicy, or grantIssue/grantRead to a principal of another account); PutPolicy would overwrite the policy RAM wrote, and '
    + 'DeletePolicy removes the CA from every share. Use one or the other: share through RAM only (add those principals to shareWith and '
    + 'grant their roles in their own accounts), or drop shareWith and keep addToResourcePolicy'];
}
