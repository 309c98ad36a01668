// The provider down (outage) and slow (latency) on purpose, switched at run time through /_admin/settings.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, trainingJsonl, upload } from './helpers';

interface FaultCounts {
  faults: { outageDropped: number; delayed: number };
  settings: { outage: boolean; latencyMs: number; latencyOperations: string[] };
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('outage', () => {
  it('drops every /v1 request unanswered (the client sees a connection error) while the admin API still answers, and serves again once off', async () => {
    const fileId = await upload(h.client, trainingJsonl());
    await h.admin('/_admin/reset-stats', {});
    await h.admin('/_admin/settings', { outage: true });

    const failures = await Promise.all([
      h.client.models.list().catch((e: unknown) => e),
      h.client.files.retrieve(fileId).catch((e: unknown) => e),
      upload(h.client, trainingJsonl(), 'during-outage.jsonl').catch((e: unknown) => e),
      h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: fileId }).catch((e: unknown) => e),
    ]);
    for (const f of failures) expect(f).toBeInstanceOf(OpenAI.APIConnectionError);

    const during = await h.admin<FaultCounts & { created: { files: number; jobs: number } }>('/_admin/stats');
    expect(during.settings.outage).toBe(true);
    expect(during.faults.outageDropped).toBe(4);
    expect(during.created).toEqual({ files: 0, jobs: 0 });

    await h.admin('/_admin/settings', { outage: false });
    await expect(h.client.files.retrieve(fileId)).resolves.toMatchObject({ id: fileId });
    const job = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: fileId });
    expect(job.id).toMatch(/^ftjob-/);
    expect((await h.admin<FaultCounts>('/_admin/stats')).faults.outageDropped).toBe(4);
  });
});

describe('latency', () => {
  it('holds back only the named operations: an unnamed request sent later answers first', async () => {
    await h.admin('/_admin/reset-stats', {});
    await h.admin('/_admin/settings', { latencyMs: 2000, latencyOperations: ['listModels'] });
    const order: string[] = [];
    const slow = h.client.models.list().then(() => order.push('listModels'));
    const fast = h.client.files.list().then(() => order.push('listFiles'));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['listFiles', 'listModels']);

    const stats = await h.admin<FaultCounts>('/_admin/stats');
    expect(stats.faults.delayed).toBe(1);
    expect(stats.settings).toMatchObject({ latencyMs: 2000, latencyOperations: ['listModels'] });
  });

  it('with no operations named, holds back every /v1 request but never the admin API', async () => {
    await h.admin('/_admin/reset-stats', {});
    await h.admin('/_admin/settings', { latencyMs: 200, latencyOperations: [] });
    await h.client.models.list();
    await h.client.files.list();
    const stats = await h.admin<FaultCounts>('/_admin/stats');
    expect(stats.faults.delayed).toBe(2);
    await h.admin('/_admin/settings', { latencyMs: 0 });
  });

  it('refuses malformed settings with the field named', async () => {
    const res = await fetch(h.backend.url.replace(/\/v1$/, '/_admin/settings'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyOperations: 'createFile' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('latencyOperations');
  });
});
