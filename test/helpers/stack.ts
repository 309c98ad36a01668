import { spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, inject } from 'vitest';
import { createActivities } from '../../src/activities';
import { providerConfig, type AppConfig, type AzureConfig } from '../../src/config';
import { TUNEFLOW_SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { startS3Server, type S3Server } from '../../src/dev/s3-server';
import type { S3Settings, StoreLocation } from '../../src/store';
import { startLocalBackend, type LocalBackend, type LocalBackendOptions } from '../../src/openai-local';
import { createProvider } from '../../src/provider';
import { runSinks, WORKFLOWS_PATH } from '../../src/worker';

export const TEST_API_KEY = 'test-key';
export const SAMPLE_DATASET = path.resolve('data/sample/support-conversations.jsonl');
/** The repository and the temp folder: every dataset and eval file the tests name lies under one of them. */
export const TEST_DATA_ROOTS = [realpathSync(process.cwd()), realpathSync(os.tmpdir())];
export const silentLogger = pino({ level: 'silent' });

/** The real Temporal dev server from the CLI the global setup found or built. */
export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  quietSdkLogs();
  const cliPath = inject('temporalCliPath');
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: cliPath ? { type: 'existing-path', path: cliPath } : { type: 'cached-download' },
      searchAttributes: [...TUNEFLOW_SEARCH_ATTRIBUTES],
    },
  });
}

let runtimeInstalled = false;
/** The SDK logs every worker state change and every expected activity failure; tests only want errors. */
function quietSdkLogs(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundling takes seconds: once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
  return bundle;
}

export interface Backend extends LocalBackend {
  stateDir: string;
  openai: OpenAI;
  stats(): Promise<BackendStats>;
  settings(
    s: Partial<Pick<LocalBackendOptions, 'rpm' | 'faultRate' | 'failJobs' | 'refuseFineTuning' | 'outage' | 'latencyMs' | 'latencyOperations' | 'uploadBytesPerSecond' | 'refuseDeployments' | 'deploymentSeconds'>> & {
      revokedKeys?: boolean;
    },
  ): Promise<void>;
  dispose(): Promise<void>;
}

export interface BackendStats {
  requests: Record<string, number>;
  created: { files: number; jobs: number };
  /** Dedicated endpoints (together dialect). */
  endpoints: { live: number; created: number; deleted: number };
  /** Azure dialect only. */
  deployments?: { live: number; deleting: number; created: number; deleted: number; expired: number; refused: number };
  faults: unknown;
  settings: unknown;
}

