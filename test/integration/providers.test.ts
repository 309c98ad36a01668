import { readFile } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { localProvider } from '../../src/cli/local-provider';
import type { AppConfig } from '../../src/config';
import type { PipelineInput, PipelineResult } from '../../src/domain/pipeline';
import type { Stage } from '../../src/domain/stages';
import { createAzureProvider } from '../../src/provider/azure';
import type { ProviderKind } from '../../src/provider/types';
import { startPipeline } from '../../src/starter';
import { progressQuery } from '../../src/workflows';
import { trained, waitForProgress, waitForStage } from '../helpers/runs';
import { createTestWorker, SAMPLE_DATASET, spawnTuneflowWorker, startBackend, taskQueueFor, testConfig, useTemporal, type Backend } from '../helpers/stack';

const temporal = useTemporal();

const MODEL: Record<ProviderKind, string> = {
  openai: 'gpt-4o-mini-2024-07-18',
  azure: 'gpt-4.1-mini-2025-04-14',
  // A LoRA fine-tune of this base answers serverless; of Qwen's only through a dedicated endpoint.
  together: 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference',
};

interface Dialect {
  backend: Backend;
  config: AppConfig;
  env: Record<string, string>;
}

async function dialect(kind: ProviderKind, name: string, backendOpts: Parameters<typeof startBackend>[0] = {}): Promise<Dialect> {
  const backend = await startBackend({ dialect: kind, ...backendOpts });
  const local = localProvider(kind, backend.url);
  const provider = kind === 'together' ? { ...local.config, together: { ...local.config.together, endpointHardware: '1x_nvidia_h100_80gb_sxm' } } : local.config;
  const config = { ...testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor(name)), provider };
  return { backend, config, env: { ...local.env, ...(kind === 'together' ? { TUNEFLOW_TOGETHER_ENDPOINT_HARDWARE: '1x_nvidia_h100_80gb_sxm' } : {}) } };
}

function input(kind: ProviderKind, extra: Partial<PipelineInput> = {}): PipelineInput {
  return { datasetPath: SAMPLE_DATASET, model: MODEL[kind], pollIntervalSeconds: 1, eval: { maxExamples: 24, batchSize: 8, concurrency: 4, compare: [], maxTokens: 256 }, ...extra } as PipelineInput;
}

/** Every stage a run entered, in order, as its history's upserts of the stage search attribute record them. */
async function stagesOf(workflowId: string): Promise<Stage[]> {
  const history = await temporal.env.client.workflow.getHandle(workflowId).fetchHistory();
  const stages: Stage[] = [];
  for (const ev of history.events ?? []) {
    const fields = ev.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    const payload = fields?.TuneflowStage;
    if (payload?.data) stages.push(JSON.parse(Buffer.from(payload.data).toString('utf8')) as Stage);
  }
  return stages;
}

/** The saga's promise once a run closed: nothing deployed is left, and every deployment it created was deleted. */
async function expectEveryDeploymentDeleted(backend: Backend): Promise<void> {
  const stats = await backend.stats();
  expect(stats.deployments?.live).toBe(0);
  expect(stats.deployments?.deleted).toBe(stats.deployments?.created);
}

async function runToEnd(d: Dialect, kind: ProviderKind, extra: Partial<PipelineInput> = {}, during?: (workflowId: string) => Promise<void>) {
  const worker: Worker = await createTestWorker(temporal.env, d.config);
  return worker.runUntil(async () => {
    const handle = await startPipeline(temporal.env.client, d.config, input(kind, extra));
    if (during) await during(handle.workflowId);
    try {
      return { workflowId: handle.workflowId, result: trained(await handle.result()) as PipelineResult | undefined, error: undefined as unknown };
    } catch (error) {
      return { workflowId: handle.workflowId, result: undefined, error };
    }
  });
}

