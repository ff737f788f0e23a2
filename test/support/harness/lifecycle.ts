import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { captureLogs } from './capture';
import type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse, RequestType } from '../../../lambda/shared/cfn';

/**
 * The physical ID the Provider framework reports when a Create's onEvent throws. CloudFormation then
 * sends the rollback Delete with it, and the framework answers that Delete itself: the handler is
 * never called, so a handler that fails part-way through a Create must clean up before it throws.
 */
export const CREATE_FAILED_PHYSICAL_ID = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

/** CloudFormation rejects a custom-resource response body larger than this. */
export const MAX_RESPONSE_BYTES = 4096;

/** CloudFormation rejects a physical resource ID longer than this. */
export const MAX_PHYSICAL_ID_LENGTH = 1024;

/** A handler as the Provider framework sees it. */
export interface HandlerModule<P> {
  onEvent(e: OnEventRequest<P>): Promise<OnEventResponse>;
  isComplete?(e: IsCompleteRequest<P>): Promise<IsCompleteResponse>;
}

/** The request a step sent, as the handler received it (the Provider framework passes the ResponseURL on). */
export type SentEvent<P> = OnEventRequest<P> & { readonly ResponseURL: string };

/** What one CloudFormation request did. */
export interface StepResult {
  /** `#<n> <RequestType>`, used in failure messages. */
  readonly label: string;
  readonly requestType: RequestType;
  readonly requestId: string;
  /**
   * The physical ID CloudFormation records from the response (SUCCESS or FAILED): the handler's,
   * the framework's default (RequestId on Create), or {@link CREATE_FAILED_PHYSICAL_ID}.
   */
  readonly physicalResourceId?: string;
  /** Response Data (onEvent's merged with isComplete's, as the framework merges them). */
  readonly data?: Record<string, string>;
  readonly noEcho?: boolean;
  /** Set when the request failed (the FAILED response's reason is its stack). */
  readonly error?: Error;
  /** API calls made on the fakes during the step ({@link LifecycleDriverOptions.countApiCalls}). */
  readonly apiCalls: number;
  /** Everything the handler wrote during the step. */
  readonly logs: string[];
  /** False when the framework answered without calling the handler (Delete after a failed Create). */
  readonly handlerInvoked: boolean;
  /** isComplete calls made (0 without isComplete). */
  readonly isCompleteAttempts: number;
  /** The onEvent request as sent. */
  readonly event: SentEvent<unknown>;
  /** Every raw handler response (onEvent, then each isComplete). */
  readonly responses: unknown[];
}

/** Options of {@link LifecycleDriver}. */
export interface LifecycleDriverOptions<P> {
  readonly handler: HandlerModule<P>;
  /** `Custom::Xxx`, as the construct declares it. */
  readonly resourceType: string;
  /** Total write + read calls made on the fakes so far; steps report the difference. */
  readonly countApiCalls: () => number;
  /** isComplete calls before the framework gives up with "Operation timed out". @default 20 */
  readonly maxIsCompleteAttempts?: number;
  /** @default 'Resource' */
  readonly logicalResourceId?: string;
  /** The stack's ID (another stack, region or account). @default a new ID of stack TestStack in us-east-1 */
  readonly stackId?: string;
}

/** Options of {@link LifecycleDriver.create}. */
export interface CreateOptions {
  /** Reuse a RequestId (a redelivered request). @default a new one */
  readonly requestId?: string;
}

/**
 * Deep-converts numbers and booleans to strings and drops undefined/null, as CloudFormation does
 * to custom-resource properties.
 */
export function stringifyProps<P>(props: P): P {
  return stringifyValue(props) as P;
}

function stringifyValue(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (Array.isArray(value)) {
    return value.filter((v) => v !== undefined && v !== null).map(stringifyValue);
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined && item !== null) {
        out[key] = stringifyValue(item);
      }
    }
    return out;
  }
  return value;
}

// What crosses a Lambda invoke is JSON: handlers get a fresh copy and cannot share objects with us.
function viaJson<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

const PRIVATE_KEY_BLOCK = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----/;

