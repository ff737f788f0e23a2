import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { captureLogs } from './harness/capture';
import { FakeMaterialStore } from './harness/fake-material';
import {
  CREATE_FAILED_PHYSICAL_ID, HandlerModule, LifecycleDriver, SequenceStepName, standardSequences, StepResult, stringifyProps,
} from './harness/lifecycle';
import type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse } from '../../lambda/shared/cfn';
import { translateError } from '../../lambda/shared/errors';
import { describeEvent, log } from '../../lambda/shared/log';
import { parseMaterialSource, readMaterial } from '../../lambda/shared/material';
import { generatedName } from '../../lambda/shared/physical-name';
import { retryConfig } from '../../lambda/shared/retry';
import type { MaterialSource } from '../../src/contract/material-source';

// --- A toy service and handler, just enough to exercise the driver --------------------------------

interface ToyItem {
  body: string;
  description: string;
  tagged: boolean;
}

/** A stateful fake: names are unique, deleted means gone, every call is counted. */
class ToyService {
  public readonly items = new Map<string, ToyItem>();
  public reads = 0;
  public writes = 0;
  public failTagging = false;

  public get(name: string): ToyItem | undefined {
    this.reads++;
    return this.items.get(name);
  }
  public put(name: string, body: string, description: string): void {
    this.writes++;
    if (this.items.has(name)) {
      throw Object.assign(new Error(`${name} already exists`), { name: 'EntityAlreadyExists' });
    }
    this.items.set(name, { body, description, tagged: false });
  }
  public tag(name: string): void {
    this.writes++;
    if (this.failTagging) {
      throw Object.assign(new Error('tagging is broken'), { name: 'ServiceQuotaExceeded' });
    }
    this.items.get(name)!.tagged = true;
  }
  public describe(name: string, description: string): void {
    this.writes++;
    this.items.get(name)!.description = description;
  }
  public remove(name: string): void {
    this.writes++;
    if (!this.items.delete(name)) {
      throw Object.assign(new Error(`${name} not found`), { name: 'NoSuchEntity' });
    }
  }
}

interface ToyProps {
  readonly Prefix: string;
  readonly Body: string;
  readonly Description?: string;
  /** A secret the handler reads (and must never log). */
  readonly Token?: MaterialSource;
}

interface ToyOptions {
  /** Delete what a failing Create made before rethrowing. @default true */
  readonly cleanUpOnFailure?: boolean;
  /** Misbehaviour under test. */
  readonly leak?: 'console-token' | 'log-token-field' | 'log-event' | 'data-token' | 'error-key-line';
}

function toyHandler(service: ToyService, options: ToyOptions = {}): HandlerModule<ToyProps> {
  const cleanUp = options.cleanUpOnFailure ?? true;

  async function create(p: ToyProps, token: string | undefined): Promise<OnEventResponse> {
    const name = generatedName(p.Prefix, p.Body, { maxLength: 24 });
    if (!service.get(name)) {
      service.put(name, p.Body, p.Description ?? '');
      try {
        service.tag(name);
      } catch (e) {
        if (cleanUp) {
          service.remove(name);
        }
        throw translateError(e, { ServiceQuotaExceeded: () => 'too many tags; remove some' }, 'TagResource');
      }
    }
    log('info', 'created', { name });
    const data: Record<string, string> = { Name: name };
    if (options.leak === 'data-token' && token) {
      data.Token = token;
    }
    return { PhysicalResourceId: name, Data: data };
  }

  return {
    async onEvent(event: OnEventRequest<ToyProps>): Promise<OnEventResponse> {
      log('info', 'event', { ...describeEvent(event) });
      const p = event.ResourceProperties;
      const token = p.Token ? await readMaterial(parseMaterialSource(p.Token, 'token'), 'token') : undefined;
      if (options.leak === 'console-token') {
        console.log(`token is ${token}`);
      } else if (options.leak === 'log-token-field') {
        // The field name is innocent, so log() cannot know: assertNoLeak must.
        log('info', 'debugging', { value: token });
      } else if (options.leak === 'log-event') {
        console.log(JSON.stringify(event));
      }
      switch (event.RequestType) {
        case 'Create':
          return create(p, token);
        case 'Update': {
          const old = event.OldResourceProperties!;
          if (old.Prefix !== p.Prefix || old.Body !== p.Body) {
            return create(p, token);
          }
          if ((old.Description ?? '') !== (p.Description ?? '')) {
            service.describe(event.PhysicalResourceId!, p.Description ?? '');
          }
          return { PhysicalResourceId: event.PhysicalResourceId, Data: { Name: event.PhysicalResourceId! } };
        }
        case 'Delete':
          if (service.get(event.PhysicalResourceId!)) {
            service.remove(event.PhysicalResourceId!);
          }
          if (options.leak === 'error-key-line' && token) {
            throw new Error(`cannot delete: ${token.split('\n')[2]}`);
          }
          return { PhysicalResourceId: event.PhysicalResourceId };
      }
    },
  };
}

