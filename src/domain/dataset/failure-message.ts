import type { ValidationReport } from './types';

/** How many errors the refusal message names; the rest are counted. */
const ERRORS_NAMED = 3;

export function formatUsd(usd: number): string {
  return usd !== 0 && Math.abs(usd) < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/**
 * Why a dataset must not be trained on, in one message the CLI prints and the pipeline fails with:
 * the first errors with line and code, or the budget overrun with its figures; null when it may go on.
 * budgetUsd overrides the budget the report was made with.
 */
export function validationFailureMessage(report: ValidationReport, budgetUsd?: number): string | null {
  const counts = Object.entries(report.errorCounts).filter(([, n]) => n > 0);
  const errorTotal = counts.reduce((sum, [, n]) => sum + n, 0);
  if (errorTotal > 0) {
    const named = report.errors.slice(0, ERRORS_NAMED).map((e) => (e.line === 0 ? `[${e.code}] ${e.message}` : `line ${e.line} [${e.code}] ${e.message}`));
    const byCode = counts
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .map(([code, n]) => `${code} ×${n}`)
      .join(', ');
    const more = errorTotal - named.length;
    return `dataset has ${errorTotal} error${errorTotal === 1 ? '' : 's'} (${byCode}): ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
  }
  const budget = budgetUsd ?? report.budgetUsd;
  if (budget === undefined) return null;
  const price = report.cost.trainingUsdPerMillionTokens;
  if (!report.cost.priceKnown || price === null) {
    return `cannot check the budget of ${formatUsd(budget)}: no training price is known for model ${report.model}`;
  }
  if (report.estimatedCostUsd <= budget) return null;
  const split = report.cost.basis === 'train_split' && report.cost.trainSplit ? report.cost.trainSplit : null;
  const basis = split ? `the training split of ${split.examples} examples` : `${report.cost.wholeFile.examples} examples`;
  return (
    `estimated training cost ${formatUsd(report.estimatedCostUsd)} exceeds the budget of ${formatUsd(budget)}: ` +
    `${report.chargedTokens} charged tokens (${split ? split.billingTokens : report.cost.wholeFile.billingTokens} billing tokens × ${report.epochs} epochs on ${basis}) ` +
    `at ${formatUsd(price)} per 1M tokens for ${report.model}`
  );
}