/**
 * Sends a handler CloudFormation's requests through the Provider framework's contract: the event
 * shapes (string properties, ResponseURL, RequestId, OldResourceProperties), the framework's default
 * physical IDs, the isComplete polling and Data merging, its checks (a Delete may not change the
 * physical ID, no Data while incomplete) and CloudFormation's response limits. Records every step's
 * logs, responses and errors for leak assertions.
 */
export class LifecycleDriver<P> {
  /** Every step so far, in order. */
  public readonly steps: StepResult[] = [];
  private readonly handler: HandlerModule<P>;
  private readonly resourceType: string;
  private readonly countApiCalls: () => number;
  private readonly maxIsCompleteAttempts: number;
  private readonly logicalResourceId: string;
  private readonly stackId: string;
  private readonly serviceToken: string;

  constructor(options: LifecycleDriverOptions<P>) {
    this.handler = options.handler;
    this.resourceType = options.resourceType;
    this.countApiCalls = options.countApiCalls;
    this.maxIsCompleteAttempts = options.maxIsCompleteAttempts ?? 20;
    this.logicalResourceId = options.logicalResourceId ?? 'Resource';
    this.stackId = options.stackId ?? `arn:aws:cloudformation:us-east-1:123456789012:stack/TestStack/${randomUUID()}`;
    this.serviceToken = 'arn:aws:lambda:us-east-1:123456789012:function:TestStack-ProviderframeworkonEvent-AbCdEf123456';
  }

  /** A Create (new RequestId unless given). */
  public async create(props: P, options: CreateOptions = {}): Promise<StepResult> {
    return this.run(this.event('Create', props, { requestId: options.requestId }));
  }

  /** Sends a step's request again, unchanged (same RequestId and ResponseURL): a redelivered invocation. */
  public async redeliver(step: StepResult): Promise<StepResult> {
    return this.run(viaJson(step.event) as SentEvent<P>);
  }

  /** An Update from `oldProps` to `newProps` of the resource `physicalId`. */
  public async update(physicalId: string, oldProps: P, newProps: P): Promise<StepResult> {
    return this.run(this.event('Update', newProps, { physicalId, oldProps }));
  }

  /** A Delete of `physicalId` (with the properties it was last created/updated with). */
  public async delete(physicalId: string, props: P): Promise<StepResult> {
    return this.run(this.event('Delete', props, { physicalId }));
  }

  /** Every log line, response, Data and error message of every step, concatenated. */
  public allOutput(): string {
    return this.steps.map((s) => stepOutput(s).map((p) => p.text).join('\n')).join('\n');
  }

  /**
   * Throws, naming the step and where (log, response, error), if any step's output holds one of
   * `secretValues` (whole, JSON-escaped, or any long line of it), a PEM private key block, or a
   * ResponseURL (or its signature). Values under 8 characters are skipped: too short to tell from
   * ordinary text. The message never repeats the secret.
   */
  public assertNoLeak(secretValues: string[]): void {
    const needles = secretNeedles(secretValues);
    const urls = this.steps.flatMap((s) => [s.event.ResponseURL, signatureOf(s.event.ResponseURL)]).filter((u) => u.length > 0);
    for (const step of this.steps) {
      for (const part of stepOutput(step)) {
        for (const needle of needles) {
          if (part.text.includes(needle.text)) {
            throw new Error(`assertNoLeak: ${step.label} leaked secret value #${needle.index} (${needle.what}, sha256 ${fingerprint(needle.text)}) in its ${part.where}`);
          }
        }
        if (PRIVATE_KEY_BLOCK.test(part.text)) {
          throw new Error(`assertNoLeak: ${step.label} leaked a PEM private key block in its ${part.where}`);
        }
        if (urls.some((u) => part.text.includes(u))) {
          throw new Error(`assertNoLeak: ${step.label} leaked a ResponseURL in its ${part.where}`);
        }
      }
    }
  }

