import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ChatCaller } from '../../../src/eval/chat';
import { ProviderRateLimiter } from '../../../src/eval/rate-limiter';

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

/** An OpenAI client whose HTTP answers come from a script, recording each request body. */
function scriptedClient(replies: Reply[]) {
  const bodies: Array<Record<string, unknown>> = [];
  const client = new OpenAI({
    apiKey: 'test',
    baseURL: 'http://provider.invalid/v1',
    maxRetries: 0,
    fetch: async (_url: string | URL | Request, init?: RequestInit) => {
      bodies.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
      const reply = replies.shift() ?? replies[replies.length - 1] ?? { status: 500, body: {} };
      return new Response(JSON.stringify(reply.body), { status: reply.status, headers: { 'content-type': 'application/json', ...reply.headers } });
    },
  });
  return { client, bodies };
}

const completion = (content: string, finish = 'stop') => ({
  id: 'c1',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: finish, logprobs: null }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
});
const tooMany = { status: 429, body: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }, headers: { 'retry-after-ms': '5' } };
const request = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }], seed: 7, maxTokens: 32, operation: 'test call' };
const logger = pino({ level: 'silent' });

describe('ChatCaller', () => {
  it('sends temperature 0, the seed and max_completion_tokens, and reads the answer and usage', async () => {
    const { client, bodies } = scriptedClient([{ status: 200, body: completion('Paris') }]);
    const outcome = await new ChatCaller({ client, limiter: new ProviderRateLimiter(), logger }).complete(request);
    expect(outcome).toMatchObject({ ok: true, text: 'Paris', finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 2 }, requests: 1 });
    expect(bodies[0]).toMatchObject({ model: 'm', temperature: 0, seed: 7, max_completion_tokens: 32 });
  });

  it('waits out a 429 and sends the same request again, as a wait and not an error', async () => {
    const { client, bodies } = scriptedClient([tooMany, tooMany, { status: 200, body: completion('ok') }]);
    const limiter = new ProviderRateLimiter();
    const outcome = await new ChatCaller({ client, limiter, logger }).complete(request);
    expect(outcome).toMatchObject({ ok: true, text: 'ok', requests: 3 });
    expect(bodies).toHaveLength(3);
    expect(limiter.stats().pauses).toBe(2);
  });

  it('gives up after the bounded number of 429 waits with a retryable classified failure', async () => {
    const { client } = scriptedClient([tooMany]);
    const error = await new ChatCaller({ client, limiter: new ProviderRateLimiter(), logger, maxRateLimitWaits: 3 }).complete(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(false);
  });

  it('throws refusals classified (non-retryable) and server faults retryable', async () => {
    const unauthorized = scriptedClient([{ status: 401, body: { error: { message: 'bad key', code: 'invalid_api_key' } } }]);
    const e401 = await new ChatCaller({ client: unauthorized.client, limiter: new ProviderRateLimiter(), logger }).complete(request).catch((e: unknown) => e);
    expect((e401 as ApplicationFailure).nonRetryable).toBe(true);
    const broken = scriptedClient([{ status: 500, body: { error: { message: 'boom' } } }]);
    const e500 = await new ChatCaller({ client: broken.client, limiter: new ProviderRateLimiter(), logger }).complete(request).catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(ApplicationFailure);
    expect((e500 as ApplicationFailure).nonRetryable).toBe(false);
  });

  it('sends the same request again after a transient fault instead of failing the batch', async () => {
    const { client, bodies } = scriptedClient([
      { status: 503, body: { error: { message: 'overloaded' } } },
      { status: 200, body: completion('fine') },
    ]);
    const outcome = await new ChatCaller({ client, limiter: new ProviderRateLimiter(), logger }).complete(request);
    expect(outcome).toMatchObject({ ok: true, text: 'fine', requests: 2 });
    expect(bodies).toHaveLength(2);
  });

  it('stops waiting out a transient fault as soon as the request is cancelled', async () => {
    const { client } = scriptedClient([{ status: 503, body: { error: { message: 'overloaded' } }, headers: { 'retry-after-ms': '10000' } }]);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('cancelled by test')), 50);
    const error = await new ChatCaller({ client, limiter: new ProviderRateLimiter(), logger }).complete(request, controller.signal).catch((e: unknown) => e);
    expect((error as Error).message).toBe('cancelled by test');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('hands a fault that persists past the bounded in-place retries to Temporal as retryable', async () => {
    const { client, bodies } = scriptedClient([{ status: 500, body: { error: { message: 'boom' } }, headers: { 'retry-after-ms': '1' } }]);
    const error = await new ChatCaller({ client, limiter: new ProviderRateLimiter(), logger, maxTransientRetries: 2 }).complete(request).catch((e: unknown) => e);
    expect((error as ApplicationFailure).nonRetryable).toBe(false);
    expect(bodies).toHaveLength(3);
  });

  it('records an example too long for the model as a failed answer instead of failing the run', async () => {
    const { client } = scriptedClient([{ status: 400, body: { error: { message: 'too long', code: 'context_length_exceeded', param: 'messages' } } }]);
    const outcome = await new ChatCaller({ client, limiter: new ProviderRateLimiter(), logger }).complete(request);
    expect(outcome).toMatchObject({ ok: false, error: { kind: 'invalid_request', code: 'context_length_exceeded' } });
  });

  it('falls back to max_tokens once for a provider that does not know max_completion_tokens', async () => {
    const { client, bodies } = scriptedClient([
      { status: 400, body: { error: { message: "Unrecognized request argument supplied: max_completion_tokens", param: 'max_completion_tokens', code: 'unsupported_parameter' } } },
      { status: 200, body: completion('a') },
      { status: 200, body: completion('b') },
    ]);
    const caller = new ChatCaller({ client, limiter: new ProviderRateLimiter(), logger });
    await caller.complete(request);
    await caller.complete(request);
    expect(bodies.map((b) => ('max_tokens' in b ? 'max_tokens' : 'max_completion_tokens'))).toEqual(['max_completion_tokens', 'max_tokens', 'max_tokens']);
  });

  it('marks a filtered answer as failed', async () => {
    const { client } = scriptedClient([{ status: 200, body: completion('', 'content_filter') }]);
    const outcome = await new ChatCaller({ client, limiter: new ProviderRateLimiter(), logger }).complete(request);
    expect(outcome).toMatchObject({ ok: false, error: { kind: 'content_filter' } });
  });
});
