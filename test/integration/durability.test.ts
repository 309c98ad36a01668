import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type ApplicationFailure, CancelledFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config';
import type { PipelineInput, PipelineResult } from '../../src/domain/pipeline';
import { formatProgress } from '../../src/cli/progress';
import { startPipeline, type PipelineHandle } from '../../src/starter';
import { WORKFLOWS_PATH } from '../../src/worker';
import { resumeRun } from '../../src/cli/resume';
import { progressQuery } from '../../src/workflows';
import { trained, waitForProgress, waitForStage } from '../helpers/runs';
import { createTestWorker, SAMPLE_DATASET, startBackend, taskQueueFor, testConfig, useTemporal, type Backend } from '../helpers/stack';

const temporal = useTemporal();
const MODEL = 'gpt-4o-mini-2024-07-18';
const SMALL_EVAL = { compare: [], maxExamples: 6, batchSize: 6, concurrency: 4, maxTokens: 256 };

interface Stack {
  backend: Backend;
  config: AppConfig;
  worker: Worker;
  start(input?: Partial<PipelineInput>, workflowId?: string): Promise<PipelineHandle>;
}

/** A fresh backend and an in-process worker for one test; `fn` runs while the worker polls. */
async function withStack<T>(name: string, backendOpts: Parameters<typeof startBackend>[0], fn: (s: Stack) => Promise<T>): Promise<T> {
  const backend = await startBackend(backendOpts);
  try {
    const config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor(name));
    const worker = await createTestWorker(temporal.env, config);
    const start = (input: Partial<PipelineInput> = {}, workflowId?: string) =>
      startPipeline(temporal.env.client, config, { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 1, eval: SMALL_EVAL, ...input }, workflowId ? { workflowId } : {});
    return await worker.runUntil(fn({ backend, config, worker, start }));
  } finally {
    await backend.dispose();
  }
}

async function outcome(handle: WorkflowHandle): Promise<{ result?: PipelineResult; error?: unknown }> {
  try {
    return { result: trained(await handle.result()) };
  } catch (error) {
    return { error };
  }
}

async function jobsOf(backend: Backend, workflowId: string) {
  const jobs = [];
  for await (const job of backend.openai.fineTuning.jobs.list({ metadata: { tuneflow_workflow_id: workflowId }, limit: 100 })) jobs.push(job);
  return jobs;
}

describe('cancel at any moment', () => {
  it('a cancel while the job is being created waits for the create call, then cancels the job it returned', async () => {
    await withStack('cancel during create', { latencyMs: 3000, latencyOperations: ['createFineTuningJob'] }, async ({ backend, start }) => {
      const handle = await start();
      await waitForStage(temporal.env.client, handle.workflowId, 'creating_job');
      await handle.cancel();
      const { error } = await outcome(handle);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      const jobs = await jobsOf(backend, handle.workflowId);
      expect(jobs).toHaveLength(1);
      expect(jobs[0]?.status).toBe('cancelled');
      expect((await backend.stats()).requests.createFile).toBe(2);
    });
  });

  it('a cancel before anything exists at the provider makes no provider call at all', async () => {
    const backend = await startBackend();
    try {
      const config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('cancel before anything'));
      // Cancelled before any worker polls: the first thing the run sees is the cancel.
      const handle = await startPipeline(temporal.env.client, config, { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 1 });
      await handle.cancel();
      const worker = await createTestWorker(temporal.env, config);
      const { error } = await worker.runUntil(outcome(handle));
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      const requests = (await backend.stats()).requests;
      expect(Object.values(requests).reduce((a, b) => a + b, 0)).toBe(0);
    } finally {
      await backend.dispose();
    }
  });
});

