import { z } from 'zod';
import type { ChosenModel, CheckpointSummary } from './checkpoints';
import type { Stage } from './stages';
import type { EvalSummary } from './run';

const Hyperparameters = z
  .object({
    n_epochs: z.union([z.literal('auto'), z.number().int().min(1).max(50)]).optional(),
    batch_size: z.union([z.literal('auto'), z.number().int().min(1).max(256)]).optional(),
    learning_rate_multiplier: z.union([z.literal('auto'), z.number().positive().max(10)]).optional(),
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
      })
      .strict()
      .default({ compare: [], batchSize: 10, concurrency: 4, maxTokens: 512 }),
  })
  .strict();

export type PipelineInput = z.input<typeof PipelineInputSchema>;
export type ResolvedPipelineInput = z.output<typeof PipelineInputSchema>;

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
}

export type RunStatus = 'succeeded' | 'promoted' | 'rejected';

export interface PipelineResult {
  workflowId: string;
  status: RunStatus;
  baseModel: string;
  jobId: string;
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
  artifactsDir: string;
  report: { html: string; markdown: string };
}
