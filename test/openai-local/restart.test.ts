// A backend restart mid-job keeps files and jobs; the job continues on its simulated timeline and completes.
import { mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, trainingJsonl, upload, validationJsonl, waitForJob } from './helpers';

let h: Harness;
const stateDir = mkdtempSync(join(tmpdir(), 'openai-local-restart-'));
beforeAll(async () => {
  h = await startHarness({ stateDir, timeScale: 400 });
});
afterAll(async () => {
  await h.close();
  await rm(stateDir, { recursive: true, force: true });
  expect(h.contract.violations).toEqual([]);
});

describe('restart', () => {
  it('keeps files and jobs across a restart mid-job, and the job still completes with a consistent timeline', async () => {
    const train = await upload(h.client, trainingJsonl());
    const valid = await upload(h.client, validationJsonl(), 'valid.jsonl');
    const job = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, validation_file: valid, seed: 9, metadata: { run: 'restart' } });
    const waiting = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, seed: 10 });
    await waitForJob(h.client, job.id, (j) => j.status === 'running');
    await new Promise((r) => setTimeout(r, 100));
    const eventsBefore = (await h.client.fineTuning.jobs.listEvents(job.id, { limit: 10_000 })).data;
    // The restart really happens mid-training: some steps reported, not all.
    const stepsBefore = eventsBefore.filter((e) => e.type === 'metrics').length;
    expect(stepsBefore).toBeGreaterThan(0);
    expect(stepsBefore).toBeLessThan(480);

    await h.restart();

    expect((await h.client.files.retrieve(train)).filename).toBe('train.jsonl');
    expect(await (await h.client.files.content(valid)).text()).toBe(validationJsonl());
    const after = await h.client.fineTuning.jobs.retrieve(job.id);
    expect(['running', 'succeeded']).toContain(after.status);
    expect(after.metadata).toEqual({ run: 'restart' });
    const eventsAfter = (await h.client.fineTuning.jobs.listEvents(job.id, { limit: 10_000 })).data;
    // Everything reported before the restart is still there, unchanged, with newer events on top.
    expect(eventsAfter.slice(eventsAfter.length - eventsBefore.length)).toEqual(eventsBefore);

    const done = await waitForJob(h.client, job.id);
    expect(done.status).toBe('succeeded');
    expect((await waitForJob(h.client, waiting.id)).status).toBe('succeeded');
    const events = (await h.client.fineTuning.jobs.listEvents(job.id, { limit: 10_000 })).data;
    const steps = events.filter((e) => e.type === 'metrics').map((e) => (e.data as { step: number }).step);
    expect(steps).toEqual(Array.from({ length: 480 }, (_, i) => 480 - i));
    const times = events.map((e) => e.created_at);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const reply = await h.client.chat.completions.create({ model: done.fine_tuned_model ?? '', messages: [{ role: 'user', content: 'refund money charge' }] });
    expect(reply.choices[0]?.message.content).toMatch(/refund/);
  });

  it('validates a job again after a restart that interrupted its file validation', async () => {
    const train = await upload(h.client, trainingJsonl());
    const job = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train });
    await h.backend.close();
    // Rewind the persisted record to "validation never finished", as if the process died mid-validation.
    const path = join(stateDir, 'jobs', `${job.id}.json`);
    const record = JSON.parse(await readFile(path, 'utf8')) as { validation: unknown; final: unknown };
    record.validation = null;
    record.final = null;
    await writeFile(path, JSON.stringify(record));
    await h.restart({ timeScale: 2000 });
    expect((await waitForJob(h.client, job.id)).status).toBe('succeeded');
  });
});
