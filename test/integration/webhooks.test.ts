// `tuneflow webhooks` against real parts: the local backend delivers, the receiver verifies with the openai SDK and signals real runs on the dev server.
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config';
import { webhookHeaders, type DeliveryRecord } from '../../src/openai-local/webhooks';
import { createProvider } from '../../src/provider';
import type { FineTuneProvider } from '../../src/provider/types';
import { startPipeline } from '../../src/starter';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/webhooks/receiver';
import type { JobEvent } from '../../src/messages';
import { trained, waitForProgress } from '../helpers/runs';
import { until } from '../helpers/until';
import { createTestWorker, SAMPLE_DATASET, silentLogger, startBackend, taskQueueFor, testConfig, useTemporal, type Backend } from '../helpers/stack';

const temporal = useTemporal();
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const MODEL = 'gpt-4o-mini-2024-07-18';

/** A receiver, a backend delivering to it and a worker told that webhooks wake its runs. */
interface HookStack {
  receiver: WebhookReceiver;
  backend: Backend;
  config: AppConfig;
  worker: Worker;
  running: Promise<void>;
  stop(): Promise<void>;
}

async function hookStack(name: string, timeScale: number): Promise<HookStack> {
  // The receiver comes first (the backend needs its URL); the provider it asks is the backend's, made once that is up.
  const ref: { provider?: FineTuneProvider } = {};
  const receiver = await startWebhookReceiver({ port: 0, secret: SECRET, client: temporal.env.client, provider: () => ref.provider as FineTuneProvider, logger: silentLogger });
  const backend = await startBackend({ timeScale, webhookUrl: receiver.url, webhookSecret: SECRET });
  const config: AppConfig = {
    ...testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor(name)),
    webhooks: { enabled: true, fallbackSeconds: 600, secret: SECRET },
  };
  ref.provider = createProvider(config.provider);
  const worker = await createTestWorker(temporal.env, config);
  const running = worker.run();
  return {
    receiver,
    backend,
    config,
    worker,
    running,
    async stop() {
      worker.shutdown();
      await running;
      await receiver.close();
      await backend.dispose();
    },
  };
}

