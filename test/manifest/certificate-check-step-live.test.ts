/**
 * CertificateCheckStep's `live` option: `cdk-certificates check --live` after a deploy, with the
 * live bundle copied into the cloud assembly beside the CLI and a read-only CodeBuild role.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { CertificateCheckStep } from '../../src/manifest/certificate-check-step';

const LIVE_CHECK_ACTIONS = CertificateCheckStep.LIVE_CHECK_ACTIONS;

const ENV = { account: '123456789012', region: 'eu-west-1' };
const CONNECTION_ARN = 'arn:aws:codestar-connections:eu-west-1:123456789012:connection/0a1b2c3d-0000-4000-8000-000000000000';
const REPO = path.join(__dirname, '..', '..');
const LIVE_BUNDLE = path.join(REPO, 'assets', 'manifest', 'cli', 'live', 'index.js');

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function newApp(): App {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-step-live-'));
  tempDirs.push(outdir);
  return new App({ outdir });
}

class AppStage extends Stage {
  constructor(scope: App | Stack, id: string) {
    super(scope, id, { env: ENV });
    new sns.Topic(new Stack(this, 'Certs', { stackName: 'Prod-Certs' }), 'Topic');
  }
}

function pipelineWithLiveStep(step: CertificateCheckStep): { app: App; template: Template } {
  const app = newApp();
  const pipelineStack = new Stack(app, 'PipelineStack', { env: ENV });
  const pipeline = new pipelines.CodePipeline(pipelineStack, 'Pipeline', {
    synth: new pipelines.ShellStep('Synth', {
      input: pipelines.CodePipelineSource.connection('example/app', 'main', { connectionArn: CONNECTION_ARN }),
      commands: ['npm ci', 'npx cdk synth'],
    }),
  });
  pipeline.addStage(new AppStage(app, 'Prod'), { post: [step] });
  const template = Template.fromStack(pipelineStack);
  return { app, template };
}

test('live: the step runs check --live on the named stack, with the live bundle beside the CLI', () => {
  const step = new CertificateCheckStep('LiveCheck', { live: { stackName: 'Prod-Certs', region: 'eu-west-1' }, minDays: 21 });
  expect(step.commands).toEqual([`node ${step.cliDirectory}/index.js check --live --stack Prod-Certs --region eu-west-1 --min-days 21`]);
  const { app } = pipelineWithLiveStep(step);
  const directory = path.join(app.outdir, step.cliDirectory!);
  expect(fs.readFileSync(path.join(directory, 'live', 'index.js')).equals(fs.readFileSync(LIVE_BUNDLE))).toBe(true);

  // The copied CLI hands --live to the copied live bundle, outside the project (no node_modules).
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'check-step-live-run-'));
  tempDirs.push(copy);
  fs.cpSync(directory, copy, { recursive: true });
  const help = spawnSync(process.execPath, [path.join(copy, 'index.js'), 'check', '--live', '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('Usage: cdk-certificates check --live');
});

test('live: the CodeBuild role gets exactly the read-only actions, ListStackResources on the stack only', () => {
  const { template } = pipelineWithLiveStep(new CertificateCheckStep('LiveCheck', { live: { stackName: 'Prod-Certs' } }));
  const statements = Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement as any[]);
  const live = statements.filter((s) => [s.Action].flat().some((a: string) => a === 'cloudformation:ListStackResources' || LIVE_CHECK_ACTIONS.includes(a)));
  expect(live).toHaveLength(2);
  expect(live[0]).toMatchObject({ Effect: 'Allow', Action: 'cloudformation:ListStackResources' });
  expect(JSON.stringify(live[0].Resource)).toContain(':stack/Prod-Certs/*');
  expect(live[1]).toMatchObject({ Effect: 'Allow', Action: [...LIVE_CHECK_ACTIONS], Resource: '*' });
  expect(LIVE_CHECK_ACTIONS.every((a) => /:(Get|Describe|List)/.test(a))).toBe(true);
});

test('live: bad options are refused at synth, each naming the property', () => {
  expect(() => new CertificateCheckStep('A', { live: { stackName: 'bad name; rm -rf /' } })).toThrow(/live\.stackName/);
  expect(() => new CertificateCheckStep('B', { live: { stackName: 'Ok', region: 'Europe' } })).toThrow(/live\.region/);
  expect(() => new CertificateCheckStep('C', { live: { stackName: 'Ok' }, requireAll: true })).toThrow(/requireAll/);
});
