import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const ASSETS = path.join(ROOT, 'assets', 'lambda');
const HANDLERS = fs.readdirSync(path.join(ROOT, 'lambda'))
  .filter(name => fs.existsSync(path.join(ROOT, 'lambda', name, 'index.ts')));

describe('handler bundles, as the Lambda runtime loads them', () => {
  test('there is a bundle for every handler', () => {
    expect(HANDLERS.length).toBeGreaterThan(0);
    for (const name of HANDLERS) {
      expect(fs.existsSync(path.join(ASSETS, name, 'index', 'index.js'))).toBe(true);
    }
  });

  test.each(HANDLERS)('%s loads in a fresh Node.js process outside the project, the SDK only through NODE_PATH', (name) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk-certificates-${name}-`));
    try {
      fs.copyFileSync(path.join(ASSETS, name, 'index', 'index.js'), path.join(dir, 'index.js'));
      // As the Lambda runtime does: load the handler, then the SDK clients it requires lazily.
      const script = `
        const m = require('./index.js');
        const sdk = require('fs').readFileSync('./index.js', 'utf8').match(/require\\("(@aws-sdk\\/client-[a-z-]+)"\\)/g) || [];
        for (const r of sdk) require(r.slice(9, -2));
        process.stdout.write(JSON.stringify({ onEvent: typeof m.onEvent, isComplete: typeof m.isComplete, sdk: sdk.length }));
      `;
      const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, ['-e', script], {
        cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, NODE_NO_WARNINGS: '1', ...env },
      });
      const loaded = run({ NODE_PATH: path.join(ROOT, 'node_modules') });
      expect(loaded.stderr).toBe('');
      const exported = JSON.parse(loaded.stdout);
      expect(exported.onEvent).toBe('function');
      expect(['function', 'undefined']).toContain(exported.isComplete);
      expect(exported.sdk).toBeGreaterThan(0);
      // Without NODE_PATH nothing above the folder provides the SDK: the folder really is outside.
      const alone = run({});
      expect(alone.status).not.toBe(0);
      expect(alone.stderr).toMatch(/Cannot find module '@aws-sdk\/client-/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each(HANDLERS)('%s bundles no AWS SDK v3 client (the runtime provides it)', (name) => {
    const code = fs.readFileSync(path.join(ASSETS, name, 'index', 'index.js'), 'utf8');
    expect(code).not.toMatch(/class \w*Client extends \w*Smithy|__aws_sdk_client_/);
    expect(code).toMatch(/require\("@aws-sdk\/client-[a-z-]+"\)/);
    // An ES import() of an external ignores NODE_PATH under plain Node: the bundles must not keep one.
    expect(code).not.toMatch(/import\("@aws-sdk\//);
  });
});
