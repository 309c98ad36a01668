import { describe, expect, it } from 'vitest';
import { applyGate, chooseRecommended, decideEval } from '../../../src/domain/eval/decision';
import type { CandidateResult, CandidateRole } from '../../../src/domain/run';

function candidate(
  model: string,
  role: CandidateRole,
  tokenF1: number,
  options: { fullValidLoss?: number | null; ci?: [number, number]; diff?: number } = {},
): CandidateResult {
  const summary = { mean: tokenF1, diffVsBase: options.diff ?? 0, ci95: options.ci ?? ([0, 0] as [number, number]) };
  return {
    model,
    role,
    step: role === 'checkpoint' ? 10 : null,
    fullValidLoss: options.fullValidLoss ?? null,
    metrics: { exactMatch: summary, tokenF1: summary, rougeL: summary },
    vsBase: { wins: 0, ties: 0, losses: 0 },
    failedExamples: 0,
  };
}

describe('recommendation', () => {
  it('picks the highest primary-metric mean', () => {
    const rec = chooseRecommended([candidate('base', 'base', 0.4), candidate('ft', 'final', 0.6), candidate('x', 'extra', 0.5)], 'tokenF1');
    expect(rec.model).toBe('ft');
  });

  it('breaks a tie by the lower full validation loss', () => {
    const rec = chooseRecommended(
      [
        candidate('base', 'base', 0.4),
        candidate('ckpt-a', 'checkpoint', 0.6, { fullValidLoss: 0.9 }),
        candidate('ckpt-b', 'checkpoint', 0.6 + 1e-12, { fullValidLoss: 0.7 }),
        candidate('final', 'final', 0.6, { fullValidLoss: null }),
      ],
      'tokenF1',
    );
    expect(rec.model).toBe('ckpt-b');
  });

  it('then prefers a fine-tuned model over a compared one, and never the base on a tie', () => {
    expect(chooseRecommended([candidate('x', 'extra', 0.6), candidate('final', 'final', 0.6)], 'tokenF1').model).toBe('final');
    expect(chooseRecommended([candidate('base', 'base', 0.6), candidate('x', 'extra', 0.6)], 'tokenF1').model).toBe('x');
  });

  it('does not beat the base when the base is best or the CI touches zero', () => {
    expect(decideEval([candidate('base', 'base', 0.7), candidate('ft', 'final', 0.6, { ci: [-0.2, 0.01] })], 'tokenF1').beatsBase).toBe(false);
    expect(decideEval([candidate('base', 'base', 0.5), candidate('ft', 'final', 0.6, { ci: [0, 0.2], diff: 0.1 })], 'tokenF1').beatsBase).toBe(false);
    const win = decideEval([candidate('base', 'base', 0.5), candidate('ft', 'final', 0.6, { ci: [0.01, 0.2], diff: 0.1 })], 'tokenF1');
    expect(win).toEqual({ recommended: 'ft', beatsBase: true, gate: null });
  });
});

describe('gate', () => {
  const base = candidate('base', 'base', 0.5);

  it('promotes a model that beats the base by at least minImprovement', () => {
    const d = decideEval([base, candidate('ft', 'final', 0.6, { ci: [0.05, 0.15], diff: 0.1 })], 'tokenF1', 0.1);
    expect(d.gate).toEqual({ minImprovement: 0.1, outcome: 'promoted' });
  });

  it('rejects a gain below minImprovement, and any model that does not beat the base', () => {
    expect(decideEval([base, candidate('ft', 'final', 0.6, { ci: [0.05, 0.15], diff: 0.1 })], 'tokenF1', 0.2).gate?.outcome).toBe('rejected');
    expect(decideEval([base, candidate('ft', 'final', 0.6, { ci: [-0.05, 0.25], diff: 0.1 })], 'tokenF1', 0.05).gate?.outcome).toBe('rejected');
  });

  it('compares with a float tolerance and is absent without a threshold', () => {
    expect(applyGate(true, 0.1 + 0.2, 0.3)?.outcome).toBe('promoted');
    expect(applyGate(true, 0.5, undefined)).toBeNull();
  });
});
