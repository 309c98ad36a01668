/**
 * History size of a large evaluation: the evaluation child workflow on N examples (default 20,000) ×
 * 2 candidates against the local backend, on a real Temporal dev server. Prints how many runs the
 * child took (it continues as new every 500 batches) and the largest run's event count against
 * Temporal's 10,240-event warning, and what one history holding every batch would have needed.
 *
 *   npm run bench:eval-history                 # 20,000 examples, batches of 10
 *   BENCH_EXAMPLES=2000 npm run bench:eval-history
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocalStack } from '../src/cli/local-stack';
import { loadConfig } from '../src/config';
import { runArtifactsKey, type EvalCandidate } from '../src/domain/run';
import { createLogger } from '../src/log';

import type { EvaluationInput } from '../src/workflows/evaluation';

const EXAMPLES = Number(process.env.BENCH_EXAMPLES ?? 20_000);
const BATCH_SIZE = 10;
const HISTORY_WARNING = 10_240;
const SAMPLE = path.resolve('data/sample/support-conversations.jsonl');

const candidates: EvalCandidate[] = [
  { model: 'gpt-4o-mini-2024-07-18', role: 'base', step: null, fullValidLoss: null },
  { model: 'gpt-4.1-mini-2025-04-14', role: 'extra', step: null, fullValidLoss: null },
];

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-bench-history-'));
  const sample = (await readFile(SAMPLE, 'utf8')).split('\n').filter((l) => l.trim());
  const evalFile = path.join(dir, 'eval.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < EXAMPLES; i++) lines.push(sample[i % sample.length] as string);
  await writeFile(evalFile, lines.join('\n') + '\n');

  const base = loadConfig({ ...process.env, TUNEFLOW_DATA_ROOTS: dir });
  const config = { ...base, artifactsDir: path.join(dir, 'artifacts'), provider: { ...base.provider, apiKey: 'bench-local-key' } };
  const stack = await startLocalStack({ config, logger: createLogger('warn'), worker: true, taskQueue: 'bench-history', server: {}, backend: { port: 0, stateDir: path.join(dir, 'state') } });
  try {
    const workflowId = `bench-eval-history-${Date.now()}`;
    const input: EvaluationInput = {
      runKey: runArtifactsKey(workflowId, 'bench'),
      sourcePath: evalFile,
      seed: 42,
      batchSize: BATCH_SIZE,
      candidates,
      maxTokens: 128,
      concurrency: 8,
    };
    const started = performance.now();
    const handle = await stack.client.workflow.start('evaluateCandidates', { taskQueue: 'bench-history', workflowId, args: [input] });
    const out = (await handle.result()) as { examples: number; summary: { failedExamples: number } };
    const seconds = (performance.now() - started) / 1000;

    const runs: Array<{ runId: string; events: number }> = [];
    for await (const execution of stack.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await stack.client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
      runs.push({ runId: execution.runId, events: history.events?.length ?? 0 });
    }
    const total = runs.reduce((a, r) => a + r.events, 0);
    const largest = Math.max(...runs.map((r) => r.events));
    const batches = Math.ceil(out.examples / BATCH_SIZE);
    console.log(`examples ${out.examples} × ${candidates.length} candidates, ${batches} batches, ${out.summary.failedExamples} failed, ${seconds.toFixed(1)} s`);
    console.log(`runs of the evaluation workflow: ${runs.length}`);
    console.log(`largest run: ${largest} events (${((largest / HISTORY_WARNING) * 100).toFixed(0)}% of the ${HISTORY_WARNING}-event warning)`);
    console.log(`all runs: ${total} events; one history holding every batch would need about ${total} events (${(total / HISTORY_WARNING).toFixed(1)} × the warning)`);
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
