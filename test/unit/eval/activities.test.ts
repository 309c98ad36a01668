import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createProvider } from '../../../src/provider';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEvalActivities, type EvaluateBatchInput } from '../../../src/activities/eval';
import { loadConfig, type AppConfig } from '../../../src/config';
import type { EvalCandidate, RunFacts } from '../../../src/domain/run';
import { startLocalBackend, type LocalBackend } from '../../../src/openai-local';

const EXAMPLES = 6;
const candidates: EvalCandidate[] = [
  { model: 'gpt-4o-mini-2024-07-18', role: 'base', step: null, fullValidLoss: null },
  { model: 'gpt-4.1-mini-2025-04-14', role: 'extra', step: null, fullValidLoss: null },
];

let dir: string;
let backend: LocalBackend;
let activities: ReturnType<typeof createEvalActivities>;
let artifactsDir: string;
let sourcePath: string;

/** A mock activity context that keeps expected activity failures out of the test output and keeps result types. */
class QuietActivityEnvironment extends MockActivityEnvironment {
  constructor(info?: ConstructorParameters<typeof MockActivityEnvironment>[0]) {
    super(info, { logger: new DefaultLogger('ERROR') });
  }

  runActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
    return this.run(fn, ...args) as Promise<R>;
  }
}
const mockEnv = (info?: ConstructorParameters<typeof MockActivityEnvironment>[0]) => new QuietActivityEnvironment(info);

