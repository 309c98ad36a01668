/**
 * The whole pipeline on a large dataset (npm run bench:pipeline): generates a valid chat JSONL of
 * about --mb MB (seeded, varied conversations) in a temporary folder, starts a Temporal dev server,
 * the local backend and a worker as separate processes, runs one pipeline on the file, and prints
 * the time per stage (from the `progress` query), the peak RSS of the worker and of the backend
 * (VmHWM), the backend's counts (jobs, uploads) and the file's size and example count.
 *
 *   npm run bench:pipeline [-- --mb 500 --keep --dir /tmp/x]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import type { PipelineResult } from '../src/domain/pipeline';
import { startPipeline } from '../src/starter';
import { connectClient } from '../src/temporal/connect';
import { startDevServer } from '../src/temporal/dev-server';
import { progressQuery } from '../src/workflows';
import { generateChatJsonl } from './chat-dataset';

const MODEL = 'gpt-4o-mini-2024-07-18';
const TASK_QUEUE = 'tuneflow-bench-pipeline';
const API_KEY = 'tuneflow-local';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

/** A live process's resident set (VmRSS) or its lifetime peak (VmHWM, the kernel's high-water mark), in MB. */
function rssMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number | null {
  if (pid === undefined) return null;
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function startProcess(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['bin/tuneflow.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d.toString()}`));
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function firstStdoutLine(child: ChildProcess): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing its URL`)));
  });
}

/** A failure and its causes on one line (workflow failed ← activity failed ← timeout or error). */
function causeChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 6; e = e.cause) parts.push(`${e.name}: ${e.message}`);
  return parts.join(' <- ') || String(err);
}

async function main(): Promise<void> {
  const targetMb = Number(argValue('--mb') ?? 500);
  const dir = argValue('--dir') ?? join(tmpdir(), 'tuneflow-bench-pipeline');
  mkdirSync(dir, { recursive: true });
  const dataset = join(dir, `chat-${targetMb}mb.jsonl`);
  const artifactsDir = join(dir, 'artifacts');
  const backendState = join(dir, `backend-${Date.now()}`);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);

  let examples: number | null = null;
  if (!existsSync(dataset) || statSync(dataset).size < targetMb * 1e6) {
    const t = performance.now();
    examples = await generateChatJsonl(dataset, targetMb * 1e6, 'bench:pipeline');
    console.log(`generated ${dataset} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const bytes = statSync(dataset).size;

  const stops: Array<() => Promise<void>> = [];
  try {
    const server = await startDevServer({ say: (m) => console.log(m) });
    stops.push(() => server.stop());

    // The job's simulated training of ~100M tokens takes a simulated day: a fast clock keeps it to seconds.
    const backend = startProcess('backend', ['openai-local', '--port', '0', '--state-dir', backendState, '--time-scale', '20000'], { TUNEFLOW_LOG_LEVEL: 'warn' });
    stops.push(() => stopProcess(backend));
    const baseURL = await firstStdoutLine(backend);
    const admin = baseURL.replace(/\/v1$/, '/_admin');

    const worker = startProcess('worker', ['worker'], {
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      OPENAI_BASE_URL: baseURL,
      OPENAI_API_KEY: API_KEY,
      TUNEFLOW_HOME: dir,
      TUNEFLOW_ARTIFACTS_DIR: artifactsDir,
      TUNEFLOW_DATA_ROOTS: dir,
      TUNEFLOW_LOG_LEVEL: 'warn',
    });
    stops.push(() => stopProcess(worker));

    const config = loadConfig({ TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: TASK_QUEUE, OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: API_KEY, TUNEFLOW_ARTIFACTS_DIR: artifactsDir });
    const client = await connectClient(config.temporal, { codec: config.codec });
    stops.push(() => client.connection.close());

    const started = performance.now();
    const handle = await startPipeline(
      client,
      config,
      { datasetPath: dataset, model: MODEL, pollIntervalSeconds: 2, eval: { maxExamples: 50, compare: [], batchSize: 25, concurrency: 4, maxTokens: 256 } },
      { workflowId: `bench-pipeline-${Date.now()}` },
    );
    console.log(`run ${handle.workflowId} started on ${bytes} bytes`);

    // Stage times from the progress query, polled; a stage shorter than the poll interval may be missed.
    const stages: Array<{ stage: string; at: number }> = [];
    let done = false;
    const outcome = handle.result().then(
      (result) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    );
    void outcome.finally(() => (done = true));
    // The worker bundles the workflow code at start, which has its own peak: the run's peak is sampled apart.
    let workerAtStart: number | null = null;
    let workerRunPeak = 0;
    let backendRunPeak = 0;
    while (!done) {
      const stage = (await handle.query(progressQuery).catch(() => undefined))?.stage;
      const now = (performance.now() - started) / 1000;
      if (stage && stages.at(-1)?.stage !== stage) {
        stages.push({ stage, at: now });
        console.log(`${now.toFixed(1).padStart(7)} s  ${stage}`);
      }
      if (stage !== undefined) {
        workerAtStart ??= rssMb(worker.pid, 'VmRSS');
        workerRunPeak = Math.max(workerRunPeak, rssMb(worker.pid, 'VmRSS') ?? 0);
      }
      backendRunPeak = Math.max(backendRunPeak, rssMb(backend.pid, 'VmRSS') ?? 0);
      await Promise.race([outcome, new Promise((r) => setTimeout(r, 100))]);
    }
    const { result, error } = await outcome;
    const total = (performance.now() - started) / 1000;
    // The run's end closes the last working stage; terminal stages (done, failed) take no time of their own.
    const working = stages.filter((s) => !['done', 'failed', 'cancelled'].includes(s.stage));
    working.push({ stage: 'end', at: total });

    const mb = (n: number | null) => (n === null ? '?' : n.toFixed(0));
    const stats = (await (await fetch(`${admin}/stats`)).json()) as { requests: Record<string, number>; created: { files: number; jobs: number } };

    console.log('');
    console.log(`dataset: ${(bytes / 1e6).toFixed(1)} MB, ${examples ?? (result && 'train' in result.dataset ? result.dataset.train.examples + result.dataset.valid.examples : '?')} examples${examples === null ? '' : ' written'}`);
    console.log('time per stage:');
    for (let i = 0; i + 1 < working.length; i++) {
      const s = working[i] as { stage: string; at: number };
      const next = working[i + 1] as { stage: string; at: number };
      console.log(`  ${s.stage.padEnd(22)} ${(next.at - s.at).toFixed(1).padStart(7)} s`);
    }
    console.log(`  ${'total'.padEnd(22)} ${total.toFixed(1).padStart(7)} s`);
    console.log(`worker RSS: ${mb(workerAtStart)} MB when the run began, ${mb(workerRunPeak)} MB peak during the run (sampled every 0.1 s), VmHWM ${mb(rssMb(worker.pid, 'VmHWM'))} MB (lifetime, includes bundling the workflow at start)`);
    console.log(`backend RSS: ${mb(backendRunPeak)} MB peak during the run (sampled), VmHWM ${mb(rssMb(backend.pid, 'VmHWM'))} MB`);
    console.log(`backend: ${stats.created.jobs} job(s) created, ${stats.requests.createFile ?? 0} upload request(s), ${stats.created.files} file(s) stored`);
    if (result) {
      const r = result as PipelineResult;
      console.log(`result: ${r.status}; train ${r.dataset.train.examples} / valid ${r.dataset.valid.examples} examples; eval ${r.eval.examples} examples; job ${r.jobId}`);
    } else {
      console.log(`run failed: ${causeChain(error)}`);
      process.exitCode = 1;
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error('while stopping:', err));
    rmSync(backendState, { recursive: true, force: true });
    rmSync(artifactsDir, { recursive: true, force: true });
    if (!process.argv.includes('--keep') && argValue('--dir') === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
