import { setTimeout as delay } from 'node:timers/promises';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Logger } from 'pino';
import { classifyProviderError, providerErrorFacts, retryAfterMs } from '../provider/errors';
import type { CandidateAnswer, PromptMessage } from '../domain/eval/types';
import type { ProviderRateLimiter } from './rate-limiter';

/** What the chat caller reports to the worker's metrics: each HTTP attempt's outcome and each answer's tokens. */
export interface EvalMetricsSink {
  evalRequest(outcome: 'ok' | 'rate_limited' | 'transient' | 'error'): void;
  evalTokens(promptTokens: number, completionTokens: number): void;
}

/** 400s that concern one example's content, so the example is marked failed and the run goes on. */
const EXAMPLE_LEVEL_CODES = new Set([
  'context_length_exceeded',
  'string_above_max_length',
  'content_filter',
  'content_policy_violation',
  'invalid_prompt',
]);

/** 429 waits per request before it gives up and lets Temporal retry the activity. */
export const DEFAULT_MAX_RATE_LIMIT_WAITS = 8;

/**
 * Transient faults (connection, 408, 409, 5xx) tried again in place per request before the batch
 * activity fails. An eval is thousands of independent read-only requests: failing a whole batch
 * (and every other answer in flight) for one dropped connection would cost far more than it saves.
 * Past this bound Temporal's retry policy takes over, as everywhere else.
 */
export const DEFAULT_MAX_TRANSIENT_RETRIES = 3;

function isTransient(err: unknown): boolean {
  if (err instanceof OpenAI.APIUserAbortError) return false;
  if (err instanceof OpenAI.APIConnectionError) return true;
  if (!(err instanceof OpenAI.APIError) || err.status === undefined) return false;
  return err.status === 408 || err.status === 409 || err.status >= 500;
}

export interface ChatRequest {
  model: string;
  messages: ReadonlyArray<PromptMessage | { role: 'system' | 'user'; content: string }>;
  seed: number;
  maxTokens: number;
  /** Names the call in errors and logs, e.g. "chat completion for example 12 (gpt-4o-mini)". */
  operation: string;
}

export type ChatOutcome =
  | {
      ok: true;
      text: string;
      finishReason: string | null;
      usage: { promptTokens: number; completionTokens: number } | undefined;
      latencyMs: number;
      /** HTTP requests made, 429s included. */
      requests: number;
    }
  | { ok: false; error: NonNullable<CandidateAnswer['error']>; latencyMs: number; requests: number };

export interface ChatCallerOptions {
  client: OpenAI;
  limiter: ProviderRateLimiter;
  logger: Logger;
  maxRateLimitWaits?: number;
  maxTransientRetries?: number;
  /** Wait after a 429 that names no retry-after, doubled per wait (capped at 30 s). */
  defaultRateLimitWaitMs?: number;
  metrics?: EvalMetricsSink | undefined;
}

/**
 * Chat completions for evaluation: temperature 0, seeded, through the shared rate limiter. A 429 is
 * a wait, not a failure: the limiter pauses everyone for the provider's retry-after and the same
 * request goes again (at most maxRateLimitWaits times). Anything else is thrown classified for
 * Temporal, except refusals that concern one example's content, which come back as a failed answer.
 */
export class ChatCaller {
  private readonly client: OpenAI;
  private readonly limiter: ProviderRateLimiter;
  private readonly logger: Logger;
  private readonly maxRateLimitWaits: number;
  private readonly maxTransientRetries: number;
  private readonly defaultRateLimitWaitMs: number;
  private readonly metrics: EvalMetricsSink | undefined;
  /** Some OpenAI-compatible servers predate max_completion_tokens; learnt once per process. */
  private tokenParam: 'max_completion_tokens' | 'max_tokens' = 'max_completion_tokens';

