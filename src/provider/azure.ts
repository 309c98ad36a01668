// The Azure OpenAI adapter: the v1 data plane through the stock openai client, models served by ARM deployments.
import { AuthenticationError as IdentityAuthenticationError, CredentialUnavailableError, DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import type { AzureConfig } from '../config';
import { JOB_METADATA_KEYS } from '../domain/job-tags';
import { ArmDeployments, ArmRequestError, type ArmDeployment } from './arm';
import { classifyProviderError, httpFailure, providerErrorFacts } from './errors';
import type { FineTuneProvider, JobTags, ModelServing, ServingState } from './types';
import { batchSizeProblems, openAICompatibleProvider } from './openai';
import { uploadFileFromDisk } from './upload';

/** Entra ID scope of the data plane. */
export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';
/** Uploaded training files expire after 30 days, the longest Azure allows (the v1 API requires an expiry). */
export const AZURE_FILE_EXPIRY_SECONDS = 2_592_000;
/** Capacity (thousands of tokens per minute) of a deployment when TUNEFLOW_AZURE_DEPLOYMENT_CAPACITY is unset; Microsoft's Developer tier sample uses 50. */
export const DEFAULT_DEPLOYMENT_CAPACITY = 50;
/** The hyperparameters Azure's supervised fine-tuning takes. */
const AZURE_HYPERPARAMETERS = new Set(['n_epochs', 'batch_size', 'learning_rate_multiplier']);
/** ARM's limit on a tag value. */
const MAX_TAG_VALUE = 256;

/** SKU names as ARM spells them, by any spelling a person may configure (the CLI calls the Developer tier 'Developer'). */
const SKU_NAMES: Record<string, string> = {
  developer: 'DeveloperTier',
  developertier: 'DeveloperTier',
  standard: 'Standard',
  globalstandard: 'GlobalStandard',
  datazonestandard: 'DataZoneStandard',
  provisionedmanaged: 'ProvisionedManaged',
  globalprovisionedmanaged: 'GlobalProvisionedManaged',
  datazoneprovisionedmanaged: 'DataZoneProvisionedManaged',
};

/** The SKU name ARM takes for a configured one; unknown names pass unchanged for ARM to judge. */
export function armSkuName(configured: string): string {
  return SKU_NAMES[configured.replace(/[\s_-]/g, '').toLowerCase()] ?? configured;
}

export interface AzureProviderOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Instead of DefaultAzureCredential (tests, or a credential the host already holds). */
  credential?: TokenCredential;
}


