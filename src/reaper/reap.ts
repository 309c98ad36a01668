import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { decideReap, reapCandidate, type ReapEntry, type WorkflowState } from '../domain/reap';

export type { ReapEntry };
import { isTerminalJobStatus } from '../domain/stages';
import { metadataFromTags } from '../provider/openai';
import type { FineTuneProvider } from '../provider/types';

export interface ReapDeps {
  provider: FineTuneProvider;
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
  const candidates: { id: string; status: string; metadata: Record<string, string> | null; workflowId: string }[] = [];
  for (const job of await provider.taggedJobs((n) => {
    listed = n;
    onProgress?.({ jobsListed: n, candidatesChecked: 0 });
  })) {
    const metadata = job.tags ? metadataFromTags(job.tags) : null;
    const workflowId = reapCandidate({ id: job.id, status: job.status, metadata });
    if (workflowId) candidates.push({ id: job.id, status: job.status, metadata, workflowId });
  }
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

async function cancelOrphan(provider: FineTuneProvider, logger: Logger, entry: Omit<ReapEntry, 'action'>): Promise<ReapEntry> {
  try {
    const cancelled = await provider.cancelJob(entry.jobId);
    logger.info({ jobId: entry.jobId, workflowId: entry.workflowId, workflowStatus: entry.workflowStatus, status: cancelled.status }, 'orphaned fine-tuning job cancelled');
    return { ...entry, jobStatus: cancelled.status, action: 'cancelled' };
  } catch (err) {
    // The job may have finished between the listing and the cancel (409 here, 400 at some providers).
    const refusedByState = err instanceof ApplicationFailure && (err.type === 'ConflictError' || err.type === 'BadRequestError');
    if (!refusedByState) throw err;
    const now = await provider.getJob(entry.jobId);
    if (!isTerminalJobStatus(now.status)) throw err;
    return { ...entry, jobStatus: now.status, action: 'kept', reason: `job ${now.status} before it could be cancelled` };
  }
}
