/**
 * Epochs, billing and price, as OpenAI's chat fine-tuning data-prep notebook estimates them.
 * Estimates: the provider's own count decides the invoice.
 */

/** The notebook's constants for the default ("auto") number of epochs. */
export const EPOCH_HEURISTIC = {
  TARGET_EPOCHS: 3,
  MIN_TARGET_EXAMPLES: 100,
  MAX_TARGET_EXAMPLES: 25_000,
  MIN_DEFAULT_EPOCHS: 1,
  MAX_DEFAULT_EPOCHS: 25,
} as const;

/**
 * The notebook's default epochs for n training examples. It divides with Python's `//` (floor) in
 * both branches, so 30 examples train for 3 epochs, not 4; 0 examples train for 0.
 */
export function defaultEpochs(trainExamples: number): number {
  const { TARGET_EPOCHS, MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES, MIN_DEFAULT_EPOCHS, MAX_DEFAULT_EPOCHS } = EPOCH_HEURISTIC;
  if (!Number.isInteger(trainExamples) || trainExamples < 0) throw new RangeError(`example count must be a non-negative integer, got ${trainExamples}`);
  if (trainExamples === 0) return 0;
  if (trainExamples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES) return Math.min(MAX_DEFAULT_EPOCHS, Math.floor(MIN_TARGET_EXAMPLES / trainExamples));
  if (trainExamples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES) return Math.max(MIN_DEFAULT_EPOCHS, Math.floor(MAX_TARGET_EXAMPLES / trainExamples));
  return TARGET_EPOCHS;
}

/** Tokens of one example that are billed: the provider truncates at the limit, so bills at most that. */
export function billingTokensOf(exampleTokens: number, tokenLimitPerExample: number | null): number {
  return tokenLimitPerExample === null ? exampleTokens : Math.min(tokenLimitPerExample, exampleTokens);
}

/** USD for charged tokens at a price per 1M tokens, rounded to a millionth of a dollar against float noise. */
export function trainingCostUsd(chargedTokens: number, usdPerMillionTokens: number): number {
  return Math.round(chargedTokens * usdPerMillionTokens) / 1e6;
}

/** The cost figures of one training set. */
export interface TrainingCostEstimate {
  examples: number;
  billingTokens: number;
  epochs: number;
  chargedTokens: number;
  /** 0 when the price is unknown (see priceKnown on the report). */
  estimatedCostUsd: number;
}

export function estimateTrainingCost(examples: number, billingTokens: number, usdPerMillionTokens: number | null): TrainingCostEstimate {
  const epochs = defaultEpochs(examples);
  const chargedTokens = billingTokens * epochs;
  return { examples, billingTokens, epochs, chargedTokens, estimatedCostUsd: usdPerMillionTokens === null ? 0 : trainingCostUsd(chargedTokens, usdPerMillionTokens) };
}
