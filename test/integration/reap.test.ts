import { createReadStream } from 'node:fs';
import { ScheduleNotFoundError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config';
import { createOpenAIProvider } from '../../src/provider/openai';
import { reapProviderJobs, type ReapEntry } from '../../src/reaper/reap';
import { startPipeline } from '../../src/starter';
import { progressQuery } from '../../src/workflows';
import { createTestWorker, SAMPLE_DATASET, silentLogger, startBackend, taskQueueFor, TEST_API_KEY, testConfig, tuneflowEnv, useTemporal, runTuneflow, type Backend, type TuneflowExit } from '../helpers/stack';

const temporal = useTemporal();

/** `tuneflow <args>` in its own process, configured for this test's Temporal, task queue and backend. */
function tuneflow(args: string[], config: AppConfig): Promise<TuneflowExit> {
  return runTuneflow(args, tuneflowEnv(config, { TUNEFLOW_LOG_LEVEL: 'silent' }));
}

/** Starts a run and returns once it is following its provider job, with the job's id. */
async function runInTraining(config: AppConfig): Promise<{ workflowId: string; jobId: string }> {
  const handle = await startPipeline(temporal.env.client, config, { datasetPath: SAMPLE_DATASET, model: 'gpt-4o-mini-2024-07-18', pollIntervalSeconds: 1 });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p?.stage === 'training' && p.jobId) return { workflowId: handle.workflowId, jobId: p.jobId };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`run ${handle.workflowId} did not reach training in 60 s`);
}

async function jobStatus(backend: Backend, jobId: string): Promise<string> {
  return (await backend.openai.fineTuning.jobs.retrieve(jobId)).status;
}

/** A backend whose jobs train for minutes, so a job is still live while the test looks at it. */
async function stack(name: string): Promise<{ backend: Backend; config: AppConfig; worker: Worker }> {
  const backend = await startBackend({ timeScale: 1 });
  const config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor(name));
  return { backend, config, worker: await createTestWorker(temporal.env, config) };
}