describe('a provider that is down or refuses the key never costs the job', () => {
  it('a cancel while the provider is down ends the run only once the job is cancelled, retrying until the provider answers', async () => {
    await withStack('cancel during outage', { timeScale: 40 }, async ({ backend, start }) => {
      const handle = await start();
      const { jobId } = await waitForStage(temporal.env.client, handle.workflowId, 'training');
      await backend.settings({ outage: true });
      await handle.cancel();
      await new Promise((r) => setTimeout(r, 4000));
      // The run cannot close while its job may still train.
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await backend.settings({ outage: false });
      const { error } = await outcome(handle);
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect((await backend.openai.fineTuning.jobs.retrieve(jobId as string)).status).toBe('cancelled');
    });
  });


  it('an outage during training neither fails the run nor abandons the job: progress says since when, and the run finishes once the provider is back', async () => {
    await withStack('outage during training', { timeScale: 40 }, async ({ backend, start }) => {
      const handle = await start();
      await waitForStage(temporal.env.client, handle.workflowId, 'training');
      await backend.settings({ outage: true });
      const during = await waitForProgress(temporal.env.client, handle.workflowId, (p) => (p.providerUnreachableSince ?? null) !== null && p.counts.polls >= 4, 60_000);
      expect(during.stage).toBe('training');
      expect(formatProgress(during)).toMatch(/provider unreachable since \d{4}-\d\d-\d\dT/);
      await backend.settings({ outage: false });
      const { result, error } = await outcome(handle);
      expect(error).toBeUndefined();
      expect(result?.status).toBe('succeeded');
      expect(await jobsOf(backend, handle.workflowId)).toHaveLength(1);
      expect((await backend.stats()).requests.createFile).toBe(2);
      const after = await handle.query(progressQuery);
      expect(after.providerUnreachableSince).toBeNull();
    });
  });

  it('a key refused while the job trains makes the run wait for a person, and `resume` lets it go on', async () => {
    await withStack('refused key', { timeScale: 40 }, async ({ backend, start }) => {
      const handle = await start();
      await waitForStage(temporal.env.client, handle.workflowId, 'training');
      // Nothing to resume yet: `tuneflow resume` says so.
      await expect(resumeRun(temporal.env.client, handle.workflowId)).rejects.toThrow(/not waiting/);
      await backend.settings({ revokedKeys: true });
      const waiting = await waitForProgress(temporal.env.client, handle.workflowId, (p) => (p.waitingFor ?? null) !== null, 60_000);
      expect(waiting.stage).toBe('training');
      expect(waiting.waitingFor).toMatch(/tuneflow resume/);
      expect(waiting.waitingFor).toMatch(/401/);
      await new Promise((r) => setTimeout(r, 2000));
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await backend.settings({ revokedKeys: false });
      expect(await resumeRun(temporal.env.client, handle.workflowId)).toMatch(/Resume sent/);
      const { result, error } = await outcome(handle);
      expect(error).toBeUndefined();
      expect(result?.status).toBe('succeeded');
      expect(await jobsOf(backend, handle.workflowId)).toHaveLength(1);
    });
  });
});

describe('a workflow id started again after a failure', () => {
  it("adopts the earlier run's live job made from the same data and settings, instead of paying for a second", async () => {
    await withStack('adopt live job', { timeScale: 40 }, async ({ backend, start }) => {
      const first = await start({}, `adopt-${Date.now()}`);
      await waitForStage(temporal.env.client, first.workflowId, 'training');
      await first.terminate('operator error');
      const second = await start({}, first.workflowId);
      const { result, error } = await outcome(second);
      expect(error).toBeUndefined();
      const jobs = await jobsOf(backend, first.workflowId);
      expect(jobs).toHaveLength(1);
      expect(result?.jobId).toBe(jobs[0]?.id);
      expect(result?.adoptedJobFrom).toBe(first.firstExecutionRunId);
    });
  });

  it('never adopts a cancelled job, and keeps each run\'s metrics apart: the second curve holds exactly its own job\'s steps', async () => {
    await withStack('no adoption of cancelled', { timeScale: 40 }, async ({ backend, start }) => {
      const first = await start({ hyperparameters: { n_epochs: 2 } }, `readopt-${Date.now()}`);
      await waitForProgress(temporal.env.client, first.workflowId, (p) => p.latest.step !== null && p.latest.step > 0);
      await first.cancel();
      await outcome(first);
      const second = await start({ hyperparameters: { n_epochs: 3 }, seed: 7 }, first.workflowId);
      const { result, error } = await outcome(second);
      expect(error).toBeUndefined();
      const jobs = await jobsOf(backend, first.workflowId);
      expect(jobs).toHaveLength(2);
      expect(jobs.find((j) => j.id !== result?.jobId)?.status).toBe('cancelled');
      const rows = (await readFile(path.join(result?.artifactsDir as string, 'metrics.jsonl'), 'utf8')).trim().split('\n');
      // Step and loss, so a row of the first job under a step number the second also has would show.
      const curve = rows.map((l) => JSON.parse(l) as { step: number; trainLoss: number | null }).map((r) => [r.step, r.trainLoss]);
      const providerCurve: Array<[number, number | null]> = [];
      for await (const ev of backend.openai.fineTuning.jobs.listEvents(result?.jobId as string, { limit: 100 })) {
        const data = ev.data as { step: number; train_loss?: number } | undefined;
        if (ev.type === 'metrics' && data) providerCurve.push([data.step, data.train_loss ?? null]);
      }
      expect(curve).toEqual(providerCurve.sort((a, b) => a[0] - b[0]));
      expect(result?.adoptedJobFrom).toBeNull();
    });
  });
});

