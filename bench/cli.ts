/**
 * Start-up time of the `tuneflow` command as a person or a script meets it: the median of 10 runs of
 * each command, next to the median of `node -e 0` taken alternately with it, on this machine in this run.
 *
 *   npm run bench:cli
 *
 * `status` reads a closed run: the bench starts a throwaway Temporal dev server (the cached CLI) and the
 * local backend, and runs one short pipeline with an in-process worker first. "worker" is the time from
 * spawning `tuneflow worker` until Temporal lists it as a poller of its (fresh) task queue.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import { startLocalStack } from '../src/cli/local-stack';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/log';
import { startPipeline } from '../src/starter';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin/tuneflow.mjs');
const SAMPLE = path.join(ROOT, 'data/sample/support-conversations.jsonl');
const RUNS = Number(process.env.BENCH_RUNS ?? 10);

interface Row {
  what: string;
  target: number;
  samples: number[];
  node: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};

/** Seconds from spawn until the process exits (or until `ready` resolves, then it is stopped). */
function timeProcess(args: string[], env: NodeJS.ProcessEnv, ready?: () => Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let readyAt: number | null = null;
    child.on('error', reject);
    child.on('exit', (code) => {
      if (readyAt !== null) return resolve(readyAt);
      if (code !== 0 && !ready) return reject(new Error(`${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      if (ready) return reject(new Error(`${args.join(' ')} exited ${code} before it was ready: ${stderr.slice(-2000)}`));
      resolve((performance.now() - started) / 1000);
    });
    ready?.().then(
      () => {
        readyAt = (performance.now() - started) / 1000;
        child.kill('SIGTERM');
      },
      (err: unknown) => {
        child.kill('SIGKILL');
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

async function measure(what: string, target: number, run: (i: number) => Promise<number>): Promise<Row> {
  const row: Row = { what, target, samples: [], node: [] };
  await run(-1); // warm the file cache once, not counted
  for (let i = 0; i < RUNS; i++) {
    row.node.push(await timeProcess(['-e', '0'], {}));
    row.samples.push(await run(i));
  }
  process.stderr.write(`  ${what}: ${median(row.samples).toFixed(2)} s\n`);
  return row;
}

async function pollerAppears(client: Client, namespace: string, taskQueue: string): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    const { pollers } = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue } });
    if ((pollers?.length ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no worker polled ${taskQueue} within 120 s`);
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  process.stderr.write(`tuneflow start-up, median of ${RUNS} runs (node ${process.version})\n`);
  rows.push(await measure('tuneflow --help', 0.3, () => timeProcess([BIN, '--help'], {})));
  rows.push(await measure('tuneflow validate <sample>', 0.6, () => timeProcess([BIN, 'validate', SAMPLE], {})));

  const dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-bench-cli-'));
  const config = { ...loadConfig({ TUNEFLOW_HOME: dir, OPENAI_API_KEY: 'tuneflow-local' }) };
  const stack = await startLocalStack({
    config,
    logger: createLogger('warn'),
    worker: true,
    taskQueue: 'bench-cli',
    server: {},
    backend: { port: 0, stateDir: path.join(dir, 'backend') },
  });
  try {
    const handle = await startPipeline(stack.client, stack.config, { datasetPath: SAMPLE, model: 'gpt-4o-mini-2024-07-18', pollIntervalSeconds: 1 });
    await handle.result();
    const env = { TEMPORAL_ADDRESS: stack.server.address, TUNEFLOW_HOME: dir };
    rows.push(await measure('tuneflow status <closed run>', 0.8, () => timeProcess([BIN, 'status', handle.workflowId], env)));
    const workerEnv = { ...env, OPENAI_API_KEY: 'tuneflow-local', OPENAI_BASE_URL: stack.backend.url, TUNEFLOW_DATA_ROOTS: ROOT, TUNEFLOW_LOG_LEVEL: 'warn' };
    rows.push(
      await measure('tuneflow worker, start to polling', 2, (i) => {
        const taskQueue = `bench-worker-${i + 1}`;
        return timeProcess([BIN, 'worker'], { ...workerEnv, TEMPORAL_TASK_QUEUE: taskQueue }, () => pollerAppears(stack.client, stack.config.temporal.namespace, taskQueue));
      }),
    );
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const lines = [
    '| command | median | `node -e 0` median | over node | target |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => {
      const m = median(r.samples);
      const n = median(r.node);
      return `| ${r.what} | ${m.toFixed(2)} s | ${n.toFixed(2)} s | +${(m - n).toFixed(2)} s | ≤ ${r.target} s ${m <= r.target ? '✓' : '✗'} |`;
    }),
  ];
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