describe('tuneflow reap on the real Temporal dev server and the local backend', () => {
  it('reports the live job of a terminated run on --dry-run, then cancels only that job, leaving a running run and untagged jobs alone', async () => {
    const { backend, config, worker } = await stack('reap');
    try {
      await worker.runUntil(async () => {
        const orphan = await runInTraining(config);
        await temporal.env.client.workflow.getHandle(orphan.workflowId).terminate('operator killed it');
        const alive = await runInTraining(config);
        const file = await backend.openai.files.create({ file: await toFile(createReadStream(SAMPLE_DATASET), 'someone-else.jsonl'), purpose: 'fine-tune' });
        const untagged = await backend.openai.fineTuning.jobs.create({ model: 'gpt-4o-mini-2024-07-18', training_file: file.id, metadata: { team: 'search' } });

        const dry = await tuneflow(['reap', '--dry-run', '--json'], config);
        expect(dry.code).toBe(0);
        const found = JSON.parse(dry.stdout) as ReapEntry[];
        expect(found).toHaveLength(2);
        expect(found).toContainEqual({
          jobId: orphan.jobId,
          workflowId: orphan.workflowId,
          jobStatus: await jobStatus(backend, orphan.jobId),
          workflowStatus: 'TERMINATED',
          action: 'would-cancel',
          reason: `workflow ${orphan.workflowId} is closed (TERMINATED)`,
        });
        expect(found.find((e) => e.jobId === alive.jobId)).toMatchObject({ workflowStatus: 'RUNNING', action: 'kept' });
        expect(await jobStatus(backend, orphan.jobId)).not.toBe('cancelled');
        expect((await backend.stats()).requests.cancelFineTuningJob ?? 0).toBe(0);

        const reaped = await tuneflow(['reap'], config);
        expect(reaped.code).toBe(0);
        expect(reaped.stdout).toMatch(new RegExp(`${orphan.jobId}\\s+${orphan.workflowId}\\s+cancelled\\s+TERMINATED\\s+cancelled`));
        expect(reaped.stdout).toContain('1 cancelled, 0 would be cancelled, 1 kept');
        expect(await jobStatus(backend, orphan.jobId)).toBe('cancelled');
        expect(await jobStatus(backend, alive.jobId)).not.toBe('cancelled');
        expect(await jobStatus(backend, untagged.id)).not.toBe('cancelled');
        expect((await backend.stats()).requests.cancelFineTuningJob).toBe(1);

        const handle = temporal.env.client.workflow.getHandle(alive.workflowId);
        await handle.cancel();
        await handle.result().catch(() => undefined);
      });
    } finally {
      await backend.dispose();
    }
  });

  it('as a schedule: one triggered sweep cancels the orphaned job, and the schedule can be deleted', async () => {
    const { backend, config, worker } = await stack('reap schedule');
    const scheduleId = `reaper-${config.temporal.taskQueue}`;
    try {
      await worker.runUntil(async () => {
        const orphan = await runInTraining(config);
        await temporal.env.client.workflow.getHandle(orphan.workflowId).terminate('operator killed it');

        const created = await tuneflow(['reap', '--schedule', '0 3 1 1 *', '--schedule-id', scheduleId, '--json'], config);
        expect(created.code).toBe(0);
        expect(JSON.parse(created.stdout)).toMatchObject({ scheduleId, cron: '0 3 1 1 *', outcome: 'created', taskQueue: config.temporal.taskQueue });
        // Run again, it moves the existing schedule to the new cron instead of failing.
        const again = await tuneflow(['reap', '--schedule', '0 4 1 1 *', '--schedule-id', scheduleId, '--json'], config);
        expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'updated', nextRun: expect.stringMatching(/^\d{4}-01-01T04:00:00/) as unknown });

        const schedule = temporal.env.client.schedule.getHandle(scheduleId);
        const described = await schedule.describe();
        expect(described.policies.overlap).toBe('SKIP');
        await schedule.trigger();
        let started: { workflowId: string; firstExecutionRunId: string } | undefined;
        while (!started) {
          started = (await schedule.describe()).info.recentActions[0]?.action.workflow;
          if (!started) await new Promise((r) => setTimeout(r, 200));
        }
        const sweep = (await temporal.env.client.workflow.getHandle(started.workflowId, started.firstExecutionRunId).result()) as ReapEntry[];
        expect(sweep).toEqual([expect.objectContaining({ jobId: orphan.jobId, workflowStatus: 'TERMINATED', action: 'cancelled' })]);
        expect(await jobStatus(backend, orphan.jobId)).toBe('cancelled');

        const deleted = await tuneflow(['reap', '--delete-schedule', '--schedule-id', scheduleId], config);
        expect(deleted.code).toBe(0);
        expect(deleted.stdout).toContain(`Deleted schedule ${scheduleId}.`);
        await expect(schedule.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
      });
    } finally {
      await temporal.env.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
      await backend.dispose();
    }
  });

  it('reads every page of jobs and cancels a tagged job whose workflow id Temporal has never heard of', async () => {
    const backend = await startBackend({ timeScale: 1 });
    try {
      const file = await backend.openai.files.create({ file: await toFile(createReadStream(SAMPLE_DATASET), 'data.jsonl'), purpose: 'fine-tune' });
      const create = (metadata: Record<string, string>) => backend.openai.fineTuning.jobs.create({ model: 'gpt-4o-mini-2024-07-18', training_file: file.id, metadata });
      // Jobs list newest first, so the first one created sits on the last page.
      const stray = await create({ tuneflow_workflow_id: `never-started-${Date.now()}`, tuneflow_run_id: 'r' });
      for (let i = 0; i < 100; i += 1) await create({ team: 'search' });

      const entries = await reapProviderJobs({ provider: createOpenAIProvider({ apiKey: TEST_API_KEY, baseURL: backend.url }), temporal: temporal.env.client, logger: silentLogger }, { dryRun: false });
      expect(entries).toEqual([expect.objectContaining({ jobId: stray.id, workflowStatus: 'NOT_FOUND', action: 'cancelled' })]);
      expect(await jobStatus(backend, stray.id)).toBe('cancelled');
      const stats = await backend.stats();
      expect(stats.requests.listPaginatedFineTuningJobs).toBe(2);
      expect(stats.requests.cancelFineTuningJob).toBe(1);
    } finally {
      await backend.dispose();
    }
  });
});
