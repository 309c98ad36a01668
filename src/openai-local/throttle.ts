// Simulates a slow link: an upload body is read no faster than the configured rate.
import { setTimeout as sleep } from 'node:timers/promises';

/** Pieces of about a tenth of a second each, so a slow upload moves steadily rather than in bursts. */
const SLICES_PER_SECOND = 10;

/**
 * A pipeline stage passing bytes through at most `bytesPerSecond()` bytes per second (0 = unlimited),
 * read per piece so a change at runtime applies at once. Holding a piece back stops reading the
 * socket, so the client sees the slow link as backpressure. `signal` ends it early.
 */
export function throttleBytes(bytesPerSecond: () => number, signal?: AbortSignal): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* throttled(source) {
    let rate = 0;
    let since = 0;
    let passed = 0;
    for await (const chunk of source) {
      let offset = 0;
      while (offset < chunk.length) {
        const current = bytesPerSecond();
        if (current <= 0) {
          rate = 0;
          yield offset === 0 ? chunk : chunk.subarray(offset);
          break;
        }
        if (current !== rate) {
          rate = current;
          since = performance.now();
          passed = 0;
        }
        const piece = chunk.subarray(offset, offset + Math.max(1, Math.floor(rate / SLICES_PER_SECOND)));
        passed += piece.length;
        const wait = since + (passed / rate) * 1000 - performance.now();
        // A client that went away stops the wait: its buffered bytes would otherwise trickle in for minutes.
        if (wait > 0) await sleep(wait, undefined, { signal });
        offset += piece.length;
        yield piece;
      }
    }
  };
}
