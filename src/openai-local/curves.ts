// Loss/accuracy curves: train loss keeps falling, validation loss bottoms out near bestEpoch and then rises.
import { hash01, noise } from './random';

export interface StepMetrics {
  step: number;
  train_loss: number;
  train_mean_token_accuracy: number;
  valid_loss?: number;
  valid_mean_token_accuracy?: number;
}

const K_VALID = 1.2;
const K_TRAIN = 1.1;

interface CurveShape {
  initialLoss: number;
  trainFloor: number;
  validFloor: number;
  bestEpoch: number;
  validScale: number;
}

/** Epoch at which validation loss bottoms out: about 2.5 epochs, jittered per seed. */
export function bestEpochFor(seed: number): number {
  return 2.2 + 0.6 * hash01('best-epoch', seed);
}

function shape(seed: number, bestEpoch: number): CurveShape {
  const initialLoss = 2.2 + 0.4 * hash01('initial-loss', seed);
  const validFloor = 0.3 + 0.1 * hash01('valid-floor', seed);
  // Chosen so the validation curve starts at the initial loss: valid(0) = initialLoss.
  const validScale = (initialLoss - validFloor) / (Math.exp(K_VALID * bestEpoch) - K_VALID * bestEpoch - 1);
  return { initialLoss, trainFloor: 0.03, validFloor, bestEpoch, validScale };
}

export function smoothTrainLoss(seed: number, bestEpoch: number, epoch: number): number {
  const s = shape(seed, bestEpoch);
  return s.trainFloor + (s.initialLoss - s.trainFloor) * Math.exp(-K_TRAIN * epoch);
}

/** exp(-kx) + kx - 1 has its minimum 0 at x = 0, which places the validation minimum at bestEpoch. */
export function smoothValidLoss(seed: number, bestEpoch: number, epoch: number): number {
  const s = shape(seed, bestEpoch);
  const x = epoch - s.bestEpoch;
  return s.validFloor + s.validScale * (Math.exp(-K_VALID * x) + K_VALID * x - 1);
}

export const accuracyFor = (loss: number): number => clamp01(Math.exp(-0.55 * loss));

const round = (x: number, digits = 5): number => Number(x.toFixed(digits));

/** Metrics reported in the event of one training step (mini-batch noise included). */
export function stepMetrics(seed: number, bestEpoch: number, stepsPerEpoch: number, step: number, withValid: boolean): StepMetrics {
  const epoch = step / stepsPerEpoch;
  const train = smoothTrainLoss(seed, bestEpoch, epoch) * (1 + 0.15 * noise('train', seed, step));
  const out: StepMetrics = {
    step,
    train_loss: round(train),
    train_mean_token_accuracy: round(clamp01(accuracyFor(train) + 0.02 * noise('train-acc', seed, step))),
  };
  if (withValid) {
    const valid = smoothValidLoss(seed, bestEpoch, epoch) * (1 + 0.08 * noise('valid', seed, step));
    out.valid_loss = round(valid);
    out.valid_mean_token_accuracy = round(clamp01(accuracyFor(valid) + 0.02 * noise('valid-acc', seed, step)));
  }
  return out;
}

/** Loss over the whole validation set at a checkpoint: no mini-batch noise, so it ranks checkpoints faithfully. */
export function fullValidMetrics(seed: number, bestEpoch: number, epoch: number): { full_valid_loss: number; full_valid_mean_token_accuracy: number } {
  const loss = smoothValidLoss(seed, bestEpoch, epoch);
  return { full_valid_loss: round(loss), full_valid_mean_token_accuracy: round(accuracyFor(loss)) };
}

/**
 * Share of prompts a model trained for `epoch` epochs answers wrongly: grows with the excess validation loss
 * over the minimum, so under- and over-fitted models answer worse and ranking by full_valid_loss is faithful.
 */
export function wrongAnswerRate(seed: number, bestEpoch: number, epoch: number): number {
  const excess = smoothValidLoss(seed, bestEpoch, epoch) - smoothValidLoss(seed, bestEpoch, bestEpoch);
  return Math.min(0.85, Math.max(0, 1.2 * excess));
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
