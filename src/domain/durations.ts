import { msToNumber } from '@temporalio/common/lib/time.js';

export class InvalidDurationError extends Error {}

/**
 * A duration a person types (`10m`, `90s`, `7d`, `2 hours`), in milliseconds, read by the same parser
 * Temporal reads durations with. A bare number is refused: seconds or milliseconds would be a guess.
 */
export function parseDuration(flag: string, raw: string): number {
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) throw new InvalidDurationError(`${flag} ${JSON.stringify(raw)} needs a unit, e.g. ${text}s, ${text}m, ${text}h or ${text}d`);
  let ms: number;
  try {
    ms = msToNumber(text);
  } catch {
    throw new InvalidDurationError(`${flag} ${JSON.stringify(raw)} is not a duration; write e.g. 90s, 10m, 12h or 7d`);
  }
  if (!Number.isFinite(ms) || ms < 0) throw new InvalidDurationError(`${flag} ${JSON.stringify(raw)} must be a duration of zero or more`);
  return ms;
}

/** Whole seconds, rounded up: a timeout never ends before the time asked for. */
export function durationSeconds(flag: string, raw: string): number {
  return Math.ceil(parseDuration(flag, raw) / 1000);
}
