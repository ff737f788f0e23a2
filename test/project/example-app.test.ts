import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildExampleApp } from '../../examples/app';

/**
 * Findings that remain on the example app, each with its reason. Anything else fails the test:
 * a new finding must be fixed or listed here with a reason.
 */
const FRAMEWORK = /\/CdkCertificates\w+Provider\/Provider\/(framework-\w+|waiter-state-machine)\//;
const HANDLER_POLICY = (kind: string) => new RegExp(`/CdkCertificates${kind}Provider/Role/DefaultPolicy/Resource$`);
const ACKNOWLEDGED: Array<{ rule: RegExp; path: RegExp; reason: string }> = [
  {
    rule: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:server-certificate\/(\*\/)?CertificatesExample-[\w-]+_\*\]$/,
    path: HANDLER_POLICY('ServerCertificate'),
    reason: 'IAM server certificate names are completed at deploy with a hash of the stack ID and the content; the role is scoped to the stack\'s delimited name prefix (<stack>_*), under any path, and its writes to certificates that carry the stack\'s ownership tag.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::(arn:<AWS::Partition>:dms:<AWS::Region>:<AWS::AccountId>:cert:\*|\*)\]$/,
    path: HANDLER_POLICY('DmsCertificate'),
    reason: 'DMS names certificate ARNs itself, so cert:* is scoped by the stack\'s ownership tag instead (aws:RequestTag on import, aws:ResourceTag on delete and tag changes); DescribeCertificates and DescribeEndpoints support no resource-level permissions.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Action::kms:ReEncrypt\*\]$/,
    path: HANDLER_POLICY('DmsCertificate'),
    reason: 'DMS needs ReEncryptFrom/ReEncryptTo on the certificate\'s KMS key, limited to that key and to calls through DMS (kms:ViaService).',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::(\*|arn:<AWS::Partition>:lightsail:(us-east-1|<AWS::Region>):<AWS::AccountId>:(Certificate|Distribution)\/\*)\]$/,
    path: HANDLER_POLICY('LightsailCertificate'),
    reason: 'Lightsail CreateCertificate and Get* support no resource-level permissions; certificate and distribution ARNs end in IDs unknown before deploy, so writes are scoped by the stack\'s ownership tag (aws:RequestTag, aws:ResourceTag).',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:acm-pca:<AWS::Region>:<AWS::AccountId>:certificate-authority\/\*\]$/,
    path: /\/CdkCertificates(PrivateCa|PrivateCaIssuedCertificate)Provider\/Role\/DefaultPolicy\/Resource$/,
    reason: 'A replaced CA is deleted, and its certificates revoked, after the role\'s policy has moved to the new CA, so the role covers every CA whose ownership tag names this stack (aws:ResourceTag) rather than one ARN.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:acm:<AWS::Region>:<AWS::AccountId>:certificate\/\*\]$/,
    path: HANDLER_POLICY('AcmCertificate'),
    reason: 'ACM names imported certificates with random ARNs, so certificate/* is scoped by the stack\'s ownership tag instead: imports only with it in the request (aws:RequestTag), re-imports, tag changes and deletes only of certificates that carry it (aws:ResourceTag); the reads (Describe, Get, ListTags) check ownership in the handler.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::\*\]$/,
    path: HANDLER_POLICY('AcmCertificate'),
    reason: 'acm:ListCertificates supports no resource-level permissions; the handler uses it to find its own earlier import on a retried create.',
  },
  {
    rule: /^AwsSolutions-S1$/,
    path: /\/(CrlBucket|AuditReportBucket)\/Resource$/,
    reason: 'Only ACM Private CA writes to the CRL and audit-report buckets the construct creates; users who want access logs pass their own bucket.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::<\w+AuditReportBucket\w+\.Arn>\/audit-report\/\*\]$/,
    path: /\/SchedulerRoleForTarget-\w+\/DefaultPolicy\/Resource$/,
    reason: 'ACM Private CA chooses the audit report object keys under audit-report/.',
  },
  {
    rule: /^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole\]$/,
    path: FRAMEWORK,
    reason: 'aws-cdk-lib gives the Provider framework functions this managed policy.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::<CdkCertificates\w+Provider\w+\.Arn>:\*\]$/,
    path: FRAMEWORK,
    reason: 'aws-cdk-lib lets the Provider framework invoke every version of its functions.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::\*\]$/,
    path: /\/Provider\/waiter-state-machine\/Role\/DefaultPolicy\/Resource$/,
    reason: 'CloudWatch Logs delivery for a state machine (logs:CreateLogDelivery and friends) supports no resource-level permissions; aws-cdk-lib grants it.',
  },
  {
    rule: /^AwsSolutions-SF2$/,
    path: FRAMEWORK,
    reason: 'aws-cdk-lib\'s Provider waiter state machine has no X-Ray option; its history is logged (SF1 is met).',
  },
];

