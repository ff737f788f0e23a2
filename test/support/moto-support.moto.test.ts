/**
 * The moto tier's own machinery: moto_server's start, reset and stop, and the Lambda-like runtime's
 * process (warm, isolated, ended).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateSecretCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { captureLogs } from './harness/capture';
import { awsEnvironment, LambdaRuntime, PROJECT_ROOT } from './lambda-runtime';
import { MOTO_CREDENTIALS, MOTO_REGION, motoClientConfig, processExists, startMoto } from './moto';

test('without moto_server the tier fails and says how to install it (never skips)', async () => {
  await expect(startMoto({ command: 'moto_server_not_installed' }))
    .rejects.toThrow(/moto_server_not_installed is not on PATH; .*pip install -r requirements-dev\.txt/);
});

test('moto starts on a loopback port, reset empties it, stop ends its process group', async () => {
  const moto = await startMoto();
  const client = new SecretsManagerClient(motoClientConfig(moto));
  try {
    expect(moto.url).toBe(`http://127.0.0.1:${moto.port}`);
    await client.send(new CreateSecretCommand({ Name: 'kept-until-reset', SecretString: 'x' }));
    expect((await client.send(new ListSecretsCommand({}))).SecretList).toHaveLength(1);
    await moto.reset();
    expect((await client.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
  } finally {
    client.destroy();
    await moto.stop();
  }
  expect(processExists(moto.pid)).toBe(false);
  // Nothing of its group is left either.
  expect(() => process.kill(-moto.pid, 0)).toThrow(/ESRCH/);
  await moto.stop();
});

test('the runtime keeps one process warm, with the Lambda environment only, and ends it', async () => {
  const runtime = await LambdaRuntime.start({
    kind: 'private-ca',
    env: awsEnvironment('http://127.0.0.1:9', MOTO_REGION, MOTO_CREDENTIALS),
  });
  const pid = runtime.pid!;
  try {
    expect(runtime.handler.isComplete).toBeUndefined();
    // As on Lambda: the task folder is outside the project, and the SDK comes through NODE_PATH only.
    expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe(fs.realpathSync(runtime.taskRoot));
    expect(path.relative(PROJECT_ROOT, runtime.taskRoot).startsWith('..')).toBe(true);
    const env = Object.fromEntries(fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
    expect(env.NODE_PATH).toBe(path.join(PROJECT_ROOT, 'node_modules'));
    expect(env.LAMBDA_TASK_ROOT).toBe(runtime.taskRoot);
    expect(env.AWS_ENDPOINT_URL).toBe('http://127.0.0.1:9');
    expect(Object.keys(env).filter((k) => /^(NODE_OPTIONS|JEST_|TS_NODE|npm_)/.test(k))).toEqual([]);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(1)).toEqual([
      path.join(path.dirname(runtime.taskRoot), 'runtime', 'runner.js'), '[]',
    ]);
    const event = {
      RequestType: 'Create',
      ResourceType: 'Custom::PrivateCaExpiryNotices',
      RequestId: 'r',
      StackId: 's',
      LogicalResourceId: 'l',
      ServiceToken: 't',
      ResourceProperties: { ServiceToken: 't', CertificateAuthorityArn: 'not-an-arn', CaCertificate: '' },
    };
    const capture = captureLogs();
    try {
      for (let i = 0; i < 3; i++) {
        await expect(runtime.handler.onEvent(event as never))
          .rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/^certificateAuthorityArn: /) });
      }
    } finally {
      capture.restore();
    }
    // What the handler logged reached this process's console before each result: one line per invocation.
    const eventLines = capture.lines.filter((line) => /"message":"event"/.test(line));
    expect(eventLines).toHaveLength(3);
    expect(JSON.parse(eventLines[0])).toMatchObject({ level: 'info', message: 'event', RequestType: 'Create', ResourceType: 'Custom::PrivateCaExpiryNotices' });
    expect(runtime.pid).toBe(pid);
    expect(runtime.coldStarts).toBe(1);
    expect(runtime.invocations).toBe(3);
  } finally {
    await runtime.stop();
  }
  expect(processExists(pid)).toBe(false);
});

test('after a crash the next invocation is a cold start, with the settings applied again', async () => {
  const runtime = await LambdaRuntime.start({ kind: 'private-ca', env: awsEnvironment('http://127.0.0.1:9', MOTO_REGION, MOTO_CREDENTIALS) });
  try {
    await runtime.setSettings({ concurrentModificationIntervalMs: 123 });
    const first = runtime.pid!;
    const exited = new Promise((resolve) => {
      const poll = setInterval(() => {
        if (runtime.pid === undefined) {
          clearInterval(poll);
          resolve(undefined);
        }
      }, 10);
    });
    process.kill(first, 'SIGKILL');
    await exited;
    expect(processExists(first)).toBe(false);
    await expect(runtime.setSettings({})).resolves.toMatchObject({ concurrentModificationIntervalMs: 123 });
    expect(runtime.pid).not.toBe(first);
    expect(runtime.coldStarts).toBe(2);
  } finally {
    await runtime.stop();
  }
});
