import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseResetDuration, ProviderRateLimiter, readRateLimitHeaders } from '../../../src/eval/rate-limiter';

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

  it('reads the request figures from headers', () => {
    const headers = new Headers({ 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '12', 'x-ratelimit-reset-requests': '8.8s' });
    expect(readRateLimitHeaders(headers)).toEqual({ limit: 600, remaining: 12, resetMs: 8800 });
    expect(readRateLimitHeaders(new Headers())).toEqual({ limit: undefined, remaining: undefined, resetMs: undefined });
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
