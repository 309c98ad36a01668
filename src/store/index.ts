import type { S3Client } from '@aws-sdk/client-s3';
import { parseReference } from './keys';
import { LocalStore, localFileSource } from './local';
import { createS3Client, downloadS3Object, s3ObjectSource, S3Store } from './s3';
import type { ArtifactStore, ByteSource, LocalCopy, S3Settings, StoreLocation } from './types';

export * from './types';
export * from './keys';
export { LocalStore, localFileSource, localFileWriter } from './local';
export { S3Store, createS3Client, s3ObjectSource, isS3NotFound, MULTIPART_PART_BYTES } from './s3';

/** The run store and an S3 client for `s3://` datasets, made once per process from the config. */
export interface Storage {
  store: ArtifactStore;
  /** Built on first use: a worker that never reads from S3 needs no AWS settings. */
  s3(): S3Client;
  close(): void;
}

export function openStorage(location: StoreLocation, s3: S3Settings): Storage {
  let client: S3Client | undefined;
  const s3Client = () => (client ??= createS3Client(s3));
  const store = location.kind === 'local' ? new LocalStore(location.dir) : new S3Store(s3Client(), location.bucket, location.prefix);
  return {
    store,
    s3: s3Client,
    close: () => client?.destroy(),
  };
}

/** Reads a reference from history or input (see parseReference): a local file, any `s3://` object, or a key in the store. */
export function referenceSource(storage: Pick<Storage, 'store' | 's3'>, ref: string): ByteSource {
  const parsed = parseReference(ref);
  if (parsed.kind === 'file') return localFileSource(parsed.path);
  if (parsed.kind === 's3') return s3ObjectSource(storage.s3(), parsed.bucket, parsed.key);
  return storage.store.source(parsed.key);
}

/**
 * Runs `fn` with a local file holding the reference's bytes: a local file as it is, a store object on
 * a local store in place, anything in a bucket downloaded to a temporary file that is removed after.
 */
export async function withLocalFile<T>(storage: Pick<Storage, 'store' | 's3'>, ref: string, fn: (file: string) => Promise<T>): Promise<T> {
  const parsed = parseReference(ref);
  if (parsed.kind === 'file') return fn(parsed.path);
  let copy: LocalCopy;
  if (parsed.kind === 'key') copy = await storage.store.localCopy(parsed.key);
  else copy = await downloadS3Object(s3ObjectSource(storage.s3(), parsed.bucket, parsed.key), parsed.key.split('/').at(-1));
  try {
    return await fn(copy.path);
  } finally {
    await copy.release();
  }
}
