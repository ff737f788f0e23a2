/**
 * `ScheduledCertificateCheck`: `cdk-certificates check --live` on a schedule, in the account, for
 * accounts without a pipeline. EventBridge Scheduler invokes a Lambda function that runs the live
 * check (the same code as the CLI: assets/manifest/cli/live-lambda/index.js, built from
 * ./cli/live-lambda.ts) on each stack and publishes the text report to SNS when a certificate needs
 * attention.
 */
import * as path from 'path';
import { ArnFormat, Aws, CfnResource, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CertificateCheckStep } from './certificate-check-step';
import { CertificateInputError } from '../private/errors';

/** The function's bundle: the live check with the AWS SDK left to the Lambda runtime. */
const LIVE_LAMBDA_ASSET = path.join(__dirname, '..', '..', 'assets', 'manifest', 'cli', 'live-lambda');

/** A CloudFormation stack name: a letter, then letters, digits and hyphens, at most 128 characters. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/**
 * The same acknowledgements as cdk-nag 2 reads them: the resource's `cdk_nag` metadata, where a
 * granular finding `Rule[Finding]` is the rule and what it applies to. Adds to what is there.
 */
function suppressForNag2(target: Construct, findings: ReadonlyArray<{ id: string; reason: string }>): void {
  const resource = target.node.defaultChild;
  if (!CfnResource.isCfnResource(resource)) return;
  const existing = (resource.getMetadata('cdk_nag') as { rules_to_suppress?: unknown[] } | undefined)?.rules_to_suppress ?? [];
  resource.addMetadata('cdk_nag', {
    rules_to_suppress: [...existing, ...findings.map(({ id, reason }) => {
      const granular = /^([^[]+)\[(.+)\]$/.exec(id);
      return granular ? { id: granular[1], reason, applies_to: [granular[2]] } : { id, reason };
    })],
  });
}

/** Properties of a {@link ScheduledCertificateCheck}. */
export interface ScheduledCertificateCheckProps {
  /**
   * The names of the deployed stacks to check, in this construct's account and region. The
   * function may list the resources of these stacks only.
   *
   * @default - the stack this construct is in
   */
  readonly stacks?: string[];

  /**
   * When to run the check.
   *
   * @default - once a day (`rate(1 day)`)
   */
  readonly schedule?: scheduler.ScheduleExpression;

  /**
   * The topic the reports go to. Subscribe to it (email, chat, a ticketing system) to hear of
   * certificates that need attention. The function may publish to it (and use its KMS key when the
   * topic object knows it); for an imported topic encrypted with a key, grant `role` the use of that
   * key (`kms:GenerateDataKey*`, `kms:Decrypt`).
   *
   * @default - a new topic, encrypted with a new KMS key (rotation on), that accepts only TLS
   */
  readonly topic?: sns.ITopic;

  /**
   * A certificate that expires within this many days is reported, as with `check --min-days`.
   *
   * @default 30
   */
  readonly minDays?: number;

  /**
   * Publish a report after every run, also when every certificate is healthy (a heartbeat).
   *
   * @default false - publish only when a certificate needs attention or a stack could not be checked
   */
  readonly notifyOnSuccess?: boolean;
}

/**
 * Runs `cdk-certificates check --live` on a schedule and publishes to SNS: for accounts that deploy
 * without a pipeline, where `CertificateCheckStep`'s `live` option cannot run.
 *
 * EventBridge Scheduler invokes a Lambda function (Node.js 22, no VPC) that, for each stack, lists
 * its resources through CloudFormation and reads each certificate from its service (IAM, DMS,
 * Lightsail, ACM, ACM Private CA), exactly as the CLI does. When a certificate is missing, revoked,
 * unhealthy, expired, not yet valid, expires within `minDays`, or fails the X.509 checks, or a stack
 * cannot be checked, it publishes one message with the text report to the topic; its subject holds
 * the number of problems.
 *
 * The function's role is read-only apart from publishing: `cloudformation:ListStackResources` on the
 * checked stacks, `CertificateCheckStep.LIVE_CHECK_ACTIONS` (on `*`: these reads take no narrower
 * resource), `sns:Publish` on the topic (and the use of its KMS key), and writing its own log group.
 */
export class ScheduledCertificateCheck extends Construct {
  /** The topic the reports are published to. */
  public readonly topic: sns.ITopic;

  /** The function that runs the live check. */
  public readonly checkFunction: lambda.IFunction;

  /** The function's role. */
  public readonly role: iam.IRole;

  /** The EventBridge Scheduler schedule that invokes the function. */
  public readonly schedule: scheduler.ISchedule;

  /** The names of the checked stacks. */
  public readonly stackNames: string[];

  /** The number of days of validity below which a certificate is reported. */
  public readonly minDays: number;

  constructor(scope: Construct, id: string, props: ScheduledCertificateCheckProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);

    const stacks = props.stacks ?? [stack.stackName];
    if (stacks.length === 0) {
      throw new CertificateInputError('stacks', 'must name at least one stack to check (leave it out to check this construct\'s own stack)', this);
    }
    for (const name of stacks) {
      if (!Token.isUnresolved(name) && !STACK_NAME.test(name)) {
        throw new CertificateInputError('stacks', `each must be a CloudFormation stack name (a letter, then letters, digits and hyphens, at most 128), not an ARN or ID; got '${name}'`, this);
      }
    }
    const duplicate = stacks.find((name, i) => !Token.isUnresolved(name) && stacks.indexOf(name) !== i);
    if (duplicate !== undefined) {
      throw new CertificateInputError('stacks', `names '${duplicate}' twice`, this);
    }
    const minDays = props.minDays ?? 30;
    if (!Token.isUnresolved(minDays) && !(Number.isInteger(minDays) && minDays >= 0 && minDays <= 3650)) {
      throw new CertificateInputError('minDays', `must be a whole number of days from 0 to 3650, got ${minDays}`, this);
    }
    this.stackNames = [...stacks];
    this.minDays = minDays;

    let topicKey: kms.Key | undefined;
    if (props.topic) {
      this.topic = props.topic;
    } else {
      topicKey = new kms.Key(this, 'TopicKey', {
        description: `cdk-certificates: encrypts the reports of the scheduled certificate check ${this.node.path}`,
        enableKeyRotation: true,
      });
      this.topic = new sns.Topic(this, 'Topic', {
        displayName: 'cdk-certificates scheduled certificate check',
        masterKey: topicKey,
        enforceSSL: true,
      });
    }

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'cdk-certificates scheduled live certificate check (read-only, publishes to SNS)',
    });
    this.role = role;
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR });
    logGroup.grantWrite(role);

    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudformation:ListStackResources'],
      // This construct's own stack by its ID (exact); another stack by its name and any ID.
      resources: stacks.map((name) => (name === stack.stackName ? Aws.STACK_ID : stack.formatArn({
        service: 'cloudformation',
        resource: 'stack',
        resourceName: `${name}/*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }))),
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [...CertificateCheckStep.LIVE_CHECK_ACTIONS],
      resources: ['*'],
    }));
    // sns:Publish on the topic, and kms:Decrypt/GenerateDataKey* on its key when the topic has one.
    this.topic.grantPublish(role);

    const fn = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(LIVE_LAMBDA_ASSET),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      // A few reads per certificate; a stack with hundreds of certificates still fits.
      timeout: Duration.minutes(5),
      memorySize: 256,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: 'cdk-certificates: scheduled live certificate check (cdk-certificates check --live), reports to SNS',
      environment: {
        STACKS: stacks.join(','),
        TOPIC_ARN: this.topic.topicArn,
        MIN_DAYS: Token.isUnresolved(minDays) ? Token.asString(minDays) : String(minDays),
        NOTIFY_ON_SUCCESS: props.notifyOnSuccess ? 'true' : 'false',
      },
    });
    this.checkFunction = fn;

    // The schedule's own role (EventBridge Scheduler assumes it), allowed to invoke the function only.
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'cdk-certificates scheduled live certificate check: invokes its function',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      schedule: props.schedule ?? scheduler.ScheduleExpression.rate(Duration.days(1)),
      // A failed run reports itself when it can; the next scheduled run checks again.
      target: new targets.LambdaInvoke(fn, { retryAttempts: 0, role: scheduleRole }),
      description: `cdk-certificates: scheduled live certificate check ${this.node.path}`,
    });

    // Findings of rule packs such as cdk-nag's AwsSolutions on what this construct owns, each with
    // its reason, for cdk-nag 3 (construct acknowledgements) and cdk-nag 2 (cdk_nag metadata).
    const acknowledge = (target: Construct, ...findings: Array<{ id: string; reason: string }>) => {
      for (const finding of findings) {
        Validations.of(target).acknowledge(finding);
      }
      suppressForNag2(target, findings);
    };
    acknowledge(fn, {
      id: 'AwsSolutions-L1',
      reason: 'cdk-certificates pins the scheduled check to Node.js 22, the runtime its bundle targets and is tested on.',
    });
    // cdk-nag names each IAM5 finding by the wildcard it found, so each is acknowledged by that name.
    acknowledge(role.node.findChild('DefaultPolicy'),
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'The live check reads certificates through CertificateCheckStep.LIVE_CHECK_ACTIONS (IAM GetServerCertificate, DMS '
          + 'DescribeCertificates/DescribeEndpoints, Lightsail GetCertificates, ACM DescribeCertificate/GetCertificate, ACM Private CA '
          + 'GetCertificateAuthorityCertificate/GetCertificate): read-only, never a private key, on * because the certificates are found '
          + 'at run time in the checked stacks and IAM, DMS and Lightsail take no narrower resource for these reads.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: 'sns.ITopic.grantPublish: publishing to a topic encrypted with KMS needs kms:GenerateDataKey* on the topic\'s key only.',
      },
    );
    // Another stack's ARN ends in its ID, unknown at synth. cdk-nag names that finding by the ARN with
    // its pseudo parameters (`<AWS::Partition>`), and Validations.acknowledge refuses an ID with more
    // than one `::`, so these acknowledgements are recorded as it records them, under its metadata key.
    const known = (value: string, placeholder: string) => (Token.isUnresolved(value) ? placeholder : value);
    const otherStacks = stacks.filter((name) => name !== stack.stackName && !Token.isUnresolved(name));
    if (otherStacks.length > 0) {
      const reason = 'cloudformation:ListStackResources on a checked stack by its name: the trailing * stands for the stack ID, unknown at synth.';
      const findingIds = otherStacks.map((name) => `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:${known(stack.region, '<AWS::Region>')}:`
        + `${known(stack.account, '<AWS::AccountId>')}:stack/${name}/*]`);
      const policy = role.node.findChild('DefaultPolicy');
      policy.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, Object.fromEntries(findingIds.map((f) => [f, reason])));
      suppressForNag2(policy, findingIds.map((f) => ({ id: f, reason })));
    }
    const fnLogicalId = stack.resolve(stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction));
    acknowledge(scheduleRole.node.findChild('DefaultPolicy'), {
      id: `AwsSolutions-IAM5[Resource::<${fnLogicalId}.Arn>:*]`,
      reason: 'aws-cdk-lib\'s LambdaInvoke target grants lambda:InvokeFunction on the check function and its versions, nothing else.',
    });
  }
}
