import type OpenAI from 'openai';
import type { CheckpointSummary } from '../domain/checkpoints';
import type { TrainingMetricsRow } from '../domain/run';

import type { ProviderKind } from '../domain/providers';

export { PROVIDER_KINDS, type ProviderKind } from '../domain/providers';

/** How tagged a job is with the run that made it: found again by these after a retry or a worker kill. */
export interface JobTags {
  workflowId: string;
  /** First run id of the workflow execution chain. */
  runId: string;
  /** What makes two jobs interchangeable (data, split, model, settings); null for runs before 0.2. */
  fingerprint: string | null;
}

export interface JobError {
  code: string | null;
  message: string;
  param: string | null;
}

/**
 * A job as tuneflow sees it, whatever the provider. `status` is in tuneflow's vocabulary (OpenAI's:
 * validating_files, queued, running, paused, succeeded, failed, cancelled); `providerStatus` is the
 * provider's own word for it, for people.
 */
export interface ProviderJob {
  id: string;
  status: string;
  providerStatus: string;
  fineTunedModel: string | null;
  trainedTokens: number | null;
  /** Unix seconds, when the provider estimates it. */
  estimatedFinish: number | null;
  hyperparameters: Record<string, unknown> | null;
  error: JobError | null;
  /** The run tags read back from the job; null for a job tuneflow did not tag. */
  tags: JobTags | null;
}

export interface CreateJobSpec {
  model: string;
  trainingFileId: string;
  validationFileId: string;
  seed: number;
  suffix?: string | undefined;
  /** tuneflow's training options (n_epochs, batch_size, learning_rate_multiplier, and adapter-specific ones). */
  hyperparameters?: Record<string, unknown> | undefined;
  tags: JobTags;
}

/** Training progress since the last look: metric rows by step, and a cursor for the next look. */
export interface JobProgressSince {
  /** How many provider events (or metric records) this look brought. */
  newEvents: number;
  /** Pass back next time; null when the provider has sent nothing yet. */
  cursor: string | null;
  metrics: Required<TrainingMetricsRow>[];
  totalSteps: number | null;
}

/** Where a model stands in being made answerable for chat. */
export interface ServingState {
  /** The provider-side name of what was created (deployment or endpoint), derived from the run. */
  name: string;
  model: string;
  state: 'provisioning' | 'ready' | 'failed' | 'missing';
  /** The model name chat completions take once ready (a deployment name on Azure, an endpoint's model on Together). */
  servedAs: string;
  /** Whether tuneflow created something that must be deleted (false: the model answers as it is, e.g. serverless). */
  created: boolean;
  /** Why it failed or what it waits for, for people. */
  detail: string | null;
  /** Hosting price per hour in USD while it exists, when the provider publishes one (0 for free tiers). */
  hourlyCostUsd: number | null;
}

/**
 * Making a model answerable and undoing it. Names are derived from the run, so a retry or a replay
 * after a worker kill finds its own deployment instead of creating another.
 */
export interface ModelServing {
  /** What kind of thing serving creates, for the report and the logs. */
  readonly kind: 'deployment' | 'endpoint';
  /** Starts making `model` answerable under `name`, or returns what already exists under that name. */
  ensure(req: { name: string; model: string; tags: JobTags }): Promise<ServingState>;
  state(req: { name: string; model: string }): Promise<ServingState>;
  /** Deletes it; `missing` when it was never there or is already gone. */
  remove(name: string): Promise<'deleted' | 'deleting' | 'missing'>;
  /** The model name chat takes for a base model (Azure: its deployment; Together: the model itself). */
  servedNameOfBase(model: string): string;
  /** Names of everything this provider serves whose name starts with `prefix`. */
  list(prefix: string): Promise<string[]>;
}

export interface UploadSpec {
  path: string;
  filename: string;
  bytes: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: { bytesSent: number; bytes: number }) => void) | undefined;
}

/**
 * The one interface the activities use. Each adapter classifies its own errors (which retry, which
 * need a person) into the failures `provider/errors.ts` describes, so nothing above it reads a
 * provider's wire shape.
 */
export interface FineTuneProvider {
  readonly kind: ProviderKind;
  /** Checkpoints come with a validation loss (else the final model is chosen and the report says why). */
  readonly checkpointsHaveLoss: boolean;
  /** Null when models answer chat as soon as the job succeeds (OpenAI). */
  readonly serving: ModelServing | null;

  /**
   * What this provider cannot do with the run's options, one sentence each naming the option (e.g.
   * "hyperparameters.learning_rate_multiplier: Together takes an absolute learning_rate"). Checked
   * before anything leaves the machine; empty when all is well.
   */
  optionProblems(spec: { model: string; suffix?: string | undefined; hyperparameters?: Record<string, unknown> | undefined }): string[];

  findFile(filename: string): Promise<{ id: string } | null>;
  uploadFile(spec: UploadSpec): Promise<{ id: string }>;
  deleteFile(id: string): Promise<void>;

  /** Every job tagged with the workflow id, of any of its runs, newest first. */
  jobsOfWorkflow(workflowId: string): Promise<ProviderJob[]>;
  /** Every job tuneflow tagged, for the reaper. */
  taggedJobs(onPage?: (listed: number) => void): Promise<ProviderJob[]>;
  createJob(spec: CreateJobSpec): Promise<ProviderJob>;
  getJob(id: string): Promise<ProviderJob>;
  progressSince(id: string, cursor: string | null): Promise<JobProgressSince>;
  listCheckpoints(id: string): Promise<CheckpointSummary[]>;
  cancelJob(id: string): Promise<ProviderJob>;

  /** The OpenAI-compatible client evaluation sends chat completions through. */
  chat(): OpenAI;
}
