// What a dialect of the backend is: its routes, credentials, error envelope and request-id headers.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BackendContext } from './context';
import type { ApiError } from './errors';

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
