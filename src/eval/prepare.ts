import { createHash } from 'node:crypto';
import type { ArtifactStore, ByteSource } from '../store/types';
import { extractEvalExample, type EvalExample } from '../domain/eval/types';
import { selectSubsample } from '../domain/eval/subsample';
import { readJsonl } from './jsonl';

export interface PrepareEvalSetOptions {
  /** The chat JSONL: a local path or a ByteSource (the run's split in the store, an object in a bucket). */
  source: string | ByteSource;
  store: ArtifactStore;
  /** Where eval-set.jsonl goes in the store. */
  outKey: string;
  maxExamples?: number | undefined;
  seed: number;
  /** Called as lines are read in either pass; may throw to stop (a cancelled activity). */
  onProgress?: (progress: { pass: 1 | 2; lines: number }) => void;
}

export interface PreparedEvalSet {
  /** The store key of eval-set.jsonl. */
  key: string;
  examples: number;
  /** Lines that could not be scored (bad JSON, no messages, no assistant text, no prompt). */
  skipped: number;
  skippedReasons: Record<string, number>;
  sha256: string;
}

/**
 * Builds eval-set.jsonl from a chat JSONL: one row per usable line with the prompt (messages before
 * the last assistant message) and the reference (that message's text). Two streaming passes: the
 * first counts usable lines so `maxExamples` can be a seeded subsample of them, the second writes.
 * Written through the store's atomic writer, so a retried activity never sees half a file.
 */
export async function prepareEvalSet(options: PrepareEvalSetOptions): Promise<PreparedEvalSet> {
  const skippedReasons: Record<string, number> = {};
  let usable = 0;
  for await (const line of readJsonl(options.source)) {
    options.onProgress?.({ pass: 1, lines: line.lineNumber });
    const extracted = line.error === null ? extractEvalExample(line.value) : ({ ok: false, reason: line.problem } as const);
    if (extracted.ok) usable++;
    else skippedReasons[extracted.reason] = (skippedReasons[extracted.reason] ?? 0) + 1;
  }
  const chosen = new Set(selectSubsample(usable, options.maxExamples, options.seed));

  const out = await options.store.writer(options.outKey);
  const hash = createHash('sha256');
  let usableIndex = 0;
  let written = 0;
  try {
    for await (const line of readJsonl(options.source)) {
      options.onProgress?.({ pass: 2, lines: line.lineNumber });
      if (line.error !== null) continue;
      const extracted = extractEvalExample(line.value);
      if (!extracted.ok) continue;
      if (chosen.has(usableIndex++)) {
        const row: EvalExample = { index: written++, sourceLine: line.lineNumber, prompt: extracted.prompt, reference: extracted.reference };
        const text = `${JSON.stringify(row)}\n`;
        hash.update(text);
        await out.write(text);
      }
    }
  } catch (err) {
    await out.abort();
    throw err;
  }
  await out.commit();
  const skipped = Object.values(skippedReasons).reduce((a, b) => a + b, 0);
  return { key: options.outKey, examples: written, skipped, skippedReasons, sha256: hash.digest('hex') };
}