describe('the whole pipeline on each provider dialect of the local backend', () => {
  it('Azure: one job, two uploads, the best checkpoint deployed beside the final model, evaluated, and every deployment deleted', async () => {
    const d = await dialect('azure', 'azure whole run');
    try {
      const { workflowId, result, error } = await runToEnd(d, 'azure');
      expect(error).toBeUndefined();
      const r = result as PipelineResult;
      const stats = await d.backend.stats();
      expect(stats.created.jobs).toBe(1);
      expect(stats.created.files).toBe(2);
      expect(r.fineTunedModel).toMatch(/^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}$/);
      expect(r.checkpoints.every((c) => /^ftchkpt-[0-9a-f]{32}$/.test(c.model))).toBe(true);
      expect(r.bestCheckpoint.fullValidLoss).toBe(Math.min(...r.checkpoints.map((c) => c.fullValidLoss as number)));
      // Every checkpoint and the final model were deployed, evaluated through their deployments, and deleted.
      expect(r.serving?.kind).toBe('deployment');
      expect(r.serving?.deployments.map((x) => x.model).sort()).toEqual([...r.checkpoints.map((c) => c.model), r.fineTunedModel].sort());
      expect(r.serving?.hostingCostUsd).toBe(0);
      expect(stats.deployments).toMatchObject({ live: 0, created: r.checkpoints.length + 1, deleted: r.checkpoints.length + 1 });
      expect(r.eval.candidates.map((c) => c.role)).toEqual(expect.arrayContaining(['base', 'checkpoint', 'final']));
      expect(r.eval.candidates.every((c) => c.failedExamples === 0)).toBe(true);
      expect(r.eval.beatsBase).toBe(true);
      expect(await stagesOf(workflowId)).toEqual(['validating', 'splitting', 'uploading', 'creating_job', 'training', 'selecting_checkpoint', 'deploying', 'evaluating', 'cleaning_up', 'reporting', 'done']);
      expect(await readFile(r.report.markdown, 'utf8')).toMatch(/## Deployments[\s\S]*Hosting cost: \$0\.00/);
    } finally {
      await d.backend.dispose();
    }
  }, 240_000);

  it('Together: one job, two uploads, the checkpoint chosen from the metrics, served serverless, no endpoint left', async () => {
    const d = await dialect('together', 'together whole run');
    try {
      const { workflowId, result, error } = await runToEnd(d, 'together', { hyperparameters: { n_epochs: 3 } });
      expect(error).toBeUndefined();
      const r = result as PipelineResult;
      const stats = await d.backend.stats();
      expect(stats.created.jobs).toBe(1);
      expect(stats.created.files).toBe(2);
      expect(r.checkpoints.length).toBeGreaterThan(1);
      expect(r.chosen.source).toBe('checkpoint');
      expect(r.bestCheckpoint.fullValidLoss).toBe(Math.min(...r.checkpoints.map((c) => c.fullValidLoss as number)));
      expect(r.serving?.deployments.every((x) => !x.created)).toBe(true);
      expect(stats.endpoints).toEqual({ live: 0, created: 0, deleted: 0 });
      expect(r.eval.candidates.every((c) => c.failedExamples === 0)).toBe(true);
      expect(await stagesOf(workflowId)).toContain('evaluating');
    } finally {
      await d.backend.dispose();
    }
  }, 240_000);

  it('Together: a base without serverless LoRA is evaluated through dedicated endpoints, all deleted afterwards', async () => {
    const d = await dialect('together', 'together endpoint run');
    try {
      const { result, error } = await runToEnd(d, 'together', { model: 'Qwen/Qwen2.5-7B-Instruct', hyperparameters: { n_epochs: 2 } });
      expect(error).toBeUndefined();
      const r = result as PipelineResult;
      const stats = await d.backend.stats();
      expect(r.serving?.kind).toBe('endpoint');
      expect(r.serving?.deployments.every((x) => x.created)).toBe(true);
      expect(stats.endpoints.created).toBe(r.serving?.deployments.length);
      expect(stats.endpoints).toMatchObject({ live: 0, deleted: stats.endpoints.created });
      expect(stats.created.jobs).toBe(1);
    } finally {
      await d.backend.dispose();
    }
  }, 240_000);

  it('Together: an option Together lacks fails the run in validating, naming it, before anything is uploaded', async () => {
    const d = await dialect('together', 'together bad option');
    try {
      const { error } = await runToEnd(d, 'together', { hyperparameters: { learning_rate_multiplier: 2 } });
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(String((error as WorkflowFailedError).cause?.message)).toMatch(/hyperparameters\.learning_rate_multiplier: Together takes an absolute learning_rate/);
      expect((await d.backend.stats()).created).toEqual({ files: 0, jobs: 0 });
    } finally {
      await d.backend.dispose();
    }
  }, 120_000);
});