  private event(type: RequestType, props: P, options: { requestId?: string; physicalId?: string; oldProps?: P }): SentEvent<P> {
    const requestId = options.requestId ?? randomUUID();
    const event: Record<string, unknown> = {
      RequestType: type,
      ServiceToken: this.serviceToken,
      ResponseURL: this.responseUrl(requestId),
      StackId: this.stackId,
      RequestId: requestId,
      LogicalResourceId: this.logicalResourceId,
      ResourceType: this.resourceType,
      ResourceProperties: { ServiceToken: this.serviceToken, ...stringifyProps(props) },
    };
    if (options.physicalId !== undefined) {
      event.PhysicalResourceId = options.physicalId;
    }
    if (type === 'Update') {
      event.OldResourceProperties = { ServiceToken: this.serviceToken, ...stringifyProps(options.oldProps) };
    }
    return event as unknown as SentEvent<P>;
  }

  // Shaped like CloudFormation's presigned S3 URL; the signature is what must never leak.
  private responseUrl(requestId: string): string {
    const path = encodeURIComponent(`${this.stackId}|${this.logicalResourceId}|${requestId}`);
    const signature = randomBytes(32).toString('hex');
    return `https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/${path}`
      + '?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=7200'
      + `&X-Amz-Credential=AKIAEXAMPLEEXAMPLE12%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=${signature}`;
  }

  private async run(event: SentEvent<P>): Promise<StepResult> {
    const label = `#${this.steps.length + 1} ${event.RequestType}`;
    const before = this.countApiCalls();
    const capture = captureLogs();
    const responses: unknown[] = [];
    let outcome: FrameworkOutcome;
    try {
      outcome = await this.framework(event, responses);
    } finally {
      capture.restore();
    }
    const step: StepResult = {
      label,
      requestType: event.RequestType,
      requestId: event.RequestId,
      physicalResourceId: outcome.physicalResourceId,
      data: outcome.data,
      noEcho: outcome.noEcho,
      error: outcome.error,
      apiCalls: this.countApiCalls() - before,
      logs: [...capture.lines],
      handlerInvoked: outcome.handlerInvoked,
      isCompleteAttempts: outcome.attempts,
      event: event as SentEvent<unknown>,
      responses,
    };
    this.steps.push(step);
    return step;
  }

  // The Provider framework's onEvent / isComplete / safeHandler logic (aws-cdk-lib
  // custom-resources/lib/provider-framework/runtime), with CloudFormation's response checks.
  private async framework(event: SentEvent<P>, responses: unknown[]): Promise<FrameworkOutcome> {
    if (event.RequestType === 'Delete' && event.PhysicalResourceId === CREATE_FAILED_PHYSICAL_ID) {
      return { physicalResourceId: CREATE_FAILED_PHYSICAL_ID, handlerInvoked: false, attempts: 0 };
    }
    let physicalResourceId = event.PhysicalResourceId;
    let attempts = 0;
    try {
      const raw = await this.handler.onEvent(viaJson(event));
      responses.push(raw);
      const result: OnEventResponse = viaJson(raw) ?? {};
      const resolvedId = result.PhysicalResourceId || (event.RequestType === 'Create' ? event.RequestId : event.PhysicalResourceId!);
      if (event.RequestType === 'Delete' && resolvedId !== event.PhysicalResourceId) {
        throw new Error(`DELETE: cannot change the physical resource ID from "${event.PhysicalResourceId}" to "${result.PhysicalResourceId}" during deletion`);
      }
      physicalResourceId = resolvedId;
      const resourceEvent = { ...event, ...result, PhysicalResourceId: resolvedId };
      let data = result.Data;
      if (this.handler.isComplete) {
        let done: IsCompleteResponse | undefined;
        while (!done && attempts < this.maxIsCompleteAttempts) {
          attempts++;
          const rawComplete = await this.handler.isComplete(viaJson(resourceEvent) as IsCompleteRequest<P>);
          responses.push(rawComplete);
          const complete: IsCompleteResponse = viaJson(rawComplete) ?? { IsComplete: false };
          if (complete.IsComplete) {
            done = complete;
          } else if (complete.Data && Object.keys(complete.Data).length > 0) {
            throw new Error('"Data" is not allowed if "IsComplete" is "False"');
          }
        }
        if (!done) {
          // The waiter state machine's timeout handler answers FAILED with this reason.
          throw new Error('Operation timed out');
        }
        data = { ...resourceEvent.Data, ...done.Data };
      }
      checkResponse(event, resolvedId, data, result.NoEcho);
      return { physicalResourceId: resolvedId, data, noEcho: result.NoEcho, handlerInvoked: true, attempts };
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      // A Create whose onEvent failed has no physical ID: the framework reports its marker.
      const failedId = physicalResourceId ?? (event.RequestType === 'Create' ? CREATE_FAILED_PHYSICAL_ID : undefined);
      return { physicalResourceId: failedId, error, handlerInvoked: true, attempts };
    }
  }
}

