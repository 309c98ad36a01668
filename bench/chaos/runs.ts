// Pipeline runs as the harness sees them: started with the project's startPipeline, watched through the
// progress query, and closed with a status and the reason of a failure.
import { ActivityFailure, TimeoutFailure, WorkflowFailedError, type WorkflowExecutionStatusName, type WorkflowHandle } from '@temporalio/client';
import type { PipelineInput, PipelineProgress } from '../../src/domain/pipeline';
import type { Stage } from '../../src/domain/stages';
import { startPipeline } from '../../src/starter';
import { progressQuery, type fineTunePipeline } from '../../src/workflows';
import { sleep } from './processes';
import type { ChaosStack } from './stack';

export const MODEL = 'gpt-4o-mini-2024-07-18';

/** Short runs: a poll a second, a small evaluation. */
export function chaosInput(datasetPath: string): PipelineInput {
  return { datasetPath, model: MODEL, pollIntervalSeconds: 1, eval: { maxExamples: 12, batchSize: 6 } };
}

export interface Closed {
  status: WorkflowExecutionStatusName;
  /** Why a FAILED, TERMINATED or TIMED_OUT run ended, without ids. */
  failure: string | null;
  closedAt?: Date | null;
}

export interface Run {
  id: string;
  handle: WorkflowHandle<typeof fineTunePipeline>;
}

export async function startRun(stack: ChaosStack, id: string, datasetPath: string): Promise<Run> {
  const handle = await startPipeline(stack.client, stack.config, chaosInput(datasetPath), { workflowId: id });
  return { id, handle };
}

/** The run's progress query, or null when no answer came within `timeoutMs`. */
export async function progressOf(stack: ChaosStack, run: Pick<Run, 'handle'>, timeoutMs = 5000): Promise<PipelineProgress | null> {
  try {
    return await stack.client.withDeadline(Date.now() + timeoutMs, () => run.handle.query(progressQuery));
  } catch {
    return null;
  }
}

export async function stageOf(stack: ChaosStack, run: Pick<Run, 'handle'>, timeoutMs = 5000): Promise<Stage | null> {
  return (await progressOf(stack, run, timeoutMs))?.stage ?? null;
}

/** The run's outcome once it is closed; null while it runs (or while the server is unreachable). */
export async function closedOf(run: Run): Promise<Closed | null> {
  let status: WorkflowExecutionStatusName;
  let closedAt: Date | null;
  try {
    const description = await run.handle.describe();
    status = description.status.name;
    closedAt = description.closeTime ?? null;
  } catch {
    return null;
  }
  if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') return null;
  if (status === 'COMPLETED' || status === 'CANCELLED') return { status, failure: null, closedAt };
  const failure = await run.handle.result().then(
    () => null,
    (err: unknown) => describeFailure(err),
  );
  return { status, failure, closedAt };
}

/** Waits until every run is closed or the deadline passes; runs still open are absent from the result. */
export async function waitForClose(runs: Run[], deadlineAt: number, isStopped: () => boolean = () => false): Promise<Map<string, Closed>> {
  const closed = new Map<string, Closed>();
  while (closed.size < runs.length && Date.now() < deadlineAt && !isStopped()) {
    for (const run of runs) {
      if (closed.has(run.id)) continue;
      const c = await closedOf(run);
      if (c) closed.set(run.id, c);
    }
    if (closed.size < runs.length) await sleep(1000);
  }
  return closed;
}

/** The run's own failure (an activity's is named by the activity), without ids of jobs and files. */
export function describeFailure(err: unknown): string {
  const top = err instanceof WorkflowFailedError ? err.cause : err;
  let text: string;
  if (top instanceof ActivityFailure) {
    const inner = top.cause;
    const why = inner instanceof TimeoutFailure ? `${inner.timeoutType ?? 'unknown'} timeout` : inner instanceof Error ? inner.message : 'failed';
    text = `${top.activityType}: ${why}`;
  } else {
    text = top instanceof Error ? top.message : String(top);
  }
  text = text.replace(/\b(ftjob|file)-[A-Za-z0-9]+/g, '$1-…');
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
