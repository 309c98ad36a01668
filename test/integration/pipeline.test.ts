import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config';
import { validateDatasetFile } from '../../src/dataset';
import { validationFailureMessage } from '../../src/domain/dataset';
import type { PipelineInput, PipelineResult } from '../../src/domain/pipeline';
import { startPipeline } from '../../src/starter';
import { progressQuery } from '../../src/workflows';
import { trained, waitForStage } from '../helpers/runs';
import { createTestWorker, SAMPLE_DATASET, startBackend, useTemporal, taskQueueFor, testConfig, type Backend } from '../helpers/stack';

const temporal = useTemporal();

/** Runs one pipeline on a fresh backend and worker, returning what the backend saw. */
async function runOnce(
  name: string,
  input: Partial<PipelineInput>,
  backendOpts: Parameters<typeof startBackend>[0] = {},
  during?: (ctx: { config: AppConfig; backend: Backend; workflowId: string }) => Promise<void>,
): Promise<{ result: PipelineResult | undefined; error: unknown; backend: Backend; config: AppConfig }> {
  const backend = await startBackend(backendOpts);
  const config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor(name));
  const worker: Worker = await createTestWorker(temporal.env, config);
  try {
    return await worker.runUntil(async () => {
      const handle = await startPipeline(temporal.env.client, config, { datasetPath: SAMPLE_DATASET, model: 'gpt-4o-mini-2024-07-18', pollIntervalSeconds: 1, ...input });
      if (during) await during({ config, backend, workflowId: handle.workflowId });
      try {
        return { result: trained(await handle.result()), error: undefined, backend, config };
      } catch (error) {
        return { result: undefined, error, backend, config };
      }
    });
  } catch (err) {
    await backend.dispose();
    throw err;
  }
}

