import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config';
import { lineWorkflowId } from '../../src/domain/lines';
import { isSkipped, type PipelineInput, type PipelineOutcome } from '../../src/domain/pipeline';
import { OUTCOME_KEY } from '../../src/domain/search-attributes';
import { createSchedule, deleteSchedule, triggerSchedule } from '../../src/schedules';
import { resolvePipelineInput } from '../../src/domain/pipeline';
import { startPipeline } from '../../src/starter';
import { approveUpdate, lineStateQuery, rejectUpdate } from '../../src/messages';
import { trained, waitForStage } from '../helpers/runs';
import { createTestWorker, SAMPLE_DATASET, startBackend, taskQueueFor, testConfig, useTemporal, type Backend } from '../helpers/stack';

const temporal = useTemporal();
const MODEL = 'gpt-4o-mini-2024-07-18';
let backend: Backend;
let config: AppConfig;
let worker: Worker;
let running: Promise<void>;
let client: Client;
let changedDataset: string;

beforeAll(async () => {
  backend = await startBackend();
  config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('line-runs'));
  worker = await createTestWorker(temporal.env, config);
  running = worker.run();
  client = temporal.env.client;
  // The same conversations with the last ten left out: new data for the line.
  const lines = (await readFile(SAMPLE_DATASET, 'utf8')).trimEnd().split('\n');
  changedDataset = path.join(temporal.artifactsDir, 'support-changed.jsonl');
  await writeFile(changedDataset, `${lines.slice(0, -10).join('\n')}\n`);
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await backend?.dispose();
});

function run(input: Partial<PipelineInput>) {
  return startPipeline(client, config, { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 1, eval: { maxExamples: 8 }, ...input });
}

