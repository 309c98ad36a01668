// Request and token rate limiting (token buckets) and transient fault injection, both decided before any work is done.
import { createPrng } from './random';

/** OpenAI's duration format for x-ratelimit-reset-*: "20ms", "1s", "1.5s", "6m0s", "1h2m3s". */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  let seconds = Math.ceil(ms) / 1000;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const secText = `${Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${secText}`;
  if (minutes > 0) return `${minutes}m${secText}`;
  return secText;
}

export interface RateDecision {
  allowed: boolean;
  headers: Record<string, string>;
  /** When refused: milliseconds until one request is available again. */
  retryAfterMs: number;
}

/** A bucket refilling continuously at `perMinute`/60 per second, holding at most `perMinute`/6 (10 s worth, at least 1). */
class Bucket {
  level = 0;
  capacity = 0;
  perMinute = 0;
  private lastMs = 0;

  constructor(private readonly now: () => number) {}

  reset(perMinute: number): void {
    this.perMinute = Math.max(0, perMinute);
    this.capacity = Math.max(1, Math.ceil(this.perMinute / 6));
    this.level = this.capacity;
    this.lastMs = this.now();
  }

  get perMs(): number {
    return this.perMinute / 60_000;
  }

  refill(): void {
    const now = this.now();
    this.level = Math.min(this.capacity, this.level + (now - this.lastMs) * this.perMs);
    this.lastMs = now;
  }

  /** Milliseconds until the level reaches `need`. */
  msUntil(need: number): number {
    return Math.max(0, Math.ceil((need - this.level) / this.perMs));
  }

  /** Milliseconds until the bucket is full again (OpenAI's x-ratelimit-reset-*). */
  resetText(): string {
    return formatResetDuration((this.capacity - this.level) / this.perMs);
  }
}

/**
 * Token bucket refilling continuously at rpm/60 per second with a capacity of rpm/6 (10 s worth, at least 1):
 * a client pacing itself at the limit is never refused, a burst larger than 10 s worth is.
 */
export class RateLimiter {
  private readonly bucket: Bucket;

  constructor(rpm: number, now: () => number = Date.now) {
    this.bucket = new Bucket(now);
    this.setRpm(rpm);
  }

  setRpm(rpm: number): void {
    this.bucket.reset(rpm);
  }

  take(): RateDecision | null {
    const b = this.bucket;
    if (b.perMinute <= 0) return null;
    b.refill();
    const allowed = b.level >= 1;
    if (allowed) b.level -= 1;
    return {
      allowed,
      retryAfterMs: allowed ? 0 : b.msUntil(1),
      headers: {
        'x-ratelimit-limit-requests': String(b.perMinute),
        'x-ratelimit-remaining-requests': String(Math.floor(b.level)),
        'x-ratelimit-reset-requests': b.resetText(),
      },
    };
  }
}

export interface TokenDecision {
  allowed: boolean;
  /** When refused: milliseconds until the request's tokens fit. */
  retryAfterMs: number;
  /** Tokens the bucket held when the request was judged (OpenAI's "Used" is the limit minus this). */
  available: number;
  /** The request asks for more than a whole minute's limit: no wait will let it through. */
  tooLarge: boolean;
}

/**
 * Tokens per minute, as OpenAI counts them: a request is admitted when the bucket (tpm/6, 10 s worth)
 * holds its estimate, prompt tokens + max_tokens, which is taken at once; once answered, the unused part
 * of max_tokens is given back, so each request ends up costing its usage. A request larger than the
 * bucket (but within the minute's limit) is admitted into a full bucket and leaves it in debt.
 */
export class TokenRateLimiter {
  private readonly bucket: Bucket;

  constructor(tpm: number, now: () => number = Date.now) {
    this.bucket = new Bucket(now);
    this.setTpm(tpm);
  }

  get tpm(): number {
    return this.bucket.perMinute;
  }

  setTpm(tpm: number): void {
    this.bucket.reset(tpm);
  }

  /** Null while no limit is set. */
  take(estimate: number): TokenDecision | null {
    const b = this.bucket;
    if (b.perMinute <= 0) return null;
    b.refill();
    const available = b.level;
    if (estimate > b.perMinute) return { allowed: false, retryAfterMs: 0, available, tooLarge: true };
    const need = Math.min(estimate, b.capacity);
    if (b.level < need) return { allowed: false, retryAfterMs: b.msUntil(need), available, tooLarge: false };
    b.level -= estimate;
    return { allowed: true, retryAfterMs: 0, available, tooLarge: false };
  }

  /** Settles an admitted request at what it used (usually gives tokens back). */
  settle(estimate: number, used: number): void {
    if (this.bucket.perMinute <= 0) return;
    this.bucket.refill();
    this.bucket.level = Math.min(this.bucket.capacity, this.bucket.level + estimate - used);
  }

  headers(): Record<string, string> {
    const b = this.bucket;
    if (b.perMinute <= 0) return {};
    b.refill();
    return {
      'x-ratelimit-limit-tokens': String(b.perMinute),
      'x-ratelimit-remaining-tokens': String(Math.max(0, Math.floor(b.level))),
      'x-ratelimit-reset-tokens': b.resetText(),
    };
  }
}

export type FaultKind = 'rate_limit' | 'server_error' | 'unavailable' | 'dropped_connection' | 'slow';
export const FAULT_KINDS: readonly FaultKind[] = ['rate_limit', 'server_error', 'unavailable', 'dropped_connection', 'slow'];

export interface Fault {
  kind: FaultKind;
  /** For 'slow': real milliseconds to wait before answering normally. */
  delayMs: number;
}

/** Draws from a seeded PRNG per request: the same seed and request order give the same faults. */
export class FaultInjector {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = createPrng(seed ^ 0x5eed_fa17);
  }

  decide(faultRate: number): Fault | null {
    if (faultRate <= 0) return null;
    if (this.next() >= faultRate) return null;
    const kind = FAULT_KINDS[Math.floor(this.next() * FAULT_KINDS.length)] ?? 'server_error';
    return { kind, delayMs: kind === 'slow' ? 1000 + Math.floor(this.next() * 2000) : 0 };
  }
}
