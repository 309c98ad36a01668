// Persisted record shapes (what the store writes as JSON); API shapes are derived from these.

export type FilePurpose = 'fine-tune' | 'fine-tune-results' | 'assistants' | 'batch' | 'vision' | 'user_data';

export interface FileRecord {
  id: string;
  seq: number;
  bytes: number;
  createdAtMs: number;
  filename: string;
  purpose: FilePurpose;
  /** Simulated instant the file expires (Azure's `expires_after`); absent: kept until deleted. */
  expiresAtMs?: number;
}

export interface JobError {
  code: string;
  message: string;
  param: string | null;
}

export type AutoOr<T> = 'auto' | T;

export interface RequestedHyperparameters {
  n_epochs: AutoOr<number>;
  batch_size: AutoOr<number>;
  learning_rate_multiplier: AutoOr<number>;
}

/** Everything the simulation needs, fixed once the files are validated. */
export interface TrainingPlan {
  nTrain: number;
  nValid: number;
  tokensPerEpoch: number;
  nEpochs: number;
  batchSize: number;
  learningRateMultiplier: number;
  stepsPerEpoch: number;
  totalSteps: number;
  stepMs: number;
  /** Steps between two validation measurements in metrics events. */
  validEvery: number;
  /** Epoch (fractional) at which validation loss bottoms out. */
  bestEpoch: number;
  /** Simulated time training starts (after validation and queueing). */
  runStartMs: number;
}

export type JobValidation =
  | { ok: true; doneAtMs: number; plan: TrainingPlan }
  | { ok: false; doneAtMs: number; error: JobError };

export interface JobFinal {
  status: 'succeeded' | 'failed' | 'cancelled';
  finishedAtMs: number;
  error: JobError | null;
  resultFileId: string | null;
  trainedTokens: number | null;
  fineTunedModel: string | null;
}

export interface JobRecord {
  id: string;
  /** Whose naming the job's ids and model names follow; absent: OpenAI's. */
  dialect?: 'azure';
  seq: number;
  createdAtMs: number;
  organizationId: string;
  model: string;
  trainingFile: string;
  validationFile: string | null;
  suffix: string | null;
  seed: number;
  metadata: Record<string, string> | null;
  requested: RequestedHyperparameters;
  validation: JobValidation | null;
  pauses: { startMs: number; endMs: number | null }[];
  cancelledAtMs: number | null;
  /** Job-failure mode: the job fails when this step completes. */
  failAtStep: number | null;
  final: JobFinal | null;
}

/** One training example reduced to what the answer simulation needs. */
export interface Example {
  prompt: string;
  reply: string;
}

/** An ARM model deployment of the Azure dialect; its provisioning state is derived from these instants. */
export interface DeploymentRecord {
  name: string;
  seq: number;
  model: { format: string; name: string; version: string };
  sku: { name: string; capacity: number };
  tags: Record<string, string>;
  createdAtMs: number;
  /** Simulated instant provisioning succeeds. */
  readyAtMs: number;
  /** When a DELETE was accepted; the deployment is gone DEPLOYMENT_DELETING_MS later. */
  deletingAtMs: number | null;
  /** Developer tier deployments are removed by the service after a fixed lifetime. */
  expiresAtMs: number | null;
}
