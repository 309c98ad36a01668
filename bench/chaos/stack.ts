// One scenario's stack on loopback: a Temporal dev server (restartable on its database file), the local
// backend and the workers as `tuneflow` processes, and a Temporal client for the harness.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Client, ConnectionLike } from '@temporalio/client';
import OpenAI from 'openai';
import { providerConfig, type AppConfig } from '../../src/config';
import { connectClient } from '../../src/temporal/connect';
import { freePort, startDevServer, type DevServer, type DevServerOptions } from '../../src/temporal/dev-server';
import { sleep, TuneflowProcess } from './processes';

export const LOCAL_API_KEY = 'tuneflow-local';

/** The provider knobs a scenario turns at run time (see src/openai-local/settings.ts). */
export interface ProviderFaults {
  outage?: boolean;
  latencyMs?: number;
  latencyOperations?: string[];
}

export interface ProviderFile {
  id: string;
  filename: string;
}

export interface ProviderJob {
  id: string;
  status: string;
  workflowId: string | null;
  /** Simulated seconds, as the backend's clock tells them. */
  finishedAt: number | null;
}

/** The local backend as its own process, driven through /_admin and read through the openai client. */
export class BackendProcess {
  readonly url: string;
  private readonly admin: string;
  private readonly openai: OpenAI;

  constructor(
    readonly process: TuneflowProcess,
    readonly port: number,
  ) {
    this.url = `http://127.0.0.1:${port}/v1`;
    this.admin = `http://127.0.0.1:${port}/_admin`;
    this.openai = new OpenAI({ apiKey: LOCAL_API_KEY, baseURL: this.url, maxRetries: 3 });
  }

  async waitUntilServing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await fetch(`${this.admin}/health`).then((r) => r.ok, () => false)) return;
      if (!this.process.running) throw new Error(`openai-local exited at start; see ${this.process.logFile}`);
      await sleep(200);
    }
    throw new Error(`openai-local was not serving within ${timeoutMs} ms; see ${this.process.logFile}`);
  }

  async set(faults: ProviderFaults): Promise<void> {
    const res = await fetch(`${this.admin}/settings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
    if (!res.ok) throw new Error(`POST /_admin/settings answered ${res.status}: ${await res.text()}`);
  }

  /** The backend's simulated clock (seconds), to compare with a job's `finished_at`. */
  async simulatedNow(): Promise<number> {
    return ((await (await fetch(`${this.admin}/health`)).json()) as { simulatedNow: number }).simulatedNow;
  }

  async stats(): Promise<{ faults: { outageDropped: number; delayed: number } }> {
    return (await (await fetch(`${this.admin}/stats`)).json()) as { faults: { outageDropped: number; delayed: number } };
  }

  /** Every file and job the backend holds (call with outage and latency off). */
  async ledger(): Promise<{ files: ProviderFile[]; jobs: ProviderJob[] }> {
    const files: ProviderFile[] = [];
    for await (const f of this.openai.files.list({ limit: 10_000 })) files.push({ id: f.id, filename: f.filename });
    const jobs: ProviderJob[] = [];
    for await (const j of this.openai.fineTuning.jobs.list({ limit: 1000 })) {
      jobs.push({ id: j.id, status: j.status, workflowId: j.metadata?.tuneflow_workflow_id ?? null, finishedAt: j.finished_at ?? null });
    }
    return { files, jobs };
  }
}

export interface StackOptions {
  /** Scenario name: names the task queue and the log files. */
  name: string;
  dir: string;
  /** Folder of the datasets; the workers' TUNEFLOW_DATA_ROOTS. */
  dataDir: string;
  timeScale: number;
  workers: number;
  /** Extra `tuneflow openai-local` flags, e.g. latency from the start. */
  backendFlags?: string[];
}

export class ChaosStack {
  private constructor(
    private server: DevServer,
    private readonly serverOpts: DevServerOptions,
    private readonly connection: ConnectionLike,
    readonly client: Client,
    readonly config: AppConfig,
    readonly backend: BackendProcess,
    readonly workers: TuneflowProcess[],
  ) {}

  static async start(opts: StackOptions): Promise<ChaosStack> {
    const logs = path.join(opts.dir, 'logs');
    await mkdir(logs, { recursive: true });
    const serverOpts: DevServerOptions = { port: await freePort(), uiPort: await freePort(), dbFile: path.join(opts.dir, 'temporal.db') };
    const started: Array<{ stop(): Promise<void> }> = [];
    try {
      const server = await startDevServer(serverOpts);
      started.push(server);
      const backendPort = await freePort();
      const backend = new BackendProcess(
        new TuneflowProcess(
          'openai-local',
          ['openai-local', '--port', String(backendPort), '--state-dir', path.join(opts.dir, 'openai-local'), '--time-scale', String(opts.timeScale), ...(opts.backendFlags ?? [])],
          { ...process.env, TUNEFLOW_LOG_LEVEL: 'warn' },
          path.join(logs, 'openai-local.log'),
        ),
        backendPort,
      );
      backend.process.start();
      started.push(backend.process);
      await backend.waitUntilServing(30_000);

      const config: AppConfig = {
        temporal: { address: server.address, namespace: 'default', taskQueue: `chaos-${opts.name}`, uiUrl: server.uiUrl },
        provider: providerConfig({ apiKey: LOCAL_API_KEY, baseURL: backend.url }),
        home: path.join(opts.dir, 'home'),
        artifactsDir: path.join(opts.dir, 'artifacts'),
        dataRoots: [opts.dataDir],
        logLevel: 'info',
      };
      const workerEnv: NodeJS.ProcessEnv = {
        ...process.env,
        TEMPORAL_ADDRESS: config.temporal.address,
        TEMPORAL_NAMESPACE: config.temporal.namespace,
        TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
        OPENAI_BASE_URL: backend.url,
        OPENAI_API_KEY: LOCAL_API_KEY,
        TUNEFLOW_HOME: config.home,
        TUNEFLOW_ARTIFACTS_DIR: config.artifactsDir,
        TUNEFLOW_DATA_ROOTS: opts.dataDir,
        // debug: the SDK's webpack report (errors included) is logged at debug level.
        TUNEFLOW_LOG_LEVEL: 'debug',
      };
      const workers = Array.from({ length: opts.workers }, (_, i) => new TuneflowProcess(`worker-${i + 1}`, ['worker'], workerEnv, path.join(logs, `worker-${i + 1}.log`)));
      for (const w of workers) {
        w.supervised = true;
        w.start();
        started.push(w);
      }
      const client = await connectClient(config.temporal);
      const connection = client.connection;
      return new ChaosStack(server, serverOpts, connection, client, config, backend, workers);
    } catch (err) {
      for (const s of started.reverse()) await s.stop().catch(() => undefined);
      throw err;
    }
  }

  /** Resolves once every worker has connected and bundled its workflows. */
  async workersReady(timeoutMs = 120_000): Promise<void> {
    await Promise.all(this.workers.map((w) => w.waitForLog('worker started', timeoutMs)));
  }

  /** SIGKILLs the Temporal dev server and starts it again on the same port and database file. */
  async restartTemporal(downMs: number): Promise<void> {
    await this.server.kill();
    await sleep(downMs);
    this.server = await startDevServer(this.serverOpts);
  }

  /** The loopback ports the stack listens on. */
  get ports(): number[] {
    return [this.serverOpts.port ?? 0, this.serverOpts.uiPort ?? 0, this.backend.port];
  }

  /** Kills every process of the stack; safe to call twice. */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.retire()));
    await this.backend.process.stop();
    await this.connection.close().catch(() => undefined);
    await this.server.stop();
  }
}
