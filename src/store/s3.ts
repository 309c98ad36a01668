import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { assertStoreKey, s3Uri } from './keys';
import { localFileWriter } from './local';
import { StoreObjectNotFoundError, type ArtifactStore, type ByteSource, type LocalCopy, type ObjectWriter, type PutFileOptions, type S3Settings, type StoreEntry } from './types';

/** Parts of a multipart upload: S3's minimum is 5 MiB; 8 MiB keeps a 512 MB split file at 64 parts. */
export const MULTIPART_PART_BYTES = 8 * 1024 * 1024;

/**
 * One client for every bucket the worker reads or writes. A custom endpoint (versitygw, MinIO, Ceph...)
 * is addressed path-style and gets checksums only where S3 requires them, as not every such server
 * speaks the newer default ones. Retries: the SDK's standard mode, 3 attempts, below Temporal's own.
 */
export function createS3Client(settings: S3Settings): S3Client {
  const custom = settings.endpoint !== undefined;
  return new S3Client({
    ...(custom ? { endpoint: settings.endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
    ...(settings.region ? { region: settings.region } : custom ? { region: 'us-east-1' } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    maxAttempts: 3,
  });
}

/** True for the answers S3 gives when an object (or its bucket) is not there. */
export function isS3NotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.name === 'NoSuchBucket' || err.$metadata.httpStatusCode === 404;
}

function isPreconditionFailed(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'PreconditionFailed' || err.$metadata.httpStatusCode === 412);
}

async function* bytesOf(body: unknown): AsyncGenerator<Buffer> {
  for await (const chunk of body as AsyncIterable<Uint8Array>) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
}

/**
 * An object as a ByteSource. The first read pins the object's ETag and later reads ask for that same
 * version (If-Match), so two passes over a dataset never mix two versions of it.
 */
export function s3ObjectSource(client: S3Client, bucket: string, key: string): ByteSource {
  const name = s3Uri(bucket, key);
  let etag: string | undefined;
  const fail = (err: unknown): unknown => {
    if (isS3NotFound(err)) return new StoreObjectNotFoundError(key, name);
    if (isPreconditionFailed(err)) return new Error(`${name} changed while it was being read`);
    return err;
  };
  return {
    name,
    async size() {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...(etag ? { IfMatch: etag } : {}) }));
        etag ??= head.ETag;
        return head.ContentLength ?? 0;
      } catch (err) {
        throw fail(err);
      }
    },
    open: async function* () {
      let body: unknown;
      try {
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(etag ? { IfMatch: etag } : {}) }));
        etag ??= got.ETag;
        body = got.Body;
      } catch (err) {
        throw fail(err);
      }
      yield* bytesOf(body);
    },
  };
}

/** Streams a local file into an object: one PUT when small, else a multipart upload that becomes visible only when completed. */
export async function uploadFileToS3(client: S3Client, bucket: string, key: string, file: string, options: PutFileOptions = {}): Promise<void> {
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: createReadStream(file, { highWaterMark: 1024 * 1024 }) },
    partSize: MULTIPART_PART_BYTES,
    queueSize: 4,
    leavePartsOnError: false,
  });
  if (options.onProgress) upload.on('httpUploadProgress', (p) => options.onProgress?.(p.loaded ?? 0));
  await upload.done();
}

/** Downloads an object into a private temporary folder. */
export async function downloadS3Object(source: ByteSource, fileName = 'object'): Promise<LocalCopy> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-store-'));
  const file = path.join(dir, fileName);
  try {
    await pipeline(source.open() as AsyncIterable<Buffer> & Readable, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { path: file, release: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A bucket (and key prefix) shared by every worker. A PUT and a completed multipart upload are atomic
 * in S3: readers see the whole new object or the old one, never part of it, and a killed writer leaves
 * at most an unfinished multipart upload, which is no object (a bucket lifecycle rule can reap it).
 */
export class S3Store implements ArtifactStore {
  readonly kind = 's3' as const;
  readonly root: string;

  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    readonly prefix: string,
  ) {
    this.root = prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
  }

  objectKey(key: string): string {
    assertStoreKey(key);
    return this.prefix === '' ? key : `${this.prefix}/${key}`;
  }

  url(key: string): string {
    return s3Uri(this.bucket, this.objectKey(key));
  }

  async put(key: string, data: Buffer | string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: data }));
  }

  putFile(key: string, file: string, options?: PutFileOptions): Promise<void> {
    return uploadFileToS3(this.client, this.bucket, this.objectKey(key), file, options);
  }

  /** Written to a local scratch file first, then sent on commit: memory stays flat and a failed write sends nothing. */
  async writer(key: string): Promise<ObjectWriter> {
    const objectKey = this.objectKey(key);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-store-'));
    const scratch = path.join(dir, 'object');
    const local = await localFileWriter(scratch);
    return {
      write: (data) => local.write(data),
      commit: async () => {
        try {
          await local.commit();
          await uploadFileToS3(this.client, this.bucket, objectKey, scratch);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
      abort: async () => {
        await local.abort();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }

  async read(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.source(key).open()) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  source(key: string): ByteSource {
    const source = s3ObjectSource(this.client, this.bucket, this.objectKey(key));
    // Errors name the key as the caller knows it.
    const rename = (err: unknown) => (err instanceof StoreObjectNotFoundError ? new StoreObjectNotFoundError(key, err.url) : err);
    return {
      name: source.name,
      size: () => source.size().catch((err: unknown) => Promise.reject(rename(err))),
      open: async function* () {
        try {
          yield* source.open();
        } catch (err) {
          throw rename(err);
        }
      },
    };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (err) {
      if (isS3NotFound(err)) return false;
      throw err;
    }
  }

  async list(prefix: string): Promise<StoreEntry[]> {
    const full = this.prefix === '' ? prefix : `${this.prefix}/${prefix}`;
    const cut = this.prefix === '' ? 0 : this.prefix.length + 1;
    const out: StoreEntry[] = [];
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: full })) {
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        out.push({ key: o.Key.slice(cut), size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) });
      }
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  localCopy(key: string): Promise<LocalCopy> {
    return downloadS3Object(this.source(key), path.posix.basename(key));
  }

  close(): void {
    this.client.destroy();
  }
}
