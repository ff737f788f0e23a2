import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildExampleApp } from '../examples/app';

/**
 * Findings that remain on the example app, each with its reason. Anything else fails the test:
 * a new finding must be fixed or listed here with a reason.
 */
const ACKNOWLEDGED: Array<{ rule: RegExp; path: RegExp; reason: string }> = [
  {
    rule: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:server-certificate\/(\*\/)?CertificatesExample-[\w-]+-\*\]$/,
    path: /\/CdkCertificatesServerCertificateProvider\/Role\/DefaultPolicy\/Resource$/,
    reason: 'IAM server certificate names are completed at deploy with a content hash; the role is scoped to the stack\'s name prefix, under any path.',
  },
  {
    rule: /^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole\]$/,
    path: /\/CdkCertificates\w+Provider\/Provider\/framework-onEvent\/ServiceRole\/Resource$/,
    reason: 'aws-cdk-lib gives the Provider framework function this managed policy.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::<CdkCertificates\w+Provider(OnEvent|IsComplete)\w+\.Arn>:\*\]$/,
    path: /\/CdkCertificates\w+Provider\/Provider\/framework-onEvent\/ServiceRole\/DefaultPolicy\/Resource$/,
    reason: 'aws-cdk-lib lets the Provider framework function invoke every version of the handler function.',
  },
];

function exampleStacks(): Stack[] {
  return buildExampleApp(new App());
}

describe('example app', () => {
  test('declares every construct of the library', () => {
    const types = new Set(exampleStacks().flatMap(stack =>
      Object.values<any>(stack.resolve((stack as any)._toCloudFormation()).Resources).map(r => r.Type)));
    expect(types).toContain('Custom::ServerCertificate');
  });

  test('cdk-nag AwsSolutions finds nothing beyond the acknowledged findings', () => {
    const app = new App();
    buildExampleApp(app);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const unexpected: string[] = [];
    for (const violation of report.violations) {
      for (const resource of violation.violatingResources) {
        const known = ACKNOWLEDGED.some(a => a.rule.test(violation.ruleName) && a.path.test(resource.constructPath));
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
