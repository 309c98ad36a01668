import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ScheduleNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadCodecKeys } from '../../src/codec/keys';
import type { AppConfig } from '../../src/config';
import type { PipelineResult } from '../../src/domain/pipeline';
import { BASE_MODEL_KEY, LINE_KEY, STAGE_KEY, TUNEFLOW_SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import type { ScheduleDetail, ScheduleView, TriggerOutcome } from '../../src/schedules';
import { RunAlreadyExistsError, SearchAttributesMissingError, startPipeline } from '../../src/starter';
import { connectClient } from '../../src/temporal/connect';
import { checkSearchAttributes } from '../../src/temporal/search-attributes';
import { localTemporalSettings } from '../../src/temporal/settings';
import { createTestWorker, runTuneflow, SAMPLE_DATASET, startBackend, taskQueueFor, testConfig, tuneflowEnv, useTemporal, type Backend, type TuneflowExit } from '../helpers/stack';

const MODEL = 'gpt-4o-mini-2024-07-18';
const RELATIVE_DATASET = 'data/sample/support-conversations.jsonl';

const temporal = useTemporal();
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  await backend?.dispose();
});

function tuneflow(args: string[], config: AppConfig): Promise<TuneflowExit> {
  return runTuneflow(args, tuneflowEnv(config, { TUNEFLOW_LOG_LEVEL: 'silent' }));
}

function configFor(name: string): AppConfig {
  return testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor(name));
}

/** Visibility lags a start by a moment: polls the query until it lists `workflowId`, within a bound. */
async function findByQuery(client: Client, query: string, workflowId: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for await (const wf of client.workflow.list({ query })) if (wf.workflowId === workflowId) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no run ${workflowId} matched ${query} within ${timeoutMs} ms`);
}

async function expectDecorated(handle: WorkflowHandle, summary: string, line: string | null): Promise<string> {
  const d = await handle.describe();
  expect(await d.staticSummary()).toBe(summary);
  expect(d.memo).toEqual({ tuneflow: expect.objectContaining({ dataset: SAMPLE_DATASET, model: MODEL, line }) });
  expect(d.typedSearchAttributes.get(STAGE_KEY)).toBeDefined();
  expect(d.typedSearchAttributes.get(BASE_MODEL_KEY)).toBe(MODEL);
  expect(d.typedSearchAttributes.get(LINE_KEY)).toBe(line ?? undefined);
  const details = (await d.staticDetails()) ?? '';
  expect(details).toContain(`\`${SAMPLE_DATASET}\``);
  expect(details).toContain('20% held out for validation, seed 42');
  expect(details).toContain('`tuneflow report ');
  return details;
}

