/**
 * Evaluation throughput against the local backend's rate limits: N examples × M candidates through the
 * real batch runner (shared limiter, 2 batches at a time like the workflow, `concurrency` requests per
 * batch). Two cases, each bound by one limit while the other is loose:
 *   - RPM-bound: the backend allows R requests per minute; prints the achieved request rate / R.
 *   - TPM-bound: the backend allows T tokens per minute (prompt + max_tokens to get in, usage once
 *     answered, as OpenAI counts) and 10 × the needed requests; prints the achieved tokens per minute / T.
 * Target for each: ≥ 0.9 of the binding limit, with 0 failed examples. Figures come from one run;
 * nothing here asserts on timing.
 *
 *   npm run bench:eval                         # both cases
 *   BENCH_CASE=tpm BENCH_TPM=6000 npm run bench:eval
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
import { LocalStore } from '../src/store';
import { startLocalBackend } from '../src/openai-local';

const CASE = process.env.BENCH_CASE ?? 'both';
const RPM = Number(process.env.BENCH_RPM ?? 600);
const TPM = Number(process.env.BENCH_TPM ?? 18_000);
const RPM_EXAMPLES = Number(process.env.BENCH_EXAMPLES ?? 150);
const TPM_EXAMPLES = Number(process.env.BENCH_TPM_EXAMPLES ?? 90);
const BATCH_SIZE = 10;
const LANES = 2;
const CONCURRENCY = 4;
const MAX_TOKENS = 64;

const candidates: EvalCandidate[] = [
  { model: 'gpt-4o-mini-2024-07-18', role: 'base', step: null, fullValidLoss: null },
  { model: 'gpt-4.1-mini-2025-04-14', role: 'extra', step: null, fullValidLoss: null },
  { model: 'gpt-4.1-nano-2025-04-14', role: 'extra', step: null, fullValidLoss: null },
  { model: 'gpt-3.5-turbo-0125', role: 'extra', step: null, fullValidLoss: null },
];

interface CaseResult {
  elapsedS: number;
  examples: number;
  failed: number;
  sendTimes: number[];
  /** Answer time and tokens used (prompt + completion) of every answered request. */
  answers: Array<{ at: number; tokens: number }>;
  backend: { served: number; refused: number; refusedTokens: number; tokensCharged: number };
  limiter: ReturnType<ProviderRateLimiter['stats']>;
}

