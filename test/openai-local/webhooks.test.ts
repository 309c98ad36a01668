// Webhook delivery: OpenAI's event shape and Standard Webhooks signature (accepted by the openai SDK), once per job, retried, counted.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import OpenAI from 'openai';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../src/openai-local/webhooks';
import { until } from '../helpers/until';
import { type Harness, startHarness, trainingJsonl, upload, validationJsonl } from './helpers';
import { loadSpec, normaliseSchema, type Json, type JsonObject } from './openapi-contract';

const SECRET = `whsec_${Buffer.from('local-backend-webhook-test-secret').toString('base64')}`;
const sdk = new OpenAI({ apiKey: 'unused' });

interface Received {
  body: string;
  headers: IncomingHttpHeaders;
}

/** A plain HTTP endpoint that records every request and answers with the next status of `answers` (then 200). */
async function receiver(answers: number[] = []): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`, received, server };
}

/** The spec's webhook event schemas, compiled with every component schema they may refer to. */
function webhookSchemas(): Ajv2020 {
  const spec = loadSpec();
  const rewrite = (ref: string): string => ref.replace('#/components/schemas/', 'openai-spec#/$defs/');
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, logger: false });
  addFormats.default(ajv);
  ajv.addFormat('unixtime', true);
  ajv.addSchema({ $id: 'openai-spec', $defs: normaliseSchema((spec.components as JsonObject).schemas as Json, rewrite) });
  return ajv;
}
const SCHEMA_OF: Record<string, string> = {
  'fine_tuning.job.succeeded': 'WebhookFineTuningJobSucceeded',
  'fine_tuning.job.failed': 'WebhookFineTuningJobFailed',
  'fine_tuning.job.cancelled': 'WebhookFineTuningJobCancelled',
};

let ajv: Ajv2020;
let train: string;
let valid: string;
const open: Array<{ close(): Promise<void> } | Server> = [];
beforeAll(() => {
  ajv = webhookSchemas();
});
afterEach(async () => {
  for (const o of open.splice(0)) await ('listen' in o ? new Promise((r) => o.close(r)) : o.close());
});

async function backendDeliveringTo(url: string, more: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness({ webhookUrl: url, webhookSecret: SECRET, ...more });
  open.push(h);
  train = await upload(h.client, trainingJsonl());
  valid = await upload(h.client, validationJsonl(), 'valid.jsonl');
  return h;
}

async function expectOpenAIEvent(r: Received, type: string, jobId: string): Promise<void> {
  const event = (await sdk.webhooks.unwrap(r.body, r.headers as Record<string, string>, SECRET)) as unknown as Record<string, unknown>;
  expect(event).toMatchObject({ object: 'event', type, data: { id: jobId } });
  expect(String(event.id)).toMatch(/^evt_/);
  expect(String(r.headers['webhook-id'])).toMatch(/^wh_/);
  const validate = ajv.getSchema(`openai-spec#/$defs/${SCHEMA_OF[type]}`);
  expect(validate?.(event), JSON.stringify(validate?.errors)).toBe(true);
}

describe('the local backend delivers fine-tuning webhooks as OpenAI does', () => {
  it('sends one signed fine_tuning.job.succeeded event the openai SDK verifies, without anyone polling the job', async () => {
    const hook = await receiver();
    open.push(hook.server);
    const h = await backendDeliveringTo(hook.url);
    const job = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, validation_file: valid });
    const first = await until('a delivery', () => hook.received[0], 20_000);
    await expectOpenAIEvent(first, 'fine_tuning.job.succeeded', job.id);
    const finished = await h.client.fineTuning.jobs.retrieve(job.id);
    expect(finished.status).toBe('succeeded');
    expect(JSON.parse(first.body).created_at).toBe(finished.finished_at);
    // Reads after the end send nothing more.
    await h.client.fineTuning.jobs.retrieve(job.id);
    await new Promise((r) => setTimeout(r, 600));
    expect(hook.received).toHaveLength(1);
    const stats = await h.admin<{ webhooks: { delivered: number; failed: number; recent: DeliveryRecord[] } }>('/_admin/stats');
    expect(stats.webhooks).toMatchObject({ delivered: 1, failed: 0 });
    expect(stats.webhooks.recent[0]).toMatchObject({ jobId: job.id, type: 'fine_tuning.job.succeeded', attempts: 1, lastStatus: 200 });
  });

  it('sends fine_tuning.job.cancelled for a cancelled job and fine_tuning.job.failed for a failed one', async () => {
    const hook = await receiver();
    open.push(hook.server);
    const h = await backendDeliveringTo(hook.url, { timeScale: 100 });
    const cancelled = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, validation_file: valid });
    await h.client.fineTuning.jobs.cancel(cancelled.id);
    await h.admin('/_admin/settings', { failJobs: true });
    const failed = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, validation_file: valid });
    await until('two deliveries', () => (hook.received.length >= 2 ? true : undefined), 60_000);
    const byJob = new Map(hook.received.map((r) => [JSON.parse(r.body).data.id as string, r]));
    await expectOpenAIEvent(byJob.get(cancelled.id) as Received, 'fine_tuning.job.cancelled', cancelled.id);
    await expectOpenAIEvent(byJob.get(failed.id) as Received, 'fine_tuning.job.failed', failed.id);
  });

  it('retries a delivery the receiver refused, under the same webhook id with a fresh signature', async () => {
    const hook = await receiver([500, 503]);
    open.push(hook.server);
    const h = await backendDeliveringTo(hook.url, { webhookRetryDelaysMs: [20, 20, 20] });
    const job = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, validation_file: valid });
    await until('three attempts', () => (hook.received.length >= 3 ? true : undefined), 20_000);
    expect(new Set(hook.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of hook.received) await expectOpenAIEvent(r, 'fine_tuning.job.succeeded', job.id);
    const stats = await until('the delivery counted', async () => {
      const s = await h.admin<{ webhooks: { delivered: number; failed: number; recent: DeliveryRecord[] } }>('/_admin/stats');
      return s.webhooks.delivered === 1 ? s : undefined;
    }, 20_000);
    expect(stats.webhooks.failed).toBe(0);
    expect(stats.webhooks.recent[0]?.attempts).toBe(3);
  });

  it('gives up on an unreachable receiver after its retries and counts the delivery as failed', async () => {
    const hook = await receiver();
    await new Promise((r) => hook.server.close(r));
    const h = await backendDeliveringTo(hook.url, { webhookRetryDelaysMs: [20, 20] });
    await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: train, validation_file: valid });
    const stats = await until('the failure counted', async () => {
      const s = await h.admin<{ webhooks: { delivered: number; failed: number; recent: DeliveryRecord[] } }>('/_admin/stats');
      return s.webhooks.failed === 1 ? s : undefined;
    }, 20_000);
    expect(stats.webhooks.delivered).toBe(0);
    expect(stats.webhooks.recent[0]).toMatchObject({ attempts: 3, deliveredAtMs: null, lastStatus: null });
  });

  it('refuses webhook options without a secret, or in a dialect whose provider sends no webhooks', async () => {
    await expect(startHarness({ webhookUrl: 'http://127.0.0.1:9/webhooks' })).rejects.toThrow(/always signed/);
    await expect(startHarness({ dialect: 'azure', webhookUrl: 'http://127.0.0.1:9/webhooks', webhookSecret: SECRET })).rejects.toThrow(/azure dialect sends none/);
  });
});
