/**
 * A small Lambda-like runtime for the shipped handler bundles in `assets/lambda/<kind>/index`.
 *
 * Like a Lambda container it copies the bundle into a task folder of its own (outside the project,
 * so no `node_modules` up the tree), starts one plain Node.js process there (no ts-node, no jest)
 * whose environment gives the AWS SDK only through `NODE_PATH`, loads the bundle once (the init
 * phase) and keeps the process warm across invocations. Each invocation crosses process
 * boundaries as JSON over IPC, and the handler's error comes back with its name, message and stack.
 *
 * Everything the handler writes (console, stdout, stderr) is forwarded, in order and before the
 * invocation's result, to this process's console, so `LifecycleDriver`'s log capture and leak
 * checks see it.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HandlerModule } from './harness/lifecycle';

/** The project root (where `assets/` and `node_modules/` are). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Where the bundles are: `npx projen bundle`'s output, or `$HANDLER_ASSETS_DIR` (e.g. the
 * `assets/lambda` of an unpacked npm tarball, or a copy with a bundle broken on purpose).
 */
export const ASSETS_DIR = process.env.HANDLER_ASSETS_DIR || path.join(PROJECT_ROOT, 'assets', 'lambda');

/** The runner: the part of the Lambda runtime that loads the handler and invokes it. Plain JS. */
const RUNNER_SOURCE = String.raw`'use strict';
const path = require('path');

const taskRoot = process.env.LAMBDA_TASK_ROOT;
const handlerFile = path.join(taskRoot, 'index.js');

function post(message) {
  if (process.connected) {
    process.send(message);
  }
}

// Route every write through IPC so it reaches the parent in order, before the result it precedes.
for (const name of ['stdout', 'stderr']) {
  const stream = process[name];
  stream.write = (chunk, encoding, callback) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8');
    post({ type: 'output', stream: name, text });
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') {
      done();
    }
    return true;
  };
}

// Record each HTTP request the handler makes (its operation; its JSON input when asked for), as
// a test double of CloudTrail. The bodies themselves never leave this process otherwise.
const recordInputsOf = new Set(JSON.parse(process.argv[2] || '[]'));
for (const mod of [require('http'), require('https')]) {
  const original = mod.request;
  mod.request = function request(...args) {
    const req = original.apply(this, args);
    const chunks = [];
    let size = 0;
    const keep = (chunk) => {
      if (chunk !== undefined && chunk !== null && typeof chunk !== 'function' && size < 1048576) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        chunks.push(buffer);
        size += buffer.length;
      }
    };
    const write = req.write;
    req.write = function (chunk, ...rest) {
      keep(chunk);
      return write.call(this, chunk, ...rest);
    };
    const end = req.end;
    req.end = function (chunk, ...rest) {
      keep(chunk);
      const body = Buffer.concat(chunks).toString('utf8');
      const target = String(req.getHeader('x-amz-target') || '');
      let operation;
      let input;
      if (target) {
        operation = target.slice(target.lastIndexOf('.') + 1);
        if (recordInputsOf.has(operation)) {
          try {
            input = JSON.parse(body);
          } catch {
            input = undefined;
          }
        }
      } else if (/^Action=/.test(body)) {
        operation = new URLSearchParams(body).get('Action');
      } else {
        const url = new URL(req.path, 'http://host');
        operation = url.searchParams.get('x-id') || (req.method + ' ' + url.pathname);
      }
      post({ type: 'call', operation, input });
      return end.call(this, chunk, ...rest);
    };
    return req;
  };
}

function serializeError(e) {
  if (e instanceof Error) {
    return { name: e.name, message: e.message, stack: e.stack };
  }
  return { name: 'Error', message: String(e), stack: undefined };
}

// The init phase: load the handler once, as the runtime does on a cold start.
let handler;
let initError;
try {
  handler = require(handlerFile);
} catch (e) {
  initError = serializeError(e);
  console.error(JSON.stringify({ errorType: 'Runtime.ImportModuleError', errorMessage: initError.message }));
}

async function invoke(message) {
  if (initError) {
    throw Object.assign(new Error(initError.message), { name: initError.name, stack: initError.stack });
  }
  const fn = handler[message.method];
  if (typeof fn !== 'function') {
    throw new Error('Runtime.HandlerNotFound: index.' + message.method + ' is undefined or not exported');
  }
  return fn(message.event, { awsRequestId: message.id, functionName: process.env.AWS_LAMBDA_FUNCTION_NAME });
}

function setSettings(message) {
  if (initError) {
    throw new Error('the handler failed to load: ' + initError.message);
  }
  const target = handler[message.exportName];
  if (!target || typeof target !== 'object') {
    throw new Error('the bundle exports no object ' + message.exportName);
  }
  for (const [key, value] of Object.entries(message.values)) {
    if (!Object.prototype.hasOwnProperty.call(target, key)) {
      throw new Error(message.exportName + ' has no field ' + key + ' (fields: ' + Object.keys(target).join(', ') + ')');
    }
    target[key] = value;
  }
  return { ...target };
}

process.on('message', (message) => {
  let work;
  try {
    work = message.type === 'invoke' ? invoke(message) : Promise.resolve(setSettings(message));
  } catch (e) {
    work = Promise.reject(e);
  }
  Promise.resolve(work).then(
    (value) => post({ type: 'result', id: message.id, ok: true, value: value === undefined ? null : JSON.parse(JSON.stringify(value)) }),
    (e) => post({ type: 'result', id: message.id, ok: false, error: serializeError(e) }),
  );
});

post({ type: 'ready', exports: handler ? Object.keys(handler) : [], initError });
`;

