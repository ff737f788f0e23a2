import { format } from 'node:util';

/** What {@link captureLogs} collected, and how to stop collecting. */
export interface CapturedLogs {
  /** Every line written so far, in order (console calls formatted as Node does). */
  readonly lines: string[];
  /** Puts the original console and stream functions back. Safe to call twice. */
  restore(): void;
}

/** Options of {@link captureLogs}. */
export interface CaptureOptions {
  /** Also write through to the real console/streams. @default false */
  readonly passthrough?: boolean;
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;

/**
 * Captures everything code writes: console.log/info/warn/error/debug and direct
 * process.stdout/stderr writes. Nothing reaches the terminal unless `passthrough` is set.
 * Captures nest: restore them in reverse order.
 */
export function captureLogs(options: CaptureOptions = {}): CapturedLogs {
  const lines: string[] = [];
  const originalConsole = CONSOLE_METHODS.map((m) => [m, console[m]] as const);
  const originalStdout = process.stdout.write;
  const originalStderr = process.stderr.write;

  for (const [method, original] of originalConsole) {
    console[method] = (...args: unknown[]) => {
      lines.push(format(...args));
      if (options.passthrough) {
        original.apply(console, args);
      }
    };
  }

  const streamWriter = (original: typeof process.stdout.write, stream: NodeJS.WriteStream) =>
    ((chunk: unknown, ...rest: unknown[]): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      lines.push(text.replace(/\n$/, ''));
      if (options.passthrough) {
        return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      }
      // Honour the callback contract of stream.write.
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      callback?.();
      return true;
    }) as typeof process.stdout.write;

  process.stdout.write = streamWriter(originalStdout, process.stdout);
  process.stderr.write = streamWriter(originalStderr, process.stderr);

  let restored = false;
  return {
    lines,
    restore() {
      if (restored) {
        return;
      }
      restored = true;
      for (const [method, original] of originalConsole) {
        console[method] = original;
      }
      process.stdout.write = originalStdout;
      process.stderr.write = originalStderr;
    },
  };
}
