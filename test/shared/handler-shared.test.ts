import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import * as acmHandler from '../../lambda/acm-certificate';
import * as alibabaHandler from '../../lambda/alibaba-kms-certificate';
import * as dmsHandler from '../../lambda/dms-certificate';
import * as lightsailHandler from '../../lambda/lightsail-certificate';
import * as privateCaHandler from '../../lambda/private-ca';
import * as issuedHandler from '../../lambda/private-ca-issued-certificate';
import * as serverHandler from '../../lambda/server-certificate';
import type { IsCompleteRequest, OnEventRequest, OnEventResponse } from '../../lambda/shared/cfn';
import { isRetryable, service } from '../../lambda/shared/clients';
import { durationText } from '../../lambda/shared/dates';
import { errorMessage, errorName, InputError, translateError } from '../../lambda/shared/errors';
import { customResourceHandler, MAX_RESPONSE_BYTES, ResourceLifecycle } from '../../lambda/shared/handler';
import { describeEvent, log, redact, REDACTED, REDACTED_PRIVATE_KEY } from '../../lambda/shared/log';
import { parseMaterialSource, readMaterial, readMaterialBytes } from '../../lambda/shared/material';
import { ownedName, ownerTags, ownershipOf, withOwnerTags } from '../../lambda/shared/ownership';
import { contentHash, generatedName } from '../../lambda/shared/physical-name';
import { isThrottlingOrTransient, retryConfig, retryWhile, withRetry } from '../../lambda/shared/retry';
import type { MaterialSource } from '../../src/contract/material-source';
import { captureLogs } from '../support/harness/capture';
import { FakeMaterialStore } from '../support/harness/fake-material';

// Keys are made here, at test time: nothing secret is committed.
const ecKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim();
const rsaKey = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString().trim();
const encryptedKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
  .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: randomBytes(8).toString('hex') }).toString().trim();
const keyBody = (pem: string) => pem.split('\n')[1];

/** Runs `fn` with console output captured and returns the parsed JSON lines. */
function logged(fn: () => void): Array<Record<string, unknown>> {
  const capture = captureLogs();
  try {
    fn();
  } finally {
    capture.restore();
  }
  return capture.lines.map((l) => JSON.parse(l));
}

function asyncLogged<T>(fn: () => Promise<T>): Promise<{ result?: T; error?: unknown; lines: string[] }> {
  const capture = captureLogs();
  return fn().then(
    (result) => ({ result, lines: capture.lines }),
    (error) => ({ error, lines: capture.lines }),
  ).finally(() => capture.restore());
}

