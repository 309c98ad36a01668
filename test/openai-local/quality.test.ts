// Curves overfit with many epochs; fine-tuned models answer from their data; the best checkpoint beats an overfit one.
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, heldOutPrompts, overlap, startHarness, trainingJsonl, upload, validationJsonl, waitForJob } from './helpers';

let h: Harness;
let train: string;
let valid: string;
beforeAll(async () => {
  h = await startHarness();
  train = await upload(h.client, trainingJsonl());
  valid = await upload(h.client, validationJsonl(), 'valid.jsonl');
});
afterAll(async () => {
  await h.close();
  expect(h.contract.violations).toEqual([]);
});

async function trainJob(nEpochs: number, seed: number): Promise<{ id: string; model: string }> {
  const created = await h.client.fineTuning.jobs.create({
    model: 'gpt-4o-mini',
    training_file: train,
    validation_file: valid,
    seed,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: nEpochs } } },
  });
  const job = await waitForJob(h.client, created.id);
  expect(job.status).toBe('succeeded');
  return { id: job.id, model: job.fine_tuned_model ?? '' };
}

/** Mean token overlap of the model's answers with the expected replies on prompts it never saw. */
async function score(client: OpenAI, model: string): Promise<number> {
  const prompts = heldOutPrompts();
  let total = 0;
  for (const p of prompts) {
    const r = await client.chat.completions.create({ model, messages: [{ role: 'system', content: 'You are the friendly support assistant of Acme Shop.' }, { role: 'user', content: p.prompt }] });
    total += overlap(r.choices[0]?.message.content ?? '', p.expected);
  }
  return total / prompts.length;
}

async function checkpoints(id: string): Promise<{ model: string; step: number; loss: number }[]> {
  const list = await h.client.fineTuning.jobs.checkpoints.list(id);
  return list.data.map((c) => ({ model: c.fine_tuned_model_checkpoint, step: c.step_number, loss: c.metrics.full_valid_loss ?? NaN }));
}

describe('training curves and answer quality', () => {
  it('overfits with many epochs: train loss keeps falling, validation loss turns up, best checkpoint is not the last', async () => {
    const job = await trainJob(8, 5);
    const events = (await h.client.fineTuning.jobs.listEvents(job.id, { limit: 10_000 })).data.reverse();
    const metrics = events.filter((e) => e.type === 'metrics').map((e) => e.data as { step: number; train_loss: number; valid_loss?: number });
    const perEpoch = 160;
    const meanTrain = (epoch: number): number => {
      const xs = metrics.filter((m) => m.step > (epoch - 1) * perEpoch && m.step <= epoch * perEpoch).map((m) => m.train_loss);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    for (let e = 2; e <= 8; e++) expect(meanTrain(e)).toBeLessThan(meanTrain(e - 1));
    const validated = metrics.filter((m) => m.valid_loss !== undefined);
    const minValid = validated.reduce((best, m) => ((m.valid_loss ?? Infinity) < (best.valid_loss ?? Infinity) ? m : best));
    expect(minValid.step / perEpoch).toBeGreaterThan(1.5);
    expect(minValid.step / perEpoch).toBeLessThan(4);
    expect(validated.at(-1)?.valid_loss).toBeGreaterThan((minValid.valid_loss ?? 0) * 1.5);

    const ckpts = await checkpoints(job.id);
    expect(ckpts.map((c) => c.step)).toEqual([1280, 1120, 960]);
    const best = ckpts.reduce((a, b) => (b.loss < a.loss ? b : a));
    expect(best.step).not.toBe(1280);
  });

  it('produces identical curves for the same seed and data', async () => {
    const a = await trainJob(2, 77);
    const b = await trainJob(2, 77);
    const data = async (id: string): Promise<unknown[]> =>
      (await h.client.fineTuning.jobs.listEvents(id, { limit: 10_000 })).data.filter((e) => e.type === 'metrics').map((e) => e.data);
    expect(await data(a.id)).toEqual(await data(b.id));
    expect((await checkpoints(a.id)).map((c) => c.loss)).toEqual((await checkpoints(b.id)).map((c) => c.loss));
  });

  it('makes the fine-tuned model beat the base model on held-out prompts', async () => {
    const job = await trainJob(3, 21);
    const tuned = await score(h.client, job.model);
    const base = await score(h.client, 'gpt-4o-mini');
    expect(tuned).toBeGreaterThan(0.7);
    expect(base).toBeLessThan(0.2);
  });

  it('makes the best checkpoint (lowest full_valid_loss) answer better than an overfit checkpoint', async () => {
    const job = await trainJob(6, 5);
    const ckpts = await checkpoints(job.id);
    const best = ckpts.reduce((a, b) => (b.loss < a.loss ? b : a));
    const worst = ckpts.reduce((a, b) => (b.loss > a.loss ? b : a));
    expect(best.step).toBeLessThan(worst.step);
    const bestScore = await score(h.client, best.model);
    const worstScore = await score(h.client, worst.model);
    expect(bestScore).toBeGreaterThan(worstScore + 0.1);
  });
});
