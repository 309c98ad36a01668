import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, realpath, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isListening } from '../../src/temporal/dev-server';

/** The last `max` characters of a process's output, for a failure message. */
export class OutputTail {
  private text = '';
  constructor(private readonly max = 6000) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.max);
  }
  toString(): string {
    return this.text;
  }
}

export interface ShellRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Variables of the test's own environment that would point a command somewhere other than the prepared stack. */
const FOREIGN_ENV = /^(TEMPORAL_|TUNEFLOW_|OPENAI_|AZURE_|TOGETHER_|AWS_|OTEL_|VITEST|NODE_ENV$)/;

/** A person's shell environment: the test's own, minus anything naming a Temporal, provider or tuneflow setting. */
export function personEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!FOREIGN_ENV.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export interface DocsWorkdir {
  /** A scratch folder: TUNEFLOW_HOME and the variables blocks export live here. */
  dir: string;
  /** Put first on PATH: `tuneflow` (the checkout's bin) and, when found, `temporal`. */
  binDir: string;
}

/** `tuneflow` and `temporal` on PATH as a person who installed both has them; `npx tuneflow` already runs a checkout's own bin. */
export async function makeDocsWorkdir(repo: string, temporalCli: string | null): Promise<DocsWorkdir> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'tuneflow-docs-')));
  const binDir = path.join(dir, 'bin');
  await mkdir(binDir);
  const shim = path.join(binDir, 'tuneflow');
  await writeFile(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(repo, 'bin/tuneflow.mjs'))} "$@"\n`);
  await chmod(shim, 0o755);
  if (temporalCli) await symlink(temporalCli, path.join(binDir, 'temporal'));
  return { dir, binDir };
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  // Its own process group, so a timeout or teardown ends everything the block started.
  return spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Runs `code` in `bash -euo pipefail` with the variables earlier blocks of its tag exported (kept in
 * `stateFile`), and keeps what it exports for the next one.
 */
export function runBlock(code: string, opts: { cwd: string; env: NodeJS.ProcessEnv; stateFile: string; timeoutMs: number }): Promise<ShellRun> {
  const script = [`[ -f "$DOCS_TEST_STATE" ] && { source "$DOCS_TEST_STATE" || true; }`, code, `export -p > "$DOCS_TEST_STATE"`].join('\n');
  const child = bash(script, opts.cwd, { ...opts.env, DOCS_TEST_STATE: opts.stateFile });
  const stdout = new OutputTail(20_000);
  const stderr = new OutputTail(20_000);
  child.stdout?.on('data', (d: Buffer) => stdout.push(d));
  child.stderr?.on('data', (d: Buffer) => stderr.push(d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, opts.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: stdout.toString(), stderr: stderr.toString(), timedOut });
    });
  });
}

export interface BackgroundBlock {
  output: OutputTail;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a long-running block and resolves once `port` on loopback accepts connections; rejects with its output if it exits first. */
export async function startBackgroundBlock(code: string, opts: { cwd: string; env: NodeJS.ProcessEnv; stateFile: string; port: number; timeoutMs: number }): Promise<BackgroundBlock> {
  const script = [`[ -f "$DOCS_TEST_STATE" ] && { source "$DOCS_TEST_STATE" || true; }`, code].join('\n');
  const child = bash(script, opts.cwd, { ...opts.env, DOCS_TEST_STATE: opts.stateFile });
  const output = new OutputTail();
  child.stdout?.on('data', (d: Buffer) => output.push(d));
  child.stderr?.on('data', (d: Buffer) => output.push(d));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + opts.timeoutMs;
  while (!(await isListening(`127.0.0.1:${opts.port}`))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the block exited (${child.exitCode ?? child.signalCode}) before port ${opts.port} listened:\n${output.toString()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`port ${opts.port} did not listen within ${opts.timeoutMs} ms:\n${output.toString()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { output, child, stop };
}

/** The port a background block listens on: the marker's `port=`, else the block's `--port <n>`. */
export function backgroundPort(code: string, markerPort: number | undefined): number | undefined {
  if (markerPort !== undefined) return markerPort;
  const m = /--port[ =](\d{1,5})\b/.exec(code);
  return m ? Number(m[1]) : undefined;
}
