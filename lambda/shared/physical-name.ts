import { createHash } from 'node:crypto';

// Joins hashed parts; NUL never occurs in PEM or in a property value, so ('ab', 'c') and
// ('a', 'bc') hash differently.
const PART_SEPARATOR = '\u0000';

/** SHA-256 (hex) of the parts, joined with a separator that cannot occur in PEM text. */
export function contentHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join(PART_SEPARATOR), 'utf8').digest('hex');
}

/** Options of {@link generatedName}. */
export interface GeneratedNameOptions {
  /** The service's limit on the whole name. */
  readonly maxLength: number;
  /** Hex characters of the hash to keep. @default 10 */
  readonly hashLength?: number;
  /** Between prefix and hash. @default '-' */
  readonly separator?: string;
}

/**
 * A deterministic name `prefix + separator + hash(hashInput)` that fits `maxLength`: the prefix is
 * truncated (never the hash) and loses any trailing separator so no doubled separator appears.
 * The same inputs always give the same name; a different `hashInput` gives a different one, so a
 * replacement never collides with the resource it replaces.
 */
export function generatedName(prefix: string, hashInput: string, options: GeneratedNameOptions): string {
  const separator = options.separator ?? '-';
  const hashLength = options.hashLength ?? 10;
  if (!Number.isInteger(hashLength) || hashLength < 1 || hashLength > 64) {
    throw new Error(`generatedName: hashLength must be an integer from 1 to 64, got ${hashLength}`);
  }
  if (!Number.isInteger(options.maxLength) || options.maxLength < hashLength) {
    throw new Error(`generatedName: maxLength ${options.maxLength} cannot hold a ${hashLength}-character hash`);
  }
  const hash = contentHash(hashInput).slice(0, hashLength);
  const room = options.maxLength - hashLength - separator.length;
  let head = room > 0 ? prefix.slice(0, room) : '';
  while (separator.length > 0 && head.endsWith(separator)) {
    head = head.slice(0, -separator.length);
  }
  return head.length > 0 ? `${head}${separator}${hash}` : hash;
}

/**
 * JSON with object keys sorted and undefined members dropped: the same value always gives the same
 * text, so it can feed a content hash or an idempotency token.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
