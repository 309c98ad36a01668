import path from 'node:path';
import { ActivityFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import type { AppConfig } from '../../src/config';
import { lineWorkflowId, type Champion, type LineRunRecord, type LineState } from '../../src/domain/lines';
import { LINE_KEY } from '../../src/domain/search-attributes';
import { LineRequestRefusedError, promoteModel, rollbackLine, showLine, UnknownLineError } from '../../src/lines';
import { lineStateQuery, promoteUpdate, recordLineRunUpdate } from '../../src/messages';
import { runTuneflow, silentLogger, taskQueueFor, testConfig, tuneflowEnv, useTemporal, type TuneflowExit } from '../helpers/stack';

const temporal = useTemporal();

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
  bundle = await bundleWorkflowCode({ workflowsPath: path.resolve('test/fixtures/workflows/line-callers.ts'), logger: quiet });
});

/** A line name of its own per test: lines are per namespace, and the dev server is shared by the file. */
const lineFor = (name: string) => `${name}-${Math.random().toString(16).slice(2, 8)}`;

// One task queue for the file, as one deployment has: every line the file made is answered while a test's worker runs.
const TASK_QUEUE = taskQueueFor('lines');

async function withWorker<T>(work: (config: AppConfig, client: Client) => Promise<T>): Promise<T> {
  // Lines call no provider: the backend URL is never dialled.
  const config = testConfig(temporal.env, 'http://127.0.0.1:9/v1', temporal.artifactsDir, TASK_QUEUE);
  const worker = await Worker.create({
    connection: temporal.env.nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: bundle,
    activities: createActivities({ config, logger: silentLogger, provider: () => { throw new Error('lines call no provider'); } }),
  });
  return worker.runUntil(work(config, temporal.env.client));
}

/** Runs one line activity the way the pipeline does: from a workflow, on the worker's task queue. */
function activity<T>(config: AppConfig, workflow: 'championOfLine' | 'recordOnLine', arg: unknown): Promise<T> {
  const workflowId = `${workflow}-${Math.random().toString(16).slice(2, 10)}`;
  return temporal.env.client.workflow.execute(workflow, { taskQueue: config.temporal.taskQueue, workflowId, args: [arg] }) as Promise<T>;
}

function record(line: string, n: number, outcome: LineRunRecord['outcome']): LineRunRecord & { line: string } {
  return {
    line,
    at: new Date(Date.UTC(2026, 2, n)).toISOString(),
    workflowId: `ft-${line}-${n}`,
    runId: `run-${n}`,
    model: `ft:gpt-4o-mini-2024-07-18:acme:${line}-${n}`,
    datasetSha256: `${n}`.repeat(64).slice(0, 64),
    outcome,
    decidedBy: 'gate',
    reason: outcome === 'promoted' ? 'beats the champion by 0.08 (CI 0.03 to 0.13)' : 'does not beat the champion (CI -0.02 to 0.04)',
    scores: { primaryMetric: 'exact_match', mean: 0.6 + n / 100, vsChampion: null, vsBase: { diff: 0.08, ci95: [0.03, 0.13] } },
  };
}

const state = (line: string) => temporal.env.client.workflow.getHandle(lineWorkflowId(line)).query(lineStateQuery);

/** Visibility follows a start by a moment; the list commands read it. */
async function untilListed(client: Client, line: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${lineWorkflowId(line)}' AND ExecutionStatus = 'Running'` })) if (wf.workflowId) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`line ${line} never appeared in visibility`);
}

