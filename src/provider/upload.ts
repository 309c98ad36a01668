import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type OpenAI from 'openai';
import { toStreamingFile } from 'openai';

export interface UploadProgress {
  /** File bytes the HTTP client has taken so far. */
  bytesSent: number;
  /** The file's size. */
  bytes: number;
}

export interface UploadFromDiskOptions {
  path: string;
  /** The name the provider stores (the file on disk may be called anything). */
  filename: string;
  purpose: OpenAI.FilePurpose;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  /** Aborts when no byte moved (or, once all are sent, no answer came) for this long; default: the client's timeout. */
  idleTimeoutMs?: number;
  /** When the provider deletes the file (Azure's v1 API requires it); unset: kept until deleted. */
  expiresAfterSeconds?: number;
}

/** The upload stopped moving: retrying is the cure, and the file is looked up by name before it is sent again. */
export class UploadStalledError extends Error {
  constructor(filename: string, idleMs: number, progress: UploadProgress) {
    super(`Upload of ${filename} stalled: nothing moved for ${Math.round(idleMs / 1000)} s after ${progress.bytesSent} of ${progress.bytes} bytes`);
    this.name = 'UploadStalledError';
  }
}

// Small enough that progress moves smoothly on a slow link, large enough to keep syscalls few.
const UPLOAD_CHUNK_BYTES = 256 * 1024;
// Without these, Node 20's fetch tees a stream body to replay it on a redirect, holding the whole
// file in memory (nodejs/undici#4058, fixed in 2026); a streamed body can never be replayed anyway.
const NO_BODY_COPY_FETCH_OPTIONS = { redirect: 'error', window: null } as const;
// The SDK's whole-request timeout would cut a slow upload that still moves; the idle watchdog bounds it instead.
const NO_WHOLE_REQUEST_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Uploads a file from disk through the client's own `files.create` (same auth, headers and errors),
 * with a multipart body streamed from disk chunk by chunk: memory holds a chunk or two whatever the
 * file's size. Progress counts file bytes as the HTTP client takes them.
 */
export async function uploadFileFromDisk(client: OpenAI, opts: UploadFromDiskOptions): Promise<OpenAI.FileObject> {
  const { size } = await stat(opts.path);
  const progress: UploadProgress = { bytesSent: 0, bytes: size };
  const idleMs = opts.idleTimeoutMs ?? client.timeout;
  const stalled = new AbortController();
  let watchdog: NodeJS.Timeout | undefined;
  const rearm = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => stalled.abort(new UploadStalledError(opts.filename, idleMs, { ...progress })), idleMs);
  };

  async function* fileChunks(): AsyncGenerator<Buffer> {
    for await (const chunk of createReadStream(opts.path, { highWaterMark: UPLOAD_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      yield chunk;
      // Resumed only when the HTTP client asks for the next chunk: this one is on its way.
      progress.bytesSent += chunk.length;
      rearm();
      opts.onProgress?.({ ...progress });
    }
  }

  const signal = opts.signal ? AbortSignal.any([opts.signal, stalled.signal]) : stalled.signal;
  rearm();
  try {
    return await client.files.create(
      {
        file: toStreamingFile(fileChunks(), opts.filename, { type: 'application/jsonl' }),
        purpose: opts.purpose,
        ...(opts.expiresAfterSeconds !== undefined ? { expires_after: { anchor: 'created_at' as const, seconds: opts.expiresAfterSeconds } } : {}),
      },
      { signal, timeout: NO_WHOLE_REQUEST_TIMEOUT_MS, fetchOptions: NO_BODY_COPY_FETCH_OPTIONS },
    );
  } catch (err) {
    // The SDK reports any abort as its own error; the reason says who stopped the upload.
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (stalled.signal.aborted) throw stalled.signal.reason;
    throw err;
  } finally {
    clearTimeout(watchdog);
  }
}