  constructor(options: ChatCallerOptions) {
    this.client = options.client;
    this.limiter = options.limiter;
    this.logger = options.logger;
    this.maxRateLimitWaits = options.maxRateLimitWaits ?? DEFAULT_MAX_RATE_LIMIT_WAITS;
    this.maxTransientRetries = options.maxTransientRetries ?? DEFAULT_MAX_TRANSIENT_RETRIES;
    this.defaultRateLimitWaitMs = options.defaultRateLimitWaitMs ?? 1000;
    this.metrics = options.metrics;
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatOutcome> {
    const started = Date.now();
    let requests = 0;
    let rateLimitWaits = 0;
    let transientRetries = 0;
    let switchedTokenParam = false;
    const tokens = this.limiter.estimate(request.messages, request.maxTokens);
    for (;;) {
      const permit = await this.limiter.acquire(signal, { first: rateLimitWaits > 0, tokens });
      requests++;
      try {
        const body: ChatCompletionCreateParamsNonStreaming = {
          model: request.model,
          messages: request.messages as ChatCompletionMessageParam[],
          temperature: 0,
          seed: request.seed,
          [this.tokenParam]: request.maxTokens,
        };
        const { data, response } = await this.client.chat.completions.create(body, { signal }).withResponse();
        this.limiter.observe(permit, response.headers);
        const completion = readCompletion(data);
        const usage = data.usage ? { promptTokens: data.usage.prompt_tokens, completionTokens: data.usage.completion_tokens } : undefined;
        this.limiter.settle(permit, usage);
        this.metrics?.evalRequest('ok');
        if (usage) this.metrics?.evalTokens(usage.promptTokens, usage.completionTokens);
        return { ...completion, latencyMs: Date.now() - started, requests };
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        this.metrics?.evalRequest(err instanceof OpenAI.APIError && err.status === 429 ? 'rate_limited' : isTransient(err) ? 'transient' : 'error');
        if (isTransient(err) && transientRetries < this.maxTransientRetries) {
          const headers = err instanceof OpenAI.APIError ? (err.headers as Headers | undefined) : undefined;
          if (!(err instanceof OpenAI.APIConnectionError)) this.limiter.observe(permit, headers);
          const wait = retryAfterMs(headers) ?? 250 * 2 ** transientRetries;
          transientRetries++;
          this.logger.debug({ model: request.model, waitMs: wait, transientRetries, err: (err as Error).message }, 'transient provider fault; sending the same request again');
          // A cancelled activity must not sit out the provider's retry-after.
          await delay(wait, undefined, signal ? { signal } : undefined).catch((waitErr: unknown) => {
            throw signal?.aborted ? signal.reason : waitErr;
          });
          continue;
        }
        if (!(err instanceof OpenAI.APIError) || err instanceof OpenAI.APIConnectionError) {
          throw classifyProviderError(err, request.operation);
        }
        this.limiter.observe(permit, err.headers as Headers | undefined);
        const facts = providerErrorFacts(err);
        if (err.status === 429 && facts.code !== 'insufficient_quota') {
          if (rateLimitWaits >= this.maxRateLimitWaits) throw classifyProviderError(err, request.operation);
          const wait =
            retryAfterMs(err.headers as Headers | undefined) ??
            Math.min(30_000, this.defaultRateLimitWaitMs * 2 ** rateLimitWaits);
          rateLimitWaits++;
          this.logger.debug({ model: request.model, waitMs: wait, rateLimitWaits }, 'rate limited; waiting to send the same request again');
          this.limiter.pause(wait);
          continue;
        }
        if (!switchedTokenParam && this.tokenParam === 'max_completion_tokens' && rejectsMaxCompletionTokens(err)) {
          switchedTokenParam = true;
          this.tokenParam = 'max_tokens';
          this.logger.warn({ model: request.model }, 'provider does not accept max_completion_tokens; sending max_tokens instead');
          continue;
        }
        if ((err.status === 400 || err.status === 422) && facts.code && EXAMPLE_LEVEL_CODES.has(facts.code)) {
          return {
            ok: false,
            error: { kind: 'invalid_request', message: err.message, code: facts.code },
            latencyMs: Date.now() - started,
            requests,
          };
        }
        throw classifyProviderError(err, request.operation);
      }
    }
  }
}

/** True for a 400 that says the server does not know max_completion_tokens (older compatible servers). */
function rejectsMaxCompletionTokens(err: InstanceType<typeof OpenAI.APIError>): boolean {
  if (err.status !== 400 && err.status !== 422) return false;
  const facts = providerErrorFacts(err);
  const mentions = facts.param === 'max_completion_tokens' || /max_completion_tokens/.test(err.message);
  const unsupported = facts.code === 'unsupported_parameter' || /unsupported|unrecognized|not supported|not permitted|extra (fields|inputs)|unknown/i.test(err.message);
  return mentions && unsupported;
}

function readCompletion(
  data: OpenAI.Chat.Completions.ChatCompletion,
): Omit<Extract<ChatOutcome, { ok: true }>, 'latencyMs' | 'requests'> | Omit<Extract<ChatOutcome, { ok: false }>, 'latencyMs' | 'requests'> {
  const choice = data.choices?.[0];
  const usage = data.usage ? { promptTokens: data.usage.prompt_tokens, completionTokens: data.usage.completion_tokens } : undefined;
  if (!choice) return { ok: false, error: { kind: 'empty_response', message: 'The provider returned no choices.' } };
  if (choice.finish_reason === 'content_filter') {
    return { ok: false, error: { kind: 'content_filter', message: 'The provider filtered this answer.' } };
  }
  // A refusal is a real answer from the model (and scores as one); only a missing message is a failure.
  const text = choice.message?.content ?? choice.message?.refusal ?? null;
  if (text === null && !choice.message?.tool_calls?.length) {
    return { ok: false, error: { kind: 'empty_response', message: 'The provider returned a message without content.' } };
  }
  return { ok: true, text: text ?? '', finishReason: choice.finish_reason ?? null, usage };
}