async function outcomeAttribute(workflowId: string): Promise<unknown> {
  return (await client.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(OUTCOME_KEY);
}

describe('a model line keeps its champion and skips data it was trained on', () => {
  const line = 'support-bot';
  let first: PipelineOutcome;

  it('promotes the first run of a line by the gate against the base and makes its model the champion', async () => {
    first = await (await run({ line })).result();
    const result = trained(first);
    expect(result.status).toBe('promoted');
    expect(result.eval.gate).toMatchObject({ outcome: 'promoted', minImprovement: 0 });
    expect(result.decision).toMatchObject({ outcome: 'promoted', decidedBy: 'gate', approvalRequired: false });
    expect(result.line).toEqual({ name: line, champion: null });
    const state = await client.workflow.getHandle(lineWorkflowId(line)).query(lineStateQuery);
    expect(state.champion).toMatchObject({ model: result.decision?.model, datasetSha256: result.dataset.sha256, workflowId: result.workflowId, promotedBy: 'gate' });
    expect(await outcomeAttribute(result.workflowId)).toBe('promoted');
  }, 180_000);

  it('ends a second run on the same data as skipped, in stage done, with nothing uploaded', async () => {
    const before = await backend.stats();
    const handle = await run({ line });
    const outcome = await handle.result();
    expect(isSkipped(outcome)).toBe(true);
    if (!isSkipped(outcome)) return;
    expect(outcome.reason).toMatch(/is the one line support-bot's champion .* was trained on/);
    expect(outcome.champion.workflowId).toBe(trained(first).workflowId);
    const after = await backend.stats();
    expect(after.created).toEqual(before.created);
    const progress = await waitForStage(client, handle.workflowId, 'done');
    expect(progress.jobId).toBeNull();
    expect(await outcomeAttribute(handle.workflowId)).toBe('skipped');
    const state = await client.workflow.getHandle(lineWorkflowId(line)).query(lineStateQuery);
    expect(state.history.at(-1)).toMatchObject({ workflowId: handle.workflowId, outcome: 'skipped', model: null });
  }, 120_000);

  it('trains on changed data and evaluates the challenger against the champion', async () => {
    const champion = trained(first).decision?.model;
    const result = trained(await (await run({ line, datasetPath: changedDataset })).result());
    expect(result.line).toEqual({ name: line, champion });
    expect(result.eval.candidates.map((c) => c.role)).toContain('champion');
    expect(result.eval.vsChampion).toMatchObject({ champion, paired: result.eval.examples });
    expect(result.eval.gate?.against).toBe('champion');
    expect(result.decision?.decidedBy).toBe('gate');
    const state = await client.workflow.getHandle(lineWorkflowId(line)).query(lineStateQuery);
    const entry = state.history.find((e) => e.workflowId === result.workflowId);
    expect(entry).toMatchObject({ outcome: result.decision?.outcome, decidedBy: 'gate', model: result.decision?.model });
    expect(entry?.scores?.vsChampion).not.toBeNull();
  }, 180_000);
});

describe('a schedule of a line retrains only when the data changed', () => {
  it('trains on its first trigger, and ends the second trigger on the same dataset skipped with zero uploads at the backend', async () => {
    const name = 'nightly-line';
    const input = resolvePipelineInput({ datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 1, eval: { maxExamples: 8 }, line: 'scheduled-line' });
    await createSchedule(client, config, { name, cron: '0 3 * * *', overlap: 'skip', input });
    try {
      const first = await triggerSchedule(client, name);
      if (first.outcome !== 'started') throw new Error(`first trigger: ${first.outcome}`);
      const trainedRun = trained(await client.workflow.getHandle(first.workflowId).result());
      expect(trainedRun.decision?.outcome).toBe('promoted');

      const before = await backend.stats();
      const second = await triggerSchedule(client, name);
      if (second.outcome !== 'started') throw new Error(`second trigger: ${second.outcome}`);
      const outcome = await client.workflow.getHandle(second.workflowId).result();
      expect(outcome.status).toBe('skipped');
      expect((await backend.stats()).created).toEqual(before.created);
      expect(await outcomeAttribute(second.workflowId)).toBe('skipped');
    } finally {
      await deleteSchedule(client, name);
    }
  }, 180_000);
});

describe('a run that requires approval waits for a person', () => {
  it('refuses to approve a model that is not its own, then promotes the one a person approves', async () => {
    const handle = await run({ line: 'approved-line', approval: 'required' });
    const waiting = await waitForStage(client, handle.workflowId, 'awaiting_approval', 120_000);
    expect(waiting.approval?.models.length).toBeGreaterThan(0);
    const refused = await handle.executeUpdate(approveUpdate, { args: [{ by: 'mallory', model: 'gpt-4o' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toMatch(/gpt-4o is not a candidate of run .*; approve one of: /);
    const pick = waiting.approval?.models[0] as string;
    const ack = await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice', model: pick, reason: 'looks right' }] });
    expect(ack).toEqual({ workflowId: handle.workflowId, outcome: 'promoted', model: pick });
    const result = trained(await handle.result());
    expect(result.status).toBe('promoted');
    expect(result.decision).toMatchObject({ outcome: 'promoted', model: pick, decidedBy: 'person:alice', reason: 'looks right', approvalRequired: true });
    const state = await client.workflow.getHandle(lineWorkflowId('approved-line')).query(lineStateQuery);
    expect(state.champion).toMatchObject({ model: pick, promotedBy: 'person:alice' });
    expect(await readFile(result.report.markdown, 'utf8')).toMatch(/\| Decided \| promoted .* by alice at .*: looks right \(approval was required\)/);
  }, 180_000);

  it('records a rejection with its reason and keeps the line without a champion', async () => {
    const handle = await run({ line: 'rejected-line', approval: 'required' });
    await waitForStage(client, handle.workflowId, 'awaiting_approval', 120_000);
    await handle.executeUpdate(rejectUpdate, { args: [{ by: 'bob', reason: 'tone is off' }] });
    const result = trained(await handle.result());
    expect(result.status).toBe('rejected');
    expect(result.decision).toMatchObject({ outcome: 'rejected', decidedBy: 'person:bob', reason: 'tone is off' });
    const state = await client.workflow.getHandle(lineWorkflowId('rejected-line')).query(lineStateQuery);
    expect(state.champion).toBeNull();
    expect(state.history.at(-1)).toMatchObject({ outcome: 'rejected', decidedBy: 'person:bob', reason: 'tone is off' });
    // Once decided, the run accepts no second decision.
    const late = await handle.executeUpdate(approveUpdate, { args: [{ by: 'carol' }] }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(Error);
  }, 180_000);

  it('rejects by itself when nobody answers within the approval timeout', async () => {
    const result = trained(await (await run({ approval: 'required', approvalTimeoutSeconds: 2 })).result());
    expect(result.status).toBe('rejected');
    expect(result.decision).toMatchObject({ outcome: 'rejected', decidedBy: 'timeout', approvalRequired: true });
    expect(result.decision?.reason).toMatch(/^nobody approved or rejected within 2 s/);
  }, 180_000);
});