/** POSTs an event to the receiver, signed with `secret` (the endpoint's by default) at `timestamp` (now by default). */
async function post(
  receiver: WebhookReceiver,
  event: { type: string; data: { id: string } },
  opts: { secret?: string; timestamp?: number; webhookId?: string; drop?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = JSON.stringify({ id: `evt_${randomBytes(8).toString('hex')}`, object: 'event', created_at: Math.floor(Date.now() / 1000), ...event });
  const headers = webhookHeaders({ secret: opts.secret ?? SECRET, webhookId: opts.webhookId ?? `wh_${randomBytes(8).toString('hex')}`, body, ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}) });
  if (opts.drop) delete headers[opts.drop];
  const res = await fetch(receiver.url, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The jobEvent signals in a run's history, decoded. */
async function jobEventSignals(client: Client, workflowId: string): Promise<JobEvent[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((a) => a?.signalName === 'jobEvent')
    .map((a) => JSON.parse(Buffer.from(a?.input?.payloads?.[0]?.data ?? new Uint8Array()).toString('utf8')) as JobEvent);
}

async function deliveries(backend: Backend): Promise<{ delivered: number; failed: number; recent: DeliveryRecord[] }> {
  const stats = (await backend.stats()) as unknown as { webhooks: { delivered: number; failed: number; recent: DeliveryRecord[] } };
  return stats.webhooks;
}

describe('a webhook that does not verify wakes nothing', () => {
  let s: HookStack;
  let workflowId: string;
  let jobId: string;
  beforeAll(async () => {
    // Real time: the job stays unfinished for minutes, so no genuine webhook comes while these run.
    s = await hookStack('webhooks refused', 1);
    const handle = await startPipeline(temporal.env.client, s.config, { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 3600 });
    workflowId = handle.workflowId;
    jobId = (await waitForProgress(temporal.env.client, workflowId, (p) => p.jobId !== null && p.counts.polls > 0)).jobId as string;
  });
  afterAll(async () => {
    await temporal.env.client.workflow.getHandle(workflowId).terminate('test over').catch(() => undefined);
    await s.stop();
  });

  it('refuses a forged signature with 400 and signals nothing: the run keeps waiting', async () => {
    const forged = await post(s.receiver, { type: 'fine_tuning.job.succeeded', data: { id: jobId } }, { secret: `whsec_${randomBytes(24).toString('base64')}` });
    expect(forged.status).toBe(400);
    expect(await jobEventSignals(temporal.env.client, workflowId)).toEqual([]);
    const progress = await waitForProgress(temporal.env.client, workflowId, () => true);
    expect(progress.stage).toBe('training');
  });

  it('refuses a correctly signed webhook whose timestamp is older than the SDK tolerance', async () => {
    const stale = await post(s.receiver, { type: 'fine_tuning.job.succeeded', data: { id: jobId } }, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(stale.status).toBe(400);
    expect(await jobEventSignals(temporal.env.client, workflowId)).toEqual([]);
  });

  it('refuses a webhook without its webhook-signature, webhook-timestamp or webhook-id header', async () => {
    for (const header of ['webhook-signature', 'webhook-timestamp', 'webhook-id']) {
      const missing = await post(s.receiver, { type: 'fine_tuning.job.succeeded', data: { id: jobId } }, { drop: header });
      expect(missing.status, header).toBe(400);
    }
    expect(await jobEventSignals(temporal.env.client, workflowId)).toEqual([]);
  });
});

describe('a verified webhook signals the run its job belongs to', () => {
  let s: HookStack;
  beforeAll(async () => {
    s = await hookStack('webhooks accepted', 100);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("accepts the local backend's own delivery and sends jobEvent to the run named in the job's metadata", async () => {
    const handle = await startPipeline(temporal.env.client, s.config, { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 3600 });
    const jobId = (await waitForProgress(temporal.env.client, handle.workflowId, (p) => p.jobId !== null)).jobId as string;
    const delivery = await until('the backend to deliver the webhook', async () => (await deliveries(s.backend)).recent.find((d) => d.jobId === jobId && d.deliveredAtMs !== null), 60_000);
    expect(delivery).toMatchObject({ type: 'fine_tuning.job.succeeded', lastStatus: 200 });
    const signals = await until('the signal in the history', async () => {
      const found = await jobEventSignals(temporal.env.client, handle.workflowId);
      return found.length > 0 ? found : undefined;
    }, 60_000);
    expect(signals).toEqual([{ jobId, type: 'fine_tuning.job.succeeded', webhookId: delivery.webhookId }]);
    // The worker is told webhooks wake its runs: its polls ask for the fallback pace (600 s; the run's own
    // 3600 s once the workflow sends its interval in the poll request), not the 60 s a waiting job gets without.
    const polls = (await temporal.env.client.workflow.getHandle(handle.workflowId).fetchHistory()).events
      ?.map((e) => e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data)
      .filter((d): d is Uint8Array => d !== undefined && d !== null)
      .map((d) => JSON.parse(Buffer.from(d).toString('utf8')) as { nextPollSeconds?: number; jobId?: unknown })
      .filter((r) => 'nextPollSeconds' in r);
    expect(polls?.[0]?.nextPollSeconds).toBeGreaterThanOrEqual(600);
    await handle.terminate('test over').catch(() => undefined);
  });

  it('acknowledges a duplicate delivery and the run takes no harm from it', async () => {
    const handle = await startPipeline(temporal.env.client, s.config, { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 1 });
    const jobId = (await waitForProgress(temporal.env.client, handle.workflowId, (p) => p.jobId !== null)).jobId as string;
    const event = { type: 'fine_tuning.job.succeeded', data: { id: jobId } };
    const first = await post(s.receiver, event, { webhookId: 'wh_duplicate' });
    const again = await post(s.receiver, event, { webhookId: 'wh_duplicate' });
    expect(first).toEqual({ status: 200, body: { ok: true, workflowId: handle.workflowId } });
    expect(again.status).toBe(200);
    const result = trained(await handle.result());
    expect(['promoted', 'succeeded', 'rejected']).toContain(result.status);
    const signals = await jobEventSignals(temporal.env.client, handle.workflowId);
    expect(signals.filter((e) => e.webhookId === 'wh_duplicate').length).toBeGreaterThanOrEqual(1);
  });

  it('acknowledges events about unknown jobs, untagged jobs, closed runs and other event types with 200, and keeps serving', async () => {
    expect(await post(s.receiver, { type: 'fine_tuning.job.succeeded', data: { id: 'ftjob-doesnotexist' } })).toEqual({ status: 200, body: { ok: true, ignored: 'unknown_job' } });

    const train = await s.backend.openai.files.create({ file: await toFile(Buffer.from(await (await import('node:fs/promises')).readFile(SAMPLE_DATASET)), 'train.jsonl'), purpose: 'fine-tune' });
    const untagged = await s.backend.openai.fineTuning.jobs.create({ model: MODEL, training_file: train.id });
    expect(await post(s.receiver, { type: 'fine_tuning.job.failed', data: { id: untagged.id } })).toEqual({ status: 200, body: { ok: true, ignored: 'untagged_job' } });

    const handle = await startPipeline(temporal.env.client, s.config, { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 3600 });
    const jobId = (await waitForProgress(temporal.env.client, handle.workflowId, (p) => p.jobId !== null)).jobId as string;
    await handle.terminate('closed before its webhook');
    expect(await post(s.receiver, { type: 'fine_tuning.job.cancelled', data: { id: jobId } })).toEqual({ status: 200, body: { ok: true, ignored: 'workflow_closed_or_unknown' } });

    expect(await post(s.receiver, { type: 'batch.completed', data: { id: 'batch_abc' } })).toEqual({ status: 200, body: { ok: true, ignored: 'event_type' } });
    const health = await fetch(s.receiver.url.replace(/\/webhooks$/, '/healthz'));
    expect(await health.json()).toEqual({ ok: true });
  });
});

describe('webhooks first, polling as the safety net', () => {
  let s: HookStack;
  beforeAll(async () => {
    s = await hookStack('webhook finishes run', 100);
  });
  afterAll(async () => {
    await s?.stop();
  });

  // Needs the pipeline to wait `nextPollSeconds` on a condition the jobEvent signal cuts short (the lead's
  // workflow change). Before it lands, the run sleeps its full hour after the first poll and this fails.
  it('a valid webhook finishes a run without waiting for a poll: an hour-long poll interval, done in well under two minutes', async () => {
    const handle = await startPipeline(temporal.env.client, s.config, {
      datasetPath: SAMPLE_DATASET,
      model: MODEL,
      pollIntervalSeconds: 3600,
      eval: { maxExamples: 8, compare: [], batchSize: 8, concurrency: 4, maxTokens: 256 },
    });
    const bound = 100_000;
    const outcome = await Promise.race([
      handle.result().then(trained),
      new Promise<'bound'>((resolve) => setTimeout(() => resolve('bound'), bound).unref()),
    ]);
    if (outcome === 'bound') await handle.terminate('did not finish within the bound').catch(() => undefined);
    expect(outcome, `the run did not reach done within ${bound / 1000} s of a 3600 s poll interval`).not.toBe('bound');
    const progress = await waitForProgress(temporal.env.client, handle.workflowId, () => true).catch(() => null);
    expect(progress?.stage ?? 'done').toBe('done');
    expect((await deliveries(s.backend)).delivered).toBeGreaterThanOrEqual(1);
  }, 150_000);
});
