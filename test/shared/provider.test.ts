/**
 * The Provider framework's waiter logs to a group under /aws/vendedlogs/states/, as aws-cdk-lib
 * names state machine log groups, so that creating the state machine never fails on a full
 * CloudWatch Logs resource policy (5,120 characters) in an account with many log deliveries.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LightsailCertificate } from '../../src';

test('the waiter state machine logs to a named /aws/vendedlogs/states/ group, unique per stack instance', () => {
  const stack = new Stack(new App(), 'Site', { env: { account: '123456789012', region: 'us-east-1' } });
  new LightsailCertificate(stack, 'Cert', { domainName: 'example.com', waitForValidation: true });
  const template = Template.fromStack(stack);
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
  const destination = machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn;
  const groupId = destination['Fn::GetAtt'][0];
  const group = template.toJSON().Resources[groupId];
  expect(group.Type).toBe('AWS::Logs::LogGroup');
  const [, parts] = group.Properties.LogGroupName['Fn::Join'];
  expect(parts[0]).toMatch(/^\/aws\/vendedlogs\/states\/Site-[A-Za-z0-9-]+-$/);
  // The stack's UUID: a group retained from a deleted stack never collides with a new stack's.
  expect(parts[1]).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] });
  expect(parts).toHaveLength(2);
  // Every log group of the stack's providers is retained a year, none unnamed under the waiter.
  const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as any[];
  expect(groups.every((g) => g.Properties.RetentionInDays === 365)).toBe(true);
});