const origin = () => backend.url.replace(/\/v1$/, '');
async function chatCalls(): Promise<number> {
  const stats = (await (await fetch(`${origin()}/_admin/stats`)).json()) as { requests: Record<string, number> };
  return stats.requests.createChatCompletion ?? 0;
}
async function setRpm(rpm: number): Promise<void> {
  await fetch(`${origin()}/_admin/settings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rpm }) });
}
async function batchLines(runId: string): Promise<string[]> {
  const text = await readFile(path.join(artifactsDir, runId, 'eval', 'batch-00000.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.length > 0);
}

async function prepared(runId: string) {
  const plan = await mockEnv().runActivity(activities.prepareEval, { runId, sourcePath, seed: 1, batchSize: EXAMPLES });
  const batch = plan.batches[0];
  if (!batch) throw new Error('no batch');
  const input: EvaluateBatchInput = { runId, evalSetPath: plan.evalSetPath, batch, candidates, seed: 1, maxTokens: 64, concurrency: 2 };
  return { plan, input };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-eval-activities-'));
  artifactsDir = path.join(dir, 'artifacts');
  backend = await startLocalBackend({ port: 0, stateDir: path.join(dir, 'state') });
  const config: AppConfig = loadConfig({
    OPENAI_API_KEY: 'local',
    OPENAI_BASE_URL: backend.url,
    TUNEFLOW_HOME: dir,
    TUNEFLOW_ARTIFACTS_DIR: artifactsDir,
    TUNEFLOW_DATA_ROOTS: dir,
    TUNEFLOW_LOG_LEVEL: 'silent',
  });
  activities = createEvalActivities({
    config,
    logger: pino({ level: 'silent' }),
    provider: () => createProvider(config.provider),
  });
  sourcePath = path.join(dir, 'valid.jsonl');
  const countries = ['France', 'Japan', 'Kenya', 'Peru', 'Norway', 'Egypt'];
  await writeFile(
    sourcePath,
    countries.map((c) => JSON.stringify({ messages: [{ role: 'user', content: `What is the capital of ${c}?` }, { role: 'assistant', content: `The capital of ${c}.` }] })).join('\n') + '\n',
  );
});

afterAll(async () => {
  await backend?.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await setRpm(0);
});

describe('evaluateBatch activity', () => {
  it('records { done } heartbeat details after each finished example and writes one line per example', async () => {
    const { input } = await prepared('run-heartbeats');
    const env = mockEnv();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const before = await chatCalls();
    const result = await env.runActivity(activities.evaluateBatch, input);
    expect(result).toEqual({ index: 0, examples: EXAMPLES, failed: 0, requests: EXAMPLES * candidates.length });
    expect(await chatCalls()).toBe(before + EXAMPLES * candidates.length);
    expect(beats).toEqual(Array.from({ length: EXAMPLES }, (_, i) => ({ done: i + 1 })));
    const rows = (await batchLines('run-heartbeats')).map((l) => JSON.parse(l) as { index: number; answers: Record<string, unknown> });
    expect(rows.map((r) => r.index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Object.keys(rows[0]?.answers ?? {})).toEqual(candidates.map((c) => c.model));
  });

  it('resumes from heartbeat details and the partial file, calling the provider only for unfinished examples', async () => {
    const { input } = await prepared('run-resume');
    await mockEnv().runActivity(activities.evaluateBatch, input);
    const file = path.join(artifactsDir, 'run-resume', 'eval', 'batch-00000.jsonl');
    const lines = await batchLines('run-resume');
    // A killed worker: three examples written, the fourth cut mid-line.
    await writeFile(file, `${lines.slice(0, 3).join('\n')}\n${(lines[3] ?? '').slice(0, 25)}`);
    const before = await chatCalls();
    const env = mockEnv({ attempt: 2, heartbeatDetails: { done: 3 } });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const result = await env.runActivity(activities.evaluateBatch, input);
    expect(await chatCalls()).toBe(before + 3 * candidates.length);
    expect(result.requests).toBe(3 * candidates.length);
    expect(beats).toEqual([{ done: 4 }, { done: 5 }, { done: 6 }]);
    const after = await batchLines('run-resume');
    expect(after).toHaveLength(EXAMPLES);
    expect(after.map((l) => (JSON.parse(l) as { index: number }).index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('returns without any provider call when the batch file is already complete', async () => {
    const { input } = await prepared('run-complete');
    await mockEnv().runActivity(activities.evaluateBatch, input);
    const before = await chatCalls();
    const result = await mockEnv({ attempt: 3, heartbeatDetails: { done: EXAMPLES } }).runActivity(activities.evaluateBatch, input);
    expect(result).toEqual({ index: 0, examples: EXAMPLES, failed: 0, requests: 0 });
    expect(await chatCalls()).toBe(before);
  });

  it('redoes rows an earlier run left with other settings instead of reusing them', async () => {
    const { input } = await prepared('run-stale');
    await mockEnv().runActivity(activities.evaluateBatch, input);
    const before = await chatCalls();
    const result = await mockEnv({ attempt: 1 }).runActivity(activities.evaluateBatch, { ...input, maxTokens: 32 });
    expect(result.requests).toBe(EXAMPLES * candidates.length);
    expect(await chatCalls()).toBe(before + EXAMPLES * candidates.length);
  });

  it('stops promptly when cancelled, keeping the examples it finished', async () => {
    const { input } = await prepared('run-cancel');
    // 30 rpm: a burst of 5 requests, then one every 2 s, so the batch is mid-way when cancelled.
    await setRpm(30);
    const env = mockEnv();
    env.once('heartbeat', () => env.cancel());
    const started = Date.now();
    const error = await env.runActivity(activities.evaluateBatch, { ...input, concurrency: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(1500);
    const lines = await batchLines('run-cancel');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThan(EXAMPLES);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('refuses a judge model that is one of the candidates, without retrying or calling anyone', async () => {
    const { input } = await prepared('run-judge-refused');
    const before = await chatCalls();
    const error = await mockEnv()
      .runActivity(activities.evaluateBatch, { ...input, judgeModel: 'gpt-4o-mini-2024-07-18' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).type).toBe('JudgeIsCandidate');
    expect(await chatCalls()).toBe(before);
  });

  it('asks the judge in both orders for each non-base candidate', async () => {
    const { input } = await prepared('run-judge');
    const before = await chatCalls();
    const result = await mockEnv().runActivity(activities.evaluateBatch, { ...input, judgeModel: 'gpt-4.1-nano-2025-04-14' });
    expect(result.requests).toBe(EXAMPLES * (candidates.length + 2));
    expect(await chatCalls()).toBe(before + EXAMPLES * (candidates.length + 2));
    const row = JSON.parse((await batchLines('run-judge'))[0] ?? '{}') as {
      answers: Record<string, { judge?: { candidateFirst: unknown; baseFirst: unknown; outcome: unknown; score: unknown } }>;
    };
    // The backend's base models answer judge prompts with a verdict, so both orders are read.
    const judged = row.answers['gpt-4.1-mini-2025-04-14']?.judge;
    expect(['A', 'B', 'tie']).toContain(judged?.candidateFirst);
    expect(['A', 'B', 'tie']).toContain(judged?.baseFirst);
    expect(['win', 'tie', 'loss']).toContain(judged?.outcome);
    expect(typeof judged?.score).toBe('number');
    expect(row.answers['gpt-4o-mini-2024-07-18']?.judge).toBeUndefined();
  });
});

describe('a run started by tuneflow 0.2 (absolute paths in its history)', () => {
  it('prepares from the split file at its absolute path and evaluates from the eval set at its absolute path', async () => {
    const runId = 'run-from-0.2/first-run';
    // 0.2 wrote the split under the artifacts folder and recorded its absolute path.
    const legacySplit = path.join(artifactsDir, 'run-from-0.2', 'first-run', 'split', 'valid.jsonl');
    await mkdir(path.dirname(legacySplit), { recursive: true });
    await writeFile(legacySplit, await readFile(sourcePath));
    const plan = await mockEnv().runActivity(activities.prepareEval, { runId, sourcePath: legacySplit, seed: 1, batchSize: EXAMPLES });
    expect(plan.examples).toBe(EXAMPLES);
    const absoluteEvalSet = path.join(artifactsDir, plan.evalSetPath);
    const batch = plan.batches[0];
    if (!batch) throw new Error('no batch');
    const result = await mockEnv().runActivity(activities.evaluateBatch, { runId, evalSetPath: absoluteEvalSet, batch, candidates, seed: 1, maxTokens: 64, concurrency: 2 });
    expect(result).toMatchObject({ examples: EXAMPLES, failed: 0 });
    const summary = await mockEnv().runActivity(activities.summarizeEval, { runId, candidates, seed: 1 });
    expect(summary.examples).toBe(EXAMPLES);
  });
});

describe('summarizeEval and writeRunReport activities', () => {
  it('merge the batch files into results.jsonl, return only aggregates, and write the report files', async () => {
    const runId = 'run-summary';
    const { input, plan } = await prepared(runId);
    await mockEnv().runActivity(activities.evaluateBatch, input);
    const summary = await mockEnv().runActivity(activities.summarizeEval, { runId, candidates, seed: 1, minImprovement: 0.05 });
    expect(summary.examples).toBe(EXAMPLES);
    expect(summary.candidates.map((c) => c.model)).toEqual(candidates.map((c) => c.model));
    expect(summary.gate?.minImprovement).toBe(0.05);
    // A store key, not a path on one worker's disk.
    expect(summary.resultsPath).toBe(`${runId}/eval/results.jsonl`);
    // Workflow history must never hold dataset text or completions.
    const history = JSON.stringify(summary);
    expect(history).not.toContain('capital');
    expect(history.length).toBeLessThan(4000);
    const merged = (await readFile(path.join(artifactsDir, summary.resultsPath), 'utf8')).trim().split('\n');
    expect(merged).toHaveLength(EXAMPLES);
    expect(JSON.parse(merged[0] ?? '{}')).toMatchObject({ index: 0, reference: 'The capital of France.' });
    expect(plan.examples).toBe(EXAMPLES);

    const facts: RunFacts = {
      workflowId: runId,
      status: summary.gate?.outcome ?? 'succeeded',
      startedAt: '2025-01-01T00:00:00.000Z',
      finishedAt: '2025-01-01T00:10:00.000Z',
      baseModel: candidates[0]?.model ?? '',
      provider: { baseURL: null },
      dataset: {
        path: sourcePath,
        sha256: 'a'.repeat(64),
        examples: 30,
        train: { examples: 24, sha256: 'b'.repeat(64), fileId: 'file-train' },
        valid: { examples: 6, sha256: 'c'.repeat(64), fileId: 'file-valid' },
        seed: 1,
        validRatio: 0.2,
      },
      cost: { estimatedCostUsd: 0.01, chargedTokens: 1000, epochs: 3 },
      job: { id: 'ftjob-1', fineTunedModel: 'ft:gpt-4o-mini-2024-07-18:org::x', trainedTokens: 1000, hyperparameters: { n_epochs: 3 } },
      checkpoints: [],
      chosen: { model: 'ft:gpt-4o-mini-2024-07-18:org::x', step: null, fullValidLoss: null, source: 'final' },
      eval: summary,
      metricsPath: 'metrics.jsonl',
    };
    const written = await mockEnv().runActivity(activities.writeRunReport, { facts });
    expect(written.runDir).toBe(path.join(artifactsDir, runId));
    const runJson = JSON.parse(await readFile(written.runJson, 'utf8')) as RunFacts;
    expect(runJson.provider.baseURL).toBe(backend.url);
    expect(await readFile(written.html, 'utf8')).toContain('What is the capital of');
    expect(await readFile(written.markdown, 'utf8')).toContain('## Evaluation');
  });
});
