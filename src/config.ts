import { realpathSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CodecKeyConfigError, loadCodecKeys, type CodecKeyring } from './codec/keys';
import { DEFAULT_WEBHOOK_FALLBACK_SECONDS, type PollingPolicy } from './domain/polling';
import { PROVIDER_KINDS, type ProviderKind } from './domain/providers';
import { loadTemporalSettings, TemporalSettingsError, type TemporalConnectionSettings } from './temporal/settings';
import { parseStoreLocation } from './store/keys';
import type { S3Settings, StoreLocation } from './store/types';

/** An unset variable and an empty one mean the same: not given. */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const ConfigSchema = z.object({
  // TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*: Temporal's envconfig (src/temporal/settings.ts).
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('tuneflow'),
  TEMPORAL_UI_URL: z.string().url().default('http://127.0.0.1:8233'),
  TUNEFLOW_PROVIDER: z.enum(PROVIDER_KINDS).default('openai'),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  // Azure OpenAI: the resource's endpoint (data plane, v1 path) and where its deployments live (ARM).
  AZURE_OPENAI_ENDPOINT: optional(z.string().url()),
  AZURE_OPENAI_API_KEY: optional(z.string().min(1)),
  AZURE_SUBSCRIPTION_ID: optional(z.string().min(1)),
  AZURE_RESOURCE_GROUP: optional(z.string().min(1)),
  AZURE_OPENAI_ACCOUNT: optional(z.string().min(1)),
  AZURE_RESOURCE_MANAGER_ENDPOINT: z.string().url().default('https://management.azure.com'),
  AZURE_RESOURCE_MANAGER_TOKEN: optional(z.string().min(1)),
  AZURE_OPENAI_BASE_DEPLOYMENT: optional(z.string().min(1)),
  TUNEFLOW_AZURE_DEPLOYMENT_SKU: z.string().min(1).default('DeveloperTier'),
  TUNEFLOW_AZURE_DEPLOYMENT_CAPACITY: optional(z.coerce.number().int().min(1)),
  // Together AI.
  TOGETHER_API_KEY: optional(z.string().min(1)),
  TOGETHER_BASE_URL: z.string().url().default('https://api.together.xyz/v1'),
  TUNEFLOW_TOGETHER_ENDPOINT_HARDWARE: optional(z.string().min(1)),
  // Payload encryption keys, `<id>:<base64>` entries, the current first (src/codec/keys.ts).
  TUNEFLOW_CODEC_KEYS: optional(z.string()),
  TUNEFLOW_CODEC_KEY_FILE: optional(z.string()),
  TUNEFLOW_CODEC_SERVER_TOKEN: optional(z.string().min(16)),
  TUNEFLOW_HOME: z.string().min(1).default('.tuneflow'),
  TUNEFLOW_ARTIFACTS_DIR: z.string().min(1).optional(),
  TUNEFLOW_DATA_ROOTS: z.string().optional(),
  TUNEFLOW_STORE: optional(z.string()),
  // The AWS SDK's standard variables, read here so the store and s3:// datasets use one parsed copy.
  AWS_ENDPOINT_URL: optional(z.string().url()),
  AWS_ENDPOINT_URL_S3: optional(z.string().url()),
  AWS_REGION: optional(z.string().min(1)),
  AWS_DEFAULT_REGION: optional(z.string().min(1)),
  AWS_ACCESS_KEY_ID: optional(z.string().min(1)),
  AWS_SECRET_ACCESS_KEY: optional(z.string().min(1)),
  AWS_SESSION_TOKEN: optional(z.string().min(1)),
  TUNEFLOW_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  TUNEFLOW_METRICS_PORT: optional(z.coerce.number().int().min(0).max(65535)),
  TUNEFLOW_METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  // The OpenTelemetry SDK's standard variables; a set endpoint turns tracing on.
  OTEL_EXPORTER_OTLP_ENDPOINT: optional(z.string().url()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional(z.string().url()),
  OTEL_SERVICE_NAME: optional(z.string().min(1)),
  // Webhooks: a receiver (`tuneflow webhooks`) signals runs, so workers poll at the slow fallback pace.
  TUNEFLOW_WEBHOOKS: optional(z.enum(['0', '1', 'true', 'false'])),
  TUNEFLOW_WEBHOOK_FALLBACK_SECONDS: optional(z.coerce.number().int().min(1).max(86_400)),
  // The openai SDK's own variable for the signing secret of the webhook endpoint (`whsec_…`).
  OPENAI_WEBHOOK_SECRET: optional(z.string().min(1)),
});

export interface TelemetryConfig {
  /** Where the worker serves Prometheus metrics (`--metrics-port` wins); unset: no metrics server. */
  metricsPort: number | undefined;
  metricsHost: string;
  /** OTLP/HTTP (protobuf) traces URL; unset: no tracing. */
  otlpTracesUrl: string | undefined;
  serviceName: string | undefined;
}

export interface WebhookConfig {
  /** TUNEFLOW_WEBHOOKS: a receiver is configured at the provider, so workers poll at the fallback pace. */
  enabled: boolean;
  /** TUNEFLOW_WEBHOOK_FALLBACK_SECONDS: the polling pace while webhooks are trusted (default 600). */
  fallbackSeconds: number;
  /** OPENAI_WEBHOOK_SECRET: what `tuneflow webhooks` verifies signatures with. */
  secret: string | undefined;
}

export interface AzureConfig {
  /** `https://<resource>.openai.azure.com`; the data plane is its `/openai/v1` path. */
  endpoint: string | undefined;
  /** Unset: an Entra ID token from DefaultAzureCredential. */
  apiKey: string | undefined;
  subscriptionId: string | undefined;
  resourceGroup: string | undefined;
  account: string | undefined;
  resourceManagerEndpoint: string;
  /** A bearer token for ARM (e.g. from `az account get-access-token`); unset: DefaultAzureCredential. */
  resourceManagerToken: string | undefined;
  /** The deployment that answers for the base model; unset: a deployment named as the model. */
  baseDeployment: string | undefined;
  deploymentSku: string;
  deploymentCapacity: number | undefined;
}

export interface TogetherConfig {
  apiKey: string | undefined;
  baseURL: string;
  /** Hardware for a dedicated endpoint when a model cannot be served serverless. */
  endpointHardware: string | undefined;
}

export interface ProviderConfig {
  kind: ProviderKind;
  /** OpenAI (or any OpenAI-compatible endpoint). */
  apiKey: string | undefined;
  baseURL: string | undefined;
  azure: AzureConfig;
  together: TogetherConfig;
}

export interface AppConfig {
  /** How to reach Temporal (a profile of Temporal's config file, the environment over it), and tuneflow's task queue and UI link. */
  temporal: TemporalConnectionSettings & { taskQueue: string; uiUrl: string };
  /** Payload encryption keys; absent: payloads are stored as the SDK writes them. */
  codec?: CodecKeyring | undefined;
  /** The bearer token `tuneflow codec-server` requires; unset: none (keep the server on a private network). */
  codecServerToken?: string | undefined;
  provider: ProviderConfig;
  /** Project state: Temporal database, local backend state. */
  home: string;
  /** Where each run writes its split files, eval results and report, one folder per workflow id. */
  artifactsDir: string;
  /** TUNEFLOW_STORE: where run files live; absent (as in configs built by hand): the local artifactsDir. */
  store?: StoreLocation;
  /** How S3 (the store, and `s3://` datasets) is reached; absent: the AWS SDK's defaults. */
  s3?: S3Settings;
  /**
   * Folders (absolute, symlinks resolved) that dataset and eval paths from workflow input must lie in.
   * Empty when TUNEFLOW_DATA_ROOTS is unset: `worker` refuses to start, `dev` and `demo` use the current directory.
   */
  dataRoots: string[];
  /** Unset: each command picks its default (info for services, warn for the demo, which talks to a person). */
  logLevel: z.infer<typeof ConfigSchema>['TUNEFLOW_LOG_LEVEL'];
  /** Metrics and tracing; absent (as in tests that build a config by hand): neither. */
  telemetry?: TelemetryConfig;
  /** Provider webhooks; absent (as in configs built by hand): none, runs adapt their polling alone. */
  webhooks?: WebhookConfig;
}

/** How a worker's poll activity paces the run: with webhooks, at the fallback pace. */
export function pollingPolicy(config: Pick<AppConfig, 'webhooks'>): PollingPolicy {
  return { webhooks: config.webhooks?.enabled ?? false, fallbackSeconds: config.webhooks?.fallbackSeconds ?? DEFAULT_WEBHOOK_FALLBACK_SECONDS };
}

/** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, as the OTLP spec says. */
export function otlpTracesUrl(endpoint: string | undefined, tracesEndpoint: string | undefined): string | undefined {
  if (tracesEndpoint) return tracesEndpoint;
  return endpoint ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : undefined;
}

function providerSettings(e: z.infer<typeof ConfigSchema>): ProviderConfig {
  return {
    kind: e.TUNEFLOW_PROVIDER,
    apiKey: e.OPENAI_API_KEY,
    baseURL: e.OPENAI_BASE_URL,
    azure: {
      endpoint: e.AZURE_OPENAI_ENDPOINT,
      apiKey: e.AZURE_OPENAI_API_KEY,
      subscriptionId: e.AZURE_SUBSCRIPTION_ID,
      resourceGroup: e.AZURE_RESOURCE_GROUP,
      account: e.AZURE_OPENAI_ACCOUNT,
      resourceManagerEndpoint: e.AZURE_RESOURCE_MANAGER_ENDPOINT,
      resourceManagerToken: e.AZURE_RESOURCE_MANAGER_TOKEN,
      baseDeployment: e.AZURE_OPENAI_BASE_DEPLOYMENT,
      deploymentSku: e.TUNEFLOW_AZURE_DEPLOYMENT_SKU,
      deploymentCapacity: e.TUNEFLOW_AZURE_DEPLOYMENT_CAPACITY,
    },
    together: { apiKey: e.TOGETHER_API_KEY, baseURL: e.TOGETHER_BASE_URL, endpointHardware: e.TUNEFLOW_TOGETHER_ENDPOINT_HARDWARE },
  };
}

/** Parses the environment once; callers pass the result down instead of reading process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataRoots = parseDataRoots(e.TUNEFLOW_DATA_ROOTS);
  const home = path.resolve(e.TUNEFLOW_HOME);
  let temporal: TemporalConnectionSettings;
  let codec: CodecKeyring | undefined;
  try {
    temporal = loadTemporalSettings(env);
    codec = loadCodecKeys({ keys: e.TUNEFLOW_CODEC_KEYS, keyFile: e.TUNEFLOW_CODEC_KEY_FILE });
  } catch (err) {
    if (err instanceof TemporalSettingsError || err instanceof CodecKeyConfigError) throw new Error(`Invalid environment:\n  ${err.message}`);
    throw err;
  }
  const artifactsDir = path.resolve(e.TUNEFLOW_ARTIFACTS_DIR ?? path.join(home, 'artifacts'));
  let store: StoreLocation;
  try {
    store = parseStoreLocation(e.TUNEFLOW_STORE, artifactsDir);
  } catch (err) {
    throw new Error(`Invalid environment:\n  TUNEFLOW_STORE: ${err instanceof Error ? err.message : String(err)}`);
  }
  if ((e.AWS_ACCESS_KEY_ID === undefined) !== (e.AWS_SECRET_ACCESS_KEY === undefined)) {
    throw new Error('Invalid environment:\n  AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both, or neither (then the AWS SDK looks for credentials itself)');
  }
  return {
    temporal: { ...temporal, taskQueue: e.TEMPORAL_TASK_QUEUE, uiUrl: e.TEMPORAL_UI_URL },
    codec,
    codecServerToken: e.TUNEFLOW_CODEC_SERVER_TOKEN,
    provider: providerSettings(e),
    home,
    artifactsDir,
    store,
    s3: {
      endpoint: e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL,
      region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION,
      credentials:
        e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
          ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY, ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN } : {}) }
          : undefined,
    },
    dataRoots,
    logLevel: e.TUNEFLOW_LOG_LEVEL,
    telemetry: {
      metricsPort: e.TUNEFLOW_METRICS_PORT,
      metricsHost: e.TUNEFLOW_METRICS_HOST,
      otlpTracesUrl: otlpTracesUrl(e.OTEL_EXPORTER_OTLP_ENDPOINT, e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
      serviceName: e.OTEL_SERVICE_NAME,
    },
    webhooks: {
      enabled: e.TUNEFLOW_WEBHOOKS === '1' || e.TUNEFLOW_WEBHOOKS === 'true',
      fallbackSeconds: e.TUNEFLOW_WEBHOOK_FALLBACK_SECONDS ?? DEFAULT_WEBHOOK_FALLBACK_SECONDS,
      secret: e.OPENAI_WEBHOOK_SECRET,
    },
  };
}

/** Where run files live and how S3 is reached, for a config loaded or built by hand. */
export function storageSettings(config: Pick<AppConfig, 'store' | 's3' | 'artifactsDir'>): { location: StoreLocation; s3: S3Settings } {
  return {
    location: config.store ?? { kind: 'local', dir: config.artifactsDir },
    s3: config.s3 ?? { endpoint: undefined, region: undefined, credentials: undefined },
  };
}

/**
 * TUNEFLOW_DATA_ROOTS: folders separated by the platform's path delimiter, each of which must exist, and
 * `s3://bucket/prefix` entries for datasets in object storage (the `s3:` is not a separator there).
 */
export function parseDataRoots(raw: string | undefined): string[] {
  const parts = (raw ?? '').split(path.delimiter);
  const entries: string[] = [];
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] as string;
    if (part === 's3' && parts[i + 1]?.startsWith('//')) {
      entries.push(`s3:${parts[i + 1] as string}`);
      i += 1;
    } else if (part.trim() !== '') entries.push(part);
  }
  return entries.map((entry) => {
    if (entry.startsWith('s3://')) {
      if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(entry)) throw new Error(`Invalid environment:\n  TUNEFLOW_DATA_ROOTS: ${entry} is not an s3://bucket/prefix`);
      return entry;
    }
    try {
      return realpathSync(path.resolve(entry));
    } catch {
      throw new Error(`Invalid environment:\n  TUNEFLOW_DATA_ROOTS: ${entry} does not exist (folders separated by '${path.delimiter}', or s3://bucket/prefix entries)`);
    }
  });
}

/** The line a person runs to allow the current directory's tree; printed wherever data roots are missing. */
export function dataRootsHint(cwd = process.cwd()): string {
  return `export TUNEFLOW_DATA_ROOTS=${cwd}`;
}

/** A provider config with every unset variable at its default; for code that builds a config by hand (tests, the local stack). */
export function providerConfig(given: Partial<ProviderConfig>): ProviderConfig {
  // Only the provider section: no Temporal profile file or codec keys are read for it.
  return { ...providerSettings(ConfigSchema.parse({})), ...given };
}
