// Fastify app: provider gate (outage, auth, rate limit, latency, faults, counting), the dialect's error envelope and routes.
import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { BackendContext } from './context';
import { surfaceFor } from './dialects';
import { ApiError, invalidJson, serverError } from './errors';
import { registerAdminRoutes } from './routes/admin';
import { isDelayed } from './settings';

/** The provider's upload limit for a single file. */
const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

export async function buildServer(ctx: BackendContext): Promise<FastifyInstance> {
  const surface = surfaceFor(ctx.dialect);
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    // Per-request logs come from our onResponse hook at debug level, with the operation id.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 32 * 1024 * 1024,
  });
  const rateHeaders = new WeakMap<FastifyRequest, Record<string, string>>();

  // Empty JSON bodies are fine (the SDK posts cancel/pause/resume without one).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(invalidJson(), undefined);
    }
  });
  await app.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10 } });

  app.addHook('onRequest', async (request, reply) => {
    const op = request.routeOptions.config?.operationId;
    if (!op) return;
    ctx.stats.countRequest(op);
    if (ctx.settings.outage) {
      ctx.stats.outageDropped += 1;
      dropConnection(request, reply);
      return;
    }
    const refused = surface.refuseAuth(request, ctx);
    if (refused) {
      ctx.stats.unauthorized += 1;
      throw refused;
    }
    // ARM throttles apart from the model endpoints; the rpm limit is the data plane's.
    const rate = request.routeOptions.config.plane === 'arm' ? null : ctx.limiter.take();
    if (rate) {
      rateHeaders.set(request, rate.headers);
      if (!rate.allowed) {
        ctx.stats.rateLimited += 1;
        throw rateLimitError(ctx.settings.rpm, rate.retryAfterMs);
      }
    }
    if (isDelayed(ctx.settings, op)) {
      ctx.stats.delayed += 1;
      await new Promise((resolve) => setTimeout(resolve, ctx.settings.latencyMs));
    }
    // Decided before the handler runs, so a failed request never changes state.
    const fault = ctx.faults.decide(ctx.settings.faultRate);
    if (!fault) return;
    ctx.stats.countFault(fault.kind);
    ctx.log.debug({ op, fault: fault.kind }, 'injecting fault');
    switch (fault.kind) {
      case 'rate_limit':
        throw rateLimitError(ctx.settings.rpm, 1000);
      case 'server_error':
        throw serverError();
      case 'unavailable':
        throw new ApiError(503, 'The engine is currently overloaded, please try again later.', 'server_error', null, null);
      case 'dropped_connection':
        dropConnection(request, reply);
        return;
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
        return;
    }
  });

  app.addHook('onSend', async (request, reply) => {
    const headers = rateHeaders.get(request);
    if (headers) void reply.headers(headers);
    if (request.routeOptions.config?.operationId) void reply.headers(surface.answerHeaders(request, reply));
  });

  app.addHook('onResponse', async (request, reply) => {
    const op = request.routeOptions.config?.operationId;
    if (op) ctx.log.debug({ op, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    let api: ApiError;
    if (err instanceof ApiError) {
      api = err;
    } else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      api = invalidJson();
    } else if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      api = new ApiError(err.statusCode, err.message, 'invalid_request_error', null, err.code ?? null);
    } else {
      ctx.log.error({ err, url: request.url }, 'unhandled error');
      api = serverError();
    }
    return reply.status(api.status).headers(api.headers).send(surface.errorBody(api, request));
  });

  app.setNotFoundHandler((request, reply) => {
    const api = surface.notFound(request);
    return reply.status(404).send(surface.errorBody(api, request));
  });

  await surface.registerRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  return app;
}

/** No answer at all: the client sees its connection closed, as when the provider is unreachable. */
function dropConnection(request: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  request.raw.socket.destroy();
}

/** 429 in the provider's wording, with retry-after (whole seconds, at least 1) and retry-after-ms. */
function rateLimitError(rpm: number, retryAfterMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ApiError(
    429,
    `Rate limit reached for requests in organization org-tuneflowlocal on requests per min (RPM): Limit ${rpm}. Please try again in ${seconds}s.`,
    'requests',
    null,
    'rate_limit_exceeded',
    { 'retry-after': String(seconds), 'retry-after-ms': String(Math.max(1, Math.ceil(retryAfterMs))) },
  );
}
