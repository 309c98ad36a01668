// Receives a multipart upload: the `file` part streamed to a temp file in the store, the other fields as strings.
import { rename } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type { BackendContext } from './context';
import type { FileRecord } from './types';
import { throttleBytes } from './throttle';

export interface ReceivedUpload {
  /** Temp file holding the bytes; the caller renames it into place or removes it. */
  tmp: string | null;
  file: { filename: string; bytes: number } | null;
  fields: Record<string, string>;
}

/**
 * Reads every part of the request. `received.tmp` is set as soon as a temp file exists, so the caller's
 * cleanup also covers an upload that failed halfway (too large, connection lost).
 */
export async function receiveUpload(request: FastifyRequest, ctx: BackendContext, received: ReceivedUpload): Promise<void> {
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file' || received.tmp) {
        part.file.resume();
        continue;
      }
      received.tmp = ctx.store.tempPath();
      let bytes = 0;
      const counted = async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          bytes += chunk.length;
          yield chunk;
        }
      };
      const gone = new AbortController();
      const onClose = (): void => gone.abort();
      // Removed again after the body: a kept-alive socket carries many uploads.
      request.raw.socket.once('close', onClose);
      try {
        // Streamed straight to disk: uploads of hundreds of MB never sit in memory.
        await pipeline(part.file, throttleBytes(() => ctx.settings.uploadBytesPerSecond, gone.signal), counted, ctx.store.openBlobWriter(received.tmp));
      } finally {
        request.raw.socket.off('close', onClose);
      }
      received.file = { filename: part.filename || 'upload', bytes };
    } else {
      received.fields[part.fieldname] = String(part.value);
    }
  }
}

/** Moves the received file into the store as `rec`'s content and records it: the step every upload route ends with. */
export async function keepUpload(ctx: BackendContext, received: ReceivedUpload, rec: FileRecord): Promise<void> {
  await rename(received.tmp ?? '', ctx.store.blobPath(rec.id));
  received.tmp = null;
  await ctx.store.putFile(rec);
  ctx.stats.created.files += 1;
}
