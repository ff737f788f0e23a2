/**
 * What a PrivateCa's handler may do, the resources it serves beside the lifecycle (the CA's
 * resource policy, the expiry notice times), and how a supplied certificate reaches the
 * activation without a grant. Internal: not exported from the package.
 */
import { ArnFormat, Aws, Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import {
  PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE,
  PRIVATE_CA_POLICY_RESOURCE_TYPE,
  PrivateCaExpiryNoticesResourceProperties,
  PrivateCaPolicyResourceProperties,
} from '../contract/private-ca';
import { ExpiryNotices } from '../expiry/notices';
import { CertificatePem } from '../material/certificate-material';
import { CertificateInputError } from '../private/errors';
import { grantStatement } from '../private/grants';
import { HandlerResource, handlerProvider, StatefulRemovalPolicy } from '../private/handler-resource';
import type { HandlerProvider } from '../private/provider';

/** The stack's private-ca provider, with what its handler may do to the account's CAs. */
export function privateCaProvider(scope: Construct): HandlerProvider {
  const provider = handlerProvider(scope, {
    handlerName: 'private-ca',
    description: 'cdk-certificates: ACM Private CA deletion with a restoration window, and resource policies',
    timeout: Duration.minutes(10),
  });
  // Any CA of the stack's account and Region: a replaced CA is deleted after the role's policy
  // has moved on to the new one, so an exact ARN would lock the handler out of the old CA.
  grantStatement(provider, new iam.PolicyStatement({
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
  return resource;
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
