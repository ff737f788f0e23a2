/**
 * ScheduledCertificateCheck: the construct's template, defaults, validation and cdk-nag findings;
 * its function's code (src/manifest/cli/live-lambda.ts) in-process over stub services and a stub
 * publisher; and the shipped bundle (assets/manifest/cli/live-lambda/index.js) loaded outside the
 * project, as the Lambda runtime loads it, and run over the same stubs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CertificateCheckStep, ScheduledCertificateCheck } from '../../src';
import { LiveServices, ServiceCertificate, StackResource } from '../../src/manifest/cli/live-check';
import * as liveLambda from '../../src/manifest/cli/live-lambda';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function stackWith(props?: ConstructorParameters<typeof ScheduledCertificateCheck>[2], stackName = 'CertStack') {
  const app = new App();
  const stack = new Stack(app, stackName, { env: ENV });
  const check = new ScheduledCertificateCheck(stack, 'Check', props);
  return { app, stack, check, template: Template.fromStack(stack) };
}

/** Every action of the function role's policy, flattened. */
function roleActions(template: Template): string[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CheckRole') }] },
  });
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement)
    .flatMap((s: any) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
}

describe('ScheduledCertificateCheck template', () => {
  test('a Node.js 22 function outside any VPC, with the live bundle and its configuration', () => {
    const { template } = stackWith({ stacks: ['WebStack', 'PkiStack'], minDays: 45, notifyOnSuccess: true });
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      VpcConfig: Match.absent(),
      Environment: {
        Variables: {
          STACKS: 'WebStack,PkiStack',
          TOPIC_ARN: { Ref: Match.stringLikeRegexp('^CheckTopic') },
          MIN_DAYS: '45',
          NOTIFY_ON_SUCCESS: 'true',
        },
      },
    });
  });

  test('defaults: this stack, daily, 30 days, a new encrypted TLS-only topic, no heartbeat', () => {
    const { template, check } = stackWith();
    expect(check.stackNames).toEqual(['CertStack']);
    expect(check.minDays).toBe(30);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { STACKS: 'CertStack', MIN_DAYS: '30', NOTIFY_ON_SUCCESS: 'false' } },
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 day)',
      Target: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CheckFunction'), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0 },
      },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the schedule has its own role, allowed to invoke only the function', () => {
    const { template } = stackWith();
    const schedule = Object.values(template.findResources('AWS::Scheduler::Schedule'))[0] as any;
    const roleId = schedule.Properties.Target.RoleArn['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } })) as any[];
    const actions = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).flatMap((s: any) => [s.Action].flat());
    expect(new Set(actions)).toEqual(new Set(['lambda:InvokeFunction']));
  });

  test('the function role: the live check reads, ListStackResources on the stacks only, Publish on the topic and its key, its logs', () => {
    const { template } = stackWith({ stacks: ['WebStack', 'PkiStack'] });
    expect(roleActions(template)).toEqual([
      ...CertificateCheckStep.LIVE_CHECK_ACTIONS,
      'cloudformation:ListStackResources',
      'kms:Decrypt',
      'kms:GenerateDataKey*',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sns:Publish',
    ].sort());
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'cloudformation:ListStackResources',
            Effect: 'Allow',
            Resource: [
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:eu-west-1:123456789012:stack/WebStack/*']] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:eu-west-1:123456789012:stack/PkiStack/*']] },
            ],
          },
          { Action: CertificateCheckStep.LIVE_CHECK_ACTIONS, Effect: 'Allow', Resource: '*' },
          { Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: Match.stringLikeRegexp('^CheckTopic') } },
        ]),
      },
    });
    // Its own stack by its exact ID.
    const own = stackWith({ stacks: ['CertStack'] }).template;
    own.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'cloudformation:ListStackResources', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } }]) },
    });
    // No managed policy (and so no VPC access policy).
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
      ManagedPolicyArns: Match.absent(),
    });
  });

  test('a given schedule and topic: no topic or key of its own, Publish on the given topic', () => {
    const app = new App();
    const stack = new Stack(app, 'CertStack', { env: ENV });
    const topic = new sns.Topic(stack, 'Alerts');
    const check = new ScheduledCertificateCheck(stack, 'Check', {
      topic,
      schedule: scheduler.ScheduleExpression.cron({ minute: '0', hour: '6', weekDay: 'MON' }),
    });
    expect(check.topic).toBe(topic);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 6 ? * MON *)' });
    expect(roleActions(template)).not.toContain('kms:Decrypt');
    expect(roleActions(template)).toContain('sns:Publish');
  });

  test('a rate schedule of hours', () => {
    const { template } = stackWith({ schedule: scheduler.ScheduleExpression.rate(Duration.hours(6)) });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(6 hours)' });
  });
});

describe('ScheduledCertificateCheck validation', () => {
  test.each([
    [['arn:aws:cloudformation:eu-west-1:123456789012:stack/Web/abc'], /stacks: each must be a CloudFormation stack name.*got 'arn:aws/],
    [['1Web'], /stacks: each must be a CloudFormation stack name/],
    [['web_stack'], /got 'web_stack'/],
    [['W'.repeat(129)], /at most 128/],
    [[], /stacks: must name at least one stack/],
    [['Web', 'Web'], /stacks: names 'Web' twice/],
  ])('stacks %j', (stacks, error) => {
    expect(() => stackWith({ stacks })).toThrow(error);
  });

  test.each([-1, 1.5, 3651, Number.NaN])('minDays %p', (minDays) => {
    expect(() => stackWith({ minDays })).toThrow(/\[CertStack\/Check\] minDays: must be a whole number of days from 0 to 3650/);
  });

  test('minDays 0 and 3650 are fine', () => {
    expect(stackWith({ minDays: 0 }).check.minDays).toBe(0);
    expect(stackWith({ minDays: 3650 }).check.minDays).toBe(3650);
  });
});

describe('ScheduledCertificateCheck and cdk-nag', () => {
  test.each([
    ['defaults', undefined, ENV],
    ['other stacks', { stacks: ['WebStack', 'CertStack', 'PkiStack'] }, ENV],
    ['other stacks, environment-agnostic', { stacks: ['WebStack'] }, undefined],
    ['a given topic', { topic: 'given' as const }, ENV],
  ])('AwsSolutions finds nothing unacknowledged on a stack with the construct: %s', (_name, props, env) => {
    const app = new App();
    const stack = new Stack(app, 'CertStack', { env });
    const { topic, ...rest } = props ?? {};
    new ScheduledCertificateCheck(stack, 'Check', { ...rest, topic: topic ? new sns.Topic(stack, 'Alerts', { enforceSSL: true, masterKey: undefined }) : undefined });
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const found = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))
      // The user's own topic is the user's to encrypt.
      .filter((f) => !f.endsWith('at CertStack/Alerts/Resource'));
    expect(found).toEqual([]);
  });

  test('the acknowledgements carry their reasons into the template for cdk-nag 2 (cdk_nag metadata)', () => {
    const { template } = stackWith({ stacks: ['WebStack'] });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const suppressed = policies.flatMap((p) => p.Metadata?.cdk_nag?.rules_to_suppress ?? []);
    expect(suppressed).toEqual(expect.arrayContaining([
      expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'], reason: expect.stringContaining('LIVE_CHECK_ACTIONS') }),
      expect.objectContaining({
        id: 'AwsSolutions-IAM5',
        applies_to: ['Resource::arn:<AWS::Partition>:cloudformation:eu-west-1:123456789012:stack/WebStack/*'],
        reason: expect.stringContaining('stack ID'),
      }),
    ]));
  });
});

// --- The function's code --------------------------------------------------------------------------

const NOW = new Date('2026-06-01T00:00:00Z');
const days = (n: number) => new Date(NOW.getTime() + n * 86_400_000);
const ARN = (id: string) => `arn:aws:acm:eu-west-1:123456789012:certificate/${id}`;

/** Stacks of ACM certificates known by dates and status, answered from tables. */
function stubServices(stacks: Record<string, StackResource[]>, certificates: Record<string, ServiceCertificate>): LiveServices {
  // Keyed by the last part of the ARN.
  const get = async (arn: string) => certificates[arn.split('/').pop()!];
  return {
    stackResources: async (name) => {
      const resources = stacks[name];
      if (!resources) throw Object.assign(new Error(`Stack with id ${name} does not exist`), { name: 'ValidationError' });
      return resources;
    },
    iamServerCertificate: get,
    dmsCertificate: get,
    lightsailCertificate: get,
    acmCertificate: get,
    privateCaCertificate: get,
    privateCaIssuedCertificate: async (_ca, arn) => get(arn),
  };
}

const acmResource = (logicalId: string, id: string): StackResource =>
  ({ logicalId, physicalId: ARN(id), type: 'Custom::AcmImportedCertificate', status: 'CREATE_COMPLETE' });
const acmCertificate = (notAfter: Date, status = 'ISSUED'): ServiceCertificate =>
  ({ notBefore: days(-300), notAfter, subject: 'CN=www.example.com', status, healthyStatuses: ['ISSUED'], usedBy: [] });

const SERVICES = stubServices(
  {
    WebStack: [acmResource('Web', 'web'), acmResource('Api', 'api'), { logicalId: 'Bucket', physicalId: 'b', type: 'AWS::S3::Bucket' }],
    PkiStack: [acmResource('Old', 'old')],
  },
  { web: acmCertificate(days(10)), api: acmCertificate(days(200)), old: acmCertificate(days(-2), 'EXPIRED') },
);

/** A publisher that keeps what it is given. */
function recorder() {
  const published: liveLambda.ScheduledCheckMessage[] = [];
  return { published, publisher: { publish: async (m: liveLambda.ScheduledCheckMessage) => { published.push(m); } } };
}

const CONFIG: liveLambda.ScheduledCheckConfig = {
  stacks: ['WebStack', 'PkiStack'],
  topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
  minDays: 30,
  notifyOnSuccess: false,
};

/** The handler code, from the sources or from the shipped bundle. */
function handlerSuite(name: string, code: () => typeof liveLambda) {
  describe(name, () => {
    test('problems: one message, its subject counting them, its body the text report of each stack', async () => {
      const { published, publisher } = recorder();
      const result = await code().runScheduledCheck(CONFIG, { services: SERVICES, publisher, now: () => NOW });
      expect(result.problems).toBe(2);
      expect(result.certificates).toBe(3);
      expect(result.stacks).toEqual([
        { stack: 'WebStack', offenders: 1, certificates: 2 },
        { stack: 'PkiStack', offenders: 1, certificates: 1 },
      ]);
      expect(published).toHaveLength(1);
      const [message] = published;
      expect(message.topicArn).toBe(CONFIG.topicArn);
      expect(message.subject).toBe('cdk-certificates: 2 certificate problem(s) in 2 stacks');
      expect(result.published).toBe(message.subject);
      expect(message.message).toContain('minimum 30 day(s)');
      expect(message.message).toContain('FAILED: 1 of 2 deployed certificate(s) in stack WebStack');
      expect(message.message).toMatch(/expiring +10 .* Web /);
      expect(message.message).toContain('FAILED: 1 of 1 deployed certificate(s) in stack PkiStack');
      expect(message.message).toMatch(/expired .* Old /);
    });

    test('all healthy: nothing published, unless notifyOnSuccess', async () => {
      const quiet = recorder();
      const config = { ...CONFIG, stacks: ['WebStack'], minDays: 5 };
      const result = await code().runScheduledCheck(config, { services: SERVICES, publisher: quiet.publisher, now: () => NOW });
      expect(result).toEqual({ problems: 0, certificates: 2, stacks: [{ stack: 'WebStack', offenders: 0, certificates: 2 }] });
      expect(quiet.published).toEqual([]);

      const loud = recorder();
      await code().runScheduledCheck({ ...config, notifyOnSuccess: true }, { services: SERVICES, publisher: loud.publisher, now: () => NOW });
      expect(loud.published).toHaveLength(1);
      expect(loud.published[0].subject).toBe('cdk-certificates: no certificate problems in stack WebStack');
      expect(loud.published[0].message).toContain('OK: 2 deployed certificate(s) in stack WebStack');
    });

    test('a stack that cannot be checked is a problem of its own, and the other stacks are still checked', async () => {
      const { published, publisher } = recorder();
      const result = await code().runScheduledCheck({ ...CONFIG, stacks: ['Gone', 'PkiStack'] }, { services: SERVICES, publisher, now: () => NOW });
      expect(result.problems).toBe(2);
      expect(result.stacks[0]).toEqual({ stack: 'Gone', error: 'ValidationError: Stack with id Gone does not exist' });
      expect(published[0].message).toContain('FAILED: stack Gone could not be checked: ValidationError: Stack with id Gone does not exist');
      expect(published[0].message).toContain('stack PkiStack');
    });

    test('the subject stays within SNS\'s 100 characters and one line', async () => {
      const { published, publisher } = recorder();
      const long = 'S'.repeat(120);
      const services = stubServices({ [long]: [acmResource('Web', 'web')] }, { web: acmCertificate(days(1)) });
      await code().runScheduledCheck({ ...CONFIG, stacks: [long] }, { services, publisher, now: () => NOW });
      expect(published[0].subject.length).toBeLessThanOrEqual(100);
      expect(published[0].subject).toMatch(/^cdk-certificates: 1 certificate problem\(s\) in stack S+\.\.\.$/);
    });

    test('a publishing failure fails the run', async () => {
      const publisher = { publish: async () => { throw new Error('AuthorizationError: not allowed'); } };
      await expect(code().runScheduledCheck(CONFIG, { services: SERVICES, publisher, now: () => NOW })).rejects.toThrow(/AuthorizationError/);
    });

    test('configuration from the environment the construct writes', () => {
      expect(code().configFromEnv({ STACKS: 'WebStack,PkiStack', TOPIC_ARN: CONFIG.topicArn, MIN_DAYS: '45', NOTIFY_ON_SUCCESS: 'true' }))
        .toEqual({ stacks: ['WebStack', 'PkiStack'], topicArn: CONFIG.topicArn, minDays: 45, notifyOnSuccess: true });
      expect(code().configFromEnv({ STACKS: 'WebStack', TOPIC_ARN: CONFIG.topicArn }))
        .toEqual({ stacks: ['WebStack'], topicArn: CONFIG.topicArn, minDays: 30, notifyOnSuccess: false });
      expect(() => code().configFromEnv({ STACKS: '', TOPIC_ARN: CONFIG.topicArn })).toThrow(/STACKS is empty/);
      expect(() => code().configFromEnv({ STACKS: 'Web' })).toThrow(/TOPIC_ARN is not set/);
      expect(() => code().configFromEnv({ STACKS: 'Web', TOPIC_ARN: CONFIG.topicArn, MIN_DAYS: 'x' })).toThrow(/MIN_DAYS/);
    });

    test('exports the Lambda handler', () => {
      expect(typeof code().handler).toBe('function');
    });
  });
}

handlerSuite('the function code (sources)', () => liveLambda);

const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'manifest', 'cli', 'live-lambda', 'index.js');
let bundled: typeof liveLambda | undefined;

/** The shipped bundle, copied alone outside the project as the Lambda runtime runs it. */
function loadShippedBundle(): typeof liveLambda {
  if (!bundled) {
    if (!fs.existsSync(BUNDLE)) throw new Error(`No bundle at ${BUNDLE}: run "npx projen bundle" (npm test does it first).`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-certificates-live-lambda-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.copyFileSync(BUNDLE, path.join(dir, 'index.js'));
    bundled = jest.requireActual(path.join(dir, 'index.js')) as typeof liveLambda;
  }
  return bundled;
}

handlerSuite('the shipped bundle', loadShippedBundle);

describe('the shipped bundle', () => {
  test('is small: the AWS SDK comes from the Lambda runtime', () => {
    const code = fs.readFileSync(BUNDLE, 'utf8');
    expect(code.length).toBeLessThan(100_000);
    const required = new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
    for (const name of required) {
      expect(name).toMatch(/^(node:[a-z_]+|@aws-sdk\/client-[a-z-]+)$/);
    }
    expect(required).toContain('@aws-sdk/client-cloudformation');
  });
});
