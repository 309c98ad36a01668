import { createHash, type Hash } from 'node:crypto';
import { join } from 'node:path';
import { LocalStore } from '../store/local';
import type { ArtifactStore, ByteSource, ObjectWriter } from '../store/types';
import { assignSplit, checkExample, DEFAULT_VALID_RATIO, ExampleGroupIndex, SPLIT_VALID, type SplitFileFacts, type SplitManifest } from '../domain/dataset';
import { compactJsonLine, contentHashWords, isBlankLine, parseRawLine } from './analyse-line';
import { DatasetFileError } from './errors';
import { readLineBatches, type RawLine } from './line-reader';
import { datasetFileSize, datasetName, type DatasetReadProgress } from './validate-file';

export interface SplitOptions {
  /** A local folder for train.jsonl and valid.jsonl (the manifest then gives paths)... */
  outDir?: string;
  /** ...or keys in a store (the manifest then gives the keys). */
  store?: { store: ArtifactStore; train: string; valid: string };
  seed: number;
  /** Share of examples for validation; round(n × validRatio) of them. Default 0.2. */
  validRatio?: number;
  /** Called after each read chunk of either pass; may throw to stop the split (a cancelled activity). */
  onProgress?: (progress: SplitProgress) => void;
}

/** How far the split got: pass 1 reads and hashes, pass 2 reads again and writes. */
export interface SplitProgress extends DatasetReadProgress {
  pass: 1 | 2;
}

// Writes are gathered into buffers of about this size: one syscall per MB, not per line.
const WRITE_BATCH_BYTES = 1 << 20;
const LF = Buffer.from('\n');

/** An output object, invisible until closed, hashed as it is written. */
class SplitFileWriter {
  private readonly hash: Hash = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  examples = 0;
  bytes = 0;

  constructor(
    /** What the manifest calls it: a path or a store key. */
    readonly path: string,
    private readonly out: ObjectWriter,
  ) {}

  /** Copies the line: the caller's buffer may be a view of a read chunk. */
  async writeLine(line: Buffer): Promise<void> {
    this.pending.push(Buffer.from(line), LF);
    this.pendingBytes += line.length + 1;
    this.examples++;
    if (this.pendingBytes >= WRITE_BATCH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.hash.update(data);
    this.bytes += data.length;
    await this.out.write(data);
  }

  async close(): Promise<SplitFileFacts> {
    await this.flush();
    await this.out.commit();
    return { path: this.path, examples: this.examples, sha256: this.hash.digest('hex'), bytes: this.bytes };
  }

  async discard(): Promise<void> {
    await this.out.abort();
  }
}

/** The example's compact JSON, null for a blank line; a format error throws, naming line and code. */
function readExampleLine(path: string, raw: RawLine): Buffer | null {
  const parsed = parseRawLine(raw);
  if (parsed.kind === 'blank') return null;
  if (parsed.kind === 'unreadable') throw new DatasetFileError(`${path} line ${raw.line} [${parsed.code}]: ${parsed.message}; validate the file first`, 'invalid_dataset', path, raw.line);
  const firstError = checkExample(parsed.value).issues.find((i) => i.severity === 'error');
  if (firstError) throw new DatasetFileError(`${path} line ${raw.line} [${firstError.code}]: ${firstError.message}; validate the file first`, 'invalid_dataset', path, raw.line);
  return compactJsonLine(raw.bytes as Buffer);
}

/** Where the two sides go: the given store keys, or train.jsonl and valid.jsonl in a local folder. */
function splitOutputs(opts: SplitOptions): { store: ArtifactStore; train: string; valid: string; named: (key: string) => string } {
  if (opts.store) return { ...opts.store, named: (key) => key };
  if (!opts.outDir) throw new Error('splitDatasetFile needs outDir or store');
  const outDir = opts.outDir;
  return { store: new LocalStore(outDir), train: 'train.jsonl', valid: 'valid.jsonl', named: (key) => join(outDir, key) };
}

/**
 * Splits a chat JSONL file (a path or a ByteSource) into train.jsonl and valid.jsonl (in outDir, or
 * under the given store keys): exactly round(n × validRatio)
 * examples to validation (unless duplicate groups cannot fit), chosen by a keyed hash of (seed,
 * content) so the split is the same on every machine, with identical examples kept on one side.
 * Two streaming passes: hashes first, then the writes. Lines are written normalised (whitespace
 * outside strings removed, LF, no BOM). Refuses a file with format errors, naming the first.
 */
export async function splitDatasetFile(input: string | ByteSource, opts: SplitOptions): Promise<SplitManifest> {
  const path = datasetName(input);
  const validRatio = opts.validRatio ?? DEFAULT_VALID_RATIO;
  const size = await datasetFileSize(input);
  const reportPass = (pass: 1 | 2, read: { bytes: number }, lines: number) => opts.onProgress?.({ pass, bytesRead: read.bytes, bytes: size, lines });

  // Pass 1: the content hash of every example, grouped.
  const groups = new ExampleGroupIndex();
  const sourceHash = createHash('sha256');
  let blankLinesSkipped = 0;
  const firstRead = { bytes: 0 };
  let lines = 0;
  for await (const batch of readLineBatches(input, sourceHash, firstRead)) {
    for (const raw of batch) {
      const compact = readExampleLine(path, raw);
      if (compact === null) blankLinesSkipped++;
      else {
        const [h0, h1, h2, h3] = contentHashWords(compact);
        groups.add(h0, h1, h2, h3, raw.line);
      }
    }
    lines += batch.length;
    reportPass(1, firstRead, lines);
  }
  const sourceSha256 = sourceHash.digest('hex');
  const assignment = assignSplit(groups, opts.seed, validRatio);

  // Pass 2: each example to its group's side.
  const out = splitOutputs(opts);
  const train = new SplitFileWriter(out.named(out.train), await out.store.writer(out.train));
  const valid = new SplitFileWriter(out.named(out.valid), await out.store.writer(out.valid));
  try {
    const secondHash = createHash('sha256');
    const secondRead = { bytes: 0 };
    lines = 0;
    for await (const batch of readLineBatches(input, secondHash, secondRead)) {
      for (const raw of batch) {
        // Pass 1 parsed and checked every line; the sha256 comparison below catches a file that changed since.
        if (raw.bytes === null || isBlankLine(raw.bytes)) continue;
        const compact = compactJsonLine(raw.bytes);
        const [h0, h1, h2, h3] = contentHashWords(compact);
        const group = groups.find(h0, h1, h2, h3);
        if (group === -1) throw new DatasetFileError(`${path} changed while it was being split (line ${raw.line})`, 'file_changed', path, raw.line);
        await (assignment.sides[group] === SPLIT_VALID ? valid : train).writeLine(compact);
      }
      lines += batch.length;
      reportPass(2, secondRead, lines);
    }
    if (secondHash.digest('hex') !== sourceSha256) throw new DatasetFileError(`${path} changed while it was being split`, 'file_changed', path);
    const [trainFacts, validFacts] = [await train.close(), await valid.close()];
    return {
      seed: opts.seed,
      validRatio,
      source: { path, sha256: sourceSha256, examples: assignment.examples },
      train: trainFacts,
      valid: validFacts,
      targetValidExamples: assignment.targetValidExamples,
      duplicates: { groups: assignment.duplicateGroupsKeptTogether, keptTogether: assignment.duplicateGroupsKeptTogether, leakage: 0 },
      blankLinesSkipped,
    };
  } catch (err) {
    await Promise.all([train.discard(), valid.discard()]);
    throw err;
  }
}