describe('fineTunePipeline on the real Temporal dev server and the local backend', () => {
  it('fine-tunes the sample dataset end to end with exactly one job and two uploads, and picks the lowest-loss checkpoint', async () => {
    const { result, error, backend } = await runOnce('happy path', {
      eval: { compare: ['gpt-4.1-mini-2025-04-14'], minImprovement: 0.05, batchSize: 10, concurrency: 4, maxTokens: 512 },
    });
    try {
      expect(error).toBeUndefined();
      const r = result as PipelineResult;
      // The fine-tuned model answers from the training data, the base generically: the gate promotes.
      expect(r.status).toBe('promoted');
      expect(r.eval.gate).toEqual({ minImprovement: 0.05, outcome: 'promoted' });
      expect(r.fineTunedModel).toMatch(/^ft:gpt-4o-mini-2024-07-18:/);
      expect(r.dataset.train.examples + r.dataset.valid.examples).toBe(240);
      expect(r.dataset.valid.examples).toBe(48);
      expect(r.checkpoints.length).toBeGreaterThan(0);
      const losses = r.checkpoints.map((c) => c.fullValidLoss as number);
      expect(r.bestCheckpoint.fullValidLoss).toBe(Math.min(...losses));
      const roles = r.eval.candidates.map((c) => c.role);
      expect(roles).toContain('base');
      expect(roles).toContain('checkpoint');
      expect(roles).toContain('final');
      expect(r.eval.candidates.find((c) => c.role === 'extra')?.model).toBe('gpt-4.1-mini-2025-04-14');
      expect(r.eval.examples).toBe(48);
      const recommended = r.eval.candidates.find((c) => c.model === r.eval.recommended);
      expect(recommended?.metrics.tokenF1.ci95[0]).toBeGreaterThan(0);
      expect(recommended?.vsBase.wins).toBeGreaterThan(recommended?.vsBase.losses ?? Infinity);
      expect(r.eval.recommended).not.toBe('gpt-4o-mini-2024-07-18');
      expect(r.eval.beatsBase).toBe(true);
      const stats = await backend.stats();
      expect(stats.created.jobs).toBe(1);
      expect(stats.requests.createFile).toBe(2);
      const job = await backend.openai.fineTuning.jobs.retrieve(r.jobId);
      expect(job.status).toBe('succeeded');
      expect(job.training_file).toBe(r.dataset.train.fileId);
      expect(job.validation_file).toBe(r.dataset.valid.fileId);
      const html = await readFile(r.report.html, 'utf8');
      expect(html).toContain(r.fineTunedModel);
    } finally {
      await backend.dispose();
    }
  });

  it('follows a job across continue-as-new without skipping or repeating an event, and with one job', async () => {
    const { result, error, backend } = await runOnce('continue as new', {
      continueAsNewAfterPolls: 2,
      eval: { compare: [], maxExamples: 6, batchSize: 6, concurrency: 4, maxTokens: 256 },
    }, { timeScale: 40 });
    try {
      expect(error).toBeUndefined();
      expect(result?.status).toBe('succeeded');
      const handle = temporal.env.client.workflow.getHandle(result?.workflowId as string);
      const latest = await handle.describe();
      // The run that finished is not the first: the workflow continued as new at least once.
      expect(latest.runId).not.toBe(latest.raw.workflowExecutionInfo?.firstRunId);
      const stats = await backend.stats();
      expect(stats.created.jobs).toBe(1);
      expect(stats.requests.createFile).toBe(2);
      // The event cursor crossed each new run: every metrics event was recorded once, none skipped.
      const rows = (await readFile(path.join(result?.artifactsDir as string, 'metrics.jsonl'), 'utf8')).trim().split('\n');
      const steps = rows.map((l) => (JSON.parse(l) as { step: number }).step);
      const providerSteps: number[] = [];
      for await (const ev of backend.openai.fineTuning.jobs.listEvents(result?.jobId as string, { limit: 100 })) {
        if (ev.type === 'metrics') providerSteps.push((ev.data as { step: number }).step);
      }
      expect(steps).toEqual(providerSteps.sort((a, b) => a - b));
    } finally {
      await backend.dispose();
    }
  });

  it('marks a run rejected, not failed, when the recommended model misses the improvement gate, and asks the judge in both orders', async () => {
    const { result, error, backend } = await runOnce('gate rejects', {
      eval: { compare: [], minImprovement: 0.9, maxExamples: 12, batchSize: 6, concurrency: 4, maxTokens: 512, judgeModel: 'gpt-4.1-2025-04-14' },
    });
    try {
      expect(error).toBeUndefined();
      expect(result?.status).toBe('rejected');
      expect(result?.eval.gate).toEqual({ minImprovement: 0.9, outcome: 'rejected' });
      expect(result?.eval.examples).toBe(12);
      expect(result?.eval.judgeModel).toBe('gpt-4.1-2025-04-14');
      const recommended = result?.eval.candidates.find((c) => c.model === result.eval.recommended);
      expect(recommended?.metrics.judge?.diffVsBase).toBeGreaterThan(0);
      expect(recommended?.judgeVsBase?.wins).toBeGreaterThan(0);
      // Every candidate but the base: 12 answers each, and 2 judge calls (both orders) per example.
      const candidates = result?.eval.candidates.length ?? 0;
      expect((await backend.stats()).requests.createChatCompletion).toBe(12 * candidates + 12 * 2 * (candidates - 1));
    } finally {
      await backend.dispose();
    }
  });

  it('fails an invalid dataset with a non-retryable error naming the line and the problem, and uploads nothing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-bad-'));
    const bad = path.join(dir, 'bad.jsonl');
    const good = (await readFile(SAMPLE_DATASET, 'utf8')).split('\n').slice(0, 20);
    good[6] = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'wizard', content: 'hello' }] });
    await writeFile(bad, good.join('\n') + '\n');
    const { error, backend } = await runOnce('invalid dataset', { datasetPath: bad });
    try {
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).nonRetryable).toBe(true);
      expect((cause as ApplicationFailure).type).toBe('InvalidDataset');
      expect(cause?.message).toMatch(/line 7/);
      expect(cause?.message).toMatch(/unrecognized_role/);
      // The same words `tuneflow validate` prints for this file.
      const report = await validateDatasetFile(bad, { model: 'gpt-4o-mini-2024-07-18', validRatio: 0.2, seed: 42 });
      expect(cause?.message).toBe(`${bad}: ${validationFailureMessage(report)}`);
      const stats = await backend.stats();
      expect(stats.requests.createFile ?? 0).toBe(0);
      expect(stats.created.jobs).toBe(0);
    } finally {
      await backend.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ends a run started with bad input (bypassing the CLI) as failed, instead of retrying it forever', async () => {
    const backend = await startBackend();
    const config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('bad input'));
    const worker = await createTestWorker(temporal.env, config);
    try {
      const error = await worker.runUntil(
        temporal.env.client.workflow
          .execute('fineTunePipeline', { taskQueue: config.temporal.taskQueue, workflowId: `bad-input-${Date.now()}`, args: [{ datasetPath: SAMPLE_DATASET, model: 'm', validRatio: 3 }] })
          .catch((e: unknown) => e),
      );
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('InvalidPipelineInput');
      expect(cause.message).toMatch(/validRatio/);
    } finally {
      await backend.dispose();
    }
  });

  it('stops before uploading when the estimated cost exceeds the budget', async () => {
    const { error, backend } = await runOnce('over budget', { budgetUsd: 0.0001 });
    try {
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('InvalidDataset');
      expect(cause.message).toMatch(/budget/i);
      const report = await validateDatasetFile(SAMPLE_DATASET, { model: 'gpt-4o-mini-2024-07-18', budgetUsd: 0.0001, validRatio: 0.2, seed: 42 });
      expect(cause.message).toBe(`${SAMPLE_DATASET}: ${validationFailureMessage(report, 0.0001)}`);
      expect((await backend.stats()).requests.createFile ?? 0).toBe(0);
    } finally {
      await backend.dispose();
    }
  });

  it('cancelling a running pipeline cancels its provider job', async () => {
    let jobId: string | undefined;
    const { error, backend } = await runOnce('cancellation', {}, { timeScale: 1 }, async ({ workflowId }) => {
      await waitForStage(temporal.env.client, workflowId, 'training');
      const handle = temporal.env.client.workflow.getHandle(workflowId);
      jobId = (await handle.query(progressQuery)).jobId ?? undefined;
      await handle.cancel();
    });
    try {
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect(jobId).toBeDefined();
      const job = await backend.openai.fineTuning.jobs.retrieve(jobId as string);
      expect(job.status).toBe('cancelled');
    } finally {
      await backend.dispose();
    }
  });

  it('fails at once, without retrying, when the provider refuses fine-tuning, with a message that says what to do', async () => {
    const { error, backend } = await runOnce('refusal', {}, { refuseFineTuning: true });
    try {
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.nonRetryable).toBe(true);
      expect(cause.type).toBe('PermissionDeniedError');
      expect(cause.message).toMatch(/403/);
      expect(cause.message).toMatch(/enable fine-tuning|OPENAI_BASE_URL/);
      expect((await backend.stats()).requests.createFineTuningJob).toBe(1);
    } finally {
      await backend.dispose();
    }
  });

  it('reports a job that fails at the provider as a failed run with the provider error', async () => {
    const { error, backend } = await runOnce('job failure', {}, { failJobs: true });
    try {
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('FineTuningJobFailed');
      expect(cause.message).toMatch(/ended without a model/);
    } finally {
      await backend.dispose();
    }
  });

  it('still finishes with one job and two uploads when a tenth of provider requests fail transiently', async () => {
    const { result, error, backend } = await runOnce('faults', {}, { faultRate: 0.1, seed: 7 });
    try {
      expect(error).toBeUndefined();
      expect(result?.status).toBe('succeeded');
      const stats = await backend.stats();
      expect(stats.created.jobs).toBe(1);
      expect(stats.created.files).toBeGreaterThanOrEqual(2);
      // Two training-data uploads landed; a faulted upload attempt is refused before it stores anything.
      const files = await backend.openai.files.list({ purpose: 'fine-tune' });
      expect(files.data.filter((f) => f.filename.startsWith(`tuneflow-${result?.workflowId}`))).toHaveLength(2);
    } finally {
      await backend.dispose();
    }
  });
});
