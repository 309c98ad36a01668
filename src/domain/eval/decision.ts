import type { CandidateResult, CandidateRole, ChampionComparison, EvalSummary, MetricName } from '../run';
import { TIE_EPSILON } from './compare';

/**
 * Tie-break order after equal means and equal validation loss: a fine-tuned model (final or
 * checkpoint) before a --compare model, and the base last; the line's champion first, since a
 * challenger that only ties it is no reason to replace it — a tie with the base is no reason to
 * prefer it, but it must not beat a fine-tune it could not beat on the metric.
 */
export const ROLE_TIE_BREAK_ORDER: Record<CandidateRole, number> = { champion: -1, final: 0, checkpoint: 0, extra: 1, base: 2 };

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

/** The run's own fine-tuned models (checkpoints and final), best first by the same order as chooseRecommended. */
export function bestChallenger(candidates: readonly CandidateResult[], primary: MetricName): CandidateResult | null {
  const own = candidates.filter((c) => c.role === 'checkpoint' || c.role === 'final');
  return own.length > 0 ? chooseRecommended(own, primary) : null;
}

/**
 * The gate of a run of a model line that has a champion: the run's best fine-tuned model must beat the
 * base (CI above zero) and the champion (CI of the paired difference above zero) and gain at least
 * minImprovement over the champion. Beating the base alone is not enough to replace a model in production.
 */
export function applyChampionGate(
  challenger: CandidateResult | null,
  vsChampion: ChampionComparison | null,
  primary: MetricName,
  minImprovement: number,
): NonNullable<EvalSummary['gate']> {
  const beatsBase = challenger !== null && (challenger.metrics[primary]?.ci95[0] ?? 0) > 0;
  const reached = vsChampion !== null && vsChampion.diff >= minImprovement - TIE_EPSILON;
  const promoted = beatsBase && vsChampion !== null && vsChampion.beatsChampion && reached;
  return { minImprovement, outcome: promoted ? 'promoted' : 'rejected', against: 'champion', challenger: challenger?.model ?? null };
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
  const beatsBase = recommended.role !== 'base' && recommended.role !== 'champion' && summary !== undefined && summary.ci95[0] > 0;
  return {
    recommended: recommended.model,
    beatsBase,
    gate: applyGate(beatsBase, summary?.diffVsBase ?? 0, minImprovement),
  };
}
