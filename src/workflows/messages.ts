import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PipelineProgress } from '../domain/pipeline';

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
