import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { combineJudgeVerdicts, judgeScore, type JudgeVerdict } from '../../src/domain/eval/judge';
import { scoreAnswer } from '../../src/domain/eval/metrics';
import { summarizeResults } from '../../src/domain/eval/summary';
import type { ExampleResultRow } from '../../src/domain/eval/types';
import { createSeededRandom } from '../../src/domain/random';
import type { EvalCandidate, RunFacts } from '../../src/domain/run';

export const BASE = 'gpt-4o-mini-2024-07-18';
export const FINAL = 'ft:gpt-4o-mini-2024-07-18:acme:support:9xQpL2aB';
export const CKPT = (step: number) => `${FINAL}:ckpt-step-${step}`;
export const EXTRA = 'gpt-4.1-mini-2025-04-14';
export const JUDGE = 'gpt-4.1-2025-04-14';
export const HOSTILE = '<script>alert("x")</script><img src="https://example.com/x.png" onerror="alert(1)">';

export const candidates: EvalCandidate[] = [
  { model: BASE, role: 'base', step: null, fullValidLoss: null },
  { model: CKPT(40), role: 'checkpoint', step: 40, fullValidLoss: 0.688 },
  { model: CKPT(80), role: 'checkpoint', step: 80, fullValidLoss: 0.447 },
  { model: FINAL, role: 'final', step: null, fullValidLoss: null },
  { model: EXTRA, role: 'extra', step: null, fullValidLoss: null },
];

const CITIES: Array<[string, string]> = [
  ['France', 'Paris'], ['Japan', 'Tokyo'], ['Kenya', 'Nairobi'], ['Peru', 'Lima'], ['Norway', 'Oslo'], ['Egypt', 'Cairo'],
  ['Canada', 'Ottawa'], ['Chile', 'Santiago'], ['Vietnam', 'Hanoi'], ['Ghana', 'Accra'], ['Poland', 'Warsaw'], ['Nepal', 'Kathmandu'],
];

/** A run folder with metrics.jsonl, eval/results.jsonl and the matching RunFacts. */
export async function writeFixtureRun(runDir: string, examples = 60): Promise<RunFacts> {
  const random = createSeededRandom(2024, 'report-fixture');
  await mkdir(path.join(runDir, 'eval'), { recursive: true });

  const metrics: string[] = [];
  for (let step = 1; step <= 120; step++) {
    const trainLoss = 0.35 + 1.6 * Math.exp(-step / 22) + (random() - 0.5) * 0.12;
    const validLoss = step % 10 === 0 ? 0.39 + 1.5 * Math.exp(-step / 25) + 0.0004 * Math.max(0, step - 80) : null;
    metrics.push(JSON.stringify({ step, trainLoss, trainAccuracy: 0.6 + step / 400, validLoss, validAccuracy: validLoss === null ? null : 0.7 }));
  }
  await writeFile(path.join(runDir, 'metrics.jsonl'), `${metrics.join('\n')}\n`);

  const rows: ExampleResultRow[] = [];
  for (let index = 0; index < examples; index++) {
    const [country, city] = CITIES[index % CITIES.length] as [string, string];
    const reference = `The capital of ${country} is ${city}.`;
    const hostile = index === 3;
    const answers: ExampleResultRow['answers'] = {};
    for (const c of candidates) {
      const skill = c.role === 'base' ? 0.45 : c.role === 'extra' ? 0.6 : c.model === CKPT(40) ? 0.7 : 0.8;
      let text: string;
      if (hostile && c.role === 'final') text = `${HOSTILE} ${city}`;
      else if (random() < skill) text = random() < 0.5 ? reference : `${city} is the capital of ${country}.`;
      else text = random() < 0.5 ? `I believe it is ${CITIES[(index + 3) % CITIES.length]?.[1]}.` : `${country} is a country; its largest city is well known, and the capital has many museums.`;
      if (c.model === EXTRA && index === 7) {
        answers[c.model] = { text: null, scores: null, error: { kind: 'invalid_request', message: 'too long', code: 'context_length_exceeded' } };
        continue;
      }
      answers[c.model] = { text, scores: scoreAnswer(text, reference), finishReason: 'stop', latencyMs: 120 };
    }
    const base = answers[BASE];
    for (const c of candidates) {
      const answer = answers[c.model];
      if (c.role === 'base' || !answer?.scores || !base?.scores) continue;
      const better = answer.scores.tokenF1 - base.scores.tokenF1;
      const pick = (): JudgeVerdict => (Math.abs(better) < 0.05 ? 'tie' : better > 0 ? 'A' : 'B');
      const first = pick();
      const second: JudgeVerdict = first === 'tie' ? 'tie' : first === 'A' ? 'B' : 'A';
      const outcome = combineJudgeVerdicts(first, index % 11 === 5 ? 'A' : second);
      answer.judge = { candidateFirst: first, baseFirst: index % 11 === 5 ? 'A' : second, outcome, score: judgeScore(outcome) };
    }
    rows.push({
      index,
      sourceLine: index + 1,
      prompt: [
        { role: 'system', content: 'You are a concise geography assistant. Answer in one sentence.' },
        { role: 'user', content: hostile ? `What is the capital of ${country}? ${HOSTILE}` : `What is the capital of ${country}?` },
      ],
      reference,
      answers,
    });
  }
  const resultsPath = path.join(runDir, 'eval', 'results.jsonl');
  await writeFile(resultsPath, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const summary = summarizeResults(rows, candidates, { seed: 42, minImprovement: 0.05, judgeModel: JUDGE });

  return {
    workflowId: 'tuneflow-support-bot-20250301-0932',
    status: summary.gate?.outcome ?? 'succeeded',
    startedAt: '2025-03-01T09:32:05.000Z',
    finishedAt: '2025-03-01T10:14:47.000Z',
    baseModel: BASE,
    provider: { baseURL: 'http://127.0.0.1:8787/v1' },
    dataset: {
      path: '/data/support-bot/train.jsonl',
      sha256: '3f2a9c71b0de4e55a8d7c2b1f0e9d8c7b6a5948372615049382716059483a7b1',
      examples: 600,
      train: { examples: 480, sha256: '1'.repeat(64), fileId: 'file-7Ht2kq9Zs1' },
      valid: { examples: 120, sha256: '2'.repeat(64), fileId: 'file-Qm3n8Vx0Lp' },
      seed: 42,
      validRatio: 0.2,
    },
    cost: { estimatedCostUsd: 1.874, chargedTokens: 624_512, epochs: 3 },
    job: {
      id: 'ftjob-Abc123XyZ789',
      fineTunedModel: FINAL,
      trainedTokens: 621_870,
      hyperparameters: { n_epochs: 3, batch_size: 8, learning_rate_multiplier: 1.8 },
    },
    checkpoints: [
      { model: CKPT(40), step: 40, fullValidLoss: 0.688, fullValidMeanTokenAccuracy: 0.861 },
      { model: CKPT(80), step: 80, fullValidLoss: 0.447, fullValidMeanTokenAccuracy: 0.874 },
    ],
    chosen: { model: CKPT(80), step: 80, fullValidLoss: 0.447, source: 'checkpoint' },
    eval: { ...summary, resultsPath },
    metricsPath: 'metrics.jsonl',
  };
}
