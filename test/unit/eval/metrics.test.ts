import { describe, expect, it } from 'vitest';
import { exactMatch, longestCommonSubsequence, normalizeAnswer, rougeL, scoreAnswer, tokenF1 } from '../../../src/domain/eval/metrics';

describe('answer normalisation (SQuAD-style)', () => {
  it('lowercases, strips punctuation and articles, and collapses whitespace', () => {
    expect(normalizeAnswer('  The  Cat\'s hat!\n')).toBe('cats hat');
    expect(normalizeAnswer('An apple, a pear & THE plum.')).toBe('apple pear plum');
    expect(normalizeAnswer('«Théâtre» — ａｂｃ')).toBe('théâtre abc');
  });
});

describe('exact match', () => {
  it('matches answers that differ only in case, punctuation, articles and spacing', () => {
    expect(exactMatch('The answer is: Paris.', 'the answer is paris')).toBe(1);
    expect(exactMatch('An apple', 'apple')).toBe(1);
    expect(exactMatch('Paris', 'London')).toBe(0);
    expect(exactMatch('Paris France', 'Paris')).toBe(0);
  });
});

describe('token F1', () => {
  it('counts a repeated token only as often as it appears in both answers', () => {
    // prediction x x x y, reference x y y: common = min(3,1) + min(1,2) = 2; P = 2/4, R = 2/3 → F1 = 4/7.
    expect(tokenF1('x x x y', 'x y y')).toBeCloseTo(4 / 7, 12);
    // the cat the cat sat → [cat, cat, sat]; a cat sat on the mat → [cat, sat, on, mat]; P = 2/3, R = 1/2.
    expect(tokenF1('the cat the cat sat', 'a cat sat on the mat')).toBeCloseTo(4 / 7, 12);
  });

  it('gives 1 for identical answers, 0 without overlap, and treats two empty answers as agreeing', () => {
    expect(tokenF1('Blue whale', 'the blue whale')).toBe(1);
    expect(tokenF1('red', 'blue')).toBe(0);
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('the', 'a')).toBe(1);
    expect(tokenF1('', 'something')).toBe(0);
  });
});

describe('ROUGE-L', () => {
  it('finds the textbook LCS length', () => {
    expect(longestCommonSubsequence([...'ABCBDAB'], [...'BDCABA'])).toBe(4);
    expect(longestCommonSubsequence([], ['x'])).toBe(0);
  });

  it('is the F-measure of LCS precision and recall over normalised tokens', () => {
    // LCS(w1 w3 w5 w2, w1 w2 w3 w4 w5) = w1 w3 w5 = 3; P = 3/4, R = 3/5 → F = 2/3.
    expect(rougeL('w1 w3 w5 w2', 'w1 w2 w3 w4 w5')).toBeCloseTo(2 / 3, 12);
    // Articles are dropped: police killed gunman vs police kill gunman → LCS 2 of 3 each.
    expect(rougeL('police killed the gunman', 'police kill the gunman')).toBeCloseTo(2 / 3, 12);
    expect(rougeL('gunman the police', 'police gunman')).toBeCloseTo(0.5, 12);
  });

  it('scores every metric at once', () => {
    expect(scoreAnswer('Paris.', 'paris')).toEqual({ exactMatch: 1, tokenF1: 1, rougeL: 1 });
  });
});
