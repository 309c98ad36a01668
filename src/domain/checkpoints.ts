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
  /** Why the final model was chosen, when it was (no checkpoint reported a validation loss). */
  reason?: string;
}

/**
 * The checkpoint with the lowest full validation loss; ties go to the earlier step (less training,
 * same loss). Falls back to the final model when no checkpoint reports a loss.
 */
export function pickBestCheckpoint(checkpoints: readonly CheckpointSummary[], finalModel: string, opts: { providerReportsLoss?: boolean } = {}): ChosenModel {
  let best: CheckpointSummary | undefined;
  for (const c of checkpoints) {
    if (c.fullValidLoss === null || !Number.isFinite(c.fullValidLoss)) continue;
    if (!best || c.fullValidLoss < (best.fullValidLoss as number) || (c.fullValidLoss === best.fullValidLoss && c.step < best.step)) {
      best = c;
    }
  }
  if (!best) {
    const reason =
      opts.providerReportsLoss === false
        ? 'the provider reports no validation loss for checkpoints, so none could be ranked; the final model is chosen'
        : checkpoints.length === 0
          ? 'the job kept no checkpoints; the final model is chosen'
          : 'no checkpoint reported a validation loss (was a validation file given?); the final model is chosen';
    return { model: finalModel, step: null, fullValidLoss: null, source: 'final', reason };
  }
  return { model: best.model, step: best.step, fullValidLoss: best.fullValidLoss, source: 'checkpoint' };
}