/** The project's local OpenAI-compatible backend, over HTTP on a free loopback port. */
export async function startBackend(opts: Partial<LocalBackendOptions> = {}): Promise<Backend> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-backend-'));
  const backend = await startLocalBackend({ port: 0, stateDir, ...opts });
  const admin = `${backend.origin}/_admin`;
  return {
    ...backend,
    stateDir,
    openai: new OpenAI({ apiKey: TEST_API_KEY, baseURL: backend.url, maxRetries: 0 }),
    async stats() {
      return (await (await fetch(`${admin}/stats`)).json()) as BackendStats;
    },
    async settings(s) {
      const res = await fetch(`${admin}/settings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s) });
      if (!res.ok) throw new Error(`settings: ${res.status}`);
    },
    async dispose() {
      await backend.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** The Azure settings that point the azure adapter at an azure-dialect backend (key and ARM token: any non-empty value). */
export function localAzureConfig(backend: Pick<LocalBackend, 'origin' | 'azureAccount'>): AzureConfig {
  const account = backend.azureAccount;
  if (!account) throw new Error('the backend does not speak the azure dialect');
  return {
    endpoint: backend.origin,
    apiKey: TEST_API_KEY,
    subscriptionId: account.subscriptionId,
    resourceGroup: account.resourceGroup,
    account: account.account,
    resourceManagerEndpoint: backend.origin,
    resourceManagerToken: 'test-arm-token',
    baseDeployment: undefined,
    deploymentSku: 'DeveloperTier',
    deploymentCapacity: undefined,
  };
}

export function testConfig(env: TestWorkflowEnvironment, backendUrl: string, artifactsDir: string, taskQueue: string): AppConfig {
  return {
    temporal: { address: env.address, namespace: env.namespace ?? 'default', taskQueue, uiUrl: 'http://127.0.0.1:8233' },
    provider: providerConfig({ apiKey: TEST_API_KEY, baseURL: backendUrl }),
    home: artifactsDir,
    artifactsDir,
    dataRoots: TEST_DATA_ROOTS,
    logLevel: 'silent',
  };
}

/** A worker in this process, with the real activities pointed at the local backend. */
export async function createTestWorker(env: TestWorkflowEnvironment, config: AppConfig): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({
      config,
      logger: silentLogger,
      provider: () => createProvider(config.provider),
    }),
    sinks: runSinks(),
  });
}

export interface TestS3 extends S3Server {
  bucket: string;
  /** The environment a `tuneflow` process needs for a store in `bucket` under `prefix`. */
  storeEnv(prefix: string): NodeJS.ProcessEnv;
  /** The same as config fields, for a worker in this process. */
  storeConfig(prefix: string): { store: StoreLocation; s3: S3Settings };
  dispose(): Promise<void>;
}

/** The real S3-compatible server (versitygw) the global setup found or built, on a free loopback port, with one bucket. */
export async function startTestS3(bucket = 'tuneflow-test'): Promise<TestS3> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-s3-'));
  const server = await startS3Server({ binary: inject('s3ServerPath'), dataDir, buckets: [bucket] });
  return {
    ...server,
    bucket,
    storeEnv: (prefix) => ({ ...server.env, TUNEFLOW_STORE: `s3://${bucket}/${prefix}` }),
    storeConfig: (prefix) => ({
      store: { kind: 's3', bucket, prefix },
      s3: { endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } },
    }),
    async dispose() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A task queue per test, named after it, so runs of different tests never meet. */
export function taskQueueFor(name: string): string {
  return `tf-${name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}-${Math.random().toString(16).slice(2, 8)}`;
}

export interface TemporalFixture {
  env: TestWorkflowEnvironment;
  artifactsDir: string;
}

/** One dev server and one artifacts folder per test file, torn down after it. */
export function useTemporal(): TemporalFixture {
  const fixture = {} as TemporalFixture;
  beforeAll(async () => {
    fixture.env = await startTemporal();
    fixture.artifactsDir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-artifacts-'));
  });
  afterAll(async () => {
    await fixture.env?.teardown();
    if (fixture.artifactsDir) await rm(fixture.artifactsDir, { recursive: true, force: true });
  });
  return fixture;
}

/** `tuneflow worker` in its own process, pointed at the test's Temporal and backend, as an operator runs it. */
/** The environment a `tuneflow` process needs to reach this test's Temporal, task queue, backend and folders. */
export function tuneflowEnv(config: AppConfig, env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: config.temporal.address,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
    OPENAI_API_KEY: TEST_API_KEY,
    OPENAI_BASE_URL: config.provider.baseURL,
    TUNEFLOW_ARTIFACTS_DIR: config.artifactsDir,
    TUNEFLOW_DATA_ROOTS: config.dataRoots.join(path.delimiter),
    TUNEFLOW_LOG_LEVEL: 'warn',
    ...env,
  };
}

export function spawnTuneflowWorker(config: AppConfig, args: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['bin/tuneflow.mjs', 'worker', ...args], { env: tuneflowEnv(config, env), stdio: ['ignore', 'ignore', 'inherit'] });
}

export interface TuneflowExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `tuneflow <args>` in its own process with exactly `env`, run to its end; `onStart` sees the process (to signal it). */
export function runTuneflow(args: string[], env: NodeJS.ProcessEnv, onStart?: (child: ChildProcess) => void): Promise<TuneflowExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/tuneflow.mjs', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
    onStart?.(child);
  });
}
