// Resolves `auto` hyperparameters like the provider and lays out the simulated training timeline.
import { bestEpochFor } from './curves';
import type { RequestedHyperparameters, TrainingPlan } from './types';

/** Simulated durations (ms of simulated time). */
export const VALIDATING_MS = 30_000;
export const QUEUED_MS = 45_000;
export const FINALIZE_MS = 20_000;

/** OpenAI's published heuristic: aim for 3 epochs, keep examples x epochs within 100..25000, clamp 1..25. */
export function autoEpochs(nTrain: number): number {
  const target = 3;
  if (nTrain * target < 100) return Math.min(25, Math.floor(100 / nTrain));
  if (nTrain * target > 25_000) return Math.max(1, Math.floor(25_000 / nTrain));
  return target;
}

/** About 0.2% of the training set, between 1 and 256 (what the provider reports for auto). */
export function autoBatchSize(nTrain: number): number {
  return Math.max(1, Math.min(256, Math.round(nTrain * 0.002)));
}

/** Larger batches take a smaller multiplier, mirroring the values the provider reports for auto. */
export function autoLearningRateMultiplier(batchSize: number): number {
  if (batchSize <= 1) return 1.8;
  if (batchSize <= 8) return 1;
  return 0.5;
}

export interface PlanInput {
  nTrain: number;
  nValid: number;
  tokensPerEpoch: number;
  requested: RequestedHyperparameters;
  seed: number;
  validatedAtMs: number;
}

export function buildPlan(input: PlanInput): TrainingPlan {
  const { nTrain, requested } = input;
  const nEpochs = requested.n_epochs === 'auto' ? autoEpochs(nTrain) : requested.n_epochs;
  const batchSize = requested.batch_size === 'auto' ? autoBatchSize(nTrain) : requested.batch_size;
  const learningRateMultiplier =
    requested.learning_rate_multiplier === 'auto' ? autoLearningRateMultiplier(batchSize) : requested.learning_rate_multiplier;
  const stepsPerEpoch = Math.max(1, Math.ceil(nTrain / batchSize));
  const tokensPerStep = input.tokensPerEpoch / stepsPerEpoch;
  return {
    nTrain,
    nValid: input.nValid,
    tokensPerEpoch: input.tokensPerEpoch,
    nEpochs,
    batchSize,
    learningRateMultiplier,
    stepsPerEpoch,
    totalSteps: stepsPerEpoch * nEpochs,
    // ~0.65 s per step for ~100-token examples at batch size 1: 160 examples x 3 epochs ~ 400 s simulated.
    stepMs: Math.round(600 + tokensPerStep / 2),
    validEvery: Math.max(1, Math.round(stepsPerEpoch / 10)),
    bestEpoch: bestEpochFor(input.seed),
    runStartMs: input.validatedAtMs + QUEUED_MS,
  };
}
