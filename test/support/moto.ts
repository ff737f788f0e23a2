/**
 * A `moto_server` on a loopback port for the moto tier of the handler tests: started by the test
 * file that needs it, reset between tests, stopped (its whole process group) afterwards.
 *
 * moto is a Python package, pinned in requirements-dev.txt; CI installs it before `npm test`.
 * Without it the tests fail (never skip) and say how to install it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';

/** What to run when moto is missing (the README's test command installs it into .venv). */
export const MOTO_INSTALL_HINT = 'python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt';

/** Region and account moto serves by default. */
export const MOTO_REGION = 'us-east-1';
export const MOTO_ACCOUNT = '123456789012';

/** Credentials moto accepts (it checks none). */
export const MOTO_CREDENTIALS = { accessKeyId: 'AKIAMOTOTESTEXAMPLE1', secretAccessKey: 'moto-test-secret-access-key-not-real' } as const;

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** A running moto_server. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The server's process ID (it leads its own process group). */
  readonly pid: number;
  /** Everything moto wrote to stdout and stderr (its request log), for failure messages. */
  output(): string;
  /** Drops every resource of every service (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** Stops the server and everything it started; resolves once it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** A port the OS says is free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') {
          resolve(address.port);
        } else {
          reject(new Error('could not read the port of a listening socket'));
        }
      });
    });
  });
}

/** One HTTP request to moto; resolves with the status code and body. */
function request(url: string, method: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: 2_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Options of {@link startMoto}. */
export interface StartMotoOptions {
  /** The executable. @default 'moto_server' (from PATH; jest puts .venv/bin first) */
  readonly command?: string;
}

/**
 * Starts `moto_server` on 127.0.0.1 and a free port and waits until it answers. Fails, naming
 * `pip install -r requirements-dev.txt`, when moto_server is not on PATH or exits early.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const command = options.command ?? 'moto_server';
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;

  // detached: moto leads its own process group, so stop() can end it and anything it forked.
  const child: ChildProcess = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (e) => {
      spawnError = e;
      exited = exited ?? { code: null, signal: null };
      resolve();
    });
  });
  const collect = (chunk: Buffer) => {
    // Keep the tail only: a long run logs every request.
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const stop = async (): Promise<void> => {
    if (exited || child.pid === undefined) {
      return;
    }
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, STOP_TIMEOUT_MS);
    await exitPromise;
    clearTimeout(timer);
    child.stdout?.destroy();
    child.stderr?.destroy();
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError || exited) {
      await stop();
      const why = spawnError && (spawnError as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${command} is not on PATH`
        : `${command} exited before answering (${spawnError?.message ?? `code ${exited?.code}, signal ${exited?.signal}`})`;
      throw new Error(`${why}; the moto tier of the tests needs moto 5.2.1: run \`${MOTO_INSTALL_HINT}\`.\n${output}`);
    }
    try {
      const res = await request(`${url}/moto-api/reset`, 'POST');
      if (res.status === 200) {
        break;
      }
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${command} did not answer on ${url} within ${START_TIMEOUT_MS / 1000} s; check that moto 5.2.1 is installed (\`${MOTO_INSTALL_HINT}\`).\n${output}`);
    }
    await sleep(100);
  }

  return {
    url,
    port,
    pid: child.pid!,
    output: () => output,
    async reset() {
      const res = await request(`${url}/moto-api/reset`, 'POST');
      if (res.status !== 200) {
        throw new Error(`moto reset answered ${res.status}: ${res.body}`);
      }
    },
    stop,
  };
}

/** Whether a process (group leader) `pid` still exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Client configuration that points a real AWS SDK v3 client at moto. */
export function motoClientConfig(moto: MotoServer) {
  return {
    endpoint: moto.url,
    region: MOTO_REGION,
    credentials: { ...MOTO_CREDENTIALS },
    // moto answers at once; a failure is a real answer, not something to wait out.
    maxAttempts: 1,
  };
}
