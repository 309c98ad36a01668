import path from 'node:path';
import type { ArtifactStore, ByteSource } from '../store/types';
import type { EvalCandidate, EvalSummary, MetricName } from '../domain/run';
import { summarizeResults } from '../domain/eval/summary';
import type { BatchResultRow, CandidateAnswer, EvalExample, ExampleResultRow } from '../domain/eval/types';
import { readJsonl } from './jsonl';
import { BATCH_FILE_PATTERN } from './paths';
import { isCompleteRow } from './runner';

export interface SummarizeEvalOptions {
  store: ArtifactStore;
  /** The run's eval folder key: every `batch-NNNNN.jsonl` under it is read. */
  evalDirKey: string;
  /** The eval set (the run's eval-set.jsonl, or a local file for runs from 0.2). */
  evalSet: string | ByteSource;
  /** Where results.jsonl goes in the store. */
  resultsKey: string;
  candidates: readonly EvalCandidate[];
  seed: number;
  primaryMetric?: MetricName | undefined;
  minImprovement?: number | undefined;
  judgeModel?: string | null | undefined;
  bootstrapIterations?: number | undefined;
  /** Called as examples are merged; may throw to stop (a cancelled activity). */
  onProgress?: (progress: { examples: number }) => void;
}

export class IncompleteEvaluationError extends Error {
  constructor(readonly missing: number, readonly total: number) {
    super(`${missing} of ${total} eval examples have no finished result in the batch files; evaluate every batch before summarising.`);
    this.name = 'IncompleteEvaluationError';
  }
}

/** Keeps only what the statistics need, so the rows held in memory carry no text. */
function scoresOnly(row: BatchResultRow): BatchResultRow {
  const answers: Record<string, CandidateAnswer> = {};
  for (const [model, a] of Object.entries(row.answers)) {
    answers[model] = { text: a.text === null ? null : '', scores: a.scores, ...(a.judge ? { judge: a.judge } : {}) };
  }
  return { index: row.index, answers };
}

/**
 * Reads every batch file, merges them with the eval set into one results.jsonl (prompt, reference
 * and every candidate's answer and scores per example, in eval-set order), and computes the summary.
 * Batch files cover consecutive ranges, so they are read one at a time beside a streaming read of the
 * eval set; only per-example scores stay in memory.
 */
export async function summarizeEvalRun(options: SummarizeEvalOptions): Promise<EvalSummary> {
  const judgeModel = options.judgeModel ?? null;
  const { store } = options;
  const batchFiles = (await store.list(`${options.evalDirKey}/batch-`))
    .map((entry) => ({ key: entry.key, match: BATCH_FILE_PATTERN.exec(path.posix.basename(entry.key)) }))
    .filter((f) => f.match && path.posix.dirname(f.key) === options.evalDirKey)
    .sort((a, b) => Number(a.match?.[1]) - Number(b.match?.[1]))
    .map((f) => f.key);

  const examples = readJsonl(options.evalSet)[Symbol.asyncIterator]();
  const out = await store.writer(options.resultsKey);
  const scored: BatchResultRow[] = [];
  let total = 0;
  let missing = 0;

  const writeLine = (row: ExampleResultRow) => out.write(`${JSON.stringify(row)}\n`);
  const nextExample = async (): Promise<EvalExample | null> => {
    for (;;) {
      const item = await examples.next();
      if (item.done) return null;
      const example = item.value.value as EvalExample | null;
      if (example && typeof example.index === 'number') return example;
    }
  };

  try {
    let pending = await nextExample();
    for (const file of batchFiles) {
      const rows = new Map<number, BatchResultRow>();
      for await (const line of readJsonl(store.source(file))) {
        const row = line.value as BatchResultRow | null;
        // The last finished line for an index wins: a redone (or re-keyed) example supersedes an earlier one.
        if (row && typeof row.index === 'number' && row.answers && isCompleteRow(row, options.candidates, judgeModel)) rows.set(row.index, row);
      }
      const maxIndex = Math.max(-1, ...rows.keys());
      while (pending && pending.index <= maxIndex) {
        total++;
        options.onProgress?.({ examples: total });
        const row = rows.get(pending.index);
        if (!row) missing++;
        else {
          await writeLine({ index: pending.index, sourceLine: pending.sourceLine, prompt: pending.prompt, reference: pending.reference, answers: row.answers });
          scored.push(scoresOnly(row));
        }
        pending = await nextExample();
      }
    }
    while (pending) {
      total++;
      missing++;
      pending = await nextExample();
    }
  } catch (err) {
    await out.abort();
    throw err;
  } finally {
    await examples.return?.(undefined);
  }
  if (missing > 0) {
    await out.abort();
    throw new IncompleteEvaluationError(missing, total);
  }
  await out.commit();

  const summary = summarizeResults(scored, options.candidates, {
    seed: options.seed,
    primaryMetric: options.primaryMetric,
    minImprovement: options.minImprovement,
    judgeModel,
    bootstrapIterations: options.bootstrapIterations,
  });
  return { ...summary, resultsPath: options.resultsKey };
}