describe('Azure deployments are a saga: every deployment a run creates is deleted on every way out', () => {
  it('deletes the other deployments when evaluation fails halfway (a deployment vanished under it)', async () => {
    const d = await dialect('azure', 'azure eval fails', { latencyMs: 150, latencyOperations: ['createChatCompletion'] });
    try {
      const { result, error } = await runToEnd(d, 'azure', {}, async (workflowId) => {
        await waitForProgress(temporal.env.client, workflowId, (p) => p.stage === 'evaluating' && p.counts.evalExamplesDone > 0, 120_000).catch(() => undefined);
        // Someone (or Azure's 24-hour limit) removes one of the run's deployments while it is evaluated.
        const azure = createAzureProvider(d.config.provider.azure);
        const names = await azure.serving?.list('tf-');
        expect(names?.length).toBeGreaterThan(0);
        await azure.serving?.remove(names?.[0] as string);
      });
      expect(result).toBeUndefined();
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(String((error as WorkflowFailedError).cause?.message)).toMatch(/DeploymentNotFound|deployment/i);
      await expectEveryDeploymentDeleted(d.backend);
    } finally {
      await d.backend.dispose();
    }
  }, 240_000);

  it('deletes every deployment when the run is cancelled during evaluating', async () => {
    const d = await dialect('azure', 'azure cancel evaluating', { latencyMs: 150, latencyOperations: ['createChatCompletion'] });
    try {
      const worker = await createTestWorker(temporal.env, d.config);
      await worker.runUntil(async () => {
        const handle = await startPipeline(temporal.env.client, d.config, input('azure'));
        await waitForStage(temporal.env.client, handle.workflowId, 'evaluating', 120_000);
        expect((await d.backend.stats()).deployments?.live).toBeGreaterThan(0);
        await handle.cancel();
        await expect(handle.result()).rejects.toThrow();
        expect((await handle.query(progressQuery)).stage).toBe('cancelled');
        expect(await stagesOf(handle.workflowId)).toEqual(expect.arrayContaining(['evaluating', 'cleaning_up', 'cancelled']));
      });
      await expectEveryDeploymentDeleted(d.backend);
    } finally {
      await d.backend.dispose();
    }
  }, 240_000);

  it('a worker killed during deploying leaves no deployment behind, and no deployment twice', async () => {
    // Deployments take 600 simulated seconds (6 s at the default time scale): the kill lands while they provision.
    const d = await dialect('azure', 'azure kill deploying', { deploymentSeconds: 600 });
    try {
      let worker = spawnTuneflowWorker(d.config, [], d.env);
      const handle = await startPipeline(temporal.env.client, d.config, input('azure'));
      await waitForStage(temporal.env.client, handle.workflowId, 'deploying', 180_000);
      worker.kill('SIGKILL');
      await new Promise((resolve) => worker.once('exit', resolve));
      worker = spawnTuneflowWorker(d.config, [], d.env);
      try {
        const r = trained(await handle.result());
        const stats = await d.backend.stats();
        expect(stats.deployments?.created).toBe(r.checkpoints.length + 1);
        expect(stats.deployments?.live).toBe(0);
        expect(stats.deployments?.deleted).toBe(stats.deployments?.created);
        expect(stats.created.jobs).toBe(1);
      } finally {
        worker.kill('SIGTERM');
        await new Promise((resolve) => worker.once('exit', resolve));
      }
    } finally {
      await d.backend.dispose();
    }
  }, 300_000);

  it('a deployment refused for quota fails the run with what to do, and deletes what it had created', async () => {
    const d = await dialect('azure', 'azure quota', { refuseDeployments: 'quota' });
    try {
      const { error } = await runToEnd(d, 'azure');
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const message = String((error as WorkflowFailedError).cause?.message);
      expect(message).toMatch(/InsufficientQuota/);
      expect(message).toMatch(/quota/i);
      expect(message).toMatch(/TUNEFLOW_AZURE_DEPLOYMENT_SKU|aka\.ms\/oai\/quotaincrease/);
      const stats = await d.backend.stats();
      expect(stats.deployments?.live).toBe(0);
      expect(stats.created.jobs).toBe(1);
    } finally {
      await d.backend.dispose();
    }
  }, 240_000);
});
