// Request rate limiting (token bucket) and transient fault injection, both decided before any work is done.
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

/**
 * Token bucket refilling continuously at rpm/60 per second with a capacity of rpm/6 (10 s worth, at least 1):
 * a client pacing itself at the limit is never refused, a burst larger than 10 s worth is.
 */
export class RateLimiter {
  private tokens = 0;
  private capacity = 0;
  private lastMs = 0;
  private rpm = 0;

  constructor(rpm: number, private readonly now: () => number = Date.now) {
    this.setRpm(rpm);
  }

  setRpm(rpm: number): void {
    this.rpm = Math.max(0, rpm);
    this.capacity = Math.max(1, Math.ceil(this.rpm / 6));
    this.tokens = this.capacity;
    this.lastMs = this.now();
  }

  take(): RateDecision | null {
    if (this.rpm <= 0) return null;
    const now = this.now();
    const perMs = this.rpm / 60_000;
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.lastMs) * perMs);
    this.lastMs = now;
    const allowed = this.tokens >= 1;
    if (allowed) this.tokens -= 1;
    const retryAfterMs = allowed ? 0 : Math.ceil((1 - this.tokens) / perMs);
    return {
      allowed,
      retryAfterMs,
      headers: {
        'x-ratelimit-limit-requests': String(this.rpm),
        'x-ratelimit-remaining-requests': String(Math.floor(this.tokens)),
        'x-ratelimit-reset-requests': formatResetDuration((this.capacity - this.tokens) / perMs),
      },
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
