/**
 * What a PrivateCa's handler may do, the resources it serves beside the lifecycle (the CA's
 * resource policy, the expiry notice times), and how a supplied certificate reaches the
 * activation without a grant. Internal: not exported from the package.
 */
import { ArnFormat, Aws, Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import {
  crossAccountTemplateProblem,
  PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE,
  PRIVATE_CA_POLICY_RESOURCE_TYPE,
  PrivateCaExpiryNoticesResourceProperties,
  PrivateCaPolicyResourceProperties,
  templateNameOf,
} from '../contract/private-ca';
import { ExpiryNotices } from '../expiry/notices';
import { CertificatePem } from '../material/certificate-material';
import { CertificateInputError } from '../private/errors';
import { grantStatement, ownedByStack } from '../private/grants';
import { HandlerResource, handlerProvider, StatefulRemovalPolicy } from '../private/handler-resource';
import type { HandlerProvider } from '../private/provider';

/** The stack's private-ca provider, with what its handler may do to the account's CAs. */
export function privateCaProvider(scope: Construct): HandlerProvider {
  const provider = handlerProvider(scope, {
    handlerName: 'private-ca',
    description: 'cdk-certificates: ACM Private CA deletion with a restoration window, and resource policies',
    timeout: Duration.minutes(10),
  });
  // Any CA this stack owns (its ownership tag names this stack's ID), not any CA of the account: a
  // replaced CA is deleted after the role's policy has moved on to the new one, so an exact ARN
  // would lock the handler out of the old CA.
  grantStatement(provider, new iam.PolicyStatement({
    conditions: ownedByStack(),
    actions: [
      'acm-pca:DescribeCertificateAuthority',
      'acm-pca:UpdateCertificateAuthority',
      'acm-pca:DeleteCertificateAuthority',
      'acm-pca:PutPolicy',
      'acm-pca:DeletePolicy',
    ],
    resources: [Stack.of(scope).formatArn({
      service: 'acm-pca',
      resource: 'certificate-authority',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    })],
  }));
  return provider;
}

/**
 * The CA's resource-based policy (PutPolicy), written from `document` when the template is
 * rendered; deleted with the CA unless retained.
 */
export function resourcePolicy(
  scope: Construct,
  certificateAuthorityArn: string,
  document: iam.PolicyDocument,
  removalPolicy: StatefulRemovalPolicy,
): HandlerResource<PrivateCaPolicyResourceProperties> {
  const provider = privateCaProvider(scope);
  const properties: PrivateCaPolicyResourceProperties = {
    CertificateAuthorityArn: certificateAuthorityArn,
    Policy: Lazy.string({ produce: () => Stack.of(scope).toJsonString(document.toJSON()) }),
    RemovalPolicy: removalPolicy.handler,
  };
  const resource = new HandlerResource(scope, 'Policy', {
    provider,
    resourceType: PRIVATE_CA_POLICY_RESOURCE_TYPE,
    properties,
    removalPolicy,
  });
  scope.node.addValidation({ validate: () => document.validateForResourcePolicy() });
  scope.node.addValidation({ validate: () => crossAccountTemplateProblems(scope, document) });
  return resource;
}

/** A rendered policy value as text, a placeholder standing for each token (e.g. the partition). */
function policyText(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    return join[1].map((part) => (typeof part === 'string' ? part : '\u0000')).join(join[0]);
  }
  return undefined;
}

