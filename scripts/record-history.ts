/**
 * Records the golden histories the replay test checks every workflow change against: one per scenario,
 * into test/fixtures/histories/<package.json version>/, each on a throwaway local stack. Kept histories
 * are never overwritten; after a workflow change, bump the version and record the new release's set:
 * `npx tsx scripts/record-history.ts [--scenario name]`.
 */
import { execFileSync } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ApplicationFailure, CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { DEMO_MODEL, SAMPLE_DATASET } from '../src/cli/demo';
import { startLocalStack, type LocalStack } from '../src/cli/local-stack';
import { loadConfig } from '../src/config';
import { resolvePipelineInput, type PipelineInput } from '../src/domain/pipeline';
import type { Stage } from '../src/domain/stages';
import { createLogger } from '../src/log';
import type { LocalBackendOptions } from '../src/openai-local';
import type { ProviderKind } from '../src/provider/types';
import { startPipeline } from '../src/starter';
import { findTemporalCli } from '../src/temporal/cli';
import { resumeRun } from '../src/cli/resume';
import { progressQuery } from '../src/workflows';
import { approveUpdate } from '../src/messages';
import { lineWorkflowId } from '../src/domain/lines';

// A recognisable key, so the replay test can prove that secrets never reach history.
const RECORDING_API_KEY = 'sk-golden-recording-secret';
const TASK_QUEUE = 'record';
const HISTORIES = fileURLToPath(new URL('../test/fixtures/histories/', import.meta.url));

const INPUT: PipelineInput = {
  datasetPath: SAMPLE_DATASET,
  model: DEMO_MODEL,
  pollIntervalSeconds: 1,
  eval: { compare: [], maxExamples: 12, batchSize: 6, concurrency: 4, maxTokens: 256 },
};

/** One recorded run: the history file's name (without .json) and the run whose history it keeps. */
interface Recorded {
  file: string;
  workflowId: string;
  runId: string;
}

interface Scenario {
  /** The files this scenario writes, known before it runs so kept ones can be skipped. */
  files: string[];
  backend?: Partial<LocalBackendOptions>;
  /** The dialect the local backend speaks and the worker's adapter (default openai). */
  provider?: ProviderKind;
  run(stack: LocalStack, workflowId: string): Promise<Recorded[]>;
}

