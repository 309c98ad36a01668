import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PipelineProgress } from '../domain/pipeline';

/** The run's stage, job, losses and counts; answered by any worker, also for a run waiting on a person. */
export const progressQuery = defineQuery<PipelineProgress>('progress');

/**
 * Sent by `tuneflow resume <id>` once the provider key is fixed: a run that waits because the provider
 * refused its key (401/403) while a paid job exists goes on. Refused (validator) when the run is not waiting.
 */
export const resumeUpdate = defineUpdate<string, []>('resume');

/** How far the evaluation child workflow has got, sent to its parent a few dozen times per evaluation. */
export const evalProgressSignal = defineSignal<[{ done: number; total: number }]>('evalProgress');
