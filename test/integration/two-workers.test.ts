import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config';
import type { PipelineResult } from '../../src/domain/pipeline';
import { startPipeline } from '../../src/starter';
import { openStorage } from '../../src/store';
import { trained, waitForProgress } from '../helpers/runs';
import { SAMPLE_DATASET, spawnTuneflowWorker, startBackend, startTestS3, taskQueueFor, testConfig, tuneflowEnv, useTemporal, type Backend, type TestS3 } from '../helpers/stack';

const temporal = useTemporal();
let s3: TestS3;

beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3?.dispose();
});

interface Machine {
  home: string;
  worker: ChildProcess;
}

/** A worker "on its own machine": its own TUNEFLOW_HOME and artifacts folder, sharing only Temporal, the provider and the S3 store. */
async function startMachine(config: AppConfig, prefix: string): Promise<Machine> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-machine-'));
  const worker = spawnTuneflowWorker(config, [], { ...s3.storeEnv(prefix), TUNEFLOW_HOME: home, TUNEFLOW_ARTIFACTS_DIR: path.join(home, 'artifacts') });
  return { home, worker };
}

function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** The worker identities that started each activity of a run, its evaluation child workflow included. */
async function activityIdentities(client: Client, workflowId: string, firstRunId: string): Promise<Set<string>> {
  const identities = new Set<string>();
  for (const id of [workflowId, `${workflowId}-eval-${firstRunId}`]) {
    // Continue-as-new chains: every execution of the id, newest first.
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${id}'` })) {
      const history = await client.workflow.getHandle(id, execution.runId).fetchHistory();
      for (const event of history.events ?? []) {
        const identity = event.activityTaskStartedEventAttributes?.identity;
        if (identity) identities.add(identity);
      }
    }
  }
  return identities;
}

/** What the provider holds for one run: its jobs and its uploaded files. */
async function providerRecord(backend: Backend, workflowId: string): Promise<{ jobs: number; uploads: number }> {
  let jobs = 0;
  for await (const job of backend.openai.fineTuning.jobs.list({ metadata: { tuneflow_workflow_id: workflowId }, limit: 20 })) if (job.id) jobs++;
  let uploads = 0;
  for await (const file of backend.openai.files.list({ limit: 100 })) if (file.filename.startsWith(`tuneflow-${workflowId}-`)) uploads++;
  return { jobs, uploads };
}

const INPUT = { datasetPath: SAMPLE_DATASET, model: 'gpt-4o-mini-2024-07-18', pollIntervalSeconds: 1, eval: { batchSize: 8, concurrency: 2 } };

describe('two workers that share no disk, one S3 store', () => {
  it('run several pipelines to the end with activities of one run on both workers, and any machine re-renders a report', async () => {
    const backend = await startBackend({ timeScale: 40 });
    const config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('two workers'));
    const machines = [await startMachine(config, 'two-workers'), await startMachine(config, 'two-workers')];
    const runs = 6;
    try {
      const started = performance.now();
      const handles = await Promise.all(Array.from({ length: runs }, () => startPipeline(temporal.env.client, config, INPUT)));
      const results: PipelineResult[] = (await Promise.all(handles.map((h) => h.result()))).map(trained);
      const seconds = (performance.now() - started) / 1000;

      const identities = await Promise.all(handles.map((h) => activityIdentities(temporal.env.client, h.workflowId, h.firstExecutionRunId)));
      const records = await Promise.all(handles.map((h) => providerRecord(backend, h.workflowId)));
      const onBoth = identities.filter((ids) => ids.size >= 2).length;
      const held = records.filter((r) => r.jobs === 1 && r.uploads === 2).length;
      console.log(`[two workers] ${runs} runs, ${held} held (one job, two uploads), ${onBoth} with activities on both workers, ${seconds.toFixed(1)} s`);

      expect(results.map((r) => r.status)).toEqual(Array(runs).fill('succeeded'));
      expect(held).toBe(runs);
      expect(onBoth).toBeGreaterThan(0);
      // Run files live in the bucket only: neither machine's own folder holds any.
      for (const m of machines) expect(await readdir(path.join(m.home, 'artifacts')).catch(() => [])).toEqual([]);
      expect(results[0]?.artifactsDir).toBe(`s3://${s3.bucket}/two-workers/${handles[0]?.workflowId}/${handles[0]?.firstExecutionRunId}`);

      // A third machine, with nothing of the runs on its disk, re-renders a report from the store.
      const third = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-machine-'));
      try {
        const printed = await new Promise<string>((resolve, reject) => {
          const cli = spawn(process.execPath, ['bin/tuneflow.mjs', 'report', handles[0]?.workflowId as string], {
            env: tuneflowEnv(config, { ...s3.storeEnv('two-workers'), TUNEFLOW_HOME: third, TUNEFLOW_ARTIFACTS_DIR: path.join(third, 'artifacts') }),
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          cli.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
          cli.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`tuneflow report exited with ${code}`))));
        });
        const runUrl = results[0]?.artifactsDir as string;
        expect(printed.trim().split('\n')).toEqual([`${runUrl}/report.html`, `${runUrl}/report.md`]);
        const shared = s3.storeConfig('two-workers');
        const { store } = openStorage(shared.store, shared.s3);
        try {
          expect((await store.read(`${handles[0]?.workflowId}/${handles[0]?.firstExecutionRunId}/report.html`)).toString('utf8')).toContain('id="examples-table"');
        } finally {
          store.close();
        }
      } finally {
        await rm(third, { recursive: true, force: true });
      }
    } finally {
      await Promise.all(machines.map((m) => killHard(m.worker)));
      await Promise.all(machines.map((m) => rm(m.home, { recursive: true, force: true })));
      await backend.dispose();
    }
  }, 600_000);

  it('lose one worker mid-run and every run still ends as expected, with one job and two uploads', async () => {
    const backend = await startBackend({ timeScale: 40 });
    const config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('one of two killed'));
    const machines = [await startMachine(config, 'one-killed'), await startMachine(config, 'one-killed')];
    const runs = 3;
    try {
      const started = performance.now();
      const handles = await Promise.all(Array.from({ length: runs }, () => startPipeline(temporal.env.client, config, INPUT)));
      // Every job exists before the kill: what dies is a poll or an upload's neighbour, not a 5-minute create.
      await Promise.all(handles.map((h) => waitForProgress(temporal.env.client, h.workflowId, (p) => p.stage === 'training', 240_000)));
      await killHard(machines[0]?.worker as ChildProcess);
      const results = await Promise.all(handles.map((h) => h.result()));
      const seconds = (performance.now() - started) / 1000;
      const records = await Promise.all(handles.map((h) => providerRecord(backend, h.workflowId)));
      const held = records.filter((r) => r.jobs === 1 && r.uploads === 2).length;
      console.log(`[one of two workers killed] ${runs} runs, ${held} held (one job, two uploads), ${seconds.toFixed(1)} s`);
      expect(results.map((r) => r.status)).toEqual(Array(runs).fill('succeeded'));
      expect(held).toBe(runs);
    } finally {
      await Promise.all(machines.map((m) => killHard(m.worker)));
      await Promise.all(machines.map((m) => rm(m.home, { recursive: true, force: true })));
      await backend.dispose();
    }
  }, 600_000);
});
