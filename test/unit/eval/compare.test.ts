import { describe, expect, it } from 'vitest';
import { TIE_EPSILON, winsTiesLosses } from '../../../src/domain/eval/compare';

describe('wins, ties and losses against the base', () => {
  it('counts per example, treating differences below 1e-9 as ties', () => {
    const base = [0.5, 0.5, 0.5, 0.5, 1, 0];
    const cand = [0.6, 0.5, 0.5 + 1e-12, 0.4, 1, 0 + TIE_EPSILON * 2];
    expect(winsTiesLosses(cand, base)).toEqual({ wins: 2, ties: 3, losses: 1 });
  });

  it('refuses unpaired scores', () => {
    expect(() => winsTiesLosses([1], [1, 2])).toThrow(RangeError);
  });
});
