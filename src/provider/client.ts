import OpenAI from 'openai';

export interface ProviderSettings {
  apiKey: string | undefined;
  baseURL: string | undefined;
  /** Per-request timeout; a hung provider call becomes a retryable connection error, not a stuck activity. */
  timeoutMs?: number;
  /** Instead of the global fetch, e.g. one that makes each request a span and counts it (src/telemetry). */
  fetch?: ((input: string | URL | Request, init?: RequestInit) => Promise<Response>) | undefined;
}

/**
 * The one place tuneflow builds a provider client. maxRetries is 0 on purpose: Temporal's retry
 * policies own retries, so a failure is retried by exactly one layer and shows in the UI.
 */
export function createProviderClient(settings: ProviderSettings): OpenAI {
  if (!settings.apiKey) {
    throw new Error(
      'OPENAI_API_KEY is not set. Set it to your provider key (any non-empty value for the local backend).',
    );
  }
  return new OpenAI({
    apiKey: settings.apiKey,
    baseURL: settings.baseURL,
    maxRetries: 0,
    timeout: settings.timeoutMs ?? 60_000,
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
  });
}
