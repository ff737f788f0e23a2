import { redactPrivateKeys } from './log';
import { CertificateCheckError } from '../../src/contract/x509';

/**
 * A problem with the resource's input: the message names the construct property and the rule it
 * breaks, so the user knows what to change. Never carries the offending value when it may be secret.
 */
export class InputError extends Error {
  /** The construct property at fault (e.g. `privateKey`). */
  public readonly property: string;
  /** The rule it breaks, phrased as what to change. */
  public readonly rule: string;

  constructor(property: string, rule: string) {
    super(redactPrivateKeys(`${property}: ${rule}`));
    this.name = 'InputError';
    this.property = property;
    this.rule = rule;
  }
}

interface ErrorLike {
  readonly name?: unknown;
  readonly Code?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly Message?: unknown;
}

function asErrorLike(e: unknown): ErrorLike | undefined {
  return e !== null && typeof e === 'object' ? (e as ErrorLike) : undefined;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The error's name as the service reports it: the SDK v3 exception `name` (e.g.
 * `NoSuchEntityException`, `ParameterNotFound`), else `Code`/`code` (query-protocol errors,
 * Alibaba `Throttling.User`, Node `ECONNRESET`), else `'Error'`.
 */
export function errorName(e: unknown): string {
  const err = asErrorLike(e);
  if (!err) {
    return 'Error';
  }
  const name = nonEmptyString(err.name);
  if (name && name !== 'Error') {
    return name;
  }
  const code = nonEmptyString(err.Code) ?? nonEmptyString(err.code);
  return code ?? name ?? 'Error';
}

/** The error's message (SDK `message` or `Message`), or its string form; private keys redacted. */
export function errorMessage(e: unknown): string {
  const err = asErrorLike(e);
  let message: string;
  if (err) {
    message = nonEmptyString(err.message) ?? nonEmptyString(err.Message) ?? '';
  } else if (e === undefined || e === null) {
    message = '';
  } else {
    message = String(e);
  }
  return redactPrivateKeys(message);
}

/** Explains a known service error: returns what went wrong and what to change. */
export type ErrorExplainer = (e: unknown) => string;

/**
 * Turns a service error into one that says what to change.
 *
 * If the error's name is in `table`, the message is `${context}: ${explanation} (${name})`;
 * otherwise `${context}: ${name}: ${message}`. Private key blocks are redacted from the result.
 * `context` is typically the construct property or operation (e.g. `privateKey` or
 * `UploadServerCertificate`). An `InputError` passes through unchanged: it already says what to do.
 */
export function translateError(e: unknown, table: Record<string, ErrorExplainer>, context: string): Error {
  if (e instanceof InputError) {
    return e;
  }
  const name = errorName(e);
  const explain = Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
  const text = explain
    ? `${context}: ${explain(e)} (${name})`
    : `${context}: ${name}: ${errorMessage(e)}`;
  const translated = new Error(redactPrivateKeys(text));
  translated.name = name === 'Error' ? 'Error' : name;
  return translated;
}

/**
 * Runs `fn` (typically the shared X.509 checks), turning a `CertificateCheckError` into the
 * `InputError` it describes, so a bad PEM reaches CloudFormation as one message naming the property.
 */
export function asInputError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CertificateCheckError) {
      throw new InputError(e.property, e.rule);
    }
    throw e;
  }
}
