import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { freePort } from '../temporal/dev-server';
import { executableName, findGoTool } from '../go-tool';

/**
 * versitygw, the S3 gateway of Versity (Apache-2.0), serves a local folder over the S3 API. Chosen over
 * MinIO: one `go install` of a small module (about a minute here) with no `replace` directive.
 */
export const VERSITYGW_VERSION = 'v1.8.0';
const MODULE = `github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}`;
const exe = executableName('versitygw');

export type S3ServerSource = 'TUNEFLOW_S3_SERVER' | 'PATH' | 'cache' | 'built';

export interface S3ServerBinary {
  path: string;
  source: S3ServerSource;
}

/** Finds the S3 server like the Temporal CLI: $TUNEFLOW_S3_SERVER, `versitygw` on PATH, the user cache, else a build from its Go module. */
export async function findS3Server(opts: { env?: NodeJS.ProcessEnv; say?: (msg: string) => void } = {}): Promise<S3ServerBinary> {
  const env = opts.env ?? process.env;
  const say = opts.say ?? ((msg: string) => process.stderr.write(`${msg}\n`));
  const spec = { envVar: 'TUNEFLOW_S3_SERVER' as const, module: MODULE, exe, cacheName: `versitygw-${VERSITYGW_VERSION}`, label: `the S3 server (versitygw ${VERSITYGW_VERSION})`, expected: 'about a minute' };
  const found = await findGoTool(spec, { env, say, build: true });
  if (!found) throw new Error(`No S3 server found: install Go (to build versitygw ${VERSITYGW_VERSION} once), or set TUNEFLOW_S3_SERVER to a versitygw binary.`);
  return { path: found.path, source: found.source };
}

export interface S3ServerOptions {
  /** Where objects are kept, one subfolder per bucket. */
  dataDir: string;
  /** The binary; found (or built) when absent. */
  binary?: string;
  host?: string;
  /** A free port when absent. */
  port?: number;
  /** Created when missing. */
  buckets?: string[];
  /** Random when absent. */
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  say?: (msg: string) => void;
}

export interface S3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The variables a process needs to reach it: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION. */
  env: Record<'AWS_ENDPOINT_URL' | 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY' | 'AWS_REGION', string>;
  /** A client for it (path-style), for setup and tests. */
  client(): S3Client;
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

function isBucketTaken(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'BucketAlreadyOwnedByYou' || err.name === 'BucketAlreadyExists');
}

async function waitUntilServing(client: S3Client, exited: () => number | null, endpoint: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    const code = exited();
    if (code !== null) throw new Error(`the S3 server exited with code ${code} before it was ready`);
    try {
      await client.send(new ListBucketsCommand({}));
      return;
    } catch (err) {
      lastErr = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`the S3 server at ${endpoint} was not ready in ${timeoutMs} ms: ${String(lastErr)}`);
}

/**
 * Starts versitygw serving `dataDir` on loopback (credentials go through its environment, never its
 * command line) and creates the buckets. Objects stay in `dataDir` across restarts.
 */
export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
  const binary = opts.binary ?? (await findS3Server({ say: opts.say })).path;
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort());
  const region = opts.region ?? 'us-east-1';
  const accessKeyId = opts.accessKeyId ?? `tuneflow-${randomBytes(6).toString('hex')}`;
  const secretAccessKey = opts.secretAccessKey ?? randomBytes(24).toString('base64url');
  const endpoint = `http://${host}:${port}`;
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });

  const child = spawn(binary, ['--port', `${host}:${port}`, '--region', region, '--quiet', 'posix', path.resolve(opts.dataDir)], {
    env: { ...process.env, ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const makeClient = () =>
    new S3Client({
      endpoint,
      region,
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const admin = makeClient();
  try {
    await waitUntilServing(admin, () => child.exitCode, endpoint, 30_000);
    for (const bucket of opts.buckets ?? []) {
      await admin.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: unknown) => {
        if (!isBucketTaken(err)) throw err;
      });
    }
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${err instanceof Error ? err.message : String(err)}${stderr ? `\n${stderr.trim()}` : ''}`);
  } finally {
    admin.destroy();
  }
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    env: { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region },
    client: makeClient,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
  };
}
