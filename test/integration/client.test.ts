import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionRefusedError, RunFailedError, RunNotFoundError, TuneflowClient } from '../../src/client';
import type { AppConfig } from '../../src/config';
import { trained, waitForStage } from '../helpers/runs';
import { createTestWorker, runTuneflow, SAMPLE_DATASET, startBackend, taskQueueFor, testConfig, tuneflowEnv, useTemporal, type Backend } from '../helpers/stack';

const temporal = useTemporal();
const MODEL = 'gpt-4o-mini-2024-07-18';

let backend: Backend;
let config: AppConfig;
let tuneflow: TuneflowClient;
const workers: Array<{ worker: Worker; running: Promise<void> }> = [];

beforeAll(async () => {
  backend = await startBackend();
  config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('client'));
  tuneflow = new TuneflowClient({ client: temporal.env.client, config });
  const worker = await createTestWorker(temporal.env, config);
  workers.push({ worker, running: worker.run() });
});

afterAll(async () => {
  for (const w of workers) w.worker.shutdown();
  await Promise.all(workers.map((w) => w.running));
  await backend?.dispose();
});

const uniqueId = (name: string) => `${name}-${Math.random().toString(16).slice(2, 10)}`;

/** A real pipeline run that requires approval, once it waits for one: its id, the models it offers and the one it recommends. */
async function startWaitingRun(): Promise<{ workflowId: string; models: string[]; recommended: string }> {
  const workflowId = uniqueId('approval');
  await tuneflow.start({ datasetPath: SAMPLE_DATASET, model: 'gpt-4o-mini-2024-07-18', pollIntervalSeconds: 1, eval: { maxExamples: 6 }, approval: 'required' }, { workflowId });
  const progress = await waitForStage(temporal.env.client, workflowId, 'awaiting_approval', 120_000);
  const approval = progress.approval;
  if (!approval?.recommended) throw new Error(`run ${workflowId} waits without a recommended model`);
  return { workflowId, models: approval.models, recommended: approval.recommended };
}

