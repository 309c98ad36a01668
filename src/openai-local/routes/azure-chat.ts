// Azure's /openai/v1/chat/completions and /models: chat names a deployment, which answers as the model deployed under it.
import type { FastifyInstance } from 'fastify';
import { deploymentNotFound } from '../azure-errors';
import type { BackendContext } from '../context';
import { completeWithinTokenLimit } from './chat';

export function registerAzureChatRoutes(app: FastifyInstance, ctx: BackendContext, prefix: string): void {
  app.post(`${prefix}/chat/completions`, { config: { operationId: 'createChatCompletion' } }, async (request, reply) => {
    const name = (request.body as { model?: unknown } | null)?.model;
    // A body without a model is refused by complete() with its usual 400.
    const served = typeof name === 'string' && name !== '' ? ctx.deployments?.servedModel(name) : undefined;
    if (served === null) throw deploymentNotFound();
    return completeWithinTokenLimit(ctx, request.body, reply, (body) => ctx.chat.complete(body, served));
  });

  app.get(`${prefix}/models`, { config: { operationId: 'listModels' } }, async () => {
    await ctx.jobs.tick();
    return { object: 'list', data: ctx.chat.listModels() };
  });

  app.get<{ Params: { model: string } }>(`${prefix}/models/:model`, { config: { operationId: 'retrieveModel' } }, async (request) =>
    ctx.chat.retrieveModel(request.params.model),
  );
}
