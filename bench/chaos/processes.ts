// Child processes of the chaos harness: node subcommands of bin/tuneflow.mjs with their output in log files.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const TUNEFLOW_BIN = fileURLToPath(new URL('../../bin/tuneflow.mjs', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A `tuneflow <subcommand>` process whose stdout and stderr are appended to `logFile`. */
export class TuneflowProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  /** Exits nobody asked for (a crash, or giving up on a lost server). */
  unexpectedExits = 0;
  /** Started again a second after an exit nobody asked for, as systemd or Kubernetes would. */
  supervised = false;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {}

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) return;
    const log = openSync(this.logFile, 'a');
    try {
      const child = spawn(process.execPath, [TUNEFLOW_BIN, ...this.args], { cwd: REPO_ROOT, env: this.env, stdio: ['ignore', log, log] });
      this.stopping = false;
      this.exited = new Promise((resolve) =>
        child.once('exit', () => {
          if (!this.stopping) {
            this.unexpectedExits += 1;
            if (this.supervised) this.restartTimer = setTimeout(() => this.supervised && this.start(), 1000);
          }
          resolve();
        }),
      );
      this.child = child;
    } finally {
      closeSync(log);
    }
  }

  /** SIGKILL: no drain, no cleanup, as when a machine dies. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Ends supervision and kills the process. */
  async retire(): Promise<void> {
    this.supervised = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.kill();
  }

  async waitForLog(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited before logging "${text}"; see ${this.logFile}`);
      if ((await readFile(this.logFile, 'utf8').catch(() => '')).includes(text)) return;
      await sleep(200);
    }
    throw new Error(`${this.name} did not log "${text}" within ${timeoutMs} ms; see ${this.logFile}`);
  }
}

/** Listening TCP ports (IPv4 and IPv6) of this machine, from /proc; empty where /proc is missing. */
export async function listeningPorts(): Promise<Set<number>> {
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && cols[1]) ports.add(parseInt(cols[1].split(':').at(-1) ?? '0', 16));
    }
  }
  return ports;
}
