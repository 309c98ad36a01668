import { RUN_FILES, runObjectKey } from '../store/keys';

/** Where a run keeps its evaluation files in the store: eval-set.jsonl, batch-NNNNN.jsonl and results.jsonl. */
export function evalDirKey(runKey: string): string {
  return runObjectKey(runKey, 'eval');
}

export function evalSetKey(runKey: string): string {
  return runObjectKey(runKey, RUN_FILES.evalSet);
}

/** Zero-padded so a listing sorts batches in order. */
export function batchFileName(index: number): string {
  return `batch-${String(index).padStart(5, '0')}.jsonl`;
}

export function batchKey(runKey: string, index: number): string {
  return runObjectKey(runKey, `eval/${batchFileName(index)}`);
}

export const BATCH_FILE_PATTERN = /^batch-(\d+)\.jsonl$/;

export function resultsKey(runKey: string): string {
  return runObjectKey(runKey, RUN_FILES.results);
}
