import { describe, expect, it } from 'vitest';
import { summarizeResults } from '../../../src/domain/eval/summary';
import type { BatchResultRow } from '../../../src/domain/eval/types';
import { approvableModels, challengerOf, gateDecision } from '../../../src/domain/promotion';
import { evalCandidates, type EvalCandidate } from '../../../src/domain/run';

const s = (tokenF1: number) => ({ exactMatch: tokenF1 === 1 ? 1 : 0, tokenF1, rougeL: tokenF1 });
const candidates: EvalCandidate[] = [
  { model: 'base', role: 'base', step: null, fullValidLoss: null },
  { model: 'ckpt', role: 'checkpoint', step: 10, fullValidLoss: 0.5 },
  { model: 'ft', role: 'final', step: null, fullValidLoss: null },
  { model: 'champ', role: 'champion', step: null, fullValidLoss: null },
];

/** 40 examples: base scores `b`, the checkpoint `c`, the final `f`, the champion `h` (each plus a small per-example wobble). */
function rows(b: number, c: number, f: number, h: number): BatchResultRow[] {
  return Array.from({ length: 40 }, (_, i) => {
    const w = ((i * 7) % 5) / 100;
    return { index: i, answers: { base: { text: 'a', scores: s(b + w) }, ckpt: { text: 'a', scores: s(c + w) }, ft: { text: 'a', scores: s(f + w) }, champ: { text: 'a', scores: s(h + w) } } };
  });
}

describe('a run of a line is gated against its champion', () => {
  it('promotes the best own model only when it beats the champion by the minimum with the CI above zero', () => {
    const summary = summarizeResults(rows(0.3, 0.5, 0.7, 0.6), candidates, { seed: 1, bootstrapIterations: 300, minImprovement: 0.05 });
    expect(summary.vsChampion).toMatchObject({ champion: 'champ', challenger: 'ft', beatsChampion: true, paired: 40 });
    expect(summary.vsChampion?.diff).toBeCloseTo(0.1, 9);
    expect(summary.gate).toEqual({ minImprovement: 0.05, outcome: 'promoted', against: 'champion', challenger: 'ft' });
  });

  it('rejects a model that beats the base but not the champion', () => {
    const summary = summarizeResults(rows(0.3, 0.5, 0.6, 0.6), candidates, { seed: 1, bootstrapIterations: 300 });
    // Base-only gating would promote: the final model beats the base by +0.3 with the CI far above zero.
    expect(summary.candidates.find((c) => c.model === 'ft')?.metrics.tokenF1.ci95[0]).toBeGreaterThan(0);
    expect(summary.vsChampion?.beatsChampion).toBe(false);
    expect(summary.gate).toMatchObject({ outcome: 'rejected', against: 'champion', challenger: 'ft', minImprovement: 0 });
  });

  it('rejects a gain over the champion smaller than --min-improvement', () => {
    const summary = summarizeResults(rows(0.3, 0.5, 0.63, 0.6), candidates, { seed: 1, bootstrapIterations: 300, minImprovement: 0.05 });
    expect(summary.vsChampion?.beatsChampion).toBe(true);
    expect(summary.gate?.outcome).toBe('rejected');
  });

  it('keeps the champion when the challenger only ties it, and never recommends approving the champion', () => {
    const summary = summarizeResults(rows(0.3, 0.5, 0.6, 0.6), candidates, { seed: 1, bootstrapIterations: 300 });
    expect(summary.recommended).toBe('champ');
    expect(summary.beatsBase).toBe(false);
    expect(approvableModels(summary)).toEqual(['ckpt', 'ft']);
    expect(challengerOf({ ...summary, resultsPath: 'r' })).toBe('ft');
  });

  it('words the gate decision with the champion comparison', () => {
    const summary = summarizeResults(rows(0.3, 0.5, 0.7, 0.6), candidates, { seed: 1, bootstrapIterations: 300 });
    const d = gateDecision({ ...summary, resultsPath: 'r' }, '2026-11-22T00:00:00.000Z', true);
    expect(d).toMatchObject({ outcome: 'promoted', model: 'ft', decidedBy: 'gate', approvalRequired: true });
    expect(d?.reason).toMatch(/^ft vs champion champ: Δ \+0\.100, 95% CI \[\+0\.\d{3}, \+0\.\d{3}\]; beats the champion and the base/);
  });

  it('has no gate decision without a gate', () => {
    const summary = summarizeResults(rows(0.3, 0.5, 0.7, 0.6), candidates.slice(0, 3), { seed: 1, bootstrapIterations: 100 });
    expect(gateDecision({ ...summary, resultsPath: 'r' }, 'now', false)).toBeNull();
    expect(summary.vsChampion).toBeUndefined();
  });
});

describe('the champion among the candidates', () => {
  const run = { base: 'base', checkpoints: [{ model: 'ckpt', step: 10, fullValidLoss: 0.5 }], final: 'ft', extras: ['other', 'champ'], dedupeFinal: true };

  it('is evaluated once, last, even when also named with --compare', () => {
    expect(evalCandidates({ ...run, champion: 'champ' }).map((c) => `${c.role}:${c.model}`)).toEqual(['base:base', 'checkpoint:ckpt', 'final:ft', 'extra:other', 'champion:champ']);
  });

  it('is left out when it is one of the run’s own models or the base', () => {
    expect(evalCandidates({ ...run, champion: 'ft' }).some((c) => c.role === 'champion')).toBe(false);
    expect(evalCandidates({ ...run, champion: 'base' }).some((c) => c.role === 'champion')).toBe(false);
    expect(evalCandidates({ ...run, champion: null }).map((c) => c.model)).toEqual(['base', 'ckpt', 'ft', 'other', 'champ']);
  });
});
