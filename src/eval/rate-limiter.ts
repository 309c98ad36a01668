import type { Logger } from 'pino';

/**
 * Parses OpenAI's x-ratelimit-reset-* durations ("20ms", "1s", "1.5s", "6m0s", "1h2m3s"); a bare
 * number is seconds. Returns milliseconds, or undefined when the text is not a duration.
 */
export function parseResetDuration(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(match[1]) * (unit[match[2] as string] as number);
    consumed += match[0].length;
  }
  return consumed === trimmed.length && consumed > 0 ? total : undefined;
}

/** What the provider said about its request budget in one response. */
export interface RateLimitHeaders {
  /** Requests per minute (OpenAI's x-ratelimit-limit-requests). */
  limit: number | undefined;
  remaining: number | undefined;
  /** Milliseconds until the budget is full again. */
  resetMs: number | undefined;
}

export function readRateLimitHeaders(headers: Headers | undefined | null): RateLimitHeaders {
  const num = (name: string): number | undefined => {
    const raw = headers?.get(name);
    if (raw === null || raw === undefined || raw.trim() === '') return undefined;
    const value = Number(raw);
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  return {
    limit: num('x-ratelimit-limit-requests'),
    remaining: num('x-ratelimit-remaining-requests'),
    resetMs: parseResetDuration(headers?.get('x-ratelimit-reset-requests')),
  };
}

/** A granted request: its place in the grant order and when it was sent. */
export interface RatePermit {
  seq: number;
  grantedAt: number;
}

interface Snapshot {
  /** Grant sequence of the request whose response carried these figures. */
  seq: number;
  /** When that request was sent, ≈ when the provider counted it. */
  at: number;
  remaining: number;
  /** Requests per ms the budget refills at, when the provider told us its per-minute limit. */
  refillPerMs: number | undefined;
  /** Largest budget the provider keeps (remaining + what refills before the reset). */
  capacity: number;
  resetAt: number | undefined;
}

export interface RateLimiterOptions {
  logger?: Logger;
  now?: () => number;
  /** Forget a snapshot that no newer response has confirmed for this long, so lost responses cannot stall us. */
  staleAfterMs?: number;
}

export interface RateLimiterStats {
  granted: number;
  /** Grants that had to wait for budget or a pause. */
  delayed: number;
  /** 429 pauses applied. */
  pauses: number;
  lastRemaining: number | null;
}

interface Waiter {
  resolve: (permit: RatePermit) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  queuedAt: number;
}

/**
 * A per-process request limiter that follows the provider's own figures instead of a configured
 * rate. Model: the provider's budget is a bucket; each response says how much was left when that
 * request was counted (`remaining`), the per-minute limit (so the refill rate is limit/60 s) and
 * how long until the bucket is full (`reset`, so capacity ≈ remaining + refill × reset). The
 * limiter estimates the budget now as min(capacity, remaining + refill × elapsed) minus the
 * requests it granted after the one that carried the figures, and grants in FIFO order while that
 * estimate is ≥ 1. Without a limit header it spends `remaining` and then waits for the reset. A 429
 * pauses every caller for the provider's retry-after. With no headers at all it only applies pauses,
 * so concurrency alone bounds the load.
 */
export class ProviderRateLimiter {
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private readonly staleAfterMs: number;
  private readonly queue: Waiter[] = [];
  private snapshot: Snapshot | null = null;
  private grantSeq = 0;
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly counters = { granted: 0, delayed: 0, pauses: 0 };

  constructor(options: RateLimiterOptions = {}) {
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
  }

  /** Waits for a slot; `first` puts a request that was just refused ahead of new ones. */
  acquire(signal?: AbortSignal, options: { first?: boolean } = {}): Promise<RatePermit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.queue.length === 0 && this.admissible(this.now())) return Promise.resolve(this.grant(false));
    return new Promise<RatePermit>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        queuedAt: this.now(),
        onAbort: () => {
          const at = this.queue.indexOf(waiter);
          if (at >= 0) this.queue.splice(at, 1);
          reject(signal?.reason);
          this.pump();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      if (options.first) this.queue.unshift(waiter);
      else this.queue.push(waiter);
      this.pump();
    });
  }

  /** Records the budget figures a response carried; older responses than the last one seen are ignored. */
  observe(permit: RatePermit, headers: Headers | undefined | null): void {
    const figures = readRateLimitHeaders(headers);
    if (this.snapshot && permit.seq < this.snapshot.seq) return;
    if (figures.remaining === undefined) {
      // A newer response without figures: the provider stopped reporting a limit, so the old one no longer holds.
      if (this.snapshot) {
        this.snapshot = null;
        this.pump();
      }
      return;
    }
    const refillPerMs = figures.limit !== undefined && figures.limit > 0 ? figures.limit / 60_000 : undefined;
    const capacity =
      refillPerMs !== undefined && figures.resetMs !== undefined
        ? figures.remaining + refillPerMs * figures.resetMs
        : (figures.limit ?? Number.POSITIVE_INFINITY);
    this.snapshot = {
      seq: permit.seq,
      at: permit.grantedAt,
      remaining: figures.remaining,
      refillPerMs,
      capacity: Math.max(capacity, figures.remaining),
      resetAt: figures.resetMs !== undefined ? permit.grantedAt + figures.resetMs : undefined,
    };
    this.pump();
  }

  /** After a 429: nobody sends until the provider's retry-after has passed. */
  pause(ms: number): void {
    const until = this.now() + Math.max(0, ms);
    if (until > this.pausedUntil) {
      this.pausedUntil = until;
      this.counters.pauses++;
      this.logger?.info({ pauseMs: Math.round(ms), queued: this.queue.length }, 'provider rate limit reached; pausing requests');
    }
    this.pump();
  }

  stats(): RateLimiterStats {
    return { ...this.counters, lastRemaining: this.snapshot?.remaining ?? null };
  }

  /** Estimated requests the provider would accept now. */
  private budget(now: number): number {
    const s = this.snapshot;
    if (!s) return Number.POSITIVE_INFINITY;
    const unaccounted = this.grantSeq - s.seq;
    if (s.refillPerMs !== undefined) {
      return Math.min(s.capacity, s.remaining + s.refillPerMs * Math.max(0, now - s.at)) - unaccounted;
    }
    // Without a refill rate, a passed reset is a fresh start whose size the next response will tell.
    if (s.resetAt !== undefined && now >= s.resetAt) return Number.POSITIVE_INFINITY;
    return s.remaining - unaccounted;
  }

  private admissible(now: number): boolean {
    if (this.snapshot && now - this.snapshot.at > this.staleAfterMs && (this.snapshot.resetAt ?? 0) < now) this.snapshot = null;
    return now >= this.pausedUntil && this.budget(now) >= 1;
  }

  /** When the head of the queue may go, if nothing new is observed before then. */
  private nextWakeAt(now: number): number {
    if (now < this.pausedUntil) return this.pausedUntil;
    const s = this.snapshot;
    if (!s) return now;
    const budget = this.budget(now);
    let wake = s.at + this.staleAfterMs;
    if (s.refillPerMs !== undefined && s.capacity - (this.grantSeq - s.seq) >= 1) {
      wake = Math.min(wake, now + (1 - budget) / s.refillPerMs);
    } else if (s.resetAt !== undefined) {
      wake = Math.min(wake, s.resetAt);
    }
    return Math.max(now + 1, wake);
  }

  private grant(delayed: boolean): RatePermit {
    this.grantSeq++;
    this.counters.granted++;
    if (delayed) this.counters.delayed++;
    return { seq: this.grantSeq, grantedAt: this.now() };
  }

  private pump(): void {
    const now = this.now();
    while (this.queue.length > 0 && this.admissible(now)) {
      const waiter = this.queue.shift() as Waiter;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.grant(true));
    }
    if (this.queue.length === 0) {
      this.clearTimer();
      return;
    }
    const wakeAt = this.nextWakeAt(now);
    if (this.timer && this.timerAt <= wakeAt) return;
    this.clearTimer();
    this.timerAt = wakeAt;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, wakeAt - now);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}