const SCENARIOS: Record<string, Scenario> = {
  'happy-path': {
    // From 0.2 the evaluation is a child workflow with a history of its own, kept beside its parent's.
    files: ['happy-path', 'evaluation-child'],
    async run(stack, workflowId) {
      const handle = await startPipeline(stack.client, stack.config, INPUT, { workflowId });
      await handle.result();
      const child = `${workflowId}-eval-${handle.firstExecutionRunId}`;
      const childRun = (await stack.client.workflow.getHandle(child).describe()).runId;
      return [
        { file: 'happy-path', workflowId, runId: handle.firstExecutionRunId },
        { file: 'evaluation-child', workflowId: child, runId: childRun },
      ];
    },
  },
  'provider-outage': {
    // The provider unreachable for a while during training: polls answer "unreachable", the run backs off and goes on.
    files: ['provider-outage'],
    backend: { timeScale: 20 },
    async run(stack, workflowId) {
      const handle = await startPipeline(stack.client, stack.config, INPUT, { workflowId });
      await waitFor(stack, workflowId, (p) => p.stage === 'training' && p.polls >= 1);
      await adminSettings(stack, { outage: true });
      await waitFor(stack, workflowId, (p) => p.unreachable);
      await delay(3000);
      await adminSettings(stack, { outage: false });
      await handle.result();
      return [{ file: 'provider-outage', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  'refused-key-resumed': {
    // The key refused while the job trains: the run waits for a person, `tuneflow resume` lets it go on.
    files: ['refused-key-resumed'],
    backend: { timeScale: 20 },
    async run(stack, workflowId) {
      const handle = await startPipeline(stack.client, stack.config, INPUT, { workflowId });
      await waitFor(stack, workflowId, (p) => p.stage === 'training' && p.polls >= 1);
      await adminSettings(stack, { revokedKeys: true });
      await waitFor(stack, workflowId, (p) => p.waiting);
      await adminSettings(stack, { revokedKeys: false });
      await resumeRun(stack.client, workflowId);
      await handle.result();
      return [{ file: 'refused-key-resumed', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  'continue-as-new': {
    // The first run ends by continuing as new; the final one starts from the carried state and finishes.
    files: ['continue-as-new', 'continue-as-new-final-run'],
    backend: { timeScale: 40 },
    async run(stack, workflowId) {
      const handle = await startPipeline(stack.client, stack.config, { ...INPUT, continueAsNewAfterPolls: 2 }, { workflowId });
      await handle.result();
      const final = (await stack.client.workflow.getHandle(workflowId).describe()).runId;
      if (final === handle.firstExecutionRunId) throw new Error('continue-as-new: the run never continued as new');
      return [
        { file: 'continue-as-new', workflowId, runId: handle.firstExecutionRunId },
        { file: 'continue-as-new-final-run', workflowId, runId: final },
      ];
    },
  },
  'azure-deployments': {
    // From 0.3: a provider whose models answer only once deployed; the run deploys, evaluates and cleans up.
    provider: 'azure',
    files: ['azure-deployments'],
    async run(stack, workflowId) {
      const handle = await startPipeline(stack.client, stack.config, { ...INPUT, model: 'gpt-4.1-mini-2025-04-14' }, { workflowId });
      await handle.result();
      return [{ file: 'azure-deployments', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  'azure-cancelled-evaluating': {
    // Cancelled while it evaluates through its deployments: they are deleted before the run closes.
    provider: 'azure',
    backend: { latencyMs: 300, latencyOperations: ['createChatCompletion'] },
    files: ['azure-cancelled-evaluating'],
    async run(stack, workflowId) {
      const handle = await startPipeline(stack.client, stack.config, { ...INPUT, model: 'gpt-4.1-mini-2025-04-14' }, { workflowId });
      await waitFor(stack, workflowId, (p) => p.stage === 'evaluating');
      await handle.cancel();
      const err = await handle.result().then(() => undefined, (e: unknown) => e);
      if (!(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure)) throw new Error(`azure-cancelled-evaluating: the run did not end cancelled: ${String(err)}`);
      return [{ file: 'azure-cancelled-evaluating', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  cancellation: {
    // Slow enough that the run is still training when the cancel arrives.
    backend: { timeScale: 10 },
    files: ['cancellation'],
    async run(stack, workflowId) {
      const handle = await startPipeline(stack.client, stack.config, INPUT, { workflowId });
      await waitFor(stack, workflowId, (p) => p.stage === 'training' && p.polls >= 1);
      await handle.cancel();
      const err = await handle.result().then(() => undefined, (e: unknown) => e);
      if (!(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure)) throw new Error(`cancellation: the run did not end cancelled: ${String(err)}`);
      return [{ file: 'cancellation', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  'failed-job': {
    backend: { failJobs: true },
    files: ['failed-job'],
    async run(stack, workflowId) {
      const handle = await startPipeline(stack.client, stack.config, INPUT, { workflowId });
      const err = await handle.result().then(() => undefined, (e: unknown) => e);
      const type = err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
      if (type !== 'FineTuningJobFailed') throw new Error(`failed-job: the run did not fail with the job: ${String(err)}`);
      return [{ file: 'failed-job', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  'line-champion': {
    // From 0.4: the first run of a line becomes its champion (line workflow kept too); a second run on the same data is skipped.
    files: ['line-promoted', 'line-skipped', 'line-entity'],
    async run(stack, workflowId) {
      const line = 'golden-line';
      const first = await startPipeline(stack.client, stack.config, { ...INPUT, line }, { workflowId });
      await first.result();
      const second = await startPipeline(stack.client, stack.config, { ...INPUT, line }, { workflowId: `${workflowId}-again` });
      const outcome = await second.result();
      if (outcome.status !== 'skipped') throw new Error(`line-champion: the second run was not skipped but ${outcome.status}`);
      const entity = await stack.client.workflow.getHandle(lineWorkflowId(line)).describe();
      return [
        { file: 'line-promoted', workflowId, runId: first.firstExecutionRunId },
        { file: 'line-skipped', workflowId: `${workflowId}-again`, runId: second.firstExecutionRunId },
        { file: 'line-entity', workflowId: entity.workflowId, runId: entity.runId },
      ];
    },
  },
  'approval-approved': {
    // A run that requires approval waits after evaluation; a person's update promotes it.
    files: ['approval-approved'],
    async run(stack, workflowId) {
      const handle = await startPipeline(stack.client, stack.config, { ...INPUT, line: 'golden-approval', approval: 'required' }, { workflowId });
      await waitFor(stack, workflowId, (p) => p.stage === 'awaiting_approval');
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'golden-recorder', reason: 'recorded' }] });
      await handle.result();
      return [{ file: 'approval-approved', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  'approval-timeout': {
    // Nobody answers: the run rejects by itself at the approval timeout.
    files: ['approval-timeout'],
    async run(stack, workflowId) {
      const handle = await startPipeline(stack.client, stack.config, { ...INPUT, approval: 'required', approvalTimeoutSeconds: 2 }, { workflowId });
      const outcome = await handle.result();
      if (outcome.status !== 'rejected') throw new Error(`approval-timeout: the run was not rejected but ${outcome.status}`);
      return [{ file: 'approval-timeout', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
  'no-search-attributes': {
    // As a schedule or another service may start it: straight through the client, no search attributes.
    files: ['no-search-attributes'],
    async run(stack, workflowId) {
      const handle = await stack.client.workflow.start('fineTunePipeline', {
        taskQueue: stack.config.temporal.taskQueue,
        workflowId,
        args: [resolvePipelineInput(INPUT)],
      });
      await handle.result();
      return [{ file: 'no-search-attributes', workflowId, runId: handle.firstExecutionRunId }];
    },
  },
};

async function adminSettings(stack: LocalStack, settings: Record<string, unknown>): Promise<void> {
  const res = await fetch(stack.backend.url.replace(/\/v1$/, '/_admin/settings'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(settings) });
  if (!res.ok) throw new Error(`backend settings: ${res.status}`);
}

async function waitFor(stack: LocalStack, workflowId: string, ready: (p: { stage: Stage; polls: number; unreachable: boolean; waiting: boolean }) => boolean): Promise<void> {
  const handle = stack.client.workflow.getHandle(workflowId);
  for (;;) {
    const progress = await handle.query(progressQuery).catch(() => null);
    if (progress && ready({ stage: progress.stage, polls: progress.counts.polls, unreachable: Boolean(progress.providerUnreachableSince), waiting: Boolean(progress.waitingFor) })) return;
    if (progress && ['done', 'failed', 'cancelled'].includes(progress.stage)) throw new Error(`${workflowId} reached ${progress.stage} first`);
    await delay(200);
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

async function record(name: string, scenario: Scenario, dir: string, cliPath: string): Promise<void> {
  const missing: string[] = [];
  for (const file of scenario.files) {
    const out = path.join(dir, `${file}.json`);
    if (await exists(out)) console.log(`skipped ${path.relative(process.cwd(), out)}: already kept (histories are never overwritten)`);
    else missing.push(file);
  }
  if (missing.length === 0) return;

  const state = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-record-'));
  const base = loadConfig();
  const artifactsDir = path.join(state, 'artifacts');
  const config = { ...base, artifactsDir, store: { kind: 'local' as const, dir: artifactsDir }, provider: { ...base.provider, apiKey: RECORDING_API_KEY } };
  const stack = await startLocalStack({
    config,
    logger: createLogger('warn'),
    worker: true,
    taskQueue: TASK_QUEUE,
    ...(scenario.provider ? { provider: scenario.provider } : {}),
    server: {},
    backend: { port: 0, stateDir: path.join(state, 'backend'), ...scenario.backend },
  });
  try {
    console.log(`recording ${name}…`);
    const runs = await scenario.run(stack, `golden-${name}`);
    for (const run of runs.filter((r) => missing.includes(r.file))) {
      // The CLI writes the history in the JSON form Worker.runReplayHistory reads.
      const json = execFileSync(
        cliPath,
        ['workflow', 'show', '--workflow-id', run.workflowId, '--run-id', run.runId, '--address', stack.server.address, '--namespace', stack.config.temporal.namespace, '--output', 'json'],
        { maxBuffer: 64 << 20 },
      );
      const out = path.join(dir, `${run.file}.json`);
      // 'wx': even a file that appeared meanwhile is never overwritten.
      await writeFile(out, json, { flag: 'wx' });
      console.log(`wrote ${path.relative(process.cwd(), out)}`);
    }
  } finally {
    await stack.stop();
    await rm(state, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { scenario: { type: 'string' } } });
if (values.scenario !== undefined && !(values.scenario in SCENARIOS)) {
  console.error(`unknown scenario ${values.scenario}; one of: ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}
const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const dir = path.join(HISTORIES, version);
await mkdir(dir, { recursive: true });
const cli = await findTemporalCli();
if (!cli.path) throw new Error('recording needs the Temporal CLI binary');
const selected = values.scenario === undefined ? Object.entries(SCENARIOS) : Object.entries(SCENARIOS).filter(([name]) => name === values.scenario);
for (const [name, scenario] of selected) await record(name, scenario, dir, cli.path);
