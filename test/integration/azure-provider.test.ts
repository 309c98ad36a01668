// The azure adapter against the local backend's azure dialect over HTTP: data plane, ARM deployments, refusals.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { armSkuName, createAzureProvider } from '../../src/provider/azure';
import type { FineTuneProvider, JobTags, ProviderJob } from '../../src/provider/types';
import { type Backend, localAzureConfig, startBackend } from '../helpers/stack';
import { trainingJsonl, validationJsonl } from '../openai-local/helpers';

let backend: Backend;
let dir: string;
let provider: FineTuneProvider;
/** Headers of every request the adapter sent, by URL path. */
const sent: { path: string; headers: Headers }[] = [];
const recordingFetch: typeof fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  sent.push({ path: url.pathname, headers: new Headers(init?.headers) });
  return fetch(input, init);
};

const tags: JobTags = { workflowId: 'wf-azure-adapter', runId: 'run-1', fingerprint: 'fp-1' };
let job: ProviderJob;

async function writeDataset(name: string, content: string): Promise<{ path: string; filename: string; bytes: number }> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return { path: file, filename: `tuneflow-run-1-${name}`, bytes: (await stat(file)).size };
}

async function until<T>(what: string, look: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 2000; i++) {
    const v = await look();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} did not happen`);
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

beforeAll(async () => {
  // Jobs take ~1.5 s; a deployment takes 4 s to provision (1200 simulated seconds at this scale), ample to see it provisioning.
  backend = await startBackend({ dialect: 'azure', timeScale: 300, deploymentSeconds: 1200 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-azure-adapter-'));
  provider = createAzureProvider(localAzureConfig(backend), { fetch: recordingFetch });
});
afterAll(async () => {
  await backend?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('azure adapter', () => {
  it('uploads with an expiry, creates a tagged job and finds both again by name and tags among untagged jobs', async () => {
    const train = await writeDataset('train.jsonl', trainingJsonl());
    const valid = await writeDataset('valid.jsonl', validationJsonl());
    expect(await provider.findFile(train.filename)).toBeNull();
    const progress: number[] = [];
    const trainFile = await provider.uploadFile({ ...train, onProgress: (p) => progress.push(p.bytesSent) });
    const validFile = await provider.uploadFile(valid);
    expect(trainFile.id).toMatch(/^file-[0-9a-f]{32}$/);
    expect(progress.at(-1)).toBe(train.bytes);
    expect(await provider.findFile(train.filename)).toEqual(trainFile);
    const stored = await backend.openai.files.retrieve(trainFile.id);
    expect((stored.expires_at ?? 0) - stored.created_at).toBe(30 * 24 * 3600);

    // Jobs of other runs and untagged jobs around it: Azure's list cannot filter by metadata, the adapter must.
    await backend.openai.fineTuning.jobs.create({ model: 'gpt-4o-mini-2024-07-18', training_file: trainFile.id });
    await backend.openai.fineTuning.jobs.create({ model: 'gpt-4o-mini-2024-07-18', training_file: trainFile.id, metadata: { tuneflow_workflow_id: 'wf-other', tuneflow_run_id: 'r' } });
    job = await provider.createJob({ model: 'gpt-4o-mini-2024-07-18', trainingFileId: trainFile.id, validationFileId: validFile.id, seed: 7, hyperparameters: { n_epochs: 3 }, tags });
    expect(job.id).toMatch(/^ftjob-[0-9a-f]{32}$/);
    expect(job.tags).toEqual(tags);

    const found = await provider.jobsOfWorkflow(tags.workflowId);
    expect(found.map((j) => j.id)).toEqual([job.id]);
    const tagged = await provider.taggedJobs();
    expect(tagged.map((j) => j.tags?.workflowId).sort()).toEqual(['wf-azure-adapter', 'wf-other']);
  });

  it('follows the job to success with every metric row once, validation loss included, and Azure model naming', async () => {
    let cursor: string | null = null;
    const steps: number[] = [];
    let validRows = 0;
    let totalSteps: number | null = null;
    const done = await until(
      'the job succeeding',
      async () => {
        const p = await provider.progressSince(job.id, cursor);
        cursor = p.cursor;
        totalSteps = p.totalSteps ?? totalSteps;
        for (const row of p.metrics) {
          steps.push(row.step);
          if (row.validLoss !== null) validRows += 1;
        }
        return provider.getJob(job.id);
      },
      (j) => j.status === 'succeeded' || j.status === 'failed',
    );
    const last = await provider.progressSince(job.id, cursor);
    for (const row of last.metrics) steps.push(row.step);
    expect(done.status).toBe('succeeded');
    expect(done.fineTunedModel).toMatch(/^gpt-4o-mini-2024-07-18\.ft-[0-9a-f]{32}$/);
    expect(done.hyperparameters).toMatchObject({ n_epochs: 3 });
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    expect(steps.length).toBe(totalSteps);
    expect(validRows).toBeGreaterThan(0);
  });

  it('lists checkpoints by their deployable ftchkpt ids with validation loss, in step order', async () => {
    const checkpoints = await provider.listCheckpoints(job.id);
    expect(checkpoints).toHaveLength(3);
    for (const c of checkpoints) {
      expect(c.model).toMatch(/^ftchkpt-[0-9a-f]{32}$/);
      expect(c.fullValidLoss).toEqual(expect.any(Number));
    }
    expect(checkpoints.map((c) => c.step)).toEqual([...checkpoints.map((c) => c.step)].sort((a, b) => a - b));
  });

  it('deploys a checkpoint and the final model, answers chat only once provisioned, and deletes every deployment it made', async () => {
    const serving = provider.serving;
    if (!serving) throw new Error('azure has serving');
    const finalModel = (await provider.getJob(job.id)).fineTunedModel ?? '';
    const [checkpoint] = await provider.listCheckpoints(job.id);
    const wanted = [
      { name: 'tf-wf-azure-adapter-ckpt', model: checkpoint?.model ?? '' },
      { name: 'tf-wf-azure-adapter-final', model: finalModel },
    ];
    const chat = (model: string) => provider.chat().chat.completions.create({ model, messages: [{ role: 'user', content: 'refund money please' }], max_completion_tokens: 16 });

    for (const w of wanted) {
      const started = await serving.ensure({ ...w, tags });
      expect(started).toMatchObject({ name: w.name, model: w.model, state: 'provisioning', servedAs: w.name, created: true, hourlyCostUsd: 0 });
      // Not answerable until provisioning succeeded: Azure's 404 DeploymentNotFound.
      await expect(chat(w.name)).rejects.toMatchObject({ status: 404, code: 'DeploymentNotFound' });
      expect((await serving.state(w)).state).toBe('provisioning');
    }
    // A retry finds its own deployment instead of creating another.
    expect((await serving.ensure({ ...wanted[0], tags } as { name: string; model: string; tags: JobTags })).state).toBe('provisioning');
    expect((await backend.stats()).deployments).toMatchObject({ created: 2, live: 2 });

    for (const w of wanted) {
      await until(`${w.name} provisioning`, () => serving.state(w), (s) => s.state === 'ready');
      const answer = await chat(w.name);
      expect(answer.choices[0]?.message.content).toEqual(expect.any(String));
      expect(answer.model).toBe(w.model);
    }
    const deployed = await backend.openai.fineTuning.jobs.retrieve(job.id);
    expect(deployed.fine_tuned_model).toBe(finalModel);

    expect((await serving.list('tf-wf-azure-adapter-')).sort()).toEqual(wanted.map((w) => w.name).sort());
    expect(await serving.list('tf-other-')).toEqual([]);
    for (const w of wanted) expect(await serving.remove(w.name)).toBe('deleting');
    expect(await serving.list('tf-wf-azure-adapter-')).toEqual([]);
    await expect(chat(wanted[1]?.name ?? '')).rejects.toMatchObject({ status: 404 });
    // Deleting already counts as missing (it serves nothing, detail 'being deleted'); gone is when ARM no longer knows it.
    await until('the deletion finishing', () => serving.state(wanted[0] as { name: string; model: string }), (s) => s.state === 'missing' && s.detail === null);
    for (const w of wanted) expect(await serving.remove(w.name)).toBe('missing');
    const stats = await until('deletions finishing', () => backend.stats(), (s) => s.deployments?.deleting === 0);
    expect(stats.deployments).toMatchObject({ created: 2, deleted: 2, live: 0 });
  });

  it('fails a deployment refused for a missing role or for quota at once, saying what to do', async () => {
    const serving = provider.serving;
    if (!serving) throw new Error('azure has serving');
    const finalModel = (await provider.getJob(job.id)).fineTunedModel ?? '';
    await backend.settings({ refuseDeployments: 'forbidden' });
    const forbidden = await failureOf(serving.ensure({ name: 'tf-refused', model: finalModel, tags }));
    expect(forbidden.nonRetryable).toBe(true);
    expect(forbidden.type).toBe('PermissionDeniedError');
    expect(forbidden.message).toContain('[AuthorizationFailed]');
    expect(forbidden.message).toContain("'Microsoft.CognitiveServices/accounts/deployments/write'");
    expect(forbidden.message).toContain('Cognitive Services Contributor');

    await backend.settings({ refuseDeployments: 'quota' });
    const quota = await failureOf(serving.ensure({ name: 'tf-refused', model: finalModel, tags }));
    expect(quota.nonRetryable).toBe(true);
    expect(quota.message).toContain('[InsufficientQuota]');
    expect(quota.message).toContain('Tokens Per Minute (thousands) - gpt-4o-mini-2024-07-18 - DeveloperTier');
    expect(quota.message).toContain('https://aka.ms/oai/quotaincrease');
    expect(quota.message).toContain('TUNEFLOW_AZURE_DEPLOYMENT_SKU');
    await backend.settings({ refuseDeployments: 'none' });
    expect((await backend.stats()).deployments).toMatchObject({ refused: 2, created: 2, live: 0 });
  });

  it('sends the key in api-key (never as a bearer) to the data plane and the ARM token as a bearer', () => {
    const data = sent.filter((s) => s.path.startsWith('/openai/v1/'));
    const arm = sent.filter((s) => s.path.startsWith('/subscriptions/'));
    expect(data.length).toBeGreaterThan(0);
    expect(arm.length).toBeGreaterThan(0);
    for (const s of data) {
      expect(s.headers.get('api-key')).toBe('test-key');
      expect(s.headers.get('authorization')).toBeNull();
    }
    for (const s of arm) expect(s.headers.get('authorization')).toBe('Bearer test-arm-token');
  });

  it('asks Entra ID for a data-plane and an ARM token when neither a key nor an ARM token is set', async () => {
    const scopes: string[] = [];
    const credential: TokenCredential = {
      getToken: async (scope): Promise<AccessToken> => {
        scopes.push(...(Array.isArray(scope) ? scope : [scope]));
        return { token: `entra-${scopes.length}`, expiresOnTimestamp: Date.now() + 3600_000 };
      },
    };
    const headers: Headers[] = [];
    const entra = createAzureProvider(
      { ...localAzureConfig(backend), apiKey: undefined, resourceManagerToken: undefined },
      {
        credential,
        fetch: async (input, init) => {
          headers.push(new Headers(init?.headers));
          return fetch(input, init);
        },
      },
    );
    await entra.jobsOfWorkflow(tags.workflowId);
    await entra.serving?.list('tf-');
    expect(scopes).toEqual(['https://cognitiveservices.azure.com/.default', `${backend.origin}/.default`]);
    expect(headers.map((h) => h.get('authorization'))).toEqual(['Bearer entra-1', 'Bearer entra-2']);
    expect(headers.every((h) => h.get('api-key') === null)).toBe(true);
  });

  it('classifies a refused key as a non-retryable failure naming the Azure variables', async () => {
    await backend.settings({ revokedKeys: true });
    try {
      const failure = await failureOf(provider.getJob(job.id));
      expect(failure.nonRetryable).toBe(true);
      expect(failure.type).toBe('AuthenticationError');
      expect(failure.message).toContain('AZURE_OPENAI_API_KEY');
      expect(failure.message).not.toContain('OPENAI_BASE_URL');
    } finally {
      await backend.settings({ revokedKeys: false });
    }
  });

  it('treats a file or deployment that is already gone as removed', async () => {
    await expect(provider.deleteFile('file-00000000000000000000000000000000')).resolves.toBeUndefined();
    expect(await provider.serving?.remove('tf-never-made')).toBe('missing');
  });

  it('reports the options Azure lacks before anything is sent, and maps SKU names to ARM spelling', () => {
    expect(provider.optionProblems({ model: 'gpt-4o-mini-2024-07-18', hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.1 } })).toEqual([]);
    expect(provider.optionProblems({ model: 'gpt-4o-mini-2024-07-18', hyperparameters: { lora_r: 8 } })).toEqual([
      'hyperparameters.lora_r: Azure OpenAI supervised fine-tuning takes only n_epochs, batch_size and learning_rate_multiplier',
    ]);
    expect(provider.optionProblems({ model: 'gpt-4o-mini-2024-07-18', hyperparameters: { batch_size: 'max' } })).toEqual(['hyperparameters.batch_size: Azure OpenAI takes a number or "auto", not "max"']);
    expect(['Developer', 'developertier', 'DeveloperTier', 'global-standard', 'Standard'].map(armSkuName)).toEqual([
      'DeveloperTier',
      'DeveloperTier',
      'DeveloperTier',
      'GlobalStandard',
      'Standard',
    ]);
    expect(() => createAzureProvider({ ...localAzureConfig(backend), endpoint: undefined, account: undefined })).toThrow(
      'TUNEFLOW_PROVIDER=azure needs AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_ACCOUNT',
    );
    expect(provider.kind).toBe('azure');
    expect(provider.checkpointsHaveLoss).toBe(true);
    expect(provider.serving?.kind).toBe('deployment');
    expect(provider.chat()).toBeInstanceOf(OpenAI);
  });
});