/** Options of {@link LambdaRuntime}. */
export interface LambdaRuntimeOptions {
  /** The handler: `assets/lambda/<kind>/index`. */
  readonly kind: string;
  /** Extra environment (AWS_ENDPOINT_URL, AWS_REGION, credentials, ...). */
  readonly env: Record<string, string>;
  /**
   * Where the SDK comes from, as the Lambda runtime provides it. `null` sets no NODE_PATH (to show
   * that the bundle then finds no SDK). @default `<project>/node_modules`
   */
  readonly nodePath?: string | null;
  /** Where the bundles are. @default {@link ASSETS_DIR} */
  readonly assetsDir?: string;
  /**
   * Operations (as the SDK names them, e.g. `RevokeCertificate`) of JSON-protocol services whose
   * request body {@link LambdaRuntime.calls} records as `input`. @default none
   */
  readonly recordInputsOf?: string[];
  /** Like the function's timeout: an invocation running longer ends the process. @default 60 s */
  readonly timeoutMs?: number;
}

/** One HTTP request a handler made. */
export interface RecordedCall {
  readonly operation: string;
  readonly input?: Record<string, unknown>;
}

interface Pending {
  readonly timer: NodeJS.Timeout;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface RunnerError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

type RunnerMessage =
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'call'; operation: string; input?: Record<string, unknown> }
  | { type: 'result'; id: string; ok: true; value: unknown }
  | { type: 'result'; id: string; ok: false; error: RunnerError }
  | { type: 'ready'; exports: string[]; initError?: RunnerError };

/** Writes a child's output to this process's console, one line per call. */
function forward(stream: 'stdout' | 'stderr', text: string): void {
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  for (const line of lines) {
    if (stream === 'stderr') {
      console.error('%s', line);
    } else {
      console.log('%s', line);
    }
  }
}

/** Forwards a pipe line by line (what bypasses the runner's hooks: Node's own fatal messages). */
function forwardPipe(pipe: NodeJS.ReadableStream | null, stream: 'stdout' | 'stderr'): void {
  let buffered = '';
  pipe?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const end = buffered.lastIndexOf('\n');
    if (end >= 0) {
      forward(stream, buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
    }
  });
  pipe?.on('end', () => {
    if (buffered.length > 0) {
      forward(stream, buffered);
      buffered = '';
    }
  });
}

