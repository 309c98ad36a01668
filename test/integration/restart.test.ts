import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { PipelineProgress } from '../../src/domain/pipeline';
import { startPipeline } from '../../src/starter';
import { trained, waitForProgress } from '../helpers/runs';
import { spawnTuneflowWorker, createTestWorker, SAMPLE_DATASET, startBackend, useTemporal, taskQueueFor, testConfig, type Backend } from '../helpers/stack';

const temporal = useTemporal();

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function runWithKilledWorker(name: string, killWhen: (p: PipelineProgress) => boolean, backend: Backend) {
  const config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor(name));
  const handle = await startPipeline(temporal.env.client, config, {
    datasetPath: SAMPLE_DATASET,
    model: 'gpt-4o-mini-2024-07-18',
    pollIntervalSeconds: 1,
    eval: { batchSize: 8, concurrency: 2 },
  });
  const first = spawnTuneflowWorker(config);
  try {
    const atKill = await waitForProgress(temporal.env.client, handle.workflowId, killWhen);
    await killHard(first);
    const worker = await createTestWorker(temporal.env, config);
    const result = trained(await worker.runUntil(handle.result()));
    return { result, atKill };
  } finally {
    if (first.exitCode === null) first.kill('SIGKILL');
  }
}

describe('a run survives its worker being killed', () => {
  it('finishes after a SIGKILL during training with still exactly one job and no duplicate upload', async () => {
    // Slower than the default so the job is still training when the worker dies (about 10 s of job).
    const backend = await startBackend({ timeScale: 40 });
    try {
      const { result, atKill } = await runWithKilledWorker('kill in training', (p) => p.stage === 'training', backend);
      expect(atKill.stage).toBe('training');
      expect(result.status).toBe('succeeded');
      const stats = await backend.stats();
      expect(stats.created.jobs).toBe(1);
      expect(stats.requests.createFile).toBe(2);
    } finally {
      await backend.dispose();
    }
  });

  it('resumes an evaluation after a SIGKILL, redoing at most the batches that were in flight', async () => {
    // A request limit slows the evaluation enough to kill the worker in the middle of it.
    const backend = await startBackend({ rpm: 900 });
    try {
      const { result, atKill } = await runWithKilledWorker(
        'kill in evaluation',
        (p) => p.stage === 'evaluating' && p.counts.evalExamplesDone >= 8,
        backend,
      );
      expect(atKill.counts.evalExamplesDone).toBeLessThan(result.eval.examples);
      const candidates = result.eval.candidates.length;
      const needed = result.eval.examples * candidates;
      const stats = await backend.stats();
      const calls = stats.requests.createChatCompletion ?? 0;
      expect(calls).toBeGreaterThanOrEqual(needed);
      // Two batch lanes of 8 examples: nothing finished before the kill is asked again.
      expect(calls - needed).toBeLessThanOrEqual(2 * 8 * candidates);
    } finally {
      await backend.dispose();
    }
  });
});
