/**
 * aws-cdk-lib's Provider framework, as the simulator runs it: the custom resource's ServiceToken is
 * the framework's onEvent function, whose `USER_ON_EVENT_FUNCTION_ARN` (and
 * `USER_IS_COMPLETE_FUNCTION_ARN`) name the user functions, whose code is an asset of the
 * synthesized assembly. That asset (the shipped bundle) is loaded the way the Lambda runtime loads
 * it: copied alone into a folder outside the project and required in-process, so the AWS SDK it
 * leaves external resolves only through jest's `modulePaths` (Lambda's NODE_PATH) and
 * aws-sdk-client-mock fakes intercept it. One module instance (a warm container) per function
 * (its ARN names stack and region) and code, so regional client caches never mix; `AWS_REGION` is
 * the stack's around each invocation.
 *
 * Framework rules modelled: a Create without PhysicalResourceId gets the RequestId; an Update
 * without one keeps the old ID; a Delete may not change it; isComplete is polled (here without
 * waiting, up to a bound) until IsComplete, and its Data is merged over onEvent's; a failed Create
 * reports the framework's CREATE_FAILED marker as physical ID, and its rollback Delete never
 * reaches the handler; the response body CloudFormation receives is measured, and one over 4096
 * bytes fails the step as CloudFormation does ("Response object is too long.").
 */
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const CREATE_FAILED_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';
export const MAX_RESPONSE_BYTES = 4096;

/** A handler module: the bundle's exports. */
export type HandlerModule = Record<string, any>;

/** A user function of the Provider framework: its ARN (one warm container each) and code. */
export interface UserFunction {
  readonly functionArn: string;
  /** `index.js` of the asset, as the assembly holds it. */
  readonly file: string;
  readonly exportName: string;
}

/** What a custom resource invocation is given. */
export interface CustomRequest {
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly region: string;
  readonly stackId: string;
  readonly logicalId: string;
  readonly resourceType: string;
  /** As CloudFormation sends them: resolved, scalars as strings, ServiceToken included. */
  readonly properties: Record<string, unknown>;
  readonly oldProperties?: Record<string, unknown>;
  readonly physicalId?: string;
  /** The user functions' code: `index.js` of the asset, and handler export names. */
  readonly onEvent: UserFunction;
  readonly isComplete?: UserFunction;
}

/** A custom resource's outcome, as CloudFormation sees it. */
export interface CustomResponse {
  readonly ok: boolean;
  readonly physicalId: string;
  readonly data: Record<string, unknown>;
  readonly noEcho?: boolean;
  readonly reason?: string;
  readonly responseBytes: number;
  /** The user handler was invoked. */
  readonly invoked: boolean;
}

/** Options of the framework emulation. */
export interface ProviderOptions {
  /** Turns the test knobs of a freshly loaded module (short deadlines, no real backoff). */
  readonly tune: (module: HandlerModule, file: string) => void;
  /** isComplete polls before "timed out". @default 60 */
  readonly maxPolls?: number;
}

/**
 * Short test knobs for every handler kind: deadlines a few hundred milliseconds, intervals a few,
 * backoff sleeps capped at 5 ms (the waits still happen, on the real clock).
 */
export function shortKnobs(module: HandlerModule): void {
  if (module.retryConfig && typeof module.retryConfig === 'object') {
    module.retryConfig.sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 5)));
  }
  for (const name of ['settings', 'pcaSettings', 'certificateTiming']) {
    const knobs = module[name];
    if (!knobs || typeof knobs !== 'object') {
      continue;
    }
    for (const key of Object.keys(knobs)) {
      if (/DeadlineMs$/.test(key)) {
        knobs[key] = 400;
      } else if (/IntervalMs$/.test(key)) {
        knobs[key] = 10;
      }
    }
  }
}

/** The Provider framework over the bundles of one simulated world. */
export class ProviderFramework {
  /** Every line the handlers logged (console), in order, with the region and file. */
  public readonly logs: string[] = [];
  private readonly modules = new Map<string, { readonly file: string; readonly module: HandlerModule }>();
  private readonly runtimeRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-certificates-sim-'));

  constructor(private readonly options: ProviderOptions) {
    const root = this.runtimeRoot;
    process.once('exit', () => fs.rmSync(root, { recursive: true, force: true }));
  }