describe('history stays bounded', () => {
  it('continues as new only after the poll interval: a run bounded to one poll still sleeps between polls', async () => {
    await withStack('continue after sleep', {}, async ({ start }) => {
      const handle = await start({ continueAsNewAfterPolls: 1, pollIntervalSeconds: 2 });
      const { error } = await outcome(handle);
      expect(error).toBeUndefined();
      const first = temporal.env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      const events = (await first.fetchHistory()).events ?? [];
      const timer = events.findIndex((e) => e.timerStartedEventAttributes);
      const carried = events.findIndex((e) => e.workflowExecutionContinuedAsNewEventAttributes);
      expect(timer).toBeGreaterThan(-1);
      expect(carried).toBeGreaterThan(timer);
    });
  });

  it('evaluates in a child workflow that continues as new every few batches and still scores every example', async () => {
    await withStack('eval child', {}, async ({ start }) => {
      const handle = await start({ eval: { compare: [], maxExamples: 12, batchSize: 2, concurrency: 4, maxTokens: 256, batchesPerWorkflowRun: 2 } });
      const { result, error } = await outcome(handle);
      expect(error).toBeUndefined();
      expect(result?.eval.examples).toBe(12);
      expect(result?.eval.failedExamples).toBe(0);
      const child = await temporal.env.client.workflow.getHandle(`${handle.workflowId}-eval-${handle.firstExecutionRunId}`).describe();
      expect(child.status.name).toBe('COMPLETED');
      // Six batches, two per run of the child: it continued as new twice.
      expect(child.runId).not.toBe(child.raw.workflowExecutionInfo?.firstRunId);
      const parentHistory = await handle.fetchHistory();
      const scheduled = (parentHistory.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'evaluateBatch');
      expect(scheduled).toHaveLength(0);
    });
  });
});

describe('changes that keep runs alive', () => {
  it("replays a run whose input holds a field today's schema no longer knows, and one a tightened range refuses", async () => {
    const history = JSON.parse(await readFile(new URL('../fixtures/histories/0.1.0/happy-path.json', import.meta.url), 'utf8')) as {
      events: Array<{ workflowExecutionStartedEventAttributes?: { input: { payloads: Array<{ data: string }> } } }>;
    };
    const payload = history.events[0]?.workflowExecutionStartedEventAttributes?.input.payloads[0];
    if (!payload) throw new Error('the golden history has no input payload');
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as Record<string, unknown>;
    // As if the schema had since dropped a field and tightened another: the run in flight must not notice.
    payload.data = Buffer.from(JSON.stringify({ ...input, retiredOption: true, seed: -1 })).toString('base64');
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history)).resolves.toBeUndefined();
  });

  it('refuses such an input once, in the first activity, when a new run is started with it', async () => {
    await withStack('strict once', {}, async ({ backend, config }) => {
      const input = { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 1, eval: SMALL_EVAL, retiredOption: true };
      const handle = await temporal.env.client.workflow.start('fineTunePipeline', { taskQueue: config.temporal.taskQueue, workflowId: `strict-${Date.now()}`, args: [input] });
      const { error } = await outcome(handle);
      const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('InvalidPipelineInput');
      expect(cause.message).toMatch(/retiredOption|nrecognized/);
      expect((await backend.stats()).requests.createFile ?? 0).toBe(0);
    });
  });
});
