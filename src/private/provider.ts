import * as path from 'path';
import { Aws, Duration, Fn, Names, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/** The folder that holds the bundled handlers, in the source tree and in the npm package alike. */
export const HANDLER_ASSETS_DIR = path.join(__dirname, '..', '..', 'assets', 'lambda');

export interface HandlerProviderProps {
  /** Folder of the handler under `lambda/` (and `assets/lambda/`), e.g. `server-certificate`. */
  readonly handlerName: string;
  /** Description of the handler function. */
  readonly description: string;
  /**
   * Timeout of each handler invocation.
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /**
   * Whether the handler module exports `isComplete`, polled by the Provider framework.
   * @default false
   */
  readonly isComplete?: boolean;
  /** @default Duration.seconds(10) */
  readonly queryInterval?: Duration;
  /** @default Duration.minutes(30) */
  readonly totalTimeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /**
   * Network placement of the handler functions; providers with different VPCs are distinct.
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;
  /** @default - the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/**
 * One handler function (plus the Provider framework's own) per stack and handler kind, whatever
 * the number of resources it serves. Each kind has its own role with only its own permissions.
 */
export class HandlerProvider extends Construct {
  /** Returns the stack's provider for this handler kind, creating it on first use. */
  public static getOrCreate(scope: Construct, props: HandlerProviderProps): HandlerProvider {
    const stack = Stack.of(scope);
    const id = `CdkCertificates${pascal(props.handlerName)}Provider${props.vpc ? `-${props.vpc.node.addr}` : ''}`;
    const existing = stack.node.tryFindChild(id);
    if (existing instanceof HandlerProvider) {
      return existing;
    }
    return new HandlerProvider(stack, id, props);
  }

  /** The function that runs `onEvent`. */
  public readonly onEventFunction: lambda.Function;
  /** The function that runs `isComplete`, when the handler waits. */
  public readonly isCompleteFunction?: lambda.Function;
  /** The role shared by the handler functions. */
  public readonly role: iam.Role;
  /** The service token to give custom resources. */
  public readonly serviceToken: string;

  private constructor(scope: Construct, id: string, props: HandlerProviderProps) {
    super(scope, id);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `cdk-certificates ${props.handlerName} handler`,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
    });
    logGroup.grantWrite(this.role);
    if (props.vpc) {
      this.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
    }

    const code = lambda.Code.fromAsset(path.join(HANDLER_ASSETS_DIR, props.handlerName, 'index'));
    const common: Omit<lambda.FunctionProps, 'handler'> = {
      code,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize ?? 256,
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
    };
    this.onEventFunction = new lambda.Function(this, 'OnEvent', {
      ...common,
      handler: 'index.onEvent',
      description: props.description,
    });
    if (props.isComplete) {
      this.isCompleteFunction = new lambda.Function(this, 'IsComplete', {
        ...common,
        handler: 'index.isComplete',
        description: `${props.description} (completion check)`,
      });
    }

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEventFunction,
      isCompleteHandler: this.isCompleteFunction,
      queryInterval: props.isComplete ? props.queryInterval ?? Duration.seconds(10) : undefined,
      totalTimeout: props.isComplete ? props.totalTimeout ?? Duration.minutes(30) : undefined,
      logGroup: new logs.LogGroup(this, 'FrameworkLogs', { retention: logs.RetentionDays.ONE_YEAR }),
      // The waiter's history is logged, but not its execution data: that holds the ResponseURL.
      ...(props.isComplete ? {
        disableWaiterStateMachineLogging: false,
        waiterStateMachineLogOptions: {
          destination: new logs.LogGroup(this, 'WaiterLogs', {
            retention: logs.RetentionDays.ONE_YEAR,
            // Under /aws/vendedlogs/, as aws-cdk-lib names state machine log groups: CloudWatch Logs
            // then needs no resource policy entry for the delivery (resource policies are capped at
            // 5,120 characters, and a full one makes creating the state machine fail). The stack's
            // UUID keeps a retained group from a deleted stack from colliding with a new one.
            logGroupName: Fn.join('', [
              '/aws/vendedlogs/states/',
              Names.uniqueResourceName(this, { maxLength: 200, separator: '-' }),
              '-',
              Fn.select(2, Fn.split('/', Aws.STACK_ID)),
            ]),
          }),
          level: sfn.LogLevel.ALL,
          includeExecutionData: false,
        },
      } : {}),
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
    });
    this.serviceToken = provider.serviceToken;

    // Findings of rule packs such as cdk-nag's AwsSolutions on resources the library owns, each
    // with its reason, so that users' own findings stand out.
    for (const fn of [this.onEventFunction, this.isCompleteFunction]) {
      if (fn) {
        Validations.of(fn).acknowledge({
          id: 'AwsSolutions-L1',
          reason: 'cdk-certificates pins its handlers to Node.js 22, the runtime their bundles target and are tested on.',
        });
      }
    }
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'The custom_resources.Provider framework function and its runtime are set by aws-cdk-lib.',
    });
  }

  /** The principal to grant access to material and service APIs. */
  public get grantPrincipal(): iam.IPrincipal {
    return this.role;
  }
}

function pascal(name: string): string {
  return name.split(/[^a-zA-Z0-9]/).filter(Boolean).map(p => p[0].toUpperCase() + p.slice(1)).join('');
}