interface FrameworkOutcome {
  readonly physicalResourceId?: string;
  readonly data?: Record<string, string>;
  readonly noEcho?: boolean;
  readonly error?: Error;
  readonly handlerInvoked: boolean;
  readonly attempts: number;
}

function checkResponse(event: SentEvent<unknown>, physicalResourceId: string, data?: Record<string, string>, noEcho?: boolean): void {
  if (physicalResourceId.length > MAX_PHYSICAL_ID_LENGTH) {
    throw new Error(`PhysicalResourceId is ${physicalResourceId.length} characters; CloudFormation accepts at most ${MAX_PHYSICAL_ID_LENGTH}`);
  }
  // The body the framework PUTs to the ResponseURL.
  const body = JSON.stringify({
    Status: 'SUCCESS',
    Reason: 'SUCCESS',
    StackId: event.StackId,
    RequestId: event.RequestId,
    PhysicalResourceId: physicalResourceId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: noEcho,
    Data: data,
  });
  if (Buffer.byteLength(body, 'utf8') > MAX_RESPONSE_BYTES) {
    throw new Error(`Response object is too long (${Buffer.byteLength(body, 'utf8')} bytes; CloudFormation accepts ${MAX_RESPONSE_BYTES})`);
  }
}

interface OutputPart {
  readonly where: string;
  readonly text: string;
}

function stepOutput(step: StepResult): OutputPart[] {
  const parts: OutputPart[] = step.logs.map((text, i) => ({ where: `log line ${i + 1}`, text }));
  step.responses.forEach((r, i) => parts.push({ where: `response ${i + 1}`, text: JSON.stringify(r) ?? '' }));
  if (step.data) {
    parts.push({ where: 'Data', text: JSON.stringify(step.data) });
  }
  if (step.physicalResourceId) {
    parts.push({ where: 'PhysicalResourceId', text: step.physicalResourceId });
  }
  if (step.error) {
    // The framework sends the stack as the FAILED reason, so it reaches the stack events.
    parts.push({ where: 'error', text: `${step.error.message}\n${step.error.stack ?? ''}` });
  }
  return parts;
}

interface Needle {
  readonly index: number;
  readonly what: string;
  readonly text: string;
}

const MIN_SECRET_LENGTH = 8;
// A PEM body line is 64 characters; anything this long is specific enough to search for alone.
const MIN_LINE_LENGTH = 24;

function secretNeedles(secretValues: string[]): Needle[] {
  const needles: Needle[] = [];
  secretValues.forEach((value, index) => {
    if (value.length < MIN_SECRET_LENGTH) {
      return;
    }
    needles.push({ index, what: 'whole value', text: value });
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) {
      needles.push({ index, what: 'JSON-escaped value', text: escaped });
    }
    const lines = value.split(/\r?\n/).map((l) => l.trim());
    if (lines.length > 1) {
      for (const line of lines) {
        if (line.length >= MIN_LINE_LENGTH && !line.startsWith('-----')) {
          needles.push({ index, what: 'one line of it', text: line });
        }
      }
    }
  });
  return needles;
}

function signatureOf(url: string): string {
  return /X-Amz-Signature=([0-9a-f]+)/.exec(url)?.[1] ?? '';
}