describe('tuneflow schedule on the real Temporal dev server', () => {
  it('creates a schedule whose triggered run is found by TuneflowStage and TuneflowLine, carries summary, details and memo, skips a second trigger while it runs, runs to its end, and is deleted', async () => {
    const config = configFor('schedule-trigger');
    const client = temporal.env.client;
    const name = `nightly-${Math.random().toString(16).slice(2, 8)}`;
    const line = `line-${name}`;

    const created = await tuneflow(
      ['schedule', 'create', name, '--dataset', RELATIVE_DATASET, '--model', MODEL, '--cron', '0 2 * * *', '--timezone', 'Europe/Berlin', '--line', line, '--poll-interval', '1', '--eval-max-examples', '6', '--json'],
      config,
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const made = JSON.parse(created.stdout) as ScheduleDetail;
    expect(made).toMatchObject({ name, scheduleId: `tuneflow-schedule-${name}`, cron: '0 2 * * *', timezone: 'Europe/Berlin', overlap: 'skip', catchupWindowSeconds: 600, paused: false, line, model: MODEL, dataset: SAMPLE_DATASET });
    expect(made.nextRuns.length).toBeGreaterThan(0);

    const described = await tuneflow(['schedule', 'describe', name], config);
    expect(described.code).toBe(0);
    expect(described.stdout).toContain(`cron:          0 2 * * * in Europe/Berlin`);
    expect(described.stdout).toContain('overlap:       skip; catch-up window 600 s');

    const triggered = await tuneflow(['schedule', 'trigger', name, '--json'], config);
    expect(triggered.code).toBe(0);
    const outcome = JSON.parse(triggered.stdout) as TriggerOutcome;
    expect(outcome.outcome).toBe('started');
    const workflowId = outcome.outcome === 'started' ? outcome.workflowId : '';
    expect(workflowId.startsWith(`${name}-`)).toBe(true);

    // No worker yet: the run stays in the stage its start tagged it with.
    await findByQuery(client, `TuneflowStage = 'validating' AND TuneflowLine = '${line}' AND TemporalScheduledById = 'tuneflow-schedule-${name}'`, workflowId);
    const handle = client.workflow.getHandle(workflowId);
    const details = await expectDecorated(handle, `fine-tune ${MODEL} on support-conversations.jsonl · line ${line}`, line);
    expect(details).toContain(`\`tuneflow report ${name}-<scheduled time>\``);

    const again = JSON.parse((await tuneflow(['schedule', 'trigger', name, '--json'], config)).stdout) as TriggerOutcome;
    expect(again).toEqual({ outcome: 'skipped', overlap: 'skip', runningWorkflowIds: [workflowId] });

    const worker = await createTestWorker(temporal.env, config);
    const result = await worker.runUntil(handle.result() as Promise<PipelineResult>);
    expect(result.fineTunedModel).toMatch(/^ft:/);

    const after = JSON.parse((await tuneflow(['schedule', 'describe', name, '--json'], config)).stdout) as ScheduleDetail;
    expect(after.recentRuns).toEqual([expect.objectContaining({ workflowId, status: 'COMPLETED' })]);
    expect(after.skippedForOverlap).toBe(1);

    const deleted = await tuneflow(['schedule', 'delete', name], config);
    expect(deleted.code).toBe(0);
    await expect(client.schedule.getHandle(`tuneflow-schedule-${name}`).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const gone = await tuneflow(['schedule', 'describe', name], config);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`No schedule named ${name}; see \`tuneflow schedule list\``);
  }, 240_000);

  it('lists, pauses with a note, unpauses and backfills a schedule through the CLI', async () => {
    // No worker on this task queue: backfilled runs stay open, which is all this test looks at.
    const config = configFor('schedule-lifecycle');
    const name = `weekly-${Math.random().toString(16).slice(2, 8)}`;
    const created = await tuneflow(['schedule', 'create', name, '--dataset', RELATIVE_DATASET, '--model', MODEL, '--cron', '0 2 * * *', '--overlap', 'allow-all', '--paused', '--note', 'waiting for data'], config);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('next run: (paused)');

    // The list comes from visibility, which lags a new schedule by a moment.
    let listed: ScheduleView | undefined;
    const deadline = Date.now() + 30_000;
    while (!listed && Date.now() < deadline) {
      listed = (JSON.parse((await tuneflow(['schedule', 'list', '--json'], config)).stdout) as ScheduleView[]).find((v) => v.name === name);
      if (!listed) await new Promise((r) => setTimeout(r, 250));
    }
    expect(listed).toMatchObject({ name, cron: '0 2 * * *', timezone: 'UTC', paused: true, note: 'waiting for data', lastRun: null });
    const table = await tuneflow(['schedule', 'list'], config);
    expect(table.stdout).toMatch(new RegExp(`${name}\\s+0 2 \\* \\* \\*\\s+UTC\\s+yes`));

    expect((await tuneflow(['schedule', 'unpause', name], config)).code).toBe(0);
    let d = JSON.parse((await tuneflow(['schedule', 'describe', name, '--json'], config)).stdout) as ScheduleDetail;
    expect(d.paused).toBe(false);
    expect(d.nextRun).not.toBeNull();

    expect((await tuneflow(['schedule', 'pause', name, '--note', 'holiday'], config)).code).toBe(0);
    d = JSON.parse((await tuneflow(['schedule', 'describe', name, '--json'], config)).stdout) as ScheduleDetail;
    expect(d).toMatchObject({ paused: true, note: 'holiday' });

    const backfill = await tuneflow(['schedule', 'backfill', name, '--start', '2026-01-01T00:00:00Z', '--end', '2026-01-03T00:00:00Z'], config);
    expect(backfill.code).toBe(0);
    expect(backfill.stdout).toContain('(overlap allow-all)');
    const wanted = [`${name}-2026-01-01T02:00:00Z`, `${name}-2026-01-02T02:00:00Z`];
    const until = Date.now() + 30_000;
    while (Date.now() < until && d.recentRuns.length < 2) {
      await new Promise((r) => setTimeout(r, 250));
      d = JSON.parse((await tuneflow(['schedule', 'describe', name, '--json'], config)).stdout) as ScheduleDetail;
    }
    expect(d.recentRuns.map((r) => r.workflowId).sort()).toEqual(wanted);
    expect(d.recentRuns.every((r) => r.status === 'RUNNING')).toBe(true);

    const badRange = await tuneflow(['schedule', 'backfill', name, '--start', '2026-01-03T00:00:00Z', '--end', '2026-01-01T00:00:00Z'], config);
    expect(badRange.code).toBe(2);
    expect(badRange.stderr).toContain('--start (2026-01-03T00:00:00.000Z) must be before --end');

    for (const id of wanted) await temporal.env.client.workflow.getHandle(id).terminate('test over');
    expect((await tuneflow(['schedule', 'delete', name], config)).code).toBe(0);
  }, 120_000);

  it('refuses a bad option at create, naming it, before any schedule exists', async () => {
    const config = configFor('schedule-bad-option');
    const cases: [string[], RegExp][] = [
      [['--valid-ratio', '2'], /--valid-ratio: /],
      [['--timezone', 'Mars/Olympus'], /--timezone "Mars\/Olympus" is not an IANA time zone/],
      [['--catchup-window', 'soon'], /--catchup-window "soon" is not a duration/],
      [['--approval', 'required', '--approval-timeout', '400d'], /--approval-timeout: /],
      [['--cron', 'every tuesday'], /--cron "every tuesday" is not a schedule Temporal accepts/],
    ];
    for (const [extra, message] of cases) {
      const name = `bad-${Math.random().toString(16).slice(2, 8)}`;
      const args = ['schedule', 'create', name, '--dataset', RELATIVE_DATASET, '--model', MODEL, '--cron', '0 2 * * *', ...extra];
      const exit = await tuneflow(args, config);
      expect(exit.code, extra.join(' ')).toBe(2);
      expect(exit.stderr).toMatch(message);
      await expect(temporal.env.client.schedule.getHandle(`tuneflow-schedule-${name}`).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    }
  }, 120_000);
});

describe('runs started by hand', () => {
  it('`tuneflow run` decorates its run as a schedule does: attributes, summary, details and memo', async () => {
    const config = configFor('run-decorated');
    const started = await tuneflow(['run', RELATIVE_DATASET, '--model', MODEL, '--line', 'cli-line', '--approval', 'required', '--approval-timeout', '2d', '--json'], config);
    expect(started.code).toBe(0);
    const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
    const handle = temporal.env.client.workflow.getHandle(workflowId);
    const details = await expectDecorated(handle, `fine-tune ${MODEL} on support-conversations.jsonl · line cli-line · approval required`, 'cli-line');
    expect(details).toContain(`\`tuneflow approve ${workflowId}\``);
    expect(details).toContain('rejects by itself after 2 d');
    expect((await handle.describe()).memo).toMatchObject({ tuneflow: { reportCommand: `tuneflow report ${workflowId}` } });
    await findByQuery(temporal.env.client, `TuneflowLine = 'cli-line' AND TuneflowStage = 'validating'`, workflowId);
    await handle.terminate('test over');
  });

  it('with codec keys, stores the summary, details and memo encrypted (SDK 1.24 sends user metadata through the codec) and names no dataset', async () => {
    const codec = loadCodecKeys({ keys: `k1:${randomBytes(32).toString('base64')}` });
    const config = { ...configFor('encrypted-decoration'), codec };
    const client = await connectClient(localTemporalSettings(temporal.env.address), { codec });
    try {
      const handle = await startPipeline(client, config, { datasetPath: SAMPLE_DATASET, model: MODEL, line: 'enc-line' });
      // As the server stores them: the raw description, decoded by nothing.
      const raw = await client.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: handle.workflowId } });
      const { summary, details } = raw.executionConfig?.userMetadata ?? {};
      const memoField = raw.workflowExecutionInfo?.memo?.fields?.tuneflow;
      for (const payload of [summary, details, memoField]) {
        expect(Buffer.from(payload?.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
        expect(Buffer.from(payload?.data ?? []).toString('latin1')).not.toContain(MODEL);
      }
      const decoded = await handle.describe();
      expect(await decoded.staticSummary()).toBe(`fine-tune ${MODEL} (encrypted dataset) · line enc-line`);
      expect(`${await decoded.staticDetails()}${JSON.stringify(decoded.memo)}`).not.toContain('support-conversations');
      expect(decoded.typedSearchAttributes.get(BASE_MODEL_KEY)).toBeUndefined();
      await handle.terminate('test over');
    } finally {
      await client.connection.close();
    }
  });

  it("with onExisting 'use-existing', a second start returns the same running run, and a start of a closed run returns that closed run", async () => {
    const config = configFor('use-existing');
    const client = temporal.env.client;
    const workflowId = `use-existing-${Math.random().toString(16).slice(2, 8)}`;
    const input = { datasetPath: SAMPLE_DATASET, model: MODEL };
    const first = await startPipeline(client, config, input, { workflowId, onExisting: 'use-existing' });
    const second = await startPipeline(client, config, input, { workflowId, onExisting: 'use-existing' });
    expect(second.firstExecutionRunId).toBe(first.firstExecutionRunId);
    await expect(startPipeline(client, config, input, { workflowId })).rejects.toBeInstanceOf(RunAlreadyExistsError);
    expect((await client.workflow.count(`WorkflowId = '${workflowId}'`)).count).toBe(1);

    await first.terminate('closing it');
    const closed = await startPipeline(client, config, input, { workflowId, onExisting: 'use-existing' });
    expect(closed.firstExecutionRunId).toBe(first.firstExecutionRunId);
    expect((await closed.describe()).status.name).toBe('TERMINATED');
    expect((await client.workflow.count(`WorkflowId = '${workflowId}'`)).count).toBe(1);
  });
});

describe('a namespace without tuneflow search attributes', () => {
  let bare: TestWorkflowEnvironment;
  const cliPath = inject('temporalCliPath');
  const SECOND_NAMESPACE = 'tuneflow-cli-check';

  beforeAll(async () => {
    bare = await TestWorkflowEnvironment.createLocal({
      server: { executable: cliPath ? { type: 'existing-path', path: cliPath } : { type: 'cached-download' }, searchAttributes: [], extraArgs: ['--namespace', SECOND_NAMESPACE] },
    });
  });
  afterAll(async () => {
    await bare?.teardown();
  });

  const bareConfig = (namespace = 'default'): AppConfig => {
    const c = testConfig(bare, backend.url, temporal.artifactsDir, taskQueueFor('bare'));
    return { ...c, temporal: { ...c.temporal, namespace } };
  };

  /** `tuneflow worker` until it logs that it started (then SIGTERM) or exits by itself. */
  function workerExit(config: AppConfig): Promise<TuneflowExit> {
    return runTuneflow(['worker'], tuneflowEnv(config, { TUNEFLOW_LOG_LEVEL: 'info' }), (child) => {
      child.stderr?.on('data', (d: Buffer) => {
        if (d.toString().includes('worker started')) child.kill('SIGTERM');
      });
    });
  }

  it('makes the worker refuse to start, naming what is missing and the exact commands; the printed Temporal CLI command registers them', async () => {
    const config = bareConfig(SECOND_NAMESPACE);
    const refused = await workerExit(config);
    expect(refused.code).toBe(1);
    const names = TUNEFLOW_SEARCH_ATTRIBUTES.map((k) => k.name);
    expect(refused.stderr).toContain(`lacks search attributes tuneflow sets on every run: ${names.join(', ')}`);
    expect(refused.stderr).toContain('\n  tuneflow setup\n');
    const command = `temporal operator search-attribute create --address ${bare.address} --namespace ${SECOND_NAMESPACE} ${names.map((n) => `--name ${n} --type Keyword`).join(' ')}`;
    expect(refused.stderr).toContain(`  ${command}`);

    if (!cliPath) throw new Error('the Temporal CLI is needed to run the printed command');
    const [, ...args] = command.split(' ');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(cliPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
    });
    expect(await checkSearchAttributes(bare.connection.operatorService, SECOND_NAMESPACE)).toEqual({ missing: [], wrongType: [] });
  }, 120_000);

  it('refuses to start a run there, pointing at `tuneflow setup`', async () => {
    await expect(startPipeline(bare.client, bareConfig(), { datasetPath: SAMPLE_DATASET, model: MODEL })).rejects.toThrow(SearchAttributesMissingError);
    await expect(startPipeline(bare.client, bareConfig(), { datasetPath: SAMPLE_DATASET, model: MODEL })).rejects.toThrow(/`tuneflow setup`/);
  });

  it('`tuneflow setup` registers them all, a second call does nothing, and the worker then starts', async () => {
    const config = bareConfig();
    const first = await tuneflow(['setup'], config);
    expect(first.code).toBe(0);
    const names = TUNEFLOW_SEARCH_ATTRIBUTES.map((k) => k.name);
    expect(first.stdout).toContain(`Registered on namespace default at ${bare.address}: ${names.join(', ')} (Keyword).`);
    expect(await checkSearchAttributes(bare.connection.operatorService, 'default')).toEqual({ missing: [], wrongType: [] });

    const second = await tuneflow(['setup', '--json'], config);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({ address: bare.address, namespace: 'default', added: [], alreadyThere: names });

    const started = await workerExit(config);
    expect(started.stderr).toContain('worker started');
    expect(started.code).toBe(0);
  }, 120_000);
});
