/** Bytes that can be read from the start as often as needed: a local file or an object in a bucket. */
export interface ByteSource {
  /** What messages call it: a path or an `s3://` URI. */
  readonly name: string;
  size(): Promise<number>;
  /** A fresh stream of the bytes from the first one; backpressure reaches the disk or the network. */
  open(): AsyncIterable<Buffer>;
}

/** An object being written: invisible under its key until `commit` returns, and never visible half written. */
export interface ObjectWriter {
  /** Resolves when the bytes are taken (after a drain when the buffer is full). */
  write(data: Buffer | string): Promise<void>;
  commit(): Promise<void>;
  /** Drops what was written; the key keeps whatever it held before. */
  abort(): Promise<void>;
}

export interface StoreEntry {
  key: string;
  size: number;
  modified: Date;
}

export interface PutFileOptions {
  /** Bytes sent so far, as the transfer moves. */
  onProgress?: (bytes: number) => void;
}

/** A local file holding an object's bytes, until released. */
export interface LocalCopy {
  path: string;
  release(): Promise<void>;
}

/**
 * Where run files live, shared by every worker and command. Keys are `/`-separated plain names
 * (see keys.ts); every write is atomic, so a reader sees the old object, the new one or none.
 */
export interface ArtifactStore {
  readonly kind: 'local' | 's3';
  /** The store itself, for people: a folder or `s3://bucket/prefix`. */
  readonly root: string;
  /** Where a key lives, for people: a path or an `s3://` URI. */
  url(key: string): string;
  put(key: string, data: Buffer | string): Promise<void>;
  /** Streams a local file up (multipart on S3 when large). */
  putFile(key: string, file: string, options?: PutFileOptions): Promise<void>;
  writer(key: string): Promise<ObjectWriter>;
  /** The whole object; StoreObjectNotFoundError when absent. */
  read(key: string): Promise<Buffer>;
  source(key: string): ByteSource;
  exists(key: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<StoreEntry[]>;
  /** The object as a local file: itself on a local store, a downloaded temporary copy on S3. */
  localCopy(key: string): Promise<LocalCopy>;
  close(): void;
}

export class StoreObjectNotFoundError extends Error {
  constructor(readonly key: string, readonly url: string) {
    super(`${url} does not exist`);
    this.name = 'StoreObjectNotFoundError';
  }
}

/** How to reach S3 or an S3-compatible server; unset fields are left to the AWS SDK's own chain. */
export interface S3Settings {
  /** AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL: a store that is not AWS (addressed path-style). */
  endpoint: string | undefined;
  region: string | undefined;
  /** From AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; unset: the SDK's default credential chain (profiles, SSO, instance roles). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
}

/** TUNEFLOW_STORE, parsed: the artifacts folder, or a bucket and a key prefix. */
export type StoreLocation = { kind: 'local'; dir: string } | { kind: 's3'; bucket: string; prefix: string };
