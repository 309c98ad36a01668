import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { approxPromptTokens, parseResetDuration, ProviderRateLimiter, readRateLimitHeaders, type TokenEstimate } from '../../../src/eval/rate-limiter';

describe('x-ratelimit-reset duration parsing', () => {
  it.each<[string, number | undefined]>([
    ['20ms', 20],
    ['1s', 1000],
    ['1.5s', 1500],
    ['6m0s', 360_000],
    ['1h2m3s', 3_723_000],
    ['2', 2000],
    ['soon', undefined],
    ['5x', undefined],
  ])('reads %s as %s ms', (text, ms) => {
    expect(parseResetDuration(text)).toBe(ms);
  });

  it('reads the request and token figures from headers', () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': '600',
      'x-ratelimit-remaining-requests': '12',
      'x-ratelimit-reset-requests': '8.8s',
      'x-ratelimit-limit-tokens': '150000',
      'x-ratelimit-remaining-tokens': '149000',
      'x-ratelimit-reset-tokens': '400ms',
    });
    expect(readRateLimitHeaders(headers)).toEqual({
      requests: { limit: 600, remaining: 12, resetMs: 8800 },
      tokens: { limit: 150_000, remaining: 149_000, resetMs: 400 },
    });
    const none = { limit: undefined, remaining: undefined, resetMs: undefined };
    expect(readRateLimitHeaders(new Headers())).toEqual({ requests: none, tokens: none });
  });
});