async function runCase(examples: number, limits: { rpm: number; tpm: number }): Promise<CaseResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-bench-eval-'));
  const backend = await startLocalBackend({ port: 0, stateDir: path.join(dir, 'state'), ...limits });
  const origin = backend.url.replace(/\/v1$/, '');
  const sendTimes: number[] = [];
  const answers: CaseResult['answers'] = [];
  try {
    const source = path.join(dir, 'valid.jsonl');
    const lines = Array.from({ length: examples }, (_, i) =>
      JSON.stringify({
        messages: [
          { role: 'system', content: 'You are a support assistant for an online shop. Answer in one short sentence, politely, without links.' },
          { role: 'user', content: `Question ${i}: what is ${i} plus ${i + 1}, and can I still return an order placed ${i % 30} days ago?` },
          { role: 'assistant', content: `${i} plus ${i + 1} is ${2 * i + 1}.` },
        ],
      }),
    );
    await writeFile(source, `${lines.join('\n')}\n`);
    const store = new LocalStore(dir);
    const evalSet = await prepareEvalSet({ source, store, outKey: 'eval/eval-set.jsonl', seed: 1 });

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
    const metrics = {
      evalRequest() {},
      evalTokens(prompt: number, completion: number) {
        answers.push({ at: performance.now(), tokens: prompt + completion });
      },
    };
    const caller = new ChatCaller({ client, limiter, logger, metrics });

    const pending = planBatches(evalSet.examples, BATCH_SIZE);
    let failed = 0;
    let examplesDone = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: LANES }, async () => {
        for (let batch = pending.shift(); batch; batch = pending.shift()) {
          const outcome = await runEvalBatch(
            {
              evalSet: store.source(evalSet.key),
              store,
              batchKey: `eval/${batchFileName(batch.index)}`,
              start: batch.start,
              end: batch.end,
              candidates,
              seed: 1,
              maxTokens: MAX_TOKENS,
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
    const stats = (await (await fetch(`${origin}/_admin/stats`)).json()) as {
      requests: Record<string, number>;
      rateLimited?: number;
      rateLimitedTokens?: number;
      tokensCharged?: number;
    };
    return {
      elapsedS,
      examples: examplesDone,
      failed,
      sendTimes,
      answers,
      backend: {
        served: stats.requests.createChatCompletion ?? 0,
        refused: stats.rateLimited ?? 0,
        refusedTokens: stats.rateLimitedTokens ?? 0,
        tokensCharged: stats.tokensCharged ?? 0,
      },
      limiter: limiter.stats(),
    };
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const ratio = (x: number, limit: number) => `${(x / limit).toFixed(2)} ×`;

function printCommon(r: CaseResult): void {
  console.log(`  elapsed                 ${r.elapsedS.toFixed(1)} s`);
  console.log(`  HTTP requests sent      ${r.sendTimes.length} (backend counted ${r.backend.served}; ${r.backend.refused} answered 429, ${r.backend.refusedTokens} of them for tokens)`);
  console.log(`  failed examples         ${r.failed} (target 0)`);
  console.log(
    `  limiter                 ${r.limiter.granted} granted, ${r.limiter.delayed} waited for budget, ${r.limiter.pauses} 429 pauses; ` +
      `${r.limiter.tokensReserved} tokens reserved, ${r.limiter.tokensUsed} used, prompt estimate × ${r.limiter.promptTokenRatio.toFixed(2)}`,
  );
}

async function rpmCase(): Promise<void> {
  const r = await runCase(RPM_EXAMPLES, { rpm: RPM, tpm: 0 });
  // The backend's bucket starts full with R/6 requests (10 s worth); the sustained rate excludes that burst.
  const burst = Math.ceil(RPM / 6);
  const after = r.sendTimes.slice(burst);
  const sustainedS = after.length > 1 ? ((after[after.length - 1] as number) - (after[0] as number)) / 1000 : Number.NaN;
  const overall = (r.sendTimes.length / r.elapsedS) * 60;
  const sustained = ((after.length - 1) / sustainedS) * 60;
  console.log(`RPM-bound: ${r.examples} examples × ${candidates.length} candidates, backend limit R = ${RPM} rpm (burst ${burst}), no token limit`);
  console.log(`  overall rate            ${overall.toFixed(0)} rpm = ${ratio(overall, RPM)} R (includes the initial burst)`);
  console.log(`  sustained rate          ${sustained.toFixed(0)} rpm = ${ratio(sustained, RPM)} R (after the first ${burst} requests; target ≥ 0.90)`);
  printCommon(r);
}

async function tpmCase(): Promise<void> {
  // Requests are loose: ten times what the token limit lets through at ~100 tokens a request.
  const rpm = Math.ceil(TPM / 10);
  const r = await runCase(TPM_EXAMPLES, { rpm, tpm: TPM });
  // The bucket starts full with T/6 tokens (10 s worth); the sustained rate counts answers after that much.
  const burst = Math.ceil(TPM / 6);
  let seen = 0;
  let first = 0;
  while (first < r.answers.length && seen < burst) seen += (r.answers[first++] as { tokens: number }).tokens;
  const window = r.answers.slice(first);
  const spanS = window.length > 1 ? ((window[window.length - 1] as { at: number }).at - (window[0] as { at: number }).at) / 1000 : Number.NaN;
  // Tokens answered after the window's first answer, over the time since it.
  const sustained = (window.slice(1).reduce((sum, a) => sum + a.tokens, 0) / spanS) * 60;
  const overall = (r.backend.tokensCharged / r.elapsedS) * 60;
  const perRequest = r.answers.length > 0 ? r.answers.reduce((s, a) => s + a.tokens, 0) / r.answers.length : 0;
  const achievedRpm = (r.sendTimes.length / r.elapsedS) * 60;
  console.log(
    `TPM-bound: ${r.examples} examples × ${candidates.length} candidates, backend limit T = ${TPM} tpm (burst ${burst} tokens), ` +
      `requests ${rpm} rpm (loose), max_tokens ${MAX_TOKENS}, ~${perRequest.toFixed(0)} tokens used a request`,
  );
  console.log(`  backend charged         ${r.backend.tokensCharged} tokens; request rate ${achievedRpm.toFixed(0)} rpm = ${(achievedRpm / rpm).toFixed(2)} of the request limit`);
  console.log(`  overall rate            ${overall.toFixed(0)} tpm = ${ratio(overall, TPM)} T (includes the initial burst)`);
  console.log(`  sustained rate          ${sustained.toFixed(0)} tpm = ${ratio(sustained, TPM)} T (after the first ${burst} tokens; target ≥ 0.90)`);
  printCommon(r);
}

async function main(): Promise<void> {
  if (CASE === 'rpm' || CASE === 'both') await rpmCase();
  if (CASE === 'both') console.log('');
  if (CASE === 'tpm' || CASE === 'both') await tpmCase();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
