import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Which build of the handlers a handler suite drives. Each `test/<family>/<kind>-handler.test.ts`
 * drives the TypeScript sources; its twin `<kind>-handler.bundle.test.ts` beside it imports
 * `../support/bundle-tier` first and so drives the shipped bundle from `assets/` through the same suite. Module state is per test file in jest, so
 * the choice never leaks into another file.
 */
export const handlerBuild = { kind: 'source' as 'source' | 'bundle' };

/** The folder that `npx projen bundle` writes and the npm package ships. */
export const BUNDLES_DIR = path.join(__dirname, '..', '..', 'assets', 'lambda');

let runtimeDir: string | undefined;

/**
 * The bundle of one handler kind, loaded the way the Lambda runtime loads it: copied alone into a
 * folder outside the project, so that the AWS SDK it leaves external resolves only through the
 * module path (jest's `modulePaths`, what `NODE_PATH` is to Lambda), not from a node_modules above it.
 */
export function loadBundle(kind: string): unknown {
  const bundle = path.join(BUNDLES_DIR, kind, 'index', 'index.js');
  if (!fs.existsSync(bundle)) {
    throw new Error(`No bundle at ${bundle}: run "npx projen bundle" (npm test does it first).`);
  }
  if (runtimeDir === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-certificates-lambda-'));
    runtimeDir = dir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  const taskDir = path.join(runtimeDir, kind);
  fs.mkdirSync(taskDir, { recursive: true });
  fs.copyFileSync(bundle, path.join(taskDir, 'index.js'));
  return jest.requireActual(path.join(taskDir, 'index.js'));
}

/**
 * The handler module a suite drives: `source` itself, or the shipped bundle of `kind` when the
 * suite runs in the bundle tier. The bundle exports what the handler's index.ts exports.
 */
export function handlerUnderTest<T>(kind: string, source: T): T {
  return handlerBuild.kind === 'bundle' ? (loadBundle(kind) as T) : source;
}
