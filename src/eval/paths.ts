import path from 'node:path';
import { runDir } from '../artifacts';

/** Where a run keeps its evaluation files: eval-set.jsonl, batch-NNNNN.jsonl and results.jsonl. */
export function evalDir(artifactsDir: string, runId: string): string {
  return path.join(runDir(artifactsDir, runId), 'eval');
}

export function evalSetPath(artifactsDir: string, runId: string): string {
  return path.join(evalDir(artifactsDir, runId), 'eval-set.jsonl');
}

/** Zero-padded so a directory listing sorts batches in order. */
export function batchFileName(index: number): string {
  return `batch-${String(index).padStart(5, '0')}.jsonl`;
}

export function batchPath(artifactsDir: string, runId: string, index: number): string {
  return path.join(evalDir(artifactsDir, runId), batchFileName(index));
}

export const BATCH_FILE_PATTERN = /^batch-(\d+)\.jsonl$/;

export function resultsPath(artifactsDir: string, runId: string): string {
  return path.join(evalDir(artifactsDir, runId), 'results.jsonl');
}
