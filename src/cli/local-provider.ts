import { providerConfig, type ProviderConfig } from '../config';
import { LOCAL_AZURE_ACCOUNT } from '../openai-local';
import type { ProviderKind } from '../provider/types';
import { LOCAL_API_KEY } from './local-key';

const LOCAL_AZURE = LOCAL_AZURE_ACCOUNT;

/** A base model each dialect of the local backend fine-tunes, for the commands tuneflow prints. */
export const LOCAL_SAMPLE_MODEL: Record<ProviderKind, string> = {
  openai: 'gpt-4o-mini-2024-07-18',
  azure: 'gpt-4.1-mini-2025-04-14',
  together: 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference',
};

/**
 * The provider settings that point a worker at the local backend in `kind`'s dialect, and the same as
 * the exports another shell needs. The key is the local one: the user's real key never appears.
 */
export function localProvider(kind: ProviderKind, backendUrl: string): { config: ProviderConfig; env: Record<string, string> } {
  const origin = new URL(backendUrl).origin;
  switch (kind) {
    case 'openai':
      return {
        config: providerConfig({ kind, apiKey: LOCAL_API_KEY, baseURL: backendUrl }),
        env: { OPENAI_BASE_URL: backendUrl, OPENAI_API_KEY: LOCAL_API_KEY },
      };
    case 'azure': {
      const base = providerConfig({ kind });
      const azure = {
        ...base.azure,
        endpoint: origin,
        apiKey: LOCAL_API_KEY,
        subscriptionId: LOCAL_AZURE.subscriptionId,
        resourceGroup: LOCAL_AZURE.resourceGroup,
        account: LOCAL_AZURE.account,
        resourceManagerEndpoint: origin,
        resourceManagerToken: LOCAL_API_KEY,
      };
      return {
        config: { ...base, azure },
        env: {
          TUNEFLOW_PROVIDER: 'azure',
          AZURE_OPENAI_ENDPOINT: origin,
          AZURE_OPENAI_API_KEY: LOCAL_API_KEY,
          AZURE_SUBSCRIPTION_ID: LOCAL_AZURE.subscriptionId,
          AZURE_RESOURCE_GROUP: LOCAL_AZURE.resourceGroup,
          AZURE_OPENAI_ACCOUNT: LOCAL_AZURE.account,
          AZURE_RESOURCE_MANAGER_ENDPOINT: origin,
          AZURE_RESOURCE_MANAGER_TOKEN: LOCAL_API_KEY,
        },
      };
    }
    case 'together': {
      const base = providerConfig({ kind });
      const baseURL = `${origin}/v1`;
      return {
        config: { ...base, together: { ...base.together, apiKey: LOCAL_API_KEY, baseURL } },
        env: { TUNEFLOW_PROVIDER: 'together', TOGETHER_BASE_URL: baseURL, TOGETHER_API_KEY: LOCAL_API_KEY },
      };
    }
  }
}

/** `export A=1 B=2`, for the "In another shell" line. */
export function exportLine(env: Record<string, string>): string {
  return `export ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}
