import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Champion, LineRunRecord, LineState } from './domain/lines';
import type { PipelineProgress } from './domain/pipeline';

/**
 * The messages tuneflow's workflows accept, as definitions only: importing this module loads no
 * workflow code, so clients (`tuneflow/client`) and other services use the same names and types.
 */

/** The run's stage, job, losses and counts; answered by any worker, also for a run waiting on a person. */
export const progressQuery = defineQuery<PipelineProgress>('progress');

/**
 * Sent by `tuneflow resume <id>` once the provider key is fixed: a run that waits because the provider
 * refused its key (401/403) while a paid job exists goes on. A run that is not waiting ignores it, so it
 * can never approve a refusal in advance. A signal, not an update: an update handler's completion and
 * the run's own next step could be recorded in an order a replay does not reproduce.
 */
export const resumeSignal = defineSignal('resume');

/** How far the evaluation child workflow has got, sent to its parent a few dozen times per evaluation. */
export const evalProgressSignal = defineSignal<[{ done: number; total: number }]>('evalProgress');

/**
 * A provider webhook about the run's job (`tuneflow webhooks`): the run polls at once instead of at its
 * next timer. Carries no verdict of its own (the poll decides), so a duplicate or stale one is harmless.
 */
export const jobEventSignal = defineSignal<[JobEvent]>('jobEvent');
export interface JobEvent {
  jobId: string;
  /** The webhook's event type, e.g. `fine_tuning.job.succeeded`. */
  type: string;
  /** The webhook's id (`webhook-id`), for the log. */
  webhookId: string | null;
}

/** A person's decision on a run waiting for approval (`--approval required`). */
export interface ApproveRequest {
  /** The model to promote; absent: the model the evaluation recommends. Must be a checkpoint or final model of this run. */
  model?: string;
  /** Who approves: free text shown in the result, the report and the line's history. */
  by: string;
  reason?: string;
}
export interface RejectRequest {
  by: string;
  reason: string;
}
/** What the run answers an accepted decision with. */
export interface DecisionAck {
  workflowId: string;
  outcome: 'promoted' | 'rejected';
  model: string | null;
}
/** `tuneflow approve <id>`: accepted only while the run waits for approval, and only for a candidate of this run. */
export const approveUpdate = defineUpdate<DecisionAck, [ApproveRequest]>('approve');
/** `tuneflow reject <id> --reason …`: accepted only while the run waits for approval. */
export const rejectUpdate = defineUpdate<DecisionAck, [RejectRequest]>('reject');

/** A line's champion, previous champions and history. */
export const lineStateQuery = defineQuery<LineState>('lineState');
/** A run of the line records its decision (idempotent by workflow id and run id); answers the line's champion after it. */
export const recordLineRunUpdate = defineUpdate<Champion | null, [LineRunRecord]>('recordRun');
/** `tuneflow line promote <line> <model>`: makes a model the champion by hand. */
export const promoteUpdate = defineUpdate<Champion, [{ model: string; by: string; reason?: string }]>('promote');
/** `tuneflow line rollback <line>`: restores the previous champion; refused when there is none. */
export const rollbackUpdate = defineUpdate<Champion, [{ by: string; reason?: string }]>('rollback');
