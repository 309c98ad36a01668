// Job lifecycle: success with all fields, malformed files, job-failure mode, cancel, pause/resume.
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, trainingJsonl, upload, validationJsonl, waitForJob } from './helpers';

let h: Harness;
let slow: Harness;
beforeAll(async () => {
  h = await startHarness();
  // Real-time-ish scale so running/paused states last long enough to act on.
  slow = await startHarness({ timeScale: 300 });
});
afterAll(async () => {
  await h.close();
  await slow.close();
  expect(h.contract.violations).toEqual([]);
  expect(slow.contract.violations).toEqual([]);
});

describe('job lifecycle', () => {
  it('succeeds with resolved hyperparameters, an OpenAI-style model name, result CSV, tokens and timestamps', async () => {
    const train = await upload(h.client, trainingJsonl());
    const valid = await upload(h.client, validationJsonl(), 'valid.jsonl');
    const created = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, validation_file: valid, seed: 11 });
    expect(created).toMatchObject({ status: 'validating_files', model: 'gpt-4o-mini-2024-07-18', fine_tuned_model: null, finished_at: null, seed: 11, integrations: null });
    const seen = new Set<string>([created.status]);
    const job = await waitForJob(h.client, created.id, (j) => {
      seen.add(j.status);
      return j.status === 'succeeded' || j.status === 'failed';
    });
    expect(job.status).toBe('succeeded');
    expect(seen.has('running') || seen.has('queued')).toBe(true);
    // 160 examples: auto resolves to 3 epochs, batch size 1.
    expect(job.hyperparameters).toEqual({ n_epochs: 3, batch_size: 1, learning_rate_multiplier: 1.8 });
    expect(job.method).toEqual({ type: 'supervised', supervised: { hyperparameters: job.hyperparameters } });
    expect(job.fine_tuned_model).toMatch(/^ft:gpt-4o-mini-2024-07-18:tuneflow-local::[A-Za-z0-9]{8}$/);
    expect(job.trained_tokens).toBeGreaterThan(0);
    expect(job.finished_at).toBeGreaterThan(job.created_at);
    expect(job.error).toBeNull();
    expect(job.result_files).toHaveLength(1);
    const resultFile = await h.client.files.retrieve(job.result_files[0] ?? '');
    expect(resultFile.purpose).toBe('fine-tune-results');
    const csv = (await (await h.client.files.content(resultFile.id)).text()).trim().split('\n');
    expect(csv[0]).toBe('step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy');
    expect(csv).toHaveLength(1 + 480);

    const events = (await h.client.fineTuning.jobs.listEvents(job.id, { limit: 10_000 })).data;
    const times = events.map((e) => e.created_at);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(events[0]?.message).toBe('The job has successfully completed');
    expect(events.at(-1)?.message).toBe(`Created fine-tuning job: ${job.id}`);
    const metrics = events.filter((e) => e.type === 'metrics');
    expect(metrics).toHaveLength(480);
    expect(metrics[0]?.data).toMatchObject({ step: 480, total_steps: 480 });
    expect(metrics.some((e) => (e.data as { valid_loss?: number }).valid_loss !== undefined)).toBe(true);
    expect(events.every((e) => e.created_at >= job.created_at && e.created_at <= (job.finished_at ?? 0))).toBe(true);

    // One checkpoint per epoch; the job's three epochs are all kept.
    const ckpts = (await h.client.fineTuning.jobs.checkpoints.list(job.id)).data;
    expect(ckpts.map((c) => c.step_number)).toEqual([480, 320, 160]);
    expect(ckpts[0]?.fine_tuned_model_checkpoint).toBe(`${job.fine_tuned_model}:ckpt-step-480`);
    expect(ckpts[0]?.id).toMatch(/^ftckpt_/);
    expect(ckpts[0]?.metrics).toHaveProperty('full_valid_loss');
    expect(ckpts[0]?.metrics).toHaveProperty('full_valid_mean_token_accuracy');
  });

  it('reports estimated_finish while running and a suffix in the model name', async () => {
    const train = await upload(slow.client, trainingJsonl());
    const created = await slow.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, suffix: 'support-v1' });
    const running = await waitForJob(slow.client, created.id, (j) => j.status === 'running');
    // On the caller's wall clock (the simulated one runs ahead): in the future, and a real job-length away at most.
    const realNowSec = Date.now() / 1000;
    expect(running.estimated_finish).toBeGreaterThan(realNowSec - 1);
    expect(running.estimated_finish).toBeLessThan(realNowSec + 60);
    await slow.client.fineTuning.jobs.cancel(created.id);
    const stored = await slow.client.fineTuning.jobs.retrieve(created.id);
    expect((stored as unknown as { user_provided_suffix: string }).user_provided_suffix).toBe('support-v1');
  });

  it('fails a job whose training file is malformed, naming the training_file param', async () => {
    const bad = trainingJsonl().replace(/"role":"assistant"/g, '"role":"robot"');
    const job = await waitForJob(h.client, (await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: await upload(h.client, bad) })).id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'invalid_training_file', param: 'training_file' });
    expect(job.fine_tuned_model).toBeNull();
  });

  it('fails a job whose training file is not JSONL or has fewer than 10 examples', async () => {
    const notJson = await upload(h.client, 'this is not json\n');
    const tooFew = await upload(h.client, trainingJsonl(1).split('\n').slice(0, 5).join('\n'));
    const noAssistant = await upload(h.client, JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) + '\n');
    for (const file of [notJson, tooFew, noAssistant]) {
      const job = await waitForJob(h.client, (await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file })).id);
      expect(job.status).toBe('failed');
      expect(job.error?.param).toBe('training_file');
    }
    const tooFewJob = (await h.client.fineTuning.jobs.list({ limit: 2 })).data[1];
    expect(tooFewJob?.error?.message).toMatch(/at least 10 examples/);
  });

  it('fails a job whose validation file is malformed, naming the validation_file param', async () => {
    const train = await upload(h.client, trainingJsonl());
    const valid = await upload(h.client, '{"messages": "nope"}\n', 'valid.jsonl');
    const job = await waitForJob(h.client, (await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, validation_file: valid })).id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'invalid_validation_file', param: 'validation_file' });
  });

  it('fails running jobs midway with a server_error in job-failure mode', async () => {
    await h.admin('/_admin/settings', { failJobs: true });
    const train = await upload(h.client, trainingJsonl());
    const job = await waitForJob(h.client, (await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train })).id);
    await h.admin('/_admin/settings', { failJobs: false });
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'server_error', param: null });
    const metrics = (await h.client.fineTuning.jobs.listEvents(job.id, { limit: 1000 })).data.filter((e) => e.type === 'metrics');
    expect(metrics).toHaveLength(240);
    expect(job.fine_tuned_model).toBeNull();
  });

  it('cancels a running job and stops its timeline', async () => {
    const train = await upload(slow.client, trainingJsonl());
    const created = await slow.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train });
    await waitForJob(slow.client, created.id, (j) => j.status === 'running');
    const cancelled = await slow.client.fineTuning.jobs.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    const eventsAtCancel = (await slow.client.fineTuning.jobs.listEvents(created.id, { limit: 1000 })).data;
    await new Promise((r) => setTimeout(r, 300));
    const later = await slow.client.fineTuning.jobs.retrieve(created.id);
    expect(later.status).toBe('cancelled');
    expect((await slow.client.fineTuning.jobs.listEvents(created.id, { limit: 1000 })).data).toEqual(eventsAtCancel);
    // Cancelling again is harmless; the job stays cancelled.
    expect((await slow.client.fineTuning.jobs.cancel(created.id)).status).toBe('cancelled');
  });

  it('pauses a running job (no progress while paused) and resumes it to success', async () => {
    const train = await upload(slow.client, trainingJsonl());
    const created = await slow.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train });
    await waitForJob(slow.client, created.id, (j) => j.status === 'running');
    expect((await slow.client.fineTuning.jobs.pause(created.id)).status).toBe('paused');
    const steps = async (): Promise<number> =>
      (await slow.client.fineTuning.jobs.listEvents(created.id, { limit: 1000 })).data.filter((e) => e.type === 'metrics').length;
    const before = await steps();
    await new Promise((r) => setTimeout(r, 250));
    expect(await steps()).toBe(before);
    expect((await slow.client.fineTuning.jobs.retrieve(created.id)).status).toBe('paused');
    expect((await slow.client.fineTuning.jobs.resume(created.id)).status).toBe('running');
    const done = await waitForJob(slow.client, created.id);
    expect(done.status).toBe('succeeded');
    const messages = (await slow.client.fineTuning.jobs.listEvents(created.id, { limit: 1000 })).data.map((e) => e.message);
    expect(messages).toEqual(expect.arrayContaining(['Fine-tuning job paused', 'Fine-tuning job resumed']));
  });
});

describe('uploads', () => {
  it('streams a large upload to disk and serves it back byte for byte', async () => {
    const line = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(1000) }, { role: 'assistant', content: 'y' }] }) + '\n';
    const big = Buffer.from(line.repeat(24_000));
    const file = await h.client.files.create({ file: await toFile(big, 'big.jsonl'), purpose: 'fine-tune' });
    expect(file.bytes).toBe(big.length);
    const back = Buffer.from(await (await h.client.files.content(file.id)).arrayBuffer());
    expect(back.equals(big)).toBe(true);
    await h.client.files.delete(file.id);
    await expect(h.client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
  });
});