  /**
   * The warm module (container) of one Lambda function: its code loaded once, tuned once. A new
   * function ARN or new code is a new container, so regional client caches never mix.
   */
  public module(fn: Pick<UserFunction, 'functionArn' | 'file'>): HandlerModule {
    const source = fs.readFileSync(fn.file);
    const key = `${fn.functionArn}#${createHash('sha256').update(source).digest('hex').slice(0, 16)}`;
    let loaded = this.modules.get(key);
    if (!loaded) {
      const dir = path.join(this.runtimeRoot, createHash('sha256').update(key).digest('hex').slice(0, 24));
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'index.js'), source);
      loaded = { file: fn.file, module: jest.requireActual(path.join(dir, 'index.js')) as HandlerModule };
      this.options.tune(loaded.module, fn.file);
      this.modules.set(key, loaded);
    }
    return loaded.module;
  }

  /** Every container loaded so far (oldest first), with the asset file it runs. */
  public loadedModules(): ReadonlyArray<{ readonly file: string; readonly module: HandlerModule }> {
    return [...this.modules.values()];
  }

  /** Runs one request through the framework and the user handler. */
  public async invoke(req: CustomRequest): Promise<CustomResponse> {
    const requestId = randomUUID();
    const body = (status: 'SUCCESS' | 'FAILED', physicalId: string, data?: Record<string, unknown>, noEcho?: boolean, reason?: string) => JSON.stringify({
      Status: status,
      Reason: reason ?? 'OK',
      PhysicalResourceId: physicalId,
      StackId: req.stackId,
      RequestId: requestId,
      LogicalResourceId: req.logicalId,
      NoEcho: noEcho,
      Data: data,
    });
    const fail = (reason: string, invoked: boolean): CustomResponse => {
      const physicalId = req.requestType === 'Create' ? CREATE_FAILED_MARKER : req.physicalId ?? CREATE_FAILED_MARKER;
      return { ok: false, physicalId, data: {}, reason, responseBytes: Buffer.byteLength(body('FAILED', physicalId, undefined, undefined, reason)), invoked };
    };
    if (req.requestType === 'Delete' && req.physicalId === CREATE_FAILED_MARKER) {
      // The framework answers the rollback Delete of a failed Create itself.
      const b = body('SUCCESS', CREATE_FAILED_MARKER);
      return { ok: true, physicalId: CREATE_FAILED_MARKER, data: {}, responseBytes: Buffer.byteLength(b), invoked: false };
    }
    const event: Record<string, unknown> = {
      RequestType: req.requestType,
      ServiceToken: req.properties.ServiceToken,
      ResponseURL: `https://cloudformation-custom-resource-response-${req.region}.s3.amazonaws.com/${encodeURIComponent(req.stackId)}%7C${req.logicalId}%7C${requestId}?X-Amz-Signature=${randomUUID().replace(/-/g, '')}`,
      StackId: req.stackId,
      RequestId: requestId,
      LogicalResourceId: req.logicalId,
      ResourceType: req.resourceType,
      ResourceProperties: req.properties,
      ...(req.oldProperties ? { OldResourceProperties: req.oldProperties } : {}),
      ...(req.physicalId !== undefined ? { PhysicalResourceId: req.physicalId } : {}),
    };
    let result: any;
    try {
      result = await this.call(req.region, req.onEvent, event) ?? {};
    } catch (e) {
      return fail(errorText(e), true);
    }
    let physicalId: string = result.PhysicalResourceId
      ?? (req.requestType === 'Create' ? requestId : req.physicalId!);
    if (req.requestType === 'Delete' && physicalId !== req.physicalId) {
      return fail(`DELETE: cannot change the physical resource ID from "${req.physicalId}" to "${physicalId}" during deletion`, true);
    }
    let data: Record<string, unknown> = { ...(result.Data ?? {}) };
    if (req.isComplete) {
      const maxPolls = this.options.maxPolls ?? 60;
      let done = false;
      for (let poll = 0; poll < maxPolls && !done; poll++) {
        let complete: any;
        try {
          complete = await this.call(req.region, req.isComplete, { ...event, ...result, PhysicalResourceId: physicalId, Data: data });
        } catch (e) {
          return fail(errorText(e), true);
        }
        if (complete?.IsComplete) {
          done = true;
          data = { ...data, ...(complete.Data ?? {}) };
        }
      }
      if (!done) {
        return fail(`Operation timed out (isComplete polled ${maxPolls} times)`, true);
      }
    }
    physicalId = String(physicalId);
    const bytes = Buffer.byteLength(body('SUCCESS', physicalId, data, result.NoEcho), 'utf8');
    if (bytes > MAX_RESPONSE_BYTES) {
      return { ...fail(`Response object is too long. (${bytes} bytes)`, true), responseBytes: bytes };
    }
    return { ok: true, physicalId, data, noEcho: result.NoEcho, responseBytes: bytes, invoked: true };
  }

  private async call(region: string, fn: UserFunction, event: unknown): Promise<any> {
    const mod = this.module(fn);
    const handler = mod[fn.exportName];
    if (typeof handler !== 'function') {
      throw new Error(`Runtime.HandlerNotFound: index.${fn.exportName} is undefined or not exported`);
    }
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    process.env.AWS_REGION = region;
    process.env.AWS_DEFAULT_REGION = region;
    // The handler's log lines go to CloudWatch Logs: here, to `logs` (not the test output).
    const consoleMethods = ['log', 'info', 'warn', 'error', 'debug'] as const;
    const savedConsole = consoleMethods.map((m) => console[m]);
    for (const m of consoleMethods) {
      console[m] = (...args: unknown[]) => {
        this.logs.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      };
    }
    try {
      // Each invocation gets its own copy of the event, as it would over the wire.
      return await handler(JSON.parse(JSON.stringify(event)), { awsRequestId: randomUUID(), functionName: path.basename(path.dirname(fn.file)) });
    } finally {
      consoleMethods.forEach((m, i) => {
        console[m] = savedConsole[i];
      });
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) {
          delete process.env[k];
        } else {
          process.env[k] = v;
        }
      }
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