/**
 * One warm "container" of a handler bundle. `handler` is what `LifecycleDriver` drives;
 * {@link setSettings} changes the bundle's exported `settings`; {@link stop} ends the process.
 */
export class LambdaRuntime<P> {
  /**
   * Copies the bundle and starts its process (the cold start). `handler.isComplete` is there when
   * the bundle exports it, as the Provider framework calls it only when configured.
   */
  public static async start<P>(options: LambdaRuntimeOptions): Promise<LambdaRuntime<P>> {
    const runtime = new LambdaRuntime<P>(options);
    try {
      const exported = await runtime.boot();
      if (exported.includes('isComplete')) {
        runtime.handler.isComplete = (event) => runtime.invoke('isComplete', event) as never;
      }
    } catch (e) {
      await runtime.stop();
      throw e;
    }
    return runtime;
  }

  /** The folder the bundle was copied to (the task root). */
  public readonly taskRoot: string;
  /** onEvent / isComplete over IPC; isComplete only when the bundle exports it. */
  public readonly handler: HandlerModule<P>;
  /**
   * Every HTTP request the handler made, in order: the operation (`UploadServerCertificate`,
   * `GetSecretValue`, `GetObject`, ...), and its input for {@link LambdaRuntimeOptions.recordInputsOf}.
   */
  public readonly calls: RecordedCall[] = [];
  /** Invocations sent so far. */
  public invocations = 0;
  /** Processes started so far (1 while warm; a crash or timeout means a cold start next). */
  public coldStarts = 0;

  private readonly root: string;
  private readonly runnerFile: string;
  private readonly options: LambdaRuntimeOptions;
  private readonly timeoutMs: number;
  private child: ChildProcess | undefined;
  private ready: Promise<string[]> | undefined;
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private readonly settings: Array<{ exportName: string; values: Record<string, unknown> }> = [];

