import type { OnEventRequest } from './cfn';

/** Log levels, lowest to highest. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Field names whose values are never logged, whatever they hold. */
export const SENSITIVE_KEY = /privatekey|secret|password|accesskey|token|responseurl|credential/i;

/** What replaces the value of a sensitive field. */
export const REDACTED = '[redacted]';

/** What replaces a PEM private key block found inside any string. */
export const REDACTED_PRIVATE_KEY = '[redacted private key]';

// Any PEM private key block (PKCS#1 RSA, EC, PKCS#8, encrypted PKCS#8, OpenSSH...). A BEGIN line
// with no END (a truncated key) is redacted to the end of the string. JSON-escaped newlines ("\n"
// as two characters) are covered because the body match spans any character.
const PRIVATE_KEY_BLOCK = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----(?:[\s\S]*?-----END ([A-Z0-9]+ )*PRIVATE KEY-----|[\s\S]*$)/g;

// Keys the log line owns; a field with one of these names is kept under a prefixed key.
const RESERVED_KEYS = new Set(['level', 'message', 'timestamp']);

const MAX_DEPTH = 8;

/** Replaces every PEM private key block in `text` with `[redacted private key]`. */
export function redactPrivateKeys(text: string): string {
  return text.replace(PRIVATE_KEY_BLOCK, REDACTED_PRIVATE_KEY);
}

/**
 * Returns a JSON-safe deep copy of `value` with sensitive fields and private key blocks redacted.
 *
 * Errors become `{ name, message, code? }` (never their stack or SDK payload), byte arrays become
 * their length, cycles and excessive depth are cut.
 */
export function redact(value: unknown): unknown {
  return redactValue(value, 0, new WeakSet<object>());
}

function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') {
    return redactPrivateKeys(value);
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'bigint') {
    return value.toString();
  }
  if (typeof value !== 'object') {
    // undefined, functions and symbols have no place in a log line.
    return undefined;
  }
  if (seen.has(value)) {
    return '[circular]';
  }
  if (depth >= MAX_DEPTH) {
    return '[too deep]';
  }
  seen.add(value);
  try {
    if (value instanceof Error) {
      const out: Record<string, unknown> = { name: value.name, message: redactPrivateKeys(value.message) };
      const code = (value as { code?: unknown; Code?: unknown }).code ?? (value as { Code?: unknown }).Code;
      if (typeof code === 'string' || typeof code === 'number') {
        out.code = code;
      }
      return out;
    }
    if (value instanceof Date) {
      return value.toISOString();
    }
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      return `[${value.byteLength} bytes]`;
    }
    if (Array.isArray(value)) {
      return value.map((item) => redactValue(item, depth + 1, seen));
    }
    if (value instanceof Map) {
      return redactObject(Object.fromEntries(value), depth, seen);
    }
    if (value instanceof Set) {
      return [...value].map((item) => redactValue(item, depth + 1, seen));
    }
    return redactObject(value as Record<string, unknown>, depth, seen);
  } finally {
    seen.delete(value);
  }
}

function redactObject(obj: Record<string, unknown>, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(obj)) {
    out[key] = SENSITIVE_KEY.test(key) ? REDACTED : redactValue(item, depth + 1, seen);
  }
  return out;
}

/**
 * Writes one JSON log line: `{ level, message, ...fields, timestamp }`.
 *
 * Defensive: a field whose name looks sensitive (private key, secret, password, access key, token,
 * ResponseURL, credential) is replaced by `[redacted]`, and any PEM private key block anywhere in
 * the message or the fields (nested objects, arrays, error messages) by `[redacted private key]`.
 * Never throws.
 */
export function log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
  const line: Record<string, unknown> = { level, message: redactPrivateKeys(String(message)) };
  if (fields) {
    const safe = redact(fields);
    if (safe && typeof safe === 'object') {
      for (const [key, value] of Object.entries(safe as Record<string, unknown>)) {
        line[RESERVED_KEYS.has(key) ? `field_${key}` : key] = value;
      }
    }
  }
  line.timestamp = new Date().toISOString();
  let text: string;
  try {
    text = JSON.stringify(line);
  } catch {
    text = JSON.stringify({ level, message: line.message, timestamp: line.timestamp, logError: 'fields could not be serialized' });
  }
  console.log(text);
}

/**
 * A summary of a custom-resource event that is safe to log: identifiers and property names only.
 * (A type alias, not an interface, so it can be passed straight to `log` as its fields.)
 */
export type EventSummary = {
  readonly RequestType: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceType: string;
  /** Names of the resource properties (never their values), without ServiceToken. */
  readonly PropertyKeys: string[];
  /** On Update: names of the properties whose value changed. */
  readonly ChangedPropertyKeys?: string[];
};

/**
 * Summarises an onEvent/isComplete request for logging: identifiers and property names only.
 * Never property values, never the ResponseURL (the event's presigned URL lets anyone answer
 * CloudFormation on the stack's behalf).
 */
export function describeEvent<P>(event: OnEventRequest<P>): EventSummary {
  const props = propertyRecord(event.ResourceProperties);
  const summary: {
    -readonly [K in keyof EventSummary]: EventSummary[K];
  } = {
    RequestType: String(event.RequestType),
    RequestId: String(event.RequestId),
    LogicalResourceId: String(event.LogicalResourceId),
    ResourceType: String(event.ResourceType),
    PropertyKeys: propertyKeys(props),
  };
  if (event.PhysicalResourceId !== undefined) {
    summary.PhysicalResourceId = redactPrivateKeys(String(event.PhysicalResourceId));
  }
  if (event.RequestType === 'Update') {
    const old = propertyRecord(event.OldResourceProperties);
    const keys = new Set([...propertyKeys(props), ...propertyKeys(old)]);
    summary.ChangedPropertyKeys = [...keys].filter((k) => JSON.stringify(props[k]) !== JSON.stringify(old[k])).sort();
  }
  return summary;
}

function propertyRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

function propertyKeys(props: Record<string, unknown>): string[] {
  return Object.keys(props).filter((k) => k !== 'ServiceToken').sort();
}
