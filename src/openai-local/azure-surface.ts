// The Azure dialect: the v1 data plane under /openai/v1 (api-key or Entra bearer) and ARM deployments (bearer only).
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { armAuthMalformed, armAuthMissing, azureAccessDenied, azureBadRequest, azurePermissionDenied, azureResourceNotFound } from './azure-errors';
import type { DialectSurface } from './surface';
import { ApiError } from './errors';
import { type Query, queryString } from './query';
import { registerArmRoutes } from './routes/azure-arm';
import { registerAzureChatRoutes } from './routes/azure-chat';
import { registerAzureFileRoutes } from './routes/azure-files';
import { registerJobRoutes } from './routes/jobs';

/** The data plane's root below the resource endpoint. */
export const AZURE_DATA_PLANE_PREFIX = '/openai/v1';
/** What the v1 data plane takes as `api-version` (optional; `v1` when absent). */
const DATA_PLANE_API_VERSIONS = ['v1', 'preview'];

const isArm = (request: FastifyRequest): boolean =>
  request.routeOptions.config?.plane === 'arm' || request.url.startsWith('/subscriptions/');

export const azureSurface: DialectSurface = {
  registerRoutes(app, ctx) {
    const prefix = AZURE_DATA_PLANE_PREFIX;
    app.addHook('preHandler', async (request) => {
      if (!request.url.startsWith(`${prefix}/`)) return;
      const version = queryString(request.query as Query, 'api-version');
      if (version !== undefined && !DATA_PLANE_API_VERSIONS.includes(version)) {
        throw azureBadRequest(`The api-version '${version}' is not supported on the v1 path; use 'v1' or 'preview', or omit it.`, 'api-version');
      }
    });
    registerAzureFileRoutes(app, ctx, prefix);
    registerJobRoutes(app, ctx, { prefix, metadataFilter: false, refusal: azurePermissionDenied, dialect: 'azure' });
    registerAzureChatRoutes(app, ctx, prefix);
    if (ctx.deployments) registerArmRoutes(app, ctx, ctx.deployments);
  },

  refuseAuth(request, ctx) {
    const bearer = request.headers.authorization ?? '';
    if (isArm(request)) {
      // Any non-empty token passes: the backend is loopback-only and checks no signatures.
      if (bearer === '') return armAuthMissing();
      return /^Bearer\s+\S+/i.test(bearer) ? null : armAuthMalformed();
    }
    const key = request.headers['api-key'];
    const hasKey = typeof key === 'string' && key.trim() !== '';
    if (!hasKey && !/^Bearer\s+\S+/i.test(bearer)) return azureAccessDenied();
    return ctx.settings.revokedKeys ? azureAccessDenied() : null;
  },

  errorBody(err: ApiError, request) {
    const code = err.code ?? String(err.status);
    // ARM's ErrorDetail names the offending field `target`; the data plane's AzureErrorResponse calls it `param`.
    const where = err.param === null ? {} : isArm(request) ? { target: err.param } : { param: err.param };
    return { error: { code, message: err.message, ...where } };
  },

  notFound(request) {
    if (!isArm(request)) return azureResourceNotFound();
    return new ApiError(404, `The resource path '${request.url.split('?')[0] ?? ''}' is not served by this resource provider.`, 'error', null, 'NotFound');
  },

  answerHeaders(request): Record<string, string> {
    const id = randomUUID();
    return isArm(request) ? { 'x-ms-request-id': id, 'x-ms-correlation-request-id': id } : { 'apim-request-id': id, 'x-request-id': id };
  },
};
