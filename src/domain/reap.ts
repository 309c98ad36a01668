import { JOB_METADATA_KEYS } from './job-tags';
import { isTerminalJobStatus } from './stages';

/** The Temporal schedule `tuneflow reap --schedule` creates unless given another id. */
export const REAPER_SCHEDULE_ID = 'tuneflow-reaper';

/** Temporal's status of a workflow id's latest execution, or NOT_FOUND when Temporal has no such id. */
export type WorkflowState = 'NOT_FOUND' | (string & {});

/** Executions in these states may still follow (or adopt) the job; everything else is closed. */
const OPEN_WORKFLOW_STATES: ReadonlySet<string> = new Set(['RUNNING', 'CONTINUED_AS_NEW', 'PAUSED']);
const CLOSED_WORKFLOW_STATES: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT', 'NOT_FOUND']);

export interface ProviderJobFacts {
  id: string;
  status: string;
  metadata?: Record<string, string> | null | undefined;
}

export interface ReapDecision {
  action: 'cancel' | 'keep';
  reason: string;
}

/** The workflow id a live tuneflow job belongs to; null when the job is not one to look at. */
export function reapCandidate(job: ProviderJobFacts): string | null {
  const workflowId = job.metadata?.[JOB_METADATA_KEYS.workflowId];
  if (!workflowId) return null;
  return isTerminalJobStatus(job.status) ? null : workflowId;
}

/**
 * Whether a live tuneflow job is an orphan: its workflow id has no open execution, so nothing will
 * ever cancel, follow or adopt it. An unknown Temporal status keeps the job (never cancel on a guess).
 */
export function decideReap(job: ProviderJobFacts, workflow: WorkflowState): ReapDecision {
  const workflowId = job.metadata?.[JOB_METADATA_KEYS.workflowId];
  if (!workflowId) return { action: 'keep', reason: 'not tagged by tuneflow' };
  if (isTerminalJobStatus(job.status)) return { action: 'keep', reason: `job already ${job.status}` };
  if (OPEN_WORKFLOW_STATES.has(workflow)) return { action: 'keep', reason: `workflow ${workflowId} is open (${workflow})` };
  if (workflow === 'NOT_FOUND') return { action: 'cancel', reason: `workflow ${workflowId} not found in Temporal` };
  if (CLOSED_WORKFLOW_STATES.has(workflow)) return { action: 'cancel', reason: `workflow ${workflowId} is closed (${workflow})` };
  return { action: 'keep', reason: `workflow ${workflowId} is in an unknown state (${workflow})` };
}

/** What a sweep found and did about one live tagged job. */
export interface ReapEntry {
  jobId: string;
  workflowId: string;
  jobStatus: string;
  workflowStatus: WorkflowState;
  action: 'cancelled' | 'kept' | 'would-cancel';
  reason: string;
}
