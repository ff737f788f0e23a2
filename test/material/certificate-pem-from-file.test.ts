import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CertificatePem } from '../../src';

// CertificatePem.fromFile is a static factory: it cannot know the construct property it is given to,
// so its errors name the factory, the absolute path tried and the directory a relative path was
// resolved against, and say how to give the path.
describe('CertificatePem.fromFile errors', () => {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  test('a relative path that does not exist: the absolute path tried, the working directory, the fix', () => {
    const relative = path.join('no-such-dir', 'www.pem');
    expect(() => CertificatePem.fromFile(relative)).toThrow(new RegExp(
      `^CertificatePem\\.fromFile: no file at '${escape(path.resolve(relative))}' `
      + `\\('${escape(relative)}' resolved against the CDK app's working directory ${escape(process.cwd())}\\); `
      + 'give a path relative to the directory the CDK app runs in \\(the folder of cdk\\.json for the cdk CLI\\), or an absolute one'));
  });

  test('an absolute path that does not exist is named as given', () => {
    const missing = path.join(os.tmpdir(), 'cdk-certificates-no-such-file.pem');
    expect(() => CertificatePem.fromFile(missing)).toThrow(new RegExp(`^CertificatePem\\.fromFile: no file at '${escape(missing)}'; give a path`));
  });

  test('a directory is not a file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-certificates-'));
    try {
      expect(() => CertificatePem.fromFile(dir)).toThrow(new RegExp(`^CertificatePem\\.fromFile: '${escape(dir)}' is not a file; give a path .*naming the PEM file itself`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an existing relative file is read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-certificates-'));
    try {
      const file = path.join(dir, 'x.pem');
      fs.writeFileSync(file, 'not checked here\n');
      expect(CertificatePem.fromFile(path.relative(process.cwd(), file))).toBeInstanceOf(CertificatePem);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
