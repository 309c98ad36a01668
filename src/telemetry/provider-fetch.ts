import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ProviderMetricsSink, ProviderRequestStatus } from './metrics';

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The provider paths tuneflow calls, named by the OpenAI spec's operationIds (as the local backend counts them). */
const OPERATIONS: ReadonlyArray<{ method: string; path: RegExp; route: string; operation: string }> = [
  { method: 'POST', path: /\/chat\/completions$/, route: '/chat/completions', operation: 'createChatCompletion' },
  { method: 'POST', path: /\/fine_tuning\/jobs$/, route: '/fine_tuning/jobs', operation: 'createFineTuningJob' },
  { method: 'GET', path: /\/fine_tuning\/jobs$/, route: '/fine_tuning/jobs', operation: 'listPaginatedFineTuningJobs' },
  { method: 'GET', path: /\/fine_tuning\/jobs\/[^/]+$/, route: '/fine_tuning/jobs/{fine_tuning_job_id}', operation: 'retrieveFineTuningJob' },
  { method: 'GET', path: /\/fine_tuning\/jobs\/[^/]+\/events$/, route: '/fine_tuning/jobs/{fine_tuning_job_id}/events', operation: 'listFineTuningEvents' },
  { method: 'GET', path: /\/fine_tuning\/jobs\/[^/]+\/checkpoints$/, route: '/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints', operation: 'listFineTuningJobCheckpoints' },
  { method: 'POST', path: /\/fine_tuning\/jobs\/[^/]+\/cancel$/, route: '/fine_tuning/jobs/{fine_tuning_job_id}/cancel', operation: 'cancelFineTuningJob' },
  { method: 'POST', path: /\/fine_tuning\/jobs\/[^/]+\/pause$/, route: '/fine_tuning/jobs/{fine_tuning_job_id}/pause', operation: 'pauseFineTuningJob' },
  { method: 'POST', path: /\/fine_tuning\/jobs\/[^/]+\/resume$/, route: '/fine_tuning/jobs/{fine_tuning_job_id}/resume', operation: 'resumeFineTuningJob' },
  { method: 'POST', path: /\/files$/, route: '/files', operation: 'createFile' },
  { method: 'GET', path: /\/files$/, route: '/files', operation: 'listFiles' },
  { method: 'GET', path: /\/files\/[^/]+$/, route: '/files/{file_id}', operation: 'retrieveFile' },
  { method: 'DELETE', path: /\/files\/[^/]+$/, route: '/files/{file_id}', operation: 'deleteFile' },
  { method: 'GET', path: /\/files\/[^/]+\/content$/, route: '/files/{file_id}/content', operation: 'downloadFile' },
  { method: 'GET', path: /\/models$/, route: '/models', operation: 'listModels' },
  { method: 'GET', path: /\/models\/[^/]+$/, route: '/models/{model}', operation: 'retrieveModel' },
];

/** The operation a provider request is, from its method and path; ids never become label values. */
export function providerOperation(method: string, url: URL): { operation: string; route: string } {
  const m = method.toUpperCase();
  const path = url.pathname.replace(/\/+$/, '');
  const found = OPERATIONS.find((o) => o.method === m && o.path.test(path));
  return found ? { operation: found.operation, route: found.route } : { operation: 'other', route: 'other' };
}

function requestOf(input: string | URL | Request, init: RequestInit | undefined): { method: string; url: URL; headers: Headers } {
  const isRequest = typeof Request !== 'undefined' && input instanceof Request;
  const url = new URL(isRequest ? input.url : String(input));
  const method = init?.method ?? (isRequest ? input.method : 'GET');
  const headers = new Headers(init?.headers ?? (isRequest ? input.headers : undefined));
  return { method, url, headers };
}

/**
 * A fetch for the openai client that makes each provider HTTP request a client span (child of the
 * activity's span, with the W3C trace context sent along) and counts it by operation and status.
 */
export function instrumentedFetch(metrics: ProviderMetricsSink | undefined, base: Fetch = (input, init) => fetch(input, init)): Fetch {
  const tracer = trace.getTracer('tuneflow.provider');
  return async (input, init) => {
    const { method, url, headers } = requestOf(input, init);
    // The SDK reads data: URLs through fetch too (file uploads); only HTTP requests reach the provider.
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return base(input, init);
    const { operation, route } = providerOperation(method, url);
    const span = tracer.startSpan(`${method} ${route}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': method,
        'url.full': `${url.origin}${url.pathname}`,
        'server.address': url.hostname,
        ...(url.port ? { 'server.port': Number(url.port) } : {}),
        'tuneflow.provider.operation': operation,
      },
    });
    const spanContext = trace.setSpan(context.active(), span);
    propagation.inject(spanContext, headers, { set: (carrier, key, value) => carrier.set(key, value) });
    const started = performance.now();
    const done = (status: ProviderRequestStatus) => metrics?.providerRequest(operation, status, (performance.now() - started) / 1000);
    try {
      const response = await context.with(spanContext, () => base(input, { ...init, method, headers }));
      done(`${response.status}`);
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      return response;
    } catch (err) {
      const aborted = err instanceof Error && err.name === 'AbortError';
      done(aborted ? 'aborted' : 'connection_error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      span.setAttribute('error.type', aborted ? 'aborted' : 'connection_error');
      throw err;
    } finally {
      span.end();
    }
  };
}
