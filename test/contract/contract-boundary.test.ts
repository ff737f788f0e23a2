import * as path from 'node:path';
import { loadESLint } from 'eslint';

// The contract boundary lives in .eslintrc.json (no-restricted-imports overrides, from .projenrc.ts):
// src/contract imports Node built-ins only, and lambda/ reaches into src/ only through src/contract.
const ROOT = path.join(__dirname, '..', '..');

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const ESLint = await loadESLint({ useFlatConfig: false });
  const eslint = new ESLint({ cwd: ROOT });
  // The text stands in for an existing file: typed linting only parses files its tsconfig knows.
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the contract boundary (eslint)', () => {
  test('src/contract may import Node built-ins and other contract files only', async () => {
    const problems = await restrictedImports('src/contract/private-ca.ts', [
      "import { createHash } from 'node:crypto';",
      "import { isIPv4 } from 'net';",
      "import type { MaterialSource } from './material-source';",
      "import { Stack } from 'aws-cdk-lib';",
      "import { Construct } from 'constructs';",
      "import { HandlerResource } from '../private/handler-resource';",
      "import { X509Certificate } from '@peculiar/x509';",
      'export const used = [createHash, isIPv4, Stack, Construct, HandlerResource, X509Certificate];',
      'export type Used = MaterialSource;',
    ].join('\n'));
    expect(problems.join('\n')).toMatch(/'aws-cdk-lib' import is restricted/);
    expect(problems.join('\n')).toMatch(/'constructs' import is restricted/);
    expect(problems.join('\n')).toMatch(/'\.\.\/private\/handler-resource' import is restricted/);
    expect(problems.join('\n')).toMatch(/'@peculiar\/x509' import is restricted/);
    expect(problems.join('\n')).not.toMatch(/node:crypto|'net'|material-source/);
  });

  test('lambda/ may import src/contract but no other part of src/, nor the CDK', async () => {
    const problems = await restrictedImports('lambda/server-certificate/index.ts', [
      "import { parseCertificates } from '../../src/contract/x509';",
      "import { HandlerProvider } from '../../src/private/provider';",
      "import { ServerCertificate } from '../../src/iam/server-certificate';",
      "import { Duration } from 'aws-cdk-lib';",
      'export const used = [parseCertificates, HandlerProvider, ServerCertificate, Duration];',
    ].join('\n'));
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/'\.\.\/\.\.\/src\/private\/provider' import is restricted/);
    expect(problems.join('\n')).toMatch(/'\.\.\/\.\.\/src\/iam\/server-certificate' import is restricted/);
    expect(problems.join('\n')).toMatch(/'aws-cdk-lib' import is restricted/);
  });
});
