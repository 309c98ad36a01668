// The API a backend speaks: routes, credentials, error envelope and request-id headers per provider dialect.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { azureSurface } from './azure-surface';
import type { BackendContext } from './context';
import { ApiError, invalidApiKey, missingApiKey } from './errors';
import { randomId } from './ids';
import { registerChatRoutes } from './routes/chat';
import { registerFileRoutes } from './routes/files';
import { registerJobRoutes } from './routes/jobs';
import { registerTogetherRoutes } from './together/routes';

export const DIALECTS = ['openai', 'azure', 'together'] as const;
export type Dialect = (typeof DIALECTS)[number];

export interface DialectSurface {
  /** Registers the provider's routes (the /_admin routes are common to all dialects). */
  registerRoutes(app: FastifyInstance, ctx: BackendContext): void | Promise<void>;
  /** The refusal for a request without acceptable credentials (or with a revoked key), or null to let it in. */
  refuseAuth(request: FastifyRequest, ctx: BackendContext): ApiError | null;
  /** The body of an error answer. */
  errorBody(err: ApiError, request: FastifyRequest): unknown;
  /** The answer for a path no route serves. */
  notFound(request: FastifyRequest): ApiError;
  /** Headers every answer of a provider operation carries (request ids, timing). */
  answerHeaders(request: FastifyRequest, reply: FastifyReply): Record<string, string>;
}

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
