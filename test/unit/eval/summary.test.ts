import { describe, expect, it } from 'vitest';
import { summarizeResults } from '../../../src/domain/eval/summary';
import { extractEvalExample } from '../../../src/domain/eval/types';
import type { BatchResultRow } from '../../../src/domain/eval/types';
import type { EvalCandidate } from '../../../src/domain/run';

const candidates: EvalCandidate[] = [
  { model: 'base', role: 'base', step: null, fullValidLoss: null },
  { model: 'ft', role: 'final', step: null, fullValidLoss: null },
];

const s = (tokenF1: number) => ({ exactMatch: tokenF1 === 1 ? 1 : 0, tokenF1, rougeL: tokenF1 });

describe('summary of per-example results', () => {
  it('computes means, paired differences, wins/ties/losses and failures', () => {
    const rows: BatchResultRow[] = [
      { index: 0, answers: { base: { text: 'a', scores: s(0.2) }, ft: { text: 'b', scores: s(1) } } },
      { index: 1, answers: { base: { text: 'a', scores: s(0.5) }, ft: { text: 'b', scores: s(0.5) } } },
      { index: 2, answers: { base: { text: 'a', scores: s(0.6) }, ft: { text: 'b', scores: s(0.4) } } },
      { index: 3, answers: { base: { text: null, scores: null, error: { kind: 'content_filter', message: 'x' } }, ft: { text: 'b', scores: s(0.9) } } },
    ];
    const summary = summarizeResults(rows, candidates, { seed: 3, bootstrapIterations: 500 });
    const [base, ft] = summary.candidates;
    expect(base?.metrics.tokenF1).toEqual({ mean: (0.2 + 0.5 + 0.6) / 3, diffVsBase: 0, ci95: [0, 0] });
    expect(ft?.metrics.tokenF1.mean).toBeCloseTo((1 + 0.5 + 0.4 + 0.9) / 4, 12);
    // Paired on the three examples both answered: (0.8 + 0 - 0.2) / 3.
    expect(ft?.metrics.tokenF1.diffVsBase).toBeCloseTo(0.2, 12);
    expect(ft?.vsBase).toEqual({ wins: 1, ties: 1, losses: 1 });
    expect(base?.failedExamples).toBe(1);
    expect(ft?.failedExamples).toBe(0);
    expect(summary.failedExamples).toBe(1);
    expect(summary.examples).toBe(4);
    expect(summary.primaryMetric).toBe('tokenF1');
    expect(summary.recommended).toBe('ft');
    expect(summary.beatsBase).toBe(false);
    expect(summary.gate).toBeNull();
  });

  it('refuses candidates without exactly one base or with a model twice', () => {
    expect(() => summarizeResults([], [candidates[1] as EvalCandidate], { seed: 1 })).toThrow(/exactly one base/);
    expect(() => summarizeResults([], [...candidates, candidates[1] as EvalCandidate], { seed: 1 })).toThrow(/listed twice/);
  });
});

describe('eval example extraction', () => {
  it('takes the messages before the last assistant message as the prompt and its text as the reference', () => {
    const line = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello', weight: 0 },
        { role: 'user', content: 'Capital of France?' },
        { role: 'assistant', content: [{ type: 'text', text: 'Par' }, { type: 'text', text: 'is' }] },
      ],
    };
    const result = extractEvalExample(line);
    expect(result).toEqual({
      ok: true,
      reference: 'Paris',
      prompt: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'Capital of France?' },
      ],
    });
  });

  it('skips lines without an assistant text answer or without a prompt', () => {
    expect(extractEvalExample({ messages: [{ role: 'user', content: 'x' }] })).toEqual({ ok: false, reason: 'no_assistant_text' });
    expect(extractEvalExample({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: '  ' }] })).toEqual({ ok: false, reason: 'no_assistant_text' });
    expect(extractEvalExample({ messages: [{ role: 'assistant', content: 'x' }] })).toEqual({ ok: false, reason: 'no_prompt' });
    expect(extractEvalExample([])).toEqual({ ok: false, reason: 'not_an_object' });
  });
});
