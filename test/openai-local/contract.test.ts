// Every response of every implemented operation, success and error, validated against the OpenAI spec.
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_OPERATIONS, contractFetch, validateResponse } from './openapi-contract';
import { type Harness, startHarness, trainingJsonl, upload, validationJsonl, waitForJob } from './helpers';

let h: Harness;
beforeAll(async () => {
  // Slow enough to observe running/paused, fast enough to finish a job in ~1.5 s.
  h = await startHarness({ timeScale: 300 });
});
afterAll(async () => {
  await h.close();
});

describe('OpenAPI contract', () => {
  it('rejects bodies that break the spec (the validator is not vacuous)', () => {
    expect(validateResponse('retrieveFineTuningJob', 200, { id: 'ftjob-x', object: 'fine_tuning.job' }).valid).toBe(false);
    expect(validateResponse('listFiles', 200, { object: 'list', data: [{ id: 'file-x' }], has_more: false }).valid).toBe(false);
    expect(validateResponse('createChatCompletion', 404, { error: { message: 'x', type: 't' } }).valid).toBe(false);
    expect(validateResponse('createChatCompletion', 404, { error: { message: 'x', type: 't', param: null, code: null } }).valid).toBe(true);
  });

  it('answers every files operation with bodies that match the spec', async () => {
    const train = await upload(h.client, trainingJsonl());
    const extra = await upload(h.client, validationJsonl(), 'extra.jsonl');
    await h.client.files.list();
    await h.client.files.list({ purpose: 'fine-tune', limit: 1, order: 'asc' });
    await h.client.files.retrieve(train);
    expect(await (await h.client.files.content(extra)).text()).toBe(validationJsonl());
    const deleted = await h.client.files.delete(extra);
    expect(deleted).toMatchObject({ id: extra, deleted: true });
  });

  it('answers every fine-tuning operation in every job state with bodies that match the spec', async () => {
    const train = await upload(h.client, trainingJsonl());
    const valid = await upload(h.client, validationJsonl(), 'valid.jsonl');
    const job = await h.client.fineTuning.jobs.create({
      model: 'gpt-4o-mini',
      training_file: train,
      validation_file: valid,
      suffix: 'contract',
      seed: 3,
      metadata: { suite: 'contract' },
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3 } } },
    });
    expect(job.status).toBe('validating_files');
    await waitForJob(h.client, job.id, (j) => j.status === 'queued' || j.status === 'running');
    await waitForJob(h.client, job.id, (j) => j.status === 'running');
    const paused = await h.client.fineTuning.jobs.pause(job.id);
    expect(paused.status).toBe('paused');
    await h.client.fineTuning.jobs.listEvents(job.id, { limit: 5 });
    await h.client.fineTuning.jobs.checkpoints.list(job.id);
    const resumed = await h.client.fineTuning.jobs.resume(job.id);
    expect(resumed.status).toBe('running');
    const done = await waitForJob(h.client, job.id);
    expect(done.status).toBe('succeeded');
    await h.client.fineTuning.jobs.list({ limit: 2 });
    await h.client.fineTuning.jobs.list({ metadata: { suite: 'contract' } });
    await h.client.fineTuning.jobs.listEvents(job.id, { limit: 100 });
    await h.client.fineTuning.jobs.checkpoints.list(job.id, { limit: 2 });

    const other = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini-2024-07-18', training_file: train });
    const cancelled = await h.client.fineTuning.jobs.cancel(other.id);
    expect(cancelled.status).toBe('cancelled');
  });

  it('answers chat completions and models for base, fine-tuned and checkpoint models with bodies that match the spec', async () => {
    const [job] = (await h.client.fineTuning.jobs.list({ metadata: { suite: 'contract' } })).data;
    const ft = job?.fine_tuned_model;
    expect(ft).toMatch(/^ft:gpt-4o-mini-2024-07-18:tuneflow-local:contract:[A-Za-z0-9]{8}$/);
    const ckpt = (await h.client.fineTuning.jobs.checkpoints.list(job?.id ?? '')).data[0]?.fine_tuned_model_checkpoint ?? '';
    for (const model of ['gpt-4o-mini', ft ?? '', ckpt]) {
      const r = await h.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'refund money please' }], max_completion_tokens: 8 });
      expect(r.choices[0]?.message.role).toBe('assistant');
      await h.client.models.retrieve(model);
    }
    const models = await h.client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining([ft, ckpt, 'gpt-4o-mini-2024-07-18']));
  });

  it('answers errors of every kind in the ErrorResponse envelope', async () => {
    const expectStatus = async (p: Promise<unknown>, status: number): Promise<void> => {
      await expect(p).rejects.toMatchObject({ status });
    };
    await expectStatus(h.client.files.retrieve('file-missing'), 404);
    await expectStatus(h.client.files.content('file-missing'), 404);
    await expectStatus(h.client.files.delete('file-missing'), 404);
    await expectStatus(h.client.fineTuning.jobs.retrieve('ftjob-missing'), 404);
    await expectStatus(h.client.fineTuning.jobs.cancel('ftjob-missing'), 404);
    await expectStatus(h.client.fineTuning.jobs.pause('ftjob-missing'), 404);
    await expectStatus(h.client.fineTuning.jobs.resume('ftjob-missing'), 404);
    await expectStatus(h.client.fineTuning.jobs.listEvents('ftjob-missing'), 404);
    await expectStatus(h.client.fineTuning.jobs.checkpoints.list('ftjob-missing'), 404);
    await expectStatus(h.client.models.retrieve('ft:nope'), 404);
    await expectStatus(h.client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }), 404);
    await expectStatus(h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }), 400);
    await expectStatus(h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: 'file-missing' }), 400);
    await expectStatus(h.client.fineTuning.jobs.create({ model: 'davinci-003', training_file: 'file-missing' }), 400);
    await expectStatus(h.client.files.create({ file: await toFile(Buffer.from('x'), 'a.txt'), purpose: 'fine-tune' }), 400);
    await expectStatus(h.client.files.list({ limit: 0 }), 400);
    await expectStatus(h.client.fineTuning.jobs.list({ after: 'ftjob-unknown' }), 400);
    const [done] = (await h.client.fineTuning.jobs.list({ metadata: { suite: 'contract' } })).data;
    await expectStatus(h.client.fineTuning.jobs.pause(done?.id ?? ''), 409);
    await expectStatus(h.client.fineTuning.jobs.resume(done?.id ?? ''), 409);
    await expectStatus(h.client.fineTuning.jobs.cancel(done?.id ?? ''), 409);

    await h.admin('/_admin/settings', { refuseFineTuning: true });
    await expectStatus(h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: 'file-x' }), 403);
    await h.admin('/_admin/settings', { refuseFineTuning: false, rpm: 6 });
    await h.client.models.list();
    await expectStatus(h.client.models.list(), 429);
    await h.admin('/_admin/settings', { rpm: 0, faultRate: 1 });
    // Every kind of fault is drawn within a few requests at faultRate 1; dropped connections have no body to check.
    await Promise.all(Array.from({ length: 12 }, () => h.client.models.list().catch(() => undefined)));
    await h.admin('/_admin/settings', { faultRate: 0 });

    // Without Authorization the SDK cannot even be used, so this one goes through the contract fetch directly.
    const raw = contractFetch(h.contract);
    const res = await raw(`${h.backend.url}/models`, { method: 'GET' });
    expect(res.status).toBe(401);
    expect(validateResponse('listModels', 401, await res.json()).valid).toBe(true);
  });

  it('has checked a 2xx answer of every implemented operation and found zero violations', () => {
    expect(h.contract.violations).toEqual([]);
    for (const op of BACKEND_OPERATIONS) expect(h.contract.checked[op] ?? 0, op).toBeGreaterThan(0);
    expect(Object.keys(h.contract.checked).filter((k) => k.endsWith(':error')).length).toBeGreaterThanOrEqual(10);
  });
});
