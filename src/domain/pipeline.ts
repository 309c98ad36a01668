import { z } from 'zod';
import type { ChosenModel, CheckpointSummary } from './checkpoints';
import { LINE_NAME_PATTERN } from './lines';
import type { Stage } from './stages';
import type { EvalSummary, RunDecision, ServingFacts } from './run';

const Hyperparameters = z
  .object({
    n_epochs: z.union([z.literal('auto'), z.number().int().min(1).max(50)]).optional(),
    batch_size: z.union([z.literal('auto'), z.literal('max'), z.number().int().min(1).max(256)]).optional(),
    learning_rate_multiplier: z.union([z.literal('auto'), z.number().positive().max(10)]).optional(),
    // Providers that take an absolute rate and train adapters (Together); each adapter says which of these it lacks.
    learning_rate: z.number().positive().max(1).optional(),
    lora: z.boolean().optional(),
    lora_r: z.number().int().positive().max(1024).optional(),
    lora_alpha: z.number().positive().optional(),
    lora_dropout: z.number().min(0).lt(1).optional(),
    lora_trainable_modules: z.string().min(1).optional(),
    n_checkpoints: z.number().int().min(1).max(100).optional(),
    n_evals: z.number().int().min(0).max(1000).optional(),
  })
  .strict();

export const PipelineInputSchema = z
  .object({
    /** Path of the chat JSONL as the worker sees it. Only paths and hashes enter history, never lines. */
    datasetPath: z.string().min(1),
    model: z.string().min(1),
    seed: z.number().int().min(0).default(42),
    validRatio: z.number().gt(0).lt(1).default(0.2),
    suffix: z.string().max(64).optional(),
    hyperparameters: Hyperparameters.optional(),
    budgetUsd: z.number().positive().optional(),
    allowTruncation: z.boolean().default(false),
    /** The model line this run belongs to: it is compared with the line's champion, and skipped when the champion was trained on the same data. */
    line: z.string().regex(LINE_NAME_PATTERN, 'a line name is 1 to 63 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit').optional(),
    /** `required`: after evaluation the run waits for `tuneflow approve` or `tuneflow reject` before it promotes anything. */
    approval: z.enum(['none', 'required']).default('none'),
    /** How long a run waits for approval before it rejects by itself; default 7 days. */
    approvalTimeoutSeconds: z.number().int().positive().max(90 * 24 * 3600).default(7 * 24 * 3600),
    /** Seconds between job polls; the timer is durable, so a sleeping laptop loses nothing. */
    pollIntervalSeconds: z.number().positive().max(3600).default(30),
    /** Start a fresh history after this many polls; Temporal's own suggestion applies either way. */
    continueAsNewAfterPolls: z.number().int().positive().optional(),
    eval: z
      .object({
        evalFile: z.string().min(1).optional(),
        maxExamples: z.number().int().positive().optional(),
        compare: z.array(z.string().min(1)).default([]),
        judgeModel: z.string().min(1).optional(),
        minImprovement: z.number().optional(),
        batchSize: z.number().int().positive().max(500).default(10),
        concurrency: z.number().int().positive().max(32).default(4),
        maxTokens: z.number().int().positive().max(32_768).default(512),
        /** Batches one run of the evaluation workflow takes before it continues as new (history bound); default 500. */
        batchesPerWorkflowRun: z.number().int().positive().max(2000).optional(),
      })
      .strict()
      .default({ compare: [], batchSize: 10, concurrency: 4, maxTokens: 512 }),
  })
  .strict();

export type PipelineInput = z.input<typeof PipelineInputSchema>;
export type ResolvedPipelineInput = z.output<typeof PipelineInputSchema>;

/**
 * What a running workflow accepts: the fields it needs, by type only, with the same defaults, unknown
 * fields ignored. Ranges and strictness are the starter's (and the first activity's) job: a run already
 * in flight must replay even after the strict schema drops or tightens a field.
 */
const LenientEvalSchema = z.object({
  evalFile: z.string().optional().catch(undefined),
  maxExamples: z.number().optional().catch(undefined),
  compare: z.array(z.string()).catch([]),
  judgeModel: z.string().optional().catch(undefined),
  minImprovement: z.number().optional().catch(undefined),
  batchSize: z.number().catch(10),
  concurrency: z.number().catch(4),
  maxTokens: z.number().catch(512),
  batchesPerWorkflowRun: z.number().optional().catch(undefined),
});
const LenientPipelineInputSchema = z.object({
  datasetPath: z.string(),
  model: z.string(),
  seed: z.number().catch(42),
  validRatio: z.number().catch(0.2),
  suffix: z.string().optional().catch(undefined),
  hyperparameters: z.record(z.string(), z.unknown()).optional().catch(undefined),
  budgetUsd: z.number().optional().catch(undefined),
  allowTruncation: z.boolean().catch(false),
  line: z.string().optional().catch(undefined),
  approval: z.enum(['none', 'required']).catch('none'),
  approvalTimeoutSeconds: z.number().positive().catch(7 * 24 * 3600),
  pollIntervalSeconds: z.number().positive().catch(30),
  continueAsNewAfterPolls: z.number().optional().catch(undefined),
  eval: LenientEvalSchema.catch({ compare: [], batchSize: 10, concurrency: 4, maxTokens: 512 }),
});

