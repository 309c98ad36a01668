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

/** One budget's figures in one response: OpenAI's x-ratelimit-{limit,remaining,reset}-{requests,tokens}. */
export interface BudgetFigures {
  /** Per minute. */
  limit: number | undefined;
  remaining: number | undefined;
  /** Milliseconds until the budget is full again. */
  resetMs: number | undefined;
}

/** What the provider said about its request and token budgets in one response. */
export interface RateLimitHeaders {
  requests: BudgetFigures;
  tokens: BudgetFigures;
}

export function readRateLimitHeaders(headers: Headers | undefined | null): RateLimitHeaders {
  const num = (name: string): number | undefined => {
    const raw = headers?.get(name);
    if (raw === null || raw === undefined || raw.trim() === '') return undefined;
    const value = Number(raw);
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  const figures = (unit: 'requests' | 'tokens'): BudgetFigures => ({
    limit: num(`x-ratelimit-limit-${unit}`),
    remaining: num(`x-ratelimit-remaining-${unit}`),
    resetMs: parseResetDuration(headers?.get(`x-ratelimit-reset-${unit}`)),
  });
  return { requests: figures('requests'), tokens: figures('tokens') };
}

/** A request's token cost as the provider counts it before answering: prompt tokens + max_tokens. */
export interface TokenEstimate {
  /** Prompt tokens by the character rule, before the correction learnt from usage. */
  promptRaw: number;
  /** Prompt tokens (corrected) + max_tokens: what the limiter reserves. */
  total: number;
}

/** Prompt tokens by OpenAI's rule of thumb: about 4 characters a token, plus a few per message. */
export function approxPromptTokens(messages: ReadonlyArray<{ content?: unknown }>): number {
  let chars = 0;
  for (const m of messages) chars += typeof m.content === 'string' ? m.content.length : JSON.stringify(m.content ?? '').length;
  return Math.ceil(chars / 4) + 4 * messages.length + 3;
}

/** A granted request: its place in the grant order, when it was sent, and the tokens reserved for it. */
export interface RatePermit {
  seq: number;
  grantedAt: number;
  /** Tokens reserved for it (0 when the caller gave no estimate). */
  tokens?: number;
  /** Tokens reserved by all grants up to and including this one. */
  tokensThrough?: number;
  /** Its prompt's character estimate, to learn from its usage. */
  promptRaw?: number;
}

interface Snapshot {
  /** Grant sequence of the request whose response carried these figures. */
  seq: number;
  /** Units (requests or reserved tokens) granted up to and including that request. */
  spentThrough: number;
  /** When the figures held: the request's send time for requests, its answer for tokens (settled then). */
  at: number;
  remaining: number;
  /** Units per ms the budget refills at, when the provider told us its per-minute limit. */
  refillPerMs: number | undefined;
  /** Largest budget the provider keeps (remaining + what refills before the reset). */
  capacity: number;
  resetAt: number | undefined;
}

/** One provider budget (requests or tokens) as the limiter sees it. */
class Budget {
  snapshot: Snapshot | null = null;
  /** Units granted so far in this process. */
  spent = 0;

  constructor(private readonly staleAfterMs: number) {}

  /** Takes a response's figures; false when they change nothing (older than what we have). */
  observe(seq: number, spentThrough: number, at: number, figures: BudgetFigures): boolean {
    if (this.snapshot && seq < this.snapshot.seq) return false;
    if (figures.remaining === undefined) {
      // A newer response without figures: the provider stopped reporting this limit, so the old one no longer holds.
      const had = this.snapshot !== null;
      this.snapshot = null;
      return had;
    }
    const refillPerMs = figures.limit !== undefined && figures.limit > 0 ? figures.limit / 60_000 : undefined;
    const capacity =
      refillPerMs !== undefined && figures.resetMs !== undefined
        ? figures.remaining + refillPerMs * figures.resetMs
        : (figures.limit ?? Number.POSITIVE_INFINITY);
    this.snapshot = {
      seq,
      spentThrough,
      at,
      remaining: figures.remaining,
      refillPerMs,
      capacity: Math.max(capacity, figures.remaining),
      resetAt: figures.resetMs !== undefined ? at + figures.resetMs : undefined,
    };
    return true;
  }

  forgetIfStale(now: number): void {
    const s = this.snapshot;
    if (s && now - s.at > this.staleAfterMs && (s.resetAt ?? 0) < now) this.snapshot = null;
  }

  /** Estimated units the provider would accept now. */
  available(now: number): number {
    const s = this.snapshot;
    if (!s) return Number.POSITIVE_INFINITY;
    const unaccounted = this.spent - s.spentThrough;
    if (s.refillPerMs !== undefined) {
      return Math.min(s.capacity, s.remaining + s.refillPerMs * Math.max(0, now - s.at)) - unaccounted;
    }
    // Without a refill rate, a passed reset is a fresh start whose size the next response will tell.
    if (s.resetAt !== undefined && now >= s.resetAt) return Number.POSITIVE_INFINITY;
    return s.remaining - unaccounted;
  }

  /** What a request of `cost` units waits for: all of it, or a full bucket when it is larger than the bucket. */
  need(cost: number): number {
    return Math.min(cost, this.snapshot?.capacity ?? Number.POSITIVE_INFINITY);
  }

  /** When `cost` units fit, if nothing new is observed before then. */
  wakeAt(now: number, cost: number): number {
    const s = this.snapshot;
    if (!s) return now;
    const short = this.need(cost) - this.available(now);
    if (short <= 0) return now;
    let wake = s.at + this.staleAfterMs;
    if (s.refillPerMs !== undefined && s.capacity - (this.spent - s.spentThrough) >= this.need(cost)) {
      wake = Math.min(wake, now + short / s.refillPerMs);
    } else if (s.resetAt !== undefined) {
      wake = Math.min(wake, s.resetAt);
    }
    return wake;
  }
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
  lastRemainingTokens: number | null;
  /** Tokens reserved by grants (estimates: prompt + max_tokens). */
  tokensReserved: number;
  /** Tokens the answers reported using (usage). */
  tokensUsed: number;
  /** Learnt ratio of the provider's prompt tokens to the character estimate. */
  promptTokenRatio: number;
}

interface Waiter {
  tokens: number;
  promptRaw: number | undefined;
  resolve: (permit: RatePermit) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  queuedAt: number;
}

/**
 * A per-process limiter that follows the provider's own figures instead of a configured rate, for
 * requests and for tokens alike. Model: each budget is a bucket; each response says how much was left
 * when it was counted (`remaining`), the per-minute limit (so the refill rate is limit/60 s) and how
 * long until the bucket is full (`reset`, so capacity ≈ remaining + refill × reset). The limiter
 * estimates each budget now as min(capacity, remaining + refill × elapsed) minus what it granted after
 * the response that carried the figures, and grants in FIFO order while both budgets hold the request
 * (1 request; its estimated tokens, prompt + max_tokens, or a full bucket for a larger request).
 * Without a limit header it spends `remaining` and then waits for the reset. The prompt estimate is
 * corrected by the ratio the answers' `usage` shows. A 429 pauses every caller for the provider's
 * retry-after. With no headers at all it only applies pauses, so concurrency alone bounds the load.
 */
export class ProviderRateLimiter {
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private readonly queue: Waiter[] = [];
  private readonly requests: Budget;
  private readonly tokens: Budget;
  private grantSeq = 0;
  private pausedUntil = 0;
  private promptRatio = 1;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly counters = { granted: 0, delayed: 0, pauses: 0, tokensUsed: 0 };

  constructor(options: RateLimiterOptions = {}) {
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    const staleAfterMs = options.staleAfterMs ?? 30_000;
    this.requests = new Budget(staleAfterMs);
    this.tokens = new Budget(staleAfterMs);
  }

  /** The tokens a chat request will be charged before it is answered, with the prompt part corrected from usage. */
  estimate(messages: ReadonlyArray<{ content?: unknown }>, maxTokens: number): TokenEstimate {
    const promptRaw = approxPromptTokens(messages);
    return { promptRaw, total: Math.ceil(promptRaw * this.promptRatio) + maxTokens };
  }

  /** Waits for a slot; `first` puts a request that was just refused ahead of new ones. */
  acquire(signal?: AbortSignal, options: { first?: boolean; tokens?: TokenEstimate } = {}): Promise<RatePermit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const cost = options.tokens?.total ?? 0;
    const promptRaw = options.tokens?.promptRaw;
    if (this.queue.length === 0 && this.admissible(this.now(), cost)) return Promise.resolve(this.grant(false, cost, promptRaw));
    return new Promise<RatePermit>((resolve, reject) => {
      const waiter: Waiter = {
        tokens: cost,
        promptRaw,
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
    const changedRequests = this.requests.observe(permit.seq, permit.seq, permit.grantedAt, figures.requests);
    const changedTokens = this.tokens.observe(permit.seq, permit.tokensThrough ?? this.tokens.spent, this.now(), figures.tokens);
    if (changedRequests || changedTokens) this.pump();
  }

  /** Learns from an answer's usage how the provider counts prompt tokens against the character estimate. */
  settle(permit: RatePermit, usage: { promptTokens: number; completionTokens: number } | undefined): void {
    if (!usage) return;
    this.counters.tokensUsed += usage.promptTokens + usage.completionTokens;
    if (permit.promptRaw === undefined || permit.promptRaw <= 0 || !(usage.promptTokens > 0)) return;
    const sample = Math.min(5, Math.max(0.2, usage.promptTokens / permit.promptRaw));
    this.promptRatio += 0.2 * (sample - this.promptRatio);
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
    return {
      granted: this.counters.granted,
      delayed: this.counters.delayed,
      pauses: this.counters.pauses,
      lastRemaining: this.requests.snapshot?.remaining ?? null,
      lastRemainingTokens: this.tokens.snapshot?.remaining ?? null,
      tokensReserved: this.tokens.spent,
      tokensUsed: this.counters.tokensUsed,
      promptTokenRatio: this.promptRatio,
    };
  }

  private admissible(now: number, cost: number): boolean {
    this.requests.forgetIfStale(now);
    this.tokens.forgetIfStale(now);
    if (now < this.pausedUntil) return false;
    if (this.requests.available(now) < 1) return false;
    return cost <= 0 || this.tokens.available(now) >= this.tokens.need(cost);
  }

  /** When the head of the queue may go, if nothing new is observed before then. */
  private nextWakeAt(now: number, cost: number): number {
    if (now < this.pausedUntil) return this.pausedUntil;
    const wake = Math.max(this.requests.wakeAt(now, 1), cost > 0 ? this.tokens.wakeAt(now, cost) : now);
    return Math.max(now + 1, wake);
  }

  private grant(delayed: boolean, cost: number, promptRaw?: number): RatePermit {
    this.grantSeq++;
    this.requests.spent++;
    this.tokens.spent += cost;
    this.counters.granted++;
    if (delayed) this.counters.delayed++;
    const permit: RatePermit = { seq: this.grantSeq, grantedAt: this.now(), tokens: cost, tokensThrough: this.tokens.spent };
    if (promptRaw !== undefined) permit.promptRaw = promptRaw;
    return permit;
  }

  private pump(): void {
    const now = this.now();
    while (this.queue.length > 0 && this.admissible(now, (this.queue[0] as Waiter).tokens)) {
      const waiter = this.queue.shift() as Waiter;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.grant(true, waiter.tokens, waiter.promptRaw));
    }
    if (this.queue.length === 0) {
      this.clearTimer();
      return;
    }
    const wakeAt = this.nextWakeAt(now, (this.queue[0] as Waiter).tokens);
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