  private constructor(options: LambdaRuntimeOptions) {
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    const bundle = path.join(options.assetsDir ?? ASSETS_DIR, options.kind, 'index');
    if (!fs.existsSync(path.join(bundle, 'index.js'))) {
      throw new Error(`no handler bundle at ${bundle}/index.js; run \`npx projen bundle\``);
    }
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `lambda-${options.kind}-`));
    this.taskRoot = path.join(this.root, 'task');
    const runtimeDir = path.join(this.root, 'runtime');
    fs.cpSync(bundle, this.taskRoot, { recursive: true });
    fs.mkdirSync(runtimeDir);
    this.runnerFile = path.join(runtimeDir, 'runner.js');
    fs.writeFileSync(this.runnerFile, RUNNER_SOURCE);

    this.handler = { onEvent: (event) => this.invoke('onEvent', event) as never };
  }

  /**
   * Sets fields of an object the bundle exports (e.g. `settings`); returns its fields after. Like
   * a function's configuration, they are applied again after a cold start.
   */
  public async setSettings(values: Record<string, unknown>, exportName = 'settings'): Promise<Record<string, unknown>> {
    const fields = await this.send({ type: 'settings', exportName, values }) as Record<string, unknown>;
    this.settings.push({ exportName, values });
    return fields;
  }

  /** Ends the process and removes the task folder. Safe to call twice. */
  public async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** The process ID of the warm process, if any. */
  public get pid(): number | undefined {
    return this.child?.pid;
  }

  private environment(): NodeJS.ProcessEnv {
    const functionName = `test-${this.options.kind}`;
    const env: NodeJS.ProcessEnv = {
      // Only what the Lambda runtime sets, plus the test's: no NODE_OPTIONS, no jest or ts-node.
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      HOME: this.root,
      LAMBDA_TASK_ROOT: this.taskRoot,
      LAMBDA_RUNTIME_DIR: path.dirname(this.runnerFile),
      AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      // No shared config or credentials files: the environment is the only source.
      AWS_CONFIG_FILE: path.join(this.root, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(this.root, 'no-aws-credentials'),
      ...this.options.env,
    };
    const nodePath = this.options.nodePath === undefined ? path.join(PROJECT_ROOT, 'node_modules') : this.options.nodePath;
    if (nodePath !== null) {
      env.NODE_PATH = nodePath;
    }
    return env;
  }

  private spawn(): Promise<string[]> {
    this.coldStarts++;
    const child = fork(this.runnerFile, [JSON.stringify(this.options.recordInputsOf ?? [])], {
      cwd: this.taskRoot,
      env: this.environment(),
      execPath: process.execPath,
      // Not jest's flags: a plain `node runner.js`.
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    forwardPipe(child.stdout, 'stdout');
    forwardPipe(child.stderr, 'stderr');

    return new Promise<string[]>((resolve, reject) => {
      child.on('message', (raw: unknown) => {
        const message = raw as RunnerMessage;
        switch (message.type) {
          case 'output':
            forward(message.stream, message.text);
            break;
          case 'call':
            this.calls.push({ operation: message.operation, input: message.input });
            break;
          case 'ready':
            resolve(message.exports);
            break;
          case 'result': {
            const pending = this.pending.get(message.id);
            if (!pending) {
              break;
            }
            this.pending.delete(message.id);
            clearTimeout(pending.timer);
            if (message.ok) {
              pending.resolve(message.value ?? undefined);
            } else {
              pending.reject(reviveError(message.error));
            }
            break;
          }
        }
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        const why = new Error(`Runtime exited with ${signal ? `signal ${signal}` : `code ${code}`} (${this.options.kind})`);
        reject(why);
        for (const [id, pending] of this.pending) {
          clearTimeout(pending.timer);
          this.pending.delete(id);
          pending.reject(Object.assign(why, { name: 'Runtime.ExitError' }));
        }
        if (this.child === child) {
          // The next invocation is a cold start, as after a crashed Lambda container.
          this.child = undefined;
          this.ready = undefined;
        }
      });
    });
  }

  /**
   * Starts the process (a cold start) unless it is running, and applies the settings set so far;
   * resolves with the bundle's exports.
   */
  private async boot(): Promise<string[]> {
    if (!this.ready) {
      this.ready = this.spawn().then(async (exported) => {
        for (const { exportName, values } of this.settings) {
          await this.request({ type: 'settings', exportName, values });
        }
        return exported;
      });
    }
    return this.ready;
  }

  private async invoke(method: 'onEvent' | 'isComplete', event: unknown): Promise<unknown> {
    this.invocations++;
    return this.send({ type: 'invoke', method, event });
  }

  private async send(message: Record<string, unknown>): Promise<unknown> {
    await this.boot();
    return this.request(message);
  }

  /** Sends one message to the running process and waits for its result. */
  private request(message: Record<string, unknown>): Promise<unknown> {
    const child = this.child;
    if (!child) {
      return Promise.reject(new Error(`the ${this.options.kind} runtime is not running`));
    }
    const id = `${process.pid}-${++this.nextId}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`Task timed out after ${(this.timeoutMs / 1000).toFixed(2)} seconds`));
        child.kill('SIGKILL');
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      child.send({ ...message, id });
    });
  }
}

/** The handler's error as thrown in the child: same name, message and stack. */
function reviveError(error: RunnerError): Error {
  const revived = new Error(error.message);
  revived.name = error.name;
  revived.stack = error.stack ?? `${error.name}: ${error.message}`;
  return revived;
}

/** The environment that sends a bundle's AWS SDK clients to `endpoint` with dummy credentials. */
export function awsEnvironment(
  endpoint: string,
  region: string,
  credentials: { readonly accessKeyId: string; readonly secretAccessKey: string },
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: 'moto-test-session-token-not-real',
  };
}
