#!/usr/bin/env node
/**
 * The `cdk-certificates` command (package.json `bin`). See ./check.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT_USAGE, runCli } from './check';

/** This package's version, from its package.json (lib/manifest/cli/main.js and src/manifest/cli/main.ts are both three levels down). */
export function packageVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}

/** Runs the CLI on `process.argv` and returns the exit code; unexpected errors are input errors (2). */
export function main(argv: string[] = process.argv.slice(2)): number {
  const io = {
    stdout: (text: string) => { process.stdout.write(text); },
    stderr: (text: string) => { process.stderr.write(text); },
  };
  try {
    return runCli(argv, io, packageVersion());
  } catch (e) {
    io.stderr(`cdk-certificates: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_USAGE;
  }
}

if (require.main === module) {
  process.exitCode = main();
}
