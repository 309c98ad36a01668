// /v1/chat/completions and /v1/models.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { estimateChatTokens } from '../chat';
import type { BackendContext } from '../context';
import { tokensRateLimitError } from '../errors';

export function registerChatRoutes(app: FastifyInstance, ctx: BackendContext): void {
  app.post('/v1/chat/completions', { config: { operationId: 'createChatCompletion' } }, async (request, reply) =>
    completeWithinTokenLimit(ctx, request.body, reply, (body) => ctx.chat.complete(body)),
  );

  app.get('/v1/models', { config: { operationId: 'listModels' } }, async () => {
    await ctx.jobs.tick();
    return { object: 'list', data: ctx.chat.listModels() };
  });

  app.get<{ Params: { model: string } }>('/v1/models/:model', { config: { operationId: 'retrieveModel' } }, async (request) =>
    ctx.chat.retrieveModel(request.params.model),
  );
}

/** Answers a chat request through the tokens-per-minute limit (charged prompt + max_tokens, settled to usage). */
export async function completeWithinTokenLimit(
  ctx: BackendContext,
  body: unknown,
  reply: FastifyReply,
  complete: (body: unknown) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const estimate = ctx.tokenLimiter.tpm > 0 ? estimateChatTokens(body) : null;
  // A malformed body is refused by complete() with the same 400 as without a limit.
  if (estimate === null) return complete(body);
  const decision = ctx.tokenLimiter.take(estimate.total);
  if (decision && !decision.allowed) {
    ctx.stats.rateLimited += 1;
    ctx.stats.rateLimitedTokens += 1;
    throw tokensRateLimitError({ model: estimate.model, tpm: ctx.tokenLimiter.tpm, decision, requested: estimate.total, headers: ctx.tokenLimiter.headers() });
  }
  let used = 0;
  try {
    const answer = await complete(body);
    used = (answer.usage as { total_tokens: number }).total_tokens;
    return answer;
  } finally {
    ctx.tokenLimiter.settle(estimate.total, used);
    ctx.stats.tokensCharged += used;
    void reply.headers(ctx.tokenLimiter.headers());
  }
}
