import type { ProviderConfig } from '../config';
import { createAzureProvider } from './azure';
import { createOpenAIProvider } from './openai';
import { createTogetherProvider } from './together';
import type { FineTuneProvider } from './types';

export type { FineTuneProvider } from './types';

export interface ProviderOptions {
  timeoutMs?: number;
  /** Instead of the global fetch, e.g. one that makes each request a span and counts it (src/telemetry). */
  fetch?: typeof fetch | undefined;
}

/** The one place a provider adapter is chosen: TUNEFLOW_PROVIDER and that provider's variables. */
export function createProvider(config: ProviderConfig, opts: ProviderOptions = {}): FineTuneProvider {
  switch (config.kind) {
    case 'openai':
      return createOpenAIProvider({ apiKey: config.apiKey, baseURL: config.baseURL, ...opts });
    case 'azure':
      return createAzureProvider(config.azure, opts);
    case 'together':
      return createTogetherProvider(config.together, opts);
    default:
      throw new Error(`TUNEFLOW_PROVIDER=${config.kind} is not supported by this build`);
  }
}
