// Rate limits (headers, 429 + retry-after), injected faults (counted, never corrupting state), refusal, auth, admin.
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractFetch } from './openapi-contract';
import { type Harness, makeClient, startHarness, trainingJsonl, upload, validationJsonl, waitForJob } from './helpers';

interface StatsBody {
  requests: Record<string, number>;
  faults: { injected: Record<string, number>; total: number };
  created: { files: number; jobs: number };
  settings: Record<string, unknown>;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ seed: 42 });
});
afterAll(async () => {
  await h.close();
  expect(h.contract.violations).toEqual([]);
});

const RESET_FORMAT = /^(\d+h)?(\d+m)?(\d+(\.\d+)?s|\d+ms)$/;

describe('rate limits', () => {
  it('sends x-ratelimit headers on every /v1 response and 429 with retry-after past the limit', async () => {
    await h.admin('/_admin/settings', { rpm: 60 });
    const first = await h.client.models.list().withResponse();
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('60');
    // Capacity is rpm/6 = 10: one used.
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('9');
    expect(first.response.headers.get('x-ratelimit-reset-requests')).toMatch(RESET_FORMAT);
    // The remaining 9 of the burst, then refused (a loaded machine may refill a token meanwhile, hence the loop).
    let err: unknown;
    let accepted = 1;
    while (!err && accepted < 50) await h.client.models.list().then(() => (accepted += 1), (e: unknown) => (err = e));
    expect(accepted).toBeGreaterThanOrEqual(10);
    expect(accepted).toBeLessThan(15);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded', param: null });
    expect(Number(e.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(e.headers?.get('retry-after-ms'))).toBeGreaterThan(0);
    expect(e.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
    // The SDK honours retry-after-ms and gets through once a token has refilled.
    const patient = makeClient(h.backend.url, h.contract, 2);
    await expect(patient.models.list()).resolves.toBeDefined();
    await h.admin('/_admin/settings', { rpm: 0 });
  });

  it('lets a client pacing itself at the limit through every time', async () => {
    await h.admin('/_admin/settings', { rpm: 600 });
    // Drain the burst capacity, then pace slightly slower than 10 requests/s.
    while (await h.client.models.list().then(() => true, () => false));
    let refused = 0;
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 110));
      refused += await h.client.models.list().then(() => 0, () => 1);
    }
    expect(refused).toBe(0);
    await h.admin('/_admin/settings', { rpm: 0 });
  });

  it('never rate-limits or faults the admin endpoints', async () => {
    await h.admin('/_admin/settings', { rpm: 1, faultRate: 1 });
    for (let i = 0; i < 5; i++) {
      const res = await fetch(h.backend.url.replace(/\/v1$/, '/_admin/stats'));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
    }
    await h.admin('/_admin/settings', { rpm: 0, faultRate: 0 });
  });
});

describe('token limit', () => {
  const ask = (maxTokens: number) =>
    h.client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How do I reset my password?' }], max_completion_tokens: maxTokens })
      .withResponse();

  it('admits a chat request only when the bucket holds its prompt + max_tokens, settles it at its usage, and answers 429 type tokens past the limit', async () => {
    await h.admin('/_admin/reset-stats', {});
    // 6000 tokens per minute: the bucket holds 1000.
    await h.admin('/_admin/settings', { tpm: 6000 });
    const first = await ask(300);
    const used = first.data.usage?.total_tokens as number;
    expect(used).toBeLessThan(300);
    const headers = first.response.headers;
    expect(headers.get('x-ratelimit-limit-tokens')).toBe('6000');
    expect(headers.get('x-ratelimit-reset-tokens')).toMatch(RESET_FORMAT);
    // Charged its usage, not the 300 it reserved: the unused part of max_tokens came back.
    const remaining = Number(headers.get('x-ratelimit-remaining-tokens'));
    expect(remaining).toBeGreaterThanOrEqual(1000 - used);
    expect(remaining).toBeLessThan(1000);
    expect(headers.get('x-ratelimit-limit-requests')).toBeNull();

    // A reservation larger than what is left is refused before anything is answered.
    const err = await ask(990).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded', param: null });
    expect(e.message).toMatch(/on tokens per min \(TPM\): Limit 6000, Used \d+, Requested \d+\. Please try again in /);
    expect(Number(e.headers?.get('retry-after-ms'))).toBeGreaterThan(0);
    expect(Number(e.headers?.get('x-ratelimit-remaining-tokens'))).toBeLessThan(990);

    // More than a minute's worth can never go: "Request too large", with no retry-after.
    const tooLarge = (await ask(7000).catch((x: unknown) => x)) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(tooLarge).toBeInstanceOf(OpenAI.RateLimitError);
    expect(tooLarge.message).toMatch(/Request too large for gpt-4o-mini .* on tokens per min \(TPM\): Limit 6000, Requested \d+/);
    expect(tooLarge.headers?.get('retry-after')).toBeNull();

    // The SDK honours retry-after-ms and gets through once enough tokens have refilled.
    const patient = makeClient(h.backend.url, h.contract, 3);
    await expect(
      patient.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }], max_completion_tokens: 990 }),
    ).resolves.toBeDefined();
    const stats = await h.admin<StatsBody & { rateLimitedTokens: number; tokensCharged: number }>('/_admin/stats');
    expect(stats.rateLimitedTokens).toBeGreaterThanOrEqual(2);
    expect(stats.tokensCharged).toBeGreaterThanOrEqual(used);
    await h.admin('/_admin/settings', { tpm: 0 });
  });

  it('sends no token headers and never refuses for tokens while no tpm is set', async () => {
    const { response } = await ask(5000);
    expect(response.headers.get('x-ratelimit-limit-tokens')).toBeNull();
  });
});