function exampleStacks(): Stack[] {
  return buildExampleApp(new App());
}

describe('example app', () => {
  test('declares every construct of the library', () => {
    const types = new Set(exampleStacks().flatMap(stack =>
      Object.values<any>(stack.resolve((stack as any)._toCloudFormation()).Resources).map(r => r.Type)));
    for (const type of ['Custom::ServerCertificate', 'Custom::DmsCertificate', 'Custom::LightsailCertificate', 'Custom::LightsailCertificateValidation',
      'AWS::ACMPCA::CertificateAuthority', 'Custom::PrivateCa', 'Custom::PrivateCaIssuedCertificate', 'Custom::AlibabaKmsCertificate',
      'Custom::AcmImportedCertificate', 'Custom::PrivateCaTrustBundle', 'AWS::ElasticLoadBalancingV2::TrustStore', 'AWS::RAM::ResourceShare']) {
      expect(types).toContain(type);
    }
  });

  test('cdk-nag AwsSolutions finds nothing beyond the acknowledged findings', () => {
    const app = new App();
    buildExampleApp(app);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const unexpected: string[] = [];
    for (const violation of report.violations) {
      for (const resource of violation.violatingResources) {
        const known = ACKNOWLEDGED.some(a => a.rule.test(violation.ruleName) && a.path.test(resource.constructPath ?? ''));
        if (!known) {
          unexpected.push(`${violation.ruleName} at ${resource.constructPath}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
    // The acknowledgements are not dead weight: each still matches something.
    for (const a of ACKNOWLEDGED) {
      expect(report.violations.some(v => a.rule.test(v.ruleName))).toBe(true);
    }
  });

  test('templates use only resource types, properties and attributes the CloudFormation spec knows', () => {
    const db = loadAwsServiceSpecSync();
    const problems: string[] = [];
    for (const stack of exampleStacks()) {
      const template = stack.resolve((stack as any)._toCloudFormation());
      const resources: Record<string, any> = template.Resources;
      for (const [logicalId, resource] of Object.entries(resources)) {
        if (resource.Type.startsWith('Custom::')) continue;
        const spec = db.lookup('resource', 'cloudFormationType', 'equals', resource.Type);
        if (spec.length !== 1) {
          problems.push(`${stack.stackName}/${logicalId}: unknown type ${resource.Type}`);
          continue;
        }
        const definition = spec.only();
        const props = resource.Properties ?? {};
        for (const key of Object.keys(props)) {
          if (!(key in definition.properties)) {
            problems.push(`${stack.stackName}/${logicalId}: ${resource.Type} has no property ${key}`);
          }
        }
        for (const [key, property] of Object.entries<any>(definition.properties)) {
          if (property.required && !(key in props)) {
            problems.push(`${stack.stackName}/${logicalId}: ${resource.Type} misses required property ${key}`);
          }
        }
      }
      // Every Fn::GetAtt names an attribute the target type has.
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) {
          node.forEach(walk);
        } else if (node && typeof node === 'object') {
          for (const [key, value] of Object.entries(node)) {
            if (key === 'Fn::GetAtt' && Array.isArray(value)) {
              const [target, attribute] = value as [string, string];
              const type = resources[target]?.Type;
              if (type && !type.startsWith('Custom::') && type !== 'AWS::CloudFormation::CustomResource') {
                const definition = db.lookup('resource', 'cloudFormationType', 'equals', type).only();
                if (!(attribute in (definition.attributes ?? {}))) {
                  problems.push(`${stack.stackName}: ${type} has no attribute ${attribute}`);
                }
              }
            } else {
              walk(value);
            }
          }
        }
      };
      walk(template.Resources);
    }
    expect(problems).toEqual([]);
  });
});
