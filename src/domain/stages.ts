/** One vocabulary for a run's stage: the progress query, the CLI, the search attribute and the logs. */
export const STAGES = [
  'validating',
  'splitting',
  'uploading',
  'creating_job',
  'training',
  'selecting_checkpoint',
  'deploying',
  'evaluating',
  'cleaning_up',
  'awaiting_approval',
  'reporting',
  'done',
  'failed',
  'cancelled',
] as const;

export type Stage = (typeof STAGES)[number];

/** Stages only a provider that must deploy a model before it answers (Azure, Together endpoints) goes through. */
export const SERVING_STAGES: ReadonlySet<Stage> = new Set(['deploying', 'cleaning_up']);

/**
 * The working stages a run passes through, in order: the serving stages only when its provider needs
 * them, `awaiting_approval` only when the run waits for a person's approval.
 */
export function workingStages(withServing: boolean, withApproval = false): Stage[] {
  return STAGES.filter((s) => !TERMINAL_STAGES.has(s) && (withServing || !SERVING_STAGES.has(s)) && (withApproval || s !== 'awaiting_approval'));
}

export const TERMINAL_STAGES: ReadonlySet<Stage> = new Set(['done', 'failed', 'cancelled']);

/** Provider job statuses after which the job never changes again. */
export const TERMINAL_JOB_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;
export type TerminalJobStatus = (typeof TERMINAL_JOB_STATUSES)[number];

export function isTerminalJobStatus(status: string): status is TerminalJobStatus {
  return (TERMINAL_JOB_STATUSES as readonly string[]).includes(status);
}

/** Custom search attributes a run keeps up to date, so the Temporal UI can filter by them. */
export const SEARCH_ATTRIBUTE_NAMES = {
  stage: 'TuneflowStage',
  jobId: 'TuneflowJobId',
  model: 'TuneflowBaseModel',
  line: 'TuneflowLine',
  /** How the run ended: succeeded, promoted, rejected, skipped, failed or cancelled. */
  outcome: 'TuneflowOutcome',
  fineTunedModel: 'TuneflowFineTunedModel',
} as const;