function asList(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Whether an Action list covers acm-pca:IssueCertificate (wildcards included). */
function grantsIssue(actions: unknown): boolean {
  return asList(actions).some((action) => typeof action === 'string'
    && new RegExp(`^${action.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test('acm-pca:IssueCertificate'));
}

/** The accounts other than `own` a Principal names ('*' for anyone); literal accounts only when `own` is known. */
function otherAccounts(principal: unknown, own: string): string[] {
  if (principal === '*') {
    return ['any account'];
  }
  const accounts: string[] = [];
  for (const value of asList((principal as { AWS?: unknown } | undefined)?.AWS)) {
    const text = policyText(value);
    if (text === '*') {
      accounts.push('any account');
      continue;
    }
    const account = text === undefined ? undefined : (/^(\d{12})$/.exec(text) ?? /:iam::(\d{12}):/.exec(text))?.[1];
    if (account !== undefined && !Token.isUnresolved(own) && account !== own) {
      accounts.push(`account ${account}`);
    }
  }
  return accounts;
}

/** The template ARNs an acm-pca:TemplateArn condition allows (exact values; wildcards and negations skipped). */
function templateConditionValues(condition: unknown): string[] {
  const values: string[] = [];
  for (const [operator, keys] of Object.entries((condition ?? {}) as Record<string, Record<string, unknown>>)) {
    if (/Not/.test(operator)) {
      continue;
    }
    for (const [key, value] of Object.entries(keys ?? {})) {
      if (key.toLowerCase() !== 'acm-pca:templatearn') {
        continue;
      }
      for (const item of asList(value)) {
        const text = policyText(item);
        if (text !== undefined && !/[*?]/.test(text)) {
          values.push(text);
        }
      }
    }
  }
  return values;
}

/**
 * Statements that let another account issue with a template ACM Private CA does not allow across
 * accounts: every IssueCertificate call with such a template fails.
 */
function crossAccountTemplateProblems(scope: Construct, document: iam.PolicyDocument): string[] {
  const stack = Stack.of(scope);
  const rendered = stack.resolve(document.toJSON()) as { Statement?: Array<Record<string, unknown>> } | undefined;
  const problems: string[] = [];
  for (const statement of rendered?.Statement ?? []) {
    if (statement.Effect !== 'Allow' || !grantsIssue(statement.Action)) {
      continue;
    }
    const accounts = otherAccounts(statement.Principal, stack.account);
    if (accounts.length === 0) {
      continue;
    }
    for (const arn of templateConditionValues(statement.Condition)) {
      const template = templateNameOf(arn);
      const problem = template === undefined ? undefined
        : crossAccountTemplateProblem(template, `acm-pca:IssueCertificate is granted to ${accounts.join(', ')}`);
      if (problem) {
        problems.push(problem);
      }
    }
  }
  return problems.length === 0 ? [] : [`addToResourcePolicy: ${problems.join('; and ')}`];
}

/** The resource whose handler times the CA's expiry notices at deploy. */
export function expiryNoticesResource(
  scope: Construct,
  certificateAuthorityArn: string,
  certificate: string,
  notices: ExpiryNotices,
): HandlerResource<PrivateCaExpiryNoticesResourceProperties> {
  const provider = privateCaProvider(scope);
  return new HandlerResource<PrivateCaExpiryNoticesResourceProperties>(scope, 'ExpiryNoticeTimes', {
    provider,
    resourceType: PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE,
    properties: {
      CertificateAuthorityArn: certificateAuthorityArn,
      CaCertificate: certificate,
    },
    renderProperties: () => ({ NotifyDaysBefore: notices.handlerProperty() }),
  });
}

export function templateArn(template: string): string {
  return `arn:${Aws.PARTITION}:acm-pca:::template/${template}`;
}

/**
 * A grantee that takes no grant: CloudFormation resolves dynamic references with the deployer's
 * own credentials, so nothing in the stack needs read access.
 */
class TemplateResolvedPrincipal extends iam.PrincipalBase {
  public readonly policyFragment = new iam.PrincipalPolicyFragment({});
  public readonly principalAccount: string;

  constructor(account: string) {
    super();
    this.principalAccount = account;
  }

  public addToPrincipalPolicy(): iam.AddToPrincipalPolicyResult {
    return { statementAdded: true, policyDependable: new DependencyGroup() as IDependable };
  }

  public dedupeString(): string | undefined {
    return undefined;
  }
}

/**
 * A PEM as a template string for the activation: the text itself, or a CloudFormation dynamic
 * reference to the secret or SSM String parameter holding it.
 */
export function templatePem(scope: Construct, property: string, pem: CertificatePem): string {
  if (pem.pemText !== undefined) {
    return pem.pemText;
  }
  const source = pem._bind(scope, new TemplateResolvedPrincipal(Stack.of(scope).account));
  switch (source.kind) {
    case 'inline':
      return source.value;
    case 'secret':
      return `{{resolve:secretsmanager:${source.secretId}:SecretString:${source.jsonField ?? ''}::}}`;
    case 'ssm':
      if (source.withDecryption === 'true') {
        break;
      }
      return `{{resolve:ssm:${source.parameterName}}}`;
    default:
      break;
  }
  throw new CertificateInputError(property,
    `${pem.sourceDescription} cannot be passed to AWS::ACMPCA::CertificateAuthorityActivation; `
    + 'use CertificatePem.fromString, fromFile, fromSecret or fromSsmParameter (a String parameter)', scope);
}
