// /v1/chat/completions and /v1/models.
import type { FastifyInstance } from 'fastify';
import type { BackendContext } from '../context';

export function registerChatRoutes(app: FastifyInstance, ctx: BackendContext): void {
  app.post('/v1/chat/completions', { config: { operationId: 'createChatCompletion' } }, async (request) => ctx.chat.complete(request.body));

  app.get('/v1/models', { config: { operationId: 'listModels' } }, async () => {
    await ctx.jobs.tick();
    return { object: 'list', data: ctx.chat.listModels() };
  });

  app.get<{ Params: { model: string } }>('/v1/models/:model', { config: { operationId: 'retrieveModel' } }, async (request) =>
    ctx.chat.retrieveModel(request.params.model),
  );
}
