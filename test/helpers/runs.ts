import type { Client } from '@temporalio/client';
import { isSkipped, type PipelineOutcome, type PipelineProgress, type PipelineResult } from '../../src/domain/pipeline';
import { progressQuery } from '../../src/workflows';

/** Polls a run's progress query until `reached` holds; a run without a worker yet simply has no answer. */
export async function waitForProgress(client: Client, workflowId: string, reached: (p: PipelineProgress) => boolean, timeoutMs = 120_000): Promise<PipelineProgress> {
  const handle = client.workflow.getHandle(workflowId);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p && reached(p)) return p;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`run ${workflowId} did not reach the awaited progress in ${timeoutMs} ms`);
}

export function waitForStage(client: Client, workflowId: string, stage: PipelineProgress['stage'], timeoutMs = 60_000): Promise<PipelineProgress> {
  return waitForProgress(client, workflowId, (p) => p.stage === stage, timeoutMs);
}

/** The result of a run that trained: a skipped run (its line's champion has this data) fails the test here. */
export function trained(outcome: PipelineOutcome): PipelineResult {
  if (isSkipped(outcome)) throw new Error(`run ${outcome.workflowId} was skipped: ${outcome.reason}`);
  return outcome;
}
