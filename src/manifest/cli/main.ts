#!/usr/bin/env node
/**
 * The `cdk-certificates` command (package.json `bin`). See ./check.ts.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { CliIo, EXIT_USAGE, runCli } from './check';

const PACKAGE_NAME = 'cdk-certificates';

/**
 * This package's version, from the first of these package.json files that is this package's:
 * - next to this file: the bundle CertificateCheckStep copies into a cloud assembly, with a
 *   package.json that names the library version that synthesized it;
 * - three levels up, from lib/manifest/cli/main.js and src/manifest/cli/main.ts;
 * - four levels up, from the shipped bundle assets/manifest/cli/main/index.js.
 */
export function packageVersion(): string {
  const candidates = [[], ['..', '..', '..'], ['..', '..', '..', '..']].map((up) => path.join(__dirname, ...up, 'package.json'));
  for (const file of candidates) {
    try {
      const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === PACKAGE_NAME && typeof manifest.version === 'string') {
        return manifest.version;
      }
    } catch {
      // not there, or not JSON: try the next
    }
  }
  return 'unknown';
}

/**
 * What `--version` prints: the package version, and for 0.0.0 that it is a build from a checkout no
 * release tagged (`npx projen release` stamps the real version; an untagged build keeps 0.0.0).
 */
export function versionLabel(version: string): string {
  return version === '0.0.0' ? '0.0.0 (untagged development build)' : version;
}

/** Runs the CLI on `process.argv` and returns the exit code; unexpected errors are input errors (2). */
export function main(argv: string[] = process.argv.slice(2)): number {
  const io = {
    stdout: (text: string) => { process.stdout.write(text); },
    stderr: (text: string) => { process.stderr.write(text); },
  };
  try {
    return runCli(argv, io, versionLabel(packageVersion()));
  } catch (e) {
    io.stderr(`cdk-certificates: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_USAGE;
  }
}

/** Whether `argv` asks for the live check (`check --live ...`), which the live bundle runs. */
export function isLiveCheck(argv: string[]): boolean {
  return argv[0] === 'check' && argv.includes('--live');
}

/**
 * Where the live check's bundle is (its AWS SDK clients make it too large for this file), the first
 * of:
 * - `live/index.js` next to this file: CertificateCheckStep copies it there, beside the CLI;
 * - `../live/index.js`, from the shipped bundle assets/manifest/cli/main/index.js;
 * - `assets/manifest/cli/live/index.js` three levels up, from lib/manifest/cli/main.js and src/.
 */
export function liveBundlePath(): string | undefined {
  const candidates = [
    path.join(__dirname, 'live', 'index.js'),
    path.join(__dirname, '..', 'live', 'index.js'),
    path.join(__dirname, '..', '..', '..', 'assets', 'manifest', 'cli', 'live', 'index.js'),
  ];
  return candidates.find((file) => fs.existsSync(file));
}

/** Runs `check --live ...` with the live bundle and resolves with the exit code. */
export async function mainLive(argv: string[] = process.argv.slice(2)): Promise<number> {
  const io: CliIo = {
    stdout: (text: string) => { process.stdout.write(text); },
    stderr: (text: string) => { process.stderr.write(text); },
  };
  const bundle = liveBundlePath();
  if (!bundle) {
    io.stderr('cdk-certificates check --live: the live check (live/index.js) is missing beside this CLI; reinstall cdk-certificates '
      + '(or, in its own repository, run `npx projen bundle`)\n');
    return EXIT_USAGE;
  }
  try {
    const load = createRequire(__filename);
    const live = load(bundle) as { runLiveCheck(args: string[], cliIo: CliIo): Promise<number> };
    return await live.runLiveCheck(argv.slice(1), io);
  } catch (e) {
    io.stderr(`cdk-certificates: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_USAGE;
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (isLiveCheck(argv)) {
    void mainLive(argv).then((code) => { process.exitCode = code; });
  } else {
    process.exitCode = main(argv);
  }
}
