import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { KEY_REFUSAL_TYPES, type JobTrouble } from '../domain/provider-trouble';

/** Statuses that will not change by asking again: the request itself is wrong or refused. */
const NON_RETRYABLE_STATUSES = new Set([400, 401, 403, 404, 422]);

export interface ProviderErrorFacts {
  status: number | undefined;
  type: string | undefined;
  code: string | undefined;
  param: string | undefined;
  requestId: string | undefined;
}

/** What a person should do about a refusal; the provider's own message comes first. */
function advice(status: number | undefined, operation: string): string {
  switch (status) {
    case 401:
      return 'Check OPENAI_API_KEY (and OPENAI_BASE_URL if you use another OpenAI-compatible provider).';
    case 403:
      return `The provider refused ${operation.charAt(0).toLowerCase()}${operation.slice(1)}: this key's organization or project is not allowed to do it. ` +
        'Ask the account owner to enable fine-tuning for the project, use a key that has it, or point ' +
        'OPENAI_BASE_URL at another OpenAI-compatible provider.';
    case 404:
      return 'Check that the model or resource id exists at this provider and that the key can see it.';
    case 400:
    case 422:
      return 'The provider rejected the request as invalid; fix the input named above and start a new run.';
    default:
      return '';
  }
}

export function providerErrorFacts(err: InstanceType<typeof OpenAI.APIError>): ProviderErrorFacts {
  const body = (err.error ?? {}) as { type?: unknown; code?: unknown; param?: unknown };
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    status: err.status,
    type: str(err.type) ?? str(body.type),
    code: str(err.code) ?? str(body.code),
    param: str(err.param) ?? str(body.param),
    requestId: err.requestID ?? undefined,
  };
}

/** Milliseconds the provider asked us to wait, from `retry-after-ms` or `retry-after` (seconds or a date). */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The openai SDK's error class name for a status: the failure types every adapter uses, whatever its SDK. */
export function failureTypeForStatus(status: number | undefined): string {
  switch (status) {
    case 400:
      return 'BadRequestError';
    case 401:
      return 'AuthenticationError';
    case 403:
      return 'PermissionDeniedError';
    case 404:
      return 'NotFoundError';
    case 409:
      return 'ConflictError';
    case 422:
      return 'UnprocessableEntityError';
    case 429:
      return 'RateLimitError';
    case undefined:
      return 'APIConnectionError';
    default:
      return status >= 500 ? 'InternalServerError' : 'APIError';
  }
}

export interface HttpFailure {
  operation: string;
  /** Undefined: the provider could not be reached. */
  status: number | undefined;
  message: string;
  code?: string | undefined;
  headers?: Headers | undefined;
  /** What a person should do; adapters name their own variables. */
  advice?: string | undefined;
  details?: unknown;
  cause?: Error | undefined;
}

/**
 * The failure Temporal should see for a provider's HTTP answer, for adapters whose SDK is not openai's:
 * the same retry rule (400/401/403/404/422 need a person or a new input; the rest pass by themselves,
 * honouring retry-after) and the same failure types.
 */
export function httpFailure(f: HttpFailure): ApplicationFailure {
  const nonRetryable = f.status !== undefined && NON_RETRYABLE_STATUSES.has(f.status);
  const wait = retryAfterMs(f.headers);
  const code = f.code ? ` [${f.code}]` : '';
  const what = f.status === undefined ? 'could not reach the provider' : `provider answered ${f.status}${code}`;
  return ApplicationFailure.create({
    message: `${f.operation} failed: ${what}: ${f.message}${f.advice ? ` — ${f.advice}` : ''}`,
    type: failureTypeForStatus(f.status),
    nonRetryable,
    details: f.details === undefined ? [] : [f.details],
    ...(f.cause ? { cause: f.cause } : {}),
    ...(wait !== undefined && !nonRetryable ? { nextRetryDelay: wait } : {}),
  });
}

/**
 * Turns any error thrown by a provider call into the failure Temporal should see: non-retryable for
 * refusals and bad requests (with the provider error as the cause), retryable for throttling, server
 * faults and connection errors, honouring `retry-after`.
 */
export function classifyProviderError(err: unknown, operation: string): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof OpenAI.APIConnectionError) {
    return ApplicationFailure.create({
      message: `${operation}: could not reach the provider (${err.message})`,
      type: err.constructor.name,
      nonRetryable: false,
      cause: err,
    });
  }
  if (err instanceof OpenAI.APIError) {
    const facts = providerErrorFacts(err);
    const nonRetryable = facts.status !== undefined && NON_RETRYABLE_STATUSES.has(facts.status);
    const wait = retryAfterMs(err.headers as Headers | undefined);
    const hint = advice(facts.status, operation);
    const code = facts.code ? ` [${facts.code}]` : '';
    return ApplicationFailure.create({
      message: `${operation} failed: provider answered ${facts.status ?? 'with an error'}${code}: ${err.message}${hint ? ` — ${hint}` : ''}`,
      type: err.constructor.name,
      nonRetryable,
      details: [facts],
      cause: err,
      ...(wait !== undefined && !nonRetryable ? { nextRetryDelay: wait } : {}),
    });
  }
  return err;
}

/** Runs one provider call and rethrows its failure classified for Temporal. */
export async function callProvider<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyProviderError(err, operation);
  }
}

/**
 * A classified provider failure seen while following a job: unreachable (retryable: connection
 * errors, 408/409/429/5xx) or refused (401/403), or null for anything else (a bad request, a job that
 * does not exist), which should fail as before.
 */
export function jobTrouble(err: unknown): JobTrouble | null {
  if (!(err instanceof ApplicationFailure)) return null;
  if (!err.nonRetryable) return { kind: 'unreachable', message: err.message };
  if (err.type && KEY_REFUSAL_TYPES.has(err.type)) return { kind: 'refused', message: err.message };
  return null;
}