function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** Inputs of {@link standardSequences}. */
export interface StandardSequenceOptions<P> {
  /** Base properties. */
  readonly props: P;
  /** Properties that update `props` in place (same physical ID). */
  readonly changedInPlace?: P;
  /** Properties that force replacement (a new physical ID). */
  readonly replacing: P;
  /** A Create that fails part-way: `arrange` sets the fakes up so that it fails. */
  readonly failingCreate?: { readonly props: P; arrange(): void };
  /** Called after each step so the caller can check its fake's state. */
  afterStep?(name: SequenceStepName, result: StepResult): void | Promise<void>;
}

/** The steps {@link standardSequences} runs, in order. */
export type SequenceStepName =
  | 'create' | 'retriedCreate' | 'updateNoChange' | 'updateInPlace' | 'updateReplace' | 'deleteOld'
  | 'delete' | 'deleteAgain' | 'failedCreate' | 'rollbackDelete';

/** Every step {@link standardSequences} ran. */
export type StandardSequenceResult = Partial<Record<SequenceStepName, StepResult>>;

/**
 * Runs CloudFormation's standard sequences against one driver: create; the same Create redelivered;
 * update with no change; update in place; update that replaces, then delete of the old ID; delete;
 * delete again; then a failed create and its rollback Delete. Checks what every handler owes
 * (success, a real physical ID rather than the RequestId, a stable ID on redelivery, no-op and
 * in-place updates, a new ID on replacement, idempotent deletes, a failing create that fails) and
 * throws naming the step otherwise. Everything else (no second resource, no write on a no-op, the
 * fake's contents) is for the caller, in `afterStep` or on the returned steps.
 */
export async function standardSequences<P>(driver: LifecycleDriver<P>, options: StandardSequenceOptions<P>): Promise<StandardSequenceResult> {
  const results: StandardSequenceResult = {};
  const record = async (name: SequenceStepName, step: StepResult, expectSuccess = true) => {
    results[name] = step;
    if (expectSuccess && step.error) {
      throw new Error(`standardSequences: ${name} (${step.label}) failed: ${step.error.message}`);
    }
    await options.afterStep?.(name, step);
    return step;
  };
  const expect = (ok: boolean, name: SequenceStepName, message: string) => {
    if (!ok) {
      throw new Error(`standardSequences: ${name}: ${message}`);
    }
  };

  const created = await record('create', await driver.create(options.props));
  const id = created.physicalResourceId!;
  expect(id !== created.requestId, 'create', 'the handler returned no physical ID (the framework fell back to the RequestId); return the real identifier');

  const retried = await record('retriedCreate', await driver.redeliver(created));
  expect(retried.physicalResourceId === id, 'retriedCreate', `a redelivered Create returned ${retried.physicalResourceId}, not ${id}`);

  const noChange = await record('updateNoChange', await driver.update(id, options.props, options.props));
  expect(noChange.physicalResourceId === id, 'updateNoChange', `an update with no change returned a new physical ID ${noChange.physicalResourceId}`);

  let current = options.props;
  if (options.changedInPlace !== undefined) {
    const inPlace = await record('updateInPlace', await driver.update(id, current, options.changedInPlace));
    expect(inPlace.physicalResourceId === id, 'updateInPlace', `an in-place update returned a new physical ID ${inPlace.physicalResourceId}`);
    current = options.changedInPlace;
  }

  const replaced = await record('updateReplace', await driver.update(id, current, options.replacing));
  const newId = replaced.physicalResourceId!;
  expect(newId !== id, 'updateReplace', `a replacing update kept the physical ID ${id}`);
  await record('deleteOld', await driver.delete(id, current));

  await record('delete', await driver.delete(newId, options.replacing));
  await record('deleteAgain', await driver.delete(newId, options.replacing));

  if (options.failingCreate) {
    options.failingCreate.arrange();
    const failed = await record('failedCreate', await driver.create(options.failingCreate.props), false);
    expect(failed.error !== undefined, 'failedCreate', 'the create that was arranged to fail succeeded');
    await record('rollbackDelete', await driver.delete(failed.physicalResourceId!, options.failingCreate.props));
  }
  return results;
}
