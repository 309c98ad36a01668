export interface CheckpointSummary {
  /** The model id to call for this checkpoint (`fine_tuned_model_checkpoint`). */
  model: string;
  step: number;
  fullValidLoss: number | null;
  fullValidMeanTokenAccuracy: number | null;
}

export interface ChosenModel {
  model: string;
  step: number | null;
  fullValidLoss: number | null;
  source: 'checkpoint' | 'final';
}

/**
 * The checkpoint with the lowest full validation loss; ties go to the earlier step (less training,
 * same loss). Falls back to the final model when no checkpoint reports a loss.
 */
export function pickBestCheckpoint(checkpoints: readonly CheckpointSummary[], finalModel: string): ChosenModel {
  let best: CheckpointSummary | undefined;
  for (const c of checkpoints) {
    if (c.fullValidLoss === null || !Number.isFinite(c.fullValidLoss)) continue;
    if (!best || c.fullValidLoss < (best.fullValidLoss as number) || (c.fullValidLoss === best.fullValidLoss && c.step < best.step)) {
      best = c;
    }
  }
  if (!best) return { model: finalModel, step: null, fullValidLoss: null, source: 'final' };
  return { model: best.model, step: best.step, fullValidLoss: best.fullValidLoss, source: 'checkpoint' };
}
