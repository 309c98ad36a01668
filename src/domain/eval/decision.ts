import type { CandidateResult, CandidateRole, EvalSummary, MetricName } from '../run';
import { TIE_EPSILON } from './compare';

/**
 * Tie-break order after equal means and equal validation loss: a fine-tuned model (final or
 * checkpoint) before a --compare model, and the base last — a tie with the base is no reason to
 * prefer it, but it must not beat a fine-tune it could not beat on the metric.
 */
export const ROLE_TIE_BREAK_ORDER: Record<CandidateRole, number> = { final: 0, checkpoint: 0, extra: 1, base: 2 };

function primaryMean(candidate: CandidateResult, primary: MetricName): number {
  return candidate.metrics[primary]?.mean ?? Number.NEGATIVE_INFINITY;
}

/** True when `a` should be recommended over `b`. */
function ranksAbove(a: CandidateResult, b: CandidateResult, primary: MetricName): boolean {
  const meanA = primaryMean(a, primary);
  const meanB = primaryMean(b, primary);
  if (meanA !== meanB && !(Math.abs(meanA - meanB) < TIE_EPSILON)) return meanA > meanB;
  const lossA = a.fullValidLoss ?? Number.POSITIVE_INFINITY;
  const lossB = b.fullValidLoss ?? Number.POSITIVE_INFINITY;
  if (lossA !== lossB) return lossA < lossB;
  return ROLE_TIE_BREAK_ORDER[a.role] < ROLE_TIE_BREAK_ORDER[b.role];
}

/**
 * The best candidate by mean of the primary metric; ties (within TIE_EPSILON) go to the lower full
 * validation loss (unknown loss counts as worst), then by ROLE_TIE_BREAK_ORDER, then list order.
 */
export function chooseRecommended(candidates: readonly CandidateResult[], primary: MetricName): CandidateResult {
  let best: CandidateResult | undefined;
  for (const candidate of candidates) if (!best || ranksAbove(candidate, best, primary)) best = candidate;
  if (!best) throw new Error('chooseRecommended needs at least one candidate');
  return best;
}

/** promoted iff the recommended model beats the base and its mean gain reaches minImprovement. */
export function applyGate(
  beatsBase: boolean,
  diffVsBase: number,
  minImprovement: number | undefined,
): EvalSummary['gate'] {
  if (minImprovement === undefined) return null;
  // The tolerance keeps 0.1 + 0.2 ≥ 0.3 true: scores are float sums, the threshold a decimal.
  const reached = diffVsBase >= minImprovement - TIE_EPSILON;
  return { minImprovement, outcome: beatsBase && reached ? 'promoted' : 'rejected' };
}

export interface EvalDecision {
  recommended: string;
  beatsBase: boolean;
  gate: EvalSummary['gate'];
}

/**
 * recommended: best by primary mean (see chooseRecommended). beatsBase: it is not the base and the
 * 95% CI of its paired difference from the base lies entirely above zero. gate: see applyGate.
 */
export function decideEval(
  candidates: readonly CandidateResult[],
  primary: MetricName,
  minImprovement?: number,
): EvalDecision {
  const recommended = chooseRecommended(candidates, primary);
  const summary = recommended.metrics[primary];
  const beatsBase = recommended.role !== 'base' && summary !== undefined && summary.ci95[0] > 0;
  return {
    recommended: recommended.model,
    beatsBase,
    gate: applyGate(beatsBase, summary?.diffVsBase ?? 0, minImprovement),
  };
}
