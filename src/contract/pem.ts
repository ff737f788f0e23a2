/**
 * Strict PEM parsing (RFC 7468 as OpenSSL writes it), shared by the X.509 checks, the constructs
 * and the handlers. Depends on nothing but the language. Messages never echo input text.
 */

/** Labels of PEM blocks that hold private keys (in any encoding). */
export const PRIVATE_KEY_LABEL = /(^|\s)PRIVATE KEY$/;
/** Private key labels node:crypto (OpenSSL) loads without a passphrase. */
export const PLAIN_KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY']);
/** PEM labels are upper-case words (RFC 7468 allows a little more; nothing real uses it). */
const LABEL_PATTERN = /^[A-Z0-9]+(?: [A-Z0-9]+)*$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/;
const HEADER_LINE = /^[A-Za-z][A-Za-z0-9-]*:/;

/** Input that breaks one rule. `message` is `<property>: <rule>`. */
export class CertificateCheckError extends Error {
  constructor(
    /** The construct property (or handler input) at fault, e.g. `certificateBody`. */
    public readonly property: string,
    /** What is wrong and what to do, without the property name. */
    public readonly rule: string,
  ) {
    super(`${property}: ${rule}`);
    this.name = 'CertificateCheckError';
  }
}

/** One `-----BEGIN <label>----- ... -----END <label>-----` block. */
export interface PemBlock {
  readonly label: string;
  /** The body with all whitespace removed. */
  readonly base64: string;
  /** RFC 1421 headers (e.g. `Proc-Type`, `DEK-Info`) of legacy encrypted keys; usually empty. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Splits PEM text into blocks, strictly: every BEGIN has a matching END with the same label,
 * bodies are valid base64, and only whitespace lies outside the blocks. Fails when there is no
 * block at all.
 */
export function parsePemBlocks(text: string, property: string): PemBlock[] {
  const fail = (rule: string): never => {
    throw new CertificateCheckError(property, rule);
  };
  // Normalise line endings and drop a UTF-8 byte order mark; nothing else is forgiven.
  const pem = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const blocks: PemBlock[] = [];

  const checkOutside = (gap: string, where: string) => {
    if (gap.trim() === '') return;
    if (gap.includes('-----END ')) {
      fail(`has an -----END line without a matching -----BEGIN line (${where})`);
    }
    if (gap.includes('\\n')) {
      fail(`contains literal "\\n" sequences (${where}); use real line breaks in PEM text`);
    }
    fail(`has text outside the PEM blocks (${where}); only whitespace may appear outside -----BEGIN/-----END lines`);
  };

  let pos = 0;
  for (;;) {
    const begin = pem.indexOf('-----BEGIN ', pos);
    if (begin < 0) break;
    const n = blocks.length + 1;
    checkOutside(pem.slice(pos, begin), n === 1 ? 'before block 1' : `between blocks ${n - 1} and ${n}`);

    const lineEnd = pem.indexOf('\n', begin) < 0 ? pem.length : pem.indexOf('\n', begin);
    const labelEnd = pem.indexOf('-----', begin + 11);
    const label = labelEnd < 0 || labelEnd > lineEnd ? undefined : pem.slice(begin + 11, labelEnd);
    if (label === undefined || !LABEL_PATTERN.test(label)) {
      return fail(`block ${n} has a malformed -----BEGIN line; expected e.g. -----BEGIN CERTIFICATE-----`);
    }
    const bodyStart = labelEnd + 5;
    const end = pem.indexOf('-----END ', bodyStart);
    const nextBegin = pem.indexOf('-----BEGIN ', bodyStart);
    if (end < 0 || (nextBegin >= 0 && nextBegin < end)) {
      return fail(`block ${n} (${label}) has no -----END ${label}----- line`);
    }
    const endLineEnd = pem.indexOf('\n', end) < 0 ? pem.length : pem.indexOf('\n', end);
    const endLabelEnd = pem.indexOf('-----', end + 9);
    const endLabel = endLabelEnd < 0 || endLabelEnd > endLineEnd ? undefined : pem.slice(end + 9, endLabelEnd);
    if (endLabel === undefined || !LABEL_PATTERN.test(endLabel)) {
      return fail(`block ${n} (${label}) has a malformed -----END line; expected -----END ${label}-----`);
    }
    if (endLabel !== label) {
      fail(`block ${n}: -----BEGIN ${label}----- does not match -----END ${endLabel}-----`);
    }
    blocks.push(parseBody(pem.slice(bodyStart, end), label, n, fail));
    pos = endLabelEnd + 5;
  }

  if (blocks.length === 0) {
    if (pem.trim() === '') {
      fail('is empty; expected PEM text (-----BEGIN ...----- ... -----END ...-----)');
    }
    if (pem.includes('-----END ')) {
      fail('has an -----END line without a matching -----BEGIN line');
    }
    fail('is not PEM text: no -----BEGIN line found');
  }
  checkOutside(pem.slice(pos), `after block ${blocks.length}`);
  return blocks;
}

function parseBody(body: string, label: string, n: number, fail: (rule: string) => never): PemBlock {
  const headers: Record<string, string> = {};
  let lines = body.split('\n');
  // RFC 1421 headers: `Name: value` lines right after BEGIN, ended by a blank line.
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first >= 0 && HEADER_LINE.test(lines[first].trim())) {
    let i = first;
    for (; i < lines.length && HEADER_LINE.test(lines[i].trim()); i++) {
      const line = lines[i].trim();
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
    if (i >= lines.length || lines[i].trim() !== '') {
      fail(`block ${n} (${label}) has header lines not followed by a blank line`);
    }
    lines = lines.slice(i + 1);
  }
  const base64 = lines.join('').replace(/\s+/g, '');
  if (base64 === '') {
    fail(`block ${n} (${label}) is empty`);
  }
  if (!BASE64_PATTERN.test(base64) || base64.length % 4 !== 0) {
    fail(`block ${n} (${label}) is not valid base64`);
  }
  return { label, base64, headers };
}

/** Re-emits a block as canonical PEM (64-column lines, `\n` endings, trailing newline). */
export function toPem(block: PemBlock): string {
  const headerLines = Object.entries(block.headers).map(([k, v]) => `${k}: ${v}\n`).join('');
  const body = block.base64.match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${block.label}-----\n${headerLines}${headerLines ? '\n' : ''}${body}\n-----END ${block.label}-----\n`;
}
