import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { resolvePipelineInput } from '../../src/domain/pipeline';
import { runSinks, WORKFLOWS_PATH } from '../../src/worker';
import { SAMPLE_DATASET, taskQueueFor, useTemporal } from '../helpers/stack';

const HISTORIES = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/replay/${name}.ts`, import.meta.url));

/** Every kept history, `<release>/<scenario>`, found by listing: a newly recorded set is replayed as it lands. */
const KEPT = (readdirSync(HISTORIES, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.split(path.sep).join('/').replace(/\.json$/, ''))
  .sort();

type History = { events: Array<Record<string, unknown>> };

async function kept(name: string): Promise<History> {
  return JSON.parse(await readFile(path.join(HISTORIES, `${name}.json`), 'utf8')) as History;
}

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
/** Bundling takes seconds: once per workflow variant for the whole file. */
function bundle(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  let b = bundles.get(workflowsPath);
  if (!b) {
    b = bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
    bundles.set(workflowsPath, b);
  }
  return b;
}

/**
 * The workflow id a kept pipeline history ran under, read from the evaluation child it started (the
 * child's id is derived from it); replaying under another id would start a child of another name.
 */
function workflowIdOf(history: History): string | undefined {
  for (const e of history.events) {
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes as { workflowId?: string } | undefined;
    const parent = child?.workflowId ? /^(.+)-eval-[0-9a-f-]{36}$/.exec(child.workflowId) : null;
    if (parent) return parent[1];
  }
  return undefined;
}

function workflowTypeOf(history: History): string | undefined {
  const started = history.events[0]?.workflowExecutionStartedEventAttributes as { workflowType?: { name?: string } } | undefined;
  return started?.workflowType?.name;
}

async function replay(workflowsPath: string, history: History): Promise<void> {
  await Worker.runReplayHistory({ workflowBundle: await bundle(workflowsPath) }, history, workflowIdOf(history));
}

/** Every payload's decoded data in a history, wherever it sits. */
function payloadTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => payloadTexts(n, out));
  else if (node && typeof node === 'object') {
    const rec = node as Record<string, unknown>;
    if (typeof rec.data === 'string' && rec.metadata) out.push(Buffer.from(rec.data, 'base64').toString('utf8'));
    Object.values(rec).forEach((v) => payloadTexts(v, out));
  }
  return out;
}

const sampleMessages = readFile(SAMPLE_DATASET, 'utf8').then((text) =>
  text
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => (JSON.parse(l) as { messages: Array<{ role: string; content: string }> }).messages.filter((m) => m.role !== 'system').map((m) => m.content)),
);

// At file level so its setup, which also quiets the SDK's logs, runs before the replays.
const temporal = useTemporal();

it('keeps a golden history for every scenario of each release', () => {
  const first = ['happy-path', 'continue-as-new', 'continue-as-new-final-run', 'cancellation', 'failed-job', 'no-search-attributes'];
  expect(KEPT).toEqual(expect.arrayContaining(first.map((s) => `0.1.0/${s}`)));
  expect(KEPT).toEqual(expect.arrayContaining([...first, 'evaluation-child', 'provider-outage', 'refused-key-resumed'].map((s) => `0.2.0/${s}`)));
});

describe.each(KEPT)('kept history %s (scripts/record-history.ts)', (name) => {
  it('replays against today\'s workflow without a determinism error', async () => {
    await expect(replay(WORKFLOWS_PATH, await kept(name))).resolves.toBeUndefined();
  });

  it('keeps dataset lines, completions and the API key out of history', async () => {
    const history = await kept(name);
    const texts = payloadTexts(history).join('\n');
    // The references a run needs are there: the dataset path, the job and the file ids (the evaluation child holds models and paths).
    const type = workflowTypeOf(history);
    if (type === 'fineTunePipeline' && name.endsWith('/line-skipped')) {
      // Skipped before anything left the machine: the dataset's path and hash, no file or job.
      expect(texts).toContain('support-conversations.jsonl');
      expect(texts).not.toMatch(/ftjob-|file-/);
    } else if (type === 'fineTunePipeline') {
      expect(texts).toContain('support-conversations.jsonl');
      expect(texts).toMatch(/ftjob-/);
      expect(texts).toMatch(/file-/);
    } else if (type === 'modelLine') {
      // A line holds model names, hashes and decisions.
      expect(texts).toMatch(/ft:/);
    } else {
      expect(texts).toMatch(/eval-set\.jsonl|valid\.jsonl/);
      expect(texts).toMatch(/ft:/);
    }
    expect(texts).not.toContain('sk-golden-recording-secret');
    const leaked = (await sampleMessages).filter((content) => texts.includes(content));
    expect(leaked).toEqual([]);
    expect(texts).not.toContain('Northwind Outfitters');
  });

});

// The fixtures change fineTunePipeline; histories of other workflow types (the evaluation child, a model line) replay above.
const OTHER_TYPES = new Set(['evaluation-child', 'line-entity']);
describe.each(KEPT.filter((name) => !OTHER_TYPES.has(name.split('/')[1] ?? '')))('kept pipeline history %s against a changed workflow', (name) => {
  it('is of the pipeline workflow', async () => {
    expect(workflowTypeOf(await kept(name))).toBe('fineTunePipeline');
  });

  it('replays against an incompatible change guarded by patched()', async () => {
    await expect(replay(fixture('patched-workflow'), await kept(name))).resolves.toBeUndefined();
  });

  it('raises a determinism violation against the same change without patched()', async () => {
    await expect(replay(fixture('changed-workflow'), await kept(name))).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});

describe('the deprecatePatch() step of a patched change', () => {

  it('replays a run recorded by the patched workflow, and cannot replay a run from before the patch', async () => {
    const { client, nativeConnection } = temporal.env;
    const taskQueue = taskQueueFor('deprecate patch');
    // The patched workflow on a worker without activities: the run records the patch marker and the
    // timer, schedules its first activity, and is ended there; that is all the history this needs.
    const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowBundle: await bundle(fixture('patched-workflow')), sinks: runSinks() });
    const handle = await worker.runUntil(async () => {
      const h = await client.workflow.start('fineTunePipeline', {
        taskQueue,
        workflowId: `patched-${taskQueue}`,
        args: [resolvePipelineInput({ datasetPath: SAMPLE_DATASET, model: 'gpt-4o-mini-2024-07-18' })],
      });
      for (;;) {
        const { events } = await h.fetchHistory();
        if (events?.some((e) => e.activityTaskScheduledEventAttributes)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await h.terminate('history recorded');
      return h;
    });
    const withMarker = await handle.fetchHistory();
    expect(withMarker.events?.some((e) => e.markerRecordedEventAttributes)).toBe(true);
    expect(withMarker.events?.some((e) => e.timerStartedEventAttributes)).toBe(true);
    await expect(replay(fixture('deprecated-patch-workflow'), withMarker as unknown as History)).resolves.toBeUndefined();
    // Why the step waits until no run started before the patch is open:
    await expect(replay(fixture('deprecated-patch-workflow'), await kept('0.1.0/happy-path'))).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