describe('faults', () => {
  it('injects the configured share of transient faults, counts each kind, and failed creates create nothing', async () => {
    await h.admin('/_admin/reset-stats', {});
    const filesBefore = (await h.client.files.list()).data.length;
    await h.admin('/_admin/settings', { faultRate: 0.5 });
    const outcome = (e: unknown): string => (e instanceof OpenAI.APIError && e.status ? String(e.status) : 'connection');
    // Concurrent, so the slow faults (1-3 s each) overlap instead of adding up.
    const [results, uploads] = await Promise.all([
      Promise.all(Array.from({ length: 40 }, () => h.client.models.list().then(() => 'ok', outcome))),
      Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const file = await toFile(Buffer.from(validationJsonl()), `f${i}.jsonl`);
          return h.client.files.create({ file, purpose: 'fine-tune' }).then(() => 'ok', outcome);
        }),
      ),
    ]);
    await h.admin('/_admin/settings', { faultRate: 0 });
    const stats = await h.admin<StatsBody>('/_admin/stats');
    const { injected, total } = stats.faults;
    const all = [...results, ...uploads];
    expect(stats.requests.listModels).toBe(40);
    expect(stats.requests.createFile).toBe(12);
    expect(total).toBeGreaterThan(12);
    expect(total).toBeLessThan(40);
    expect(all.filter((r) => r === '429').length).toBe(injected.rate_limit);
    expect(all.filter((r) => r === '500').length).toBe(injected.server_error);
    expect(all.filter((r) => r === '503').length).toBe(injected.unavailable);
    expect(all.filter((r) => r === 'connection').length).toBe(injected.dropped_connection);
    expect(all.filter((r) => r === 'ok').length).toBe(52 - total + (injected.slow ?? 0));
    // Faults are decided before the handler runs: only uploads that answered 200 exist.
    const okUploads = uploads.filter((r) => r === 'ok').length;
    expect(okUploads).toBeLessThan(12);
    expect(stats.created.files).toBe(okUploads);
    expect((await h.client.files.list()).data.length).toBe(filesBefore + okUploads);
  });

  it('with SDK retries through faults, ends with exactly two uploads and one job', async () => {
    await h.admin('/_admin/reset-stats', {});
    await h.admin('/_admin/settings', { faultRate: 0.25 });
    const retrying = new OpenAI({ apiKey: 'x', baseURL: h.backend.url, maxRetries: 8, fetch: contractFetch(h.contract) });
    const train = await upload(retrying, trainingJsonl());
    const valid = await upload(retrying, validationJsonl(), 'valid.jsonl');
    const job = await retrying.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, validation_file: valid });
    await h.admin('/_admin/settings', { faultRate: 0 });
    const stats = await h.admin<StatsBody>('/_admin/stats');
    expect(stats.created).toEqual({ files: 2, jobs: 1 });
    expect(stats.requests.createFile).toBeGreaterThanOrEqual(2);
    expect((await waitForJob(h.client, job.id)).status).toBe('succeeded');
  });
});

describe('refusal, auth and settings', () => {
  it('answers job creation with 403 permission_denied in refusal mode and creates nothing', async () => {
    const train = await upload(h.client, trainingJsonl());
    await h.admin('/_admin/reset-stats', {});
    await h.admin('/_admin/settings', { refuseFineTuning: true });
    const err = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train }).catch((e: unknown) => e);
    await h.admin('/_admin/settings', { refuseFineTuning: false });
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const e = err as InstanceType<typeof OpenAI.PermissionDeniedError>;
    expect(e.error).toMatchObject({ type: 'invalid_request_error', code: 'permission_denied', param: null });
    expect((e.error as { message: string }).message).toMatch(/not available for your organization/);
    expect((await h.admin<StatsBody>('/_admin/stats')).created.jobs).toBe(0);
  });

  it('requires a non-empty bearer token on /v1 (401 in the error envelope)', async () => {
    for (const authorization of [undefined, 'Bearer ', 'Basic abc']) {
      const res = await fetch(`${h.backend.url}/models`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', param: null } });
    }
  });

  it('answers unknown URLs with 404 in the error envelope', async () => {
    const res = await fetch(`${h.backend.url}/nope`, { headers: { authorization: 'Bearer x' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: 'Invalid URL (GET /v1/nope)', type: 'invalid_request_error', param: null, code: null } });
  });

  it('reports and changes settings at runtime through /_admin', async () => {
    const changed = await h.admin<{ settings: Record<string, unknown> }>('/_admin/settings', { rpm: 100, faultRate: 0.1, failJobs: true, refuseFineTuning: true });
    expect(changed.settings).toMatchObject({ rpm: 100, faultRate: 0.1, failJobs: true, refuseFineTuning: true, timeScale: 2000 });
    const bad = await fetch(h.backend.url.replace(/\/v1$/, '/_admin/settings'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"faultRate": 3}' });
    expect(bad.status).toBe(400);
    await h.admin('/_admin/settings', { rpm: 0, tpm: 0, faultRate: 0, failJobs: false, refuseFineTuning: false });
    expect((await h.admin<StatsBody>('/_admin/stats')).settings).toMatchObject({ rpm: 0, tpm: 0, faultRate: 0, failJobs: false, refuseFineTuning: false });
  });
});
