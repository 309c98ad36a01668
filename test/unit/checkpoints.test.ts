import { describe, expect, it } from 'vitest';
import { pickBestCheckpoint } from '../../src/domain/checkpoints';

const ckpt = (step: number, fullValidLoss: number | null) => ({ model: `ft:m:org::abc:ckpt-step-${step}`, step, fullValidLoss, fullValidMeanTokenAccuracy: null });

describe('pickBestCheckpoint', () => {
  it('chooses the checkpoint with the lowest full validation loss, not the last one', () => {
    const best = pickBestCheckpoint([ckpt(10, 0.9), ckpt(20, 0.4), ckpt(30, 0.7)], 'ft:final');
    expect(best).toEqual({ model: 'ft:m:org::abc:ckpt-step-20', step: 20, fullValidLoss: 0.4, source: 'checkpoint' });
  });

  it('breaks a tie in loss by the earlier step', () => {
    expect(pickBestCheckpoint([ckpt(30, 0.5), ckpt(10, 0.5)], 'ft:final').step).toBe(10);
  });

  it('ignores checkpoints without a loss and falls back to the final model when none has one', () => {
    expect(pickBestCheckpoint([ckpt(10, null), ckpt(20, 0.8)], 'ft:final').step).toBe(20);
    expect(pickBestCheckpoint([ckpt(10, null)], 'ft:final')).toMatchObject({ model: 'ft:final', step: null, fullValidLoss: null, source: 'final' });
    expect(pickBestCheckpoint([], 'ft:final').source).toBe('final');
  });

  it('says plainly why the final model was chosen: a provider without checkpoint losses, no checkpoints, or checkpoints without a loss', () => {
    expect(pickBestCheckpoint([ckpt(10, null)], 'ft:final', { providerReportsLoss: false }).reason).toMatch(/provider reports no validation loss/);
    expect(pickBestCheckpoint([], 'ft:final').reason).toMatch(/kept no checkpoints/);
    expect(pickBestCheckpoint([ckpt(10, null)], 'ft:final').reason).toMatch(/no checkpoint reported a validation loss/);
    expect(pickBestCheckpoint([ckpt(10, 0.5)], 'ft:final').reason).toBeUndefined();
  });

  it('never picks a checkpoint whose loss is not a finite number', () => {
    expect(pickBestCheckpoint([ckpt(10, Number.NaN), ckpt(20, 1.2)], 'ft:final').step).toBe(20);
  });
});
