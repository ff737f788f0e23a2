import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../../examples/app';

/**
 * Replaces what changes with every handler build or aws-cdk-lib release (asset hashes and the
 * bootstrap version parameter), so that a snapshot diff shows only changes of the library's own.
 */
function masked(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template)
    .replace(/[0-9a-f]{64}(\.zip|\.json)?/g, '<asset-hash>$1')
    .replace(/"BootstrapVersion":\{[^}]*\}/g, '"BootstrapVersion":"<bootstrap>"'));
}

describe('example app templates (asset hashes masked)', () => {
  const stacks = buildExampleApp(new App());
  test.each(stacks.map(s => [s.stackName, s] as const))('%s', (_name, stack) => {
    expect(masked(Template.fromStack(stack).toJSON())).toMatchSnapshot();
  });
});
