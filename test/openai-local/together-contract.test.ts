// Every together-dialect response the tests provoke, success and error, validated against Together's spec.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Together } from 'together-ai';
import type { FileResponse } from 'together-ai/resources/files';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBackend, startLocalBackend } from '../../src/openai-local/index';
import { contractFetch, newContractLog, TOGETHER_BACKEND_OPERATIONS, togetherContract, validateTogetherResponse } from './openapi-contract';
import { trainingJsonl, validationJsonl } from './helpers';

const BASE = 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference';
const DEDICATED_BASE = 'Qwen/Qwen2.5-7B-Instruct';
const TERMINAL = new Set(['completed', 'error', 'cancelled']);

let backend: LocalBackend;
let client: Together;
let dir: string;
const contract = newContractLog();

async function admin(path: string, body: unknown): Promise<void> {
  await fetch(backend.url.replace(/\/v1$/, '') + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function upload(content: string, name: string, purpose = 'fine-tune'): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, content);
  const form = new FormData();
  form.append('purpose', purpose);
  form.append('file_name', name);
  form.append('file', new Blob([content]), name);
  return (await client.post<FileResponse>('/files/upload', { body: form })).id;
}

async function waitFor(id: string, done: (status: string) => boolean): Promise<string> {
  for (;;) {
    const job = await client.fineTuning.retrieve(id);
    if (done(job.status)) return job.status;
    await new Promise((r) => setTimeout(r, 40));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'together-contract-'));
  // Slow enough to observe running and cancel_requested, fast enough that a job ends in about two seconds.
  backend = await startLocalBackend({ port: 0, stateDir: join(dir, 'state'), dialect: 'together', timeScale: 300, seed: 1 });
  client = new Together({ apiKey: 'together-local-test', baseURL: backend.url, maxRetries: 0, fetch: contractFetch(contract, togetherContract) });
});
afterAll(async () => {
  await backend.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Together's OpenAPI contract", () => {
  it('rejects bodies that break the spec (the validator is not vacuous)', () => {
    expect(validateTogetherResponse('GET /fine-tunes/{id}', 200, { id: 'ft-x' }).valid).toBe(false);
    expect(validateTogetherResponse('GET /files', 200, { data: [{ id: 'file-x' }] }).valid).toBe(false);
    expect(validateTogetherResponse('GET /fine-tunes/{id}', 200, { id: 'ft-x', status: 'succeeded' }).valid).toBe(false);
    expect(validateTogetherResponse('chat-completions', 404, { error: { message: 'x' } }).valid).toBe(false);
    expect(validateTogetherResponse('chat-completions', 404, { error: { message: 'x', type: 'invalid_request_error' } }).valid).toBe(true);
  });

  it('answers every files operation with bodies that match the spec', async () => {
    const train = await upload(trainingJsonl(), 'train.jsonl');
    const extra = await upload(validationJsonl(), 'extra.jsonl', 'eval');
    expect((await client.files.list()).data.map((f) => f.id)).toEqual(expect.arrayContaining([train, extra]));
    expect(await client.files.retrieve(train)).toMatchObject({ id: train, filename: 'train.jsonl', purpose: 'fine-tune', FileType: 'jsonl' });
    expect(await client.files.delete(extra)).toEqual({ id: extra, deleted: true });
  });

  it('answers every fine-tuning operation in every job state with bodies that match the spec', async () => {
    const train = await upload(trainingJsonl(), 'train-2.jsonl');
    const valid = await upload(validationJsonl(), 'valid-2.jsonl');
    const job = await client.fineTuning.create({
      model: BASE,
      training_file: train,
      validation_file: valid,
      suffix: 'contract',
      n_epochs: 3,
      n_checkpoints: 3,
      n_evals: 3,
      batch_size: 'max',
      learning_rate: 2e-5,
      random_seed: 3,
      training_type: { type: 'Lora', lora_r: 16, lora_alpha: 32, lora_dropout: 0.05, lora_trainable_modules: 'all-linear' },
    });
    expect(job.status).toBe('pending');
    expect(job.model_output_name).toMatch(/^tuneflow-local\/meta-llama\/Meta-Llama-3\.1-8B-Instruct-Reference-contract-[0-9a-z]{8}$/);
    await waitFor(job.id, (s) => s === 'running');
    await client.fineTuning.listEvents(job.id);
    await client.fineTuning.listCheckpoints(job.id);
    await client.fineTuning.listMetrics(job.id, { global_step_from: 1 });
    expect(await waitFor(job.id, (s) => TERMINAL.has(s))).toBe('completed');
    const events = await client.fineTuning.listEvents(job.id);
    expect(events.data.map((e) => e.type)).toEqual(expect.arrayContaining(['job_pending', 'training_start', 'checkpoint_save', 'epoch_complete', 'job_complete']));
    const checkpoints = await client.fineTuning.listCheckpoints(job.id);
    expect(checkpoints.data.map((c) => c.checkpoint_type)).toEqual(['Final', 'Intermediate', 'Intermediate']);
    const metrics = (await client.fineTuning.listMetrics(job.id)).metrics ?? [];
    const evalSteps = metrics.filter((m) => m['eval/loss'] !== undefined).map((m) => m['train/global_step']);
    expect(evalSteps).toEqual([...checkpoints.data].reverse().map((c) => c.step));
    expect(metrics.filter((m) => m['train/loss'] !== undefined).length).toBe(checkpoints.data[0]?.step);
    await client.fineTuning.list();

    const full = await client.fineTuning.create({ model: DEDICATED_BASE, training_file: train, training_type: { type: 'Full' } });
    const requested = await client.fineTuning.cancel(full.id);
    expect(requested.status).toBe('cancel_requested');
    expect(await waitFor(full.id, (s) => TERMINAL.has(s))).toBe('cancelled');
    await client.fineTuning.cancel(full.id);
  });

  it('answers chat for serverless fine-tunes, refuses a dedicated-only model until its endpoint has STARTED, and deletes endpoints', async () => {
    const train = await upload(trainingJsonl(), 'train-3.jsonl');
    const lora = (await client.fineTuning.list()).data.find((j) => j.suffix === 'contract');
    const served = lora?.model_output_name ?? '';
    const chat = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'refund money please' }], max_tokens: 8 });
    expect((await chat(served)).choices[0]?.message?.role).toBe('assistant');
    expect((await chat(`${served}:${(await client.fineTuning.listCheckpoints(lora?.id ?? '')).data[1]?.step ?? 0}`)).choices.length).toBe(1);
    expect((await chat(BASE)).choices.length).toBe(1);

    const full = await client.fineTuning.create({ model: DEDICATED_BASE, training_file: train, n_epochs: 1, training_type: { type: 'Full' }, suffix: 'dedicated' });
    await waitFor(full.id, (s) => TERMINAL.has(s));
    const model = (await client.fineTuning.retrieve(full.id)).model_output_name ?? '';
    await expect(chat(model)).rejects.toMatchObject({ status: 400 });
    const endpoint = await client.endpoints.create({ model, hardware: '1x_nvidia_h100_80gb_sxm', display_name: 'tuneflow-contract', autoscaling: { min_replicas: 1, max_replicas: 1 } });
    expect(endpoint.state).toBe('PENDING');
    await expect(chat(model)).rejects.toMatchObject({ status: 400 });
    await client.endpoints.list();
    await client.endpoints.list({ type: 'dedicated', mine: true });
    for (;;) {
      const e = await client.endpoints.retrieve(endpoint.id);
      if (e.state === 'STARTED') break;
      await new Promise((r) => setTimeout(r, 40));
    }
    expect((await chat(model)).choices.length).toBe(1);
    expect((await chat(endpoint.name)).choices.length).toBe(1);
    await client.endpoints.delete(endpoint.id);
    await expect(chat(model)).rejects.toMatchObject({ status: 400 });
  });

  it("answers errors of every kind in Together's ErrorData envelope", async () => {
    const expectStatus = async (p: Promise<unknown>, status: number): Promise<void> => {
      await expect(p).rejects.toMatchObject({ status });
    };
    await expectStatus(client.files.retrieve('file-missing'), 404);
    await expectStatus(client.files.delete('file-missing'), 404);
    await expectStatus(client.fineTuning.retrieve('ft-missing'), 404);
    await expectStatus(client.fineTuning.listEvents('ft-missing'), 404);
    await expectStatus(client.fineTuning.listCheckpoints('ft-missing'), 404);
    await expectStatus(client.fineTuning.listMetrics('ft-missing'), 404);
    await expectStatus(client.fineTuning.cancel('ft-missing'), 404);
    await expectStatus(client.fineTuning.create({ model: 'gpt-4o-mini', training_file: 'file-x' }), 400);
    const train = (await client.files.list()).data.find((f) => f.purpose === 'fine-tune')?.id ?? '';
    await expectStatus(client.fineTuning.create({ model: BASE, training_file: train, n_evals: 2 }), 400);
    await expectStatus(client.fineTuning.create({ model: BASE, training_file: train, training_type: { type: 'Lora' } as never }), 400);
    const done = (await client.fineTuning.list()).data.find((j) => j.status === 'completed');
    await expectStatus(client.fineTuning.cancel(done?.id ?? ''), 400);
    await expectStatus(client.endpoints.retrieve('endpoint-missing'), 404);
    await expectStatus(client.endpoints.delete('endpoint-missing'), 404);
    await expectStatus(client.endpoints.create({ model: BASE, hardware: 'a-toaster', autoscaling: { min_replicas: 1, max_replicas: 1 } }), 400);
    await expectStatus(client.chat.completions.create({ model: 'nobody/nothing', messages: [{ role: 'user', content: 'hi' }] }), 404);
    await admin('/_admin/settings', { refuseFineTuning: true });
    await expectStatus(client.fineTuning.create({ model: BASE, training_file: train }), 403);
    await admin('/_admin/settings', { refuseFineTuning: false, rpm: 6 });
    await Promise.all(Array.from({ length: 3 }, () => client.files.list().catch(() => undefined)));
    await expectStatus(client.files.list(), 429);
    await admin('/_admin/settings', { rpm: 0 });

    // Without Authorization the SDK cannot be used at all, so this one goes through the contract fetch directly.
    const res = await contractFetch(contract, togetherContract)(`${backend.url}/files`, { method: 'GET' });
    expect(res.status).toBe(401);
  });

  it('has checked a 2xx answer of every implemented operation, counted the endpoints and found zero violations', async () => {
    expect(contract.violations).toEqual([]);
    for (const op of TOGETHER_BACKEND_OPERATIONS) expect(contract.checked[op] ?? 0, op).toBeGreaterThan(0);
    expect(Object.keys(contract.checked).filter((k) => k.endsWith(':error')).length).toBeGreaterThanOrEqual(10);
    const stats = (await (await fetch(backend.url.replace(/\/v1$/, '/_admin/stats'))).json()) as { endpoints: Record<string, number> };
    expect(stats.endpoints).toEqual({ live: 0, created: 1, deleted: 1 });
  });
});
