import { readFile } from 'node:fs/promises';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../src/worker';
import { SAMPLE_DATASET } from '../helpers/stack';

const GOLDEN = new URL('../fixtures/histories/fine-tune-pipeline.json', import.meta.url);
const CHANGED_WORKFLOW = new URL('../fixtures/replay/changed-workflow.ts', import.meta.url).pathname;

async function golden(): Promise<{ events: Array<Record<string, unknown>> }> {
  return JSON.parse(await readFile(GOLDEN, 'utf8')) as { events: Array<Record<string, unknown>> };
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

describe('the workflow against its recorded history (scripts/record-history.ts)', () => {
  it('replays the golden history of a whole run without a determinism error', async () => {
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, await golden())).resolves.toBeUndefined();
  });

  it('raises a determinism violation when the workflow changes incompatibly', async () => {
    await expect(Worker.runReplayHistory({ workflowsPath: CHANGED_WORKFLOW }, await golden())).rejects.toBeInstanceOf(DeterminismViolationError);
  });

  it('keeps dataset lines, completions and the API key out of history', async () => {
    const texts = payloadTexts(await golden()).join('\n');
    // The references a run needs are there: the dataset path, the job and the file ids.
    expect(texts).toContain('support-conversations.jsonl');
    expect(texts).toMatch(/ftjob-/);
    expect(texts).toMatch(/file-/);
    expect(texts).not.toContain('sk-golden-recording-secret');
    const sample = (await readFile(SAMPLE_DATASET, 'utf8')).split('\n').filter(Boolean);
    const assistantReplies = sample.flatMap((l) => (JSON.parse(l) as { messages: Array<{ role: string; content: string }> }).messages.filter((m) => m.role !== 'system').map((m) => m.content));
    const leaked = assistantReplies.filter((content) => texts.includes(content));
    expect(leaked).toEqual([]);
    expect(texts).not.toContain('Northwind Outfitters');
  });
});
