import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ByteSource } from '../store/types';

/** Longer lines are not buffered: no trainable example comes near this size. */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

/** One physical line without its line ending (and, on line 1, without a UTF-8 BOM). */
export interface RawLine {
  /** 1-based. */
  line: number;
  /** The line's bytes, or null when it was longer than MAX_LINE_BYTES. */
  bytes: Buffer | null;
  /** Byte length, also for a line too long to keep. */
  length: number;
}

export interface ReadProgress {
  /** Bytes read so far. */
  bytes: number;
}

function stripLineEnd(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes;
}

function stripBom(bytes: Buffer): Buffer {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/**
 * Streams a file (a path, or any ByteSource: an object in a bucket reads the same) as batches of lines
 * (one batch per read chunk), handling lines split across chunks, LF or CRLF endings and a leading BOM.
 * Memory holds one chunk plus the current partial line. The raw bytes also go to `hash`, so the file's
 * sha256 costs no second read and is the hash of exactly the bytes read.
 */
export async function* readLineBatches(source: string | ByteSource, hash?: Hash, progress?: ReadProgress): AsyncGenerator<RawLine[]> {
  let line = 0;
  let partial: Buffer[] = [];
  let partialLength = 0;
  let oversized = false;

  const finishLine = (tail: Buffer): RawLine => {
    line++;
    const length = partialLength + tail.length;
    if (oversized) {
      partial = [];
      partialLength = 0;
      oversized = false;
      return { line, bytes: null, length };
    }
    let bytes = partial.length === 0 ? tail : Buffer.concat([...partial, tail], length);
    partial = [];
    partialLength = 0;
    bytes = stripLineEnd(bytes);
    if (line === 1) bytes = stripBom(bytes);
    return { line, bytes, length: bytes.length };
  };

  const stream = typeof source === 'string' ? (createReadStream(source, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) : source.open();
  for await (const chunk of stream) {
    hash?.update(chunk);
    if (progress) progress.bytes += chunk.length;
    const batch: RawLine[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(0x0a, start); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      batch.push(finishLine(chunk.subarray(start, newline)));
      start = newline + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      partialLength += rest.length;
      if (partialLength > MAX_LINE_BYTES) {
        oversized = true;
        partial = [];
      } else if (!oversized) {
        // Copied: a view would pin the whole 1 MB chunk per fragment.
        partial.push(Buffer.from(rest));
      }
    }
    if (batch.length > 0) yield batch;
  }
  if (partialLength > 0 || oversized) yield [finishLine(Buffer.alloc(0))];
}
