import { App, CfnOutput, CfnResource, Duration, Fn, Lazy, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { LightsailCertificate, LightsailCertificateProps } from '../../src/lightsail/lightsail-certificate';

const ACCOUNT = '123456789012';

function stack(region = 'eu-west-1'): Stack {
  return new Stack(new App(), 'Stack', { env: { account: ACCOUNT, region } });
}

function zone(s: Stack, zoneName = 'example.com'): route53.IHostedZone {
  return route53.HostedZone.fromHostedZoneAttributes(s, 'Zone', { hostedZoneId: 'Z0123456789ABC', zoneName });
}

function only(template: Template, type: string): [string, any] {
  const found = Object.entries(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0];
}

describe('LightsailCertificate: template', () => {
  test('a certificate resource with the domains, a generated name prefix and the stack region', () => {
    const s = stack();
    new LightsailCertificate(s, 'Site', { domainName: 'Example.com', subjectAlternativeNames: ['www.example.com', 'example.com'] });
    const t = Template.fromStack(s);
    const [, cert] = only(t, 'Custom::LightsailCertificate');
    expect(cert.Properties).toMatchObject({
      Region: 'eu-west-1',
      DomainName: 'Example.com',
      // The domain listed again is not counted twice.
      SubjectAlternativeNames: ['www.example.com'],
      RemovalPolicy: 'destroy',
      RecordCount: '2',
    });
    expect(cert.Properties.NamePrefix).toMatch(/^Stack-Site-[0-9A-F]{8}$/);
    expect(cert.Properties.CertificateName).toBeUndefined();
    expect(cert.DeletionPolicy).toBe('Delete');
    // No hosted zone: no records, no wait.
    t.resourceCountIs('AWS::Route53::RecordSet', 0);
    t.resourceCountIs('Custom::LightsailCertificateValidation', 0);
  });

  test('one CNAME record per distinct domain, from the certificate\'s attributes in order', () => {
    const s = stack();
    const site = new LightsailCertificate(s, 'Site', {
      domainName: 'example.com',
      subjectAlternativeNames: ['www.example.com', 'EXAMPLE.com', 'api.example.com', 'Static.Example.com'],
      hostedZone: zone(s),
    });
    const t = Template.fromStack(s);
    const certId = s.getLogicalId(site.node.defaultChild as CfnResource);
    const records = t.findResources('AWS::Route53::RecordSet');
    expect(Object.keys(records)).toHaveLength(4);
    const byName = Object.values(records).map((r: any) => r.Properties);
    ['example.com', 'www.example.com', 'api.example.com', 'static.example.com'].forEach((domain, i) => {
      expect(byName).toContainEqual({
        HostedZoneId: 'Z0123456789ABC',
        // The name is the label Lightsail returns, then the domain the construct has.
        Name: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [certId, `Record${i}Label`] }, `.${domain}.`]] },
        Type: 'CNAME',
        TTL: '60',
        ResourceRecords: [{ 'Fn::GetAtt': [certId, `Record${i}Value`] }],
      });
    });
    expect(site.domainNames).toEqual(['example.com', 'www.example.com', 'api.example.com', 'static.example.com']);
  });

  test('dependency order: records depend on the certificate; the wait depends on every record', () => {
    const s = stack();
    const site = new LightsailCertificate(s, 'Site', {
      domainName: 'example.com',
      subjectAlternativeNames: ['www.example.com', 'api.example.com'],
      hostedZone: zone(s),
    });
    const t = Template.fromStack(s);
    const [certId, cert] = only(t, 'Custom::LightsailCertificate');
    const [, validation] = only(t, 'Custom::LightsailCertificateValidation');
    const recordIds = Object.keys(t.findResources('AWS::Route53::RecordSet'));
    expect(recordIds).toHaveLength(3);
    expect(site.validationRecordSets.map((r) => s.getLogicalId(r))).toEqual(recordIds);

    // Each record reads the certificate's attributes: CloudFormation creates it after the certificate.
    for (const id of recordIds) {
      const record = t.toJSON().Resources[id];
      expect(JSON.stringify(record.Properties)).toContain(`"Fn::GetAtt":["${certId}",`);
    }
    // The certificate waits for nothing of its own validation.
    for (const dep of cert.DependsOn ?? []) {
      expect(recordIds).not.toContain(dep);
      expect(dep).not.toMatch(/Validation/);
    }
    // The wait starts only after every record exists, and it is for this certificate.
    expect(validation.DependsOn).toEqual(expect.arrayContaining(recordIds));
    expect(validation.Properties).toMatchObject({
      Region: 'eu-west-1',
      CertificateArn: { 'Fn::GetAtt': [certId, 'CertificateArn'] },
      CertificateName: { 'Fn::GetAtt': [certId, 'CertificateName'] },
      TimeoutSeconds: '2700',
    });
  });

  test('when waiting, the certificate\'s name, ARN and status come from the wait step', () => {
    const s = stack();
    const site = new LightsailCertificate(s, 'Site', { domainName: 'example.com', hostedZone: zone(s), validationTimeout: Duration.minutes(20) });
    new CfnOutput(s, 'Name', { value: site.certificateName });
    new CfnOutput(s, 'Arn', { value: site.certificateArn });
    new CfnOutput(s, 'Status', { value: site.status });
    const t = Template.fromStack(s);
    const [validationId, validation] = only(t, 'Custom::LightsailCertificateValidation');
    expect(validation.Properties.TimeoutSeconds).toBe('1200');
    t.hasOutput('Name', { Value: { 'Fn::GetAtt': [validationId, 'CertificateName'] } });
    t.hasOutput('Arn', { Value: { 'Fn::GetAtt': [validationId, 'CertificateArn'] } });
    t.hasOutput('Status', { Value: { 'Fn::GetAtt': [validationId, 'Status'] } });
  });

  test('waitForValidation: false with a zone creates records but no wait; attributes come from the certificate', () => {
    const s = stack();
    const site = new LightsailCertificate(s, 'Site', { domainName: 'example.com', hostedZone: zone(s), waitForValidation: false });
    new CfnOutput(s, 'Name', { value: site.certificateName });
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::Route53::RecordSet', 1);
    t.resourceCountIs('Custom::LightsailCertificateValidation', 0);
    const [certId] = only(t, 'Custom::LightsailCertificate');
    t.hasOutput('Name', { Value: { 'Fn::GetAtt': [certId, 'CertificateName'] } });
  });

  test('waitForValidation: true without a zone waits for records created elsewhere', () => {
    const s = stack();
    new LightsailCertificate(s, 'Site', { domainName: 'example.com', waitForValidation: true });
    const t = Template.fromStack(s);
    const [, validation] = only(t, 'Custom::LightsailCertificateValidation');
    expect(validation.DependsOn.some((d: string) => /Record/.test(d))).toBe(false);
  });

  test('validationRecords: one struct per domain, usable in outputs', () => {
    const s = stack();
    const site = new LightsailCertificate(s, 'Site', { domainName: 'example.com', subjectAlternativeNames: ['www.example.com'] });
    site.validationRecords.forEach((r, i) => {
      new CfnOutput(s, `Record${i}`, { value: `${r.domainName} ${r.recordType} ${r.recordName} ${r.recordValue}` });
    });
    const t = Template.fromStack(s);
    const [certId] = only(t, 'Custom::LightsailCertificate');
    expect(site.validationRecords.map((r) => r.domainName)).toEqual(['example.com', 'www.example.com']);
    t.hasOutput('Record1', {
      Value: {
        'Fn::Join': ['', [
          'www.example.com CNAME ',
          { 'Fn::GetAtt': [certId, 'Record1Label'] }, '.www.example.com. ',
          { 'Fn::GetAtt': [certId, 'Record1Value'] },
        ]],
      },
    });
  });

  test('a domain only known at deploy: its record is named from the label and the domain\'s token', () => {
    const s = stack();
    const domain = Fn.importValue('SiteDomain');
    const site = new LightsailCertificate(s, 'Site', { domainName: domain, hostedZone: zone(s) });
    const certId = s.getLogicalId(site.node.defaultChild as CfnResource);
    const record = site.validationRecords[0];
    expect(s.resolve(record.domainName)).toEqual({ 'Fn::ImportValue': 'SiteDomain' });
    expect(record.recordType).toBe('CNAME');
    const name = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [certId, 'Record0Label'] }, '.', { 'Fn::ImportValue': 'SiteDomain' }, '.']] };
    expect(s.resolve(record.recordName)).toEqual(name);
    Template.fromStack(s).hasResourceProperties('AWS::Route53::RecordSet', { Name: name, Type: 'CNAME' });
  });

  test('two certificates validating one domain through one zone warn about the shared record', () => {
    const s = stack();
    const z = zone(s);
    new LightsailCertificate(s, 'A', { domainName: 'example.com', hostedZone: z });
    new LightsailCertificate(s, 'B', { domainName: 'shop.example.com', subjectAlternativeNames: ['example.com'], hostedZone: z });
    Annotations.fromStack(s).hasWarning('/Stack/B', Match.stringLikeRegexp("subjectAlternativeNames: Stack/A already creates the validation record of 'example.com' in this hosted zone"));
    Annotations.fromStack(s).hasNoWarning('/Stack/A', Match.anyValue());
  });

  test('Tags.of() reaches the certificate', () => {
    const s = stack();
    new LightsailCertificate(s, 'Site', { domainName: 'example.com' });
    Tags.of(s).add('team', 'platform');
    const t = Template.fromStack(s);
    t.hasResourceProperties('Custom::LightsailCertificate', { Tags: [{ Key: 'team', Value: 'platform' }] });
  });

  test('removalPolicy RETAIN keeps the certificate and its records (renewal needs them)', () => {
    const s = stack();
    new LightsailCertificate(s, 'Site', { domainName: 'example.com', hostedZone: zone(s), removalPolicy: RemovalPolicy.RETAIN });
    const t = Template.fromStack(s);
    t.hasResource('Custom::LightsailCertificate', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ RemovalPolicy: 'retain' }) });
    t.hasResource('AWS::Route53::RecordSet', { DeletionPolicy: 'Retain' });
  });

  test('a user-given name is passed as is and no prefix is generated', () => {
    const s = stack();
    new LightsailCertificate(s, 'Site', { domainName: 'example.com', certificateName: 'site-cert_1' });
    Template.fromStack(s).hasResourceProperties('Custom::LightsailCertificate', {
      CertificateName: 'site-cert_1',
      NamePrefix: Match.absent(),
    });
  });

  test('one provider per stack, with an isComplete handler, whatever the number of certificates', () => {
    const s = stack();
    new LightsailCertificate(s, 'A', { domainName: 'a.example.com', hostedZone: zone(s) });
    new LightsailCertificate(s, 'B', { domainName: 'b.example.com', forDistribution: true });
    const t = Template.fromStack(s);
    const handlers = Object.values(t.findResources('AWS::Lambda::Function'))
      .filter((f: any) => /Lightsail certificates/.test(f.Properties.Description ?? ''));
    expect(handlers.map((f: any) => f.Properties.Handler).sort()).toEqual(['index.isComplete', 'index.onEvent']);
    for (const f of handlers as any[]) {
      expect(f.Properties.Runtime).toBe('nodejs22.x');
      expect(f.Properties.Timeout).toBe(600);
    }
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });
});

