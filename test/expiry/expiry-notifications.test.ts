import { X509Certificate } from 'node:crypto';
import { App, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { AwsSolutionsChecks } from 'cdk-nag';
import { atExpression as handlerAtExpression } from '../../lambda/shared/expiry';
import {
  CertificatePem,
  DmsCertificate,
  PrivateCa,
  PrivateKey,
  ServerCertificate,
} from '../../src';
import { ExpiryNotificationOptions } from '../../src/expiry/expiry-notifications';
import { atExpression, EXPIRY_NOTICE_PAST_DUE_WARNING } from '../../src/expiry/notices';
import { makeLeaf, makeTestPki, TestCertificate, TestPki } from '../support/fixtures/pki';

const DAY_MS = 24 * 60 * 60 * 1000;

let pki: TestPki;
let longLived: TestCertificate;
let nextYear: TestCertificate;

beforeAll(async () => {
  pki = await makeTestPki();
  longLived = await makeLeaf(pki.intermediate, { commonName: 'long.example.com', notAfter: new Date(Date.now() + 300 * DAY_MS) });
  nextYear = await makeLeaf(pki.intermediate, { commonName: 'next.example.com', notAfter: new Date(Date.now() + 200 * DAY_MS) });
});

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function keySecret(stack: Stack): secretsmanager.ISecret {
  const existing = stack.node.tryFindChild('Key') as secretsmanager.ISecret | undefined;
  return existing ?? secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-key-AbCdEf');
}

function serverCertificate(stack: Stack, id: string, body: CertificatePem): ServerCertificate {
  return new ServerCertificate(stack, id, {
    certificateBody: body,
    certificateChain: CertificatePem.fromString(pki.chainPem),
    privateKey: PrivateKey.fromSecret(keySecret(stack)),
  });
}

function notAfterOf(pem: string): Date {
  return new Date(new X509Certificate(pem).validTo);
}

function schedules(template: Template): Record<string, any> {
  return template.findResources('AWS::Scheduler::Schedule');
}

/** Logical ID of the one resource of `type` whose ID begins with `prefix`. */
function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter(id => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** Fails on a Ref/GetAtt/DependsOn cycle between the template's resources. */
function expectNoCycle(template: Template): void {
  const resources: Record<string, any> = template.toJSON().Resources;
  const edges = new Map<string, Set<string>>();
  const collect = (node: unknown, into: Set<string>): void => {
    if (Array.isArray(node)) {
      node.forEach(n => collect(n, into));
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'Ref' && typeof v === 'string' && v in resources) into.add(v);
        else if (k === 'Fn::GetAtt' && Array.isArray(v) && v[0] in resources) into.add(v[0]);
        else collect(v, into);
      }
    }
  };
  for (const [id, r] of Object.entries(resources)) {
    const deps = new Set<string>([...(r.DependsOn ?? [])].filter((d: string) => d in resources));
    collect(r.Properties ?? {}, deps);
    edges.set(id, deps);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new Error(`dependency cycle: ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const d of edges.get(id) ?? []) visit(d, [...path, id]);
    state.set(id, 'done');
  };
  for (const id of edges.keys()) visit(id, []);
}

describe('notices timed at synth (notAfter known)', () => {
  test('one one-time schedule per day count, UTC, no flexible window, publishing to the topic', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Ops');
    const cert = serverCertificate(stack, 'Web', CertificatePem.fromString(longLived.certificatePem));
    cert.notifyBeforeExpiry({ topic, daysBefore: [30, 7] });
    const template = Template.fromStack(stack);

    const notAfter = notAfterOf(longLived.certificatePem);
    for (const days of [30, 7]) {
      const expression = atExpression(new Date(notAfter.getTime() - days * DAY_MS));
      // The construct and the handler write the same expression for the same instant.
      expect(expression).toBe(handlerAtExpression(new Date(notAfter.getTime() - days * DAY_MS)));
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { Ref: logicalId(template, 'AWS::SNS::Topic', 'Ops') },
          RoleArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'CdkCertificatesExpiryNoticeRole'), 'Arn'] },
          Input: Match.anyValue(),
        },
      });
    }
    expect(Object.keys(schedules(template))).toHaveLength(2);
    // CloudFormation has no ActionAfterCompletion: a completed schedule stays and can be updated.
    for (const schedule of Object.values(schedules(template))) {
      expect(schedule.Properties.ActionAfterCompletion).toBeUndefined();
    }
    // Nothing for the handler to time: its properties are unchanged.
    const resource = Object.values(template.findResources('Custom::ServerCertificate'))[0] as any;
    expect(resource.Properties.NotifyDaysBefore).toBeUndefined();
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(EXPIRY_NOTICE_PAST_DUE_WARNING))).toEqual([]);
  });

  test('the message names the certificate (path, ARN), its notAfter and the days left', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Ops');
    const cert = serverCertificate(stack, 'Web', CertificatePem.fromString(longLived.certificatePem));
    cert.notifyBeforeExpiry({ topic, daysBefore: [30] });
    const schedule = Object.values(schedules(Template.fromStack(stack)))[0] as any;
    const input = JSON.stringify(schedule.Properties.Target.Input);
    expect(input).toContain('30 days left: the IAM server certificate Stack/Web expires at ' + notAfterOf(longLived.certificatePem).toISOString());
    expect(input).toContain('Certificate: ');
    expect(input).toContain(logicalId(Template.fromStack(stack), 'Custom::ServerCertificate', 'Web'));
    expect(input).toContain('<aws.scheduler.scheduled-time>');
    expect(input).toContain('a notice already due at deployment is sent 5 minutes after the deployment, with fewer days left');
  });

  test('a new certificate changes the expressions of the same schedules (an update in place)', () => {
    const render = (pem: string) => {
      const stack = newStack();
      serverCertificate(stack, 'Web', CertificatePem.fromString(pem)).notifyBeforeExpiry({ topic: new sns.Topic(stack, 'Ops'), daysBefore: [30] });
      return Object.fromEntries(Object.entries(schedules(Template.fromStack(stack))).map(([id, r]) => [id, r.Properties.ScheduleExpression]));
    };
    const before = render(longLived.certificatePem);
    const after = render(nextYear.certificatePem);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    const id = Object.keys(before)[0];
    expect(after[id]).not.toBe(before[id]);
    expect(after[id]).toBe(atExpression(new Date(notAfterOf(nextYear.certificatePem).getTime() - 30 * DAY_MS)));
  });

  test('a notice already due is timed at deploy (5 minutes after it) with a synth warning; one due within 7 days is timed at deploy too', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Ops');
    // notAfter in 10 days: the 30-day notice is past, the 7-day one due in 3 days.
    const cert = serverCertificate(stack, 'Web', CertificatePem.fromString(pki.expiringLeaf.certificatePem));
    cert.notifyBeforeExpiry({ topic, daysBefore: [30, 7] });
    const template = Template.fromStack(stack);
    const resourceId = logicalId(template, 'Custom::ServerCertificate', 'Web');
    template.hasResourceProperties('Custom::ServerCertificate', { NotifyDaysBefore: ['7', '30'] });
    for (const days of [30, 7]) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: { 'Fn::GetAtt': [resourceId, `NotifyAt${days}`] } });
    }
    const warnings = Annotations.fromStack(stack).findWarning('/Stack/Web', Match.stringLikeRegexp('expiry notice'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toMatch(/the 30-day expiry notice was due at .* it is sent 5 minutes after deployment instead/);
    expect(JSON.stringify(warnings[0].entry.data)).toContain(EXPIRY_NOTICE_PAST_DUE_WARNING);
  });

  test('an external parent CA with its certificate known at synth: literal times, no extra resource', () => {
    const stack = newStack();
    const ca = new PrivateCa(stack, 'Ext', {
      externalParent: true,
      subject: { commonName: 'Test Intermediate CA' },
      certificate: CertificatePem.fromString(pki.intermediate.certificatePem),
      certificateChain: CertificatePem.fromString(pki.root.certificatePem),
    });
    ca.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'Ops'), daysBefore: [60] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: atExpression(new Date(notAfterOf(pki.intermediate.certificatePem).getTime() - 60 * DAY_MS)),
    });
    template.resourceCountIs('Custom::PrivateCaExpiryNotices', 0);
  });

  test('a DMS bundle is timed from its first certificate to expire', () => {
    const stack = newStack();
    const trust = new DmsCertificate(stack, 'Trust', { certificatePem: CertificatePem.fromString(`${pki.root.certificatePem}${nextYear.certificatePem}`) });
    trust.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'Ops'), daysBefore: [45] });
    Template.fromStack(stack).hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: atExpression(new Date(notAfterOf(nextYear.certificatePem).getTime() - 45 * DAY_MS)),
    });
  });
});

describe('notices timed at deploy (notAfter known only then)', () => {
  test('ServerCertificate from a secret: the handler gets NotifyDaysBefore and the schedules read NotifyAt<days>', () => {
    const stack = newStack();
    const bundle = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Bundle', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bundle-AbCdEf');
    const cert = serverCertificate(stack, 'Web', CertificatePem.fromSecret(bundle, 'certificate'));
    cert.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'Ops'), daysBefore: [30, 90, 7] });
    const template = Template.fromStack(stack);
    const resourceId = logicalId(template, 'Custom::ServerCertificate', 'Web');
    template.hasResourceProperties('Custom::ServerCertificate', { NotifyDaysBefore: ['7', '30', '90'] });
    for (const days of [7, 30, 90]) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: { 'Fn::GetAtt': [resourceId, `NotifyAt${days}`] },
        ScheduleExpressionTimezone: 'UTC',
      });
    }
    const input = JSON.stringify((Object.values(schedules(template))[0] as any).Properties.Target.Input);
    expect(input).toContain(JSON.stringify({ 'Fn::GetAtt': [resourceId, 'NotifyNotAfter'] }));
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('expiry notice'))).toEqual([]);
  });

  test('DmsCertificate from an SSM parameter', () => {
    const stack = newStack();
    const parameter = ssm.StringParameter.fromStringParameterName(stack, 'Ca', '/pki/db-ca');
    const trust = new DmsCertificate(stack, 'Trust', { certificatePem: CertificatePem.fromSsmParameter(parameter) });
    trust.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'Ops'), daysBefore: [30] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::DmsCertificate', { NotifyDaysBefore: ['30'] });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: { 'Fn::GetAtt': [logicalId(template, 'Custom::DmsCertificate', 'Trust'), 'NotifyAt30'] },
    });
  });

  test('IssuedCertificate: timed by the issuing handler', () => {
    const stack = newStack();
    const root = new PrivateCa(stack, 'Root', { subject: { commonName: 'Root' } });
    const web = root.issueCertificate('Web', { commonName: 'www.example.com', dnsNames: ['www.example.com'] });
    web.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'Ops'), daysBefore: [14] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::PrivateCaIssuedCertificate', { NotifyDaysBefore: ['14'] });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: { 'Fn::GetAtt': [logicalId(template, 'Custom::PrivateCaIssuedCertificate', 'RootWeb'), 'NotifyAt14'] },
    });
  });

  test('PrivateCa (root, subordinate): a notices resource reads the CA certificate, without a dependency cycle', () => {
    const stack = newStack();
    const root = new PrivateCa(stack, 'Root', { subject: { commonName: 'Root' } });
    const issuing = new PrivateCa(stack, 'Issuing', { parent: root, subject: { commonName: 'Issuing' } });
    const topic = new sns.Topic(stack, 'Ops');
    root.notifyBeforeExpiry({ topic, daysBefore: [365, 90] });
    issuing.notifyBeforeExpiry({ topic, daysBefore: [90] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::PrivateCaExpiryNotices', 2);
    const rootNotices = logicalId(template, 'Custom::PrivateCaExpiryNotices', 'RootExpiryNoticeTimes');
    template.hasResource('Custom::PrivateCaExpiryNotices', {
      Properties: {
        CaCertificate: { 'Fn::GetAtt': [logicalId(template, 'AWS::ACMPCA::Certificate', 'RootCaCertificate'), 'Certificate'] },
        NotifyDaysBefore: ['90', '365'],
        CertificateAuthorityArn: { Ref: logicalId(template, 'AWS::ACMPCA::CertificateAuthorityActivation', 'RootActivation') },
      },
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: { 'Fn::GetAtt': [rootNotices, 'NotifyAt365'] } });
    // The CA handler serves it: still one private-ca provider function.
    const handlers = Object.values(template.findResources('AWS::Lambda::Function')).filter((f: any) => /ACM Private CA deletion/.test(f.Properties.Description ?? ''));
    expect(handlers).toHaveLength(1);
    expectNoCycle(template);
  });

  test('PrivateCa whose external certificate comes from a secret: the activation\'s complete chain', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Pem', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ca-pem-AbCdEf');
    const ca = new PrivateCa(stack, 'Ext', {
      externalParent: true,
      subject: { commonName: 'Ext' },
      certificate: CertificatePem.fromSecret(secret, 'certificate'),
      certificateChain: CertificatePem.fromSecret(secret, 'chain'),
    });
    ca.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'Ops'), daysBefore: [30] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::PrivateCaExpiryNotices', {
      CaCertificate: { 'Fn::GetAtt': [logicalId(template, 'AWS::ACMPCA::CertificateAuthorityActivation', 'ExtActivation'), 'CompleteCertificateChain'] },
    });
    // Never a secret's dynamic reference in a custom resource (CloudFormation does not resolve them there).
    expect(JSON.stringify(template.findResources('Custom::PrivateCaExpiryNotices'))).not.toContain('resolve:secretsmanager');
  });

  test('a CA still waiting for its external parent\'s signature cannot have notices', () => {
    const stack = newStack();
    const ca = new PrivateCa(stack, 'Ext', { externalParent: true, subject: { commonName: 'Ext' } });
    expect(() => ca.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'Ops'), daysBefore: [30] }))
      .toThrow(/\[Stack\/Ext\] notifyBeforeExpiry: this CA has an external parent and no certificate yet/);
  });
});

describe('the Scheduler role', () => {
  test('one per stack, trusted by scheduler.amazonaws.com for this account, allowed to publish to the topics only', () => {
    const stack = newStack();
    const ops = new sns.Topic(stack, 'Ops');
    const key = new kms.Key(stack, 'TopicKey');
    const security = new sns.Topic(stack, 'Security', { masterKey: key });
    const a = serverCertificate(stack, 'A', CertificatePem.fromString(longLived.certificatePem));
    const b = serverCertificate(stack, 'B', CertificatePem.fromString(nextYear.certificatePem));
    a.notifyBeforeExpiry({ topic: ops, daysBefore: [30] });
    a.notifyBeforeExpiry({ topic: security, daysBefore: [30, 7] });
    b.notifyBeforeExpiry({ topic: ops, daysBefore: [14] });
    const template = Template.fromStack(stack);

    const roleId = logicalId(template, 'AWS::IAM::Role', 'CdkCertificatesExpiryNoticeRole');
    template.resourceCountIs('AWS::Scheduler::Schedule', 4);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
        }],
      },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleId)) as any[];
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement;
    expect(statements).toEqual([
      {
        Action: 'sns:Publish',
        Effect: 'Allow',
        Resource: [{ Ref: logicalId(template, 'AWS::SNS::Topic', 'Ops') }, { Ref: logicalId(template, 'AWS::SNS::Topic', 'Security') }],
      },
      {
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logicalId(template, 'AWS::KMS::Key', 'TopicKey'), 'Arn'] },
      },
    ]);
    // Each schedule waits for the policy that lets the role publish; the role itself comes first
    // through the schedule's RoleArn, so no DependsOn repeats it (cfn-lint W3005).
    const policyId = Object.keys(template.findResources('AWS::IAM::Policy')).find(id => id.startsWith('CdkCertificatesExpiryNoticeRoleDefaultPolicy'));
    expect(policyId).toBeDefined();
    for (const schedule of Object.values(schedules(template))) {
      expect(schedule.DependsOn).toContain(policyId);
      expect(schedule.DependsOn).not.toContain(roleId);
      expect(schedule.Properties.Target.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    }
    // Second call: its own scope, so the same day count for another topic does not collide.
    expect(Object.keys(schedules(template)).filter(id => id.startsWith('AExpiryNotices2'))).toHaveLength(2);
  });

  test('cdk-nag AwsSolutions finds nothing on the schedules and the role', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
    const key = new kms.Key(stack, 'TopicKey', { enableKeyRotation: true });
    const topic = new sns.Topic(stack, 'Ops', { masterKey: key, enforceSSL: true });
    const bundle = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Bundle', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bundle-AbCdEf');
    serverCertificate(stack, 'Web', CertificatePem.fromSecret(bundle, 'certificate')).notifyBeforeExpiry({ topic, daysBefore: [30, 7] });
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const findings = report.violations.flatMap(v => v.violatingResources.map(r => `${v.ruleName} at ${r.constructPath}`))
      .filter(f => /ExpiryNotice/.test(f));
    expect(findings).toEqual([]);
  });
});

describe('no notices, no change', () => {
  test('a certificate without notifyBeforeExpiry has no schedule, no role and no NotifyDaysBefore', () => {
    const stack = newStack();
    serverCertificate(stack, 'Web', CertificatePem.fromString(longLived.certificatePem));
    new PrivateCa(stack, 'Root', { subject: { commonName: 'Root' } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('Custom::PrivateCaExpiryNotices', 0);
    expect(Object.keys(template.findResources('AWS::IAM::Role')).filter(id => id.startsWith('CdkCertificatesExpiryNoticeRole'))).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('NotifyDaysBefore');
  });
});

describe('bad inputs: one clear error naming the property', () => {
  function cert(stack: Stack): ServerCertificate {
    return serverCertificate(stack, 'Web', CertificatePem.fromString(longLived.certificatePem));
  }

  const cases: Array<[string, (topic: sns.ITopic) => ExpiryNotificationOptions, RegExp]> = [
    ['no topic', () => ({ daysBefore: [30] } as unknown as ExpiryNotificationOptions), /\[Stack\/Web\] topic: is required/],
    ['no daysBefore', (topic) => ({ topic } as unknown as ExpiryNotificationOptions), /\[Stack\/Web\] daysBefore: is required/],
    ['an empty daysBefore', (topic) => ({ topic, daysBefore: [] }), /daysBefore: must list at least one day count/],
    ['zero days', (topic) => ({ topic, daysBefore: [0] }), /daysBefore: 0 is not a whole number of days from 1 to 3650/],
    ['negative days', (topic) => ({ topic, daysBefore: [30, -7] }), /daysBefore: -7 is not a whole number of days/],
    ['a fraction', (topic) => ({ topic, daysBefore: [1.5] }), /daysBefore: 1.5 is not a whole number of days/],
    ['more than ten years', (topic) => ({ topic, daysBefore: [3651] }), /daysBefore: 3651 is not a whole number of days from 1 to 3650/],
    ['a duplicate', (topic) => ({ topic, daysBefore: [30, 7, 30] }), /daysBefore: lists 30 twice/],
    ['eleven day counts', (topic) => ({ topic, daysBefore: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }), /daysBefore: lists 11 day counts; at most 10/],
    ['a token day count', (topic) => ({ topic, daysBefore: [Token.asNumber({ Ref: 'Days' })] }), /daysBefore: must hold numbers known at synth/],
    ['a token list', (topic) => ({ topic, daysBefore: Token.asList({ Ref: 'Days' }) as unknown as number[] }), /daysBefore: must be a list of numbers known at synth/],
  ];

  test.each(cases)('%s', (_name, options, message) => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Ops');
    const web = cert(stack);
    expect(() => web.notifyBeforeExpiry(options(topic))).toThrow(message);
    // Nothing half-made.
    Template.fromStack(stack).resourceCountIs('AWS::Scheduler::Schedule', 0);
  });

  test('the same day count for the same topic in a second call', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Ops');
    const web = cert(stack);
    web.notifyBeforeExpiry({ topic, daysBefore: [30] });
    expect(() => web.notifyBeforeExpiry({ topic, daysBefore: [7, 30] }))
      .toThrow(/daysBefore: an earlier notifyBeforeExpiry call already sends this topic a notice 30 days before expiry/);
    // Another topic may have the same day count.
    web.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'Other'), daysBefore: [30] });
    Template.fromStack(stack).resourceCountIs('AWS::Scheduler::Schedule', 2);
  });

  test('more than ten distinct day counts across calls', () => {
    const stack = newStack();
    const web = cert(stack);
    web.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'A'), daysBefore: [1, 2, 3, 4, 5, 6] });
    expect(() => web.notifyBeforeExpiry({ topic: new sns.Topic(stack, 'B'), daysBefore: [1, 7, 8, 9, 10, 11] }))
      .toThrow(/daysBefore: a certificate takes at most 10 distinct day counts across its notifyBeforeExpiry calls; this call would make 11/);
  });
});