export class InvalidPipelineInputError extends Error {}

/**
 * The workflow's reading of its input. Only a missing dataset or model (nothing to run) refuses; the
 * strict check runs once, in the first activity, so its verdict is recorded in history and never
 * re-made by a newer schema on replay.
 */
export function readPipelineInputLeniently(input: unknown): ResolvedPipelineInput {
  const source = typeof input === 'object' && input !== null ? { ...(input as Record<string, unknown>) } : {};
  if (source.eval === undefined || source.eval === null) source.eval = {};
  const parsed = LenientPipelineInputSchema.safeParse(source);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new InvalidPipelineInputError(`Invalid pipeline input at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'unknown'}`);
  }
  return parsed.data as ResolvedPipelineInput;
}

/** Applies defaults and rejects bad input with the field named. Pure: callable from the workflow too. */
export function resolvePipelineInput(input: PipelineInput): ResolvedPipelineInput {
  const parsed = PipelineInputSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`Invalid pipeline input at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'unknown'}`);
  }
  return parsed.data;
}

export interface UploadedFile {
  fileId: string;
  filename: string;
  sha256: string;
  examples: number;
  bytes: number;
}

export interface LatestMetrics {
  step: number | null;
  trainLoss: number | null;
  validLoss: number | null;
  fullValidLoss: number | null;
  /** Steps the job will train (metrics events' `total_steps`); null or absent while the provider has not said. */
  totalSteps?: number | null;
}

export interface PipelineProgress {
  workflowId: string;
  stage: Stage;
  jobId: string | null;
  jobStatus: string | null;
  fineTunedModel: string | null;
  latest: LatestMetrics;
  counts: {
    examples: number | null;
    trainExamples: number | null;
    validExamples: number | null;
    events: number;
    polls: number;
    checkpoints: number;
    evalExamplesDone: number;
    evalExamplesTotal: number | null;
  };
  estimatedFinish: number | null;
  error: string | null;
  /** When the provider stopped answering while the run follows its job (ISO time), or null. */
  providerUnreachableSince?: string | null;
  /** The last unanswered call's error while the provider is unreachable. */
  providerError?: string | null;
  /** What a person must do before the run goes on (a refused key), or null. */
  waitingFor?: string | null;
  /** Present only when the provider must deploy models before they answer (Azure deployments, Together endpoints). */
  serving?: ServingProgress | null;
  /** While the run waits for `tuneflow approve` / `reject` (stage awaiting_approval), what may be approved and until when. */
  approval?: PendingApproval | null;
}

export interface PendingApproval {
  /** The models `tuneflow approve --model` accepts: the run's checkpoints and final model. */
  models: string[];
  /** What approving without --model promotes. */
  recommended: string | null;
  /** When the run rejects by itself (ISO, workflow time). */
  deadline: string;
  /** The gate's verdict, which the person is asked to confirm. */
  gate: string;
}

export interface ServingProgress {
  kind: 'deployment' | 'endpoint';
  /** What the run asked to be made answerable, and how many of them answer. */
  total: number;
  ready: number;
  /** Deleted again at cleanup. */
  removed: number;
}

export type RunStatus = 'succeeded' | 'promoted' | 'rejected';

export interface PipelineResult {
  workflowId: string;
  status: RunStatus;
  baseModel: string;
  jobId: string;
  /** First run id of the earlier run of this workflow id whose live or finished job this run adopted, or null. */
  adoptedJobFrom?: string | null;
  fineTunedModel: string;
  trainedTokens: number | null;
  hyperparameters: Record<string, unknown> | null;
  bestCheckpoint: { model: string; step: number | null; fullValidLoss: number | null };
  chosen: ChosenModel;
  checkpoints: CheckpointSummary[];
  dataset: {
    path: string;
    sha256: string;
    examples: number;
    estimatedCostUsd: number;
    chargedTokens: number;
    epochs: number;
    train: UploadedFile;
    valid: UploadedFile;
  };
  eval: EvalSummary;
  /** Present when the provider had to deploy the models before they answered. */
  serving?: ServingFacts;
  artifactsDir: string;
  report: { html: string; markdown: string };
  /** Runs from 0.4: the model line and its champion when the run was evaluated. */
  line?: { name: string; champion: string | null } | null;
  /** Runs from 0.4: promoted or rejected, by whom and why (null when no gate applied). */
  decision?: RunDecision | null;
}

/**
 * A run of a model line whose dataset is the one the line's champion was trained on: it ends in stage
 * done before anything is uploaded, with this result instead of a trained one.
 */
export interface SkippedRunResult {
  workflowId: string;
  status: 'skipped';
  baseModel: string;
  line: string;
  reason: string;
  dataset: { path: string; sha256: string; examples: number };
  champion: { model: string; workflowId: string | null };
}

/** What a pipeline run returns. */
export type PipelineOutcome = PipelineResult | SkippedRunResult;

export function isSkipped(result: PipelineOutcome): result is SkippedRunResult {
  return result.status === 'skipped';
}
