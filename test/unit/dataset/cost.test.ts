import { describe, expect, it } from 'vitest';
import { billingTokensOf, defaultEpochs, estimateTrainingCost, resolveModelFacts, trainingCostUsd } from '../../../src/domain/dataset';

describe('default epochs follow the reference heuristic', () => {
  it('trains small files for floor(100/n) epochs, capped at 25', () => {
    expect(defaultEpochs(1)).toBe(25);
    expect(defaultEpochs(3)).toBe(25); // 100 // 3 = 33 -> 25
    expect(defaultEpochs(5)).toBe(20); // the notebook's toy dataset
    expect(defaultEpochs(10)).toBe(10);
    expect(defaultEpochs(30)).toBe(3); // 100 // 30 = 3 (floor, as the notebook's //)
    expect(defaultEpochs(33)).toBe(3); // 33*3 = 99 < 100 -> 100 // 33 = 3
  });

  it('trains 3 epochs between 34 and 8,333 examples', () => {
    expect(defaultEpochs(34)).toBe(3);
    expect(defaultEpochs(1000)).toBe(3);
    expect(defaultEpochs(8333)).toBe(3); // 24,999 <= 25,000
  });

  it('trains large files for floor(25000/n) epochs, at least 1', () => {
    expect(defaultEpochs(8334)).toBe(2); // 25,002 > 25,000 -> 25000 // 8334 = 2
    expect(defaultEpochs(12_500)).toBe(2);
    expect(defaultEpochs(12_501)).toBe(1);
    expect(defaultEpochs(1_000_000)).toBe(1);
  });

  it('charges nothing for no examples and refuses a negative count', () => {
    expect(defaultEpochs(0)).toBe(0);
    expect(() => defaultEpochs(-1)).toThrow(RangeError);
  });
});

describe('billing, charged tokens and price', () => {
  it('bills each example at most the per-example limit', () => {
    expect(billingTokensOf(8032, 4096)).toBe(4096);
    expect(billingTokensOf(26, 4096)).toBe(26);
    expect(billingTokensOf(100_000, null)).toBe(100_000);
  });

  it('reproduces the notebook toy figures: 4,306 billing tokens x 20 epochs = 86,120 charged', () => {
    const billing = [26, 28, 45, 111, 8032].reduce((sum, t) => sum + billingTokensOf(t, 4096), 0);
    expect(billing).toBe(4306);
    const estimate = estimateTrainingCost(5, billing, 8);
    expect(estimate).toEqual({ examples: 5, billingTokens: 4306, epochs: 20, chargedTokens: 86_120, estimatedCostUsd: 0.68896 });
  });

  it('prices charged tokens per 1M at the table price: 1,000 examples x 500 tokens on gpt-4o-mini is $4.50', () => {
    const facts = resolveModelFacts('gpt-4o-mini');
    if (!facts.ok) throw new Error(facts.error);
    // 500,000 billing tokens x 3 epochs = 1,500,000 charged x $3.00 / 1M = $4.50
    expect(estimateTrainingCost(1000, 500_000, facts.facts.trainingUsdPerMillionTokens)).toEqual({ examples: 1000, billingTokens: 500_000, epochs: 3, chargedTokens: 1_500_000, estimatedCostUsd: 4.5 });
    expect(trainingCostUsd(2_000_000, 25)).toBe(50);
    expect(trainingCostUsd(1, 1.5)).toBe(0.000002); // rounded to a millionth of a dollar
  });

  it('reports a cost of 0 when the price is unknown', () => {
    expect(estimateTrainingCost(100, 1000, null).estimatedCostUsd).toBe(0);
  });
});