describe('LightsailCertificate: region', () => {
  test('forDistribution creates the certificate in us-east-1 whatever the stack\'s region', () => {
    const s = stack('ap-southeast-2');
    const site = new LightsailCertificate(s, 'Site', { domainName: 'example.com', forDistribution: true });
    expect(site.region).toBe('us-east-1');
    Template.fromStack(s).hasResourceProperties('Custom::LightsailCertificate', { Region: 'us-east-1' });
  });

  test('an explicit region is used, and scopes the write permissions', () => {
    const s = stack();
    new LightsailCertificate(s, 'Site', { domainName: 'example.com', region: 'eu-central-1' });
    const t = Template.fromStack(s);
    t.hasResourceProperties('Custom::LightsailCertificate', { Region: 'eu-central-1' });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['lightsail:GetCertificates', 'lightsail:GetDistributions', 'lightsail:GetContainerServices'],
            Resource: '*',
          },
          // Create only with this stack's ownership tag; delete and tag only what carries it.
          {
            Effect: 'Allow',
            Action: 'lightsail:CreateCertificate',
            Resource: '*',
            Condition: { StringEquals: { 'aws:RequestTag/cdk-certificates:stack-id': { Ref: 'AWS::StackId' } } },
          },
          {
            Effect: 'Allow',
            Action: ['lightsail:DeleteCertificate', 'lightsail:TagResource', 'lightsail:UntagResource'],
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:lightsail:eu-central-1:${ACCOUNT}:Certificate/*`]] },
            Condition: { StringEquals: { 'aws:ResourceTag/cdk-certificates:stack-id': { Ref: 'AWS::StackId' } } },
          },
        ]),
      },
    });
  });

  test('an environment-agnostic stack passes its region token', () => {
    const s = new Stack(new App(), 'Agnostic');
    new LightsailCertificate(s, 'Site', { domainName: 'example.com' });
    Template.fromStack(s).hasResourceProperties('Custom::LightsailCertificate', { Region: { Ref: 'AWS::Region' } });
  });

  test('forDistribution with us-east-1 given explicitly is fine', () => {
    const s = stack();
    expect(() => new LightsailCertificate(s, 'Site', { domainName: 'example.com', forDistribution: true, region: 'us-east-1' })).not.toThrow();
  });
});

describe('LightsailCertificate: attach helpers', () => {
  test('attachToDistribution attaches once ISSUED, with scoped permissions', () => {
    const s = stack();
    const site = new LightsailCertificate(s, 'Site', { domainName: 'example.com', forDistribution: true, hostedZone: zone(s) });
    const attachment = site.attachToDistribution('my-distribution');
    const t = Template.fromStack(s);
    const [validationId] = only(t, 'Custom::LightsailCertificateValidation');
    const [attachmentId, resource] = only(t, 'Custom::LightsailCertificateAttachment');
    expect(s.getLogicalId(attachment.node.defaultChild as any)).toBe(attachmentId);
    expect(resource.Properties).toMatchObject({
      Region: 'us-east-1',
      DistributionName: 'my-distribution',
      // From the wait step: the attach runs after the certificate is issued.
      CertificateName: { 'Fn::GetAtt': [validationId, 'CertificateName'] },
      RemovalPolicy: 'destroy',
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'lightsail:AttachCertificateToDistribution',
            Resource: [
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:lightsail:us-east-1:${ACCOUNT}:Certificate/*`]] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:lightsail:us-east-1:${ACCOUNT}:Distribution/*`]] },
            ],
          },
          {
            Effect: 'Allow',
            Action: 'lightsail:DetachCertificateFromDistribution',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:lightsail:us-east-1:${ACCOUNT}:Distribution/*`]] },
          },
        ]),
      },
    });
  });

  test('attachToDistribution on a certificate outside us-east-1 is a synth error', () => {
    const s = stack();
    const site = new LightsailCertificate(s, 'Site', { domainName: 'example.com' });
    expect(() => site.attachToDistribution('my-distribution')).toThrow(
      '[Stack/Site] region: attachToDistribution needs a certificate in us-east-1 (Lightsail distributions use only certificates there), but this one is in eu-west-1; set forDistribution: true');
  });

  test('attaching a certificate the deployment does not wait for warns', () => {
    const s = stack();
    const site = new LightsailCertificate(s, 'Site', { domainName: 'example.com', forDistribution: true });
    site.attachToDistribution('my-distribution');
    Annotations.fromStack(s).hasWarning('/Stack/Site', Match.stringLikeRegexp('the deployment does not wait for this certificate to be ISSUED'));
    const waiting = stack();
    new LightsailCertificate(waiting, 'Site', { domainName: 'example.com', forDistribution: true, hostedZone: zone(waiting) }).attachToDistribution('d');
    Annotations.fromStack(waiting).hasNoWarning('*', Match.anyValue());
  });

  test('publicDomainName() fits a container service\'s public domain names', () => {
    const s = stack();
    const site = new LightsailCertificate(s, 'Site', { domainName: 'example.com', subjectAlternativeNames: ['www.example.com'], hostedZone: zone(s) });
    new lightsail.CfnContainer(s, 'Service', {
      serviceName: 'web',
      power: 'nano',
      scale: 1,
      publicDomainNames: [site.publicDomainName()],
    });
    const t = Template.fromStack(s);
    const [validationId] = only(t, 'Custom::LightsailCertificateValidation');
    t.hasResourceProperties('AWS::Lightsail::Container', {
      PublicDomainNames: [{
        CertificateName: { 'Fn::GetAtt': [validationId, 'CertificateName'] },
        DomainNames: ['example.com', 'www.example.com'],
      }],
    });
    expect(site.publicDomainName(['www.example.com']).domainNames).toEqual(['www.example.com']);
  });

  test('fromCertificateName: name, attach and publicDomainName with explicit domains', () => {
    const s = stack('us-east-1');
    const imported = LightsailCertificate.fromCertificateName(s, 'Imported', 'existing-cert');
    expect(imported.certificateName).toBe('existing-cert');
    expect(() => imported.certificateArn).toThrow(/certificateArn: was not given to fromCertificateAttributes/);
    expect(() => imported.publicDomainName()).toThrow(/domainNames: publicDomainName\(\) of an imported certificate needs the domain names/);
    expect(imported.publicDomainName(['example.com'])).toEqual({ certificateName: 'existing-cert', domainNames: ['example.com'] });
    imported.attachToDistribution('site');
    Template.fromStack(s).hasResourceProperties('Custom::LightsailCertificateAttachment', {
      Region: 'us-east-1', CertificateName: 'existing-cert', DistributionName: 'site',
    });
  });

  test('fromCertificateAttributes keeps the ARN and region', () => {
    const s = stack();
    const arn = `arn:aws:lightsail:us-east-1:${ACCOUNT}:Certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc`;
    const imported = LightsailCertificate.fromCertificateAttributes(s, 'Imported', { certificateName: 'existing-cert', certificateArn: arn, region: 'us-east-1' });
    expect(imported.certificateArn).toBe(arn);
    expect(() => imported.attachToDistribution('site')).not.toThrow();
  });

  test('fromCertificateName with an invalid name is a synth error', () => {
    const s = stack();
    expect(() => LightsailCertificate.fromCertificateName(s, 'Imported', 'bad name')).toThrow(/^\[Stack\] certificateName: 'bad name' may hold only ASCII letters, digits, hyphens and underscores/);
  });
});

describe('LightsailCertificate: bad inputs, one clear synth error each', () => {
  const cases: Array<[string, (s: Stack) => LightsailCertificateProps, string]> = [
    ['ten alternative names',
      () => ({ domainName: 'example.com', subjectAlternativeNames: Array.from({ length: 10 }, (_, i) => `s${i}.example.com`) }),
      'subjectAlternativeNames: at most 9 names besides domainName, got 10'],
    ['a wildcard alternative name',
      () => ({ domainName: 'example.com', subjectAlternativeNames: ['*.example.com'] }),
      'subjectAlternativeNames: \'*.example.com\' is a wildcard name, which Lightsail certificates do not support (list each name instead); give a public DNS name such as www.example.com'],
    ['a wildcard domain name',
      () => ({ domainName: '*.example.com' }),
      'domainName: \'*.example.com\' is a wildcard name'],
    ['a duplicate',
      () => ({ domainName: 'example.com', subjectAlternativeNames: ['www.example.com', 'WWW.Example.com'] }),
      'subjectAlternativeNames: \'WWW.Example.com\' is listed twice; list each domain once'],
    ['an invalid DNS name',
      () => ({ domainName: 'example.com', subjectAlternativeNames: ['bad_label.example.com'] }),
      'subjectAlternativeNames: \'bad_label.example.com\' is not a valid DNS name: each label must be 1 to 63 letters, digits or hyphens'],
    ['a single-label domain',
      () => ({ domainName: 'localhost' }),
      'domainName: \'localhost\' is not a fully qualified domain name'],
    ['a trailing dot',
      () => ({ domainName: 'example.com.' }),
      'domainName: \'example.com.\' must be written without the trailing dot'],
    ['a domain name over 64 characters',
      () => ({ domainName: `${'a'.repeat(60)}.example.com` }),
      'domainName: \'' + 'a'.repeat(60) + '.example.com\' must be 1 to 64 characters long, got 72'],
    ['a non-us-east-1 region with forDistribution',
      () => ({ domainName: 'example.com', forDistribution: true, region: 'eu-west-1' }),
      'region: must be us-east-1 (or omitted) when forDistribution is true: Lightsail distributions use only certificates in us-east-1, got eu-west-1'],
    ['a region that is not one',
      () => ({ domainName: 'example.com', region: 'Frankfurt' }),
      'region: \'Frankfurt\' is not an AWS region name (e.g. us-east-1)'],
    ['an invalid certificate name',
      () => ({ domainName: 'example.com', certificateName: 'my.cert' }),
      'certificateName: \'my.cert\' may hold only ASCII letters, digits, hyphens and underscores, not \'.\'; use 2 to 255 ASCII letters'],
    ['alternative names with a wildcard and a duplicate',
      () => ({ domainName: 'example.com', subjectAlternativeNames: ['*.example.com', 'www.example.com', 'WWW.Example.com'] }),
      'subjectAlternativeNames: \'*.example.com\' is a wildcard name, which Lightsail certificates do not support (list each name instead); give a public DNS name such as www.example.com; and \'WWW.Example.com\' is listed twice; list each domain once'],
    ['a certificate name that breaks two rules',
      () => ({ domainName: 'example.com', certificateName: '-my.cert' }),
      'certificateName: \'-my.cert\' may hold only ASCII letters, digits, hyphens and underscores, not \'.\', and must begin and end with a letter or digit; use '],
    ['a domain name that breaks three rules',
      () => ({ domainName: '*.exa_mple.com.' }),
      'domainName: \'*.exa_mple.com.\' is a wildcard name, which Lightsail certificates do not support (list each name instead), must be written without the trailing dot, and is not a valid DNS name: each label must be 1 to 63 letters, digits or hyphens, not beginning or ending with a hyphen (label \'exa_mple\')'],
    ['a one-character certificate name',
      () => ({ domainName: 'example.com', certificateName: 'a' }),
      'certificateName: \'a\' must be 2 to 255 characters long, got 1'],
    ['a validation timeout beyond the custom resource limit',
      (s) => ({ domainName: 'example.com', hostedZone: zone(s), validationTimeout: Duration.hours(1) }),
      'validationTimeout: must be between 1 and 50 minutes (CloudFormation waits at most an hour for a custom resource), got 1 hour'],
    ['a domain outside the hosted zone',
      (s) => ({ domainName: 'example.com', subjectAlternativeNames: ['www.example.org'], hostedZone: zone(s) }),
      'subjectAlternativeNames: \'www.example.org\' is not in the hosted zone example.com, so its validation record cannot be created there'],
    ['a list token of alternative names',
      () => ({ domainName: 'example.com', subjectAlternativeNames: Lazy.list({ produce: () => ['www.example.com'] }) }),
      'subjectAlternativeNames: must be a list whose length is known at synth'],
  ];

  test.each(cases)('%s', (_what, makeProps, message) => {
    const s = stack();
    let error: Error | undefined;
    try {
      new LightsailCertificate(s, 'Site', makeProps(s));
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe('ValidationError');
    expect(error?.message).toContain(`[Stack/Site] ${message}`);
  });

  test('nine alternative names plus the domain listed again is accepted', () => {
    const s = stack();
    const site = new LightsailCertificate(s, 'Site', {
      domainName: 'example.com',
      subjectAlternativeNames: ['example.com', ...Array.from({ length: 9 }, (_, i) => `s${i}.example.com`)],
      hostedZone: zone(s),
    });
    expect(site.domainNames).toHaveLength(10);
    Template.fromStack(s).resourceCountIs('AWS::Route53::RecordSet', 10);
  });

  test('tokens are left to the handler', () => {
    const s = stack();
    expect(() => new LightsailCertificate(s, 'Site', {
      domainName: Fn.importValue('Domain'),
      subjectAlternativeNames: [Fn.importValue('Alt')],
      certificateName: Fn.importValue('Name'),
      region: Fn.importValue('Region'),
      hostedZone: zone(s),
    })).not.toThrow();
    Template.fromStack(s).resourceCountIs('AWS::Route53::RecordSet', 2);
  });
});

describe('LightsailCertificate: the rules every stateful construct shares', () => {
  test('RemovalPolicy.SNAPSHOT is refused with one clear error', () => {
    expect(() => new LightsailCertificate(stack(), 'Site', { domainName: 'example.com', removalPolicy: RemovalPolicy.SNAPSHOT }))
      .toThrow(/removalPolicy: SNAPSHOT does not apply to a certificate or a certificate authority/);
  });

  test("Lightsail's tag rules: a key over 128 characters or a character Lightsail refuses is a synth error", () => {
    const s = stack();
    const cert = new LightsailCertificate(s, 'Site', { domainName: 'example.com' });
    Tags.of(cert).add('k'.repeat(129), 'v');
    Tags.of(cert).add('team', 'a#b');
    expect(() => Template.fromStack(s)).toThrow(/tags: tag key 'k+' must be 1 to 128 characters long, got 129[\s\S]*tags: tag value 'a#b' may hold only letters, digits, spaces and _ \. : \/ = \+ - @/);
  });
});