describe('TuneflowClient against the dev server, a worker and the local backend', () => {
  it('starts a run once however often it is started under the same id, running or closed, and gives its progress, description and result', async () => {
    const workflowId = uniqueId('ft-client');
    const input = { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 1 };
    const first = await tuneflow.start(input, { workflowId });
    const again = await tuneflow.start(input, { workflowId });
    expect(again).toEqual(first);
    const progress = await waitForStage(temporal.env.client, workflowId, 'training');
    expect(progress.workflowId).toBe(workflowId);
    expect((await tuneflow.progress(workflowId)).stage).not.toBe('validating');

    const result = trained(await tuneflow.result(workflowId));
    expect(result.fineTunedModel).toMatch(/^ft:gpt-4o-mini-2024-07-18:/);
    expect(await tuneflow.start(input, { workflowId })).toEqual(first);
    const described = await tuneflow.describe(workflowId);
    expect(described).toMatchObject({ workflowId, runId: first.runId, status: 'COMPLETED', stage: 'done', taskQueue: config.temporal.taskQueue });
    expect((await tuneflow.progress(workflowId)).stage).toBe('done');
    const stats = await backend.stats();
    expect(stats.created.jobs).toBe(1);
    expect(stats.requests.createFile).toBe(2);
  });

  it('refuses a bad input naming the field, before any run exists', async () => {
    const workflowId = uniqueId('ft-bad');
    await expect(tuneflow.start({ datasetPath: SAMPLE_DATASET, model: MODEL, validRatio: 1.5 }, { workflowId })).rejects.toThrow(/validRatio/);
    await expect(tuneflow.describe(workflowId)).rejects.toBeInstanceOf(RunNotFoundError);
  });

  it('reports a failed run as RunFailedError, and a later start under its id returns the failed run instead of a second one', async () => {
    const workflowId = uniqueId('ft-fails');
    const input = { datasetPath: path.join(os.tmpdir(), `tuneflow-missing-${workflowId}.jsonl`), model: MODEL };
    const first = await tuneflow.start(input, { workflowId });
    const failure = await tuneflow.result(workflowId).then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(RunFailedError);
    expect(failure).toMatchObject({ workflowId, status: 'failed' });
    expect((failure as Error).message).toContain(`Run ${workflowId} failed:`);
    expect(await tuneflow.start(input, { workflowId })).toEqual(first);
    expect((await tuneflow.describe(workflowId)).status).toBe('FAILED');
  });

  it('cancels a training run, whose result is then RunFailedError with status cancelled, and a pipeline run that is not waiting for approval refuses one', async () => {
    const workflowId = uniqueId('ft-cancel');
    await tuneflow.start({ datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 3600 }, { workflowId });
    await waitForStage(temporal.env.client, workflowId, 'training');
    await expect(tuneflow.approve(workflowId, { by: 'alice' })).rejects.toBeInstanceOf(DecisionRefusedError);
    await tuneflow.cancel(workflowId);
    await expect(tuneflow.result(workflowId)).rejects.toMatchObject({ name: 'RunFailedError', status: 'cancelled' });
    expect((await tuneflow.describe(workflowId)).status).toBe('CANCELLED');
  });

  it('says RunNotFoundError for an id no run has', async () => {
    for (const call of [() => tuneflow.progress('no-such-run'), () => tuneflow.describe('no-such-run'), () => tuneflow.result('no-such-run'), () => tuneflow.approve('no-such-run', { by: 'alice' })]) {
      await expect(call()).rejects.toBeInstanceOf(RunNotFoundError);
    }
  });

  it('approves a waiting run with one of its candidates, refuses another model with the run’s reason, and refuses any decision once the run has ended', async () => {
    const { workflowId, models } = await startWaitingRun();
    const pick = models[0] as string;
    const refused = await tuneflow.approve(workflowId, { model: 'gpt-4o', by: 'alice' }).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(DecisionRefusedError);
    expect((refused as Error).message).toBe(`Run ${workflowId} refused the approval: gpt-4o is not a candidate of run ${workflowId}; approve one of: ${models.join(', ')}.`);
    expect(await tuneflow.approve(workflowId, { model: pick, by: 'alice', reason: 'lower loss' })).toEqual({ workflowId, outcome: 'promoted', model: pick });
    const result = trained(await tuneflow.result(workflowId));
    expect(result.decision).toMatchObject({ outcome: 'promoted', model: pick, decidedBy: 'person:alice', reason: 'lower loss' });
    await expect(tuneflow.reject(workflowId, { by: 'bob', reason: 'late' })).rejects.toThrow(`Run ${workflowId} refused the rejection: it has ended (COMPLETED`);
  });

  it('rejects a waiting run, recording who and why', async () => {
    const { workflowId, recommended } = await startWaitingRun();
    expect(await tuneflow.reject(workflowId, { by: 'bob', reason: 'worse on refunds' })).toEqual({ workflowId, outcome: 'rejected', model: recommended });
    expect(trained(await tuneflow.result(workflowId)).decision).toMatchObject({ outcome: 'rejected', decidedBy: 'person:bob', reason: 'worse on refunds' });
  });
});

describe('tuneflow approve / reject', () => {
  const env = () => tuneflowEnv(config, { USER: 'carol' });

  it('`tuneflow approve <id>` approves the recommended model as $USER; a non-candidate --model exits 2 naming why', async () => {
    const { workflowId, recommended } = await startWaitingRun();
    const wrong = await runTuneflow(['approve', workflowId, '--model', 'gpt-4o'], env());
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`tuneflow: Run ${workflowId} refused the approval: gpt-4o is not a candidate of run ${workflowId}`);
    const ok = await runTuneflow(['approve', workflowId, '--reason', 'ship it'], env());
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`Approved by carol: ${workflowId} promotes ${recommended}.`);
    expect(trained(await tuneflow.result(workflowId)).decision).toMatchObject({ outcome: 'promoted', model: recommended, decidedBy: 'person:carol', reason: 'ship it' });
    const late = await runTuneflow(['approve', workflowId], env());
    expect(late.code).toBe(2);
    expect(late.stderr).toContain('it has ended');
  });

  it('`tuneflow reject <id> --reason … --by …` rejects; without --reason it exits 2 before sending anything', async () => {
    const { workflowId } = await startWaitingRun();
    const bare = await runTuneflow(['reject', workflowId], env());
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("required option '--reason <text>' not specified");
    const ok = await runTuneflow(['reject', workflowId, '--reason', 'worse on refunds', '--by', 'dave'], env());
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`Rejected by dave: ${workflowId} promotes nothing.`);
    expect(trained(await tuneflow.result(workflowId)).decision).toMatchObject({ outcome: 'rejected', decidedBy: 'person:dave', reason: 'worse on refunds' });
  });

  it('`tuneflow approve` of an unknown id exits 2 saying no run has it', async () => {
    const missing = await runTuneflow(['approve', 'no-such-run'], env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No run with workflow id "no-such-run"');
  });
});
