import type { TrainingMetricsRow } from '../domain/run';
import { readJsonl } from '../eval/jsonl';
import { RUN_FILES, runObjectKey, type ArtifactStore } from '../store';

/** The run's metrics.jsonl in the store. */
export function metricsKey(runKey: string): string {
  return runObjectKey(runKey, RUN_FILES.metrics);
}

/**
 * Adds the job's newest metric rows to the run's metrics.jsonl. A retried poll may bring rows an earlier
 * attempt already wrote, so only rows past the last recorded step are added. A bucket cannot append:
 * the object is read and written back whole (atomically), which metrics files, a few rows per step,
 * stay small enough for. Returns how many rows were added.
 */
export async function appendMetricsRows(store: ArtifactStore, runKey: string, rows: readonly Required<TrainingMetricsRow>[]): Promise<number> {
  if (rows.length === 0) return 0;
  const key = metricsKey(runKey);
  const lines: string[] = [];
  let lastStep = -1;
  if (await store.exists(key)) {
    for await (const line of readJsonl(store.source(key))) {
      const step = (line.value as { step?: unknown } | null)?.step;
      if (typeof step !== 'number') continue;
      lines.push(`${JSON.stringify(line.value)}\n`);
      lastStep = Math.max(lastStep, step);
    }
  }
  const fresh = rows.filter((r) => r.step > lastStep);
  if (fresh.length === 0) return 0;
  await store.put(key, [...lines, ...fresh.map((r) => `${JSON.stringify(r)}\n`)].join(''));
  return fresh.length;
}