export function createAzureProvider(config: AzureConfig, opts: AzureProviderOptions = {}): FineTuneProvider {
  const missing = (
    [
      ['AZURE_OPENAI_ENDPOINT', config.endpoint],
      ['AZURE_SUBSCRIPTION_ID', config.subscriptionId],
      ['AZURE_RESOURCE_GROUP', config.resourceGroup],
      ['AZURE_OPENAI_ACCOUNT', config.account],
    ] as const
  )
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0) {
    throw new Error(`TUNEFLOW_PROVIDER=azure needs ${missing.join(', ')} (the resource's endpoint and where its deployments live in ARM).`);
  }
  const endpoint = (config.endpoint ?? '').replace(/\/+$/, '');
  const armOrigin = new URL(config.resourceManagerEndpoint).origin;
  const skuName = armSkuName(config.deploymentSku);
  const capacity = config.deploymentCapacity ?? DEFAULT_DEPLOYMENT_CAPACITY;

  let credential = opts.credential;
  const azureCredential = (): TokenCredential => (credential ??= new DefaultAzureCredential());
  const tokenFor = async (scope: string): Promise<string> => {
    const token = await azureCredential().getToken(scope);
    if (!token) throw new CredentialUnavailableError(`No Entra ID token for ${scope}`);
    return token.token;
  };

  // A key goes in Azure's api-key header (and no bearer); without one, an Entra ID token is the bearer.
  const client = new OpenAI({
    apiKey: config.apiKey ?? (() => tokenFor(COGNITIVE_SERVICES_SCOPE)),
    baseURL: `${endpoint}/openai/v1`,
    maxRetries: 0,
    timeout: opts.timeoutMs ?? 60_000,
    ...(config.apiKey ? { defaultHeaders: { 'api-key': config.apiKey, Authorization: null } } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const arm = new ArmDeployments(
    { endpoint: armOrigin, subscriptionId: config.subscriptionId ?? '', resourceGroup: config.resourceGroup ?? '', account: config.account ?? '' },
    {
      token: config.resourceManagerToken ? async () => config.resourceManagerToken ?? '' : () => tokenFor(`${armOrigin}/.default`),
      timeoutMs: opts.timeoutMs,
      fetch: opts.fetch,
    },
  );
  const where = `account ${config.account} (resource group ${config.resourceGroup}, subscription ${config.subscriptionId})`;

  /** The one place this adapter turns a failure into what Temporal should see. */
  function classify(err: unknown, operation: string): unknown {
    if (err instanceof ApplicationFailure) return err;
    if (err instanceof CredentialUnavailableError || err instanceof IdentityAuthenticationError || isCredentialFailure(err)) {
      return ApplicationFailure.create({
        message:
          `${operation} failed: no Entra ID token (${err instanceof Error ? err.message : String(err)}) — sign in (az login, a managed identity, ` +
          'or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET for DefaultAzureCredential), or set AZURE_OPENAI_API_KEY and AZURE_RESOURCE_MANAGER_TOKEN.',
        type: 'AuthenticationError',
        nonRetryable: true,
        ...(err instanceof Error ? { cause: err } : {}),
      });
    }
    if (err instanceof ArmRequestError) {
      return httpFailure({ operation, status: err.status, code: err.code, message: err.message, headers: err.headers, advice: armAdvice(err), details: { status: err.status, code: err.code }, cause: err });
    }
    if (err instanceof OpenAI.APIError && err.status !== undefined && [401, 403, 404].includes(err.status)) {
      // The SDK's advice names OpenAI's variables; Azure's are these.
      const facts = providerErrorFacts(err);
      return httpFailure({ operation, status: err.status, code: facts.code, message: err.message, headers: err.headers as Headers | undefined, advice: dataPlaneAdvice(err.status, facts.code), details: facts, cause: err });
    }
    return classifyProviderError(err, operation);
  }

  function armAdvice(err: ArmRequestError): string | undefined {
    if (err.code === 'InsufficientQuota') {
      return (
        `The subscription has no ${skuName} quota left for this model in the region of ${where}. Delete deployments that hold it, ` +
        'request more in the Azure AI Foundry portal (Management center > Quota, or https://aka.ms/oai/quotaincrease), or set ' +
        'TUNEFLOW_AZURE_DEPLOYMENT_SKU to another SKU (Standard and GlobalStandard bill an hourly hosting fee) or TUNEFLOW_AZURE_DEPLOYMENT_CAPACITY lower, then start the run again.'
      );
    }
    switch (err.status) {
      case 401:
        return `ARM refused the token: set AZURE_RESOURCE_MANAGER_TOKEN to a fresh one (az account get-access-token --resource ${armOrigin}) or unset it so DefaultAzureCredential signs in.`;
      case 403:
        return (
          `The identity behind AZURE_RESOURCE_MANAGER_TOKEN (or DefaultAzureCredential) may not create deployments on ${where}: it needs ` +
          "'Microsoft.CognitiveServices/accounts/deployments/write' there, e.g. the Cognitive Services Contributor or Foundry Owner role on the account " +
          'or its resource group. Grant it (or use an identity that has it), then start the run again.'
        );
      case 404:
        return `Check AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and AZURE_OPENAI_ACCOUNT (now ${where}) and AZURE_RESOURCE_MANAGER_ENDPOINT (${armOrigin}).`;
      case 400:
        return 'ARM rejected the deployment request; fix what the message names (model, SKU, capacity, name) and start a new run.';
      default:
        return undefined;
    }
  }

  function dataPlaneAdvice(status: number, code: string | undefined): string {
    if (status === 404 && code === 'DeploymentNotFound') {
      return 'The deployment named as the model does not exist or is not provisioned yet: wait for its provisioningState to be Succeeded (a deployment made in the last few minutes may need a moment more).';
    }
    if (status === 404) return `Check that the model, file or job id exists on ${endpoint} and that this identity can see it.`;
    return config.apiKey
      ? `Azure refused the key: check AZURE_OPENAI_API_KEY and that AZURE_OPENAI_ENDPOINT (${endpoint}) is that key's resource.`
      : `Azure refused the Entra ID identity: it needs the Cognitive Services OpenAI Contributor role on the resource at ${endpoint} (or set AZURE_OPENAI_API_KEY).`;
  }

  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classify(err, operation);
    }
  }



  /** One one-token chat request: false while Azure still answers 404 DeploymentNotFound. */
  async function answers(deployment: string): Promise<boolean> {
    try {
      await client.chat.completions.create({ model: deployment, messages: [{ role: 'user', content: 'ping' }], max_completion_tokens: 1 });
      return true;
    } catch (err) {
      if (err instanceof OpenAI.APIError && err.status === 404) return false;
      throw classify(err, `Asking deployment ${deployment} for a first answer`);
    }
  }

  function servingState(name: string, model: string, d: ArmDeployment | null): ServingState {
    const base = { name, model, servedAs: name, created: true, hourlyCostUsd: hourlyCost(d?.sku?.name ?? skuName) };
    if (!d) return { ...base, state: 'missing', detail: null };
    const deployed = d.properties?.model?.name;
    if (deployed && deployed !== model) {
      return { ...base, model: deployed, state: 'failed', detail: `deployment ${name} already serves ${deployed}, not ${model}` };
    }
    const provisioning = d.properties?.provisioningState ?? 'Accepted';
    switch (provisioning) {
      case 'Succeeded':
        return { ...base, state: 'ready', detail: null };
      case 'Accepted':
      case 'Creating':
      case 'Moving':
        return { ...base, state: 'provisioning', detail: `provisioningState ${provisioning}` };
      case 'Deleting':
        return { ...base, state: 'missing', detail: 'being deleted' };
      default:
        return { ...base, state: 'failed', detail: `provisioningState ${provisioning}` };
    }
  }

  const serving: ModelServing = {
    kind: 'deployment',
    // A base model answers through a deployment the team keeps (often named as the model).
    servedNameOfBase: (model) => config.baseDeployment ?? model,

    async ensure({ name, model, tags }) {
      const operation = `Deploying ${model} as ${name}`;
      const existing = await call(operation, () => arm.get(name));
      if (existing) {
        if (existing.properties?.provisioningState === 'Deleting') {
          // Retried by Temporal until the old one is gone; then it is created again under the same name.
          throw httpFailure({ operation, status: 409, code: 'DeploymentDeleting', message: `deployment ${name} is still being deleted` });
        }
        return servingState(name, model, existing);
      }
      const { deployment } = await call(operation, () =>
        arm.put(name, {
          sku: { name: skuName, capacity },
          tags: deploymentTags(tags, model),
          properties: { model: { format: 'OpenAI', name: model, version: '1' } },
        }),
      );
      return servingState(name, model, deployment);
    },

    async state({ name, model }) {
      const state = servingState(name, model, await call(`Reading deployment ${name}`, () => arm.get(name)));
      // Azure may answer DeploymentNotFound for a few minutes after Succeeded: ready means it answers.
      if (state.state === 'ready' && !(await answers(name))) return { ...state, state: 'provisioning', detail: 'provisioned; not answering chat yet' };
      return state;
    },

    async remove(name) {
      return call(`Deleting deployment ${name}`, () => arm.delete(name));
    },

    async list(prefix) {
      const all = await call('Listing deployments', () => arm.list());
      return all.filter((d) => d.name.startsWith(prefix) && d.properties?.provisioningState !== 'Deleting').map((d) => d.name);
    },
  };

  const shared = openAICompatibleProvider(client, {
    call,
    // Azure deploys a checkpoint by its ftchkpt-… id, not by its model name.
    checkpointModel: (c) => (c.id.startsWith('ftchkpt-') ? c.id : c.fine_tuned_model_checkpoint),
  });

  return {
    kind: 'azure',
    serving,

    optionProblems({ hyperparameters }) {
      return [
        ...Object.keys(hyperparameters ?? {})
          .filter((k) => !AZURE_HYPERPARAMETERS.has(k))
          .map((k) => `hyperparameters.${k}: Azure OpenAI supervised fine-tuning takes only n_epochs, batch_size and learning_rate_multiplier`),
        ...batchSizeProblems(hyperparameters, 'Azure OpenAI'),
      ];
    },

    ...shared,

    async uploadFile(spec) {
      const file = await call(`Uploading ${spec.filename}`, () =>
        uploadFileFromDisk(client, {
          path: spec.path,
          filename: spec.filename,
          purpose: 'fine-tune',
          expiresAfterSeconds: AZURE_FILE_EXPIRY_SECONDS,
          ...(spec.signal ? { signal: spec.signal } : {}),
          ...(spec.onProgress ? { onProgress: spec.onProgress } : {}),
        }),
      );
      return { id: file.id };
    },

    async deleteFile(id) {
      await call(`Deleting file ${id}`, async () => {
        try {
          await client.files.delete(id);
        } catch (err) {
          // Already gone (deleted, or expired) is what was asked for.
          if (!(err instanceof OpenAI.NotFoundError)) throw err;
        }
      });
    },

    // Azure's v1 job list has no metadata filter: every page is read and the tags are matched here.
    async jobsOfWorkflow(workflowId) {
      return (await shared.taggedJobs()).filter((j) => j.tags?.workflowId === workflowId);
    },

    chat: () => client,
  };
}

/** The @azure/identity failure the openai SDK wraps when its token function throws. */
function isCredentialFailure(err: unknown): boolean {
  if (!(err instanceof OpenAI.OpenAIError) || err instanceof OpenAI.APIError) return false;
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof CredentialUnavailableError || cause instanceof IdentityAuthenticationError;
}

/** Developer tier has no hosting fee; the others' hourly prices depend on model and region and are not published in an API. */
function hourlyCost(sku: string): number | null {
  return armSkuName(sku) === 'DeveloperTier' ? 0 : null;
}


/** The run a deployment belongs to, as ARM tags (values cut to ARM's 256 characters). */
function deploymentTags(tags: JobTags, model: string): Record<string, string> {
  const cut = (v: string) => v.slice(0, MAX_TAG_VALUE);
  return { [JOB_METADATA_KEYS.workflowId]: cut(tags.workflowId), [JOB_METADATA_KEYS.runId]: cut(tags.runId), tuneflow_model: cut(model) };
}



