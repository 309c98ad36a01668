import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StoreObjectNotFoundError, type ByteSource } from '../store/types';
import { genericModelFacts, resolveModelFacts, ValidationAccumulator, type ModelFacts, type ValidationReport } from '../domain/dataset';
import { analyseLine, analyseLongLine, PACED_LINE_BYTES } from './analyse-line';
import { DatasetFileError } from './errors';
import { readLineBatches } from './line-reader';
import { createEventLoopPacer } from './pacer';
import { createTokenCounter } from './tokenizer';

/** The provider's upload limit for one training file. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;

export interface ValidateOptions {
  model: string;
  allowTruncation?: boolean;
  budgetUsd?: number | undefined;
  /** Given (the pipeline gives it), cost is estimated on the training side of this split. */
  validRatio?: number | undefined;
  seed?: number | undefined;
  /** Facts for a model the table does not list; without them an unknown model gets generic facts and a warning. */
  modelFacts?: ModelFacts;
  /** Called after each read chunk; may throw to stop the validation (a cancelled activity). */
  onProgress?: (progress: DatasetReadProgress) => void;
}

/** How far a streaming pass over a dataset got: figures only. */
export interface DatasetReadProgress {
  bytesRead: number;
  /** The file's size. */
  bytes: number;
  lines: number;
}

/** The facts validation uses for a model: the table's, the caller's, or generic ones for a custom model. */
export function modelFactsFor(opts: Pick<ValidateOptions, 'model' | 'modelFacts'>): ModelFacts {
  if (opts.modelFacts) return opts.modelFacts;
  const resolved = resolveModelFacts(opts.model);
  return resolved.ok ? resolved.facts : genericModelFacts(opts.model);
}

/** What messages call a dataset: its path or its URI. */
export function datasetName(input: string | ByteSource): string {
  return typeof input === 'string' ? input : input.name;
}

/** Stats the path (or asks the source), turning a missing file or a directory into a DatasetFileError. */
export async function datasetFileSize(input: string | ByteSource): Promise<number> {
  if (typeof input !== 'string') {
    try {
      return await input.size();
    } catch (err) {
      if (err instanceof StoreObjectNotFoundError) throw new DatasetFileError(`${input.name} does not exist`, 'file_not_found', input.name);
      const why = err instanceof Error ? err.name : 'error';
      throw new DatasetFileError(`${input.name} cannot be read (${why})`, 'unreadable', input.name);
    }
  }
  const path = input;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new DatasetFileError(`${path} is not a file`, 'not_a_file', path);
    return info.size;
  } catch (err) {
    if (err instanceof DatasetFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetFileError(`${path} does not exist`, 'file_not_found', path);
    throw new DatasetFileError(`${path} cannot be read (${code ?? 'error'})`, 'unreadable', path);
  }
}

async function sha256OfFile(input: string | ByteSource): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const chunks = typeof input === 'string' ? (createReadStream(input, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) : input.open();
  for await (const chunk of chunks) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Validates a chat fine-tuning JSONL file (a path, or a ByteSource such as an object in a bucket) in one
 * streaming pass: format checks per line, statistics, tokens, epochs and cost, duplicates and a PII
 * screen. Memory stays flat whatever the file's size. Throws DatasetFileError only when the file cannot
 * be read; every finding about it is in the report.
 */
export async function validateDatasetFile(input: string | ByteSource, opts: ValidateOptions): Promise<ValidationReport> {
  const path = datasetName(input);
  const size = await datasetFileSize(input);
  const facts = modelFactsFor(opts);
  const accumulator = new ValidationAccumulator({
    file: path,
    facts,
    allowTruncation: opts.allowTruncation ?? false,
    budgetUsd: opts.budgetUsd,
    validRatio: opts.validRatio,
    seed: opts.seed,
  });
  if (!path.toLowerCase().endsWith('.jsonl')) accumulator.fileIssue('invalid_file_extension', 'error', 'the file name must end in .jsonl');
  if (size > MAX_FILE_BYTES) {
    // Not worth reading line by line: the provider refuses it whatever it holds.
    accumulator.fileIssue('file_too_large', 'error', `the file has ${size} bytes, over the ${MAX_FILE_BYTES}-byte (512 MB) limit for a training file`);
    return accumulator.finish(await sha256OfFile(input), { linesRead: false });
  }

  const counter = await createTokenCounter(facts.encoding);
  const context = { facts, counter, allowTruncation: opts.allowTruncation ?? false };
  const hash = createHash('sha256');
  const progress = { bytes: 0 };
  // A worker shares its event loop with other runs' workflow tasks and heartbeats: give it turns.
  const pacer = createEventLoopPacer();
  let lines = 0;
  for await (const batch of readLineBatches(input, hash, progress)) {
    for (const raw of batch) {
      accumulator.add(raw.length > PACED_LINE_BYTES ? await analyseLongLine(raw, context, pacer) : analyseLine(raw, context));
      if (pacer.due()) await pacer.pause();
    }
    lines += batch.length;
    opts.onProgress?.({ bytesRead: progress.bytes, bytes: size, lines });
  }
  return accumulator.finish({ sha256: hash.digest('hex'), bytes: progress.bytes });
}
