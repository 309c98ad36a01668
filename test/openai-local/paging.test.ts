// Cursor paging without gaps or repeats (jobs, events, files, checkpoints) and the metadata filter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPages, type Harness, startHarness, trainingJsonl, upload, validationJsonl, waitForJob } from './helpers';

let h: Harness;
let train: string;
const jobIds: string[] = [];
beforeAll(async () => {
  h = await startHarness();
  train = await upload(h.client, trainingJsonl());
  for (let i = 0; i < 7; i++) {
    const job = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, metadata: { team: i % 2 === 0 ? 'even' : 'odd', n: String(i) } });
    jobIds.push(job.id);
  }
});
afterAll(async () => {
  await h.close();
  expect(h.contract.violations).toEqual([]);
});

describe('paging and filters', () => {
  it('pages fine-tuning jobs newest first with after/limit, without gaps or repeats', async () => {
    const all = await collectPages((after) => h.client.fineTuning.jobs.list({ limit: 2, ...(after ? { after } : {}) }));
    expect(all.map((j) => j.id)).toEqual([...jobIds].reverse());
  });

  it('filters jobs by metadata[k]=v, also while paging', async () => {
    const even = await collectPages((after) => h.client.fineTuning.jobs.list({ limit: 1, metadata: { team: 'even' }, ...(after ? { after } : {}) }));
    expect(even.map((j) => j.metadata?.n)).toEqual(['6', '4', '2', '0']);
    const one = await h.client.fineTuning.jobs.list({ metadata: { team: 'odd', n: '3' } });
    expect(one.data.map((j) => j.id)).toEqual([jobIds[3]]);
    expect((await h.client.fineTuning.jobs.list({ metadata: { team: 'nobody' } })).data).toEqual([]);
  });

  it('selects jobs without metadata with metadata=null', async () => {
    const plain = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train });
    const res = await fetch(`${h.backend.url}/fine_tuning/jobs?metadata=null`, { headers: { authorization: 'Bearer x' } });
    const body = (await res.json()) as { data: { id: string }[] };
    expect(body.data.map((j) => j.id)).toEqual([plain.id]);
    await h.client.fineTuning.jobs.cancel(plain.id);
  });

  it('pages events newest first without gaps or repeats, even while the job is still producing them', async () => {
    const id = jobIds[0] ?? '';
    const whileRunning = await collectPages((after) => h.client.fineTuning.jobs.listEvents(id, { limit: 7, ...(after ? { after } : {}) }));
    await waitForJob(h.client, id);
    const final = (await h.client.fineTuning.jobs.listEvents(id, { limit: 10_000 })).data.map((e) => e.id);
    const ids = whileRunning.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    // What was collected is a contiguous run of the final list, ending with the oldest event.
    const start = final.indexOf(ids[0] ?? '');
    expect(start).toBeGreaterThanOrEqual(0);
    expect(final.slice(start)).toEqual(ids);
    const paged = await collectPages((after) => h.client.fineTuning.jobs.listEvents(id, { limit: 13, ...(after ? { after } : {}) }));
    expect(paged.map((e) => e.id)).toEqual(final);
  });

  it('pages checkpoints with after/limit', async () => {
    const id = jobIds[1] ?? '';
    await waitForJob(h.client, id);
    const all = (await h.client.fineTuning.jobs.checkpoints.list(id)).data.map((c) => c.id);
    const paged = await collectPages((after) => h.client.fineTuning.jobs.checkpoints.list(id, { limit: 1, ...(after ? { after } : {}) }));
    expect(paged.map((c) => c.id)).toEqual(all);
    expect(all).toHaveLength(3);
  });

  it('pages files in both orders with purpose filter, without gaps or repeats', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push(await upload(h.client, validationJsonl(), `v${i}.jsonl`));
    const desc = await collectPages((after) => h.client.files.list({ limit: 2, purpose: 'fine-tune', ...(after ? { after } : {}) }));
    const asc = await collectPages((after) => h.client.files.list({ limit: 3, order: 'asc', purpose: 'fine-tune', ...(after ? { after } : {}) }));
    expect(desc.map((f) => f.id)).toEqual([...mine].reverse().concat(train));
    expect(asc.map((f) => f.id)).toEqual([train, ...mine]);
    const page = await h.client.files.list({ limit: 2 });
    expect(page.data).toHaveLength(2);
  });
});
