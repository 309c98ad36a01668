import { describe, expect, it } from 'vitest';
import {
  assertJudgeIsNotCandidate,
  buildJudgePair,
  combineJudgeVerdicts,
  JudgeIsCandidateError,
  judgeScore,
  parseJudgeVerdict,
  type JudgeVerdict,
} from '../../../src/domain/eval/judge';
import { summarizeResults } from '../../../src/domain/eval/summary';
import type { BatchResultRow } from '../../../src/domain/eval/types';
import type { EvalCandidate } from '../../../src/domain/run';

const example = { prompt: [{ role: 'user' as const, content: 'Capital of France?' }], reference: 'Paris' };

describe('judge prompt', () => {
  it('shows the candidate as A in one order and the base as A in the other', () => {
    const pair = buildJudgePair(example, 'CANDIDATE ANSWER', 'BASE ANSWER');
    const first = pair.candidateFirst[1]?.content ?? '';
    const second = pair.baseFirst[1]?.content ?? '';
    expect(first.indexOf('## Answer A\nCANDIDATE ANSWER')).toBeGreaterThan(0);
    expect(first.indexOf('## Answer B\nBASE ANSWER')).toBeGreaterThan(0);
    expect(second.indexOf('## Answer A\nBASE ANSWER')).toBeGreaterThan(0);
    expect(second.indexOf('## Answer B\nCANDIDATE ANSWER')).toBeGreaterThan(0);
    expect(first).toContain('## Reference answer\nParis');
    expect(pair.candidateFirst[0]?.role).toBe('system');
  });
});

describe('judge verdict parsing', () => {
  it.each<[string, JudgeVerdict | null]>([
    ['[[A]]', 'A'],
    ['[[b]]', 'B'],
    ['[[tie]]', 'tie'],
    ['Answer A is more precise. Final verdict: [[A]]', 'A'],
    ['A', 'A'],
    ['**B**.', 'B'],
    ['Tie', 'tie'],
    ['Verdict: B', 'B'],
    ['Both answers are fine.', null],
    ['', null],
  ])('reads %j as %s', (reply, verdict) => {
    expect(parseJudgeVerdict(reply)).toBe(verdict);
  });
});

describe('combining both orders', () => {
  it('wins only when the candidate wins both orders or wins one and ties the other', () => {
    expect(combineJudgeVerdicts('A', 'B')).toBe('win');
    expect(combineJudgeVerdicts('A', 'tie')).toBe('win');
    expect(combineJudgeVerdicts('tie', 'B')).toBe('win');
    expect(combineJudgeVerdicts('B', 'A')).toBe('loss');
    expect(combineJudgeVerdicts('tie', 'A')).toBe('loss');
    expect(combineJudgeVerdicts('tie', 'tie')).toBe('tie');
    expect(combineJudgeVerdicts('A', null)).toBeNull();
    expect(judgeScore('win')).toBe(1);
    expect(judgeScore('tie')).toBe(0.5);
    expect(judgeScore('loss')).toBe(0);
  });

  it('turns a position-biased judge that always answers "A" into ties, not wins', () => {
    // Whatever the answers, this judge prefers whichever is shown first.
    const alwaysA = (): JudgeVerdict => 'A';
    const candidates: EvalCandidate[] = [
      { model: 'base', role: 'base', step: null, fullValidLoss: null },
      { model: 'tuned', role: 'final', step: null, fullValidLoss: null },
    ];
    const rows: BatchResultRow[] = Array.from({ length: 20 }, (_, index) => {
      const outcome = combineJudgeVerdicts(alwaysA(), alwaysA());
      return {
        index,
        answers: {
          base: { text: 'x', scores: { exactMatch: 0, tokenF1: 0.5, rougeL: 0.5 } },
          tuned: {
            text: 'y',
            scores: { exactMatch: 0, tokenF1: 0.5, rougeL: 0.5 },
            judge: { candidateFirst: 'A', baseFirst: 'A', outcome, score: judgeScore(outcome) },
          },
        },
      };
    });
    const summary = summarizeResults(rows, candidates, { seed: 1, judgeModel: 'judge-model', bootstrapIterations: 200 });
    const tuned = summary.candidates.find((c) => c.model === 'tuned');
    expect(tuned?.judgeVsBase).toEqual({ wins: 0, ties: 20, losses: 0, unreadable: 0 });
    expect(tuned?.metrics.judge).toEqual({ mean: 0.5, diffVsBase: 0, ci95: [0, 0] });
  });
});

describe('judge model choice', () => {
  const candidates = [{ model: 'gpt-4o-mini-2024-07-18' }, { model: 'ft:gpt-4o-mini-2024-07-18:org::abc' }];

  it('refuses a judge that is one of the candidates (the base included)', () => {
    expect(() => assertJudgeIsNotCandidate('gpt-4o-mini-2024-07-18', candidates)).toThrow(JudgeIsCandidateError);
    expect(() => assertJudgeIsNotCandidate(' FT:gpt-4o-mini-2024-07-18:org::abc', candidates)).toThrow(/also being evaluated/);
  });

  it('accepts a judge that is not evaluated', () => {
    expect(() => assertJudgeIsNotCandidate('gpt-4.1-2025-04-14', candidates)).not.toThrow();
  });
});