// --- Fixtures -----------------------------------------------------------------------------------

const privateKeyPem = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let store: FakeMaterialStore;
let service: ToyService;
let tokenArn: string;
const originalSleep = retryConfig.sleep;

beforeEach(() => {
  store = new FakeMaterialStore();
  store.install();
  service = new ToyService();
  tokenArn = store.putSecret('toy-token', { key: privateKeyPem(), password: randomBytes(16).toString('hex') });
  retryConfig.sleep = async () => undefined;
});
afterEach(() => {
  store.restore();
  retryConfig.sleep = originalSleep;
});

function driverFor(handler: HandlerModule<ToyProps>, maxIsCompleteAttempts?: number): LifecycleDriver<ToyProps> {
  return new LifecycleDriver<ToyProps>({
    handler,
    resourceType: 'Custom::Toy',
    countApiCalls: () => service.reads + service.writes + store.calls(),
    maxIsCompleteAttempts,
  });
}

const token = (field: string): MaterialSource => ({ kind: 'secret', secretId: tokenArn, jsonField: field });
const base = (): ToyProps => ({ Prefix: 'Stack-Toy', Body: 'body-1', Description: 'first', Token: token('key') });

// --- The standard sequences ---------------------------------------------------------------------

describe('standardSequences', () => {
  test('drive a well-behaved handler through every sequence; the caller sees the fake after each step', async () => {
    const driver = driverFor(toyHandler(service));
    const seen: Array<[SequenceStepName, number, number]> = [];
    let writesBefore = 0;
    const result = await standardSequences(driver, {
      props: base(),
      changedInPlace: { ...base(), Description: 'second' },
      replacing: { ...base(), Body: 'body-2' },
      failingCreate: { props: { ...base(), Body: 'body-3' }, arrange: () => { service.failTagging = true; } },
      afterStep: (name, step) => {
        seen.push([name, service.items.size, service.writes - writesBefore]);
        writesBefore = service.writes;
        expect(step.label).toMatch(/^#\d+ (Create|Update|Delete)$/);
      },
    });

    expect(seen).toEqual([
      ['create', 1, 2], // put + tag
      ['retriedCreate', 1, 0], // adopted, not duplicated
      ['updateNoChange', 1, 0],
      ['updateInPlace', 1, 1],
      ['updateReplace', 2, 2],
      ['deleteOld', 1, 1],
      ['delete', 0, 1],
      ['deleteAgain', 0, 0],
      ['failedCreate', 0, 3], // put + failed tag + clean-up
      ['rollbackDelete', 0, 0],
    ]);
    const first = result.create!.physicalResourceId!;
    expect(result.retriedCreate!.requestId).toBe(result.create!.requestId);
    expect(result.updateInPlace!.physicalResourceId).toBe(first);
    expect(service.items.size).toBe(0);
    expect(result.updateReplace!.physicalResourceId).not.toBe(first);
    expect(result.create!.data).toEqual({ Name: first });
    // A no-op update reads its secret and writes nothing.
    expect(result.updateNoChange!.apiCalls).toBe(1);
    expect(result.failedCreate!.error!.message).toBe('TagResource: too many tags; remove some (ServiceQuotaExceeded)');
    expect(result.failedCreate!.physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
    expect(result.rollbackDelete!.handlerInvoked).toBe(false);
    expect(result.rollbackDelete!.apiCalls).toBe(0);
    expect(driver.steps).toHaveLength(10);
    expect(() => driver.assertNoLeak(store.secretValues())).not.toThrow();
  });

  test('the rollback Delete of a failed Create never reaches the handler, so an orphan stays visible', async () => {
    const driver = driverFor(toyHandler(service, { cleanUpOnFailure: false }));
    let orphans = -1;
    await standardSequences(driver, {
      props: base(),
      replacing: { ...base(), Body: 'body-2' },
      failingCreate: { props: { ...base(), Body: 'body-3' }, arrange: () => { service.failTagging = true; } },
      afterStep: (name) => {
        if (name === 'rollbackDelete') {
          orphans = service.items.size;
        }
      },
    });
    expect(orphans).toBe(1);
  });

  test('rejects a handler that returns no physical ID', async () => {
    const driver = driverFor({ onEvent: async () => ({}) });
    await expect(standardSequences(driver, { props: base(), replacing: base() })).rejects.toThrow(/create: the handler returned no physical ID/);
  });

  test('rejects a handler whose redelivered Create makes a second resource', async () => {
    let n = 0;
    const driver = driverFor({ onEvent: async (e) => ({ PhysicalResourceId: e.RequestType === 'Create' ? `item-${++n}` : e.PhysicalResourceId }) });
    await expect(standardSequences(driver, { props: base(), replacing: base() })).rejects.toThrow(/retriedCreate: a redelivered Create returned item-2, not item-1/);
  });

  test('rejects a handler that keeps the physical ID on replacement', async () => {
    const driver = driverFor({ onEvent: async (e) => ({ PhysicalResourceId: e.PhysicalResourceId ?? 'fixed' }) });
    await expect(standardSequences(driver, { props: base(), replacing: { ...base(), Body: 'new' } })).rejects.toThrow(/updateReplace: a replacing update kept the physical ID fixed/);
  });

  test('rejects a failing create that succeeds, and names a failed step', async () => {
    const driver = driverFor(toyHandler(service));
    await expect(standardSequences(driver, {
      props: base(),
      replacing: { ...base(), Body: 'b2' },
      failingCreate: { props: { ...base(), Body: 'b3' }, arrange: () => undefined },
    })).rejects.toThrow(/failedCreate: the create that was arranged to fail succeeded/);

    service.failTagging = true;
    await expect(standardSequences(driverFor(toyHandler(service)), { props: base(), replacing: base() }))
      .rejects.toThrow(/standardSequences: create \(#1 Create\) failed: TagResource/);
  });
});

// --- The events the driver sends ----------------------------------------------------------------

describe('LifecycleDriver events', () => {
  function recorder() {
    const events: Array<OnEventRequest<Record<string, unknown>> & { ResponseURL: string }> = [];
    const handler: HandlerModule<Record<string, unknown>> = {
      async onEvent(e) {
        events.push(JSON.parse(JSON.stringify(e)));
        // Mutating the event must not reach the driver: Lambda hands over a copy.
        (e.ResourceProperties as Record<string, unknown>).Injected = 'x';
        return { PhysicalResourceId: e.PhysicalResourceId ?? 'phys-1' };
      },
    };
    const driver = new LifecycleDriver<Record<string, unknown>>({ handler, resourceType: 'Custom::Rec', countApiCalls: () => 0 });
    return { events, driver };
  }

  test('Create, Update and Delete carry the shapes CloudFormation and the framework send', async () => {
    const { events, driver } = recorder();
    await driver.create({ Name: 'a', Count: 3, Enabled: true, Nested: { List: [1, false, 'x'], Missing: undefined } });
    await driver.update('phys-1', { Name: 'a' }, { Name: 'b' });
    await driver.delete('phys-1', { Name: 'b' });
    const [create, update, del] = events;

    expect(create.RequestType).toBe('Create');
    expect(create.ResourceType).toBe('Custom::Rec');
    expect(create.ResourceProperties).toEqual({
      ServiceToken: expect.stringMatching(/^arn:aws:lambda:/),
      Name: 'a',
      Count: '3',
      Enabled: 'true',
      Nested: { List: ['1', 'false', 'x'] },
    });
    expect(create).not.toHaveProperty('PhysicalResourceId');
    expect(create).not.toHaveProperty('OldResourceProperties');
    expect(create.ResponseURL).toMatch(/^https:\/\/cloudformation-custom-resource-response-.*X-Amz-Signature=[0-9a-f]{64}$/);
    expect(create.StackId).toMatch(/^arn:aws:cloudformation:/);

    expect(update.PhysicalResourceId).toBe('phys-1');
    expect(update.ResourceProperties).toMatchObject({ Name: 'b' });
    expect(update.OldResourceProperties).toMatchObject({ Name: 'a', ServiceToken: create.ResourceProperties.ServiceToken });
    expect(del.RequestType).toBe('Delete');
    expect(del.PhysicalResourceId).toBe('phys-1');

    expect(new Set(events.map((e) => e.LogicalResourceId)).size).toBe(1);
    expect(new Set(events.map((e) => e.StackId)).size).toBe(1);
    expect(new Set(events.map((e) => e.RequestId)).size).toBe(3);
    expect(new Set(events.map((e) => e.ResponseURL)).size).toBe(3);
    expect(driver.steps[0].event.ResourceProperties).not.toHaveProperty('Injected');
  });

  test('redeliver sends the same request again; create can reuse a RequestId', async () => {
    const { events, driver } = recorder();
    const first = await driver.create({ Name: 'a' });
    const again = await driver.redeliver(first);
    await driver.create({ Name: 'a' }, { requestId: 'fixed-id' });
    expect(events[1]).toEqual(events[0]);
    expect(again.requestId).toBe(first.requestId);
    expect(events[2].RequestId).toBe('fixed-id');
  });

  test('stringifyProps converts as CloudFormation does', () => {
    expect(stringifyProps({ a: 1, b: [true, 2.5, null], c: { d: undefined, e: 'x', f: 0 }, g: null })).toEqual({ a: '1', b: ['true', '2.5'], c: { e: 'x', f: '0' } });
  });
});

// --- The Provider framework's contract ----------------------------------------------------------

describe('LifecycleDriver framework behaviour', () => {
  test('defaults the physical ID to the RequestId on Create and keeps it on Update', async () => {
    const driver = driverFor({ onEvent: async () => ({}) });
    const created = await driver.create(base());
    expect(created.physicalResourceId).toBe(created.requestId);
    const updated = await driver.update('existing', base(), base());
    expect(updated.physicalResourceId).toBe('existing');
  });

  test('a Delete may not change the physical ID', async () => {
    const driver = driverFor({ onEvent: async () => ({ PhysicalResourceId: 'other' }) });
    const step = await driver.delete('mine', base());
    expect(step.error!.message).toMatch(/DELETE: cannot change the physical resource ID from "mine" to "other"/);
  });

  test('failures report the physical ID the framework sends with FAILED', async () => {
    const driver = driverFor({ onEvent: async () => { throw new Error('boom'); } });
    expect((await driver.create(base())).physicalResourceId).toBe(CREATE_FAILED_PHYSICAL_ID);
    const update = await driver.update('old-id', base(), base());
    expect(update.physicalResourceId).toBe('old-id');
    expect(update.error!.message).toBe('boom');
    const skipped = await driver.delete(CREATE_FAILED_PHYSICAL_ID, base());
    expect(skipped.handlerInvoked).toBe(false);
    expect(skipped.error).toBeUndefined();
  });

  test('rejects responses CloudFormation would reject', async () => {
    const big = driverFor({ onEvent: async () => ({ PhysicalResourceId: 'p', Data: { Big: 'x'.repeat(5000) } }) });
    expect((await big.create(base())).error!.message).toMatch(/Response object is too long/);
    const longId = driverFor({ onEvent: async () => ({ PhysicalResourceId: 'p'.repeat(1025) }) });
    expect((await longId.create(base())).error!.message).toMatch(/at most 1024/);
  });

  describe('isComplete', () => {
    function asyncHandler(completeAfter: number, options: { dataWhileWaiting?: boolean; failOnCheck?: boolean } = {}) {
      const requests: Array<IsCompleteRequest<ToyProps>> = [];
      const deletes: string[] = [];
      const handler: HandlerModule<ToyProps> = {
        async onEvent(e) {
          if (e.RequestType === 'Delete') {
            deletes.push(e.PhysicalResourceId!);
            return {};
          }
          return { PhysicalResourceId: 'async-1', Data: { FromOnEvent: 'a', Shared: 'onEvent' } };
        },
        async isComplete(e): Promise<IsCompleteResponse> {
          requests.push(e);
          if (e.RequestType === 'Delete') {
            return { IsComplete: true };
          }
          if (options.failOnCheck) {
            throw new Error('validation failed');
          }
          if (requests.length < completeAfter) {
            return options.dataWhileWaiting ? { IsComplete: false, Data: { Early: 'x' } } : { IsComplete: false };
          }
          return { IsComplete: true, Data: { FromIsComplete: 'b', Shared: 'isComplete' } };
        },
      };
      return { handler, requests, deletes };
    }

    test('polls until complete and merges Data as the framework does', async () => {
      const { handler, requests } = asyncHandler(3);
      const step = await driverFor(handler).create(base());
      expect(step.error).toBeUndefined();
      expect(step.isCompleteAttempts).toBe(3);
      expect(step.physicalResourceId).toBe('async-1');
      expect(step.data).toEqual({ FromOnEvent: 'a', FromIsComplete: 'b', Shared: 'isComplete' });
      expect(requests[0].PhysicalResourceId).toBe('async-1');
      expect(requests[0].Data).toEqual({ FromOnEvent: 'a', Shared: 'onEvent' });
      expect(requests[0].RequestId).toBe(step.requestId);
      expect(step.responses).toHaveLength(4);
    });

    test('times out after maxIsCompleteAttempts, keeping the onEvent physical ID; the rollback Delete reaches the handler', async () => {
      const { handler, deletes } = asyncHandler(Infinity);
      const driver = driverFor(handler, 5);
      const step = await driver.create(base());
      expect(step.error!.message).toMatch(/timed out/);
      expect(step.isCompleteAttempts).toBe(5);
      expect(step.physicalResourceId).toBe('async-1');
      const rollback = await driver.delete(step.physicalResourceId!, base());
      expect(rollback.handlerInvoked).toBe(true);
      expect(deletes).toEqual(['async-1']);
    });

    test('defaults to 20 attempts', async () => {
      const { handler } = asyncHandler(Infinity);
      expect((await driverFor(handler).create(base())).isCompleteAttempts).toBe(20);
    });

    test('refuses Data while incomplete, and reports an isComplete error with the onEvent physical ID', async () => {
      const early = await driverFor(asyncHandler(3, { dataWhileWaiting: true }).handler).create(base());
      expect(early.error!.message).toBe('"Data" is not allowed if "IsComplete" is "False"');
      const failed = await driverFor(asyncHandler(1, { failOnCheck: true }).handler).create(base());
      expect(failed.error!.message).toBe('validation failed');
      expect(failed.physicalResourceId).toBe('async-1');
    });
  });
});

// --- Counting and capture -----------------------------------------------------------------------

describe('LifecycleDriver counting and capture', () => {
  test('apiCalls is the difference of the caller\'s counter over each step', async () => {
    let counter = 0;
    const driver = new LifecycleDriver<ToyProps>({
      handler: { onEvent: async (e) => { counter += e.RequestType === 'Create' ? 3 : 1; return { PhysicalResourceId: 'p' }; } },
      resourceType: 'Custom::Count',
      countApiCalls: () => counter,
    });
    counter = 100; // calls made before the driver ran are not charged to any step
    await driver.create(base());
    await driver.update('p', base(), base());
    await driver.delete(CREATE_FAILED_PHYSICAL_ID, base());
    expect(driver.steps.map((s) => s.apiCalls)).toEqual([3, 1, 0]);
  });

  test('the toy handler counts its secret read and its service calls', async () => {
    const step = await driverFor(toyHandler(service)).create(base());
    // GetSecretValue + get + put + tag
    expect(step.apiCalls).toBe(4);
    expect(store.calls()).toBe(1);
  });

  test('captures console methods and direct stream writes, per step, and restores them', async () => {
    const originalLog = console.log;
    const originalWrite = process.stdout.write;
    const driver = driverFor({
      async onEvent(e) {
        console.log('via log', e.RequestType);
        console.info('via info');
        console.warn('via warn');
        console.error('via error');
        console.debug('via debug');
        process.stdout.write('via stdout\n');
        process.stderr.write(Buffer.from('via stderr'));
        if (e.RequestType === 'Delete') {
          throw new Error('still captured');
        }
        return { PhysicalResourceId: 'p' };
      },
    });
    const created = await driver.create(base());
    const deleted = await driver.delete('p', base());
    expect(created.logs).toEqual(['via log Create', 'via info', 'via warn', 'via error', 'via debug', 'via stdout', 'via stderr']);
    expect(deleted.logs[0]).toBe('via log Delete');
    expect(deleted.logs).toHaveLength(7);
    expect(console.log).toBe(originalLog);
    expect(process.stdout.write).toBe(originalWrite);
  });

  test('captureLogs nests and restores', () => {
    const original = console.warn;
    const outer = captureLogs();
    const inner = captureLogs();
    console.warn('inner %s', 'only');
    inner.restore();
    console.warn('outer');
    outer.restore();
    outer.restore();
    expect(inner.lines).toEqual(['inner only']);
    expect(outer.lines).toEqual(['outer']);
    expect(console.warn).toBe(original);
  });

  test('allOutput holds every log line, response, Data and error message', async () => {
    const driver = driverFor({
      async onEvent(e) {
        console.log('log-marker');
        if (e.RequestType === 'Delete') {
          throw new Error('error-marker');
        }
        return { PhysicalResourceId: 'p', Data: { Attr: 'data-marker' } };
      },
    });
    await driver.create(base());
    await driver.delete('p', base());
    const all = driver.allOutput();
    for (const marker of ['log-marker', 'data-marker', 'error-marker', '"PhysicalResourceId":"p"']) {
      expect(all).toContain(marker);
    }
  });
});

// --- Leak assertions ----------------------------------------------------------------------------

describe('assertNoLeak', () => {
  async function run(options: ToyOptions, props: ToyProps = base()): Promise<LifecycleDriver<ToyProps>> {
    const driver = driverFor(toyHandler(service, options));
    const created: StepResult = await driver.create(props);
    await driver.delete(created.physicalResourceId!, props);
    return driver;
  }

  test('passes for a handler that reads secrets but never writes them out', async () => {
    const driver = await run({});
    expect(driver.steps.every((s) => s.logs.length > 0)).toBe(true);
    expect(() => driver.assertNoLeak(store.secretValues())).not.toThrow();
  });

  test('catches a secret written to the console, naming the step and place but not the secret', async () => {
    const driver = await run({ leak: 'console-token' }, { ...base(), Token: token('password') });
    let message = '';
    try {
      driver.assertNoLeak(store.secretValues());
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^assertNoLeak: #1 Create leaked secret value #\d+ \(whole value, sha256 [0-9a-f]{12}\) in its log line 2$/);
    for (const secret of store.secretValues()) {
      expect(message).not.toContain(secret);
    }
  });

  test('catches a secret logged under an innocent field name', async () => {
    const driver = await run({ leak: 'log-token-field' }, { ...base(), Token: token('password') });
    expect(() => driver.assertNoLeak(store.secretValues())).toThrow(/#1 Create leaked secret value/);
  });

  test('catches one line of a private key body in an error message', async () => {
    const driver = await run({ leak: 'error-key-line' });
    expect(() => driver.assertNoLeak(store.secretValues())).toThrow(/#2 Delete leaked secret value #\d+ \(one line of it, .*\) in its error/);
  });

  test('catches a secret returned in Data', async () => {
    const driver = await run({ leak: 'data-token' }, { ...base(), Token: token('password') });
    expect(() => driver.assertNoLeak(store.secretValues())).toThrow(/#1 Create leaked secret value #\d+ .* in its response 1/);
  });

  test('catches a logged ResponseURL', async () => {
    const driver = await run({ leak: 'log-event' }, { Prefix: 'p', Body: 'b' });
    expect(() => driver.assertNoLeak([])).toThrow(/#1 Create leaked a ResponseURL in its log line 2/);
  });

  test('catches any PEM private key block, even one that is not in the list', async () => {
    const stray = privateKeyPem();
    const driver = driverFor({ onEvent: async () => { console.error(`oops ${stray}`); return { PhysicalResourceId: 'p' }; } });
    await driver.create(base());
    expect(() => driver.assertNoLeak([])).toThrow(/#1 Create leaked a PEM private key block in its log line 1/);
  });

  test('log() redaction keeps a key out of the output even when a handler passes it by mistake', async () => {
    const key = privateKeyPem();
    const driver = driverFor({ onEvent: async () => { log('error', 'oops', { detail: `key was ${key}` }); return { PhysicalResourceId: 'p' }; } });
    await driver.create(base());
    expect(() => driver.assertNoLeak([key])).not.toThrow();
    expect(driver.allOutput()).toContain('[redacted private key]');
  });
});
