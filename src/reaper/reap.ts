import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import OpenAI from 'openai';
import type { Logger } from 'pino';
import { decideReap, reapCandidate, type ReapEntry, type WorkflowState } from '../domain/reap';

export type { ReapEntry };
import { isTerminalJobStatus } from '../domain/stages';
import { callProvider, classifyProviderError } from '../provider/errors';

export interface ReapDeps {
  provider: OpenAI;
  temporal: Client;
  logger: Logger;
  /** Called after each page and each job, so a long sweep can heartbeat. */
  onProgress?: (done: { jobsListed: number; candidatesChecked: number }) => void;
}

/** Status of the workflow id's latest execution; a later run of the same id may own the job now. */
export async function workflowState(client: Client, workflowId: string): Promise<WorkflowState> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND';
    throw err;
  }
}

/**
 * Finds live provider jobs tagged by tuneflow whose workflow id has no open execution (a terminated
 * run never cleans up) and cancels them, or only reports them when `dryRun`.
 */
export async function reapProviderJobs(deps: ReapDeps, opts: { dryRun: boolean }): Promise<ReapEntry[]> {
  const { provider, temporal, logger, onProgress } = deps;
  let listed = 0;
  const candidates = await callProvider('Listing fine-tuning jobs', async () => {
    const out: { id: string; status: string; metadata: Record<string, string> | null; workflowId: string }[] = [];
    for await (const job of provider.fineTuning.jobs.list({ limit: 100 })) {
      listed += 1;
      const workflowId = reapCandidate(job);
      if (workflowId) out.push({ id: job.id, status: job.status, metadata: job.metadata ?? null, workflowId });
      if (listed % 100 === 0) onProgress?.({ jobsListed: listed, candidatesChecked: 0 });
    }
    return out;
  });
  onProgress?.({ jobsListed: listed, candidatesChecked: 0 });

  const entries: ReapEntry[] = [];
  for (const [i, job] of candidates.entries()) {
    // Looked up just before the cancel, so a run started again meanwhile under the same id keeps its job.
    const workflowStatus = await workflowState(temporal, job.workflowId);
    const decision = decideReap(job, workflowStatus);
    const base = { jobId: job.id, workflowId: job.workflowId, jobStatus: job.status, workflowStatus, reason: decision.reason };
    if (decision.action === 'keep') entries.push({ ...base, action: 'kept' });
    else if (opts.dryRun) entries.push({ ...base, action: 'would-cancel' });
    else entries.push(await cancelOrphan(provider, logger, base));
    onProgress?.({ jobsListed: listed, candidatesChecked: i + 1 });
  }
  return entries;
}

async function cancelOrphan(provider: OpenAI, logger: Logger, entry: Omit<ReapEntry, 'action'>): Promise<ReapEntry> {
  try {
    const cancelled = await provider.fineTuning.jobs.cancel(entry.jobId);
    logger.info({ jobId: entry.jobId, workflowId: entry.workflowId, workflowStatus: entry.workflowStatus, status: cancelled.status }, 'orphaned fine-tuning job cancelled');
    return { ...entry, jobStatus: cancelled.status, action: 'cancelled' };
  } catch (err) {
    // The job may have finished between the listing and the cancel (409 here, 400 at some providers).
    const refusedByState = err instanceof OpenAI.APIError && (err.status === 409 || err.status === 400);
    if (!refusedByState) throw classifyProviderError(err, 'Cancelling an orphaned fine-tuning job');
    const now = await callProvider('Fetching the fine-tuning job', () => provider.fineTuning.jobs.retrieve(entry.jobId));
    if (!isTerminalJobStatus(now.status)) throw classifyProviderError(err, 'Cancelling an orphaned fine-tuning job');
    return { ...entry, jobStatus: now.status, action: 'kept', reason: `job ${now.status} before it could be cancelled` };
  }
}