describe('ProviderRateLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const figures = (remaining: number, limit?: number, reset?: string) =>
    new Headers({
      'x-ratelimit-remaining-requests': String(remaining),
      ...(limit !== undefined ? { 'x-ratelimit-limit-requests': String(limit) } : {}),
      ...(reset ? { 'x-ratelimit-reset-requests': reset } : {}),
    });

  it('grants at once while the provider has said nothing', async () => {
    const limiter = new ProviderRateLimiter();
    const permits = await Promise.all(Array.from({ length: 10 }, () => limiter.acquire()));
    expect(permits.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('spends the remaining budget, then waits for the refill the per-minute limit implies', async () => {
    const limiter = new ProviderRateLimiter();
    const first = await limiter.acquire();
    // 60 rpm = one request per second; 2 left after the first request.
    limiter.observe(first, figures(2, 60, '58s'));
    const granted: number[] = [];
    const pending = [1, 2, 3, 4].map((i) => limiter.acquire().then(() => granted.push(i)));
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(990);
    expect(granted).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(20);
    expect(granted).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(pending);
    expect(granted).toEqual([1, 2, 3, 4]);
    expect(limiter.stats()).toMatchObject({ granted: 5, lastRemaining: 2 });
  });

  it('without a limit header, waits for the reset once the budget is spent', async () => {
    const limiter = new ProviderRateLimiter();
    const first = await limiter.acquire();
    limiter.observe(first, figures(0, undefined, '2s'));
    let granted = false;
    const next = limiter.acquire().then(() => (granted = true));
    await vi.advanceTimersByTimeAsync(1900);
    expect(granted).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    await next;
    expect(granted).toBe(true);
  });

  it('ignores figures from a response older than the ones it has', async () => {
    const limiter = new ProviderRateLimiter();
    const a = await limiter.acquire();
    const b = await limiter.acquire();
    limiter.observe(b, figures(0, undefined, '10s'));
    limiter.observe(a, figures(100, undefined, '10s'));
    let granted = false;
    void limiter.acquire().then(() => (granted = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(granted).toBe(false);
  });

  it('forgets the figures once a newer response carries none (the provider stopped limiting)', async () => {
    const limiter = new ProviderRateLimiter();
    const a = await limiter.acquire();
    limiter.observe(a, figures(0, 30, '20s'));
    const waiting = limiter.acquire();
    let granted = false;
    void waiting.then(() => (granted = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(granted).toBe(false);
    // The answer to a request granted before the limit was seen (seq 2 is newer than seq 1's figures).
    limiter.observe({ seq: 2, grantedAt: Date.now() }, new Headers());
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toBe(true);
  });

  it('pauses every caller after a 429 for the retry-after, and lets an aborted waiter go', async () => {
    const limiter = new ProviderRateLimiter();
    limiter.pause(500);
    const controller = new AbortController();
    const order: string[] = [];
    const a = limiter.acquire().then(() => order.push('a'));
    const b = limiter.acquire(controller.signal).then(
      () => order.push('b'),
      () => order.push('b aborted'),
    );
    const retried = limiter.acquire(undefined, { first: true }).then(() => order.push('retried'));
    controller.abort(new Error('stop'));
    await vi.advanceTimersByTimeAsync(400);
    expect(order).toEqual(['b aborted']);
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([a, b, retried]);
    expect(order).toEqual(['b aborted', 'retried', 'a']);
    expect(limiter.stats().pauses).toBe(1);
  });
});

describe('ProviderRateLimiter token accounting', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Plenty of requests left; the token figures are what the test is about. */
  const tokenFigures = (remaining: number, limit?: number, reset?: string) =>
    new Headers({
      'x-ratelimit-limit-requests': '10000',
      'x-ratelimit-remaining-requests': '5000',
      'x-ratelimit-remaining-tokens': String(remaining),
      ...(limit !== undefined ? { 'x-ratelimit-limit-tokens': String(limit) } : {}),
      ...(reset ? { 'x-ratelimit-reset-tokens': reset } : {}),
    });
  const cost = (total: number): TokenEstimate => ({ promptRaw: 0, total });

  it('holds a request until the token budget has refilled for its estimate, though requests remain', async () => {
    const limiter = new ProviderRateLimiter();
    const first = await limiter.acquire(undefined, { tokens: cost(100) });
    // 6000 tokens per minute = 100 per second; 150 left after the first request.
    limiter.observe(first, tokenFigures(150, 6000, '1s'));
    const granted: number[] = [];
    const pending = [1, 2].map((i) => limiter.acquire(undefined, { tokens: cost(100) }).then(() => granted.push(i)));
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toEqual([1]);
    // 50 left: 100 need another 50 tokens, half a second of refill.
    await vi.advanceTimersByTimeAsync(480);
    expect(granted).toEqual([1]);
    await vi.advanceTimersByTimeAsync(40);
    await Promise.all(pending);
    expect(granted).toEqual([1, 2]);
    expect(limiter.stats()).toMatchObject({ granted: 3, tokensReserved: 300, lastRemainingTokens: 150 });
  });

  it('counts the tokens reserved by requests still in flight against the newest figures', async () => {
    const limiter = new ProviderRateLimiter();
    const p1 = await limiter.acquire(undefined, { tokens: cost(100) });
    // No limit header: no refill, only the figure and its reset.
    limiter.observe(p1, tokenFigures(300, undefined, '1m'));
    const p2 = await limiter.acquire(undefined, { tokens: cost(100) });
    const p3 = await limiter.acquire(undefined, { tokens: cost(100) });
    await limiter.acquire(undefined, { tokens: cost(100) });
    let fifthGranted = false;
    const fifth = limiter.acquire(undefined, { tokens: cost(100) }).then(() => (fifthGranted = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(fifthGranted).toBe(false);
    // p2's answer: 250 left once p2 settled below its reservation; p3 and p4 are still in flight, 200 of ours to count.
    limiter.observe(p2, tokenFigures(250, undefined, '1m'));
    await vi.advanceTimersByTimeAsync(0);
    expect(fifthGranted).toBe(false);
    // p3's answer: still 250 left, and only p4 (100) in flight.
    limiter.observe(p3, tokenFigures(250, undefined, '1m'));
    await vi.advanceTimersByTimeAsync(0);
    await fifth;
    expect(fifthGranted).toBe(true);
  });

  it('lets a request larger than the whole token bucket go once the bucket is full, instead of never', async () => {
    const limiter = new ProviderRateLimiter();
    const first = await limiter.acquire(undefined, { tokens: cost(10) });
    // 60,000 per minute = 1 per ms; the bucket holds 0 + 1 × 1000 = 1000 tokens.
    limiter.observe(first, tokenFigures(0, 60_000, '1s'));
    let granted = false;
    const big = limiter.acquire(undefined, { tokens: cost(5000) }).then(() => (granted = true));
    await vi.advanceTimersByTimeAsync(950);
    expect(granted).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    await big;
    expect(granted).toBe(true);
  });

  it('estimates prompt tokens + max_tokens and corrects the prompt part by the usage answers report', async () => {
    const limiter = new ProviderRateLimiter();
    const messages = [
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: 'x'.repeat(400) },
    ];
    const raw = approxPromptTokens(messages);
    expect(raw).toBe(Math.ceil(415 / 4) + 4 * 2 + 3);
    const before = limiter.estimate(messages, 64);
    expect(before).toEqual({ promptRaw: raw, total: raw + 64 });
    // The provider counts this prompt as twice the character estimate.
    for (let i = 0; i < 30; i++) {
      const permit = await limiter.acquire(undefined, { tokens: limiter.estimate(messages, 64) });
      limiter.settle(permit, { promptTokens: 2 * raw, completionTokens: 10 });
    }
    const after = limiter.estimate(messages, 64);
    expect(after.total - 64).toBeGreaterThan(1.95 * raw);
    expect(after.total - 64).toBeLessThanOrEqual(2 * raw + 1);
    expect(limiter.stats().tokensUsed).toBe(30 * (2 * raw + 10));
  });

  it('stops counting tokens once a newer response carries no token figures', async () => {
    const limiter = new ProviderRateLimiter();
    const a = await limiter.acquire(undefined, { tokens: cost(100) });
    limiter.observe(a, tokenFigures(0, undefined, '30s'));
    let granted = false;
    void limiter.acquire(undefined, { tokens: cost(100) }).then(() => (granted = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(granted).toBe(false);
    limiter.observe({ seq: 2, grantedAt: Date.now() }, new Headers({ 'x-ratelimit-remaining-requests': '10' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toBe(true);
  });
});
