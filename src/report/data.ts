import { stat } from 'node:fs/promises';
import { localFileSource } from '../store/local';
import { parseReference, runObjectKey, RUN_FILES } from '../store/keys';
import type { ArtifactStore, ByteSource } from '../store/types';
import { finiteOrNull as num, type CandidateResult, type MetricName, type RunFacts, type TrainingMetricsRow } from '../domain/run';
import { BASE_JUDGE_SCORE } from '../domain/eval/judge';
import type { ExampleResultRow } from '../domain/eval/types';
import { readJsonl } from '../eval/jsonl';

export type { TrainingMetricsRow };

export interface ExampleView {
  row: ExampleResultRow;
  /** Focus model minus base on the primary metric; null when either has no answer. */
  delta: number | null;
}

/** Everything the renderers need; built once so Markdown and HTML say the same thing. */
export interface ReportData {
  facts: RunFacts;
  metrics: TrainingMetricsRow[];
  /** The model whose per-example differences from the base order the example table. */
  focusModel: string | null;
  baseModel: string;
  examples: ExampleView[];
  /** Examples in results.jsonl (the table shows at most `exampleCap`). */
  totalExamples: number;
  exampleCap: number;
  /** Where results.jsonl is, for people: a path or an `s3://` URI. */
  resultsPath: string | null;
  generatedAt: string;
}

export const DEFAULT_EXAMPLE_CAP = 50;

/** Reads metrics.jsonl (a file or a store object, as openRunObject found it); a missing one or bad lines give fewer rows, never an error. */
export async function readTrainingMetrics(file: ByteSource | string | null): Promise<TrainingMetricsRow[]> {
  if (!file) return [];
  const rows: TrainingMetricsRow[] = [];
  for await (const line of readJsonl(file)) {
    const v = line.value as Record<string, unknown> | null;
    const step = num(v?.step);
    if (!v || step === null) continue;
    rows.push({
      step,
      trainLoss: num(v.trainLoss),
      trainAccuracy: num(v.trainAccuracy),
      validLoss: num(v.validLoss),
      validAccuracy: num(v.validAccuracy),
    });
  }
  return rows.sort((a, b) => a.step - b.step);
}

/** The model to contrast with the base: the recommended one, or the best other one when the base won. */
export function chooseFocusModel(candidates: readonly CandidateResult[], recommended: string, primary: MetricName): string | null {
  const rec = candidates.find((c) => c.model === recommended);
  if (rec && rec.role !== 'base') return rec.model;
  const others = candidates.filter((c) => c.role !== 'base');
  let best: CandidateResult | undefined;
  for (const c of others) if (!best || (c.metrics[primary]?.mean ?? -Infinity) > (best.metrics[primary]?.mean ?? -Infinity)) best = c;
  return best?.model ?? null;
}

function primaryScore(row: ExampleResultRow, model: string, baseModel: string, primary: MetricName): number | null {
  const answer = row.answers[model];
  if (!answer || answer.text === null || !answer.scores) return null;
  if (primary !== 'judge') return answer.scores[primary];
  return model === baseModel ? BASE_JUDGE_SCORE : (answer.judge?.score ?? null);
}

function byLargestDifference(a: ExampleView, b: ExampleView): number {
  const da = a.delta === null ? -1 : Math.abs(a.delta);
  const db = b.delta === null ? -1 : Math.abs(b.delta);
  return db - da || a.row.index - b.row.index;
}

/**
 * Streams results.jsonl keeping the `cap` examples with the largest |difference| between the focus
 * model and the base (wins and losses alike), so a large eval set never sits in memory.
 */
export async function selectExamples(
  file: ByteSource | string | null,
  focusModel: string | null,
  baseModel: string,
  primary: MetricName,
  cap: number,
): Promise<{ examples: ExampleView[]; total: number }> {
  if (!file) return { examples: [], total: 0 };
  let kept: ExampleView[] = [];
  let total = 0;
  for await (const line of readJsonl(file)) {
    const row = line.value as ExampleResultRow | null;
    if (!row || typeof row.index !== 'number' || !row.answers) continue;
    total++;
    let delta: number | null = null;
    if (focusModel) {
      const focus = primaryScore(row, focusModel, baseModel, primary);
      const base = primaryScore(row, baseModel, baseModel, primary);
      delta = focus === null || base === null ? null : focus - base;
    }
    kept.push({ row, delta });
    if (kept.length > cap * 4) kept = kept.sort(byLargestDifference).slice(0, cap);
  }
  return { examples: kept.sort(byLargestDifference).slice(0, cap), total };
}

/**
 * A file named in run.json, opened when it exists: an absolute path as written (runs from 0.2), a key
 * under the run's key, or a name relative to the run (`metrics.jsonl`). Null when it is not there.
 */
export async function openRunObject(store: ArtifactStore, runKey: string, ref: string | null | undefined): Promise<ByteSource | null> {
  if (!ref) return null;
  const parsed = parseReference(ref);
  if (parsed.kind === 'file') return (await stat(parsed.path).then((s) => s.isFile(), () => false)) ? localFileSource(parsed.path) : null;
  if (parsed.kind === 's3') return null;
  let key: string;
  try {
    key = ref.startsWith(`${runKey}/`) ? ref : runObjectKey(runKey, ref);
  } catch {
    return null;
  }
  return (await store.exists(key)) ? store.source(key) : null;
}

/**
 * Gathers the report's inputs from the run's files in the store. results.jsonl is looked for where
 * run.json says and then at `<run key>/eval/results.jsonl`, so a run whose files moved still renders.
 */
export async function loadReportData(
  facts: RunFacts,
  store: ArtifactStore,
  runKey: string,
  options: { exampleCap?: number; now?: Date } = {},
): Promise<ReportData> {
  const cap = options.exampleCap ?? DEFAULT_EXAMPLE_CAP;
  const metrics = await readTrainingMetrics(await openRunObject(store, runKey, facts.metricsPath));
  const baseModel = facts.eval.candidates.find((c) => c.role === 'base')?.model ?? facts.baseModel;
  const focusModel = chooseFocusModel(facts.eval.candidates, facts.eval.recommended, facts.eval.primaryMetric);
  const resultsFile = (await openRunObject(store, runKey, facts.eval.resultsPath)) ?? (await openRunObject(store, runKey, RUN_FILES.results));
  const { examples, total } = await selectExamples(resultsFile, focusModel, baseModel, facts.eval.primaryMetric, cap);
  return {
    facts,
    metrics,
    focusModel,
    baseModel,
    examples,
    totalExamples: total,
    exampleCap: cap,
    resultsPath: resultsFile?.name ?? null,
    generatedAt: (options.now ?? new Date()).toISOString(),
  };
}