describe('log', () => {
  test('writes exactly one JSON line with level, message, fields and timestamp', () => {
    const lines = logged(() => log('info', 'created', { certificateName: 'web-1', count: 2 }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', message: 'created', certificateName: 'web-1', count: 2 });
    expect(Object.keys(lines[0])).toEqual(['level', 'message', 'certificateName', 'count', 'timestamp']);
    expect(new Date(lines[0].timestamp as string).toISOString()).toBe(lines[0].timestamp);
  });

  test('redacts fields whose names look sensitive, however deep', () => {
    const [line] = logged(() => log('warn', 'm', {
      privateKey: 'k1',
      nested: { SecretString: 's1', Password: 'p1', keep: 'visible' },
      list: [{ accessKeyId: 'a1' }, { sessionToken: 't1' }, { ResponseURL: 'https://x' }, { credentials: { x: 1 } }],
    }));
    expect(line.privateKey).toBe(REDACTED);
    expect(line.nested).toEqual({ SecretString: REDACTED, Password: REDACTED, keep: 'visible' });
    expect(line.list).toEqual([{ accessKeyId: REDACTED }, { sessionToken: REDACTED }, { ResponseURL: REDACTED }, { credentials: REDACTED }]);
  });

  test.each([
    ['PKCS#8', () => ecKey],
    ['PKCS#1 RSA', () => rsaKey],
    ['encrypted PKCS#8', () => encryptedKey],
  ])('redacts a %s private key block in nested fields, arrays, error messages and the message', (_kind, key) => {
    const pem = key();
    const [line] = logged(() => log('error', `failed with ${pem}`, {
      outer: { inner: { note: `before ${pem} after` } },
      items: ['a', pem, ['deeper', pem]],
      error: new Error(`bad input: ${pem}`),
      escaped: JSON.stringify({ key: pem }),
    }));
    const text = JSON.stringify(line);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(keyBody(pem));
    expect(line.message).toBe(`failed with ${REDACTED_PRIVATE_KEY}`);
    expect((line.outer as { inner: { note: string } }).inner.note).toBe(`before ${REDACTED_PRIVATE_KEY} after`);
    expect(line.items).toEqual(['a', REDACTED_PRIVATE_KEY, ['deeper', REDACTED_PRIVATE_KEY]]);
    expect(line.error).toEqual({ name: 'Error', message: `bad input: ${REDACTED_PRIVATE_KEY}` });
    expect(line.escaped).toBe(`{"key":"${REDACTED_PRIVATE_KEY}"}`);
  });

  test('redacts a truncated private key (no END line) to the end of the string', () => {
    const truncated = ecKey.slice(0, 80);
    const [line] = logged(() => log('info', 'm', { text: `x ${truncated}` }));
    expect(line.text).toBe(`x ${REDACTED_PRIVATE_KEY}`);
  });

  test('keeps certificates and public keys, which are not secret', () => {
    const publicKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const [line] = logged(() => log('info', 'm', { publicKey }));
    expect(line.publicKey).toBe(publicKey);
  });

  test('never throws: cycles, bigint, bytes and reserved names', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const [line] = logged(() => log('debug', 'm', { cyclic, big: BigInt(5), bytes: new Uint8Array(3), level: 'x', fn: () => 1 }));
    expect(line.cyclic).toEqual({ a: 1, self: '[circular]' });
    expect(line.big).toBe('5');
    expect(line.bytes).toBe('[3 bytes]');
    expect(line.level).toBe('debug');
    expect(line.field_level).toBe('x');
    expect(line).not.toHaveProperty('fn');
  });

  test('an SDK error is logged by name and message only', () => {
    const error = new ResourceNotFoundException({ message: 'gone', $metadata: { httpStatusCode: 400, requestId: 'r' } });
    expect(redact({ error })).toEqual({ error: { name: 'ResourceNotFoundException', message: 'gone' } });
  });
});

describe('describeEvent', () => {
  const event = {
    RequestType: 'Update',
    RequestId: 'req-1',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/S/1',
    LogicalResourceId: 'Cert',
    ResourceType: 'Custom::ServerCertificate',
    PhysicalResourceId: 'web-abc',
    ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=deadbeef',
    ResourceProperties: { ServiceToken: 'arn:tok', CertificateBody: 'BODY-VALUE', Path: '/new/' },
    OldResourceProperties: { ServiceToken: 'arn:tok', CertificateBody: 'BODY-VALUE', Path: '/old/', Gone: 'OLD-VALUE' },
  } as unknown as OnEventRequest<Record<string, string>>;

  test('keeps identifiers and property names, never values or the ResponseURL', () => {
    const summary = describeEvent(event);
    expect(summary).toEqual({
      RequestType: 'Update',
      RequestId: 'req-1',
      LogicalResourceId: 'Cert',
      PhysicalResourceId: 'web-abc',
      ResourceType: 'Custom::ServerCertificate',
      PropertyKeys: ['CertificateBody', 'Path'],
      ChangedPropertyKeys: ['Gone', 'Path'],
    });
    const text = JSON.stringify(summary);
    for (const value of ['BODY-VALUE', '/new/', '/old/', 'OLD-VALUE', 'amazonaws', 'deadbeef', 'arn:tok']) {
      expect(text).not.toContain(value);
    }
  });

  test('can be logged as it is', () => {
    const [line] = logged(() => log('info', 'request', describeEvent(event)));
    expect(line).toMatchObject({ message: 'request', RequestType: 'Update', PropertyKeys: ['CertificateBody', 'Path'] });
    expect(JSON.stringify(line)).not.toContain('BODY-VALUE');
  });

  test('a Create has no physical ID and no changed keys', () => {
    const summary = describeEvent({ ...event, RequestType: 'Create', PhysicalResourceId: undefined, OldResourceProperties: undefined });
    expect(summary).not.toHaveProperty('PhysicalResourceId');
    expect(summary).not.toHaveProperty('ChangedPropertyKeys');
  });
});

describe('retry', () => {
  const originalSleep = retryConfig.sleep;
  let sleeps: number[];
  let clock: number;

  beforeEach(() => {
    sleeps = [];
    clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    retryConfig.sleep = async (ms) => {
      sleeps.push(ms);
      clock += ms;
    };
  });
  afterEach(() => {
    retryConfig.sleep = originalSleep;
    jest.restoreAllMocks();
  });

  const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${name} happened`), { name }, extra);

  test.each([
    'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'ServiceFailure',
    'ServiceUnavailable', 'ServiceUnavailableException', 'InternalFailure', 'InternalServerError', 'InternalServiceError', 'RequestTimeout',
  ])('%s is retryable', (name) => {
    expect(isThrottlingOrTransient(named(name))).toBe(true);
  });

  test('SDK $retryable, Alibaba Throttling codes and HTTP 429/503 are retryable', () => {
    expect(isThrottlingOrTransient(named('SomethingOdd', { $retryable: { throttling: true } }))).toBe(true);
    expect(isThrottlingOrTransient(Object.assign(new Error('Throttling.User: slow down'), { code: 'Throttling.User' }))).toBe(true);
    expect(isThrottlingOrTransient(Object.assign(new Error('x'), { code: 'Throttling.Api', statusCode: 400 }))).toBe(true);
    expect(isThrottlingOrTransient(Object.assign(new Error('x'), { code: 'Busy', statusCode: 503 }))).toBe(true);
    expect(isThrottlingOrTransient(named('Unknown', { $metadata: { httpStatusCode: 429 } }))).toBe(true);
  });

  test.each([
    ['AccessDeniedException', named('AccessDeniedException', { $metadata: { httpStatusCode: 400 } })],
    ['MalformedCertificate', named('MalformedCertificate')],
    ['Alibaba Forbidden', Object.assign(new Error('x'), { code: 'Forbidden.NoPermission', statusCode: 403 })],
    ['a string', 'Throttling'],
    ['undefined', undefined],
  ])('%s is not retryable', (_label, error) => {
    expect(isThrottlingOrTransient(error)).toBe(false);
  });

  test('withRetry retries throttling with bounded, growing backoff, then succeeds', async () => {
    let calls = 0;
    const { result, lines } = await asyncLogged(() => withRetry('iam:UploadServerCertificate', async () => {
      calls++;
      if (calls < 4) {
        throw named('Throttling', { secretDetail: 'do-not-log-me' });
      }
      return 'ok';
    }, { baseDelayMs: 100 }));
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(sleeps).toHaveLength(3);
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(100 * 2 ** i);
    });
    const entries = lines.map((l) => JSON.parse(l));
    expect(entries).toHaveLength(3);
    expect(entries[0]).toMatchObject({ level: 'warn', operation: 'iam:UploadServerCertificate', attempt: 1, error: 'Throttling' });
    expect(lines.join('\n')).not.toContain('do-not-log-me');
    expect(lines.join('\n')).not.toContain('happened');
  });

  test('withRetry caps each wait at maxDelayMs', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    let calls = 0;
    await asyncLogged(() => withRetry('op', async () => {
      calls++;
      if (calls < 6) {
        throw named('ThrottlingException');
      }
      return calls;
    }, { baseDelayMs: 1000, maxDelayMs: 3000 }));
    expect(sleeps).toEqual([999, 1998, 2997, 2997, 2997]);
  });

  test('withRetry stops at maxAttempts and rethrows the last error unchanged', async () => {
    let calls = 0;
    const errors: Error[] = [];
    const { error } = await asyncLogged(() => withRetry('op', async () => {
      calls++;
      const e = named('ServiceFailure');
      errors.push(e);
      throw e;
    }, { maxAttempts: 3 }));
    expect(calls).toBe(3);
    expect(error).toBe(errors[2]);
  });

  test('withRetry defaults to 6 attempts', async () => {
    let calls = 0;
    await asyncLogged(() => withRetry('op', async () => {
      calls++;
      throw named('Throttling');
    }));
    expect(calls).toBe(6);
  });

  test('withRetry does not retry an error that is not retryable', async () => {
    let calls = 0;
    const denied = named('AccessDeniedException');
    const { error, lines } = await asyncLogged(() => withRetry('op', async () => {
      calls++;
      throw denied;
    }));
    expect(calls).toBe(1);
    expect(error).toBe(denied);
    expect(sleeps).toEqual([]);
    expect(lines).toEqual([]);
  });

  test('withRetry honours a custom retryable predicate', async () => {
    let calls = 0;
    const { result } = await asyncLogged(() => withRetry('op', async () => {
      calls++;
      if (calls === 1) {
        throw named('ConcurrentModificationException');
      }
      return 'done';
    }, { retryable: (e) => errorName(e) === 'ConcurrentModificationException' }));
    expect(result).toBe('done');
    expect(calls).toBe(2);
  });

  test('withRetry gives up rather than wait past the deadline', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    let calls = 0;
    const start = clock;
    const { error, lines } = await asyncLogged(() => withRetry('op', async () => {
      calls++;
      throw named('Throttling');
    }, { baseDelayMs: 1000, deadlineMs: 1500 }));
    // First wait 999 ms fits the 1500 ms budget; the second (1998 ms) would not.
    expect(calls).toBe(2);
    expect(sleeps).toEqual([999]);
    expect(clock - start).toBeLessThanOrEqual(1500);
    expect(errorName(error)).toBe('Throttling');
    expect(JSON.parse(lines[lines.length - 1]).message).toMatch(/deadline/);
  });

  test('retryWhile waits while the error is retryable, then gives up at the deadline with the last error', async () => {
    let calls = 0;
    const errors: Error[] = [];
    const start = clock;
    const { error } = await asyncLogged(() => retryWhile('iam:DeleteServerCertificate', async () => {
      calls++;
      const e = named('DeleteConflict', { attempt: calls });
      errors.push(e);
      throw e;
    }, (e) => errorName(e) === 'DeleteConflict', { deadlineMs: 5000, intervalMs: 1000 }));
    expect(calls).toBe(6);
    expect(sleeps).toEqual([1000, 1000, 1000, 1000, 1000]);
    expect(clock - start).toBe(5000);
    expect(error).toBe(errors[errors.length - 1]);
  });

  test('retryWhile returns once the operation succeeds and rethrows other errors at once', async () => {
    let calls = 0;
    const { result } = await asyncLogged(() => retryWhile('op', async () => {
      calls++;
      if (calls < 3) {
        throw named('DeleteConflict');
      }
      return 'deleted';
    }, (e) => errorName(e) === 'DeleteConflict', { deadlineMs: 60_000, intervalMs: 500 }));
    expect(result).toBe('deleted');
    expect(sleeps).toEqual([500, 500]);

    const other = named('NoSuchEntity');
    const { error } = await asyncLogged(() => retryWhile('op', async () => {
      throw other;
    }, (e) => errorName(e) === 'DeleteConflict', { deadlineMs: 60_000, intervalMs: 500 }));
    expect(error).toBe(other);
  });
});

describe('errors', () => {
  test('InputError names the property and the rule', () => {
    const e = new InputError('certificateBody', 'must be a PEM certificate');
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(InputError);
    expect(e.name).toBe('InputError');
    expect(e.property).toBe('certificateBody');
    expect(e.rule).toBe('must be a PEM certificate');
    expect(e.message).toBe('certificateBody: must be a PEM certificate');
  });

  test('errorName reads SDK names, Code/code, Alibaba codes, and falls back to Error', () => {
    expect(errorName(new ResourceNotFoundException({ message: 'x', $metadata: {} }))).toBe('ResourceNotFoundException');
    expect(errorName({ Code: 'NoSuchEntity', message: 'x' })).toBe('NoSuchEntity');
    expect(errorName(Object.assign(new Error('Throttling.User: x'), { code: 'Throttling.User' }))).toBe('Throttling.User');
    expect(errorName(Object.assign(new Error('socket'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errorName(new TypeError('x'))).toBe('TypeError');
    expect(errorName(new Error('x'))).toBe('Error');
    expect(errorName('just a string')).toBe('Error');
    expect(errorName(undefined)).toBe('Error');
  });

  test('errorMessage reads message or Message and redacts private keys', () => {
    expect(errorMessage(new Error('plain'))).toBe('plain');
    expect(errorMessage({ Message: 'capital' })).toBe('capital');
    expect(errorMessage('text')).toBe('text');
    expect(errorMessage(undefined)).toBe('');
    expect(errorMessage(new Error(`key: ${ecKey}`))).toBe(`key: ${REDACTED_PRIVATE_KEY}`);
  });

  const table = {
    MalformedCertificate: () => 'the certificate body is not a valid PEM certificate; check certificateBody',
    KeyPairMismatch: (e: unknown) => `the private key does not match the certificate (${errorMessage(e)})`,
  };

  test('translateError explains a known error', () => {
    const e = translateError(Object.assign(new Error('Unable to parse'), { name: 'MalformedCertificate' }), table, 'certificateBody');
    expect(e.message).toBe('certificateBody: the certificate body is not a valid PEM certificate; check certificateBody (MalformedCertificate)');
    expect(errorName(e)).toBe('MalformedCertificate');
  });

  test('translateError falls back to name and message', () => {
    const e = translateError(Object.assign(new Error('Rate exceeded'), { name: 'LimitExceeded' }), table, 'UploadServerCertificate');
    expect(e.message).toBe('UploadServerCertificate: LimitExceeded: Rate exceeded');
    expect(translateError('weird', table, 'ctx').message).toBe('ctx: Error: weird');
  });

  test('translateError redacts private keys from explanations and fallbacks', () => {
    const known = translateError(Object.assign(new Error(`mismatch ${rsaKey}`), { name: 'KeyPairMismatch' }), table, 'privateKey');
    expect(known.message).toBe(`privateKey: the private key does not match the certificate (mismatch ${REDACTED_PRIVATE_KEY}) (KeyPairMismatch)`);
    const unknown = translateError(new Error(`echo ${ecKey}`), table, 'privateKey');
    expect(unknown.message).not.toContain('PRIVATE KEY');
    expect(unknown.message).not.toContain(keyBody(ecKey));
  });

  test('translateError passes an InputError through', () => {
    const input = new InputError('domainName', 'is too long');
    expect(translateError(input, table, 'ctx')).toBe(input);
  });
});

describe('material', () => {
  const originalSleep = retryConfig.sleep;
  let store: FakeMaterialStore;
  let capture: ReturnType<typeof captureLogs>;

  beforeEach(() => {
    store = new FakeMaterialStore();
    store.install();
    retryConfig.sleep = async () => undefined;
    capture = captureLogs();
  });
  afterEach(() => {
    capture.restore();
    store.restore();
    retryConfig.sleep = originalSleep;
  });

  /** Expects an InputError naming `property` whose message holds no stored secret. */
  async function expectInputError(promise: Promise<unknown>, property: string, pattern: RegExp): Promise<InputError> {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    const input = error as InputError;
    expect(input.property).toBe(property);
    expect(input.message).toMatch(pattern);
    for (const secret of store.secretValues()) {
      expect(input.message).not.toContain(secret);
    }
    expect(input.message).not.toContain('PRIVATE KEY');
    return input;
  }

  test('inline returns the value without any call', async () => {
    await expect(readMaterial({ kind: 'inline', value: 'PEM TEXT' }, 'certificateBody')).resolves.toBe('PEM TEXT');
    expect(store.calls()).toBe(0);
  });

  test('secret: whole SecretString, by name and by ARN', async () => {
    const arn = store.putSecret('web-key', ecKey);
    await expect(readMaterial({ kind: 'secret', secretId: 'web-key' }, 'privateKey')).resolves.toBe(ecKey);
    await expect(readMaterial({ kind: 'secret', secretId: arn }, 'privateKey')).resolves.toBe(ecKey);
    expect(store.calls()).toBe(2);
  });

  test('secret: one JSON field', async () => {
    const arn = store.putSecret('bundle', { key: rsaKey, note: 'n' });
    await expect(readMaterial({ kind: 'secret', secretId: arn, jsonField: 'key' }, 'privateKey')).resolves.toBe(rsaKey);
  });

  test('secret: a missing JSON field names the property, secret and field, never the value', async () => {
    const arn = store.putSecret('bundle', { key: rsaKey, cert: 'public-cert-text' });
    const e = await expectInputError(readMaterial({ kind: 'secret', secretId: arn, jsonField: 'privateKey' }, 'privateKey'), 'privateKey', /has no field "privateKey"/);
    expect(e.message).toContain(arn);
    expect(e.message).toContain('"key"');
  });

  test('secret: a field asked of a secret that is not JSON', async () => {
    store.putSecret('plain', ecKey);
    await expectInputError(readMaterial({ kind: 'secret', secretId: 'plain', jsonField: 'key' }, 'privateKey'), 'privateKey', /plain is not a JSON object/);
  });

  test('secret: a JSON field that is not a string', async () => {
    store.putSecret('numbers', { key: 42 });
    await expectInputError(readMaterial({ kind: 'secret', secretId: 'numbers', jsonField: 'key' }, 'privateKey'), 'privateKey', /field "key" of secret numbers is not a string/);
  });

  test('secret: a missing secret', async () => {
    await expectInputError(readMaterial({ kind: 'secret', secretId: 'nope' }, 'privateKey'), 'privateKey', /secret nope does not exist/);
  });

  test('secret: a binary secret has no text, but readMaterialBytes returns its bytes', async () => {
    const bytes = new Uint8Array([0, 1, 0xff, 0xfe]);
    store.putSecret('binary', bytes);
    await expectInputError(readMaterial({ kind: 'secret', secretId: 'binary' }, 'wallet'), 'wallet', /has no SecretString/);
    expect(Buffer.from(await readMaterialBytes({ kind: 'secret', secretId: 'binary' }, 'wallet'))).toEqual(Buffer.from(bytes));
  });

  test('secret: access denied is translated, naming the property and the secret', async () => {
    store.putSecret('locked', 'value-is-secret');
    store.failNext('GetSecretValue', Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const error = await readMaterial({ kind: 'secret', secretId: 'locked' }, 'privateKey').catch((e: Error) => e);
    expect((error as Error).message).toBe('privateKey (secret locked): the handler may not read the secret; '
      + 'grant it secretsmanager:GetSecretValue (and kms:Decrypt on the secret\'s key) (AccessDeniedException)');
  });

  test('secret: throttling is retried', async () => {
    store.putSecret('busy', 'value-after-retry');
    store.failNext('GetSecretValue', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(readMaterial({ kind: 'secret', secretId: 'busy' }, 'privateKey')).resolves.toBe('value-after-retry');
    expect(store.calls()).toBe(2);
  });

  test('ssm: a String parameter, and a SecureString read with decryption', async () => {
    store.putParameter('/certs/web', 'CERT TEXT');
    store.putParameter('/keys/web', ecKey, true);
    await expect(readMaterial({ kind: 'ssm', parameterName: '/certs/web', withDecryption: 'false' }, 'certificateBody')).resolves.toBe('CERT TEXT');
    await expect(readMaterial({ kind: 'ssm', parameterName: '/keys/web', withDecryption: 'true' }, 'privateKey')).resolves.toBe(ecKey);
  });

  test('ssm: a SecureString read without decryption is refused rather than returning ciphertext', async () => {
    store.putParameter('/keys/web', ecKey, true);
    await expectInputError(readMaterial({ kind: 'ssm', parameterName: '/keys/web', withDecryption: 'false' }, 'privateKey'), 'privateKey', /is a SecureString/);
  });

  test('ssm: a missing parameter names the property', async () => {
    await expectInputError(readMaterial({ kind: 'ssm', parameterName: '/missing', withDecryption: 'true' }, 'privateKey'), 'privateKey', /SSM parameter \/missing does not exist/);
  });

  test('s3: readMaterialBytes returns the exact bytes, including 0x00, 0xff and invalid UTF-8', async () => {
    const bytes = new Uint8Array([0x00, 0xff, 0xc3, 0x28, 0x80, 0x41, 0x00, 0xfe, 0xed]);
    store.putObject('wallets', 'db/cwallet.sso', bytes);
    const read = await readMaterialBytes({ kind: 's3', bucket: 'wallets', key: 'db/cwallet.sso' }, 'wallet');
    expect(read).toBeInstanceOf(Uint8Array);
    expect([...read]).toEqual([...bytes]);
  });

  test('s3: readMaterial decodes UTF-8 text and refuses bytes that are not', async () => {
    store.putObject('b', 'cert.pem', new TextEncoder().encode('CERT ✓'));
    store.putObject('b', 'bin', new Uint8Array([0xc3, 0x28]));
    await expect(readMaterial({ kind: 's3', bucket: 'b', key: 'cert.pem' }, 'certificateBody')).resolves.toBe('CERT ✓');
    await expectInputError(readMaterial({ kind: 's3', bucket: 'b', key: 'bin' }, 'certificateBody'), 'certificateBody', /s3:\/\/b\/bin is not UTF-8 text/);
  });

  test('s3: a missing key or bucket names the property', async () => {
    store.putBucket('empty');
    await expectInputError(readMaterialBytes({ kind: 's3', bucket: 'empty', key: 'k' }, 'wallet'), 'wallet', /s3:\/\/empty\/k does not exist/);
    await expectInputError(readMaterialBytes({ kind: 's3', bucket: 'nobucket', key: 'k' }, 'wallet'), 'wallet', /bucket nobucket does not exist/);
  });

  test('readMaterialBytes of a text source is its UTF-8 encoding', async () => {
    store.putSecret('json', { cert: 'é' });
    expect([...await readMaterialBytes({ kind: 'inline', value: 'é' }, 'p')]).toEqual([0xc3, 0xa9]);
    expect([...await readMaterialBytes({ kind: 'secret', secretId: 'json', jsonField: 'cert' }, 'p')]).toEqual([0xc3, 0xa9]);
  });

  test('no log line holds a secret value', async () => {
    store.putSecret('k', { key: ecKey });
    store.failNext('GetSecretValue', Object.assign(new Error('slow'), { name: 'Throttling' }));
    await readMaterial({ kind: 'secret', secretId: 'k', jsonField: 'key' }, 'privateKey');
    expect(capture.lines.length).toBeGreaterThan(0);
    const all = capture.lines.join('\n');
    for (const secret of store.secretValues()) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('parseMaterialSource', () => {
  test.each<[string, unknown, MaterialSource]>([
    ['inline', { kind: 'inline', value: 'PEM' }, { kind: 'inline', value: 'PEM' }],
    ['secret', { kind: 'secret', secretId: 'arn:s' }, { kind: 'secret', secretId: 'arn:s' }],
    ['secret field', { kind: 'secret', secretId: 'arn:s', jsonField: 'key' }, { kind: 'secret', secretId: 'arn:s', jsonField: 'key' }],
    ['ssm', { kind: 'ssm', parameterName: '/p', withDecryption: 'true' }, { kind: 'ssm', parameterName: '/p', withDecryption: 'true' }],
    ['ssm boolean', { kind: 'ssm', parameterName: '/p', withDecryption: false }, { kind: 'ssm', parameterName: '/p', withDecryption: 'false' }],
    ['s3', { kind: 's3', bucket: 'b', key: 'k' }, { kind: 's3', bucket: 'b', key: 'k' }],
    ['JSON text', JSON.stringify({ kind: 's3', bucket: 'b', key: 'k' }), { kind: 's3', bucket: 'b', key: 'k' }],
  ])('accepts %s', (_label, input, expected) => {
    expect(parseMaterialSource(input, 'privateKey')).toEqual(expected);
  });

  test.each<[string, unknown, RegExp]>([
    ['undefined', undefined, /is required/],
    ['null', null, /is required/],
    ['a number', 5, /got number/],
    ['an array', [], /got an array/],
    ['bad JSON', '{not json', /not valid JSON/],
    ['no kind', { value: 'x' }, /kind must be one of inline, secret, ssm, s3/],
    ['unknown kind', { kind: 'file', value: 'x' }, /got "file"/],
    ['missing field', { kind: 'secret' }, /needs a non-empty string "secretId"/],
    ['empty field', { kind: 's3', bucket: '', key: 'k' }, /needs a non-empty string "bucket"/],
    ['non-string field', { kind: 'inline', value: 3 }, /needs a non-empty string "value"/],
    ['unknown field', { kind: 'inline', value: 'x', extra: 'y' }, /unexpected field "extra"/],
    ['bad withDecryption', { kind: 'ssm', parameterName: '/p', withDecryption: 'yes' }, /withDecryption must be "true" or "false"/],
    ['missing withDecryption', { kind: 'ssm', parameterName: '/p' }, /"withDecryption"/],
  ])('rejects %s with an InputError naming the property', (_label, input, pattern) => {
    let error: unknown;
    try {
      parseMaterialSource(input, 'certificateChain');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).property).toBe('certificateChain');
    expect((error as InputError).message).toMatch(/^certificateChain: /);
    expect((error as InputError).message).toMatch(pattern);
  });
});

describe('physical names', () => {
  test('contentHash is a deterministic sha256 and keeps parts apart', () => {
    expect(contentHash('a', 'b')).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash('a', 'b')).toBe(contentHash('a', 'b'));
    expect(contentHash('ab', 'c')).not.toBe(contentHash('a', 'bc'));
    expect(contentHash('a')).not.toBe(contentHash('a', ''));
  });

  test('generatedName fits maxLength for every prefix length, truncating the prefix and never the hash', () => {
    const hash = contentHash('body').slice(0, 10);
    for (let len = 0; len <= 140; len += 7) {
      const prefix = 'p'.repeat(len);
      const name = generatedName(prefix, 'body', { maxLength: 64 });
      expect(name.length).toBeLessThanOrEqual(64);
      expect(name.endsWith(hash)).toBe(true);
      expect(name).toBe(len === 0 ? hash : `${prefix.slice(0, 53)}-${hash}`);
    }
  });

  test('generatedName is deterministic, and a different input gives a different name', () => {
    const a = generatedName('Stack-Cert', 'body-1', { maxLength: 32 });
    expect(generatedName('Stack-Cert', 'body-1', { maxLength: 32 })).toBe(a);
    expect(generatedName('Stack-Cert', 'body-2', { maxLength: 32 })).not.toBe(a);
    expect(generatedName('Stack-Other', 'body-1', { maxLength: 32 })).not.toBe(a);
    const names = new Set(Array.from({ length: 500 }, (_, i) => generatedName('Stack-Cert', `body-${i}`, { maxLength: 32 })));
    expect(names.size).toBe(500);
  });

  test('generatedName honours hashLength and separator and leaves no doubled separator', () => {
    expect(generatedName('abc', 'x', { maxLength: 20, hashLength: 6, separator: '_' })).toBe(`abc_${contentHash('x').slice(0, 6)}`);
    // Truncation lands on a separator: it is dropped rather than doubled.
    const name = generatedName('abcd-efgh', 'x', { maxLength: 16 });
    expect(name).toBe(`abcd-${contentHash('x').slice(0, 10)}`);
    expect(name).not.toContain('--');
  });

  test('generatedName refuses a maxLength that cannot hold the hash', () => {
    expect(() => generatedName('p', 'x', { maxLength: 5 })).toThrow(/cannot hold a 10-character hash/);
    expect(generatedName('p', 'x', { maxLength: 10 })).toBe(contentHash('x').slice(0, 10));
  });
});

describe('customResourceHandler (the onEvent/isComplete skeleton)', () => {
  type Props = { readonly Name?: string };
  const event = (overrides: Partial<OnEventRequest<Props>> = {}): OnEventRequest<Props> => ({
    RequestType: 'Create',
    RequestId: 'req-1',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/S/1',
    LogicalResourceId: 'Thing',
    ResourceType: 'Custom::Thing',
    ResourceProperties: { ServiceToken: 'token', Name: 'a' },
    ...overrides,
  });
  const calls: string[] = [];
  const thing: ResourceLifecycle<Props> = {
    create: async (e) => {
      calls.push('create');
      return { PhysicalResourceId: `thing-${e.ResourceProperties.Name}`, Data: { Name: String(e.ResourceProperties.Name) } };
    },
    update: async (e) => {
      calls.push('update');
      return { PhysicalResourceId: e.PhysicalResourceId };
    },
    delete: async (e) => {
      calls.push('delete');
      return { PhysicalResourceId: e.PhysicalResourceId };
    },
  };
  beforeEach(() => {
    calls.length = 0;
  });

  test('dispatches each request type to its callback and logs the event without property values', async () => {
    const handler = customResourceHandler<Props>({ name: 'thing', resources: { 'Custom::Thing': thing } });
    const { result, lines } = await asyncLogged(() => handler.onEvent(event({ ResourceProperties: { ServiceToken: 't', Name: 'secret-value' } })));
    expect(result).toEqual({ PhysicalResourceId: 'thing-secret-value', Data: { Name: 'secret-value' } });
    await handler.onEvent(event({ RequestType: 'Update', PhysicalResourceId: 'thing-a', OldResourceProperties: { ServiceToken: 't' } }));
    await handler.onEvent(event({ RequestType: 'Delete', PhysicalResourceId: 'thing-a' }));
    expect(calls).toEqual(['create', 'update', 'delete']);
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({ level: 'info', message: 'event', entryPoint: 'onEvent', RequestType: 'Create', PropertyKeys: ['Name'] });
    expect(lines.join('\n')).not.toContain('secret-value');
  });

  test('a failure is mapped to the error CloudFormation shows and logged once, naming the handler', async () => {
    const handler = customResourceHandler<Props>({
      name: 'thing',
      resources: { 'Custom::Thing': { ...thing, create: async () => { throw new Error('boom'); } } },
      mapError: (e) => new Error(`Thing: ${errorMessage(e)}; change name`),
    });
    const { error, lines } = await asyncLogged(() => handler.onEvent(event()));
    expect((error as Error).message).toBe('Thing: boom; change name');
    const failures = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
    expect(failures).toEqual([expect.objectContaining({
      message: 'request failed', handler: 'thing', entryPoint: 'onEvent', requestType: 'Create', resourceType: 'Custom::Thing', error: 'Thing: boom; change name',
    })]);
  });

  test('an unknown resource type or request type fails before any callback', async () => {
    const handler = customResourceHandler<Props>({ name: 'thing', resources: { 'Custom::Thing': thing, 'Custom::Other': thing } });
    const wrongType = await asyncLogged(() => handler.onEvent(event({ ResourceType: 'Custom::Nope' })));
    expect((wrongType.error as Error).message).toBe('this thing handler serves Custom::Thing and Custom::Other, not Custom::Nope: unexpected resource type Custom::Nope');
    const wrongRequest = await asyncLogged(() => handler.onEvent(event({ RequestType: 'Replace' as never })));
    expect((wrongRequest.error as Error).message).toBe('unknown request type Replace');
    expect(calls).toEqual([]);
  });

  test('the response-size guard fails a response over 4096 bytes with a message naming the largest attributes', async () => {
    const big: ResourceLifecycle<Props> = { ...thing, create: async () => ({ PhysicalResourceId: 'p', Data: { Small: 'x', Records: 'r'.repeat(MAX_RESPONSE_BYTES) } }) };
    const handler = customResourceHandler<Props>({ name: 'thing', resources: { 'Custom::Thing': big } });
    const { error, lines } = await asyncLogged(() => handler.onEvent(event()));
    expect((error as Error).message).toMatch(/^Custom::Thing Thing: the response would be \d+ bytes, over the 4096 bytes CloudFormation accepts; its largest attributes are Records \(4107 bytes\), Small \(10 bytes\)/);
    expect(lines.some((l) => JSON.parse(l).message === 'request failed')).toBe(true);
  });

  test('a response just under the limit passes', async () => {
    // The body the framework sends: everything but Data is fixed for this event.
    const frame = JSON.stringify({
      Status: 'SUCCESS', Reason: 'SUCCESS', StackId: event().StackId, RequestId: 'req-1', PhysicalResourceId: 'p', LogicalResourceId: 'Thing', Data: { D: '' },
    });
    const room = MAX_RESPONSE_BYTES - Buffer.byteLength(frame);
    const fits: ResourceLifecycle<Props> = { ...thing, create: async () => ({ PhysicalResourceId: 'p', Data: { D: 'd'.repeat(room) } }) };
    const handler = customResourceHandler<Props>({ name: 'thing', resources: { 'Custom::Thing': fits } });
    await expect(handler.onEvent(event())).resolves.toEqual({ PhysicalResourceId: 'p', Data: { D: 'd'.repeat(room) } });
    const over: ResourceLifecycle<Props> = { ...thing, create: async () => ({ PhysicalResourceId: 'p', Data: { D: 'd'.repeat(room + 1) } }) };
    const overHandler = customResourceHandler<Props>({ name: 'thing', resources: { 'Custom::Thing': over } });
    await expect(asyncLogged(() => overHandler.onEvent(event()))).resolves.toMatchObject({ error: expect.objectContaining({ message: expect.stringMatching(/would be 4097 bytes/) }) });
  });

  test('isComplete: complete at once without a callback; with one, the merged Data is size-checked', async () => {
    const plain = customResourceHandler<Props>({ name: 'thing', resources: { 'Custom::Thing': thing } });
    const request = { ...event(), PhysicalResourceId: 'p', Data: { FromOnEvent: 'o'.repeat(3000) } } as IsCompleteRequest<Props>;
    await expect(plain.isComplete(request)).resolves.toEqual({ IsComplete: true });
    const waiting = customResourceHandler<Props>({
      name: 'thing',
      resources: { 'Custom::Thing': { ...thing, isComplete: async () => ({ IsComplete: true, Data: { FromIsComplete: 'c'.repeat(2000) } }) } },
    });
    const { error, lines } = await asyncLogged(() => waiting.isComplete(request));
    expect((error as Error).message).toMatch(/over the 4096 bytes CloudFormation accepts; its largest attributes are FromOnEvent \(3\d{3} bytes\), FromIsComplete/);
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(expect.objectContaining({ level: 'error', message: 'request failed', entryPoint: 'isComplete' }));
  });

  test('request rules run before the callbacks: a rule may answer, refuse or let the request through', async () => {
    const seen: string[] = [];
    const handler = customResourceHandler<Props>({
      name: 'thing',
      resources: { 'Custom::Thing': thing },
      rules: [
        (e) => {
          seen.push('owner');
          if ((e.ResourceProperties as Props).Name === 'foreign') {
            throw new InputError('name', 'belongs to another stack');
          }
          return undefined;
        },
        async (e): Promise<OnEventResponse | undefined> => {
          seen.push('rollback');
          return e.RequestType === 'Update' ? { PhysicalResourceId: e.PhysicalResourceId } : undefined;
        },
      ],
    });
    await expect(handler.onEvent(event())).resolves.toMatchObject({ PhysicalResourceId: 'thing-a' });
    await expect(handler.onEvent(event({ RequestType: 'Update', PhysicalResourceId: 'old' }))).resolves.toEqual({ PhysicalResourceId: 'old' });
    const refused = await asyncLogged(() => handler.onEvent(event({ ResourceProperties: { ServiceToken: 't', Name: 'foreign' } })));
    expect((refused.error as Error).message).toBe('name: belongs to another stack');
    expect(calls).toEqual(['create']);
    expect(seen).toEqual(['owner', 'rollback', 'owner', 'rollback', 'owner']);
  });

  test.each([
    ['server-certificate', serverHandler],
    ['dms-certificate', dmsHandler],
    ['private-ca', privateCaHandler],
    ['private-ca-issued-certificate', issuedHandler],
    ['lightsail-certificate', lightsailHandler],
    ['alibaba-kms-certificate', alibabaHandler],
    ['acm-certificate', acmHandler],
  ])('the %s handler writes the failure log', async (kind, module) => {
    const onEvent = module.onEvent as (e: OnEventRequest<unknown>) => Promise<unknown>;
    const { error, lines } = await asyncLogged(() => onEvent(event({ ResourceType: 'Custom::Unknown' })));
    expect(error).toBeInstanceOf(Error);
    const failures = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
    expect(failures).toEqual([expect.objectContaining({ message: 'request failed', handler: kind, entryPoint: 'onEvent', resourceType: 'Custom::Unknown' })]);
    expect(failures[0].error).toMatch(/unexpected resource type Custom::Unknown/);
  });
});

describe('service (the client factory)', () => {
  const originalSleep = retryConfig.sleep;
  beforeEach(() => {
    retryConfig.sleep = async () => undefined;
  });
  afterEach(() => {
    retryConfig.sleep = originalSleep;
  });
  const named = (name: string) => Object.assign(new Error(`${name} happened`), { name });

  class FakeClient {
    constructor(public readonly region: string | undefined) {}
  }

  test('loads the SDK once, on the first call, and keeps one client per region', async () => {
    let loads = 0;
    const made: FakeClient[] = [];
    const fake = service({
      load: async () => {
        loads++;
        return { FakeClient };
      },
      client: (sdk, region) => {
        const client = new sdk.FakeClient(region);
        made.push(client);
        return client;
      },
    });
    expect(loads).toBe(0);
    const first = await fake.call('op', async ({ client }) => client);
    const again = await fake.call('op', async ({ client }) => client);
    const east = await fake.call('op', async ({ client }) => client, { region: 'us-east-1' });
    expect(first).toBe(again);
    expect(east.region).toBe('us-east-1');
    expect(loads).toBe(1);
    expect(made).toHaveLength(2);
    expect((await fake.api('us-east-1')).client).toBe(east);
  });

  test('a failed load is tried again on the next call', async () => {
    let loads = 0;
    const fake = service({
      load: async () => {
        if (++loads === 1) {
          throw named('ECONNRESET');
        }
        return { FakeClient };
      },
      client: (sdk) => new sdk.FakeClient(undefined),
    });
    await expect(fake.call('op', async () => 'x')).rejects.toThrow(/ECONNRESET/);
    await expect(fake.call('op', async () => 'x')).resolves.toBe('x');
  });

  test('retries throttling, transient faults and the service\'s own retryOn names; nothing else', async () => {
    const fake = service({ load: async () => ({ FakeClient }), client: (sdk) => new sdk.FakeClient(undefined), retryOn: ['ServiceFailureException'] });
    for (const name of ['ThrottlingException', 'ServiceUnavailable', 'ServiceFailureException']) {
      let attempts = 0;
      const out = await asyncLogged(() => fake.call('op', async () => {
        if (++attempts < 3) {
          throw named(name);
        }
        return attempts;
      }));
      expect(out.result).toBe(3);
    }
    let attempts = 0;
    const denied = await asyncLogged(() => fake.call('op', async () => {
      attempts++;
      throw named('AccessDeniedException');
    }));
    expect(errorName(denied.error)).toBe('AccessDeniedException');
    expect(attempts).toBe(1);
  });

  test('a call may retry further names and bound its attempts', async () => {
    const fake = service({ load: async () => ({ FakeClient }), client: (sdk) => new sdk.FakeClient(undefined) });
    let attempts = 0;
    const out = await asyncLogged(() => fake.call('op', async () => {
      attempts++;
      throw named('RequestFailedException');
    }, { retryOn: ['RequestFailedException'], maxAttempts: 2 }));
    expect(errorName(out.error)).toBe('RequestFailedException');
    expect(attempts).toBe(2);
    expect(isRetryable(named('RequestFailedException'))).toBe(false);
    expect(isRetryable(named('RequestFailedException'), ['RequestFailedException'])).toBe(true);
    expect(isRetryable(named('Throttling'))).toBe(true);
  });
});

describe('durationText', () => {
  test('says a wait as people say it, never "0 minutes"', () => {
    expect(durationText(10 * 60_000)).toBe('10 minutes');
    expect(durationText(60_000)).toBe('1 minute');
    expect(durationText(45_000)).toBe('45 seconds');
    expect(durationText(400)).toBe('0.4 seconds');
    expect(durationText(1000)).toBe('1 second');
  });
});

describe('ownership', () => {
  const longStack = `arn:aws:cloudformation:ap-southeast-2:123456789012:stack/${'Platform-Certificates-'.repeat(5)}Prod/0f9e8d7c-6b5a-4321-8765-43210fedcba9`;
  const owner = { StackId: longStack, LogicalResourceId: 'WebCertificate1A2B3C4D' };

  test('a stack ID longer than the service\'s tag values is tagged as its hash, and still recognised', () => {
    const tags = ownerTags(owner, 128);
    expect(tags[0].Value).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(tags[0].Value.length).toBeLessThanOrEqual(128);
    expect(ownershipOf(tags, owner)).toEqual({ kind: 'this' });
    expect(ownershipOf(tags, { ...owner, StackId: longStack.replace('Prod', 'Test') }).kind).toBe('other');
  });

  test('this resource, a sibling of the same stack, another stack, or no owner at all', () => {
    const tags = ownerTags(owner);
    expect(ownershipOf(tags, owner)).toEqual({ kind: 'this' });
    expect(ownershipOf(tags, { ...owner, LogicalResourceId: 'Other' })).toEqual({ kind: 'sibling', logicalId: 'WebCertificate1A2B3C4D' });
    expect(ownershipOf([{ key: 'team', value: 'edge' }], owner)).toEqual({ kind: 'unknown' });
    // The user's tags keep their order; ownership tags cannot be overridden by them.
    expect(withOwnerTags([{ Key: 'cdk-certificates:stack-id', Value: 'forged' }, { Key: 'team', Value: 'edge' }], owner))
      .toEqual([{ Key: 'team', Value: 'edge' }, ...tags]);
  });

  test('generated names differ per stack (region, account, UUID) and fit the service', () => {
    const a = ownedName(owner, 'Web_Iam-3EDCD736', ['fingerprint'], { maxLength: 128 });
    const b = ownedName({ ...owner, StackId: longStack.replace('ap-southeast-2', 'eu-west-1') }, 'Web_Iam-3EDCD736', ['fingerprint'], { maxLength: 128 });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^Web_Iam-3EDCD736-[0-9a-f]{10}$/);
  });
});
