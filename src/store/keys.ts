import path from 'node:path';
import type { StoreLocation } from './types';

/** One segment of a key: a plain name, so no key reaches outside its store or run. `~` is kept for temporary names. */
const SEGMENT = /^[A-Za-z0-9._:-]+$/;

function plainSegment(segment: string): boolean {
  return SEGMENT.test(segment) && segment !== '.' && segment !== '..';
}

export class InvalidStoreKeyError extends Error {
  constructor(key: string, why: string) {
    super(`Store key ${JSON.stringify(key)} ${why}`);
    this.name = 'InvalidStoreKeyError';
  }
}

/** Refuses a key that is empty, absolute, or has a segment that is not a plain name ('.', '..', spaces, '~', ...). */
export function assertStoreKey(key: string): string {
  if (key === '' || key.startsWith('/') || key.endsWith('/')) throw new InvalidStoreKeyError(key, 'must be plain names separated by "/"');
  for (const segment of key.split('/')) {
    if (!plainSegment(segment)) throw new InvalidStoreKeyError(key, `has a segment (${JSON.stringify(segment)}) that is not a plain name`);
  }
  return key;
}

/**
 * A run's key, `<workflow id>/<first run id>` (see runArtifactsKey), or the workflow id alone for runs
 * before 0.2: one or two plain names.
 */
export function assertRunKey(runKey: string): string {
  const segments = runKey.split('/');
  if (segments.length > 2 || !segments.every(plainSegment)) {
    throw new InvalidStoreKeyError(runKey, 'has characters unsafe for a folder name (a run key is <workflow id>/<first run id>)');
  }
  return runKey;
}

/** The files a run keeps under its key; what each activity hands the next. */
export const RUN_FILES = {
  validation: 'validation.json',
  train: 'split/train.jsonl',
  valid: 'split/valid.jsonl',
  metrics: 'metrics.jsonl',
  evalSet: 'eval/eval-set.jsonl',
  results: 'eval/results.jsonl',
  runJson: 'run.json',
  reportMarkdown: 'report.md',
  reportHtml: 'report.html',
} as const;

export function runObjectKey(runKey: string, name: string): string {
  return assertStoreKey(`${assertRunKey(runKey)}/${name}`);
}

/**
 * How a reference in workflow history or input is read: an absolute path is a local file (runs from
 * 0.2 recorded those, and datasets are named so), `s3://` an object in any bucket, anything else a key
 * in the worker's store.
 */
export type Reference = { kind: 'file'; path: string } | { kind: 's3'; bucket: string; key: string } | { kind: 'key'; key: string };

export function parseReference(ref: string): Reference {
  if (ref.startsWith('s3://')) {
    const s3 = parseS3Uri(ref);
    return { kind: 's3', ...s3 };
  }
  if (path.isAbsolute(ref)) return { kind: 'file', path: ref };
  return { kind: 'key', key: ref };
}

export class InvalidS3UriError extends Error {
  constructor(uri: string, why: string) {
    super(`${uri} is not a usable S3 URI: ${why} (expected s3://<bucket>/<key>)`);
    this.name = 'InvalidS3UriError';
  }
}

// S3's bucket naming rule (lowercase letters, digits, dots and hyphens; 3 to 63 long).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `s3://bucket/key` as bucket and key; the key may be empty only when `allowEmptyKey` (a store prefix). */
export function parseS3Uri(uri: string, opts: { allowEmptyKey?: boolean } = {}): { bucket: string; key: string } {
  if (!uri.startsWith('s3://')) throw new InvalidS3UriError(uri, 'it does not start with s3://');
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) throw new InvalidS3UriError(uri, `${JSON.stringify(bucket)} is not a bucket name`);
  if (key === '' && !opts.allowEmptyKey) throw new InvalidS3UriError(uri, 'it names no object');
  return { bucket, key };
}

/** TUNEFLOW_STORE: unset means the local artifacts folder; `s3://bucket[/prefix]` a bucket. */
export function parseStoreLocation(raw: string | undefined, artifactsDir: string): StoreLocation {
  if (raw === undefined || raw === '') return { kind: 'local', dir: artifactsDir };
  if (!raw.startsWith('s3://')) {
    throw new Error(`TUNEFLOW_STORE=${raw}: expected s3://<bucket>[/<prefix>] (for a local folder, leave it unset and set TUNEFLOW_ARTIFACTS_DIR)`);
  }
  const { bucket, key } = parseS3Uri(raw, { allowEmptyKey: true });
  const prefix = key.replace(/\/+$/, '');
  if (prefix !== '') assertStoreKey(prefix);
  return { kind: 's3', bucket, prefix };
}

/** The `s3://` URI of a location and key, for people. */
export function s3Uri(bucket: string, objectKey: string): string {
  return `s3://${bucket}/${objectKey}`;
}
