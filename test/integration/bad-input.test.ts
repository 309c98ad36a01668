import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { PipelineResult } from '../../src/domain/pipeline';
import { InvalidWorkflowIdError, startPipeline } from '../../src/starter';
import { createTestWorker, SAMPLE_DATASET, startBackend, taskQueueFor, TEST_DATA_ROOTS, testConfig, useTemporal } from '../helpers/stack';
import { trained } from '../helpers/runs';

const temporal = useTemporal();
const MODEL = 'gpt-4o-mini-2024-07-18';

/** The innermost ApplicationFailure of a failed run: what the activity threw. */
function activityCause(err: unknown): ApplicationFailure {
  expect(err).toBeInstanceOf(WorkflowFailedError);
  let cause: unknown = (err as WorkflowFailedError).cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/** An eval file of `good` usable examples and, after the first, one 40 MB line (a valid example, were it read). */
async function evalFileWithHugeLine(dir: string, good: number): Promise<string> {
  const file = path.join(dir, 'eval-with-huge-line.jsonl');
  const fd = openSync(file, 'w');
  const example = (i: number) => JSON.stringify({ messages: [{ role: 'user', content: `How do I reset my password, case ${i}?` }, { role: 'assistant', content: 'Use Forgot password on the sign-in page.' }] });
  writeSync(fd, `${example(0)}\n`);
  writeSync(fd, '{"messages":[{"role":"user","content":"');
  const block = Buffer.alloc(1024 * 1024, 'a');
  for (let i = 0; i < 40; i++) writeSync(fd, block);
  writeSync(fd, '"},{"role":"assistant","content":"ok"}]}\n');
  for (let i = 1; i < good; i++) writeSync(fd, `${example(i)}\n`);
  closeSync(fd);
  return file;
}

describe('bad input on the real Temporal dev server and the local backend', () => {
  it('refuses . and .. (and ids with slashes) as workflow ids before any run starts', async () => {
    const config = testConfig(temporal.env, 'http://127.0.0.1:9/v1', temporal.artifactsDir, taskQueueFor('workflow ids'));
    for (const workflowId of ['..', '.', '../escape', 'a/b']) {
      const started = startPipeline(temporal.env.client, config, { datasetPath: SAMPLE_DATASET, model: MODEL }, { workflowId });
      await expect(started).rejects.toThrow(InvalidWorkflowIdError);
      await expect(started).rejects.toThrow(`Workflow id ${JSON.stringify(workflowId)} cannot be used`);
      await expect(temporal.env.client.workflow.getHandle(workflowId).describe()).rejects.toThrow();
    }
  });

  it('fails a run whose eval file is /dev/zero without retrying, naming the path, and the same worker then finishes a run whose eval file has a 40 MB line, skipping it', async () => {
    const backend = await startBackend();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-bad-eval-'));
    // /dev is a data root here, so the refusal is the regular-file check, not the roots check.
    const config = { ...testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('dev zero eval')), dataRoots: [...TEST_DATA_ROOTS, '/dev'] };
    const worker = await createTestWorker(temporal.env, config);
    try {
      const hugeLineEval = await evalFileWithHugeLine(dir, 6);
      await worker.runUntil(async () => {
        const eval_ = { compare: [], batchSize: 10, concurrency: 4, maxTokens: 128 };
        const bad = await startPipeline(temporal.env.client, config, { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 1, eval: { ...eval_, evalFile: '/dev/zero' } });
        const failure = activityCause(await bad.result().then(() => undefined, (e: unknown) => e));
        expect(failure.type).toBe('NotARegularFile');
        expect(failure.nonRetryable).toBe(true);
        expect(failure.message).toContain('/dev/zero is a character device');
        expect(worker.getState()).toBe('RUNNING');

        const good = await startPipeline(temporal.env.client, config, { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 1, eval: { ...eval_, evalFile: hugeLineEval } });
        const result: PipelineResult = trained(await good.result());
        expect(result.status).toBe('succeeded');
        // Six usable examples; the 40 MB line is a skipped line_too_long, not a seventh example and not a crash.
        expect(result.eval.examples).toBe(6);
      });
    } finally {
      await backend.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
