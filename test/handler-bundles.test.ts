import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ASSETS = path.join(__dirname, '..', 'assets', 'lambda');
const HANDLERS = fs.readdirSync(path.join(__dirname, '..', 'lambda'))
  .filter(name => fs.existsSync(path.join(__dirname, '..', 'lambda', name, 'index.ts')));

describe('handler bundles, as the Lambda runtime loads them', () => {
  test('there is a bundle for every handler', () => {
    expect(HANDLERS.length).toBeGreaterThan(0);
    for (const name of HANDLERS) {
      expect(fs.existsSync(path.join(ASSETS, name, 'index', 'index.js'))).toBe(true);
    }
  });

  test.each(HANDLERS)('%s loads in a fresh Node.js process and exports onEvent', (name) => {
    const file = path.join(ASSETS, name, 'index', 'index.js');
    // A fresh process has none of jest's setup files: the bundle must bring what it needs.
    const out = execFileSync(process.execPath, ['-e', `
      const m = require(${JSON.stringify(file)});
      process.stdout.write(JSON.stringify({ onEvent: typeof m.onEvent, isComplete: typeof m.isComplete }));
    `], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    const exported = JSON.parse(out);
    expect(exported.onEvent).toBe('function');
    expect(['function', 'undefined']).toContain(exported.isComplete);
  });

  test.each(HANDLERS)('%s bundles no AWS SDK v3 client (the runtime provides it)', (name) => {
    const code = fs.readFileSync(path.join(ASSETS, name, 'index', 'index.js'), 'utf8');
    expect(code).not.toMatch(/class \w*Client extends \w*Smithy|__aws_sdk_client_/);
    expect(code).toMatch(/(require|import)\("@aws-sdk\/client-[a-z-]+"\)/);
  });
});