describe('model lines on the real Temporal dev server', () => {
  it('records a promoted run then a rejected run: both are in history, and the rejection leaves the champion as it was', async () => {
    await withWorker(async (config) => {
      const line = lineFor('support-bot');
      const first = await activity<Champion | null>(config, 'recordOnLine', record(line, 1, 'promoted'));
      expect(first).toMatchObject({ model: `ft:gpt-4o-mini-2024-07-18:acme:${line}-1`, promotedBy: 'gate', workflowId: `ft-${line}-1` });
      const second = await activity<Champion | null>(config, 'recordOnLine', record(line, 2, 'rejected'));
      expect(second).toEqual(first);

      const s = await state(line);
      expect(s.champion).toEqual(first);
      expect(s.previousChampions).toEqual([]);
      expect(s.history.map((e) => [e.workflowId, e.outcome, e.previousChampion])).toEqual([
        [`ft-${line}-1`, 'promoted', null],
        [`ft-${line}-2`, 'rejected', first?.model],
      ]);
      expect(await activity<Champion | null>(config, 'championOfLine', line)).toEqual(first);
      // Started by the activity on the worker's own task queue, tagged for the UI.
      const described = await temporal.env.client.workflow.getHandle(lineWorkflowId(line)).describe();
      expect(described.type).toBe('modelLine');
      expect(described.taskQueue).toBe(config.temporal.taskQueue);
      expect(described.typedSearchAttributes.get(LINE_KEY)).toBe(line);
    });
  });

  it('a record of a run the line already has changes nothing and answers the current champion', async () => {
    await withWorker(async (config) => {
      const line = lineFor('dedup');
      await activity(config, 'recordOnLine', record(line, 1, 'promoted'));
      const champion = await activity<Champion | null>(config, 'recordOnLine', record(line, 2, 'promoted'));
      const before = await state(line);
      // The newest run again, as a retried activity sends it (same update id: Temporal answers it once).
      expect(await activity<Champion | null>(config, 'recordOnLine', record(line, 2, 'promoted'))).toEqual(champion);
      // An older run again under a fresh update id: the line itself drops it and answers its current champion.
      const { line: _line, ...entry } = record(line, 1, 'promoted');
      expect(await temporal.env.client.workflow.getHandle(lineWorkflowId(line)).executeUpdate(recordLineRunUpdate, { args: [entry] })).toEqual(champion);
      expect(await state(line)).toEqual(before);
      expect(before.history).toHaveLength(2);
    });
  });

  it('promote by hand and rollback walk the champions back in order', async () => {
    await withWorker(async (config, client) => {
      const line = lineFor('billing');
      const taskQueue = config.temporal.taskQueue;
      // Promoting on a line that does not exist yet creates it.
      await promoteModel(client, { taskQueue, line, model: 'model-a', by: 'ana' });
      await activity(config, 'recordOnLine', { ...record(line, 2, 'promoted'), model: 'model-b' });
      await promoteModel(client, { taskQueue, line, model: 'model-c', by: 'ana', reason: 'better on refunds' });
      expect((await showLine(client, line)).previousChampions.map((c) => c.model)).toEqual(['model-a', 'model-b']);

      const b = await rollbackLine(client, line, 'bo');
      expect(b).toMatchObject({ model: 'model-b', promotedBy: 'rollback:bo', workflowId: `ft-${line}-2`, datasetSha256: record(line, 2, 'promoted').datasetSha256 });
      const a = await rollbackLine(client, line, 'bo', 'regression on billing');
      expect(a).toMatchObject({ model: 'model-a', promotedBy: 'rollback:bo', datasetSha256: null });
      const s = await showLine(client, line);
      expect(s.champion?.model).toBe('model-a');
      expect(s.previousChampions).toEqual([]);
      expect(s.history.map((e) => [e.kind, e.model, e.decidedBy, e.previousChampion])).toEqual([
        ['promote', 'model-a', 'person:ana', null],
        ['run', 'model-b', 'gate', 'model-a'],
        ['promote', 'model-c', 'person:ana', 'model-b'],
        ['rollback', 'model-b', 'person:bo', 'model-c'],
        ['rollback', 'model-a', 'person:bo', 'model-b'],
      ]);
      expect(s.history.at(-1)?.reason).toBe('regression on billing');
    });
  });

  it('refuses a rollback without a previous champion in the validator, leaving no trace in the line or its Temporal history', async () => {
    await withWorker(async (config, client) => {
      const line = lineFor('lonely');
      await promoteModel(client, { taskQueue: config.temporal.taskQueue, line, model: 'model-a', by: 'ana' });
      const refused = rollbackLine(client, line, 'bo');
      await expect(refused).rejects.toBeInstanceOf(LineRequestRefusedError);
      await expect(refused).rejects.toThrow(`Line ${line} has no previous champion to roll back to: its champion model-a is the first it had`);
      await expect(promoteModel(client, { taskQueue: config.temporal.taskQueue, line, model: ' ', by: 'ana' })).rejects.toThrow(`Line ${line}: promote needs a model name`);

      const s = await showLine(client, line);
      expect(s.history.map((e) => e.kind)).toEqual(['promote']);
      expect(s.champion?.model).toBe('model-a');
      const events = (await client.workflow.getHandle(lineWorkflowId(line)).fetchHistory()).events ?? [];
      expect(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(1);
    });
  });

  it('continues as new after its bound of updates and keeps its state across runs', async () => {
    await withWorker(async (config, client) => {
      const line = lineFor('long');
      const handle = await client.workflow.start('modelLine', {
        taskQueue: config.temporal.taskQueue,
        workflowId: lineWorkflowId(line),
        args: [{ line, maxUpdatesPerRun: 2 }],
      });
      const firstRunId = handle.firstExecutionRunId;
      for (const model of ['model-a', 'model-b', 'model-c', 'model-d', 'model-e']) {
        await client.workflow.getHandle(lineWorkflowId(line)).executeUpdate(promoteUpdate, { args: [{ model, by: 'ana' }] });
      }
      const described = await client.workflow.getHandle(lineWorkflowId(line)).describe();
      expect(described.runId).not.toBe(firstRunId);
      expect(described.status.name).toBe('RUNNING');
      expect(described.typedSearchAttributes.get(LINE_KEY)).toBe(line);
      const runs: string[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = '${lineWorkflowId(line)}'` })) runs.push(wf.status.name);
      expect(runs.filter((s) => s === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(2);

      const s: LineState = await showLine(client, line);
      expect(s.champion?.model).toBe('model-e');
      expect(s.previousChampions.map((c) => c.model)).toEqual(['model-a', 'model-b', 'model-c', 'model-d']);
      expect(s.history.map((e) => e.model)).toEqual(['model-a', 'model-b', 'model-c', 'model-d', 'model-e']);
      expect((await rollbackLine(client, line, 'bo')).model).toBe('model-d');
    });
  });

  it('has no champion for a line that does not exist, and says so by name when it is shown', async () => {
    await withWorker(async (config, client) => {
      const line = lineFor('nobody');
      expect(await activity<Champion | null>(config, 'championOfLine', line)).toBeNull();
      await expect(showLine(client, line)).rejects.toBeInstanceOf(UnknownLineError);
      await expect(rollbackLine(client, line, 'bo')).rejects.toThrow(`No line named ${line}; \`tuneflow line list\` shows the lines`);
      // A bad name fails the activity at once instead of retrying.
      const failed = await activity(config, 'championOfLine', 'Not A Line').catch((err: unknown) => err);
      expect(failed).toBeInstanceOf(WorkflowFailedError);
      const activityFailure = (failed as WorkflowFailedError).cause;
      expect(activityFailure).toBeInstanceOf(ActivityFailure);
      expect((activityFailure as ActivityFailure).cause).toMatchObject({ type: 'InvalidLineName', nonRetryable: true, message: expect.stringContaining('"Not A Line" is not a line name') as unknown });
    });
  });

  it('tuneflow line promote, list, show and rollback print what a person needs', async () => {
    await withWorker(async (config, client) => {
      const line = lineFor('cli-bot');
      const tuneflow = (...args: string[]): Promise<TuneflowExit> => runTuneflow(['line', ...args], tuneflowEnv(config, { TUNEFLOW_LOG_LEVEL: 'silent', USER: 'ana' }));
      await activity(config, 'recordOnLine', record(line, 1, 'promoted'));
      await activity(config, 'recordOnLine', record(line, 2, 'rejected'));

      const promoted = await tuneflow('promote', line, `ft:gpt-4o-mini-2024-07-18:acme:${line}-2`, '--reason', 'wins on refunds');
      expect(promoted.stderr).toBe('');
      expect(promoted.code).toBe(0);
      expect(promoted.stdout).toBe(`Line ${line}: ft:gpt-4o-mini-2024-07-18:acme:${line}-2 is the champion (person:ana).\n`);

      await untilListed(client, line);
      const list = await tuneflow('list');
      expect(list.stderr).toBe('');
      expect(list.code).toBe(0);
      const rows = list.stdout.split('\n');
      expect(rows[0]).toMatch(/^line\s+champion\s+trained on\s+promoted by\s+when\s+runs$/);
      expect(rows.find((r) => r.startsWith(`${line} `))).toMatch(new RegExp(`^${line}\\s+ft:gpt-4o-mini-2024-07-18:acme:${line}-2\\s+222222222222\\s+person:ana\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+2$`));

      const show = await tuneflow('show', line);
      expect(show.code).toBe(0);
      expect(show.stdout).toContain(`Champion: ft:gpt-4o-mini-2024-07-18:acme:${line}-2`);
      expect(show.stdout).toContain(`trained on: dataset sha256 ${'2'.repeat(64)}, run ft-${line}-2`);
      expect(show.stdout).toContain('scores: exact_match 0.620, vs base +0.080 (95% CI +0.030 to +0.130)');
      expect(show.stdout).toContain(`  ft:gpt-4o-mini-2024-07-18:acme:${line}-1: promoted `);
      const history = show.stdout.slice(show.stdout.indexOf('History (newest first):')).split('\n').slice(2);
      expect(history[0]).toMatch(/promote\s+promoted\s+\S+-2\s+person:ana\s+wins on refunds$/);
      expect(history[1]).toMatch(new RegExp(`run ft-${line}-2\\s+rejected\\s+\\S+-2\\s+gate\\s+does not beat the champion`));
      expect(history[2]).toMatch(new RegExp(`run ft-${line}-1\\s+promoted\\s+\\S+-1\\s+gate\\s+beats the champion`));

      const json = await tuneflow('show', line, '--json');
      expect((JSON.parse(json.stdout) as LineState).history).toHaveLength(3);

      const rolledBack = await tuneflow('rollback', line, '--by', 'bo', '--reason', 'complaints', '--json');
      expect(rolledBack.code).toBe(0);
      expect(JSON.parse(rolledBack.stdout)).toMatchObject({ line, champion: { model: `ft:gpt-4o-mini-2024-07-18:acme:${line}-1`, promotedBy: 'rollback:bo' } });

      const refused = await tuneflow('rollback', line);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(`tuneflow: Line ${line} has no previous champion to roll back to: its champion ft:gpt-4o-mini-2024-07-18:acme:${line}-1 is the first it had\n`);

      const unknown = await tuneflow('show', 'no-such-line');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toBe('tuneflow: No line named no-such-line; `tuneflow line list` shows the lines\n');
    });
  });
});
