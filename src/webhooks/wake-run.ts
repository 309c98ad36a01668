// From a verified fine-tuning webhook to the run it is about: the job's metadata names the workflow, which is signalled.
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FineTuneProvider } from '../provider/types';
import { jobEventSignal } from '../messages';

/** The webhook events that end a fine-tuning job: the only ones a run waits for. */
export const JOB_END_EVENTS: ReadonlySet<string> = new Set(['fine_tuning.job.succeeded', 'fine_tuning.job.failed', 'fine_tuning.job.cancelled']);

export type WakeOutcome =
  /** The run's workflow was signalled. */
  | { kind: 'signalled'; workflowId: string }
  /** Nothing to wake; the provider must not send it again (answered 200). */
  | { kind: 'ignored'; reason: 'unknown_job' | 'untagged_job' | 'workflow_closed_or_unknown'; workflowId?: string }
  /** Could not find out now (provider or Temporal unreachable); the provider should retry (answered 503). */
  | { kind: 'retry_later'; reason: string };

/**
 * Finds the run a job belongs to from the tags tuneflow put in its metadata (asking the provider, never
 * trusting the webhook body for more than the job id) and signals that workflow's current run. The
 * signal carries no verdict, so a duplicate or a late one only makes the run poll once more.
 */
export async function wakeRunOfJob(deps: { client: Client; provider: () => FineTuneProvider }, event: { jobId: string; type: string; webhookId: string | null }): Promise<WakeOutcome> {
  let workflowId: string;
  try {
    const job = await deps.provider().getJob(event.jobId);
    if (!job.tags) return { kind: 'ignored', reason: 'untagged_job' };
    workflowId = job.tags.workflowId;
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === 'NotFoundError') return { kind: 'ignored', reason: 'unknown_job' };
    return { kind: 'retry_later', reason: err instanceof Error ? err.message : String(err) };
  }
  try {
    await deps.client.workflow.getHandle(workflowId).signal(jobEventSignal, { jobId: event.jobId, type: event.type, webhookId: event.webhookId });
    return { kind: 'signalled', workflowId };
  } catch (err) {
    // Temporal answers NotFound for an id it never saw and for a run that has closed.
    if (err instanceof WorkflowNotFoundError) return { kind: 'ignored', reason: 'workflow_closed_or_unknown', workflowId };
    return { kind: 'retry_later', reason: err instanceof Error ? err.message : String(err) };
  }
}
