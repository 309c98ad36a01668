import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { TUNEFLOW_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { ephemeralExecutable, findTemporalCli } from './cli';
import { openClientConnection } from './connect';
import { localTemporalSettings } from './settings';

export interface DevServerOptions {
  ip?: string;
  port?: number;
  uiPort?: number;
  namespace?: string;
  /** SQLite file to persist runs across restarts; in memory when absent. */
  dbFile?: string;
  say?: (msg: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
  /** Stops it at once with SIGKILL, as a crash would (what was committed to `dbFile` stays). */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function isListening(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const sock = net.connect({ host, port: Number(port) });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

async function waitUntilServing(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal server exited with code ${child.exitCode} before it was ready`);
    try {
      const conn = await openClientConnection(localTemporalSettings(address), { connectTimeoutMs: 1000 });
      await conn.workflowService.getSystemInfo({});
      await conn.close();
      return;
    } catch (err) {
      lastErr = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`temporal server at ${address} was not ready in ${timeoutMs} ms: ${String(lastErr)}`);
}

/**
 * Starts `temporal server start-dev` with tuneflow's search attributes registered. Uses the SDK's
 * download only when no CLI binary can be found or built.
 */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort ?? (await freePort());
  const namespace = opts.namespace ?? 'default';
  const address = `${ip}:${port}`;
  const uiUrl = `http://${ip}:${uiPort}`;
  const cli = await findTemporalCli({ say: opts.say });
  if (opts.dbFile) await mkdir(path.dirname(opts.dbFile), { recursive: true, mode: 0o700 });

  if (!cli.path) {
    // The SDK's download of the dev server, for machines with neither the CLI nor Go: loaded only then.
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: ephemeralExecutable(cli),
        ip,
        port,
        ui: true,
        uiPort,
        namespace,
        searchAttributes: [...TUNEFLOW_SEARCH_ATTRIBUTES],
        ...(opts.dbFile ? { dbFilename: opts.dbFile } : {}),
      },
    });
    return { address, uiUrl, stop: () => env.teardown(), kill: () => env.teardown() };
  }

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--ui-port', String(uiPort), '--namespace', namespace, '--log-level', 'error'];
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  for (const key of TUNEFLOW_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  const child = spawn(cli.path, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitUntilServing(address, child, 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    address,
    uiUrl,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
