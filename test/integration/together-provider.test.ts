// The Together adapter against the local backend's together dialect, over HTTP.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickBestCheckpoint } from '../../src/domain/checkpoints';
import { isTerminalJobStatus } from '../../src/domain/stages';
import { createTogetherProvider } from '../../src/provider/together';
import type { FineTuneProvider, JobTags, ProviderJob } from '../../src/provider/types';
import { type Backend, startBackend, TEST_API_KEY } from '../helpers/stack';
import { trainingJsonl, validationJsonl } from '../openai-local/helpers';

const SERVERLESS_BASE = 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference';
const DEDICATED_BASE = 'Qwen/Qwen2.5-7B-Instruct';

let backend: Backend;
let provider: FineTuneProvider;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'together-provider-'));
  backend = await startBackend({ dialect: 'together', timeScale: 2000 });
  provider = createTogetherProvider({ apiKey: TEST_API_KEY, baseURL: backend.url, endpointHardware: '1x_nvidia_h100_80gb_sxm' });
});
afterAll(async () => {
  await backend?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Uploads a split file under the name the upload activity gives it (workflow id, role, content hash). */
async function uploadSplit(workflowId: string, role: 'train' | 'valid', content: string): Promise<string> {
  const sha = createHash('sha256').update(content).digest('hex');
  const file = path.join(dir, `${workflowId}-${role}.jsonl`);
  await writeFile(file, content);
  const { id } = await provider.uploadFile({ path: file, filename: `tuneflow-${workflowId}-${role}-${sha.slice(0, 16)}.jsonl`, bytes: (await stat(file)).size });
  return id;
}

async function createRun(opts: { model?: string; hyperparameters?: Record<string, unknown>; suffix?: string } = {}): Promise<{ job: ProviderJob; tags: JobTags; trainingFileId: string }> {
  const workflowId = `ft-together-${randomUUID().slice(0, 8)}`;
  const tags: JobTags = { workflowId, runId: randomUUID(), fingerprint: createHash('sha256').update(workflowId).digest('hex').slice(0, 32) };
  const trainingFileId = await uploadSplit(workflowId, 'train', trainingJsonl());
  const job = await provider.createJob({
    model: opts.model ?? SERVERLESS_BASE,
    trainingFileId,
    validationFileId: await uploadSplit(workflowId, 'valid', validationJsonl()),
    seed: 5,
    suffix: opts.suffix,
    hyperparameters: opts.hyperparameters ?? { n_epochs: 3 },
    tags,
  });
  return { job, tags, trainingFileId };
}

async function finished(id: string): Promise<ProviderJob> {
  for (;;) {
    const job = await provider.getJob(id);
    if (isTerminalJobStatus(job.status)) return job;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the Together adapter', () => {
  it("uploads with Together's fields, finds the file by name, and finds a tagged job again by its workflow id", async () => {
    const { job, tags, trainingFileId } = await createRun({ suffix: 'support' });
    expect(job.status).toBe('queued');
    expect(job.providerStatus).toBe('pending');
    expect(job.tags).toEqual(tags);

    const found = await provider.jobsOfWorkflow(tags.workflowId);
    expect(found.map((j) => [j.id, j.tags])).toEqual([[job.id, tags]]);
    expect(await provider.jobsOfWorkflow(`${tags.workflowId}-other`)).toEqual([]);
    expect((await provider.taggedJobs()).map((j) => j.id)).toContain(job.id);
    expect((await provider.getJob(job.id)).tags).toEqual(tags);

    const sha = createHash('sha256').update(trainingJsonl()).digest('hex');
    const name = `tuneflow-${tags.workflowId}-train-${sha.slice(0, 16)}.jsonl`;
    expect(await provider.findFile(name)).toEqual({ id: trainingFileId });
    expect(await provider.findFile('tuneflow-nobody-train-0000000000000000.jsonl')).toBeNull();
    // Together cancels by way of cancel_requested; at this time scale the job may be cancelled already.
    expect(['cancel_requested', 'cancelled']).toContain((await provider.cancelJob(job.id)).providerStatus);
    expect((await finished(job.id)).status).toBe('cancelled');
  });

  it('reads training and validation loss from the metrics endpoint, the cursor moving by global step', async () => {
    const { job } = await createRun();
    const done = await finished(job.id);
    expect(done).toMatchObject({ status: 'succeeded', providerStatus: 'completed', fineTunedModel: expect.stringMatching(/^tuneflow-local\/meta-llama\//) });

    const first = await provider.progressSince(job.id, null);
    expect(first.metrics.length).toBe(first.totalSteps);
    expect(first.metrics.every((r) => typeof r.trainLoss === 'number')).toBe(true);
    const withValid = first.metrics.filter((r) => r.validLoss !== null);
    expect(withValid.length).toBe(3);
    expect(withValid.every((r) => r.fullValidLoss === r.validLoss)).toBe(true);
    expect(first.cursor).toBe(String(first.totalSteps));

    const again = await provider.progressSince(job.id, first.cursor);
    expect(again).toMatchObject({ newEvents: 0, cursor: first.cursor, metrics: [] });
    const tail = await provider.progressSince(job.id, String((first.totalSteps ?? 0) - 2));
    expect(tail.metrics.map((r) => r.step)).toEqual([(first.totalSteps ?? 0) - 1, first.totalSteps]);
  });

  it('chooses the checkpoint with the lowest validation loss from the metrics, and the chosen model answers', async () => {
    const { job } = await createRun({ hyperparameters: { n_epochs: 4 } });
    await finished(job.id);
    const checkpoints = await provider.listCheckpoints(job.id);
    expect(checkpoints).toHaveLength(4);
    expect(checkpoints.every((c) => c.fullValidLoss !== null)).toBe(true);
    const output = (await provider.getJob(job.id)).fineTunedModel ?? '';
    expect(checkpoints.at(-1)?.model).toBe(output);
    expect(checkpoints[0]?.model).toBe(`${output}:${checkpoints[0]?.step}`);

    const chosen = pickBestCheckpoint(checkpoints, output);
    const lowest = Math.min(...checkpoints.map((c) => c.fullValidLoss ?? Infinity));
    expect(chosen).toMatchObject({ source: 'checkpoint', fullValidLoss: lowest });
    // The simulated validation curve bottoms out between epochs 2 and 3, so an intermediate checkpoint wins.
    expect(chosen.model).not.toBe(output);
    const answer = await provider.chat().chat.completions.create({ model: chosen.model, messages: [{ role: 'user', content: 'refund money please' }], max_tokens: 16 });
    expect(answer.choices[0]?.message.content).toBeTruthy();
  });

  it('chooses the final model when the job reports no validation loss', async () => {
    const { job } = await createRun({ hyperparameters: { n_epochs: 2, n_evals: 0 } });
    await finished(job.id);
    const checkpoints = await provider.listCheckpoints(job.id);
    expect(checkpoints.map((c) => c.fullValidLoss)).toEqual([null, null]);
    const output = (await provider.getJob(job.id)).fineTunedModel ?? '';
    expect(pickBestCheckpoint(checkpoints, output)).toMatchObject({ model: output, step: null, fullValidLoss: null, source: 'final', reason: expect.stringMatching(/no checkpoint reported a validation loss/) });
  });

  it('serves a LoRA fine-tune of a serverless base by its output name, creating nothing', async () => {
    const { job } = await createRun({ hyperparameters: { n_epochs: 1 } });
    const model = (await finished(job.id)).fineTunedModel ?? '';
    const before = (await backend.stats()).endpoints;
    const state = await provider.serving?.ensure({ name: 'tf-serverless', model, tags: job.tags as JobTags });
    expect(state).toMatchObject({ state: 'ready', created: false, servedAs: model });
    expect((await backend.stats()).endpoints).toEqual(before);
    expect(await provider.serving?.remove('tf-serverless')).toBe('missing');
  });

  it('creates a dedicated endpoint once per name, waits for STARTED, answers through it, and deletes it', async () => {
    const { job, tags } = await createRun({ model: DEDICATED_BASE, hyperparameters: { n_epochs: 1, lora: false } });
    const model = (await finished(job.id)).fineTunedModel ?? '';
    const serving = provider.serving;
    if (!serving) throw new Error('the Together adapter serves models');
    const name = `tf-${tags.workflowId}-final`;
    const created = (await backend.stats()).endpoints.created;

    const first = await serving.ensure({ name, model, tags });
    expect(first).toMatchObject({ name, model, state: 'provisioning', created: true });
    await expect(provider.chat().chat.completions.create({ model: first.servedAs, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 400 });
    const retried = await serving.ensure({ name, model, tags });
    expect(retried.servedAs).toBe(first.servedAs);
    expect((await backend.stats()).endpoints).toMatchObject({ live: 1, created: created + 1 });
    expect(await serving.list(`tf-${tags.workflowId}`)).toEqual([name]);

    let state = retried;
    while (state.state === 'provisioning') {
      await new Promise((r) => setTimeout(r, 25));
      state = await serving.state({ name, model });
    }
    expect(state.state).toBe('ready');
    const answer = await provider.chat().chat.completions.create({ model: state.servedAs, messages: [{ role: 'user', content: 'refund money please' }], max_tokens: 16 });
    expect(answer.choices[0]?.message.content).toBeTruthy();

    expect(await serving.remove(name)).toBe('deleted');
    expect(await serving.remove(name)).toBe('missing');
    expect((await serving.state({ name, model })).state).toBe('missing');
    expect((await backend.stats()).endpoints).toMatchObject({ live: 0, deleted: (await backend.stats()).endpoints.created });
  });

  it('fails a missing job without retrying, and cancelling a finished job returns it as it ended', async () => {
    const err = await provider.getJob('ft-missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ nonRetryable: true, type: 'NotFoundError' });
    const { job } = await createRun({ hyperparameters: { n_epochs: 1 } });
    await finished(job.id);
    expect(await provider.cancelJob(job.id)).toMatchObject({ status: 'succeeded', providerStatus: 'completed' });
  });
});
