// The API a backend speaks: routes, credentials, error envelope and request-id headers per provider dialect.
import { azureSurface } from './azure-surface';
import type { Dialect } from './context';
import type { DialectSurface } from './surface';

export type { DialectSurface } from './surface';
import { ApiError, invalidApiKey, missingApiKey } from './errors';
import { randomId } from './ids';
import { registerChatRoutes } from './routes/chat';
import { registerFileRoutes } from './routes/files';
import { registerJobRoutes } from './routes/jobs';
import { registerTogetherRoutes } from './together/routes';

export { DIALECTS, type Dialect } from './context';


const openaiSurface: DialectSurface = {
  registerRoutes(app, ctx) {
    registerFileRoutes(app, ctx);
    registerJobRoutes(app, ctx);
    registerChatRoutes(app, ctx);
  },
  refuseAuth(request, ctx) {
    if (!/^Bearer\s+\S+/i.test(request.headers.authorization ?? '')) return missingApiKey();
    return ctx.settings.revokedKeys ? invalidApiKey() : null;
  },
  errorBody: (err) => err.toBody(),
  notFound: (request) => new ApiError(404, `Invalid URL (${request.method} ${request.url.split('?')[0] ?? ''})`),
  // The SDK surfaces x-request-id as `_request_id`, handy in logs on both sides.
  answerHeaders: (_request, reply) => ({ 'x-request-id': randomId('req_', 32), 'openai-processing-ms': String(Math.round(reply.elapsedTime)) }),
};

// Together's routes throw errors already in its envelope; its credentials are a bearer key as OpenAI's.
const togetherSurface: DialectSurface = { ...openaiSurface, registerRoutes: registerTogetherRoutes };

export function surfaceFor(dialect: Dialect): DialectSurface {
  switch (dialect) {
    case 'openai':
      return openaiSurface;
    case 'azure':
      return azureSurface;
    case 'together':
      return togetherSurface;
  }
}
