/**
 * Evaluation throughput against the local backend's rate limit: N examples × M candidates through the
 * real batch runner (shared limiter, 2 batches at a time like the workflow, `concurrency` requests per
 * batch). Prints the achieved request rate as a fraction of the backend's limit R (target ≥ 0.9) and
 * the failed examples (target 0). Figures come from one run; nothing here asserts on timing.
 *
 *   npm run bench:eval            # R=600 rpm, 150 examples × 4 candidates ≈ 600 requests
 *   BENCH_RPM=300 BENCH_EXAMPLES=60 npm run bench:eval
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { pino } from 'pino';
import { planBatches } from '../src/domain/eval/subsample';
import type { EvalCandidate } from '../src/domain/run';
import { ChatCaller } from '../src/eval/chat';
import { batchFileName } from '../src/eval/paths';
import { prepareEvalSet } from '../src/eval/prepare';
import { ProviderRateLimiter } from '../src/eval/rate-limiter';
import { runEvalBatch } from '../src/eval/runner';
import { startLocalBackend } from '../src/openai-local';

const RPM = Number(process.env.BENCH_RPM ?? 600);
const EXAMPLES = Number(process.env.BENCH_EXAMPLES ?? 150);
const BATCH_SIZE = 10;
const LANES = 2;
const CONCURRENCY = 4;

const candidates: EvalCandidate[] = [
  { model: 'gpt-4o-mini-2024-07-18', role: 'base', step: null, fullValidLoss: null },
  { model: 'gpt-4.1-mini-2025-04-14', role: 'extra', step: null, fullValidLoss: null },
  { model: 'gpt-4.1-nano-2025-04-14', role: 'extra', step: null, fullValidLoss: null },
  { model: 'gpt-3.5-turbo-0125', role: 'extra', step: null, fullValidLoss: null },
];

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-bench-eval-'));
  const backend = await startLocalBackend({ port: 0, stateDir: path.join(dir, 'state'), rpm: RPM });
  const origin = backend.url.replace(/\/v1$/, '');
  const sendTimes: number[] = [];
  try {
    const source = path.join(dir, 'valid.jsonl');
    const lines = Array.from({ length: EXAMPLES }, (_, i) =>
      JSON.stringify({
        messages: [
          { role: 'system', content: 'Answer in one short sentence.' },
          { role: 'user', content: `Question ${i}: what is ${i} plus ${i + 1}?` },
          { role: 'assistant', content: `${i} plus ${i + 1} is ${2 * i + 1}.` },
        ],
      }),
    );
    await writeFile(source, `${lines.join('\n')}\n`);
    const evalSet = await prepareEvalSet({ sourcePath: source, outPath: path.join(dir, 'eval', 'eval-set.jsonl'), seed: 1 });

    const logger = pino({ level: process.env.BENCH_LOG ?? 'warn' });
    const client = new OpenAI({
      apiKey: 'local',
      baseURL: backend.url,
      maxRetries: 0,
      // Timestamps every HTTP request the runner sends (429s included).
      fetch: (url: string | URL | Request, init?: RequestInit) => {
        sendTimes.push(performance.now());
        return fetch(url, init);
      },
    });
    const limiter = new ProviderRateLimiter({ logger });
    const caller = new ChatCaller({ client, limiter, logger });

    const pending = planBatches(evalSet.examples, BATCH_SIZE);
    let failed = 0;
    let examplesDone = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: LANES }, async () => {
        for (let batch = pending.shift(); batch; batch = pending.shift()) {
          const outcome = await runEvalBatch(
            {
              evalSetPath: evalSet.path,
              batchPath: path.join(dir, 'eval', batchFileName(batch.index)),
              start: batch.start,
              end: batch.end,
              candidates,
              seed: 1,
              maxTokens: 64,
              concurrency: CONCURRENCY,
            },
            { caller, logger },
          );
          failed += outcome.failed;
          examplesDone += outcome.examples;
        }
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;

    const stats = (await (await fetch(`${origin}/_admin/stats`)).json()) as { requests: Record<string, number>; rateLimited?: number };
    const served = stats.requests.createChatCompletion ?? 0;
    const refused = stats.rateLimited ?? 0;
    // The backend's bucket starts full with R/6 requests (10 s worth); the sustained rate excludes that burst.
    const burst = Math.ceil(RPM / 6);
    const afterBurst = sendTimes.slice(burst);
    const sustainedS = afterBurst.length > 1 ? ((afterBurst[afterBurst.length - 1] as number) - (afterBurst[0] as number)) / 1000 : Number.NaN;
    const overallRpm = (sendTimes.length / elapsedS) * 60;
    const sustainedRpm = ((afterBurst.length - 1) / sustainedS) * 60;
    const limiterStats = limiter.stats();

    console.log(`eval bench: ${examplesDone} examples × ${candidates.length} candidates, backend limit R = ${RPM} rpm (burst ${burst})`);
    console.log(`  elapsed                 ${elapsedS.toFixed(1)} s`);
    console.log(`  HTTP requests sent      ${sendTimes.length} (backend counted ${served}; ${refused} answered 429)`);
    console.log(`  overall rate            ${overallRpm.toFixed(0)} rpm = ${(overallRpm / RPM).toFixed(2)} × R (includes the initial burst)`);
    console.log(`  sustained rate          ${sustainedRpm.toFixed(0)} rpm = ${(sustainedRpm / RPM).toFixed(2)} × R (after the first ${burst} requests; target ≥ 0.90)`);
    console.log(`  failed examples         ${failed} (target 0)`);
    console.log(`  limiter                 ${limiterStats.granted} granted, ${limiterStats.delayed} waited for budget, ${limiterStats.pauses} 429 pauses`);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
